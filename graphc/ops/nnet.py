"""Neural-network ops that are stable by construction: softmax, log_softmax,
logsumexp and the softmax cross-entropy with integer labels.

Each has its own stable gradient rule; the stabilize pass rewrites the
hand-written forms (``log(softmax(x))``, ``log(sum(exp(x)))``,
``-log(softmax(x)[arange(n), y])``) into them.
"""
import numpy as np

from graphc.errors import GraphcTypeError, ShapeError
from graphc.graph import Node, Op, TensorType
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import reduction
from graphc.ops import shape as shape_ops


def _float_input(x, name):
    x = ew.as_float(basic.as_variable(x))
    if x.ndim == 0:
        raise GraphcTypeError(f"{name} needs at least one axis, got a scalar")
    return x


def _np_log_softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class Softmax(Op):
    """``exp(x) / sum(exp(x))`` along ``axis``, computed from ``x - max(x)``."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, x):
        x = _float_input(x, "softmax")
        return Node(self, [x], [x.type])

    def perform(self, node, inputs):
        (x,) = inputs
        if x.shape[self.axis] == 0:
            return [x.copy()]
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        return [(e / np.sum(e, axis=self.axis, keepdims=True)).astype(x.dtype)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        (sm,), (gz,) = outputs, output_grads
        inner = reduction.sum(ew.mul(gz, sm), axis=self.axis, keepdims=True)
        return [ew.mul(ew.sub(gz, inner), sm)]


class LogSoftmax(Op):
    """``x - logsumexp(x)`` along ``axis``: finite wherever ``x`` is."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, x):
        x = _float_input(x, "log_softmax")
        return Node(self, [x], [x.type])

    def perform(self, node, inputs):
        (x,) = inputs
        if x.shape[self.axis] == 0:
            return [x.copy()]
        return [_np_log_softmax(x, self.axis).astype(x.dtype)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        (x,), (z,), (gz,) = inputs, outputs, output_grads
        total = reduction.sum(gz, axis=self.axis, keepdims=True)
        return [ew.sub(gz, ew.mul(ew.exp(z), total))]


class LogSumExp(Op):
    """``log(sum(exp(x), axis))`` without overflow (axes removed)."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = tuple(axis)

    def __str__(self):
        return f"LogSumExp{{{','.join(map(str, self.axis))}}}"

    def make_node(self, x):
        x = _float_input(x, "logsumexp")
        shape = [s for i, s in enumerate(x.type.shape) if i not in self.axis]
        return Node(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs):
        (x,) = inputs
        with np.errstate(all="ignore"):
            m = np.max(x, axis=self.axis, keepdims=True) if x.size else np.zeros(
                [1 if i in self.axis else n for i, n in enumerate(x.shape)], x.dtype)
            m = np.where(np.isfinite(m), m, 0)
            out = np.log(np.sum(np.exp(x - m), axis=self.axis, keepdims=True)) + m
        return [np.squeeze(out, axis=self.axis).astype(x.dtype)]

    def grad(self, inputs, outputs, output_grads):
        (x,), (z,), (gz,) = inputs, outputs, output_grads
        z_full = shape_ops.restore_axes(z, x.ndim, self.axis)
        gz_full = shape_ops.restore_axes(gz, x.ndim, self.axis)
        return [ew.mul(gz_full, ew.exp(ew.sub(x, z_full)))]


class SoftmaxCrossentropy(Op):
    """Per-label ``-log_softmax(x)[i, y[i]]`` for 2-d logits and integer labels.

    What NumPy gives for ``-log_softmax(x)[arange(len(y)), y]``, which the stabilize
    rewrite replaces with this op: one value per label, from the first ``len(y)``
    rows; a negative label counts from the last class; more labels than rows, or a
    label outside ``[-classes, classes)``, is an error.
    """

    def make_node(self, x, y):
        x = _float_input(x, "softmax cross-entropy")
        y = basic.as_variable(y)
        if x.ndim != 2 or y.ndim != 1 or np.dtype(y.dtype).kind not in "iu":
            raise GraphcTypeError(f"softmax cross-entropy takes 2-d logits and integer "
                                  f"labels, got {x.type} and {y.type}")
        return Node(self, [x, y], [TensorType(x.dtype, y.type.shape)])

    def perform(self, node, inputs):
        x, y = inputs
        _check_labels(x, y)
        n = y.shape[0]
        logp = _np_log_softmax(x[:n], 1)
        return [(-logp[np.arange(n), y]).astype(x.dtype)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1][:1]]

    def grad(self, inputs, outputs, output_grads):
        (x, y), (gz,) = inputs, output_grads
        return [SoftmaxCrossentropyGrad()(gz, x, y), None]


class SoftmaxCrossentropyGrad(Op):
    """``gz[:, None] * (softmax(x) - onehot(y))`` on the first ``len(y)`` rows, zero on
    the rest: the stable gradient of the above."""

    def make_node(self, gz, x, y):
        return Node(self, [gz, x, y], [x.type])

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def perform(self, node, inputs):
        gz, x, y = inputs
        _check_labels(x, y)
        n = y.shape[0]
        e = np.exp(x[:n] - np.max(x[:n], axis=1, keepdims=True))
        sm = e / np.sum(e, axis=1, keepdims=True)
        sm[np.arange(n), y] -= 1
        out = np.zeros_like(x)
        out[:n] = sm * np.asarray(gz)[:, None]
        return [out]


class CheckLabels(Op):
    """The integer ``labels`` themselves, once checked: one per row of a prediction of
    ``rows`` rows, each in ``[0, classes)``.

    ``categorical_crossentropy`` puts it on its targets: the indexing it is written
    with would read -1 as the last class and reuse one label for every row, and
    train on that silently. A loss's labels get no NumPy indexing semantics.
    """

    view_map = {0: 0}

    def make_node(self, labels, rows, classes):
        labels = basic.as_variable(labels)
        rows = ew.cast(basic.as_variable(rows), "int64")
        classes = ew.cast(basic.as_variable(classes), "int64")
        return Node(self, [labels, rows, classes], [labels.type])

    def perform(self, node, inputs):
        labels, rows, classes = inputs
        if labels.shape[0] != rows:
            raise ShapeError(f"categorical_crossentropy: {labels.shape[0]} labels for "
                             f"{int(rows)} rows of predictions; give one label per row")
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            bad = labels[(labels < 0) | (labels >= classes)][0]
            raise ShapeError(f"categorical_crossentropy: label {bad} is not a class of "
                             f"predictions with {int(classes)} columns (labels lie in "
                             f"[0, {int(classes)}))")
        return [labels]

    def infer_shape(self, node, input_shapes):
        # One label per row, as checked: the crossentropy rewrite then sees that
        # arange(rows) and the labels have one length (no broadcast to guard).
        return [(node.inputs[1],)]

    def grad(self, inputs, outputs, output_grads):
        return [None, None, None]


def _check_labels(x, y):
    if y.shape[0] > x.shape[0]:
        raise ShapeError(f"softmax cross-entropy: {y.shape[0]} labels but only {x.shape[0]} "
                         "rows of logits")
    classes = x.shape[1]
    if y.size and (y.min() < -classes or y.max() >= classes):
        raise ShapeError(f"softmax cross-entropy: labels must lie in [{-classes}, {classes}) "
                         f"for {classes} classes, got values in [{y.min()}, {y.max()}]")


def softmax(x, axis=-1):
    x = _float_input(x, "softmax")
    return Softmax(basic.axis_index(axis, x.ndim, "softmax"))(x)


def log_softmax(x, axis=-1):
    x = _float_input(x, "log_softmax")
    return LogSoftmax(basic.axis_index(axis, x.ndim, "log_softmax"))(x)


def logsumexp(x, axis=None, keepdims=False):
    scalar = ew.as_float(basic.as_variable(x))
    if scalar.ndim == 0 and axis in (None, (), []):
        return scalar       # log(exp(x)), exactly, infinities and NaN included
    x = _float_input(x, "logsumexp")
    axes = reduction.normalize_axis(axis, x.ndim, "logsumexp")
    result = LogSumExp(axes)(x)
    if keepdims:
        result = shape_ops.restore_axes(result, x.ndim, axes)
    return result
