"""Reductions (sum, prod, max, min, all, any, argmax/argmin) and SumToShapeOf.

Every reduction first views its input as a C-contiguous 3-d array
``(pre, reduced, post)``: reduced axes that form one block need no copy;
others are transposed to the end (one copy). A handful of kernels then serve
every graph: ``k_red_<kind>(x3, dtype)`` returns the ``(pre, post)`` result
(allocated in the kernel: one statement of ``graph_fn`` less per reduction, and
each costs compile time). Floating sums accumulate in float64
(more accurate than NumPy's float32 pairwise sum, never less).
"""
import numpy as np
from numba import njit, types
from numba.extending import overload

from graphc.graph import TensorType, Variable
from graphc.ops.reduction import ArgReduce, Reduce, SumToShapeOf
from graphc.backends.numba.elemwise import k_fmax, k_fmin
from graphc.backends.numba.fastmath import maxnum
from graphc.backends.numba.loops import k_wide_vectors
from graphc.backends.numba.lower import np_dtype


def _acc_zero(o):
    raise NotImplementedError


def _acc_row(o, n):
    raise NotImplementedError


# The accumulator of a sum or product: float64 for floats, 64-bit integers otherwise.
@overload(_acc_zero)
def _acc_zero_impl(o):
    if isinstance(o.dtype, types.Float):
        return lambda o: 0.0
    if isinstance(o.dtype, types.Integer) and not o.dtype.signed:
        return lambda o: np.uint64(0)
    return lambda o: np.int64(0)


@overload(_acc_row)
def _acc_row_impl(o, n):
    if isinstance(o.dtype, types.Float):
        return lambda o, n: np.zeros(n, np.float64)
    if isinstance(o.dtype, types.Integer) and not o.dtype.signed:
        return lambda o, n: np.zeros(n, np.uint64)
    return lambda o, n: np.zeros(n, np.int64)


# ----------------------------------------------------------------- kernels
@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_red_sum(x, dtype):
    k_wide_vectors()
    P, R, Q = x.shape
    o = np.empty((P, Q), dtype)
    for p in range(P):
        if Q == 1:
            acc = _acc_zero(o)
            for r in range(R):
                acc += x[p, r, 0]
            o[p, 0] = acc
        else:
            row = _acc_row(o, Q)
            for r in range(R):
                for q in range(Q):
                    row[q] += x[p, r, q]
            for q in range(Q):
                o[p, q] = row[q]
    return o


@njit(cache=True, error_model="numpy")
def k_red_prod(x, dtype):
    P, R, Q = x.shape
    o = np.empty((P, Q), dtype)
    for p in range(P):
        for q in range(Q):
            acc = _acc_zero(o) + 1
            for r in range(R):
                acc *= x[p, r, q]
            o[p, q] = acc
    return o


def _extreme_row(row, sign):
    raise NotImplementedError


@overload(_extreme_row)
def _extreme_row_impl(row, sign):
    """The max (``sign`` 1) or min (-1) of a contiguous row; for floats NaN if any is NaN.

    ``maxnum`` skips NaNs, and so reduces in vector registers; a separate
    or-reduction (which vectorizes too) restores NumPy's NaN propagation.
    """
    if not isinstance(row.dtype, types.Float):
        def exact(row, sign):
            m = row[0]
            for r in range(row.shape[0]):
                v = row[r]
                m = v if (v > m) == (sign > 0) and v != m else m
            return m
        return exact

    def impl(row, sign):
        k_wide_vectors()    # an overload's body is a function of its own
        flip = row.dtype.type(sign)
        m = row[0] * flip
        for r in range(row.shape[0]):
            m = maxnum(m, row[r] * flip)
        # Its own loop, and an integer flag: a boolean one fused into the loop
        # above kept both scalar (1.1 ms against 0.2 ms for 1000 x 1000 here).
        seen_nan = 0
        for r in range(row.shape[0]):
            seen_nan |= np.int32(row[r] != row[r])
        return row.dtype.type(np.nan) if seen_nan else m * flip
    return impl


@njit(cache=True, error_model="numpy")
def _red_extreme(x, o, sign):
    """max (``sign`` 1) or min (-1) over axis 1 of ``x`` (P, R, Q), NaN winning."""
    k_wide_vectors()
    P, R, Q = x.shape
    if R == 0:
        raise ValueError("graphc: max or min of an empty axis")
    if Q == 1:
        x2 = x.reshape((P, R))
        for p in range(P):
            o[p, 0] = _extreme_row(x2[p], sign)
        return
    for p in range(P):
        for q in range(Q):
            o[p, q] = x[p, 0, q]
        for r in range(1, R):
            for q in range(Q):
                v = x[p, r, q]
                o[p, q] = k_fmax(o[p, q], v) if sign > 0 else k_fmin(o[p, q], v)


@njit(cache=True, error_model="numpy")
def k_red_max(x, dtype):
    o = np.empty((x.shape[0], x.shape[2]), dtype)
    _red_extreme(x, o, 1)
    return o


@njit(cache=True, error_model="numpy")
def k_red_min(x, dtype):
    o = np.empty((x.shape[0], x.shape[2]), dtype)
    _red_extreme(x, o, -1)
    return o


@njit(cache=True, error_model="numpy")
def k_red_all(x, dtype):
    P, R, Q = x.shape
    o = np.empty((P, Q), dtype)
    for p in range(P):
        for q in range(Q):
            acc = True
            for r in range(R):
                if x[p, r, q] == 0:
                    acc = False
                    break
            o[p, q] = acc
    return o


@njit(cache=True, error_model="numpy")
def k_red_any(x, dtype):
    P, R, Q = x.shape
    o = np.empty((P, Q), dtype)
    for p in range(P):
        for q in range(Q):
            acc = False
            for r in range(R):
                if x[p, r, q] != 0:
                    acc = True
                    break
            o[p, q] = acc
    return o


@njit(cache=True, error_model="numpy")
def _red_arg_extreme(x, o, sign):
    """The first index of the max (``sign`` 1) or min (-1) over axis 1; a NaN wins."""
    P, R, Q = x.shape
    if R == 0:
        raise ValueError("graphc: argmax or argmin of an empty axis")
    for p in range(P):
        for q in range(Q):
            best = x[p, 0, q]
            where = 0
            for r in range(1, R):
                if best != best:
                    break
                v = x[p, r, q]
                if (v > best if sign > 0 else v < best) or v != v:
                    best = v
                    where = r
            o[p, q] = where


@njit(cache=True, error_model="numpy")
def k_red_argmax(x, dtype):
    o = np.empty((x.shape[0], x.shape[2]), dtype)
    _red_arg_extreme(x, o, 1)
    return o


@njit(cache=True, error_model="numpy")
def k_red_argmin(x, dtype):
    o = np.empty((x.shape[0], x.shape[2]), dtype)
    _red_arg_extreme(x, o, -1)
    return o


@njit(cache=True, error_model="numpy")
def k_sum_to(g, shape):
    """``g`` summed over the axes where ``shape`` has 1 (a broadcast gradient).

    Most gradients already have the target shape: ``g`` itself comes back (a view
    as the op's view_map says), and only a real broadcast pays the summing loop.
    One compiled kernel per rank serves every graph, so graphs carry no loops here.
    """
    same = True
    for k in range(g.ndim):
        if shape[k] != g.shape[k]:
            if shape[k] != 1:
                raise ValueError("graphc: gradient does not fit its input")
            same = False
    if same:
        return g
    out = np.zeros(shape, g.dtype)
    flat = out.reshape(-1)
    for index in np.ndindex(g.shape):
        at = 0
        for k in range(g.ndim):
            at = at * shape[k] + (index[k] if shape[k] != 1 else 0)
        flat[at] += g[index]
    return out


# ---------------------------------------------------------------- lowering
def _product(terms):
    return " * ".join(terms) if terms else "1"


def view3(ctx, x, axes):
    """Write ``x`` as a C-contiguous ``(pre, reduced, post)`` array.

    Returns ``(x3 name, kept dims)``: source for the lengths of the kept axes.
    """
    name = ctx.array(x)
    ndim = x.ndim
    axes = tuple(sorted(axes))
    kept = [k for k in range(ndim) if k not in axes]
    dims = [f"{name}.shape[{k}]" for k in range(ndim)]
    x3 = ctx.tmp("x3_")
    if axes == tuple(range(axes[0], axes[-1] + 1)):
        pre = _product(dims[:axes[0]])
        red = _product(dims[axes[0]:axes[-1] + 1])
        post = _product(dims[axes[-1] + 1:])
        ctx.line(f"{x3} = k_reshape({name}, ({pre}, {red}, {post}))")
    else:
        perm = ", ".join(map(str, kept + list(axes)))
        pre = _product([dims[k] for k in kept])
        red = _product([dims[k] for k in axes])
        ctx.line(f"{x3} = k_reshape(k_transpose({name}, ({perm},)), ({pre}, {red}, 1))")
    return x3, [dims[k] for k in kept]


def emit_reduce(ctx, x, axes, out, kernel):
    """Reduce ``x`` over ``axes`` with ``kernel(x3, dtype) -> o2`` into the variable
    ``out``."""
    x3, kept = view3(ctx, x, axes)
    o2 = ctx.tmp("o")
    ctx.line(f"{o2} = {kernel}({x3}, {np_dtype(out.dtype)})")
    ctx.bind_reshaped(out, o2, 2, kept)


def _around(axes, ndim):
    """``(leading, trailing)`` when ``axes`` are a leading and a trailing block with
    kept axes between them (a bias gradient's ``sum(axis=(0, 2, 3))``), else None."""
    axes = sorted(axes)
    leading = [a for k, a in enumerate(axes) if a == k]
    trailing = axes[len(leading):]
    if not leading or not trailing or trailing != list(range(ndim - len(trailing), ndim)):
        return None
    return leading, trailing


def lower_reduce(ctx, node):
    x, out = node.inputs[0], node.outputs[0]
    kernel = f"k_red_{node.op.kind}"
    split = _around(node.op.axis, x.ndim)
    if split is None:
        emit_reduce(ctx, x, node.op.axis, out, kernel)
        return
    # Two reductions in place of a transposed copy of x: the trailing block (rows),
    # then the leading one (columns). Every kind here is associative.
    leading, trailing = split
    shape = tuple(n for k, n in enumerate(x.type.shape) if k not in trailing)
    partial = Variable(TensorType(out.dtype, shape))
    emit_reduce(ctx, x, trailing, partial, kernel)
    emit_reduce(ctx, partial, leading, out, kernel)


def lower_argreduce(ctx, node):
    emit_reduce(ctx, node.inputs[0], (node.op.axis,), node.outputs[0],
                f"k_red_{node.op.kind}")


def lower_sum_to_shape_of(ctx, node):
    g, *shape = node.inputs
    out = node.outputs[0]
    if g.ndim == 0:
        ctx.bind(out, ctx.get(g))
        return
    dims = "".join(ctx.int64(target) + ", " for target in shape)
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_sum_to({ctx.array(g)}, ({dims}))")
    # A view of g when nothing was broadcast (the op's view_map says so).
    ctx.bind(out, name, base=g)


LOWERINGS = {
    Reduce: lower_reduce,
    ArgReduce: lower_argreduce,
    SumToShapeOf: lower_sum_to_shape_of,
}
