"""Specialize: cheaper forms of the same computation.

Powers by small constants become their own scalar ops, a matrix product plus a
(scaled) term becomes one Gemm node, and the sum of a product of two vectors
becomes a dot.
"""
import numpy as np

from graphc.ops import elemwise as ew
from graphc.ops.elemwise import Elemwise
from graphc.ops.linalg import Dot, Gemm
from graphc.ops.reduction import Reduce
from graphc.passes.canonicalize import same_type, scalar_of
from graphc.passes.engine import constant_value, rewrite

SPECIALIZE = []


def _rsqrt_power(x):
    # 1 / sqrt(x), but at -0 (+inf, not 1 / -0 = -inf) and at -inf (0, not NaN)
    return ew.switch(ew.eq(x, 0), np.inf,
                     ew.switch(ew.eq(x, -np.inf), 0, ew.inv(ew.sqrt(x))))


# exponent -> builder of the cheaper form, equal to NumPy's power on every input
# (infinities, NaN and zeros of either sign included)
_POWERS = {
    2: ew.sqr,
    0.5: ew.sqrt,            # NumPy's power is sqrt there too, -inf and -0 included
    -1: ew.inv,
    -0.5: _rsqrt_power,
}


@rewrite(SPECIALIZE, "pow_specialize", tracks=(Elemwise,))
def pow_specialize(node):
    # x ** 2 -> sqr(x);  x ** 0.5 -> sqrt(x);  x ** -1 -> inv(x);  x ** -0.5 -> inv(sqrt(x))
    # (the inverse square root guarded at -0 and -inf: _POWERS)
    if scalar_of(node) != "pow":
        return None
    x, exponent = node.inputs
    value = constant_value(exponent)
    if value not in _POWERS or not all(s == 1 for s in exponent.type.shape):
        return None
    if value < 0 and x.dtype[0] != "f":
        return None
    new = _POWERS[value](x)
    if new.dtype != node.outputs[0].dtype:
        new = ew.cast(new, node.outputs[0].dtype)
    kept = same_type(new, node.outputs[0])
    return None if kept is None else [kept]


def _dot_term(var):
    """``(alpha, x, y)`` if ``var`` is ``dot(x, y)`` or ``alpha * dot(x, y)`` of matrices."""
    node = var.owner
    if node is None:
        return None
    if isinstance(node.op, Dot) and var.ndim == 2:
        return 1.0, node.inputs[0], node.inputs[1]
    if scalar_of(node) == "mul":
        for scale, other in ((0, 1), (1, 0)):
            alpha = constant_value(node.inputs[scale])
            inner = node.inputs[other].owner
            if (alpha is not None and all(s == 1 for s in node.inputs[scale].type.shape)
                    and inner is not None and isinstance(inner.op, Dot)
                    and node.inputs[other].ndim == 2):
                return float(alpha), inner.inputs[0], inner.inputs[1]
    return None


@rewrite(SPECIALIZE, "gemm", tracks=(Elemwise,))
def gemm(node):
    # z + a * dot(x, y) -> gemm(z, a, x, y);  z - a * dot(x, y) -> gemm(z, -a, x, y)
    name = scalar_of(node)
    if name not in ("add", "sub") or node.outputs[0].ndim != 2:
        return None
    orders = ((0, 1), (1, 0)) if name == "add" else ((1, 0),)
    for term_at, z_at in orders:
        term = _dot_term(node.inputs[term_at])
        if term is None:
            continue
        alpha, x, y = term
        z = node.inputs[z_at]
        if name == "sub":
            alpha = -alpha
        result = Gemm(alpha, 1.0)(z, x, y)
        kept = same_type(result, node.outputs[0])
        if kept is not None:
            return [kept]
    return None


@rewrite(SPECIALIZE, "sum_of_product_to_dot", tracks=(Reduce,))
def sum_of_product_to_dot(node):
    # sum(x * y) over vectors of one static length -> dot(x, y)
    if node.op.kind != "sum" or node.inputs[0].ndim != 1:
        return None
    product = node.inputs[0].owner
    if product is None or scalar_of(product) != "mul":
        return None
    x, y = product.inputs
    if x.type.shape != y.type.shape or None in x.type.shape or x.dtype != y.dtype:
        return None
    if x.dtype[0] != "f" or node.outputs[0].dtype != x.dtype:
        return None
    return [Dot()(x, y)]
