"""Reductions: sum, prod, max, min, all, any, argmax/argmin, mean, var, std.

:class:`Reduce` removes the reduced axes; ``keepdims`` is a dimshuffle added by
the builders, so a backend sees a single form. :class:`SumToShapeOf` sums a
gradient back over the axes an input was broadcast along (decided at call time
where the static shape does not tell).

The builders are named as NumPy's (``sum``, ``max``, ``any``...) and so shadow
the builtins in this module: code here calls ``builtins.any`` explicitly.
"""
import builtins

import numpy as np

from graphc.config import config
from graphc.errors import GraphcTypeError, GraphcValueError, ShapeError
from graphc.graph import Node, Op, TensorType
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import shape as shape_ops


def accumulate_dtype(dtype):
    """NumPy's dtype for sum/prod: small integers and booleans accumulate in 64 bits."""
    kind = np.dtype(dtype).kind
    if kind in "ib":
        return "int64"
    if kind == "u":
        return "uint64"
    return np.dtype(dtype).name


# kind -> (NumPy function, output dtype rule, identity element or None).
REDUCTIONS = {
    "sum": (np.sum, accumulate_dtype, 0),
    "prod": (np.prod, accumulate_dtype, 1),
    "max": (np.max, lambda d: d, None),
    "min": (np.min, lambda d: d, None),
    "all": (np.all, lambda d: "bool", True),
    "any": (np.any, lambda d: "bool", False),
}


def normalize_axis(axis, ndim, context):
    """A sorted tuple of non-negative axes; ``None`` means all of them."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise GraphcValueError(f"{context}: axis {a} is out of range for ndim {ndim}")
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise GraphcValueError(f"{context}: repeated axis in {axis}")
    return tuple(sorted(result))


class Reduce(Op):
    """Reduce over ``axis`` (a sorted tuple) with ``kind`` from :data:`REDUCTIONS`."""

    __props__ = ("kind", "axis")

    def __init__(self, kind, axis):
        self.kind = kind
        self.axis = tuple(axis)

    def __str__(self):
        return f"{self.kind}{{{','.join(map(str, self.axis))}}}"

    def make_node(self, x):
        x = basic.as_variable(x)
        if builtins.any(a >= x.ndim for a in self.axis):
            raise GraphcValueError(f"{self}: axis out of range for {x.type}")
        dtype = REDUCTIONS[self.kind][1](x.dtype)
        if self.kind in ("max", "min"):
            for a in self.axis:
                if x.type.shape[a] == 0:
                    raise ShapeError(f"{self.kind} over axis {a} of {x.type}: the axis is "
                                     "empty and the reduction has no identity")
        shape = [s for i, s in enumerate(x.type.shape) if i not in self.axis]
        return Node(self, [x], [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        fn, _, identity = REDUCTIONS[self.kind]
        if identity is None and builtins.any(x.shape[a] == 0 for a in self.axis):
            raise ShapeError(f"{self.kind} over axis {self.axis} of an array of shape "
                             f"{x.shape}: an empty axis has no {self.kind}")
        dtype = node.outputs[0].dtype
        with np.errstate(all="ignore"):
            result = fn(x, axis=self.axis, **({"dtype": dtype} if identity is not None
                                               and self.kind in ("sum", "prod") else {}))
        return [np.asarray(result, dtype=dtype)]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(d for i, d in enumerate(shape) if i not in self.axis)]

    def grad(self, inputs, outputs, output_grads):
        (x,), (z,), (gz,) = inputs, outputs, output_grads
        if np.dtype(x.dtype).kind != "f" or gz is None:
            return [None]
        gz_full = _expand_back(gz, x, self.axis)
        if self.kind == "sum":
            return [gz_full]
        if self.kind in ("max", "min"):
            # Every element equal to the extreme gets the gradient (Theano's rule).
            hit = ew.cast(ew.eq(x, _expand_back(z, x, self.axis)), gz.dtype)
            return [ew.mul(gz_full, hit)]
        if self.kind == "prod":
            return [_prod_grad(x, z, gz_full, self.axis)]
        return [None]


def _expand_back(value, x, axis):
    """Broadcast a reduced ``value`` back to the shape of ``x``."""
    restored = shape_ops.restore_axes(value, x.ndim, axis)
    return shape_ops.alloc(restored, *shape_ops.shape_list(x))


def _prod_grad(x, z, gz_full, axis):
    # d prod / d x_i is the product of the others. With no zero that is z / x_i; with
    # one zero it is the product of the non-zeros at the zero and 0 elsewhere; with
    # two or more zeros it is 0 everywhere.
    is_zero = ew.eq(x, 0)
    zeros = sum(ew.cast(is_zero, "int64"), axis=axis)
    nonzero_prod = reduce("prod", ew.switch(is_zero, 1, x), axis)
    zeros_full = _expand_back(zeros, x, axis)
    nz_full = _expand_back(nonzero_prod, x, axis)
    z_full = _expand_back(z, x, axis)
    no_zero = ew.true_div(z_full, ew.switch(is_zero, 1, x))
    one_zero = ew.switch(is_zero, nz_full, 0)
    local = ew.switch(ew.eq(zeros_full, 0), no_zero,
                      ew.switch(ew.eq(zeros_full, 1), one_zero, 0))
    return ew.mul(gz_full, local)


def reduce(kind, x, axis=None, keepdims=False):
    """Build a reduction with NumPy's ``axis``/``keepdims`` meaning."""
    x = basic.as_variable(x)
    axes = normalize_axis(axis, x.ndim, kind)
    result = Reduce(kind, axes)(x) if axes else x
    if not axes and kind in ("sum", "prod"):
        result = ew.cast(x, accumulate_dtype(x.dtype))
    if not axes and kind in ("all", "any"):
        result = ew.neq(x, 0)
    if keepdims:
        result = shape_ops.restore_axes(result, x.ndim, axes)
    return result


def _accumulated(x, dtype, acc_dtype):
    """``x`` cast to the dtype a sum or product accumulates in: Theano's ``acc_dtype``,
    else NumPy's ``dtype`` (which also names the result's)."""
    x = basic.as_variable(x)
    work = acc_dtype if acc_dtype is not None else dtype
    return x if work is None else ew.cast(x, work)


def _as_dtype(result, dtype):
    return result if dtype is None else ew.cast(result, dtype)


def sum(x, axis=None, keepdims=False, dtype=None, acc_dtype=None):
    result = reduce("sum", _accumulated(x, dtype, acc_dtype), axis, keepdims)
    return _as_dtype(result, dtype)


def prod(x, axis=None, keepdims=False, dtype=None, acc_dtype=None):
    result = reduce("prod", _accumulated(x, dtype, acc_dtype), axis, keepdims)
    return _as_dtype(result, dtype)


def max(x, axis=None, keepdims=False):
    return reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return reduce("min", x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    return reduce("all", x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    return reduce("any", x, axis, keepdims)


def count(x, axis):
    """The number of elements reduced over ``axis``, as a scalar of x's float dtype."""
    axes = normalize_axis(axis, x.ndim, "mean")
    dims = shape_ops.shape_list(x)
    n = basic.constant(1, "int64")
    for a in axes:
        n = ew.mul(n, dims[a])
    return n


def mean(x, axis=None, keepdims=False, dtype=None, acc_dtype=None):
    """The mean over ``axis``; ``dtype`` (NumPy's, Theano's) is the result's dtype and,
    unless ``acc_dtype`` says otherwise, the one it is computed in:
    ``T.mean(T.eq(pred, y), dtype=floatX)`` is an accuracy. Without either, the mean
    of integers or booleans is ``config.floatX`` (as ``/`` on integers), summed in
    float64 as NumPy does, so that large integers are not rounded one by one."""
    x = basic.as_variable(x)
    if dtype is None and acc_dtype is None and np.dtype(x.dtype).kind in "iub":
        return _as_dtype(mean(x, axis, keepdims, acc_dtype="float64"), config.floatX)
    x = ew.as_float(_accumulated(x, dtype, acc_dtype))
    total = sum(x, axis, keepdims)
    return _as_dtype(ew.true_div(total, ew.cast(count(x, axis), x.dtype)), dtype)


def var(x, axis=None, keepdims=False, ddof=0, corrected=False):
    """The variance over ``axis``, with ``ddof`` as NumPy's. Theano's ``corrected``
    chose its two-pass algorithm, which this one is already: it is accepted.
    Integers are centred in float64 (as ``mean`` sums them), then give floatX:
    cast to float32 first, 1e8 + k all became one value and their variance 0."""
    x = basic.as_variable(x)
    if np.dtype(x.dtype).kind in "iub":
        return _as_dtype(var(ew.cast(x, "float64"), axis, keepdims, ddof), config.floatX)
    x = ew.as_float(x)
    centered = ew.sub(x, mean(x, axis, keepdims=True))
    n = count(x, axis)
    if ddof:
        n = ew.sub(n, ddof)
    return ew.true_div(sum(ew.sqr(centered), axis, keepdims), ew.cast(n, x.dtype))


def std(x, axis=None, keepdims=False, ddof=0, corrected=False):
    return ew.sqrt(var(x, axis, keepdims, ddof))


# -------------------------------------------------------------------- arg ops
class ArgReduce(Op):
    """Index of the max (``kind="argmax"``) or min along one axis, as int64."""

    __props__ = ("kind", "axis")

    def __init__(self, kind, axis):
        self.kind = kind
        self.axis = axis

    def make_node(self, x):
        x = basic.as_variable(x)
        if x.type.shape[self.axis] == 0:
            raise ShapeError(f"{self.kind} over the empty axis {self.axis} of {x.type}")
        shape = [s for i, s in enumerate(x.type.shape) if i != self.axis]
        return Node(self, [x], [TensorType("int64", shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        if x.shape[self.axis] == 0:
            raise ShapeError(f"{self.kind} over the empty axis {self.axis} of shape {x.shape}")
        fn = np.argmax if self.kind == "argmax" else np.argmin
        return [np.asarray(fn(x, axis=self.axis), dtype="int64")]

    def grad(self, inputs, outputs, output_grads):
        return [None]


def _arg(kind, x, axis, keepdims):
    x = basic.as_variable(x)
    if axis is None:
        flat = shape_ops.flatten(x) if x.ndim != 1 else x
        result = ArgReduce(kind, 0)(flat)
        if keepdims:
            result = shape_ops.dimshuffle(result, ["x"] * x.ndim)
        return result
    if not isinstance(axis, (int, np.integer, tuple, list)):
        raise GraphcTypeError(f"{kind}: axis must be an int, a tuple of ints or None, got "
                              f"{axis!r}")
    axes = normalize_axis(axis, x.ndim, kind)
    if len(axes) != 1:
        return _arg_over_axes(kind, x, axes, keepdims)
    (a,) = axes
    result = ArgReduce(kind, a)(x)
    if keepdims:
        pattern = list(range(a)) + ["x"] + list(range(a, x.ndim - 1))
        result = shape_ops.dimshuffle(result, pattern)
    return result


def _arg_over_axes(kind, x, axes, keepdims):
    """Theano's argmax over several axes: the index into those axes flattened (in
    their order), found by moving them last and merging them into one."""
    if len(axes) == x.ndim:
        return _arg(kind, x, None, keepdims)
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = shape_ops.dimshuffle(x, kept + list(axes))
    dims = shape_ops.shape_list(x)
    merged = shape_ops.reshape(moved, [dims[i] for i in kept] + [-1])
    result = ArgReduce(kind, len(kept))(merged)
    return shape_ops.restore_axes(result, x.ndim, axes) if keepdims else result


def argmax(x, axis=None, keepdims=False):
    return _arg("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _arg("argmin", x, axis, keepdims)


# ---------------------------------------------------------- gradient helper
class SumToShapeOf(Op):
    """Sum ``g`` over the axes where the target ``shape`` has length 1 and ``g`` does not.

    Gradients of broadcasting ops need it when a static shape does not tell
    whether an input was broadcast; it is a no-op when shapes agree. The target
    shape comes as int64 scalars, so the broadcast input itself need not be kept.
    When nothing is summed the output is ``g`` itself, hence the view_map.
    """

    view_map = {0: 0}

    def make_node(self, g, *shape):
        if g.ndim != len(shape):
            raise GraphcTypeError("SumToShapeOf: ndims differ")
        static = [shape_ops.static_value(d) for d in shape]
        return Node(self, [g] + list(shape), [TensorType(g.dtype, static)])

    def perform(self, node, inputs):
        g, *shape = inputs
        shape = tuple(int(d) for d in shape)
        axes = tuple(i for i, (a, b) in enumerate(zip(g.shape, shape)) if b == 1 and a != 1)
        if axes:
            g = np.sum(g, axis=axes, keepdims=True)
        if g.shape != shape:
            raise ShapeError(f"gradient of shape {g.shape} does not fit {shape}")
        return [g]

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def grad(self, inputs, outputs, output_grads):
        g = inputs[0]
        return [shape_ops.alloc(output_grads[0], *shape_ops.shape_list(g))] + \
            [None] * (len(inputs) - 1)


def sum_to_shape_of(g, x):
    """``g`` summed over the axes along which ``x`` was broadcast to ``g``'s shape."""
    lead = g.ndim - x.ndim
    if lead:
        g = sum(g, axis=list(range(lead)))
    axes, unknown = [], False
    for i, (gs, xs) in enumerate(zip(g.type.shape, x.type.shape)):
        if xs == 1 and gs != 1:
            axes.append(i)
        elif xs is None and gs != 1:
            unknown = True
    if axes:
        g = sum(g, axis=axes, keepdims=True)
    if unknown:
        g = SumToShapeOf()(g, *shape_ops.shape_list(x))
    return g
