"""Softmax, log-softmax, logsumexp and the softmax cross-entropy (and its gradient).

Each is one kernel over a C-contiguous ``(pre, axis, post)`` view (see
``reduction.view3``); the rows case (``post == 1``) is the fast path: three
passes over a contiguous row with the vectorizable ``fexp``.
"""
import numpy as np
from numba import njit, types
from numba.extending import overload

from graphc.ops.nnet import (LogSoftmax, LogSumExp, Softmax, SoftmaxCrossentropy,
                             SoftmaxCrossentropyGrad)
from graphc.backends.numba.fastmath import fexp, flog
from graphc.backends.numba.lower import np_dtype
from graphc.backends.numba.reduction import view3


def zero_of(x):
    raise NotImplementedError


@overload(zero_of)
def zero_of_impl(x):
    """A zero of ``x``'s dtype (float32 stays float32, so loops stay narrow)."""
    if x.dtype == types.float32:
        return lambda x: np.float32(0.0)
    return lambda x: 0.0


@njit(cache=True)
def _row_max(x, p, q, R):
    m = x[p, 0, q]
    for r in range(1, R):
        v = x[p, r, q]
        m = v if v > m else m
    return m


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_softmax(x, o):
    P, R, Q = x.shape
    if R == 0:
        return
    for p in range(P):
        for q in range(Q):
            m = _row_max(x, p, q, R)
            total = zero_of(x)
            for r in range(R):
                e = fexp(x[p, r, q] - m)
                o[p, r, q] = e
                total += e
            scale = 1 / total
            for r in range(R):
                o[p, r, q] = o[p, r, q] * scale


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_log_softmax(x, o):
    P, R, Q = x.shape
    if R == 0:
        return
    for p in range(P):
        for q in range(Q):
            m = _row_max(x, p, q, R)
            total = 0.0
            for r in range(R):
                total += fexp(x[p, r, q] - m)
            shift = m + np.log(total)
            for r in range(R):
                o[p, r, q] = x[p, r, q] - shift


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_logsumexp(x, o):
    P, R, Q = x.shape
    for p in range(P):
        for q in range(Q):
            m = _row_max(x, p, q, R) if R else zero_of(x)
            if not np.isfinite(m):
                m = zero_of(x)    # as the reference: a non-finite max shifts by 0
            total = 0.0
            for r in range(R):
                total += fexp(x[p, r, q] - m)
            o[p, q] = np.log(total) + m


@njit(cache=True, error_model="numpy")
def _check_labels(x, y):
    if x.shape[0] != y.shape[0]:
        raise ValueError("graphc: rows of logits and labels differ")
    for i in range(y.shape[0]):
        if y[i] < 0 or y[i] >= x.shape[1]:
            raise ValueError("graphc: label out of range")


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_sxent(x, y, o):
    _check_labels(x, y)
    N, C = x.shape
    for i in range(N):
        m = x[i, 0]
        for c in range(1, C):
            m = x[i, c] if x[i, c] > m else m
        total = 0.0
        for c in range(C):
            total += fexp(x[i, c] - m)
        o[i] = m + np.log(total) - x[i, y[i]]


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_sxent_grad(gz, x, y, o):
    _check_labels(x, y)
    if gz.shape[0] != x.shape[0] and gz.shape[0] != 1:
        raise ValueError("graphc: gradient rows differ")
    N, C = x.shape
    for i in range(N):
        g = gz[i if gz.shape[0] != 1 else 0]
        m = x[i, 0]
        for c in range(1, C):
            m = x[i, c] if x[i, c] > m else m
        total = 0.0
        for c in range(C):
            e = fexp(x[i, c] - m)
            o[i, c] = e
            total += e
        scale = 1 / total
        for c in range(C):
            o[i, c] = o[i, c] * scale * g
        o[i, y[i]] -= g


def _lower_rowwise(kernel):
    def lower(ctx, node):
        (x,), (out,) = node.inputs, node.outputs
        x3, _ = view3(ctx, x, (node.op.axis,))
        o3, name = ctx.tmp("o"), ctx.tmp("v")
        ctx.line(f"{o3} = k_empty_like({x3})")
        ctx.line(f"{kernel}({x3}, {o3})")
        ctx.line(f"{name} = {o3}.reshape({ctx.get(x)}.shape)")
        ctx.bind(out, name)
    return lower


def lower_logsumexp(ctx, node):
    from graphc.backends.numba.reduction import emit_reduce
    emit_reduce(ctx, node.inputs[0], node.op.axis, node.outputs[0], "k_logsumexp")


def lower_sxent(ctx, node):
    x, y = node.inputs
    out = node.outputs[0]
    xc, name = ctx.tmp("x"), ctx.tmp("v")
    ctx.line(f"{xc} = k_contig({ctx.get(x)})")
    ctx.line(f"{name} = k_empty({xc}.shape[0], {np_dtype(out.dtype)})")
    ctx.line(f"k_sxent({xc}, {ctx.get(y)}, {name})")
    ctx.bind(out, name)


def lower_sxent_grad(ctx, node):
    gz, x, y = node.inputs
    out = node.outputs[0]
    xc, name = ctx.tmp("x"), ctx.tmp("v")
    ctx.line(f"{xc} = k_contig({ctx.get(x)})")
    ctx.line(f"{name} = k_empty_like({xc})")
    ctx.line(f"k_sxent_grad({ctx.array(gz)}, {xc}, {ctx.get(y)}, {name})")
    ctx.bind(out, name)


LOWERINGS = {
    Softmax: _lower_rowwise("k_softmax"),
    LogSoftmax: _lower_rowwise("k_log_softmax"),
    LogSumExp: lower_logsumexp,
    SoftmaxCrossentropy: lower_sxent,
    SoftmaxCrossentropyGrad: lower_sxent_grad,
}
