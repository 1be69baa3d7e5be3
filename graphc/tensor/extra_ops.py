"""Theano's ``theano.tensor.extra_ops`` names that graphc computes: ``cumsum``,
``cumprod``, ``diff``, ``bincount``, ``unique``, ``fill_diagonal``, ``to_one_hot``...

Examples
--------
>>> import numpy as np, graphc, graphc.tensor as T
>>> from graphc.tensor.extra_ops import to_one_hot
>>> y = T.ivector("y")
>>> graphc.function([y], to_one_hot(y, 3), backend="python")(np.array([2, 0], "int32"))
array([[0., 0., 1.],
       [1., 0., 0.]], dtype=float32)
"""
from graphc.config import config
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import shape as shape_ops
from graphc.tensor.basic import repeat, tile  # noqa: F401  (Theano has them here too)
from graphc.ops.extra import (  # noqa: F401  (Theano's extra_ops names)
    bincount, cumprod, cumsum, diff, fill_diagonal, fill_diagonal_offset, unique)


def to_one_hot(y, nb_class, dtype=None):
    """Rows of ``nb_class`` zeros with a one at each integer label of ``y``."""
    y = basic.as_variable(y)
    labels = shape_ops.dimshuffle(y, [0, "x"])
    classes = shape_ops.dimshuffle(shape_ops.arange(nb_class, dtype=y.dtype), ["x", 0])
    return ew.cast(ew.eq(labels, classes), dtype or config.floatX)
