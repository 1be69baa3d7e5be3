"""Extra ops: cumulative sums and products, argsort and permutations (sort), diagonals,
bincount, unique, and the shape identities (specify_shape, unbroadcast).

Ops along one axis view their input as a C-contiguous ``(pre, axis, post)`` array, as
the reductions do, so one kernel per op serves every rank and axis. Diagonal ops move
their two axes last, as ``(batch, rows, columns)``. Every result is a fresh buffer,
but for the two identities, which are views of their input (their ops' view_map).

The graph function only calls the kernels: a cached kernel is compiled once per
signature, not in every graph, and the graph needs none of the numba implementation
modules its light refresh leaves out (see ``cache.py``).
"""
import numpy as np
from numba import njit

from graphc.ops.extra import (ArgSort, BinCount, CumOp, Diagonal, Permute, SetDiagonal,
                              SpecifyShape, Unbroadcast, Unique)
from graphc.ops.ifelse import IfElse
from graphc.backends.numba.lower import np_dtype
from graphc.backends.numba.reduction import _acc_row, _acc_zero
from graphc.backends.numba.shape import lower_identity


# ----------------------------------------------------------------- kernels
@njit(cache=True, error_model="numpy")
def k_cumsum(x, o, reverse):
    """Cumulative sums over axis 1 of ``x`` (P, N, Q) into ``o``; floats accumulate in
    float64, integers in 64 bits. The sums start from -0.0, the float zero that adds
    exactly (-0.0 + -0.0 is -0.0, where 0.0 + -0.0 would be 0.0), as NumPy's start
    from the first element."""
    P, N, Q = x.shape
    for p in range(P):
        if Q == 1:
            acc = -_acc_zero(o)
            for step in range(N):
                n = N - 1 - step if reverse else step
                acc += x[p, n, 0]
                o[p, n, 0] = acc
            continue
        row = _acc_row(o, Q)
        for q in range(Q):
            row[q] = -row[q]
        for step in range(N):
            n = N - 1 - step if reverse else step
            for q in range(Q):
                row[q] += x[p, n, q]
                o[p, n, q] = row[q]


@njit(cache=True, error_model="numpy")
def k_cumprod(x, o, reverse):
    """Cumulative products over axis 1 of ``x`` (P, N, Q) into ``o``."""
    P, N, Q = x.shape
    for p in range(P):
        row = _acc_row(o, Q)
        row[:] = 1
        for step in range(N):
            n = N - 1 - step if reverse else step
            for q in range(Q):
                row[q] *= x[p, n, q]
                o[p, n, q] = row[q]


@njit(cache=True)
def _sorts_before(a, b):
    """``a`` goes strictly before ``b``: NaNs go last, as in NumPy."""
    return a < b or (b != b and a == a)


# Runs of this length are sorted by insertion first: fewer merge passes over the row.
_RUN = 16


@njit(cache=True)
def _stable_argsort(row, order, row_scratch, order_scratch):
    """Write into ``order`` the indices that sort ``row`` stably; ``row`` is sorted in
    place. The scratch arrays have the length of ``row``.

    A bottom-up merge sort of (value, index) pairs, with insertion-sorted runs first.
    Not ``np.argsort(kind="mergesort")``: numba compiles its generic sort for each
    dtype in about 1.5 s, these loops in half of that, and moving values with their
    indices (not reading ``row[order[i]]``) runs about twice as fast.
    """
    n = row.shape[0]
    for i in range(n):
        order[i] = i
    for lo in range(0, n, _RUN):
        for i in range(lo + 1, min(lo + _RUN, n)):
            value, index = row[i], order[i]
            j = i
            # Only a strictly smaller value moves left past another: stable.
            while j > lo and _sorts_before(value, row[j - 1]):
                row[j], order[j] = row[j - 1], order[j - 1]
                j -= 1
            row[j], order[j] = value, index
    src_v, src_i, dst_v, dst_i = row, order, row_scratch, order_scratch
    in_place = True      # whether the latest pass left the result in row and order
    width = _RUN
    while width < n:
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            i, j = lo, mid
            for k in range(lo, hi):
                # The right run's head goes first only if strictly smaller: stable.
                if j < hi and (i >= mid or _sorts_before(src_v[j], src_v[i])):
                    dst_v[k], dst_i[k] = src_v[j], src_i[j]
                    j += 1
                else:
                    dst_v[k], dst_i[k] = src_v[i], src_i[i]
                    i += 1
        src_v, src_i, dst_v, dst_i = dst_v, dst_i, src_v, src_i
        in_place = not in_place
        width *= 2
    if not in_place:
        order[:] = src_i
        row[:] = src_v


@njit(cache=True)
def k_argsort(x, o):
    """Stable argsort over axis 1 of ``x`` (P, N, Q) into ``o`` (NaNs last, as NumPy)."""
    P, N, Q = x.shape
    row, row_scratch = np.empty(N, x.dtype), np.empty(N, x.dtype)
    order, order_scratch = np.empty(N, np.int64), np.empty(N, np.int64)
    for p in range(P):
        for q in range(Q):
            for n in range(N):
                row[n] = x[p, n, q]
            _stable_argsort(row, order, row_scratch, order_scratch)
            for n in range(N):
                o[p, n, q] = order[n]


@njit(cache=True, error_model="numpy")
def k_permute(x, idx, o, inverse):
    """``o[p, n, q] = x[p, idx[p, n, q], q]``, or with ``inverse`` the scatter
    ``o[p, idx[p, n, q], q] = x[p, n, q]`` (``o`` zeroed by the caller)."""
    P, N, Q = x.shape
    for p in range(P):
        for n in range(N):
            for q in range(Q):
                k = idx[p, n, q]
                if k < 0 or k >= N:
                    raise IndexError("graphc: permutation index out of range")
                if inverse:
                    o[p, k, q] = x[p, n, q]
                else:
                    o[p, n, q] = x[p, k, q]


@njit(cache=True)
def _diagonal_start(offset):
    """(first row, first column) of diagonal ``offset`` (as ops/extra.py's)."""
    return (-offset, 0) if offset < 0 else (0, offset)


@njit(cache=True)
def k_diag_len(rows, cols, offset):
    """The length of diagonal ``offset`` of a ``rows`` x ``cols`` matrix."""
    row0, col0 = _diagonal_start(offset)
    return max(0, min(rows - row0, cols - col0))


@njit(cache=True)
def k_diagonal(x, offset):
    """The diagonals ``offset`` of ``x`` (B, R, C) as a fresh (B, L) array."""
    B, R, C = x.shape
    row0, col0 = _diagonal_start(offset)
    length = k_diag_len(R, C, offset)
    o = np.empty((B, length), x.dtype)
    for b in range(B):
        for i in range(length):
            o[b, i] = x[b, row0 + i, col0 + i]
    return o


@njit(cache=True)
def k_set_diagonal(w, v, offset):
    """Write ``v`` (B, L) on the diagonals ``offset`` of ``w`` (B, R, C), in place."""
    B, R, C = w.shape
    row0, col0 = _diagonal_start(offset)
    for b in range(B):
        for i in range(v.shape[1]):
            w[b, row0 + i, col0 + i] = v[b, i]


@njit(cache=True)
def k_fill_diagonal(w, value, offset):
    """Write the scalar ``value`` on the diagonals ``offset`` of ``w`` (B, R, C)."""
    B, R, C = w.shape
    row0, col0 = _diagonal_start(offset)
    for b in range(B):
        for i in range(k_diag_len(R, C, offset)):
            w[b, row0 + i, col0 + i] = value


@njit(cache=True)
def k_bincount_len(x, minlength):
    """``max(max(x) + 1, minlength)``, or a ValueError for a negative value."""
    if minlength < 0:
        raise ValueError("graphc: bincount minlength is negative")
    n = np.int64(minlength)
    for i in range(x.shape[0]):
        v = np.int64(x[i])
        if v < 0:
            raise ValueError("graphc: bincount of a negative value")
        if v + 1 > n:
            n = v + 1
    return n


@njit(cache=True, error_model="numpy")
def k_bincount(x, o):
    o[:] = 0
    for i in range(x.shape[0]):
        o[np.int64(x[i])] += 1


@njit(cache=True, error_model="numpy")
def k_bincount_w(x, w, o):
    """Sums of ``w`` per value of ``x`` into ``o``, accumulated in float64 (floats)."""
    if w.shape[0] != x.shape[0]:
        raise ValueError("graphc: bincount weights and x differ in length")
    acc = _acc_row(o, o.shape[0])
    for i in range(x.shape[0]):
        acc[np.int64(x[i])] += w[i]
    for j in range(o.shape[0]):
        o[j] = acc[j]


@njit(cache=True)
def k_unique(x):
    """``np.unique(x, True, True, True)`` of a vector: NaNs are one value."""
    n = x.shape[0]
    order = np.empty(n, np.int64)
    # Stable, so a value's first index comes first; sorts a copy, not the input.
    _stable_argsort(x.copy(), order, np.empty(n, x.dtype), np.empty(n, np.int64))
    values = np.empty(n, x.dtype)
    first = np.empty(n, np.int64)
    inverse = np.empty(n, np.int64)
    counts = np.zeros(n, np.int64)
    m = -1
    for j in range(n):
        i = order[j]
        v = x[i]
        if m < 0 or not (v == values[m] or (v != v and values[m] != values[m])):
            m += 1
            values[m] = v
            first[m] = i
        counts[m] += 1
        inverse[i] = m
    m += 1
    return values[:m].copy(), first[:m].copy(), inverse, counts[:m].copy()


# ---------------------------------------------------------------- lowering
def _product(terms):
    return " * ".join(terms) if terms else "1"


def _tuple(items):
    return "(" + "".join(f"{item}, " for item in items) + ")"


def _view3(ctx, x, axis):
    """Write ``x`` as a C-contiguous ``(pre, axis, post)`` array; returns its name and
    the source of x's lengths."""
    name = ctx.array(x)
    dims = [f"{name}.shape[{k}]" for k in range(x.ndim)]
    x3 = ctx.tmp("x3_")
    ctx.line(f"{x3} = k_reshape({name}, ({_product(dims[:axis])}, {dims[axis]}, "
             f"{_product(dims[axis + 1:])}))")
    return x3, dims


def _along_axis(ctx, node, kernel, *extra):
    """``kernel(x3, o3, *extra)`` over ``(pre, axis, post)``; ``o3`` is the output."""
    x, out = node.inputs[0], node.outputs[0]
    x3, dims = _view3(ctx, x, node.op.axis)
    o3 = ctx.tmp("o")
    ctx.line(f"{o3} = k_empty({x3}.shape, {np_dtype(out.dtype)})")
    ctx.line(f"{kernel}({x3}, {o3}{''.join(', ' + e for e in extra)})")
    ctx.bind_reshaped(out, o3, 3, dims)


def lower_cumop(ctx, node):
    kernel = "k_cumsum" if node.op.mode == "add" else "k_cumprod"
    _along_axis(ctx, node, kernel, str(node.op.reverse))


def lower_argsort(ctx, node):
    _along_axis(ctx, node, "k_argsort")


def lower_permute(ctx, node):
    (x, idx), out = node.inputs, node.outputs[0]
    ctx.line(f"if {ctx.get(x)}.shape != {ctx.get(idx)}.shape:")
    ctx.line("    raise ValueError('graphc: Permute: x and idx differ in shape')")
    x3, dims = _view3(ctx, x, node.op.axis)
    i3, _ = _view3(ctx, idx, node.op.axis)
    o3 = ctx.tmp("o")
    # The scatter may leave holes where idx is no permutation: zeros, as perform's.
    alloc = "k_zeros" if node.op.inverse else "k_empty"
    ctx.line(f"{o3} = {alloc}({x3}.shape, {np_dtype(out.dtype)})")
    ctx.line(f"k_permute({x3}, {i3}, {o3}, {node.op.inverse})")
    ctx.bind_reshaped(out, o3, 3, dims)


def _diagonal_layout(ctx, op, x):
    """``(source, lengths in that order, permutation)``: ``x`` with the two axes last."""
    name = ctx.array(x)
    perm = op.others(x.ndim) + [op.axis1, op.axis2]
    source = name
    if perm != list(range(x.ndim)):
        source = f"k_transpose({name}, {_tuple(perm)})"
    return source, [f"{name}.shape[{k}]" for k in perm], perm


def lower_diagonal(ctx, node):
    x, out = node.inputs[0], node.outputs[0]
    source, dims, _ = _diagonal_layout(ctx, node.op, x)
    x3, o2 = ctx.tmp("x3_"), ctx.tmp("o")
    ctx.line(f"{x3} = k_reshape({source}, ({_product(dims[:-2])}, {dims[-2]}, {dims[-1]}))")
    ctx.line(f"{o2} = k_diagonal({x3}, {node.op.offset})")
    ctx.bind_reshaped(out, o2, 2, dims[:-2] + [f"{o2}.shape[1]"])


def lower_set_diagonal(ctx, node):
    (x, v), out = node.inputs, node.outputs[0]
    op = node.op
    source, dims, perm = _diagonal_layout(ctx, op, x)
    batch = _product(dims[:-2])
    work, w3 = ctx.tmp("w"), ctx.tmp("w3_")
    ctx.line(f"{work} = k_copy({source})")     # the output's own buffer, axes last
    ctx.line(f"{w3} = k_reshape({work}, ({batch}, {dims[-2]}, {dims[-1]}))")
    if ctx.is_unit(v):
        ctx.line(f"k_fill_diagonal({w3}, {ctx.scalar(v)}, {op.offset})")
    else:
        length, v2 = ctx.tmp("L"), ctx.tmp("v")
        ctx.line(f"{length} = k_diag_len({dims[-2]}, {dims[-1]}, {op.offset})")
        target = _tuple(dims[:-2] + [length])
        ctx.line(f"{v2} = k_reshape(k_broadcast({ctx.array(v)}, {target}), "
                 f"({batch}, {length}))")
        ctx.line(f"k_set_diagonal({w3}, {v2}, {op.offset})")
    result = work
    if perm != list(range(x.ndim)):
        result = ctx.tmp("v")
        back = [perm.index(k) for k in range(x.ndim)]
        ctx.line(f"{result} = k_transpose({work}, {_tuple(back)})")
    ctx.bind(out, result)


def lower_bincount(ctx, node):
    x, minlength, *weights = node.inputs
    out = node.outputs[0]
    xname = ctx.get(x)
    n, o = ctx.tmp("n"), ctx.tmp("o")
    ctx.line(f"{n} = k_bincount_len({xname}, {ctx.scalar(minlength)})")
    ctx.line(f"{o} = k_empty({n}, {np_dtype(out.dtype)})")
    if weights:
        ctx.line(f"k_bincount_w({xname}, {ctx.get(weights[0])}, {o})")
    else:
        ctx.line(f"k_bincount({xname}, {o})")
    ctx.bind(out, o)


def lower_unique(ctx, node):
    op = node.op
    names = [ctx.tmp("u") for _ in range(4)]
    ctx.line(f"{', '.join(names)} = k_unique({ctx.get(node.inputs[0])})")
    wanted = [True, op.return_index, op.return_inverse, op.return_counts]
    chosen = [name for name, keep in zip(names, wanted) if keep]
    for var, name in zip(node.outputs, chosen):
        ctx.bind(var, name)


def lower_specify_shape(ctx, node):
    x, *dims = node.inputs
    name = ctx.get(x)
    for axis, dim in zip(node.op.axes, dims):
        ctx.line(f"if {name}.shape[{axis}] != {ctx.scalar(dim)}:")
        ctx.line("    raise ValueError('graphc: specify_shape: the shape differs')")
    ctx.bind(node.outputs[0], name, base=x)


def lower_ifelse(ctx, node):
    """The chosen branch, copied: only that one is copied (the branches are computed)."""
    condition, *branches = node.inputs
    n = node.op.n_outs
    chosen = ctx.tmp("c")
    ctx.line(f"{chosen} = bool({ctx.scalar(condition)})")
    for out, a, b in zip(node.outputs, branches[:n], branches[n:]):
        o = ctx.tmp("o")
        if out.ndim == 0:
            cast = np_dtype(out.dtype)
            ctx.line(f"{o} = {cast}({ctx.get(a)}) if {chosen} else {cast}({ctx.get(b)})")
        else:
            ctx.line(f"{o} = k_copy({ctx.array(a)}) if {chosen} else k_copy({ctx.array(b)})")
        ctx.bind(out, o)


LOWERINGS = {
    IfElse: lower_ifelse,
    CumOp: lower_cumop,
    ArgSort: lower_argsort,
    Permute: lower_permute,
    Diagonal: lower_diagonal,
    SetDiagonal: lower_set_diagonal,
    BinCount: lower_bincount,
    Unique: lower_unique,
    SpecifyShape: lower_specify_shape,
    Unbroadcast: lower_identity,
}
