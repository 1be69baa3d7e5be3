"""Shape operations: dimshuffle, shape, makevector, reshape, alloc, join, arange,
tile, repeat, and the identity-forward gradient shapers.

Views stay views (dimshuffle, reshape of a contiguous array, gradient shapers);
the lowering records which input buffer a view shares, so that an output is
copied only when it could alias something the caller did not ask for.
"""
import math

import numpy as np
from numba import njit, types
from numba.extending import overload
from numba.cpython.unsafe.tuple import tuple_setitem
from numpy.lib.stride_tricks import as_strided

from graphc.gradient import GradientShaper
from graphc.ops.shape import (ARange, Alloc, DimShuffle, Join, MakeVector, Repeat, RepeatIndex,
                              Reshape, Shape, ShapeI, Tile)
from graphc.backends.numba.lower import np_dtype


@njit(cache=True)
def k_item(x):
    """The only element of ``x`` (reshape to a 0-d result)."""
    if x.size != 1:
        raise ValueError("graphc: cannot reshape to a scalar")
    return np.ascontiguousarray(x).reshape(-1)[0]


@njit(cache=True)
def k_arange_len(start, stop, step):
    if step == 0:
        raise ValueError("graphc: arange step is 0")
    n = math.ceil((stop - start) / step)
    return max(n, 0)


# Allocation kernels. Numba compiles its implementation of ``np.empty``, ``np.zeros``,
# ``np.full`` ... afresh in every process for every (shape, dtype) signature, ~0.1-0.4 s
# each and never cached on disk; the generated code calls these cached wrappers instead,
# which a new process loads from disk in milliseconds.
@njit(cache=True)
def k_empty(shape, dtype):
    return np.empty(shape, dtype)


@njit(cache=True)
def k_zeros(shape, dtype):
    return np.zeros(shape, dtype)


@njit(cache=True)
def k_full(shape, value, dtype):
    return np.full(shape, value, dtype)


@njit(cache=True)
def k_empty_like(x):
    return np.empty_like(x)


@njit(cache=True)
def k_box(x):
    """A 0-d array holding the scalar ``x`` (``np.asarray(x)``).

    Not written as ``np.asarray``: numba implements that in ``numba.np.arraymath``,
    whose import (SciPy with it, 0.25 s) a graph loaded from the disk cache would
    pay for its environment.
    """
    return np.full((), x)


def _as_array(x):
    raise NotImplementedError


@overload(_as_array)
def _as_array_impl(x):
    """An array as is, a scalar as a 0-d array."""
    if isinstance(x, types.Array):
        return lambda x: x
    return lambda x: np.full((), x)


@njit(cache=True)
def k_broadcast(x, shape):
    """``np.broadcast_to(x, shape)``: a view, whose broadcast axes have stride 0.

    Not ``np.broadcast_to`` itself, for the reason of :func:`k_box` (numba's calls
    ``np.asarray``). The generated code never writes through the view.
    """
    x = _as_array(x)
    offset = len(shape) - x.ndim
    if offset < 0:
        raise ValueError("graphc: cannot broadcast to fewer dimensions")
    strides = shape
    for axis in range(len(shape)):
        if shape[axis] < 0:
            # as_strided takes a negative length; copying the view then crashes.
            raise ValueError("graphc: negative dimensions are not allowed")
        stride = 0
        if axis >= offset:
            length = x.shape[axis - offset]
            if length == shape[axis]:
                stride = x.strides[axis - offset]
            elif length != 1:
                raise ValueError("graphc: shapes cannot be broadcast")
        strides = tuple_setitem(strides, axis, stride)
    return as_strided(x, shape, strides)


def _tuple(items):
    return "(" + "".join(f"{item}, " for item in items) + ")"


def lower_dimshuffle(ctx, node):
    (x,), (out,) = node.inputs, node.outputs
    op = node.op
    if out.ndim == 0:
        ctx.bind(out, ctx.scalar(x))
        return
    if x.ndim == 0:
        name = ctx.tmp("v")
        ctx.line(f"{name} = k_full({_tuple(['1'] * out.ndim)}, {ctx.get(x)}, "
                 f"{np_dtype(out.dtype)})")
        ctx.bind(out, name)
        return
    expr = ctx.get(x)
    if op.dropped:
        parts = ["0" if axis in op.dropped else ":" for axis in range(x.ndim)]
        expr = f"{expr}[{', '.join(parts)}]"
    kept = [p for p in op.pattern if p != "x"]
    if not kept:
        # Every axis dropped: the indexing above gave a number, which cannot take
        # ``[None, ...]``; e.g. DimShuffle{x,x} of a (1, 1) matrix.
        name = ctx.tmp("v")
        ctx.line(f"{name} = k_full({_tuple(['1'] * out.ndim)}, {expr}, "
                 f"{np_dtype(out.dtype)})")
        ctx.bind(out, name)
        return
    order = sorted(kept)
    perm = [order.index(p) for p in kept]
    if perm == [1, 0]:
        expr = f"{expr}.T"
    elif perm != list(range(len(perm))):
        expr = f"k_transpose({expr}, {_tuple(map(str, perm))})"
    if "x" in op.pattern:
        parts = ["None" if p == "x" else ":" for p in op.pattern]
        expr = f"{expr}[{', '.join(parts)}]"
    name = ctx.tmp("v")
    ctx.line(f"{name} = {expr}")
    ctx.bind(out, name, base=x)


def lower_shape(ctx, node):
    (x,), (out,) = node.inputs, node.outputs
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_empty({x.ndim}, np.int64)")
    for axis in range(x.ndim):
        ctx.line(f"{name}[{axis}] = {ctx.get(x)}.shape[{axis}]")
    ctx.bind(out, name)


def lower_shape_i(ctx, node):
    name = ctx.tmp("v")
    # A shape entry is an int64 already (intp, on the 64-bit machines numba runs on).
    ctx.line(f"{name} = {ctx.get(node.inputs[0])}.shape[{node.op.axis}]")
    ctx.bind(node.outputs[0], name)


def lower_make_vector(ctx, node):
    out = node.outputs[0]
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_empty({len(node.inputs)}, {np_dtype(out.dtype)})")
    for i, var in enumerate(node.inputs):
        ctx.line(f"{name}[{i}] = {ctx.scalar(var)}")
    ctx.bind(out, name)


def lower_reshape(ctx, node):
    x, shape = node.inputs
    out = node.outputs[0]
    if out.ndim == 0:
        name = ctx.tmp("v")
        ctx.line(f"{name} = k_item({ctx.array(x)})")
        ctx.bind(out, name)
        return
    if shape.type.shape[0] is None:
        # A shape vector of run-time length (reshape(x, v, ndim=n)): checked here.
        vector = ctx.get(shape)
        ctx.line(f"if {vector}.shape[0] != {out.ndim}:")
        ctx.line("    raise ValueError('graphc: Reshape: the shape has the wrong length')")
        items = [f"np.int64({vector}[{i}])" for i in range(out.ndim)]
    else:
        items = [f"np.int64({s})" for s in ctx.vector_items(shape)]
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_reshape({ctx.array(x)}, {_tuple(items)})")
    ctx.bind(out, name, base=x)


def lower_alloc(ctx, node):
    value, *shape = node.inputs
    out = node.outputs[0]
    if out.ndim == 0:
        ctx.bind(out, ctx.scalar(value))
        return
    dims = _tuple(ctx.int64(s) for s in shape)
    name = ctx.tmp("v")
    if ctx.is_unit(value):
        ctx.line(f"{name} = k_full({dims}, {ctx.scalar(value)}, {np_dtype(out.dtype)})")
    else:
        ctx.line(f"{name} = k_broadcast_copy({ctx.get(value)}, {dims})")
    ctx.bind(out, name)


def lower_join(ctx, node):
    parts = [f"k_contig({ctx.array(v)})" for v in node.inputs]
    name = ctx.tmp("v")
    ctx.line(f"{name} = np.concatenate({_tuple(parts)}, axis={node.op.axis})")
    ctx.bind(node.outputs[0], name)


def lower_arange(ctx, node):
    start, stop, step = (ctx.scalar(v) for v in node.inputs)
    out = node.outputs[0]
    n, name = ctx.tmp("n"), ctx.tmp("v")
    ctx.line(f"{n} = k_arange_len({start}, {stop}, {step})")
    ctx.line(f"{name} = k_empty({n}, {np_dtype(out.dtype)})")
    ctx.line(f"for i in range({n}):")
    ctx.line(f"    {name}[i] = {start} + i * {step}")
    ctx.bind(out, name)


def lower_tile(ctx, node):
    (x,), (out,) = node.inputs, node.outputs
    ndim = out.ndim
    reps = (1,) * (ndim - len(node.op.reps)) + tuple(node.op.reps)
    lead = ndim - x.ndim
    xname = ctx.array(x)
    dims = [str(reps[k]) if k < lead else f"{xname}.shape[{k - lead}] * {reps[k]}"
            for k in range(ndim)]
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_empty({_tuple(dims)}, {np_dtype(out.dtype)})")
    index = ctx.nd_loop(f"{name}.shape", ndim)
    source = [f"{index[k]} % {xname}.shape[{k - lead}]" for k in range(lead, ndim)]
    # A 0-d x is read as x[()], the one index tuple a 0-d array takes.
    ctx.line(f"{name}[{', '.join(index)}] = {xname}[{', '.join(source) or '()'}]")
    ctx.indent -= ndim
    ctx.bind(out, name)


def lower_repeat(ctx, node):
    (x,), (out,) = node.inputs, node.outputs
    axis, times = node.op.axis, node.op.repeats
    xname = ctx.get(x)
    dims = [f"{xname}.shape[{k}]" + (f" * {times}" if k == axis else "")
            for k in range(x.ndim)]
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_empty({_tuple(dims)}, {np_dtype(out.dtype)})")
    index = ctx.nd_loop(f"{name}.shape", x.ndim)
    source = [f"{i} // {times}" if k == axis else i for k, i in enumerate(index)]
    ctx.line(f"{name}[{', '.join(index)}] = {xname}[{', '.join(source)}]")
    ctx.indent -= x.ndim
    ctx.bind(out, name)


@njit(cache=True)
def k_repeat_index(counts, n):
    """``np.repeat(arange(n), counts)`` (ops.shape.RepeatIndex)."""
    if counts.shape[0] != 1 and counts.shape[0] != n:
        raise ValueError("graphc: repeat: one count per element needed")
    total = 0
    for i in range(n):
        c = counts[0 if counts.shape[0] == 1 else i]
        if c < 0:
            raise ValueError("graphc: repeat: negative count")
        total += c
    out = np.empty(total, np.int64)
    k = 0
    for i in range(n):
        for _ in range(counts[0 if counts.shape[0] == 1 else i]):
            out[k] = i
            k += 1
    return out


def lower_repeat_index(ctx, node):
    counts, n = node.inputs
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_repeat_index({ctx.get(counts)}, {ctx.get(n)})")
    ctx.bind(node.outputs[0], name)


def lower_identity(ctx, node):
    (x,), (out,) = node.inputs, node.outputs
    ctx.bind(out, ctx.get(x), base=x)


LOWERINGS = {
    DimShuffle: lower_dimshuffle,
    Shape: lower_shape,
    ShapeI: lower_shape_i,
    MakeVector: lower_make_vector,
    Reshape: lower_reshape,
    Alloc: lower_alloc,
    Join: lower_join,
    ARange: lower_arange,
    Tile: lower_tile,
    Repeat: lower_repeat,
    RepeatIndex: lower_repeat_index,
    GradientShaper: lower_identity,
}
