"""Products: Dot (BLAS through ``np.dot``), batched Matmul, Gemm.

BLAS wants contiguous operands: ``k_blas`` passes C- and F-ordered arrays through
(numba gives BLAS the transpose flag for F order, the layout of ``x.T``) and
copies any other layout. Integer products have no BLAS: a plain loop kernel.
"""
import numpy as np
from numba import njit, types
from numba.extending import overload

from graphc.graph import TensorType, Variable
from graphc.ops.elemwise import SCALARS, Composite
from graphc.ops.linalg import Dot, Gemm, Matmul
from graphc.backends.numba.elemwise import emit_map
from graphc.backends.numba.lower import np_dtype


def k_blas(x):
    raise NotImplementedError


@overload(k_blas)
def _k_blas_impl(x):
    if isinstance(x, types.Array) and x.layout in "CF":
        return lambda x: x
    return lambda x: np.ascontiguousarray(x)


@njit(cache=True)
def k_dot(x, y):
    return np.dot(k_blas(x), k_blas(y))


@njit(cache=True)
def k_batched_dot(x3, y3, o3):
    for j in range(o3.shape[0]):
        o3[j] = np.dot(x3[j], y3[j])


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
    name = ctx.tmp("v")
    if np.dtype(dtype).kind in "fc":
        ctx.line(f"{name} = k_dot({a}, {b})")
        ctx.bind(out, name)
        return
    # Integer product: as 2-d matrices through the loop kernel, then the true shape.
    a2, b2, o = ctx.tmp("m"), ctx.tmp("m"), ctx.tmp("o")
    ctx.line(f"{a2} = k_reshape({a}, (1, -1))" if x.ndim == 1 else f"{a2} = k_contig({a})")
    ctx.line(f"{b2} = k_reshape({b}, (-1, 1))" if y.ndim == 1 else f"{b2} = k_contig({b})")
    ctx.line(f"{o} = k_empty(({a2}.shape[0], {b2}.shape[1]), {np_dtype(dtype)})")
    ctx.line(f"k_int_matmul({a2}, {b2}, {o})")
    if out.ndim == 0:
        ctx.line(f"{name} = {o}[0, 0]")
    elif x.ndim == 1:
        ctx.line(f"{name} = {o}.reshape(-1)")
    elif y.ndim == 1:
        ctx.line(f"{name} = {o}.reshape(-1)")
    else:
        ctx.line(f"{name} = {o}")
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
    ctx.line(f"{a3} = k_broadcast_copy({a}, ({bx}, {m}, {k})).reshape(({size}, {m}, {k}))")
    ctx.line(f"{b3} = k_broadcast_copy({b}, ({bx}, {k}, {n})).reshape(({size}, {k}, {n}))")
    ctx.line(f"{o} = k_empty(({size}, {m}, {n}), {np_dtype(dtype)})")
    if np.dtype(dtype).kind in "fc":
        ctx.line(f"k_batched_dot({a3}, {b3}, {o})")
    else:
        ctx.line(f"for j in range({size}):")
        ctx.line(f"    k_int_matmul({a3}[j], {b3}[j], {o}[j])")
    name = ctx.tmp("v")
    ctx.line(f"{name} = {o}.reshape(({bx}, {m}, {n}))")
    ctx.bind(out, name)


def lower_gemm(ctx, node):
    z, x, y = node.inputs
    out = node.outputs[0]
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


LOWERINGS = {Dot: lower_dot, Matmul: lower_matmul, Gemm: lower_gemm}
