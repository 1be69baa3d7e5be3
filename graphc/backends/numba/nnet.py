"""Softmax, log-softmax, logsumexp and the softmax cross-entropy (and its gradient).

Each is one kernel over a C-contiguous ``(pre, axis, post)`` view (see
``reduction.view3``); the rows case (``post == 1``) is the fast path: three
passes over a contiguous row with the vectorizable ``fexp``.
"""
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from graphc.ops.nnet import (CheckLabels, LogSoftmax, LogSumExp, Softmax, SoftmaxCrossentropy,
                             SoftmaxCrossentropyGrad)
from graphc.backends.numba.fastmath import fexp, flog, maxnum
from graphc.backends.numba.loops import k_wide_vectors
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
    """The shift of row ``(p, :, q)``; NaNs are skipped (they reach the sum anyway)."""
    k_wide_vectors()
    m = x[p, 0, q]
    for r in range(1, R):
        m = maxnum(m, x[p, r, q])
    return m


@njit(cache=True)
def _max_c(row):
    """The shift of a contiguous row: one ``maxnum`` reduction, which vectorizes."""
    k_wide_vectors()
    m = row[0]
    for r in range(1, row.shape[0]):
        m = maxnum(m, row[r])
    return m


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum_exp_c(row, m):
    """``sum(exp(row - m))`` in the row's dtype: reassociated, so it vectorizes."""
    k_wide_vectors()
    total = zero_of(row)
    for r in range(row.shape[0]):
        total += fexp(row[r] - m)
    return total


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _softmax_c(row, out):
    k_wide_vectors()
    m = _max_c(row)
    total = zero_of(row)
    for r in range(row.shape[0]):
        e = fexp(row[r] - m)
        out[r] = e
        total += e
    scale = 1 / total
    for r in range(row.shape[0]):
        out[r] = out[r] * scale


# Rows of at least this many elements in all run on every core. Measured here: a
# launch costs ~3 us while the threads spin and ~50 us once they sleep (see
# runtime.py); 1e6 elements ran 0.40 ms on 2 threads against 0.74 ms on one, so
# rows are split once one thread would take ~100 us.
PARALLEL_MIN = 1 << 17


@njit(cache=True, parallel=True)
def _softmax_rows_par(x2, o2):
    for p in prange(x2.shape[0]):
        _softmax_c(x2[p], o2[p])


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _log_softmax_c(row, out):
    k_wide_vectors()
    m = _max_c(row)
    # (x - m) - log(sum), not x - (m + log(sum)): that sum rounds log(sum) to the
    # precision of m (a row of 3e7s gave -2 for -1.0986).
    log_total = np.log(_sum_exp_c(row, m))
    for r in range(row.shape[0]):
        out[r] = (row[r] - m) - log_total


@njit(cache=True, parallel=True)
def _log_softmax_rows_par(x2, o2):
    for p in prange(x2.shape[0]):
        _log_softmax_c(x2[p], o2[p])


@njit(cache=True, error_model="numpy")
def _logsumexp_c(row):
    m = _max_c(row) if row.shape[0] else zero_of(row)
    if not np.isfinite(m):
        m = zero_of(row)    # as the reference: a non-finite max shifts by 0
    return np.log(_sum_exp_c(row, m)) + m


@njit(cache=True, parallel=True)
def _logsumexp_rows_par(x2, o):
    for p in prange(x2.shape[0]):
        o[p] = _logsumexp_c(x2[p])


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_softmax(x, o):
    k_wide_vectors()
    P, R, Q = x.shape
    if R == 0:
        return
    if Q == 1:
        # Rows: contiguous slices, each pass one vectorized loop.
        x2, o2 = x.reshape((P, R)), o.reshape((P, R))
        if P > 1 and P * R >= PARALLEL_MIN:
            _softmax_rows_par(x2, o2)
        else:
            for p in range(P):
                _softmax_c(x2[p], o2[p])
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
    k_wide_vectors()
    P, R, Q = x.shape
    if R == 0:
        return
    if Q == 1:
        x2, o2 = x.reshape((P, R)), o.reshape((P, R))
        if P > 1 and P * R >= PARALLEL_MIN:
            _log_softmax_rows_par(x2, o2)
        else:
            for p in range(P):
                _log_softmax_c(x2[p], o2[p])
        return
    for p in range(P):
        for q in range(Q):
            m = _row_max(x, p, q, R)
            total = zero_of(x)
            for r in range(R):
                total += fexp(x[p, r, q] - m)
            log_total = np.log(total)
            for r in range(R):
                o[p, r, q] = (x[p, r, q] - m) - log_total


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_logsumexp(x, dtype):
    k_wide_vectors()
    P, R, Q = x.shape
    o = np.empty((P, Q), dtype)
    if Q == 1:
        x2, o1 = x.reshape((P, R)), o.reshape(P)
        if P > 1 and P * R >= PARALLEL_MIN:
            _logsumexp_rows_par(x2, o1)
        else:
            for p in range(P):
                o1[p] = _logsumexp_c(x2[p])
        return o
    for p in range(P):
        for q in range(Q):
            m = _row_max(x, p, q, R) if R else zero_of(x)
            if not np.isfinite(m):
                m = zero_of(x)    # as the reference: a non-finite max shifts by 0
            total = zero_of(x)
            for r in range(R):
                total += fexp(x[p, r, q] - m)
            o[p, q] = np.log(total) + m
    return o


@njit(cache=True, error_model="numpy")
def _check_labels(x, y):
    """As ops/nnet.py's: at most one label per row, each in [-classes, classes)."""
    if y.shape[0] > x.shape[0]:
        raise ValueError("graphc: more labels than rows of logits")
    for i in range(y.shape[0]):
        if y[i] < -x.shape[1] or y[i] >= x.shape[1]:
            raise ValueError("graphc: label out of range")


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_sxent(x, y, o):
    _check_labels(x, y)
    C = x.shape[1]
    for i in range(y.shape[0]):
        label = y[i] + C if y[i] < 0 else y[i]
        m = _max_c(x[i])
        o[i] = (m - x[i, label]) + np.log(_sum_exp_c(x[i], m))    # as in _log_softmax_c


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def k_sxent_grad(gz, x, y, o):
    k_wide_vectors()
    _check_labels(x, y)
    N, C = y.shape[0], x.shape[1]
    if gz.shape[0] != N and gz.shape[0] != 1:
        raise ValueError("graphc: gradient rows differ")
    for i in range(N):
        g = gz[i if gz.shape[0] != 1 else 0]
        _softmax_c(x[i], o[i])
        for c in range(C):
            o[i, c] = o[i, c] * g
        o[i, y[i] + C if y[i] < 0 else y[i]] -= g
    o[N:] = 0


def _lower_rowwise(kernel):
    def lower(ctx, node):
        (x,), (out,) = node.inputs, node.outputs
        x3, _ = view3(ctx, x, (node.op.axis,))
        o3, name = ctx.tmp("o"), ctx.tmp("v")
        ctx.line(f"{o3} = k_empty_like({x3})")
        ctx.line(f"{kernel}({x3}, {o3})")
        ctx.line(f"{name} = k_reshape({o3}, {ctx.get(x)}.shape)")
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
    ctx.line(f"{name} = k_empty({ctx.get(y)}.shape[0], {np_dtype(out.dtype)})")
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


@njit(cache=True)
def k_check_labels(labels, rows, classes):
    if labels.shape[0] != rows:
        raise ValueError("graphc: categorical_crossentropy: one label per row")
    for j in range(labels.shape[0]):
        if labels[j] < 0 or labels[j] >= classes:
            raise ValueError("graphc: categorical_crossentropy: a label is out of range")


def lower_check_labels(ctx, node):
    labels, rows, classes = node.inputs
    name = ctx.get(labels)
    ctx.line(f"k_check_labels({name}, {ctx.scalar(rows)}, {ctx.scalar(classes)})")
    ctx.bind(node.outputs[0], name, base=labels)


LOWERINGS = {
    CheckLabels: lower_check_labels,
    Softmax: _lower_rowwise("k_softmax"),
    LogSoftmax: _lower_rowwise("k_log_softmax"),
    LogSumExp: lower_logsumexp,
    SoftmaxCrossentropy: lower_sxent,
    SoftmaxCrossentropyGrad: lower_sxent_grad,
}
