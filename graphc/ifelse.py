"""Theano's ``theano.ifelse.ifelse``: the values of one of two branches.

``ifelse(cond, then, else)`` takes a scalar condition and returns the chosen
branch as it is (no broadcasting: the branches may differ in shape, not in ndim).
Theano evaluates only the branch taken; graphc evaluates both and selects, which
gives the same values (an error raised in the branch not taken is the one
difference).

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
from graphc.ops.ifelse import IfElse


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` if the scalar ``condition`` is nonzero, else ``else_branch``
    (each a variable or a list of variables of matching dtypes and ndims)."""
    if isinstance(then_branch, (list, tuple)):
        if not isinstance(else_branch, (list, tuple)) or len(then_branch) != len(else_branch):
            raise GraphcTypeError("ifelse: the branches have different numbers of outputs")
        return IfElse(len(then_branch))(condition, *then_branch, *else_branch)
    return IfElse(1)(condition, then_branch, else_branch)
