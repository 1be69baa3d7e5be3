"""Canonicalize: constant folding and algebraic identities that keep IEEE semantics.

``x * 0``, ``x - x`` and ``x / x`` are NOT folded: with a NaN or an Inf in ``x``
the exact result is NaN. Identities with a neutral element (``x * 1``,
``x + 0``) only fire when the replacement has the output's exact type, so
broadcasting never changes.
"""
import weakref

import numpy as np

from graphc.graph import Constant, TensorType
from graphc.gradient import GradientShaper
from graphc.ops import elemwise as ew
from graphc.ops import shape as shape_ops
from graphc.ops import subtensor
from graphc.ops.elemwise import Elemwise
from graphc.ops.extra import Print
from graphc.ops.loop import MapRows
from graphc.ops.scan import Scan
from graphc.ops.reduction import Reduce, SumToShapeOf
from graphc.ops.shape import DimShuffle, Reshape, Shape, ShapeI
from graphc.passes.engine import constant_under_dimshuffles, constant_value, rewrite

CANONICALIZE = []
CONSTANT_FOLDING = []

# Folding an op whose result is large would put big arrays into the compiled code.
FOLD_MAX_BYTES = 1 << 16
# Loops: evaluating one at compile time may take as long as running it. Print: it
# must print at every run.
_NEVER_FOLD = (MapRows, Scan, Print)


def scalar_of(node):
    """The scalar name of an Elemwise node, else None."""
    return node.op.scalar.name if isinstance(node.op, Elemwise) else None


def same_type(new, old):
    """``new`` if it can stand for ``old`` (cast/broadcast-free), else None."""
    if new.type == old.type:
        return new
    if new.dtype == old.dtype and new.ndim == old.ndim and all(
            a == b or (b is None and a != 1) for a, b in zip(new.type.shape, old.type.shape)):
        return new
    return None


# ----------------------------------------------------------- constant folding
@rewrite(CONSTANT_FOLDING, "constant_folding", tracks=())
def constant_folding(node):
    # f(constants...) -> constant
    if not node.inputs or not all(isinstance(v, Constant) for v in node.inputs):
        return None
    if isinstance(node.op, _NEVER_FOLD) or node.op.destroy_map:
        return None
    if getattr(node.op, "nondeterministic", False):    # a random draw: sample at run time
        return None
    values = node.op.perform(node, [v.data for v in node.inputs])
    if any(np.asarray(v).nbytes > FOLD_MAX_BYTES for v in values):
        return None
    return [Constant(TensorType(out.dtype, np.shape(v)), np.array(v, dtype=out.dtype))
            for out, v in zip(node.outputs, values)]


@rewrite(CONSTANT_FOLDING, "shape_folding", tracks=(Shape, ShapeI))
def shape_folding(node):
    # shape(x) -> constant, when the static shape knows every axis
    (x,) = node.inputs
    if isinstance(node.op, ShapeI):
        length = x.type.shape[node.op.axis]
        return None if length is None else [Constant(TensorType("int64", ()),
                                                     np.array(length, dtype="int64"))]
    if None in x.type.shape:
        return None
    data = np.array(x.type.shape, dtype="int64")
    return [Constant(TensorType("int64", data.shape), data)]


# ------------------------------------------------------------------ identities
@rewrite(CANONICALIZE, "remove_gradient_shaper", tracks=(GradientShaper,))
def remove_gradient_shaper(node):
    # zero_grad(x) -> x  (the gradient is built; the forward pass is the identity)
    return [node.inputs[0]]


@rewrite(CANONICALIZE, "neutral_element", tracks=(Elemwise,))
def neutral_element(node):
    # x * 1 -> x;  x + (-0.) -> x;  x - 0. -> x;  x / 1 -> x;  x ** 1 -> x  (any 0 for integers)
    # A float x + 0. stays: it is +0.0 where x is -0.0 (1 / (x + 0) is +inf there, not -inf).
    name = scalar_of(node)
    out = node.outputs[0]
    if name in ("add", "mul"):
        for keep, other in ((0, 1), (1, 0)):
            if _is_neutral(name, node.inputs[other], out):
                return _as_output(node.inputs[keep], out)
    if name in ("sub", "true_div", "pow"):
        if _is_neutral(name, node.inputs[1], out):
            return _as_output(node.inputs[0], out)
    if name == "identity":
        return [node.inputs[0]]
    return None


# The right operand that leaves x unchanged, and for a float zero the sign it must have:
# x + (-0.) and x - (+0.) are x for every x, -0.0 included; x + 0. and x - (-0.) are not.
_NEUTRAL = {"add": (0, True), "sub": (0, False), "mul": (1, None), "true_div": (1, None),
            "pow": (1, None)}


def _is_neutral(name, operand, out):
    value, negative_zero = _NEUTRAL[name]
    found = constant_value(operand)
    if found is None or found != value:
        return False
    if negative_zero is None or np.dtype(out.dtype).kind not in "fc":
        return True
    # Every zero of the constant must have the sign (constant_value compares with ==,
    # for which -0.0 and 0.0 are one value).
    data = constant_under_dimshuffles(operand).data
    return bool((np.signbit(np.real(data)) == negative_zero).all())


@rewrite(CANONICALIZE, "second_to_alloc", tracks=(Elemwise,))
def second_to_alloc(node):
    # second(a, b) -> b                                    when b's static shape is the output's
    # second(a, b) -> alloc(b, *broadcast(shape(a), shape(b)))   otherwise
    # (grad's seed second(cost, 1) becomes the constant 1 for a scalar cost)
    if scalar_of(node) != "second":
        return None
    a, b = node.inputs
    out = node.outputs[0]
    if None not in b.type.shape and b.type == out.type:
        return [b]
    shape = shape_ops.broadcast_shapes_symbolic([shape_ops.shape_list(a),
                                                 shape_ops.shape_list(b)])
    if any(d is None for d in shape):
        return None
    return [shape_ops.alloc(b, *shape)]


def _as_output(var, out):
    kept = same_type(var, out)
    return None if kept is None else [kept]


@rewrite(CANONICALIZE, "double_negation", tracks=(Elemwise,))
def double_negation(node):
    # neg(neg(x)) -> x
    if scalar_of(node) == "neg":
        inner = node.inputs[0].owner
        if inner is not None and scalar_of(inner) == "neg":
            return [inner.inputs[0]]
    return None


@rewrite(CANONICALIZE, "sub_of_neg", tracks=(Elemwise,))
def sub_of_neg(node):
    # x + neg(y) -> x - y;  x - neg(y) -> x + y
    name = scalar_of(node)
    if name not in ("add", "sub"):
        return None
    x, y = node.inputs
    if y.owner is None or scalar_of(y.owner) != "neg":
        if name == "add" and x.owner is not None and scalar_of(x.owner) == "neg":
            return [ew.sub(y, x.owner.inputs[0])]
        return None
    inner = y.owner.inputs[0]
    return [ew.sub(x, inner) if name == "add" else ew.add(x, inner)]


@rewrite(CANONICALIZE, "merge_casts", tracks=(Elemwise,))
def merge_casts(node):
    # cast(cast(x, wider), narrower) -> cast(x, narrower) when the first cast was exact
    if not isinstance(node.op.scalar, ew.Cast):
        return None
    inner = node.inputs[0].owner
    if inner is None or not isinstance(getattr(inner.op, "scalar", None), ew.Cast):
        return None
    x = inner.inputs[0]
    if _exact_cast(x.dtype, inner.outputs[0].dtype):
        return [ew.cast(x, node.outputs[0].dtype)]
    return None


def _exact_cast(source, target):
    """True if every value of ``source`` is exactly a value of ``target``. NumPy's
    "safe" is not that for integers into floats: int64 -> float64 rounds above 2**53,
    so int64 -> float64 -> float32 may round twice where one cast rounds once."""
    source, target = np.dtype(source), np.dtype(target)
    if not np.can_cast(source, target, "safe"):
        return False
    if source.kind in "iu" and target.kind in "fc":
        return source.itemsize * 8 - (source.kind == "i") <= np.finfo(target).nmant + 1
    return True


@rewrite(CANONICALIZE, "merge_dimshuffles", tracks=(DimShuffle,))
def merge_dimshuffles(node):
    # dimshuffle(dimshuffle(x, p), q) -> dimshuffle(x, p[q]);  identity pattern -> x
    op = node.op
    if op.pattern == tuple(range(op.input_ndim)):
        return [node.inputs[0]]
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    composed = [("x" if p == "x" else inner.op.pattern[p]) for p in op.pattern]
    x = inner.inputs[0]
    kept = {p for p in composed if p != "x"}
    if any(i not in kept and x.type.shape[i] != 1 for i in range(x.ndim)):
        return None
    return [shape_ops.dimshuffle(x, composed)]


@rewrite(CANONICALIZE, "merge_reshapes", tracks=(Reshape,))
def merge_reshapes(node):
    # reshape(reshape(x, s1), s2) -> reshape(x, s2);  reshape to the same static shape -> x
    x, shape = node.inputs
    if x.owner is not None and isinstance(x.owner.op, Reshape):
        return [Reshape(node.op.ndim)(x.owner.inputs[0], shape)]
    if None not in x.type.shape and x.type.shape == node.outputs[0].type.shape:
        return [x]
    return None


@rewrite(CANONICALIZE, "shape_of_index", tracks=(subtensor.Subtensor,))
def shape_of_index(node):
    # shape(x)[i] -> shape_i(x)
    source = node.inputs[0]
    spec = node.op.spec
    if (source.owner is not None and isinstance(source.owner.op, Shape)
            and len(spec) == 1 and spec[0][0] == "int" and isinstance(spec[0][1], int)):
        x = source.owner.inputs[0]
        return [ShapeI(spec[0][1] % x.ndim)(x)]
    return None


# ------------------------------------------------------------- shapes
# shape_i(var, axis) -> inferred_dim's answer (None included), per variable: the
# engine offers a ShapeI node again after every change near it, and each answer
# builds nodes.
_INFERRED = weakref.WeakKeyDictionary()


def inferred_dim(dim):
    """One step of shape inference: ``shape_i(f(x))`` as f's infer_shape gives it, or None."""
    node = dim.owner
    if node is None or not isinstance(node.op, ShapeI):
        return None
    (var,) = node.inputs
    answers = _INFERRED.setdefault(var, {})
    if node.op.axis not in answers:
        answers[node.op.axis] = _infer_dim(var, node.op.axis, dim)
    return answers[node.op.axis]


def _infer_dim(var, axis, dim):
    owner = var.owner
    if owner is None or not hasattr(owner.op, "infer_shape"):
        return None
    input_shapes = [tuple(shape_ops.shape_list(v)) for v in owner.inputs]
    inferred = owner.op.infer_shape(owner, input_shapes)[var.index][axis]
    if inferred is None or same_dim(inferred, dim):
        return None
    return ew.cast(inferred, "int64")


# shape_i(var, axis) -> its canonical_dim, per variable (nodes never change, so an
# answer stays right while the variable lives). Without it, every sum_to_shape of a
# gradient walked the chain above it again: compile time cubic in a chain's length.
_CANONICAL = weakref.WeakKeyDictionary()


def canonical_dim(dim, limit=64):
    """``dim`` followed through shape inference as far as it goes."""
    visited = []
    for _ in range(limit):
        node = dim.owner
        if node is not None and isinstance(node.op, ShapeI):
            known = _CANONICAL.get(node.inputs[0], {}).get(node.op.axis)
            if known is not None:
                dim = known
                break
            visited.append((node.inputs[0], node.op.axis))
        step = inferred_dim(dim)
        if step is None:
            break
        dim = step
    for var, axis in visited:
        _CANONICAL.setdefault(var, {})[axis] = dim
    return dim


def same_dim(a, b):
    """True if two int64 scalars are provably the same length."""
    if a is b:
        return True
    va, vb = _known_length(a), _known_length(b)
    if va is not None or vb is not None:
        return va == vb
    na, nb = a.owner, b.owner
    return (na is not None and nb is not None and isinstance(na.op, ShapeI)
            and na.op == nb.op and na.inputs[0] is nb.inputs[0])


def _known_length(dim):
    """The value of a constant, or the static length that ``shape_i(x)`` reads."""
    node = dim.owner
    if node is not None and isinstance(node.op, ShapeI):
        return node.inputs[0].type.shape[node.op.axis]
    return constant_value(dim)


@rewrite(CANONICALIZE, "shape_inference", tracks=(ShapeI,))
def shape_inference(node):
    # shape_i(exp(x)) -> shape_i(x);  shape_i(dot(x, y), 0) -> shape_i(x, 0)
    step = inferred_dim(node.outputs[0])
    return None if step is None else [step]


@rewrite(CANONICALIZE, "useless_sum_to_shape", tracks=(SumToShapeOf,))
def useless_sum_to_shape(node):
    # sum_to_shape_of(g, shape) -> g  when g's shape is provably that shape
    g, *target = node.inputs
    own = shape_ops.shape_list(g)
    if all(same_dim(canonical_dim(a), canonical_dim(b)) for a, b in zip(own, target)):
        return [g]
    return None


# Reductions whose value over a single element is that element.
_SINGLE_ELEMENT_IS_VALUE = frozenset(("sum", "prod", "max", "min"))


@rewrite(CANONICALIZE, "reduce_length_one_axes", tracks=(Reduce,))
def reduce_length_one_axes(node):
    # sum{0}(x) -> x.dimshuffle(1)  when axis 0 of x has length 1 (prod, max, min too;
    # a cast when the reduction accumulates in another dtype). Gradients of
    # broadcast biases make such sums.
    x = node.inputs[0]
    if node.op.kind not in _SINGLE_ELEMENT_IS_VALUE:
        return None
    if any(x.type.shape[a] != 1 for a in node.op.axis):
        return None
    kept = [i for i in range(x.ndim) if i not in node.op.axis]
    new = shape_ops.dimshuffle(x, kept)
    dtype = node.outputs[0].dtype
    return [new if new.dtype == dtype else ew.cast(new, dtype)]


@rewrite(CANONICALIZE, "sum_to_shape_through_dimshuffle", tracks=(SumToShapeOf,))
def sum_to_shape_through_dimshuffle(node):
    # sum_to_shape_of(g.dimshuffle('x', 0), (1, n)) -> sum_to_shape_of(g, (n,)).dimshuffle('x', 0)
    # (the axes the dimshuffle adds have length 1 on both sides: nothing to sum there)
    g, *target = node.inputs
    inner = g.owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    pattern = inner.op.pattern
    kept = [p for p in pattern if p != "x"]
    # Only a dimshuffle that adds axes: none dropped, none permuted.
    if len(kept) == len(pattern) or kept != sorted(kept) or inner.op.dropped:
        return None
    if any(p == "x" and constant_value(d) != 1 for p, d in zip(pattern, target)):
        return None
    kept_target = [d for p, d in zip(pattern, target) if p != "x"]
    return [shape_ops.dimshuffle(SumToShapeOf()(inner.inputs[0], *kept_target), pattern)]
