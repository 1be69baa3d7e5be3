"""Theano's ``theano.tensor.xlogx``: ``x * log(x)`` and ``x * log(y)`` that are 0 where x is 0.

Examples
--------
>>> import numpy as np, graphc, graphc.tensor as T
>>> x = T.dvector("x")
>>> graphc.function([x], T.xlogx.xlogx(x), backend="python")([0.0, 1.0, np.e])
array([0.        , 0.        , 2.71828183])
"""
from graphc.ops import basic
from graphc.ops import elemwise as ew

__all__ = ["xlogx", "xlogy0"]


def xlogx(x):
    """``x * log(x)``, with its limit 0 at ``x = 0``.

    Computed as ``x * log(x if x != 0 else 1)``: the value is exact, and the
    gradient at 0 is 0 rather than NaN (``0 * -inf``).
    """
    x = ew.as_float(basic.as_variable(x))
    safe = ew.switch(ew.eq(x, 0), basic.constant(1, x.dtype), x)
    return ew.mul(x, ew.log(safe))


def xlogy0(x, y):
    """``x * log(y)``, 0 where ``x`` is 0 whatever ``y`` (its gradients there are 0)."""
    x, y = basic.as_operands(x, y)
    x = ew.as_float(x)
    safe = ew.switch(ew.eq(x, 0), basic.constant(1, y.dtype), y)
    return ew.mul(x, ew.log(safe))
