"""Products: Dot, batched Matmul and Gemm, each one BLAS ``xgemm`` call per matrix;
and the matrix functions (inverse, determinant, pseudo-inverse) through numba's
``np.linalg``, which calls SciPy's LAPACK (without SciPy they run their ``perform``).

BLAS (bound in ``blas.py``) wants contiguous operands: ``_blas_operand`` passes C-
and F-ordered arrays through (BLAS gets the transpose flag for F order, the layout
of ``x.T``) and copies any other layout. Integer products have no BLAS: a plain
loop kernel.

Gemm (``beta * z + alpha * dot(x, y)``) calls BLAS ``sgemm``/``dgemm`` once: the
output starts as a copy of ``z`` and BLAS adds the scaled product into it, so the
product is never stored on its own and no second loop runs over the output.
"""
import importlib.util

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from graphc.graph import TensorType, Variable
from graphc.ops.elemwise import SCALARS, Composite
from graphc.ops.linalg import Det, Dot, Gemm, Matmul, MatrixInverse, MatrixPinv
from graphc.backends.numba import blas
from graphc.backends.numba.elemwise import emit_map, k_bc
from graphc.backends.numba.lower import literal, np_dtype


def _blas_operand(x):
    raise NotImplementedError


@overload(_blas_operand)
def _blas_operand_impl(x):
    """``(array, transposed)``: a C array as is, an F array (``x.T``) as its
    transpose, anything else copied to C order."""
    if x.layout == "C":
        return lambda x: (x, 0)
    if x.layout == "F":
        return lambda x: (x, 1)
    return lambda x: (np.ascontiguousarray(x), 0)


@intrinsic
def _xgemm(typingctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """Fortran BLAS ``sgemm``/``dgemm`` (column-major ``c = alpha a b + beta c``) through
    the symbols of ``blas.py``; ``ta``/``tb`` are 0 or 1 (transpose), the scalars are
    cast to ``c``'s dtype, every argument goes by reference."""
    dtype = c.dtype

    def codegen(context, builder, signature, args):
        arg_types = signature.args
        char = ir.IntType(8)
        i64 = ir.IntType(64)
        real = context.get_value_type(dtype)
        fnty = ir.FunctionType(ir.VoidType(), [char.as_pointer()] * 2
                               + [i64.as_pointer()] * 3
                               + [real.as_pointer(), real.as_pointer(), i64.as_pointer(),
                                  real.as_pointer(), i64.as_pointer(), real.as_pointer(),
                                  real.as_pointer(), i64.as_pointer()])
        name = "graphc_sgemm" if dtype == types.float32 else "graphc_dgemm"
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)

        def data(index):
            return context.make_array(arg_types[index])(context, builder, args[index]).data

        def flag(index):
            value = args[index]
            chosen = builder.select(builder.icmp_signed("!=", value, ir.Constant(value.type, 0)),
                                    ir.Constant(char, ord("T")), ir.Constant(char, ord("N")))
            return cgutils.alloca_once_value(builder, chosen)

        def scalar(index):
            value = context.cast(builder, args[index], arg_types[index], dtype)
            return cgutils.alloca_once_value(builder, value)

        def size(index):
            value = context.cast(builder, args[index], arg_types[index], types.int64)
            return cgutils.alloca_once_value(builder, value)

        builder.call(fn, (flag(0), flag(1), size(2), size(3), size(4), scalar(5), data(6),
                          size(7), data(8), size(9), scalar(10), data(11), size(12)))
        return context.get_dummy_value()

    if dtype not in (types.float32, types.float64):
        return None
    signature = types.none(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    return signature, codegen


@njit(cache=True, error_model="numpy")
def _product_into(alpha, x, y, beta, o):
    """``o = alpha * x @ y + beta * o`` by one BLAS call; ``o`` C-contiguous, shapes
    checked by the caller. ``x.T``-style operands go in through the transpose flag."""
    M, K = x.shape
    N = y.shape[1]
    if M == 0 or N == 0:
        return
    if K == 0:
        # An empty sum: BLAS may not be called with a zero leading dimension.
        for i in range(M):
            for j in range(N):
                o[i, j] = o[i, j] * beta if beta != 0 else 0
        return
    a, ta = _blas_operand(y)
    b, tb = _blas_operand(x)
    lda = a.shape[1] if ta == 0 else a.shape[0]
    ldb = b.shape[1] if tb == 0 else b.shape[0]
    # Row-major o = x @ y is column-major o.T = y.T @ x.T: BLAS sees y first.
    _xgemm(ta, tb, N, M, K, alpha, a, lda, b, ldb, beta, o, N)


@njit(cache=True, error_model="numpy")
def k_matmul(x, y, o):
    """``o = x @ y`` for 2-d float arrays; ``o`` is C-contiguous."""
    if y.shape[0] != x.shape[1]:
        raise ValueError("graphc: matrix product of misaligned shapes")
    _product_into(1.0, x, y, 0.0, o)


@njit(cache=True, error_model="numpy")
def k_dot(x, y):
    """``x @ y`` for 2-d float arrays, a new C-contiguous array."""
    o = np.empty((x.shape[0], y.shape[1]), x.dtype)
    k_matmul(x, y, o)
    return o


@njit(cache=True, error_model="numpy")
def k_gemm(alpha, x, y, beta, z):
    """``beta * z + alpha * (x @ y)``, a new C-contiguous array of the broadcast shape.

    ``alpha`` and ``beta`` come as float64 (the literals of the generated code),
    used in the arrays' dtype. When the product has the output's shape (every
    training step), the output starts
    as ``z`` broadcast and one BLAS call adds ``alpha * x @ y`` into it, reading
    ``x.T``-style operands through the transpose flag. Otherwise (a product that
    is itself broadcast, rare) the product is computed, then combined.
    """
    M, K = x.shape
    N = y.shape[1]
    if y.shape[0] != K:
        raise ValueError("graphc: matrix product of misaligned shapes")
    o = np.empty((k_bc(z.shape[0], M), k_bc(z.shape[1], N)), x.dtype)
    rows, cols = o.shape
    fits = rows == M and cols == N
    if fits and beta != 0:
        z_rows, z_cols = z.shape
        for i in range(M):
            zi = i if z_rows != 1 else 0
            for j in range(N):
                o[i, j] = z[zi, j if z_cols != 1 else 0]
    # One call site, so the (inlined) BLAS path is in the machine code once.
    target = o if fits else np.empty((M, N), o.dtype)
    _product_into(alpha if fits else 1.0, x, y, beta if fits else 0.0, target)
    if not fits:
        for i in range(rows):
            for j in range(cols):
                zij = z[i if z.shape[0] != 1 else 0, j if z.shape[1] != 1 else 0]
                pij = target[i if M != 1 else 0, j if N != 1 else 0]
                o[i, j] = beta * zij + alpha * pij
    return o


@njit(cache=True, error_model="numpy")
def k_batched_matmul(x3, y3, o3):
    for j in range(o3.shape[0]):
        _product_into(1.0, x3[j], y3[j], 0.0, o3[j])


@njit(cache=True, error_model="numpy")
def k_int_dot(x, y):
    """``x @ y`` for 2-d integer (or boolean) arrays, a new array."""
    o = np.empty((x.shape[0], y.shape[1]), x.dtype)
    k_int_matmul(x, y, o)
    return o


@njit(cache=True, error_model="numpy")
def k_int_matmul(x, y, o):
    """``o = x @ y`` for 2-d integer (or boolean) arrays."""
    m, k = x.shape
    if y.shape[0] != k:
        raise ValueError("graphc: matrix product of misaligned shapes")
    n = y.shape[1]
    for i in range(m):
        for j in range(n):
            o[i, j] = 0
        for t in range(k):
            a = x[i, t]
            for j in range(n):
                o[i, j] += a * y[t, j]


def _has_blas(dtype):
    """float32 and float64 products go to BLAS (raising if there is none)."""
    if np.dtype(dtype).name in ("float32", "float64"):
        blas.require()
        return True
    return False


def _operand(ctx, var, dtype):
    name = ctx.array(var)
    if np.dtype(var.dtype) != np.dtype(dtype):
        name = f"{name}.astype({np_dtype(dtype)})"
    return name


def lower_dot(ctx, node):
    x, y = node.inputs
    out = node.outputs[0]
    dtype = out.dtype
    a, b = _operand(ctx, x, dtype), _operand(ctx, y, dtype)
    # As 2-d matrices (a vector is one row or one column), then the true shape.
    a2 = f"k_reshape({a}, (1, -1))" if x.ndim == 1 else a
    b2 = f"k_reshape({b}, (-1, 1))" if y.ndim == 1 else b
    o = ctx.tmp("o")
    kernel = "k_dot" if _has_blas(dtype) else "k_int_dot"
    ctx.line(f"{o} = {kernel}({a2}, {b2})")
    if out.ndim == 2:
        ctx.bind(out, o)
        return
    name = ctx.tmp("v")
    if out.ndim == 0:
        ctx.line(f"{name} = {o}[0, 0]")
    else:
        ctx.line(f"{name} = k_reshape({o}, -1)")
    ctx.bind(out, name)


def lower_matmul(ctx, node):
    x, y = node.inputs
    out = node.outputs[0]
    dtype = out.dtype
    ndim = out.ndim
    a, b = ctx.tmp("a"), ctx.tmp("b")
    ctx.line(f"{a} = {_operand(ctx, x, dtype)}")
    ctx.line(f"{b} = {_operand(ctx, y, dtype)}")
    batch = [f"k_bc({a}.shape[{k}], {b}.shape[{k}])" for k in range(ndim - 2)]
    bshape = ctx.tmp("bs")
    ctx.line(f"{bshape} = ({''.join(d + ', ' for d in batch)})")
    size = " * ".join(f"{bshape}[{k}]" for k in range(ndim - 2))
    ctx.line(f"if {a}.shape[{ndim - 1}] != {b}.shape[{ndim - 2}]:")
    ctx.line("    raise ValueError('graphc: matmul of misaligned shapes')")
    m, k, n = f"{a}.shape[{ndim - 2}]", f"{a}.shape[{ndim - 1}]", f"{b}.shape[{ndim - 1}]"
    bx = ", ".join(f"{bshape}[{j}]" for j in range(ndim - 2))
    a3, b3, o = ctx.tmp("a3"), ctx.tmp("b3"), ctx.tmp("o")
    ctx.line(f"{a3} = k_reshape(k_broadcast_copy({a}, ({bx}, {m}, {k})), ({size}, {m}, {k}))")
    ctx.line(f"{b3} = k_reshape(k_broadcast_copy({b}, ({bx}, {k}, {n})), ({size}, {k}, {n}))")
    ctx.line(f"{o} = k_empty(({size}, {m}, {n}), {np_dtype(dtype)})")
    if _has_blas(dtype):
        ctx.line(f"k_batched_matmul({a3}, {b3}, {o})")
    else:
        ctx.line(f"for j in range({size}):")
        ctx.line(f"    k_int_matmul({a3}[j], {b3}[j], {o}[j])")
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_reshape({o}, ({bx}, {m}, {n}))")
    ctx.bind(out, name)


def lower_gemm(ctx, node):
    z, x, y = node.inputs
    out = node.outputs[0]
    if z.ndim == 2 and _has_blas(out.dtype) and x.dtype == y.dtype == out.dtype:
        zs, xs, ys = ctx.array(z), ctx.get(x), ctx.get(y)
        o = ctx.tmp("o")
        # Bare float literals where they are finite: a cast is four more numba
        # instructions to type and lower, and k_gemm converts them anyway.
        alpha, beta = (repr(float(v)) if np.isfinite(v) else literal(v, "float64")
                       for v in (node.op.alpha, node.op.beta))
        ctx.line(f"{o} = k_gemm({alpha}, {xs}, {ys}, {beta}, {zs})")
        ctx.bind(out, o)
        return
    # Other dtypes and shapes: the product, then one elementwise loop.
    product = Variable(TensorType(out.dtype, (None,) * out.ndim))
    lower_dot(ctx, _FakeNode((x, y), (product,)))
    # beta * z + alpha * product, with run-time broadcasting, as one loop.
    program = Composite(
        [(SCALARS["mul"], [("const", node.op.beta, out.dtype), ("in", 0)]),
         (SCALARS["mul"], [("const", node.op.alpha, out.dtype), ("in", 1)]),
         (SCALARS["add"], [("step", 0), ("step", 1)])],
        [2], [out.dtype, out.dtype])
    zc = z
    if np.dtype(z.dtype) != np.dtype(out.dtype):
        zc = Variable(TensorType(out.dtype, z.type.shape))
        cast = ctx.tmp("z")
        ctx.line(f"{cast} = {ctx.array(z)}.astype({np_dtype(out.dtype)})")
        ctx.bind(zc, cast)
    emit_map(ctx, [zc, product], [out], program)


class _FakeNode:
    """Just enough of a node for a lowering function to read."""

    def __init__(self, inputs, outputs):
        self.inputs = inputs
        self.outputs = outputs


# ------------------------------------------------------------ matrix functions
@njit(cache=True, error_model="numpy")
def k_matrix_inverse(x):
    """``inv(x)``, C-contiguous. numba's ``inv`` returns LAPACK's Fortran order, so
    this inverts ``x.T``: the transpose of that F-ordered result is ``inv(x)`` in C order."""
    if x.shape[0] != x.shape[1]:
        raise ValueError("graphc: matrix_inverse of a non-square matrix")
    return np.linalg.inv(x.T).T


@njit(cache=True, error_model="numpy")
def k_det(x):
    if x.shape[0] != x.shape[1]:
        raise ValueError("graphc: det of a non-square matrix")
    return np.linalg.det(x)


@njit(cache=True, error_model="numpy")
def k_pinv(x):
    return np.ascontiguousarray(np.linalg.pinv(x))


_HAVE_LAPACK = importlib.util.find_spec("scipy") is not None    # numba's np.linalg needs it


def _matrix_function(kernel):
    """The lowering of a one-matrix op computed by ``kernel``."""
    def lower(ctx, node):
        if not _HAVE_LAPACK:
            from graphc.backends.numba import fallback
            fallback.lower_fallback(ctx, node)
            return
        out = node.outputs[0]
        name = ctx.tmp("v")
        value = f"{kernel}({ctx.array(node.inputs[0])})"
        if out.ndim == 0:      # numba's det of a float32 matrix is a float64
            value = f"{np_dtype(out.dtype)}({value})"
        ctx.line(f"{name} = {value}")
        ctx.bind(out, name)
    return lower


LOWERINGS = {Dot: lower_dot, Matmul: lower_matmul, Gemm: lower_gemm,
             MatrixInverse: _matrix_function("k_matrix_inverse"),
             Det: _matrix_function("k_det"), MatrixPinv: _matrix_function("k_pinv")}
