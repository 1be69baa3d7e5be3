"""``graphc.tensor.nnet``: activations, softmax and the usual losses.

Each loss is written as its plain formula; the stabilize pass turns the
unstable forms (``log(softmax(x))``, ``log(sigmoid(x))``...) into stable ops
before the graph is differentiated or compiled.
"""
import numpy as np

from graphc.errors import GraphcTypeError
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import nnet as nnet_ops
from graphc.ops import reduction
from graphc.ops import shape as shape_ops
from graphc.ops.conv import conv2d, pool_2d
from graphc.ops.elemwise import sigmoid, softplus
from graphc.ops.nnet import log_softmax, logsumexp, softmax

__all__ = ["sigmoid", "softplus", "relu", "softmax", "log_softmax", "logsumexp",
           "categorical_crossentropy", "binary_crossentropy",
           "sigmoid_binary_crossentropy", "ultra_fast_sigmoid", "hard_sigmoid", "elu",
           "conv2d", "pool_2d", "batch_normalization", "softsign", "logsoftmax"]

# Theano's other spelling.
logsoftmax = log_softmax


def relu(x, alpha=0):
    """Rectifier ``max(x, 0)``; with ``alpha``, ``x`` for x > 0 and ``alpha * x`` below.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.nnet.relu(x), backend="python")([-1.0, 2.0])
    array([0., 2.])
    """
    x = basic.as_variable(x)
    if isinstance(alpha, (int, float)) and alpha == 0:
        # Theano's gradient at 0 (0.5): see the relu scalar in graphc/ops/elemwise.py.
        return ew.relu(x)
    # relu(x) - alpha * relu(-x): exactly x above 0 and alpha * x below (inf too), and
    # the gradient at 0 is Theano's 0.5 * (1 + alpha), as from its
    # 0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * |x|.
    return ew.sub(ew.relu(x), ew.mul(alpha, ew.relu(ew.neg(x))))


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    The negative branch is ``expm1(minimum(x, 0))``: the same values, but its
    gradient stays finite where the branch is not taken. With ``expm1(x)``, a large
    x made ``exp(x)`` inf (float32 from 89) and the switch's zero gradient times it
    NaN, as in Theano and Lasagne.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> y = T.nnet.elu(x)
    >>> graphc.function([x], graphc.grad(y.sum(), x), backend="python")([-1.0, 1000.0])
    array([0.36787944, 1.        ])
    """
    x = basic.as_variable(x)
    return ew.switch(ew.gt(x, 0), x, ew.mul(alpha, elu_negative_branch(x)))


def elu_negative_branch(x):
    """``expm1(minimum(x, 0))``: ELU's branch below 0, with a finite gradient above."""
    return ew.expm1(ew.minimum(x, 0))


def hard_sigmoid(x):
    return ew.clip(ew.add(ew.mul(x, 0.2), 0.5), 0, 1)


ultra_fast_sigmoid = sigmoid


def softsign(x):
    """``x / (1 + |x|)``: a sigmoid-shaped map to (-1, 1) with polynomial tails.

    Theano's formula, kept as it is: at ``x = +-inf`` it is ``inf / inf``, NaN, as in
    Theano (its gradient, ``1 / (1 + |x|)^2``, follows from the formula).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.nnet.softsign(x), backend="python")([-3.0, 0.0, 1.0])
    array([-0.75,  0.  ,  0.5 ])
    """
    x = basic.as_variable(x)
    return ew.true_div(x, ew.add(1, ew.abs(x)))


def categorical_crossentropy(coding_dist, true_dist):
    """Cross-entropy per row between predicted probabilities and targets.

    ``true_dist`` is either integer labels (one per row) or a matrix of
    one-hot/probability rows. ``-log(p[arange(n), y])`` of a softmax is rewritten
    to a stable fused op.
    """
    p = basic.as_variable(coding_dist)
    t = basic.as_variable(true_dist)
    # As Theano, the ndim decides: one less than p's is labels, the same is rows of
    # probabilities (an integer one-hot matrix included).
    if t.ndim == p.ndim - 1:
        if np.dtype(t.dtype).kind not in "iu":
            raise GraphcTypeError(f"categorical_crossentropy: targets of ndim {t.ndim} are "
                                  f"class labels and must be integers, got {t.type}")
        if t.ndim == 1:
            n_rows, n_classes = shape_ops.shape_list(p)
            t = nnet_ops.CheckLabels()(t, n_rows, n_classes)
        rows = shape_ops.arange(shape_ops.shape_list(p)[0])
        return ew.neg(ew.log(p[rows, t]))
    if t.ndim != p.ndim:
        raise GraphcTypeError(f"categorical_crossentropy: target {t.type} must have the "
                              f"ndim of prediction {p.type} (probabilities) or one less "
                              f"(integer labels)")
    return ew.neg(reduction.sum(ew.mul(t, ew.log(p)), axis=-1))


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """Theano's name for :func:`categorical_crossentropy` with integer labels."""
    labels = basic.as_variable(true_one_of_n)
    if np.dtype(labels.dtype).kind not in "iu":
        raise GraphcTypeError(f"crossentropy_categorical_1hot takes integer labels, got "
                              f"{labels.type}")
    return categorical_crossentropy(coding_dist, labels)


def binary_crossentropy(output, target):
    """``-(t log(p) + (1 - t) log(1 - p))`` elementwise."""
    p, t = basic.as_operands(output, target)
    return ew.neg(ew.add(ew.mul(t, ew.log(p)), ew.mul(ew.sub(1, t), ew.log(ew.sub(1, p)))))


def sigmoid_binary_crossentropy(logits, target):
    """Binary cross-entropy of ``sigmoid(logits)``, stable and accurate.

    ``softplus(x) - t * x`` for ``x < 0`` and the same written ``(1 - t) * x +
    softplus(-x)`` for ``x >= 0``: no large terms that cancel, so a large, right
    logit keeps its small loss (x = 20, t = 1 gives 2.06e-9, where ``softplus(x) -
    t * x`` rounds to 0 in float32). Both forms are smooth and their gradients
    agree at 0 (``sigmoid(x) - t``), unlike ``max(x, 0) - t * x + softplus(-|x|)``,
    whose kinks give a wrong gradient at x = 0.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> z = T.dvector("z")
    >>> f = graphc.function([z], T.nnet.sigmoid_binary_crossentropy(z, 1.0), backend="python")
    >>> f(np.array([0.0, 30.0]))
    array([6.93147181e-01, 9.35762297e-14])
    """
    x, t = basic.as_operands(logits, target)
    positive = ew.add(ew.mul(ew.sub(1, t), x), softplus(ew.neg(x)))
    negative = ew.sub(softplus(x), ew.mul(t, x))
    return ew.switch(ew.ge(x, 0), positive, negative)


def crossentropy_softmax_1hot(x, y):
    return nnet_ops.SoftmaxCrossentropy()(x, y)


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """``(inputs - mean) * (gamma / std) + beta``, broadcasting as NumPy does.

    Theano's ``T.nnet.bn.batch_normalization``; ``mode`` is accepted for
    compatibility (both of Theano's modes compute the same values).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dmatrix("x")
    >>> y = T.nnet.batch_normalization(x, 2.0, 1.0, x.mean(axis=0), x.std(axis=0))
    >>> graphc.function([x], y, backend="python")(np.array([[0.0], [2.0]]))
    array([[-1.],
           [ 3.]])
    """
    if mode not in ("low_mem", "high_mem"):
        raise GraphcTypeError(f"batch_normalization: mode must be 'low_mem' or 'high_mem', "
                              f"got {mode!r}")
    x, gamma, beta, mean, std = basic.as_operands(inputs, gamma, beta, mean, std)
    return ew.add(ew.mul(ew.sub(x, mean), ew.true_div(gamma, std)), beta)


# Theano's submodule path T.nnet.bn (imported last: it builds on this module).
from graphc.tensor.nnet import bn  # noqa: E402,F401
