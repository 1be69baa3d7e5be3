"""Activation functions (Lasagne's ``lasagne.nonlinearities``).

Each takes a symbolic tensor and returns one of the same shape; they are what
layers accept as ``nonlinearity=``.
"""
import graphc.tensor as T

__all__ = ["sigmoid", "softmax", "tanh", "ScaledTanH", "ScaledTanh", "rectify",
           "LeakyRectify", "leaky_rectify", "very_leaky_rectify", "elu", "SELU", "selu",
           "softplus", "linear", "identity"]


def sigmoid(x):
    """``1 / (1 + exp(-x))``.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.nonlinearities import sigmoid
    >>> x = T.dvector("x")
    >>> graphc.function([x], sigmoid(x), backend="python")([0.0])
    array([0.5])
    """
    return T.nnet.sigmoid(x)


def softmax(x):
    """Row-wise softmax of a matrix: ``exp(x) / sum(exp(x), axis=1)``.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.nonlinearities import softmax
    >>> x = T.dmatrix("x")
    >>> graphc.function([x], softmax(x), backend="python")([[0.0, 0.0]])
    array([[0.5, 0.5]])
    """
    return T.nnet.softmax(x)


def tanh(x):
    """Hyperbolic tangent.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.nonlinearities import tanh
    >>> x = T.dvector("x")
    >>> graphc.function([x], tanh(x), backend="python")([0.0])
    array([0.])
    """
    return T.tanh(x)


class ScaledTanH:
    """``scale_out * tanh(scale_in * x)``; LeCun's choice is
    ``ScaledTanH(scale_in=2/3, scale_out=1.7159)``.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.nonlinearities import ScaledTanH
    >>> x = T.dvector("x")
    >>> graphc.function([x], ScaledTanH(1.0, 2.0)(x), backend="python")([0.0])
    array([0.])
    """

    def __init__(self, scale_in=1, scale_out=1):
        self.scale_in = scale_in
        self.scale_out = scale_out

    def __call__(self, x):
        return self.scale_out * T.tanh(self.scale_in * x)


ScaledTanh = ScaledTanH


def rectify(x):
    """``max(x, 0)``.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.nonlinearities import rectify
    >>> x = T.dvector("x")
    >>> graphc.function([x], rectify(x), backend="python")([-1.0, 2.0])
    array([0., 2.])
    """
    return T.nnet.relu(x)


class LeakyRectify:
    """``x`` for positive inputs, ``leakiness * x`` otherwise.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.nonlinearities import LeakyRectify
    >>> x = T.dvector("x")
    >>> graphc.function([x], LeakyRectify(0.1)(x), backend="python")([-1.0, 2.0])
    array([-0.1,  2. ])
    """

    def __init__(self, leakiness=0.01):
        self.leakiness = leakiness

    def __call__(self, x):
        return T.nnet.relu(x, self.leakiness)


leaky_rectify = LeakyRectify()
very_leaky_rectify = LeakyRectify(1.0 / 3)


def elu(x):
    """Exponential linear unit: ``x`` for ``x > 0``, ``exp(x) - 1`` otherwise.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.nonlinearities import elu
    >>> x = T.dvector("x")
    >>> graphc.function([x], elu(x), backend="python")([0.0, 2.0])
    array([0., 2.])
    """
    return T.nnet.elu(x)


class SELU:
    """Scaled ELU: ``scale * x`` for ``x > 0``, ``scale * scale_neg * (exp(x) - 1)``
    otherwise (defaults from Klambauer et al., 2017)."""

    def __init__(self, scale=1.0507009873554805, scale_neg=1.6732632423543772):
        self.scale = scale
        self.scale_neg = scale_neg

    def __call__(self, x):
        negative = self.scale_neg * T.nnet.elu_negative_branch(x)
        return self.scale * T.switch(T.gt(x, 0), x, negative)


selu = SELU()


def softplus(x):
    """``log(1 + exp(x))``, computed stably.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.nonlinearities import softplus
    >>> x = T.dvector("x")
    >>> graphc.function([x], softplus(x), backend="python")([0.0]).round(4)
    array([0.6931])
    """
    return T.nnet.softplus(x)


def linear(x):
    """The identity: ``x`` unchanged.

    Examples
    --------
    >>> import graphc.tensor as T
    >>> from graphc.nn.nonlinearities import linear
    >>> x = T.vector("x")
    >>> linear(x) is x
    True
    """
    return x


identity = linear
