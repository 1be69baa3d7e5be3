"""Weight penalties (Lasagne's ``lasagne.regularization``).

A penalty maps a parameter to a scalar; the ``regularize_*`` helpers sum it over
the parameters of layers or networks selected by tags (by default the
regularizable ones: weights, not biases).

Examples
--------
>>> import graphc.nn as lasagne
>>> from graphc.nn.regularization import l2, regularize_network_params
>>> l_in = lasagne.layers.InputLayer((None, 4))
>>> l_out = lasagne.layers.DenseLayer(l_in, 3)
>>> penalty = regularize_network_params(l_out, l2)
>>> penalty.ndim
0
"""
import numpy as np  # noqa: F401  (used by the examples)

import graphc.tensor as T
from graphc.nn.layers import Layer, get_all_params

__all__ = ["l1", "l2", "apply_penalty", "regularize_layer_params",
           "regularize_layer_params_weighted", "regularize_network_params"]


def l1(x):
    """The L1 penalty ``sum(|x|)``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.regularization import l1
    >>> float(l1(graphc.shared(np.array([1.0, -2.0]))).eval())
    3.0
    """
    return T.sum(abs(x))


def l2(x):
    """The squared L2 penalty ``sum(x ** 2)`` (no factor 1/2).

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.regularization import l2
    >>> float(l2(graphc.shared(np.array([1.0, -2.0]))).eval())
    5.0
    """
    return T.sum(x ** 2)


def apply_penalty(tensor_or_tensors, penalty, **kwargs):
    """``penalty`` of a tensor, or the sum of it over a list of tensors."""
    if isinstance(tensor_or_tensors, (list, tuple)):
        return sum(penalty(x, **kwargs) for x in tensor_or_tensors)
    return penalty(tensor_or_tensors, **kwargs)


def regularize_layer_params(layer, penalty, tags={"regularizable": True}, **kwargs):
    """The penalty summed over the parameters of ``layer`` (or a list of layers)
    that match ``tags``, without following their inputs."""
    layers = [layer] if isinstance(layer, Layer) else layer
    all_params = []
    for each in layers:
        all_params += each.get_params(**tags)
    return apply_penalty(all_params, penalty, **kwargs)


def regularize_layer_params_weighted(layers, penalty, tags={"regularizable": True},
                                     **kwargs):
    """``sum(coefficient * penalty(params of layer))`` over ``{layer: coefficient}``."""
    return sum(coeff * apply_penalty(layer.get_params(**tags), penalty, **kwargs)
               for layer, coeff in layers.items())


def regularize_network_params(layer, penalty, tags={"regularizable": True}, **kwargs):
    """The penalty summed over every parameter of the network ending in ``layer``
    that matches ``tags``."""
    return apply_penalty(get_all_params(layer, **tags), penalty, **kwargs)
