"""Indexing: basic slices and integers, integer-array (advanced) indexing,
``set_subtensor`` and ``inc_subtensor``.

An index is stored as a hashable *spec*, one entry per index item:

- ``("slice", start, stop, step)``: each part ``None``, an ``int``, or ``"in"``
  (a symbolic scalar taken from the node's inputs, in order);
- ``("int", k)`` with ``k`` an int or ``"in"``;
- ``("array",)``: an integer or boolean array input;
- ``("newaxis",)``.

The node's inputs are the indexed tensor, then (for the inc/set op) the value,
then the symbolic parts of the spec in order.
"""
import numpy as np

from graphc.errors import GraphcTypeError, GraphcValueError, ShapeError
from graphc.graph import Node, Op, TensorType, Variable
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import reduction
from graphc.ops import shape as shape_ops


# ---------------------------------------------------------------- the spec
def parse_index(x, key):
    """``(spec, dynamic inputs)`` for ``x[key]``, Ellipsis expanded."""
    if not isinstance(key, tuple):
        key = (key,)
    consumed = sum(_axes_used(k) for k in key if k is not Ellipsis)
    if sum(k is Ellipsis for k in key) > 1:
        raise GraphcValueError("an index can hold only one Ellipsis")
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (x.ndim - consumed))
        else:
            expanded.append(k)
    if consumed > x.ndim:
        raise GraphcValueError(f"too many indices ({consumed}) for {x.type}")
    spec, inputs = [], []

    def part(value):
        if value is None or isinstance(value, (int, np.integer)):
            return None if value is None else int(value)
        value = basic.as_variable(value)
        if value.ndim != 0 or np.dtype(value.dtype).kind not in "iu":
            raise GraphcTypeError(f"slice bounds must be integer scalars, got {value.type}")
        inputs.append(value)
        return "in"

    for k in expanded:
        if k is None:
            spec.append(("newaxis",))
        elif isinstance(k, slice):
            spec.append(("slice", part(k.start), part(k.stop), part(k.step)))
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            spec.append(("int", int(k)))
        else:
            k = basic.as_variable(k)
            kind = np.dtype(k.dtype).kind
            if kind not in "iub":
                raise GraphcTypeError(f"index of dtype {k.dtype} is not an integer or boolean")
            if k.ndim == 0 and kind != "b":
                spec.append(("int", "in"))
            else:
                spec.append(("array",))
            inputs.append(k)
    return tuple(spec), inputs


def _axes_used(k):
    if k is None:
        return 0
    if isinstance(k, Variable) and k.dtype == "bool":
        return k.ndim
    if isinstance(k, np.ndarray) and k.dtype == bool:
        return k.ndim
    return 1


def is_advanced(spec):
    return any(entry[0] == "array" for entry in spec)


def build_key(spec, dynamic):
    """The Python index tuple for NumPy from a spec and the dynamic values."""
    values = iter(dynamic)

    def take(part):
        return int(next(values)) if part == "in" else part

    key = []
    for entry in spec:
        if entry[0] == "slice":
            key.append(slice(take(entry[1]), take(entry[2]), take(entry[3])))
        elif entry[0] == "int":
            key.append(take(entry[1]))
        elif entry[0] == "array":
            key.append(np.asarray(next(values)))
        else:
            key.append(None)
    return tuple(key)


def _static_slice_length(entry, length, dynamic):
    parts = entry[1:]
    if length is None or "in" in parts:
        return None
    return len(range(*slice(*parts).indices(length)))


def output_shape(x_type, spec, dynamic):
    """The static shape of ``x[spec]`` (None where unknown)."""
    shape, axis = [], 0
    advanced_shapes, advanced_at, positions = [], None, []
    arrays = iter([d for d in dynamic if d.ndim > 0 or d.dtype == "bool"])
    for n, entry in enumerate(spec):
        kind = entry[0]
        if kind == "newaxis":
            shape.append(1)
            continue
        if kind == "slice":
            shape.append(_static_slice_length(entry, x_type.shape[axis], dynamic))
            axis += 1
            continue
        if kind == "int":
            if isinstance(entry[1], int) and x_type.shape[axis] is not None:
                size = x_type.shape[axis]
                if not -size <= entry[1] < size:
                    raise ShapeError(f"index {entry[1]} is out of bounds for axis {axis} "
                                     f"with size {size}")
            positions.append(n)
            if is_advanced(spec):
                advanced_shapes.append(())
                advanced_at = len(shape) if advanced_at is None else advanced_at
            axis += 1
            continue
        array = next(arrays)
        positions.append(n)
        advanced_at = len(shape) if advanced_at is None else advanced_at
        if array.dtype == "bool":
            advanced_shapes.append((None,))
            axis += array.ndim
        else:
            advanced_shapes.append(array.type.shape)
            axis += 1
    shape.extend(x_type.shape[axis:])
    if advanced_shapes:
        ndim = max(len(s) for s in advanced_shapes)
        padded = [(1,) * (ndim - len(s)) + tuple(s) for s in advanced_shapes]
        broadcast = ew.broadcast_static(padded, "advanced indexing")
        adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
        at = advanced_at if adjacent else 0
        shape = shape[:at] + list(broadcast) + shape[at:]
    return tuple(shape)


def _format(spec):
    parts = []
    for entry in spec:
        if entry[0] == "slice":
            bounds = ["" if p is None else "?" if p == "in" else str(p) for p in entry[1:]]
            parts.append(":".join(bounds[:2]) + (f":{bounds[2]}" if bounds[2] else ""))
        elif entry[0] == "int":
            parts.append("?" if entry[1] == "in" else str(entry[1]))
        elif entry[0] == "array":
            parts.append("[...]")
        else:
            parts.append("newaxis")
    return ", ".join(parts)


# -------------------------------------------------------------------- the ops
class Subtensor(Op):
    """``x[index]`` for basic and advanced indices (see the module docstring)."""

    __props__ = ("spec",)

    def __init__(self, spec):
        self.spec = tuple(spec)
        self.view_map = {} if is_advanced(self.spec) else {0: 0}

    def __str__(self):
        name = "AdvancedSubtensor" if is_advanced(self.spec) else "Subtensor"
        return f"{name}{{{_format(self.spec)}}}"

    def make_node(self, x, *dynamic):
        x = basic.as_variable(x)
        dynamic = [basic.as_variable(d) for d in dynamic]
        shape = output_shape(x.type, self.spec, dynamic)
        return Node(self, [x] + dynamic, [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        x, *dynamic = inputs
        key = build_key(self.spec, dynamic)
        try:
            result = x[key]
        except IndexError as error:
            raise ShapeError(f"{self}: {error} (indexed array of shape {x.shape})") from None
        return [np.asarray(result)]

    def grad(self, inputs, outputs, output_grads):
        x, *dynamic = inputs
        (gz,) = output_grads
        if np.dtype(x.dtype).kind != "f":
            return [None] * len(inputs)
        zeros = ew.zeros_like(x)
        return [IncSubtensor(self.spec, set_instead_of_inc=False)(zeros, gz, *dynamic)] + \
            [None] * len(dynamic)


class IncSubtensor(Op):
    """A copy of ``x`` with ``x[index]`` set to (or incremented by) ``v``.

    With advanced indices, increments of repeated indices accumulate (``np.add.at``).
    """

    __props__ = ("spec", "set_instead_of_inc", "inplace")

    def __init__(self, spec, set_instead_of_inc=False, inplace=False):
        self.spec = tuple(spec)
        self.set_instead_of_inc = set_instead_of_inc
        self.inplace = inplace
        self.destroy_map = {0: 0} if inplace else {}

    def __str__(self):
        verb = "Set" if self.set_instead_of_inc else "Inc"
        tail = ", inplace" if self.inplace else ""
        return f"{verb}Subtensor{{{_format(self.spec)}{tail}}}"

    def make_node(self, x, v, *dynamic):
        x, v = basic.as_operands(x, v)
        v = ew.cast(v, x.dtype)
        dynamic = [basic.as_variable(d) for d in dynamic]
        target = output_shape(x.type, self.spec, dynamic)
        if v.ndim > len(target):
            raise ShapeError(f"{self}: value of ndim {v.ndim} {v.type} does not fit the "
                             f"indexed region of ndim {len(target)}")
        padded = (1,) * (len(target) - v.ndim) + v.type.shape
        for a, b in zip(padded, target):
            if a is not None and b is not None and a not in (1, b):
                raise ShapeError(f"{self}: value of shape {v.type.shape} cannot be broadcast "
                                 f"to the indexed region of shape {target}")
        return Node(self, [x, v] + dynamic, [x.type])

    def perform(self, node, inputs):
        x, v, *dynamic = inputs
        out = x if self.inplace else x.copy()
        key = build_key(self.spec, dynamic)
        try:
            if self.set_instead_of_inc:
                out[key] = v
            elif is_advanced(self.spec):
                np.add.at(out, key, v)
            else:
                out[key] += v
        except (IndexError, ValueError) as error:
            raise ShapeError(f"{self}: {error} (array of shape {x.shape}, value of shape "
                             f"{np.shape(v)})") from None
        return [out]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        x, v, *dynamic = inputs
        (gz,) = output_grads
        if self.set_instead_of_inc:
            gx = IncSubtensor(self.spec, set_instead_of_inc=True)(
                gz, basic.constant(0, dtype=gz.dtype), *dynamic)
        else:
            gx = gz
        selected = Subtensor(self.spec)(gz, *dynamic)
        if self.set_instead_of_inc and _may_repeat(dynamic):
            selected = ew.switch(_last_writes(x, self.spec, selected, dynamic), selected, 0)
        gv = reduction.sum_to_shape_of(selected, v)
        float_x = np.dtype(x.dtype).kind == "f"
        return [gx if float_x else None, gv if float_x else None] + [None] * len(dynamic)


def _may_repeat(dynamic):
    """True if an index input is an integer array (it may name a place twice)."""
    return any(d.ndim > 0 and np.dtype(d.dtype).kind in "iu" for d in dynamic)


def _last_writes(x, spec, selected, dynamic):
    """Which elements of ``x[idx] = v`` are not overwritten by a later one.

    With a repeated index the last write wins (as in NumPy), so only that element
    of ``v`` reaches the result and gets a gradient: number the elements, set
    the numbers into an array of x's shape, and read back which number stayed.
    """
    dims = shape_ops.shape_list(selected)
    count = dims[0] if dims else 1
    for d in dims[1:]:
        count = ew.mul(count, d)
    numbers = shape_ops.reshape(shape_ops.arange(count, dtype="int64"), dims)
    owners = IncSubtensor(spec, set_instead_of_inc=True)(
        shape_ops.alloc(basic.constant(-1, dtype="int64"), *shape_ops.shape_list(x)),
        numbers, *dynamic)
    return ew.eq(Subtensor(spec)(owners, *dynamic), numbers)


# --------------------------------------------------------------- builders
def index(x, key):
    """``x[key]`` with NumPy's meaning for slices, ints, arrays, None and Ellipsis."""
    x = basic.as_variable(x)
    spec, dynamic = parse_index(x, key)
    if all(e == ("slice", None, None, None) for e in spec):
        return x
    return Subtensor(spec)(x, *dynamic)


def _indexed(target, caller):
    if not (isinstance(target, Variable) and target.owner is not None
            and isinstance(target.owner.op, Subtensor)):
        raise GraphcTypeError(f"{caller} expects an indexed variable such as x[idx], "
                              f"got {target!r}")
    return target.owner.op.spec, target.owner.inputs[0], target.owner.inputs[1:]


def set_subtensor(target, value):
    """A copy of ``x`` with ``x[idx]`` replaced by ``value`` (given ``target = x[idx]``)."""
    spec, x, dynamic = _indexed(target, "set_subtensor")
    return IncSubtensor(spec, set_instead_of_inc=True)(x, value, *dynamic)


def inc_subtensor(target, value):
    """A copy of ``x`` with ``value`` added to ``x[idx]`` (given ``target = x[idx]``)."""
    spec, x, dynamic = _indexed(target, "inc_subtensor")
    return IncSubtensor(spec, set_instead_of_inc=False)(x, value, *dynamic)

