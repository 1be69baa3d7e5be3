"""Theano's ``IfElse``: the values of one of two branches, chosen by a scalar condition.

Unlike a ``switch`` it does not broadcast: each output is the chosen branch as it
is, whatever its shape (the two branches need the same dtype and ndim only).
Both branches are computed before the choice; the compiled code then copies only
the chosen one.
"""
import numpy as np

from graphc.errors import GraphcTypeError
from graphc.graph import Constant, Node, Op, TensorType
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import shape as shape_ops


class IfElse(Op):
    """``outputs = then_branch if condition else else_branch`` for ``n_outs`` pairs.

    Inputs: the condition (a scalar, nonzero is true), the ``n_outs`` values of
    the then branch, then those of the else branch.
    """

    __props__ = ("n_outs",)

    def __init__(self, n_outs):
        self.n_outs = int(n_outs)

    def __str__(self):
        return "if{}"

    __repr__ = __str__

    def make_node(self, condition, *branches):
        condition = basic.as_variable(condition)
        if condition.ndim != 0:
            raise GraphcTypeError(f"ifelse: the condition must be a scalar, got "
                                  f"{condition.type}")
        if len(branches) != 2 * self.n_outs:
            raise GraphcTypeError(f"ifelse: {len(branches)} branch values for "
                                  f"{self.n_outs} outputs")
        then, other = branches[:self.n_outs], branches[self.n_outs:]
        pairs = [_matched(k, a, b) for k, (a, b) in enumerate(zip(then, other))]
        types = [TensorType(a.dtype, tuple(m if m == n else None
                                           for m, n in zip(a.type.shape, b.type.shape)))
                 for a, b in pairs]
        inputs = [condition] + [a for a, _ in pairs] + [b for _, b in pairs]
        return Node(self, inputs, types)

    def perform(self, node, inputs):
        condition, *branches = inputs
        chosen = branches[:self.n_outs] if condition else branches[self.n_outs:]
        return [np.array(value, dtype=out.dtype) for value, out in zip(chosen, node.outputs)]

    def grad(self, inputs, outputs, output_grads):
        # The gradient goes to the branch taken; the other gets zeros of its own shape.
        condition, *branches = inputs
        then, other = branches[:self.n_outs], branches[self.n_outs:]
        to_then, to_other = [], []
        for a, b, g in zip(then, other, output_grads):
            if g is None:
                to_then.append(None)
                to_other.append(None)
                continue
            to_then.append(IfElse(1)(condition, g, ew.zeros_like(a, dtype=g.dtype)))
            to_other.append(IfElse(1)(condition, ew.zeros_like(b, dtype=g.dtype), g))
        return [None] + to_then + to_other


def _matched(k, a, b):
    """The k-th pair of branch values with one dtype; a Python number against a tensor
    takes its dtype and shape (``ifelse(c, x, 0.0)``)."""
    a, b = basic.as_operands(a, b)
    if a.ndim != b.ndim:
        if isinstance(b, Constant) and b.ndim == 0:
            b = shape_ops.alloc(b, *shape_ops.shape_list(a))
        elif isinstance(a, Constant) and a.ndim == 0:
            a = shape_ops.alloc(a, *shape_ops.shape_list(b))
        else:
            raise GraphcTypeError(f"ifelse: output {k}: the then branch is {a.type} and the "
                                  f"else branch {b.type}; they must have the same ndim")
    dtype = np.result_type(a.dtype, b.dtype).name
    return (a if a.dtype == dtype else ew.cast(a, dtype),
            b if b.dtype == dtype else ew.cast(b, dtype))
