"""Stabilize: recognise numerically unstable hand-written forms and replace them
with ops that are stable by construction (softplus, log1p, expm1, log_softmax,
logsumexp, the softmax cross-entropy).

Each rewrite only recognises a form; the stable op carries its own stable
gradient, and ``grad`` runs these rewrites before differentiating.
"""
import numpy as np

from graphc.graph import Constant
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import nnet
from graphc.ops import shape as shape_ops
from graphc.ops.elemwise import Elemwise
from graphc.ops.nnet import LogSoftmax, Softmax
from graphc.ops.reduction import Reduce
from graphc.ops.shape import ARange, DimShuffle, ShapeI
from graphc.ops.subtensor import Subtensor
from graphc.passes.canonicalize import canonical_dim, same_dim, same_type, scalar_of
from graphc.passes.engine import constant_value, rewrite

STABILIZE = []


def inputs_of(var, name):
    """The inputs of ``var``'s node if it is the elementwise ``name``, else None."""
    node = var.owner
    if node is not None and scalar_of(node) == name:
        return node.inputs
    return None


def negated(var):
    """``-var``, without building ``neg(neg(x))``."""
    inner = inputs_of(var, "neg")
    return inner[0] if inner else ew.neg(var)


def one_plus(var):
    """``x`` if ``var`` is ``1 + x`` or ``x + 1``, else None."""
    args = inputs_of(var, "add")
    if args is None:
        return None
    for one, other in ((0, 1), (1, 0)):
        if constant_value(args[one]) == 1 and all(s == 1 for s in args[one].type.shape):
            return args[other]
    return None


def _typed(new, node):
    kept = same_type(new, node.outputs[0])
    return None if kept is None else [kept]


# ------------------------------------------------------------------ sigmoid
@rewrite(STABILIZE, "sigmoid_by_hand", tracks=(Elemwise,), tags=("stability",))
def sigmoid_by_hand(node):
    # 1 / (1 + exp(-x)) -> sigmoid(x);  inv(1 + exp(-x)) -> sigmoid(x)
    name = scalar_of(node)
    if name == "true_div" and constant_value(node.inputs[0]) == 1:
        denominator = node.inputs[1]
    elif name == "inv":
        denominator = node.inputs[0]
    else:
        return None
    inner = one_plus(denominator)
    exp_arg = inputs_of(inner, "exp") if inner is not None else None
    if exp_arg is None:
        return None
    return _typed(ew.sigmoid(negated(exp_arg[0])), node)


@rewrite(STABILIZE, "one_minus_sigmoid", tracks=(Elemwise,), tags=("stability",))
def one_minus_sigmoid(node):
    # 1 - sigmoid(x) -> sigmoid(-x)
    if scalar_of(node) != "sub" or constant_value(node.inputs[0]) != 1:
        return None
    args = inputs_of(node.inputs[1], "sigmoid")
    if args is None:
        return None
    return _typed(ew.sigmoid(negated(args[0])), node)


@rewrite(STABILIZE, "log_sigmoid", tracks=(Elemwise,), tags=("stability",))
def log_sigmoid(node):
    # log(sigmoid(x)) -> -softplus(-x)
    if scalar_of(node) != "log":
        return None
    args = inputs_of(node.inputs[0], "sigmoid")
    if args is None:
        return None
    return _typed(ew.neg(ew.softplus(negated(args[0]))), node)


# ------------------------------------------------------------ log1p, expm1
@rewrite(STABILIZE, "softplus_by_hand", tracks=(Elemwise,), tags=("stability",))
def softplus_by_hand(node):
    # log(1 + exp(x)) -> softplus(x);  log1p(exp(x)) -> softplus(x)
    name = scalar_of(node)
    if name == "log":
        inner = one_plus(node.inputs[0])
    elif name == "log1p":
        inner = node.inputs[0]
    else:
        return None
    args = inputs_of(inner, "exp") if inner is not None else None
    if args is None:
        return None
    return _typed(ew.softplus(args[0]), node)


@rewrite(STABILIZE, "log1p", tracks=(Elemwise,), tags=("stability",))
def log1p(node):
    # log(1 + x) -> log1p(x)
    if scalar_of(node) != "log":
        return None
    inner = one_plus(node.inputs[0])
    return None if inner is None else _typed(ew.log1p(inner), node)


@rewrite(STABILIZE, "expm1", tracks=(Elemwise,), tags=("stability",))
def expm1(node):
    # exp(x) - 1 -> expm1(x)
    if scalar_of(node) != "sub" or constant_value(node.inputs[1]) != 1:
        return None
    if not all(s == 1 for s in node.inputs[1].type.shape):
        return None
    args = inputs_of(node.inputs[0], "exp")
    return None if args is None else _typed(ew.expm1(args[0]), node)


# ------------------------------------------------------------------ softmax
@rewrite(STABILIZE, "softmax_by_hand", tracks=(Elemwise,), tags=("stability",))
def softmax_by_hand(node):
    # exp(x) / sum(exp(x), axis, keepdims=True) -> softmax(x, axis)
    if scalar_of(node) != "true_div":
        return None
    numerator, denominator = node.inputs
    if inputs_of(numerator, "exp") is None or denominator.owner is None:
        return None
    shuffle = denominator.owner
    if not isinstance(shuffle.op, DimShuffle) or shuffle.inputs[0].owner is None:
        return None
    total = shuffle.inputs[0].owner
    if not (isinstance(total.op, Reduce) and total.op.kind == "sum"
            and _same_exp(total.inputs[0], numerator) and len(total.op.axis) == 1):
        return None
    axis = total.op.axis[0]
    if shuffle.op.pattern[axis] != "x":
        return None
    return _typed(nnet.softmax(inputs_of(numerator, "exp")[0], axis), node)


def _same_exp(a, b):
    """True if ``a`` and ``b`` are one ``exp(x)``, or two of the same ``x`` (T.exp(m)
    written twice: grad stabilizes before compiling merges them)."""
    if a is b:
        return True
    inner_a, inner_b = inputs_of(a, "exp"), inputs_of(b, "exp")
    return inner_a is not None and inner_b is not None and inner_a[0] is inner_b[0]


@rewrite(STABILIZE, "log_softmax", tracks=(Elemwise,), tags=("stability",))
def log_softmax(node):
    # log(softmax(x)) -> log_softmax(x);  log(softmax(x)[idx]) -> log_softmax(x)[idx]
    if scalar_of(node) != "log":
        return None
    source = node.inputs[0].owner
    if source is None:
        return None
    if isinstance(source.op, Softmax):
        return [LogSoftmax(source.op.axis)(source.inputs[0])]
    if isinstance(source.op, Subtensor):
        inner = source.inputs[0].owner
        if inner is not None and isinstance(inner.op, Softmax):
            logp = LogSoftmax(inner.op.axis)(inner.inputs[0])
            return [Subtensor(source.op.spec)(logp, *source.inputs[1:])]
    return None


@rewrite(STABILIZE, "logsumexp", tracks=(Elemwise,), tags=("stability",))
def logsumexp(node):
    # log(sum(exp(x), axis)) -> logsumexp(x, axis), also through keepdims' dimshuffle
    if scalar_of(node) != "log":
        return None
    var, shuffle = node.inputs[0], None
    if var.owner is not None and isinstance(var.owner.op, DimShuffle):
        shuffle, var = var.owner.op, var.owner.inputs[0]
    total = var.owner
    if total is None or not (isinstance(total.op, Reduce) and total.op.kind == "sum"):
        return None
    args = inputs_of(total.inputs[0], "exp")
    if args is None:
        return None
    result = nnet.LogSumExp(total.op.axis)(args[0])
    if shuffle is not None:
        result = shape_ops.dimshuffle(result, shuffle.pattern)
    return _typed(result, node)


def _picked_rows(node, source_op):
    """``(x, labels)`` if ``node`` is ``source_op(x)[arange(n), labels]`` row by row."""
    if node.op.spec != (("array",), ("array",)):
        return None
    picked, rows, labels = node.inputs
    source = picked.owner
    if source is None or not isinstance(source.op, source_op) or picked.ndim != 2:
        return None
    if source.op.axis != 1 or labels.ndim != 1 or labels.dtype[0] not in "iu":
        return None
    x = source.inputs[0]
    counted = _row_range_of(rows, x, labels)
    if counted is None:
        return None
    if counted is x:
        # arange(rows of x): NumPy broadcasts it against the labels. With more than
        # one row that is one label to every row, or an error for another length,
        # which the labels broadcast to the rows give too. One row against L labels
        # would be that row L times, which the kernel cannot read: unknown row
        # counts are left unfused.
        if x.type.shape[0] in (None, 1):
            return None
        labels = shape_ops.alloc(labels, basic.constant(x.type.shape[0], "int64"))
    return x, labels


@rewrite(STABILIZE, "softmax_crossentropy", tracks=(Subtensor,), tags=("stability",))
def softmax_crossentropy(node):
    # log_softmax(x)[arange(n), y] -> -crossentropy_softmax(x, y)
    # softmax(x)[arange(n), y]     -> exp(-crossentropy_softmax(x, y))
    for source_op, finish in ((LogSoftmax, ew.neg), (Softmax, lambda v: ew.exp(ew.neg(v)))):
        match = _picked_rows(node, source_op)
        if match is not None:
            return _typed(finish(nnet.SoftmaxCrossentropy()(*match)), node)
    return None


@rewrite(STABILIZE, "log_exp", tracks=(Elemwise,), tags=("stability",))
def log_exp(node):
    # log(exp(x)) -> x
    if scalar_of(node) != "log":
        return None
    args = inputs_of(node.inputs[0], "exp")
    return None if args is None else _typed(args[0], node)


def _row_range_of(rows, x, labels):
    """``labels`` if ``rows`` is ``arange(len(labels))``, else ``x`` if it is
    ``arange(rows of x)``, else None."""
    node = rows.owner
    if isinstance(rows, Constant) and rows.ndim == 1 and np.array_equal(
            rows.data, np.arange(len(rows.data))):
        n = basic.constant(len(rows.data), "int64")    # arange(k) of a static k, folded
    elif node is None or not isinstance(node.op, ARange):
        return None
    else:
        start, stop, step = node.inputs
        if constant_value(start) != 0 or constant_value(step) != 1:
            return None
        n = canonical_dim(stop)
    for counted in (labels, x):
        if same_dim(n, canonical_dim(ShapeI(0)(counted))):
            return counted
    return None
