"""Shape operations: dimshuffle, reshape, shape, alloc, join, arange, tile, repeat."""
import numpy as np

from graphc.config import config
from graphc.errors import GraphcTypeError, GraphcValueError, ShapeError
from graphc.graph import Constant, Node, Op, TensorType, Variable
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import reduction


def static_value(var):
    """The Python value of a constant scalar (or vector of them), else None."""
    if isinstance(var, Constant):
        return var.data.tolist()
    if var.owner is not None and isinstance(var.owner.op, MakeVector):
        parts = [static_value(v) for v in var.owner.inputs]
        return None if any(p is None for p in parts) else parts
    return None


def _refuse_float_entries(shape, context):
    """NumPy refuses Python floats in a shape too; as int64 2.5 would become 2 silently."""
    for s in shape:
        if isinstance(s, (float, np.floating)):
            raise GraphcTypeError(f"{context}: a shape entry must be an integer, got {s!r} "
                                  f"in {tuple(shape)}")


def _check_int_scalar(var, what, context):
    if var.ndim != 0 or np.dtype(var.dtype).kind not in "iu":
        raise GraphcTypeError(f"{context}: {what} must be an integer scalar, got {var.type}")


# ------------------------------------------------------------------ dimshuffle
class DimShuffle(Op):
    """Theano's dimshuffle: permute axes, drop length-1 axes, add ``'x'`` axes.

    ``pattern`` lists, for each output axis, an input axis or ``'x'`` (a new axis of
    length 1). Input axes left out must have static length 1.
    """

    __props__ = ("input_ndim", "pattern")
    view_map = {0: 0}

    def __init__(self, input_ndim, pattern):
        self.input_ndim = input_ndim
        self.pattern = tuple(pattern)
        kept = [p for p in self.pattern if p != "x"]
        if len(set(kept)) != len(kept) or any(not 0 <= p < input_ndim for p in kept):
            raise GraphcValueError(f"invalid dimshuffle pattern {pattern} for ndim {input_ndim}")
        self.dropped = tuple(i for i in range(input_ndim) if i not in kept)

    def __str__(self):
        return f"DimShuffle{{{','.join(map(str, self.pattern))}}}"

    def make_node(self, x):
        x = basic.as_variable(x)
        if x.ndim != self.input_ndim:
            raise GraphcTypeError(f"{self}: expected ndim {self.input_ndim}, got {x.type}")
        for axis in self.dropped:
            if x.type.shape[axis] != 1:
                raise ShapeError(f"{self}: cannot drop axis {axis} of {x.type}: its length "
                                 "is not known to be 1")
        shape = [1 if p == "x" else x.type.shape[p] for p in self.pattern]
        return Node(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        kept = [p for p in self.pattern if p != "x"]
        y = np.transpose(x, kept + list(self.dropped))
        y = y.reshape(y.shape[:len(kept)])
        return [y.reshape([1 if p == "x" else x.shape[p] for p in self.pattern])]

    def grad(self, inputs, outputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        new_axes = [i for i, p in enumerate(self.pattern) if p == "x"]
        if new_axes:
            gz = reduction.sum(gz, axis=new_axes)
        kept = [p for p in self.pattern if p != "x"]
        # Put the kept axes back in input order, then re-insert the dropped ones.
        back = [kept.index(i) if i in kept else "x" for i in range(self.input_ndim)]
        return [dimshuffle(gz, back)]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(basic.constant(1, "int64") if p == "x" else shape[p]
                      for p in self.pattern)]


def dimshuffle(x, pattern):
    x = basic.as_variable(x)
    pattern = tuple(pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, pattern)(x)


def restore_axes(reduced, ndim, axes):
    """``reduced`` (with ``axes`` of an ``ndim``-d tensor removed) with those axes back,
    of length 1: what ``keepdims=True`` gives."""
    kept = iter(range(reduced.ndim))
    return dimshuffle(reduced, ["x" if i in axes else next(kept) for i in range(ndim)])


# ---------------------------------------------------------------------- shape
class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    def make_node(self, x):
        x = basic.as_variable(x)
        return Node(self, [x], [TensorType("int64", (x.ndim,))])

    def perform(self, node, inputs):
        return [np.array(inputs[0].shape, dtype="int64")]

    def grad(self, inputs, outputs, output_grads):
        return [None]


class ShapeI(Op):
    """The length of one axis of a tensor, as an int64 scalar."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, x):
        x = basic.as_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise GraphcValueError(f"shape index {self.axis} out of range for {x.type}")
        return Node(self, [x], [TensorType("int64", ())])

    def perform(self, node, inputs):
        return [np.array(inputs[0].shape[self.axis], dtype="int64")]

    def grad(self, inputs, outputs, output_grads):
        return [None]


def shape_list(x):
    """One int64 scalar per axis of ``x``: a constant where the static shape knows it."""
    return [basic.constant(s, "int64") if s is not None else ShapeI(i)(x)
            for i, s in enumerate(x.type.shape)]


def broadcast_shapes_symbolic(shapes):
    """Symbolic broadcast of several shapes of equal length (for infer_shape).

    An entry is ``None`` where it cannot be written exactly without a run-time
    choice (two unknown lengths, either of which may be 1).
    """
    result = []
    for dims in zip(*shapes):
        known = [static_value(d) for d in dims]
        big = [k for k in known if k is not None and k != 1]
        unknown = [d for d, k in zip(dims, known) if k is None]
        if big:
            result.append(basic.constant(big[0], "int64"))
        elif not unknown:
            result.append(basic.constant(1, "int64"))
        elif len(unknown) == 1:
            result.append(unknown[0])
        else:
            result.append(None)
    return tuple(result)


class MakeVector(Op):
    """A vector from scalars of one dtype (``[x.shape[0], 3]`` as a shape)."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def make_node(self, *scalars):
        scalars = [ew.cast(basic.as_variable(s), self.dtype) for s in scalars]
        if any(s.ndim != 0 for s in scalars):
            raise GraphcTypeError("MakeVector takes scalars")
        return Node(self, scalars, [TensorType(self.dtype, (len(scalars),))])

    def perform(self, node, inputs):
        return [np.array([np.asarray(s).item() for s in inputs], dtype=self.dtype)]

    def grad(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        if np.dtype(self.dtype).kind != "f":
            return [None] * len(inputs)
        from graphc.ops import subtensor
        return [subtensor.index(gz, (i,)) for i in range(len(inputs))]


def stack_scalars(scalars):
    dtype = np.result_type(*[s.dtype for s in scalars]).name
    return MakeVector(dtype)(*scalars)


def as_shape_vector(shape, context, length=None):
    """An int64 vector variable from a tuple of ints/scalars or a vector variable
    (of static length, or of ``length`` entries when it is given)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    if isinstance(shape, (tuple, list)):
        _refuse_float_entries(shape, context)
        parts = [basic.as_variable(s, dtype="int64" if basic.is_weak(s) else None)
                 for s in shape]
        for s in parts:
            _check_int_scalar(s, "a shape entry", context)
        return MakeVector("int64")(*parts) if parts else basic.constant(
            np.zeros(0, dtype="int64"))
    shape = basic.as_variable(shape)
    unknown = shape.ndim == 1 and shape.type.shape[0] is None and length is None
    if shape.ndim != 1 or np.dtype(shape.dtype).kind not in "iu" or unknown:
        raise GraphcTypeError(f"{context}: a shape must be an integer vector of known "
                              f"length (or give ndim=), got {shape.type}")
    return ew.cast(shape, "int64")


# --------------------------------------------------------------------- reshape
class Reshape(Op):
    """Reshape to a shape given as an int64 vector (one entry may be -1)."""

    __props__ = ("ndim",)
    view_map = {0: 0}

    def __init__(self, ndim):
        self.ndim = ndim

    def make_node(self, x, shape):
        x = basic.as_variable(x)
        static = static_value(shape)
        if static is None and shape.owner is not None and isinstance(shape.owner.op, MakeVector):
            static = [static_value(entry) for entry in shape.owner.inputs]   # some known
        if static is None:
            static = [None] * self.ndim
        static = [None if s is None or s < 0 else s for s in static]
        known_in = None if None in x.type.shape else int(np.prod(x.type.shape))
        if known_in is not None and None not in static and int(np.prod(static)) != known_in:
            raise ShapeError(f"Reshape: cannot reshape {x.type} (size {known_in}) to "
                             f"{tuple(static)}")
        if known_in is not None and static.count(None) == 1 and isinstance(
                static_value(shape), list) and -1 in static_value(shape):
            rest = int(np.prod([s for s in static if s is not None]))
            if rest and known_in % rest == 0:
                static[static.index(None)] = known_in // rest
        return Node(self, [x, shape], [TensorType(x.dtype, static)])

    def perform(self, node, inputs):
        x, shape = inputs
        shape = tuple(int(d) for d in shape)
        if len(shape) != self.ndim:
            raise ShapeError(f"Reshape: the shape {shape} has {len(shape)} entries, "
                             f"the graph expects {self.ndim}")
        try:
            return [x.reshape(shape)]
        except ValueError:
            raise ShapeError(f"Reshape: cannot reshape array of shape {x.shape} "
                             f"(size {x.size}) into shape {shape}") from None

    def grad(self, inputs, outputs, output_grads):
        x, shape = inputs
        return [reshape(output_grads[0], shape_list(x)), None]

    def infer_shape(self, node, input_shapes):
        shape = node.inputs[1]
        if shape.owner is None or not isinstance(shape.owner.op, MakeVector):
            return [(None,) * self.ndim]
        return [tuple(None if static_value(d) == -1 else d for d in shape.owner.inputs)]


def reshape(x, shape, ndim=None):
    """``x`` with the given shape: ints and int scalars, or an int vector; ``ndim``
    (Theano's) is needed when that vector's length is known only when called."""
    x = basic.as_variable(x)
    vector = as_shape_vector(shape, "reshape", length=ndim)
    ndim = vector.type.shape[0] if ndim is None else ndim
    if vector.type.shape[0] not in (None, ndim):
        raise GraphcTypeError(f"reshape: ndim={ndim} but the shape has "
                              f"{vector.type.shape[0]} entries")
    static = static_value(vector)
    if static is not None and static == list(x.type.shape):
        return x
    return Reshape(ndim)(x, vector)


def flatten(x, ndim=1, outdim=None):
    """Keep the first ``ndim - 1`` axes and flatten the rest into the last.

    ``outdim`` is Theano's older name for ``ndim``.
    """
    x = basic.as_variable(x)
    if outdim is not None:
        ndim = outdim
    if not 1 <= ndim <= max(x.ndim, 1):
        raise GraphcValueError(f"flatten: ndim={ndim} out of range for {x.type}")
    shape = shape_list(x)
    # The product of the flattened axes, not -1: an empty batch, (0, 2, 3), has no
    # single length -1 could stand for, and flattens to (0, 6) all the same.
    return reshape(x, shape[:ndim - 1] + [product(shape[ndim - 1:])])


def product(dims):
    """The product of int64 scalars (lengths), its constant factors multiplied now:
    a product of static lengths is a constant, and a reshape to it keeps a static type."""
    known = [static_value(d) for d in dims]
    result = basic.constant(int(np.prod([k for k in known if k is not None], dtype=np.int64)),
                            "int64")
    for dim, value in zip(dims, known):
        if value is None:
            result = dim if static_value(result) == 1 else ew.mul(result, dim)
    return result


# ----------------------------------------------------------------------- alloc
class Alloc(Op):
    """A tensor of the given shape filled by broadcasting ``value``."""

    def make_node(self, value, *shape):
        value = basic.as_variable(value)
        _refuse_float_entries(shape, "alloc")
        shape = [basic.as_variable(s, dtype="int64" if basic.is_weak(s) else None) for s in shape]
        for s in shape:
            _check_int_scalar(s, "a shape entry", "alloc")
        if value.ndim > len(shape):
            raise GraphcTypeError(f"alloc: value of ndim {value.ndim} is larger than the "
                                  f"{len(shape)}-d shape")
        static = [static_value(s) for s in shape]
        return Node(self, [value] + shape, [TensorType(value.dtype, static)])

    def perform(self, node, inputs):
        value, *shape = inputs
        shape = tuple(int(s) for s in shape)
        try:
            return [np.array(np.broadcast_to(value, shape))]
        except ValueError:
            raise ShapeError(f"alloc: value of shape {np.shape(value)} cannot fill "
                             f"shape {shape}") from None

    def grad(self, inputs, outputs, output_grads):
        value = inputs[0]
        (gz,) = output_grads
        lead = gz.ndim - value.ndim
        if lead:
            gz = reduction.sum(gz, axis=list(range(lead)))
        return [reduction.sum_to_shape_of(gz, value)] + [None] * (len(inputs) - 1)

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]


def alloc(value, *shape):
    return Alloc()(value, *shape)


# ------------------------------------------------------------------------ join
class Join(Op):
    """Concatenate tensors of equal ndim along ``axis``."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, *tensors):
        tensors = basic.as_operands(*tensors)
        if not tensors:
            raise GraphcValueError("join needs at least one tensor")
        ndims = {t.ndim for t in tensors}
        if len(ndims) != 1:
            raise GraphcTypeError(f"join: tensors of different ndim {sorted(ndims)}")
        ndim = ndims.pop()
        if not 0 <= self.axis < ndim:
            raise GraphcValueError(f"join: axis {self.axis} out of range for ndim {ndim}")
        dtype = np.result_type(*[t.dtype for t in tensors]).name
        tensors = [ew.cast(t, dtype) for t in tensors]
        shape = []
        for i in range(ndim):
            dims = [t.type.shape[i] for t in tensors]
            if i == self.axis:
                shape.append(None if None in dims else sum(dims))
                continue
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ShapeError(f"join along axis {self.axis}: shapes "
                                 f"{[t.type.shape for t in tensors]} differ on axis {i}")
            shape.append(known.pop() if known else None)
        return Node(self, tensors, [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        try:
            return [np.concatenate(inputs, axis=self.axis)]
        except ValueError:
            raise ShapeError(f"join along axis {self.axis}: shapes "
                             f"{[x.shape for x in inputs]} do not fit") from None

    def grad(self, inputs, outputs, output_grads):
        from graphc.ops import subtensor
        (gz,) = output_grads
        grads, start = [], basic.constant(0, "int64")
        for x in inputs:
            stop = ew.add(start, shape_list(x)[self.axis])
            index = [slice(None)] * self.axis + [slice(start, stop)]
            grads.append(subtensor.index(gz, tuple(index)))
            start = stop
        return grads


def join(axis, *tensors):
    tensors = basic.as_operands(*tensors)
    ndim = tensors[0].ndim
    axis = basic.axis_index(axis, ndim, "join") if ndim else axis
    if len(tensors) == 1:
        return tensors[0]      # its axis checked all the same, as NumPy does
    return Join(axis)(*tensors)


def stack(tensors, *more, axis=0):
    """Join ``tensors`` along a new axis ``axis``; Theano's older ``stack(a, b, c)``
    (the tensors as separate arguments) works too."""
    if more or not isinstance(tensors, (list, tuple)):
        tensors = [tensors, *more]
    tensors = basic.as_operands(*tensors)
    ndim = tensors[0].ndim + 1
    axis = basic.axis_index(axis, ndim, "stack")
    expanded = [dimshuffle(t, list(range(axis)) + ["x"] + list(range(axis, t.ndim)))
                for t in tensors]
    return join(axis, *expanded)


# ---------------------------------------------------------------------- arange
class ARange(Op):
    """``np.arange(start, stop, step)`` with scalar inputs."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def make_node(self, start, stop, step):
        args = [basic.as_variable(a) for a in (start, stop, step)]
        if any(a.ndim != 0 for a in args):
            raise GraphcTypeError("arange takes scalars")
        values = [static_value(a) for a in args]
        if values[2] == 0:
            raise GraphcValueError("arange: step is 0")
        length = None
        if None not in values:
            length = len(np.arange(*values))
        return Node(self, args, [TensorType(self.dtype, (length,))])

    def perform(self, node, inputs):
        start, stop, step = (np.asarray(a).item() for a in inputs)
        if step == 0:
            raise GraphcValueError("arange: step is 0")
        return [np.arange(start, stop, step, dtype=self.dtype)]

    def grad(self, inputs, outputs, output_grads):
        return [None, None, None]


def arange(start, stop=None, step=1, dtype=None):
    """``np.arange`` of scalars; with Python numbers only, floats give
    ``config.floatX`` (Theano's rule) and ints int64."""
    if stop is None:
        start, stop = 0, start
    args = basic.as_operands(start, stop, step)
    weak = [v for v in (start, stop, step) if basic.is_weak(v)]
    if dtype is None and len(weak) == 3:
        dtype = config.floatX if any(isinstance(v, float) for v in weak) else "int64"
    if dtype is None:
        dtype = np.result_type(*[a.dtype for a in args]).name
    return ARange(np.dtype(dtype).name)(*args)


# ------------------------------------------------------------------ tile, repeat
class Tile(Op):
    """``np.tile`` with static repetitions."""

    __props__ = ("reps",)

    def __init__(self, reps):
        self.reps = tuple(int(r) for r in reps)

    def make_node(self, x):
        x = basic.as_variable(x)
        if len(self.reps) < x.ndim:
            reps = (1,) * (x.ndim - len(self.reps)) + self.reps
        else:
            reps = self.reps
        shape = (1,) * (len(reps) - x.ndim) + x.type.shape
        out = [None if s is None else s * r for s, r in zip(shape, reps)]
        return Node(self, [x], [TensorType(x.dtype, out)])

    def perform(self, node, inputs):
        return [np.tile(inputs[0], self.reps)]

    def grad(self, inputs, outputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        ndim = gz.ndim
        reps = (1,) * (ndim - len(self.reps)) + self.reps
        dims = [basic.constant(1, "int64")] * (ndim - x.ndim) + shape_list(x)
        # Split each axis into (repetition, original) and sum the repetitions.
        split = []
        for r, d in zip(reps, dims):
            split += [basic.constant(r, "int64"), d]
        g = reduction.sum(reshape(gz, split), axis=list(range(0, 2 * ndim, 2)))
        return [reshape(g, shape_list(x))]


class Repeat(Op):
    """``np.repeat(x, repeats, axis)`` with a static integer ``repeats``."""

    __props__ = ("repeats", "axis")

    def __init__(self, repeats, axis):
        self.repeats = int(repeats)
        self.axis = axis

    def make_node(self, x):
        x = basic.as_variable(x)
        shape = list(x.type.shape)
        if shape[self.axis] is not None:
            shape[self.axis] *= self.repeats
        return Node(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        return [np.repeat(inputs[0], self.repeats, axis=self.axis)]

    def grad(self, inputs, outputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        dims = shape_list(x)
        split = dims[:self.axis + 1] + [basic.constant(self.repeats, "int64")] + dims[self.axis + 1:]
        return [reduction.sum(reshape(gz, split), axis=[self.axis + 1])]


class RepeatIndex(Op):
    """``np.repeat(arange(n), counts)``: the positions ``np.repeat`` with one count per
    element reads, for ``n`` elements (a single count serves them all)."""

    def make_node(self, counts, n):
        return Node(self, [counts, n], [TensorType("int64", (None,))])

    def perform(self, node, inputs):
        counts, n = inputs
        n = int(n)
        if counts.shape[0] not in (1, n):
            raise ShapeError(f"repeat: {counts.shape[0]} counts for {n} elements")
        if counts.size and counts.min() < 0:
            raise GraphcValueError(f"repeat: negative count {counts.min()}")
        return [np.repeat(np.arange(n, dtype="int64"), np.broadcast_to(counts, (n,)))]

    def grad(self, inputs, outputs, output_grads):
        return [None, None]


def _count(value, context):
    """A repetition count as an int64 scalar variable."""
    value = basic.as_variable(value, dtype="int64" if basic.is_weak(value) else None)
    _check_int_scalar(value, "a repetition count", context)
    return ew.cast(value, "int64")


def tile(x, reps):
    """``np.tile``: ``reps`` an int, or a sequence (or vector of static length) of ints
    or int scalars; symbolic counts broadcast ``x`` and merge axes."""
    x = basic.as_variable(x)
    if isinstance(reps, (int, np.integer)) or (hasattr(reps, "ndim") and reps.ndim == 0):
        reps = [reps]
    reps = list(reps)
    if all(isinstance(r, (int, np.integer)) for r in reps):
        return Tile(reps)(x)
    # x (n0, n1) -> (1, n0, 1, n1) broadcast to (r0, n0, r1, n1) -> (r0 n0, r1 n1)
    rank = max(len(reps), x.ndim)
    reps = [_count(r, "tile") for r in [1] * (rank - len(reps)) + reps]
    x = dimshuffle(x, ["x"] * (rank - x.ndim) + list(range(x.ndim)))
    dims = shape_list(x)
    spread = dimshuffle(x, [p for axis in range(rank) for p in ("x", axis)])
    big = alloc(spread, *[d for pair in zip(reps, dims) for d in pair])
    return reshape(big, [ew.mul(r, d) for r, d in zip(reps, dims)])


def repeat(x, repeats, axis=None):
    """``np.repeat``: ``repeats`` one count (an int or an int scalar) or one count per
    element along ``axis`` (a vector of ints, symbolic or not).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.repeat(x, [1, 0, 2]), backend="python")([1.0, 2.0, 3.0])
    array([1., 3., 3.])
    """
    x = basic.as_variable(x)
    if axis is None:
        x, axis = flatten(x), 0
    axis %= x.ndim
    if isinstance(repeats, (int, np.integer)):
        return Repeat(repeats, axis)(x)
    if not isinstance(repeats, Variable):
        repeats = basic.as_variable(np.asarray(repeats))
    if repeats.ndim == 1:
        # One count per element: gather with the positions they repeat.
        if np.dtype(repeats.dtype).kind not in "iu":
            raise GraphcTypeError(f"repeat: counts must be integers, got {repeats.type}")
        from graphc.ops import subtensor
        where = RepeatIndex()(repeats, shape_list(x)[axis])
        return subtensor.index(x, (slice(None),) * axis + (where,))
    if repeats.ndim != 0:
        raise GraphcTypeError("repeat: repeats must be a count or a vector of counts, "
                              f"got {repeats.type}")
    count = _count(repeats, "repeat")
    # x (.., n, ..) -> (.., n, 1, ..) broadcast to (.., n, r, ..) -> (.., n r, ..)
    dims = shape_list(x)
    spread = dimshuffle(x, list(range(axis + 1)) + ["x"] + list(range(axis + 1, x.ndim)))
    big = alloc(spread, *dims[:axis + 1], count, *dims[axis + 1:])
    return reshape(big, dims[:axis] + [ew.mul(dims[axis], count)] + dims[axis + 1:])
