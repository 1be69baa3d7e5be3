"""Theano's extra tensor operations: cumulative sums and products, sorting, diagonals,
triangles, rolls, stacking spellings, ``bincount``, ``unique``, and the identity ops
that check or loosen a static shape.

Only what has no natural composition is a new op here:

- :class:`CumOp` (``cumsum``/``cumprod``, forwards or from the end),
- :class:`ArgSort` and :class:`Permute` (``sort`` is ``permute(x, argsort(x))``, so its
  gradient is the inverse permutation of the output gradient),
- :class:`Diagonal` and :class:`SetDiagonal` (each is the other's gradient; ``diag``,
  ``trace`` and ``fill_diagonal`` are built from them),
- :class:`BinCount`, :class:`Unique`, :class:`SpecifyShape`, :class:`Unbroadcast`,
- :class:`Print` (an identity that prints the value at every run).

``diff``, ``tril``/``triu``, ``roll``, ``horizontal_stack``/``vertical_stack`` and
``stacklists`` are compositions of slices, joins and elementwise ops, and take their
gradients from those.
"""
import numpy as np

from graphc.errors import GraphcTypeError, GraphcValueError, ShapeError
from graphc.graph import Node, Op, TensorType, Variable
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import reduction
from graphc.ops import shape as shape_ops
from graphc.ops import subtensor


def _one_axis(axis, ndim, context):
    """``axis`` (an int, negative counting from the end) as a non-negative int."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise GraphcTypeError(f"{context}: axis must be an int or None, got {axis!r}")
    (axis,) = reduction.normalize_axis(axis, ndim, context)
    return axis


def _flat_or_axis(x, axis, context):
    """``(x, axis)`` with NumPy's ``axis=None``: the flattened tensor, along axis 0."""
    x = basic.as_variable(x)
    if axis is None:
        return (x if x.ndim == 1 else shape_ops.flatten(x)), 0
    return x, _one_axis(axis, x.ndim, context)


def _int_scalar(value, context, what):
    """An int64 scalar variable from an int or an integer scalar variable."""
    value = basic.as_variable(value, dtype="int64" if basic.is_weak(value) else None)
    if value.ndim != 0 or np.dtype(value.dtype).kind not in "iu":
        raise GraphcTypeError(f"{context}: {what} must be an integer scalar, got {value.type}")
    return ew.cast(value, "int64")


def _is_float(var):
    return np.dtype(var.dtype).kind == "f"


# ------------------------------------------------------------ cumulative ops
class CumOp(Op):
    """Cumulative sum (``mode="add"``) or product (``"mul"``) along ``axis``.

    ``reverse`` accumulates from the end of the axis: the gradient of a cumulative sum
    is the reversed cumulative sum of the output gradient, and one op with this flag
    spares the graph two reversed copies. Small integers and booleans accumulate in 64
    bits as NumPy's; floats accumulate in float64 (a float32 result is rounded once).
    """

    __props__ = ("mode", "axis", "reverse")

    def __init__(self, mode, axis, reverse=False):
        if mode not in ("add", "mul"):
            raise GraphcValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.mode = mode
        self.axis = axis
        self.reverse = bool(reverse)

    def __str__(self):
        name = {"add": "CumSum", "mul": "CumProd"}[self.mode]
        return f"{name}{{{self.axis}{', reverse' if self.reverse else ''}}}"

    def make_node(self, x):
        x = basic.as_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise GraphcValueError(f"{self}: axis {self.axis} is out of range for {x.type}")
        dtype = reduction.accumulate_dtype(x.dtype)
        return Node(self, [x], [TensorType(dtype, x.type.shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        dtype = node.outputs[0].dtype
        work = "float64" if np.dtype(dtype).kind == "f" else dtype
        fn = np.cumsum if self.mode == "add" else np.cumprod
        if self.reverse:
            x = np.flip(x, self.axis)
        with np.errstate(all="ignore"):
            result = fn(x, axis=self.axis, dtype=work)
        if self.reverse:
            result = np.flip(result, self.axis)
        return [np.asarray(result, dtype=dtype)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        (x,), (y,), (gz,) = inputs, outputs, output_grads
        if not _is_float(x):
            return [None]
        backwards = CumOp("add", self.axis, not self.reverse)
        if self.mode == "add":
            return [backwards(gz)]
        # d y_j / d x_i = y_j / x_i for i <= j: Theano's rule, exact where x has no zero
        # (a zero gives 0/0 at that entry, as in Theano).
        return [ew.true_div(backwards(ew.mul(gz, y)), x)]


def cumsum(x, axis=None):
    """Cumulative sum along ``axis``; ``None`` (the default) flattens, as NumPy's.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dmatrix("x")
    >>> f = graphc.function([x], T.cumsum(x, axis=1), backend="python")
    >>> f(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    array([[ 1.,  3.,  6.],
           [ 4.,  9., 15.]])
    """
    x, axis = _flat_or_axis(x, axis, "cumsum")
    return CumOp("add", axis)(x)


def cumprod(x, axis=None):
    """Cumulative product along ``axis``; ``None`` (the default) flattens, as NumPy's.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.cumprod(x), backend="python")(np.array([1.0, 2.0, 3.0]))
    array([1., 2., 6.])
    """
    x, axis = _flat_or_axis(x, axis, "cumprod")
    return CumOp("mul", axis)(x)


def diff(x, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis`` (NumPy's and Theano's ``diff``).

    Built from slices: ``x[1:] - x[:-1]``, ``n`` times (``!=`` for booleans, as NumPy).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.extra_ops import diff
    >>> x = T.dvector("x")
    >>> graphc.function([x], diff(x), backend="python")(np.array([1.0, 4.0, 9.0, 16.0]))
    array([3., 5., 7.])
    """
    x = basic.as_variable(x)
    if x.ndim == 0:
        raise GraphcTypeError(f"diff: needs at least 1 dimension, got {x.type}")
    axis = _one_axis(axis, x.ndim, "diff")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise GraphcValueError(f"diff: order n must be a non-negative int, got {n!r}")
    before = (slice(None),) * axis
    for _ in range(n):
        head = subtensor.index(x, before + (slice(1, None),))
        tail = subtensor.index(x, before + (slice(None, -1),))
        x = ew.neq(head, tail) if x.dtype == "bool" else ew.sub(head, tail)
    return x


# ------------------------------------------------------------------ sorting
class ArgSort(Op):
    """The int64 indices that sort ``x`` along ``axis``, stably (NaNs last, as NumPy).

    Stable whatever ``kind`` the user asked for: both backends then agree on ties.
    """

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, x):
        x = basic.as_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise GraphcValueError(f"{self}: axis {self.axis} is out of range for {x.type}")
        return Node(self, [x], [TensorType("int64", x.type.shape)])

    def perform(self, node, inputs):
        return [np.argsort(inputs[0], axis=self.axis, kind="stable").astype("int64")]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        # Integer output, piecewise constant in x: no gradient flows (argmax's rule).
        return [None]


class Permute(Op):
    """``x`` reordered along ``axis`` by ``idx``, a permutation of that axis per position
    of the others (``idx`` has the shape of ``x``).

    ``out[..., i, ...] = x[..., idx[..., i, ...], ...]`` (``np.take_along_axis``); with
    ``inverse`` the scatter ``out[..., idx[..., i, ...], ...] = x[..., i, ...]``. Each
    is the other's gradient, so ``sort = permute(x, argsort(x))`` differentiates.
    """

    __props__ = ("axis", "inverse")

    def __init__(self, axis, inverse=False):
        self.axis = axis
        self.inverse = bool(inverse)

    def make_node(self, x, idx):
        x, idx = basic.as_variable(x), basic.as_variable(idx)
        if idx.ndim != x.ndim or np.dtype(idx.dtype).kind not in "iu":
            raise GraphcTypeError(f"{self}: idx must be an integer tensor of ndim {x.ndim}, "
                                  f"got {idx.type}")
        if not 0 <= self.axis < x.ndim:
            raise GraphcValueError(f"{self}: axis {self.axis} is out of range for {x.type}")
        shape = []
        for a, b in zip(x.type.shape, idx.type.shape):
            if a is not None and b is not None and a != b:
                raise ShapeError(f"{self}: x {x.type} and idx {idx.type} differ in shape")
            shape.append(a if a is not None else b)
        return Node(self, [x, idx], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        x, idx = inputs
        if x.shape != idx.shape:
            raise ShapeError(f"{self}: x of shape {x.shape} and idx of shape {idx.shape} "
                             "differ")
        if self.inverse:
            out = np.zeros_like(x)
            np.put_along_axis(out, idx, x, self.axis)
            return [out]
        return [np.take_along_axis(x, idx, self.axis)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        (x, idx), (gz,) = inputs, output_grads
        if not _is_float(x):
            return [None, None]
        return [Permute(self.axis, not self.inverse)(gz, idx), None]


def _sort_args(a, axis, kind, order, context):
    if order is not None:
        raise GraphcValueError(f"{context}: order= (structured arrays) is not supported")
    if kind not in ("quicksort", "mergesort", "heapsort", "stable", None):
        raise GraphcValueError(f"{context}: unknown kind {kind!r}")
    return _flat_or_axis(a, axis, context)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort ``a`` along ``axis`` (``None``: the flattened tensor).

    The sort is stable whatever ``kind`` says (ties keep their order, NaNs go last), so
    every backend gives the same indices. Integer-valued: no gradient flows through it.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.argsort(x), backend="python")(np.array([3.0, 1.0, 2.0]))
    array([1, 2, 0])
    """
    a, axis = _sort_args(a, axis, kind, order, "argsort")
    return ArgSort(axis)(a)


def sort(a, axis=-1, kind="quicksort", order=None):
    """``a`` sorted along ``axis`` (``None``: the flattened tensor), NaNs last.

    The gradient sends each output gradient back to the entry it was sorted from.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dmatrix("x")
    >>> f = graphc.function([x], T.sort(x, axis=0), backend="python")
    >>> f(np.array([[3.0, 0.0], [1.0, 2.0]]))
    array([[1., 0.],
           [3., 2.]])
    """
    a, axis = _sort_args(a, axis, kind, order, "sort")
    return Permute(axis)(a, ArgSort(axis)(a))


# ---------------------------------------------------------------- diagonals
def _diagonal_start(offset):
    """(first row, first column) of diagonal ``offset``."""
    return (-offset, 0) if offset < 0 else (0, offset)


def _diagonal_length(rows, cols, offset):
    row0, col0 = _diagonal_start(offset)
    return max(0, min(rows - row0, cols - col0))


class _DiagonalOp(Op):
    """Shared checks of the two diagonal ops: ``offset`` and two distinct axes."""

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset=0, axis1=0, axis2=1):
        self.offset = int(offset)
        self.axis1 = axis1
        self.axis2 = axis2

    def _check(self, x):
        if x.ndim < 2:
            raise GraphcTypeError(f"{self}: needs at least 2 dimensions, got {x.type}")
        axes = (self.axis1, self.axis2)
        if not all(0 <= a < x.ndim for a in axes) or self.axis1 == self.axis2:
            raise GraphcValueError(f"{self}: axes {axes} are not two distinct axes of "
                                   f"{x.type}")

    def others(self, ndim):
        """The axes kept in front of the diagonal, in order."""
        return [k for k in range(ndim) if k not in (self.axis1, self.axis2)]

    def diagonal_static(self, x_type):
        """The static shape of the diagonal of a tensor of type ``x_type``."""
        rows, cols = x_type.shape[self.axis1], x_type.shape[self.axis2]
        length = None if rows is None or cols is None else \
            _diagonal_length(rows, cols, self.offset)
        return tuple(x_type.shape[k] for k in self.others(len(x_type.shape))) + (length,)


class Diagonal(_DiagonalOp):
    """``np.diagonal(x, offset, axis1, axis2)``, as a fresh array (NumPy's is a view).

    The two axes are removed and the diagonal becomes the last axis.
    """

    def make_node(self, x):
        x = basic.as_variable(x)
        self._check(x)
        return Node(self, [x], [TensorType(x.dtype, self.diagonal_static(x.type))])

    def perform(self, node, inputs):
        return [np.diagonal(inputs[0], self.offset, self.axis1, self.axis2).copy()]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        rows, cols = shape[self.axis1], shape[self.axis2]
        row0, col0 = _diagonal_start(self.offset)
        length = ew.maximum(ew.minimum(ew.sub(rows, row0), ew.sub(cols, col0)), 0)
        return [tuple(shape[k] for k in self.others(len(shape))) + (length,)]

    def grad(self, inputs, outputs, output_grads):
        (x,), (gz,) = inputs, output_grads
        if not _is_float(x):
            return [None]
        return [SetDiagonal(self.offset, self.axis1, self.axis2)(ew.zeros_like(x), gz)]


class SetDiagonal(_DiagonalOp):
    """A copy of ``x`` whose diagonal (as :class:`Diagonal` reads it) is ``v``.

    ``v`` broadcasts to the diagonal's shape: a scalar fills the diagonal
    (``fill_diagonal``), a vector of its length sets it (``diag`` of a vector).
    """

    def make_node(self, x, v):
        x = basic.as_variable(x)
        self._check(x)
        v = basic.as_operands(x, v)[1]
        if v.dtype != x.dtype:
            if not np.can_cast(v.dtype, x.dtype, "same_kind"):
                raise GraphcTypeError(f"{self}: cannot write {v.dtype} values into a "
                                      f"{x.dtype} tensor")
            v = ew.cast(v, x.dtype)
        target = self.diagonal_static(x.type)
        if v.ndim > len(target):
            raise GraphcTypeError(f"{self}: the value {v.type} has more dimensions than "
                                  f"the diagonal {target}")
        for have, want in zip(reversed(v.type.shape), reversed(target)):
            if have not in (None, 1) and want is not None and have != want:
                raise ShapeError(f"{self}: a value of shape {v.type.shape} does not fit the "
                                 f"diagonal of shape {target}")
        return Node(self, [x, v], [x.type])

    def perform(self, node, inputs):
        x, v = inputs
        out = np.array(x, copy=True)
        # A writable view with the two axes last: its [..., i, j] is out's diagonal.
        work = np.moveaxis(out, (self.axis1, self.axis2), (-2, -1))
        rows, cols = work.shape[-2:]
        length = _diagonal_length(rows, cols, self.offset)
        row0, col0 = _diagonal_start(self.offset)
        steps = np.arange(length)
        try:
            values = np.broadcast_to(v, work.shape[:-2] + (length,))
        except ValueError:
            raise ShapeError(f"{self}: a value of shape {np.shape(v)} does not fit the "
                             f"diagonal of shape {work.shape[:-2] + (length,)}") from None
        work[..., row0 + steps, col0 + steps] = values
        return [out]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        (x, v), (gz,) = inputs, output_grads
        if not _is_float(x):
            return [None, None]
        gx = SetDiagonal(self.offset, self.axis1, self.axis2)(gz, 0)
        gv = Diagonal(self.offset, self.axis1, self.axis2)(gz)
        return [gx, reduction.sum_to_shape_of(gv, v)]


def _diagonal_axes(x, axis1, axis2, context):
    x = basic.as_variable(x)
    if x.ndim < 2:
        raise GraphcTypeError(f"{context}: needs at least 2 dimensions, got {x.type}")
    axis1 = _one_axis(axis1, x.ndim, context)
    axis2 = _one_axis(axis2, x.ndim, context)
    if axis1 == axis2:
        raise GraphcValueError(f"{context}: axis1 and axis2 are the same axis {axis1}")
    return x, axis1, axis2


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal ``offset`` of ``x`` over ``axis1`` and ``axis2`` (``np.diagonal``):
    those axes are removed and the diagonal is the last axis of the result.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dmatrix("x")
    >>> f = graphc.function([x], T.diagonal(x, 1), backend="python")
    >>> f(np.arange(9.0).reshape(3, 3))
    array([1., 5.])
    """
    x, axis1, axis2 = _diagonal_axes(x, axis1, axis2, "diagonal")
    return Diagonal(offset, axis1, axis2)(x)


def _trace_diagonal(x, offset, axis1, axis2):
    x, axis1, axis2 = _diagonal_axes(x, axis1, axis2, "trace")
    return Diagonal(offset, axis1, axis2)(x)


def diag(v, k=0):
    """``np.diag``: a vector becomes the square matrix with it on diagonal ``k``; a
    matrix gives its diagonal ``k`` as a vector.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> v = T.dvector("v")
    >>> graphc.function([v], T.diag(v), backend="python")(np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    """
    v = basic.as_variable(v)
    if v.ndim == 2:
        return Diagonal(k, 0, 1)(v)
    if v.ndim != 1:
        raise GraphcTypeError(f"diag: expects a vector or a matrix, got {v.type}")
    length = v.type.shape[0]
    n = ew.add(shape_ops.shape_list(v)[0], abs(int(k))) if length is None else \
        length + abs(int(k))    # a Python int keeps the matrix's static shape
    zeros = shape_ops.alloc(basic.constant(0, dtype=v.dtype), n, n)
    return SetDiagonal(k, 0, 1)(zeros, v)


def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the diagonal ``offset`` of ``x`` (``np.trace``); a scalar for a matrix.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dmatrix("x")
    >>> float(graphc.function([x], T.trace(x), backend="python")(np.eye(3) * 2))
    6.0
    """
    return reduction.sum(_trace_diagonal(x, offset, axis1, axis2), axis=-1)


def fill_diagonal(a, val):
    """A copy of the matrix ``a`` with its main diagonal set to the scalar ``val``
    (Theano's ``fill_diagonal``; a tall matrix has ``min(rows, columns)`` entries on it).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.extra_ops import fill_diagonal
    >>> a = T.dmatrix("a")
    >>> graphc.function([a], fill_diagonal(a, 5.0), backend="python")(np.zeros((2, 3)))
    array([[5., 0., 0.],
           [0., 5., 0.]])
    """
    return fill_diagonal_offset(a, val, 0)


def fill_diagonal_offset(a, val, offset):
    """A copy of the matrix ``a`` with diagonal ``offset`` set to the scalar ``val``
    (Theano's; ``offset > 0`` is above the main diagonal).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.extra_ops import fill_diagonal_offset
    >>> a = T.dmatrix("a")
    >>> f = graphc.function([a], fill_diagonal_offset(a, 1.0, -1), backend="python")
    >>> f(np.zeros((3, 3)))
    array([[0., 0., 0.],
           [1., 0., 0.],
           [0., 1., 0.]])
    """
    a = basic.as_variable(a)
    if a.ndim != 2:
        raise GraphcTypeError(f"fill_diagonal: a must be a matrix, got {a.type}")
    val = basic.as_operands(a, val)[1]
    if val.ndim != 0:
        raise GraphcTypeError(f"fill_diagonal: val must be a scalar, got {val.type}")
    return SetDiagonal(offset, 0, 1)(a, val)


# ---------------------------------------------------------------- triangles
def _triangle(m, k, lower, context):
    m = basic.as_variable(m)
    if m.ndim < 2:
        raise GraphcTypeError(f"{context}: needs at least 2 dimensions, got {m.type}")
    dims = shape_ops.shape_list(m)
    rows = shape_ops.dimshuffle(shape_ops.arange(dims[-2], dtype="int64"), [0, "x"])
    cols = shape_ops.dimshuffle(shape_ops.arange(dims[-1], dtype="int64"), ["x", 0])
    shifted = ew.add(rows, _int_scalar(k, context, "k"))
    keep = ew.ge(shifted, cols) if lower else ew.le(shifted, cols)
    # A switch, not a product with a 0/1 mask: NaN and inf above the diagonal become
    # 0 as in NumPy, where the product would give NaN.
    return ew.switch(keep, m, basic.constant(0, dtype=m.dtype))


def tril(m, k=0):
    """The lower triangle of ``m``: entries above diagonal ``k`` become 0 (over the last
    two axes, as ``np.tril``).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> m = T.dmatrix("m")
    >>> graphc.function([m], T.tril(m), backend="python")(np.ones((2, 3)))
    array([[1., 0., 0.],
           [1., 1., 0.]])
    """
    return _triangle(m, k, True, "tril")


def triu(m, k=0):
    """The upper triangle of ``m``: entries below diagonal ``k`` become 0 (over the last
    two axes, as ``np.triu``).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> m = T.dmatrix("m")
    >>> graphc.function([m], T.triu(m, 1), backend="python")(np.ones((2, 3)))
    array([[0., 1., 1.],
           [0., 0., 1.]])
    """
    return _triangle(m, k, False, "triu")


# --------------------------------------------------------------------- roll
def roll(x, shift, axis=None):
    """``np.roll``: entries shifted by ``shift`` along ``axis``, those past the end coming
    back at the start; ``axis=None`` rolls the flattened tensor and restores the shape.
    ``shift`` is an int or an integer scalar; a tuple of axes takes a shift for each.

    Built from two slices and a join, so its gradient is the opposite roll.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.roll(x, 1), backend="python")(np.array([1.0, 2.0, 3.0]))
    array([3., 1., 2.])
    """
    x = basic.as_variable(x)
    if axis is None:
        if x.ndim == 1:
            return roll(x, shift, 0)
        return shape_ops.reshape(roll(shape_ops.flatten(x), shift, 0), shape_ops.shape_list(x))
    if isinstance(axis, (tuple, list)):
        shifts = shift if isinstance(shift, (tuple, list)) else [shift] * len(axis)
        if len(shifts) != len(axis):
            raise GraphcValueError(f"roll: {len(shifts)} shifts for {len(axis)} axes")
        for s, a in zip(shifts, axis):
            x = roll(x, s, a)
        return x
    axis = _one_axis(axis, x.ndim, "roll")
    length = x.type.shape[axis]
    before = (slice(None),) * axis
    if isinstance(shift, (int, np.integer)) and length is not None:
        cut = length - int(shift) % length if length else 0
        if cut in (0, length):
            return x
    else:
        n = shape_ops.shape_list(x)[axis]
        # mod has Python's sign rule: a shift of -1 is a shift of n - 1.
        cut = ew.sub(n, ew.mod(_int_scalar(shift, "roll", "shift"), n))
    head = subtensor.index(x, before + (slice(cut, None),))
    tail = subtensor.index(x, before + (slice(None, cut),))
    return shape_ops.join(axis, head, tail)


# ----------------------------------------------------------------- stacking
def _matrices(tensors, context):
    tensors = basic.as_operands(*tensors)
    if not tensors:
        raise GraphcValueError(f"{context}: needs at least one matrix")
    for t in tensors:
        if t.ndim != 2:
            raise GraphcTypeError(f"{context}: expects matrices, got {t.type}")
    return tensors


def horizontal_stack(*tensors):
    """Matrices side by side: ``concatenate(tensors, axis=1)`` (Theano's; unlike
    ``np.hstack`` it takes matrices only).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> a, b = T.dmatrices("a", "b")
    >>> f = graphc.function([a, b], T.horizontal_stack(a, b), backend="python")
    >>> f(np.zeros((2, 1)), np.ones((2, 2)))
    array([[0., 1., 1.],
           [0., 1., 1.]])
    """
    return shape_ops.join(1, *_matrices(tensors, "horizontal_stack"))


def vertical_stack(*tensors):
    """Matrices one above the other: ``concatenate(tensors, axis=0)`` (Theano's; unlike
    ``np.vstack`` it takes matrices only).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> a, b = T.dmatrices("a", "b")
    >>> f = graphc.function([a, b], T.vertical_stack(a, b), backend="python")
    >>> f(np.zeros((1, 2)), np.ones((1, 2)))
    array([[0., 0.],
           [1., 1.]])
    """
    return shape_ops.join(0, *_matrices(tensors, "vertical_stack"))


def stacklists(arg):
    """A tensor from nested Python lists of tensors or numbers, by stacking each level
    (Theano's ``stacklists``): ``[[a, b], [c, d]]`` of scalars is a 2 x 2 matrix.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> a, b, c, d = T.dscalars("a", "b", "c", "d")
    >>> f = graphc.function([a, b, c, d], T.stacklists([[a, b], [c, d]]),
    ...                     backend="python")
    >>> f(1.0, 2.0, 3.0, 4.0)
    array([[1., 2.],
           [3., 4.]])
    """
    if isinstance(arg, (tuple, list)):
        return shape_ops.stack([stacklists(item) for item in arg])
    return arg


# -------------------------------------------------------- bincount, unique
class BinCount(Op):
    """``np.bincount(x, weights, minlength)`` of a non-negative integer vector ``x``.

    Inputs: ``x``, ``minlength`` (an int64 scalar), then ``weights`` when ``weighted``.
    Counts are int64; weighted sums keep a float weights' dtype (Theano's rule; they
    accumulate in float64) and are int64 for integer weights.
    """

    __props__ = ("weighted",)

    def __init__(self, weighted):
        self.weighted = bool(weighted)

    def make_node(self, x, minlength, *weights):
        x = basic.as_variable(x)
        if x.ndim != 1 or np.dtype(x.dtype).kind not in "iub":
            raise GraphcTypeError(f"bincount: x must be an integer vector, got {x.type}")
        minlength = _int_scalar(minlength, "bincount", "minlength")
        if len(weights) != int(self.weighted):
            raise GraphcTypeError(f"{self}: expected {int(self.weighted)} weights input(s)")
        dtype = "int64"
        if weights:
            w = basic.as_variable(weights[0])
            if w.ndim != 1:
                raise GraphcTypeError(f"bincount: weights must be a vector, got {w.type}")
            if None not in (w.type.shape[0], x.type.shape[0]) and \
                    w.type.shape[0] != x.type.shape[0]:
                raise ShapeError(f"bincount: weights {w.type} and x {x.type} differ in "
                                 "length")
            dtype = w.dtype if _is_float(w) else "int64"
            weights = [w]
        return Node(self, [x, minlength, *weights], [TensorType(dtype, (None,))])

    def perform(self, node, inputs):
        x, minlength, *weights = inputs
        if x.size and x.min() < 0:
            raise GraphcValueError(f"bincount: x holds negative values (min {x.min()})")
        if minlength < 0:
            raise GraphcValueError(f"bincount: minlength is negative ({int(minlength)})")
        length = max(int(minlength), int(x.max()) + 1 if x.size else 0)
        dtype = node.outputs[0].dtype
        if not weights:
            return [np.bincount(x.astype("int64"), minlength=length).astype(dtype)]
        (w,) = weights
        if w.shape != x.shape:
            raise ShapeError(f"bincount: weights of shape {w.shape} and x of shape "
                             f"{x.shape} differ")
        out = np.zeros(length, dtype="float64" if _is_float(node.outputs[0]) else dtype)
        np.add.at(out, x.astype("int64"), w)
        return [out.astype(dtype)]

    def grad(self, inputs, outputs, output_grads):
        x, *_ = inputs
        if not self.weighted:
            return [None, None]
        # Each weight went to the bin of its x: its gradient is that bin's.
        return [None, None, subtensor.index(output_grads[0], ew.cast(x, "int64"))]


def bincount(x, weights=None, minlength=None, assert_nonneg=False):
    """The number of occurrences of each value of the non-negative integer vector ``x``
    (or the sum of ``weights`` at them), ``np.bincount``'s. The result has
    ``max(x) + 1`` entries, at least ``minlength``. Negative values raise at call time
    whatever ``assert_nonneg`` says (Theano's keyword, accepted).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.extra_ops import bincount
    >>> x = T.lvector("x")
    >>> graphc.function([x], bincount(x, minlength=5), backend="python")(np.array([1, 1, 3]))
    array([0, 2, 0, 1, 0])
    """
    minlength = 0 if minlength is None else minlength
    if weights is None:
        return BinCount(False)(x, minlength)
    return BinCount(True)(x, minlength, weights)


class Unique(Op):
    """The sorted unique values of a vector, and optionally the index of each one's
    first occurrence, the inverse (the index of each entry's value among them) and the
    counts, as int64 vectors (``np.unique``; NaNs count as one value)."""

    __props__ = ("return_index", "return_inverse", "return_counts")

    def __init__(self, return_index=False, return_inverse=False, return_counts=False):
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)

    def make_node(self, x):
        x = basic.as_variable(x)
        if x.ndim != 1:
            raise GraphcTypeError(f"{self}: expects a vector, got {x.type}")
        extra = self.return_index + self.return_inverse + self.return_counts
        types = [TensorType(x.dtype, (None,))] + [TensorType("int64", (None,))] * extra
        if self.return_inverse:
            types[1 + self.return_index] = TensorType("int64", x.type.shape)
        return Node(self, [x], types)

    def perform(self, node, inputs):
        results = np.unique(inputs[0], return_index=self.return_index,
                            return_inverse=self.return_inverse,
                            return_counts=self.return_counts)
        if not isinstance(results, tuple):
            results = (results,)
        return [np.asarray(r, dtype=v.dtype).reshape(-1)
                for r, v in zip(results, node.outputs)]


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """The sorted unique values of ``ar`` (flattened), with optionally the first index,
    the inverse and the counts, as ``np.unique`` with ``axis=None``. The inverse is a
    vector over the flattened ``ar`` (Theano's; NumPy 2 shapes it like ``ar``).

    Returns one variable, or a list when something else is asked for.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.extra_ops import unique
    >>> x = T.lvector("x")
    >>> graphc.function([x], unique(x), backend="python")(np.array([3, 1, 3, 2]))
    array([1, 2, 3])
    """
    if axis is not None:
        raise GraphcValueError("unique: only axis=None (the flattened tensor) is supported")
    ar = basic.as_variable(ar)
    if ar.ndim != 1:
        ar = shape_ops.flatten(ar)
    return Unique(return_index, return_inverse, return_counts)(ar)


# ------------------------------------------------------ shape identities
class SpecifyShape(Op):
    """``x`` itself, checked when called to have length ``dims[k]`` along ``axes[k]``.

    Inputs: ``x``, then one int64 scalar per checked axis. Constant lengths become the
    output's static shape, which later shape rules read.
    """

    __props__ = ("axes",)
    view_map = {0: 0}

    def __init__(self, axes):
        self.axes = tuple(axes)

    def make_node(self, x, *dims):
        x = basic.as_variable(x)
        if len(dims) != len(self.axes) or any(not 0 <= a < x.ndim for a in self.axes):
            raise GraphcTypeError(f"{self}: axes {self.axes} do not fit {x.type}")
        dims = [_int_scalar(d, "specify_shape", "a length") for d in dims]
        shape = list(x.type.shape)
        for axis, dim in zip(self.axes, dims):
            value = shape_ops.static_value(dim)
            if value is not None and shape[axis] is not None and value != shape[axis]:
                raise ShapeError(f"specify_shape: expected length {value} on axis {axis} "
                                 f"but {x.type} has {shape[axis]}")
            shape[axis] = value if value is not None else shape[axis]
        return Node(self, [x, *dims], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        x, *dims = inputs
        expected = [None] * x.ndim
        for axis, dim in zip(self.axes, dims):
            expected[axis] = int(dim)
        if any(e is not None and e != n for e, n in zip(expected, x.shape)):
            text = ", ".join("?" if e is None else str(e) for e in expected)
            raise ShapeError(f"specify_shape: expected shape ({text}{',' * (x.ndim == 1)}), "
                             f"got {x.shape}")
        return [x]

    def infer_shape(self, node, input_shapes):
        shape = list(input_shapes[0])
        for axis, dim in zip(self.axes, node.inputs[1:]):
            shape[axis] = dim
        return [tuple(shape)]

    def grad(self, inputs, outputs, output_grads):
        return [output_grads[0]] + [None] * len(self.axes)


def specify_shape(x, shape):
    """``x``, with its shape declared: a call with another shape raises a ShapeError
    naming both; the known lengths become static shape information.

    ``shape`` has one entry per axis: an int, an integer scalar, or ``None`` (not
    checked); or it is an integer vector of static length.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dmatrix("x")
    >>> y = T.specify_shape(x, (2, None))
    >>> y.type
    TensorType(float64, (2, ?))
    >>> graphc.function([x], y.sum(), backend="python")(np.ones((2, 3)))
    array(6.)
    """
    x = basic.as_variable(x)
    static = shape_ops.static_value(shape) if isinstance(shape, Variable) else None
    if isinstance(static, list):
        shape = static
    elif isinstance(shape, Variable):
        length = shape.type.shape[0] if shape.ndim == 1 else None
        if length is None or np.dtype(shape.dtype).kind not in "iu":
            raise GraphcTypeError(f"specify_shape: a shape must be an integer vector of "
                                  f"known length, got {shape.type}")
        shape = [subtensor.index(shape, i) for i in range(length)]
    shape = list(shape)
    if len(shape) != x.ndim:
        raise GraphcTypeError(f"specify_shape: {len(shape)} lengths for {x.type}")
    axes = [a for a, d in enumerate(shape) if d is not None]
    if not axes:
        return x
    return SpecifyShape(axes)(x, *[shape[a] for a in axes])


class Unbroadcast(Op):
    """``x`` itself, with the static length 1 of ``axes`` forgotten (Theano's
    ``Rebroadcast`` to non-broadcastable): those axes then broadcast as known only
    when called."""

    __props__ = ("axes",)
    view_map = {0: 0}

    def __init__(self, axes):
        self.axes = tuple(axes)

    def make_node(self, x):
        x = basic.as_variable(x)
        if any(not 0 <= a < x.ndim for a in self.axes):
            raise GraphcValueError(f"{self}: axes out of range for {x.type}")
        shape = [None if a in self.axes else s for a, s in enumerate(x.type.shape)]
        return Node(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        return [inputs[0]]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        # The gradient has x's type again: length 1 on those axes (checked when called).
        return [SpecifyShape(self.axes)(output_grads[0], *[1] * len(self.axes))]


def unbroadcast(x, *axes):
    """``x`` with ``axes`` no longer known to have length 1 (Theano's): the values are
    unchanged; axes that were not of static length 1 are left as they are.

    Examples
    --------
    >>> import graphc.tensor as T
    >>> row = T.tensor("float64", shape=(1, None))
    >>> T.unbroadcast(row, 0).broadcastable
    (False, False)
    """
    x = basic.as_variable(x)
    axes = [_one_axis(a, x.ndim, "unbroadcast") for a in axes]
    axes = sorted({a for a in axes if x.type.shape[a] == 1})
    if not axes:
        return x
    return Unbroadcast(axes)(x)


# ------------------------------------------------------ debugging identity
def _print_value(op, value):
    """Theano's output of :class:`Print`: ``message attr = value`` per attribute."""
    for attr in op.attrs:
        item = getattr(value, attr)
        print(op.message, attr, "=", item() if callable(item) else item)


class Print(Op):
    """``x`` itself; each run of the compiled function prints ``message`` and the
    attributes ``attrs`` of the value (Theano's ``theano.printing.Print``).

    ``global_fn(op, value)`` does the printing (Theano's hook). The op is never
    constant-folded; the rewrites drop it only where nothing reads its output. The
    gradient passes through unchanged and prints nothing.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.printing import Print
    >>> x = T.dvector("x")
    >>> f = graphc.function([x], Print("x is")(x) * 2, backend="python")
    >>> f(np.array([1.0, 2.0]))
    x is __str__ = [1. 2.]
    array([2., 4.])
    """

    __props__ = ("message", "attrs", "global_fn")

    def __init__(self, message="", attrs=("__str__",), global_fn=_print_value):
        if isinstance(attrs, str):
            attrs = (attrs,)
        if not all(isinstance(a, str) for a in attrs):
            raise GraphcTypeError(f"Print: attrs must be attribute names, got {attrs!r}")
        self.message = str(message)
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def __str__(self):
        return f"Print{{{self.message}}}"

    __repr__ = __str__

    def make_node(self, x):
        x = basic.as_variable(x)
        return Node(self, [x], [x.type])

    def perform(self, node, inputs):
        (x,) = inputs
        self.global_fn(self, x)
        # A copy, not the input itself: a fresh buffer that later in-place ops may reuse.
        return [np.array(x, copy=True)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        return [output_grads[0]]
