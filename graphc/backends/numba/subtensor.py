"""Indexing: basic (slices, integers, newaxis) and integer-array indexing, and
``set_subtensor`` / ``inc_subtensor``.

Basic indexing is numba's own (a view); integer indices are bounds-checked by
``k_index`` because compiled code does not check. Advanced indexing is lowered
natively when the integer arrays (1-d) and integers form one adjacent group
and every other entry is a full slice (``x[idx]``, ``x[:, idx]``,
``p[arange(n), y]``): the group becomes one flat index into a
``(pre, indexed, post)`` view. Reading also takes other slices around the group
(``x[idx, 1:]``: the slices are applied first, as a view) and boolean masks
(``x[x > 0]``: the integer arrays of the mask's ``nonzero``). Increments with
repeated indices accumulate, as ``np.add.at``. Other advanced forms (n-d index
arrays, newaxis mixed with arrays, increments through masks or sliced groups)
run through the op's ``perform`` in object mode.
"""
import numpy as np
from numba import njit

from graphc.graph import TensorType, Variable
from graphc.ops.subtensor import IncSubtensor, Subtensor, is_advanced
from graphc.backends.numba import fallback
from graphc.backends.numba.lower import np_dtype

FULL = ("slice", None, None, None)


@njit(cache=True)
def k_index(i, n):
    """``i`` as a non-negative index into an axis of length ``n``, or an IndexError."""
    j = np.int64(i)
    if j < 0:
        j += n
    if j < 0 or j >= n:
        raise IndexError("graphc: index out of bounds")
    return j


@njit(cache=True)
def k_check_mask(fits):
    if not fits:
        raise IndexError("graphc: a boolean index does not match the shape of the "
                         "indexed axes")


@njit(cache=True, error_model="numpy")
def k_take(x3, flat, o3):
    P, L, Q = o3.shape
    for p in range(P):
        for j in range(L):
            k = flat[j]
            for q in range(Q):
                o3[p, j, q] = x3[p, k, q]


@njit(cache=True, error_model="numpy")
def k_put(o3, flat, v3, accumulate):
    P, L, Q = v3.shape
    for p in range(P):
        for j in range(L):
            k = flat[j]
            for q in range(Q):
                if accumulate:
                    o3[p, k, q] += v3[p, j, q]
                else:
                    o3[p, k, q] = v3[p, j, q]


def _basic_index(ctx, x, spec, dynamic):
    """Source of the index tuple for a basic spec (no arrays)."""
    values = iter(dynamic)
    xname = ctx.get(x)
    parts, axis = [], 0
    for entry in spec:
        if entry[0] == "newaxis":
            parts.append("None")
            continue
        if entry[0] == "int":
            k = ctx.scalar(next(values)) if entry[1] == "in" else str(entry[1])
            parts.append(f"k_index({k}, {xname}.shape[{axis}])")
        else:
            bounds = [ctx.scalar(next(values)) if p == "in" else
                      "None" if p is None else str(p) for p in entry[1:]]
            parts.append(":".join(bounds))
        axis += 1
    return ", ".join(parts) if parts else "()"


def _native_group(spec, dynamic):
    """``(first axis, group entries)`` for the natively lowered advanced subset."""
    arrays = iter(d for d in dynamic)
    positions, group = [], []
    for n, entry in enumerate(spec):
        if entry[0] == "array":
            var = next(arrays)
            if var.ndim != 1 or var.dtype == "bool":
                return None
            positions.append(n)
            group.append(("array", var))
        elif entry[0] == "int":
            if entry[1] == "in":
                group.append(("int", next(arrays)))
            else:
                group.append(("const", entry[1]))
            positions.append(n)
        elif entry[0] == "slice":
            if entry != FULL:
                return None
            for part in entry[1:]:
                if part == "in":
                    next(arrays)
        else:
            return None
    if positions != list(range(positions[0], positions[0] + len(positions))):
        return None
    return positions[0], group


def _alone_nd_array(spec, dynamic):
    """The one integer index array of 2 or more axes in ``spec`` (``W[ids]`` with
    ``ids`` a matrix, as embedding lookups are written), else None."""
    arrays = [var for (entry, values) in _entries(spec, dynamic) if entry[0] == "array"
              for var in values]
    if len(arrays) != 1 or arrays[0].ndim < 2 or arrays[0].dtype == "bool":
        return None
    if any(e[0] in ("newaxis", "int") for e in spec):
        return None
    return arrays[0]


def _as_flat_array(ctx, dynamic, array):
    """The index inputs with ``array`` raveled: ``x[..., ids, ...]`` picks the rows
    ``x[..., ids.ravel(), ...]``, then laid out with ``ids``'s axes (:func:`_index_dims`)."""
    flat = Variable(TensorType(array.dtype, (None,)))
    ctx.bind(flat, ctx.tmp("ix"))
    ctx.line(f"{ctx.get(flat)} = k_reshape({ctx.array(array)}, ({ctx.array(array)}.size,))")
    return [flat if v is array else v for v in dynamic]


def _index_dims(ctx, array):
    """Source of the lengths of ``array``'s axes, as they replace the indexed axis."""
    return [f"{ctx.array(array)}.shape[{k}]" for k in range(array.ndim)]


def _flat_index(ctx, x, first, group):
    """Write the flat index of an advanced group; returns (names, pre, D, post, L)."""
    xname = ctx.array(x)
    dims = [f"{xname}.shape[{first + k}]" for k in range(len(group))]
    arrays = [ctx.get(var) for kind, var in group if kind == "array"]
    length = ctx.tmp("L")
    if arrays:
        expr = f"{arrays[0]}.shape[0]"
        for other in arrays[1:]:
            expr = f"k_bc({expr}, {other}.shape[0])"
    else:
        expr = "1"
    ctx.line(f"{length} = {expr}")
    flat = ctx.tmp("fi")
    ctx.line(f"{flat} = k_empty({length}, np.int64)")
    ctx.line(f"for j in range({length}):")
    terms = []
    for (kind, var), dim in zip(group, dims):
        if kind == "array":
            name = ctx.get(var)
            raw = f"{name}[j if {name}.shape[0] != 1 else 0]"
        elif kind == "int":
            raw = ctx.scalar(var)
        else:
            raw = str(var)
        terms.append(f"k_index({raw}, {dim})")
    expr = terms[0]
    for term, dim in zip(terms[1:], dims[1:]):
        expr = f"({expr}) * {dim} + {term}"
    ctx.line(f"    {flat}[j] = {expr}")
    ndim = x.ndim
    pre = " * ".join(f"{xname}.shape[{k}]" for k in range(first)) or "1"
    red = " * ".join(dims)
    post = " * ".join(f"{xname}.shape[{k}]" for k in range(first + len(group), ndim)) or "1"
    head = [f"{xname}.shape[{k}]" for k in range(first)]
    tail = [f"{xname}.shape[{k}]" for k in range(first + len(group), ndim)]
    return flat, pre, red, post, length, head, tail


def _entries(spec, dynamic):
    """``[(entry, its dynamic inputs), ...]``: each spec entry with the inputs it reads."""
    values = iter(dynamic)
    pairs = []
    for entry in spec:
        if entry[0] == "array" or (entry[0] == "int" and entry[1] == "in"):
            pairs.append((entry, [next(values)]))
        elif entry[0] == "slice":
            pairs.append((entry, [next(values) for part in entry[1:] if part == "in"]))
        else:
            pairs.append((entry, []))
    return pairs


def _native_form(ctx, x, spec, dynamic, slices=True):
    """``(x', spec', dynamic')`` for ``x[spec]`` in the form :func:`_native_group`
    takes, or None.

    A boolean mask over ``k`` axes becomes the ``k`` integer arrays of its
    ``nonzero()``, after checking its shape. With ``slices``, the slices that are
    not full are applied first (``x'`` is that view of ``x``, and they become full
    slices); an increment, which writes into a copy of ``x``, cannot use a view.
    """
    pairs = _entries(spec, dynamic)
    sliced = any(entry[0] == "slice" and entry != FULL for entry, _ in pairs)
    if sliced and not slices:
        return None
    for entry, values in pairs:
        if entry[0] == "newaxis":
            return None
        if entry[0] == "array" and values[0].dtype == "bool" and values[0].ndim == 0:
            return None
    view = x
    if sliced:
        parts = []
        for entry, values in pairs:
            if entry[0] == "slice":
                inputs = iter(values)
                parts.append(":".join(ctx.scalar(next(inputs)) if p == "in" else
                                      "None" if p is None else str(p) for p in entry[1:]))
            elif entry[0] == "array" and values[0].dtype == "bool":
                parts.extend([":"] * values[0].ndim)
            else:
                parts.append(":")
        name = ctx.tmp("w")
        ctx.line(f"{name} = {ctx.array(x)}[{', '.join(parts)}]")
        view = Variable(TensorType(x.dtype, (None,) * x.ndim))
        ctx.bind(view, name, base=x)
    new_spec, new_dynamic, axis = [], [], 0
    for entry, values in pairs:
        if entry[0] == "slice":
            new_spec.append(FULL)
            axis += 1
            continue
        if entry[0] == "array" and values[0].dtype == "bool":
            mask = ctx.array(values[0])
            k = values[0].ndim
            fits = " and ".join(f"{mask}.shape[{j}] == {ctx.get(view)}.shape[{axis + j}]"
                                for j in range(k))
            ctx.line(f"k_check_mask({fits})")
            nz = ctx.tmp("nz")
            ctx.line(f"{nz} = np.nonzero({mask})")
            for j in range(k):
                index = Variable(TensorType("int64", (None,)))
                ctx.bind(index, f"{nz}[{j}]")
                new_spec.append(("array",))
                new_dynamic.append(index)
            axis += k
            continue
        new_spec.append(entry)
        new_dynamic.extend(values)
        axis += 1
    return view, new_spec, new_dynamic


def lower_subtensor(ctx, node):
    x, *dynamic = node.inputs
    out = node.outputs[0]
    spec = node.op.spec
    if not is_advanced(spec):
        name = ctx.tmp("v")
        ctx.line(f"{name} = {ctx.get(x)}[{_basic_index(ctx, x, spec, dynamic)}]")
        ctx.bind(out, name, base=x)
        return
    nd_array = _alone_nd_array(spec, dynamic)
    if nd_array is not None:
        dynamic = _as_flat_array(ctx, dynamic, nd_array)
    found = _native_group(spec, dynamic)
    if found is None:
        form = _native_form(ctx, x, spec, dynamic)
        if form is not None:
            x, spec, dynamic = form
            found = _native_group(spec, dynamic)
    if found is None:
        fallback.lower_fallback(ctx, node)
        return
    first, group = found
    flat, pre, red, post, length, head, tail = _flat_index(ctx, x, first, group)
    x3, o3 = ctx.tmp("x3_"), ctx.tmp("o")
    ctx.line(f"{x3} = k_reshape({ctx.get(x)}, ({pre}, {red}, {post}))")
    ctx.line(f"{o3} = k_empty(({x3}.shape[0], {length}, {x3}.shape[2]), "
             f"{np_dtype(out.dtype)})")
    ctx.line(f"k_take({x3}, {flat}, {o3})")
    picked = [length] if nd_array is None else _index_dims(ctx, nd_array)
    ctx.bind_reshaped(out, o3, 3, head + picked + tail)


def lower_inc_subtensor(ctx, node):
    x, v, *dynamic = node.inputs
    out = node.outputs[0]
    op = node.op
    accumulate = not op.set_instead_of_inc
    o = ctx.tmp("o")
    ctx.line(f"{o} = k_copy({ctx.get(x)})")
    if is_advanced(op.spec):
        nd_array = _alone_nd_array(op.spec, dynamic)
        if nd_array is not None:
            dynamic = _as_flat_array(ctx, dynamic, nd_array)
        found = _native_group(op.spec, dynamic)
        if found is None:
            form = _native_form(ctx, x, op.spec, dynamic, slices=False)
            if form is not None:
                found = _native_group(form[1], form[2])
        if found is None:
            fallback.lower_fallback(ctx, node)
            return
        first, group = found
        flat, pre, red, post, length, head, tail = _flat_index(ctx, x, first, group)
        picked = [length] if nd_array is None else _index_dims(ctx, nd_array)
        full = "(" + "".join(s + ", " for s in head + picked + tail) + ")"
        v3 = ctx.tmp("v3_")
        ctx.line(f"{v3} = k_reshape(k_broadcast_copy({ctx.array(v)}, {full}), "
                 f"({pre}, {length}, {post}))")
        ctx.line(f"k_put(k_reshape({o}, ({pre}, {red}, {post})), {flat}, {v3}, {accumulate})")
        ctx.bind(out, o)
        return
    index = _basic_index(ctx, x, op.spec, dynamic)
    view = ctx.tmp("w")
    target_ndim = node.op.spec and _region_ndim(x, op.spec)
    op_text = "+=" if accumulate else "="
    if target_ndim == 0:
        ctx.line(f"{o}[{index}] {op_text} {ctx.scalar(v)}")
        ctx.bind(out, o)
        return
    ctx.line(f"{view} = {o}[{index}]")
    if ctx.is_unit(v):
        value = ctx.tmp("u")
        ctx.line(f"{value} = {ctx.scalar(v)}")
        loop = ctx.nd_loop(f"{view}.shape", target_ndim)
        ctx.line(f"{view}[{', '.join(loop)}] {op_text} {value}")
    else:
        vb = ctx.tmp("vb")
        ctx.line(f"{vb} = k_broadcast({ctx.array(v)}, {view}.shape)")
        loop = ctx.nd_loop(f"{view}.shape", target_ndim)
        ctx.line(f"{view}[{', '.join(loop)}] {op_text} {vb}[{', '.join(loop)}]")
    ctx.indent -= target_ndim
    ctx.bind(out, o)


def _region_ndim(x, spec):
    ndim = x.ndim
    for entry in spec:
        if entry[0] == "int":
            ndim -= 1
        elif entry[0] == "newaxis":
            ndim += 1
    return ndim


LOWERINGS = {Subtensor: lower_subtensor, IncSubtensor: lower_inc_subtensor}
