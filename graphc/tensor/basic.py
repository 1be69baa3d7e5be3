"""The user's tensor API: constructors and the functions of ``graphc.tensor``.

Most functions are the builders of ``graphc.ops``; this module adds the
constructors (``T.matrix``, ``T.fvector`` ...) and Theano's spellings.
"""
import numpy as np

from graphc.config import config
from graphc.errors import GraphcTypeError
from graphc.graph import TensorType, Variable
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import linalg
from graphc.ops import nnet as nnet_ops
from graphc.ops import reduction
from graphc.ops import shape as shape_ops
from graphc.ops import subtensor

# ------------------------------------------------------------------ constructors
_PREFIXES = {"": None, "f": "float32", "d": "float64", "i": "int32", "l": "int64",
             "b": "int8"}
# Each kind's static shape: None is a length known when called. Theano's row and col
# are matrices with one axis broadcastable (of length 1).
_KINDS = {"scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None),
          "col": (None, 1), "tensor3": (None,) * 3, "tensor4": (None,) * 4,
          "tensor5": (None,) * 5}


def tensor(dtype=None, shape=None, name=None, broadcastable=None):
    """A symbolic input of the given dtype and static shape.

    Parameters
    ----------
    dtype : str, optional
        Defaults to ``config.floatX``.
    shape : tuple of (int or None)
        ``None`` entries are known only when the compiled function is called.
        Theano's broadcastable pattern (``(False, True)``) is read as such: True
        is a length of 1, False a length known when called.
    name : str, optional
    broadcastable : tuple of bool, optional
        Theano's keyword, instead of ``shape``.

    Examples
    --------
    >>> import graphc.tensor as T
    >>> x = T.tensor("float32", shape=(None, 3), name="x")
    >>> x.type
    TensorType(float32, (?, 3))
    """
    if shape is None and broadcastable is None:
        raise GraphcTypeError("T.tensor needs a shape, e.g. shape=(None, 3)")
    return Variable(TensorType(dtype or config.floatX, shape, broadcastable), name=name)


def _constructor(kind_shape, fixed_dtype, public_name):
    rank = len(kind_shape)

    def make(name=None, dtype=None, shape=None):
        chosen = fixed_dtype or dtype or config.floatX
        if fixed_dtype and dtype and np.dtype(dtype) != np.dtype(fixed_dtype):
            raise GraphcTypeError(f"{public_name} is {fixed_dtype}; got dtype={dtype}")
        static = kind_shape if shape is None else tuple(shape)
        if len(static) != rank:
            raise GraphcTypeError(f"{public_name} has {rank} axes; got shape={shape}")
        return Variable(TensorType(chosen, static), name=name)
    make.__name__ = public_name
    make.__doc__ = (f"A symbolic {rank}-d input of static shape {kind_shape} and dtype "
                    f"{fixed_dtype or 'config.floatX'} (``name`` optional).")
    return make


for _prefix, _dtype in _PREFIXES.items():
    for _kind, _shape in _KINDS.items():
        globals()[_prefix + _kind] = _constructor(_shape, _dtype, _prefix + _kind)

scalar, vector, matrix, row, col, tensor3, tensor4, tensor5 = (globals()[n] for n in _KINDS)

_PLURALS = {"scalar": "scalars", "vector": "vectors", "matrix": "matrices", "row": "rows",
            "col": "cols", "tensor3": "tensor3s", "tensor4": "tensor4s",
            "tensor5": "tensor5s"}


def _plural(single, public_name):
    def make(*names, dtype=None):
        if len(names) == 1 and isinstance(names[0], int):
            names = [None] * names[0]
        return [single(name, dtype=dtype) if dtype else single(name) for name in names]
    make.__name__ = public_name
    make.__doc__ = f"Several ``{single.__name__}`` inputs at once: ``x, y = T.{public_name}('x', 'y')``."
    return make


for _prefix in _PREFIXES:
    for _rank_name, _plural_name in _PLURALS.items():
        globals()[_prefix + _plural_name] = _plural(globals()[_prefix + _rank_name],
                                                    _prefix + _plural_name)

constant = basic.constant


def as_tensor_variable(x, name=None, ndim=None):
    """``x`` as a graph variable (a constant for numbers and arrays)."""
    result = basic.as_variable(x)
    if ndim is not None and result.ndim != ndim:
        raise GraphcTypeError(f"expected ndim {ndim}, got {result.type}")
    if name is not None and not isinstance(x, Variable):
        result.name = name
    return result


as_tensor = as_tensor_variable

# ------------------------------------------------------------------ elementwise
# Theano's names for the elementwise builders.
from graphc.ops.elemwise import (  # noqa: E402  (grouped with their section)
    add, sub, mul, true_div, floor_div, mod, pow, neg, inv, sqr, sgn, exp, exp2, log,
    log1p, expm1, log2, log10, sqrt, tanh, sinh, cosh, sin, cos, tan, arcsin, arccos,
    arctan, erf, sigmoid, softplus, floor, ceil, maximum, minimum, eq, neq, lt, le, gt, ge,
    isnan, isinf, and_, or_, xor, invert, switch, cast, zeros_like, ones_like)
from graphc.ops.elemwise import (  # noqa: E402  (the special functions, ops/special.py)
    arcsinh, arccosh, arctanh, erfc, erfinv, erfcinv, gamma, gammaln, psi, trunc,
    round_half_away_from_zero)

int_div = floor_div
where = switch
bitwise_not = invert
bitwise_and = and_
bitwise_or = or_
bitwise_xor = xor
power = pow
lgamma = gammaln


def abs(x):
    """``|x|`` elementwise."""
    return ew.apply("abs", x)


_ROUND_MODES = {"half_to_even": "round", "half_away_from_zero": "round_half_away_from_zero"}


def round(x, mode=None):
    """Round to the nearest integer; ties to even by default (NumPy's ``np.round``).

    Parameters
    ----------
    x : tensor-like
    mode : {None, "half_to_even", "half_away_from_zero"}
        Theano's modes; None is ``"half_to_even"``, the default Theano also settled on.

    Returns
    -------
    Variable
        Of ``x``'s dtype (integers are returned unchanged).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> f = graphc.function([x], [T.round(x), T.round(x, "half_away_from_zero")],
    ...                     backend="python")
    >>> f([0.5, 1.5, -2.5])
    [array([ 0.,  2., -2.]), array([ 1.,  2., -3.])]
    """
    chosen = "half_to_even" if mode is None else mode
    if chosen not in _ROUND_MODES:
        raise GraphcTypeError(f"round: mode must be one of {sorted(_ROUND_MODES)}, "
                              f"got {mode!r}")
    return ew.apply(_ROUND_MODES[chosen], x)


def round_half_to_even(x):
    """Round to the nearest integer, ties to even (``T.round``'s default, ``np.round``).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.round_half_to_even(x), backend="python")([0.5, 1.5, -2.5])
    array([ 0.,  2., -2.])
    """
    return ew.apply("round", x)


def clip(x, lo, hi):
    """``x`` limited to ``[lo, hi]`` elementwise."""
    return ew.clip(x, lo, hi)


def true_divide(x, y):
    return ew.true_div(x, y)


def deg2rad(x):
    """Degrees to radians, ``x * pi / 180`` (integers give ``config.floatX``).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.deg2rad(x), backend="python")([180.0, 90.0])
    array([3.14159265, 1.57079633])
    """
    return ew.mul(x, np.pi / 180)


def rad2deg(x):
    """Radians to degrees, ``x * 180 / pi`` (integers give ``config.floatX``).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> graphc.function([x], T.rad2deg(x), backend="python")([3.141592653589793, 1.0])
    array([180.        ,  57.29577951])
    """
    return ew.mul(x, 180 / np.pi)


def _fold_pairwise(name, op, xs):
    if not xs:
        raise GraphcTypeError(f"{name} needs at least one tensor")
    result = basic.as_variable(xs[0])
    for x in xs[1:]:
        result = op(result, x)
    return result


def largest(*xs):
    """The elementwise maximum of several tensors (Theano's), broadcast together.

    A NaN in any of them gives NaN there, as ``T.maximum`` does.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> a, b, c = T.dvectors("a", "b", "c")
    >>> f = graphc.function([a, b, c], T.largest(a, b, c), backend="python")
    >>> f([1.0, 5.0], [3.0, 2.0], [2.0, 4.0])
    array([3., 5.])
    """
    return _fold_pairwise("largest", ew.maximum, xs)


def smallest(*xs):
    """The elementwise minimum of several tensors (Theano's), broadcast together.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> a, b, c = T.dvectors("a", "b", "c")
    >>> f = graphc.function([a, b, c], T.smallest(a, b, c), backend="python")
    >>> f([1.0, 5.0], [3.0, 2.0], [2.0, 4.0])
    array([1., 2.])
    """
    return _fold_pairwise("smallest", ew.minimum, xs)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|``, as ``np.isclose`` (and Theano).

    Parameters
    ----------
    a, b : tensor-like
        Broadcast together; integers are compared in float64, as NumPy does.
    rtol, atol : float
    equal_nan : bool
        Whether two NaNs are close (otherwise NaN is close to nothing).

    Returns
    -------
    Variable
        Boolean. Infinities are close only to an infinity of the same sign.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> a, b = T.dvectors("a", "b")
    >>> f = graphc.function([a, b], T.isclose(a, b), backend="python")
    >>> inf, nan = float("inf"), float("nan")
    >>> f([1.0, 1.0, inf, nan], [1.0 + 1e-9, 1.1, inf, nan])
    array([ True, False,  True, False])
    """
    a, b = basic.as_operands(a, b)
    if np.dtype(a.dtype).kind not in "fc" and np.dtype(b.dtype).kind not in "fc":
        a, b = ew.cast(a, "float64"), ew.cast(b, "float64")
    within = ew.le(ew.abs(ew.sub(a, b)), ew.add(atol, ew.mul(rtol, ew.abs(b))))
    # An infinite b makes the tolerance infinite: only equal values count there.
    finite = ew.invert(ew.or_(ew.isinf(a), ew.isinf(b)))
    close = ew.or_(ew.and_(within, finite), ew.eq(a, b))
    if equal_nan:
        close = ew.or_(close, ew.and_(ew.isnan(a), ew.isnan(b)))
    return close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of ``a`` is close to ``b`` (see :func:`isclose`).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> a, b = T.dvectors("a", "b")
    >>> f = graphc.function([a, b], T.allclose(a, b), backend="python")
    >>> f([1.0, 2.0], [1.0, 2.0 + 1e-7])
    array(True)
    """
    return reduction.all(isclose(a, b, rtol, atol, equal_nan))


# ------------------------------------------------------------------ reductions
sum, prod, mean, var, std = (reduction.sum, reduction.prod, reduction.mean,
                             reduction.var, reduction.std)
max, min, argmax, argmin = reduction.max, reduction.min, reduction.argmax, reduction.argmin
all, any = reduction.all, reduction.any
logsumexp = nnet_ops.logsumexp

# ------------------------------------------------------------- linear algebra
dot, matmul, outer = linalg.dot, linalg.matmul, linalg.outer
tensordot, batched_dot, transpose = linalg.tensordot, linalg.batched_dot, linalg.transpose

# ------------------------------------------------------------------------ shape
reshape, flatten, dimshuffle = shape_ops.reshape, shape_ops.flatten, shape_ops.dimshuffle
stack, alloc, tile, repeat = shape_ops.stack, shape_ops.alloc, shape_ops.tile, shape_ops.repeat
arange = shape_ops.arange


def join(axis, *tensors):
    """Concatenate ``tensors`` along ``axis`` (Theano's argument order)."""
    return shape_ops.join(axis, *tensors)


def concatenate(tensors, axis=0):
    """Concatenate a list of tensors along ``axis`` (NumPy's argument order)."""
    return shape_ops.join(axis, *tensors)


def shape(x):
    """The shape of ``x`` as an int64 vector."""
    return shape_ops.Shape()(basic.as_variable(x))


def squeeze(x, axis=None):
    """Drop axes of length 1: all those of static length 1, or those in ``axis``
    (whose length, if not static, is checked when called, as NumPy does)."""
    x = basic.as_variable(x)
    if axis is None:
        axes = [i for i, s in enumerate(x.type.shape) if s == 1]
    else:
        axes = reduction.normalize_axis(axis, x.ndim, "squeeze")
        x = addbroadcast(x, *axes)
    return shape_ops.dimshuffle(x, [i for i in range(x.ndim) if i not in axes])


def expand_dims(x, axis):
    """Insert a length-1 axis at ``axis`` (an int or a tuple)."""
    x = basic.as_variable(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = x.ndim + len(axes)
    axes = {basic.axis_index(a, ndim, "expand_dims") for a in axes}
    it = iter(range(x.ndim))
    return shape_ops.dimshuffle(x, ["x" if i in axes else next(it) for i in range(ndim)])


def _shape_args(shape):
    if isinstance(shape, (int, np.integer)) or (isinstance(shape, Variable) and shape.ndim == 0):
        return [shape]
    if isinstance(shape, Variable):
        return [shape[i] for i in range(shape.type.shape[0])]
    return list(shape)


def zeros(shape, dtype=None):
    """A tensor of zeros of ``shape`` (ints or symbolic scalars)."""
    return shape_ops.alloc(basic.constant(0, dtype=dtype or config.floatX), *_shape_args(shape))


def ones(shape, dtype=None):
    return shape_ops.alloc(basic.constant(1, dtype=dtype or config.floatX), *_shape_args(shape))


def fill(model, value):
    """A tensor shaped like ``model`` filled with ``value`` (Theano's ``fill``)."""
    model = basic.as_variable(model)
    value = basic.as_operands(model, value)[1]
    return shape_ops.alloc(value, *shape_ops.shape_list(model))


second = fill       # Theano's second(a, b): b broadcast to a's shape


# --------------------------------------------------------------------- indexing
set_subtensor, inc_subtensor = subtensor.set_subtensor, subtensor.inc_subtensor


# ------------------------------------------------------ Theano's other spellings
# Names Theano code uses for what the builders above already compute.
abs_ = ew.abs


def shape_padleft(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable axes in front (Theano's)."""
    return expand_dims(x, tuple(range(n_ones)))


def shape_padright(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable axes at the end (Theano's)."""
    ndim = basic.as_variable(x).ndim
    return expand_dims(x, tuple(range(ndim, ndim + n_ones)))


def shape_padaxis(x, axis):
    """``x`` with a broadcastable axis inserted at ``axis`` (Theano's)."""
    return expand_dims(x, axis)


def addbroadcast(x, *axes):
    """``x`` with ``axes`` declared of length 1 (Theano's): a call where one is not
    raises a ShapeError."""
    x = basic.as_variable(x)
    axes = {basic.axis_index(a, x.ndim, "addbroadcast") for a in axes}
    if {x.type.shape[a] for a in axes} <= {1}:    # (``all`` is the reduction here)
        return x
    dims = shape_ops.shape_list(x)
    return shape_ops.reshape(x, [1 if i in axes else d for i, d in enumerate(dims)])


def patternbroadcast(x, broadcastable):
    """``x`` with the axes flagged True declared of length 1 (Theano's; a False flag
    cannot forget a static length, and is left as it is)."""
    return addbroadcast(x, *[i for i, flag in enumerate(broadcastable) if flag])


def max_and_argmax(x, axis=None, keepdims=False):
    """``(max, argmax)`` over ``axis`` (Theano's; None: the flattened tensor)."""
    return reduction.max(x, axis, keepdims), reduction.argmax(x, axis, keepdims)


def iround(x, mode=None):
    """``round(x, mode)`` as int64 (Theano's)."""
    return ew.cast(round(x, mode), "int64")


def eye(n, m=None, k=0, dtype=None):
    """The ``n`` x ``m`` matrix with ones on diagonal ``k`` (ints or int scalars)."""
    m = n if m is None else m
    rows = shape_ops.dimshuffle(shape_ops.arange(n, dtype="int64"), [0, "x"])
    cols = shape_ops.dimshuffle(shape_ops.arange(m, dtype="int64"), ["x", 0])
    return ew.cast(ew.eq(ew.add(rows, k), cols), dtype or config.floatX)



def identity_like(x):
    """The identity matrix of ``x``'s shape and dtype (Theano's ``identity_like``)."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise GraphcTypeError(f"identity_like: x must be a matrix, got {x.type}")
    rows, cols = shape_ops.shape_list(x)
    return eye(rows, cols, dtype=x.dtype)


def take(a, indices, axis=None):
    """NumPy's ``take``: ``a.flatten()[indices]``, or ``indices`` along ``axis``.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> a, i = T.dmatrix("a"), T.lvector("i")
    >>> f = graphc.function([a, i], T.take(a, i, axis=1), backend="python")
    >>> f(np.arange(6.0).reshape(2, 3), [2, 0])
    array([[2., 0.],
           [5., 3.]])
    """
    a = as_tensor_variable(a)
    if axis is None:
        return a.flatten()[indices]
    axis = basic.axis_index(axis, a.ndim, "take")
    return a[(slice(None),) * axis + (indices,)]


__all__ = [
    "scalars", "vectors", "matrices", "tensor3s", "tensor4s", "fscalars", "fvectors",
    "fmatrices", "ftensor3s", "ftensor4s", "dscalars", "dvectors", "dmatrices",
    "dtensor3s", "dtensor4s", "iscalars", "ivectors", "imatrices", "itensor3s",
    "itensor4s", "lscalars", "lvectors", "lmatrices", "ltensor3s", "ltensor4s", "bscalars",
    "bvectors", "bmatrices", "btensor3s", "btensor4s", "abs", "abs_", "add",
    "addbroadcast", "all", "alloc", "and_", "any", "arange", "arccos", "arcsin", "arctan",
    "argmax", "argmin", "as_tensor", "as_tensor_variable", "batched_dot", "bitwise_not",
    "bmatrix", "bscalar", "btensor3", "btensor4", "bvector", "cast", "ceil", "clip",
    "concatenate", "constant", "cos", "cosh", "dimshuffle", "dmatrix", "dot", "dscalar",
    "dtensor3", "dtensor4", "dvector", "eq", "erf", "exp", "exp2", "expand_dims", "expm1",
    "eye", "fill", "flatten", "floor", "floor_div", "fmatrix", "fscalar", "ftensor3",
    "ftensor4", "fvector", "ge", "gt", "imatrix", "inc_subtensor", "int_div", "inv",
    "invert", "iround", "iscalar", "isinf", "isnan", "itensor3", "itensor4", "ivector",
    "join", "le", "lmatrix", "log", "log10", "log1p", "log2", "logsumexp", "lscalar", "lt",
    "ltensor3", "ltensor4", "lvector", "matmul", "matrix", "max", "max_and_argmax",
    "maximum", "mean", "min", "minimum", "mod", "mul", "neg", "neq", "ones", "ones_like",
    "or_", "outer", "patternbroadcast", "pow", "prod", "repeat", "reshape", "round",
    "scalar", "set_subtensor", "sgn", "shape", "shape_padaxis", "shape_padleft",
    "shape_padright", "sigmoid", "sin", "sinh", "softplus", "sqr", "sqrt", "squeeze",
    "stack", "std", "sub", "sum", "switch", "tan", "tanh", "tensor", "tensor3", "tensor4",
    "tensordot", "tile", "transpose", "true_div", "true_divide", "var", "vector", "where",
    "xor", "zeros", "zeros_like", "bitwise_and", "bitwise_or", "bitwise_xor", "second",
    "identity_like", "take",
]
# Theano's rows, columns and 5-d tensors, in every dtype (and plural).
__all__ += [_prefix + _kind for _prefix in _PREFIXES for _kind in ("row", "col", "tensor5")]
__all__ += [_prefix + _plural for _prefix in _PREFIXES
            for _plural in ("rows", "cols", "tensor5s")]
# Theano's special functions, rounding modes, angle conversions and comparisons.
__all__ += [
    "allclose", "arccosh", "arcsinh", "arctanh", "deg2rad", "erfc", "erfcinv", "erfinv",
    "gamma", "gammaln", "isclose", "largest", "lgamma", "power", "psi", "rad2deg",
    "round_half_away_from_zero", "round_half_to_even", "smallest", "trunc",
]
