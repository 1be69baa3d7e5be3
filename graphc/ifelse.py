"""Theano's ``theano.ifelse.ifelse``, computed as a switch.

Theano evaluates only the branch taken; graphc evaluates both and selects, which
gives the same values (an error raised in the branch not taken is the one
difference). ``ifelse(cond, then, else)`` takes a scalar condition.

Examples
--------
>>> import numpy as np, graphc, graphc.tensor as T
>>> from graphc.ifelse import ifelse
>>> a, b = T.dscalars("a", "b")
>>> f = graphc.function([a, b], ifelse(T.lt(a, b), a, b), backend="python")
>>> float(f(1.0, 2.0)), float(f(3.0, 2.0))
(1.0, 2.0)
"""
from graphc.errors import GraphcTypeError
from graphc.ops import basic
from graphc.ops import elemwise as ew


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` where the scalar ``condition`` is true, else ``else_branch``
    (each a variable or a list of variables of matching types)."""
    condition = basic.as_variable(condition)
    if condition.ndim != 0:
        raise GraphcTypeError(f"ifelse: the condition must be a scalar, got {condition.type}")
    if isinstance(then_branch, (list, tuple)):
        if len(then_branch) != len(else_branch):
            raise GraphcTypeError("ifelse: the branches have different numbers of outputs")
        return [ew.switch(condition, a, b) for a, b in zip(then_branch, else_branch)]
    return ew.switch(condition, then_branch, else_branch)
