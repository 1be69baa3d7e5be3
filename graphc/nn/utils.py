"""Helpers shared by the layers and updates (Lasagne's ``lasagne.utils``)."""
import numbers

import numpy as np

import graphc
import graphc.tensor as T
from graphc.errors import GraphcTypeError, GraphcValueError


def floatX(arr):
    """``arr`` as a NumPy array of dtype ``graphc.config.floatX``.

    Examples
    --------
    >>> from graphc.nn.utils import floatX
    >>> floatX([1, 2]).dtype
    dtype('float32')
    """
    return np.asarray(arr, dtype=graphc.config.floatX)


def shared_empty(dim=2, dtype=None):
    """A shared variable holding an empty array of ``dim`` axes."""
    dtype = dtype or graphc.config.floatX
    return graphc.shared(np.zeros((0,) * dim, dtype=dtype))


def is_variable(x):
    """True for symbolic graphc variables (inputs, expressions, shared variables)."""
    return isinstance(x, graphc.Variable)


def is_shared(x):
    """True for shared variables (they have storage: ``get_value``)."""
    return is_variable(x) and hasattr(x, "get_value")


def as_theano_expression(value):
    """``value`` as a symbolic expression (a constant unless it already is one).

    Examples
    --------
    >>> from graphc.nn.utils import as_theano_expression
    >>> as_theano_expression([1.0, 2.0]).ndim
    1
    """
    if is_variable(value):
        return value
    try:
        return T.constant(value)
    except Exception as error:
        raise GraphcTypeError(f"input of type {type(value).__name__} cannot be converted to a "
                        "symbolic expression") from error


as_graphc_expression = as_theano_expression


def collect_shared_vars(expressions):
    """The shared variables that ``expressions`` (one or a list) depend on, in order.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.utils import collect_shared_vars
    >>> w = graphc.shared(1.0, name="w")
    >>> collect_shared_vars([2 * w, w])
    [w]
    """
    if is_variable(expressions):
        expressions = [expressions]
    found = []
    seen = set()
    # Depth-first over owners; a LIFO stack so deep graphs do not recurse.
    stack = list(reversed(expressions))
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        if is_shared(var):
            found.append(var)
        elif var.owner is not None:
            stack.extend(reversed(var.owner.inputs))
    return found


def one_hot(x, m=None):
    """One-hot rows (floatX) for the integer labels ``x``, ``m`` classes
    (default ``max(x) + 1``)."""
    x = as_theano_expression(x)
    if m is None:
        m = T.cast(T.max(x) + 1, "int64")
    return T.cast(T.eq(x.dimshuffle(0, "x"), T.arange(m).dimshuffle("x", 0)),
                  graphc.config.floatX)


def unique(items):
    """The items in first-seen order, without repeats.

    Examples
    --------
    >>> from graphc.nn.utils import unique
    >>> unique([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    seen = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def as_tuple(x, N, t=None):
    """``x`` as a tuple of length ``N`` (a scalar is repeated), optionally checking
    that every element is of type ``t``.

    Examples
    --------
    >>> from graphc.nn.utils import as_tuple
    >>> as_tuple(3, 2)
    (3, 3)
    """
    try:
        X = tuple(x)
    except TypeError:
        X = (x,) * N
    if (t is not None) and not all(isinstance(v, t) for v in X):
        if t == int:
            expected = "int"
        elif isinstance(t, tuple):
            expected = " or ".join(type_.__name__ for type_ in t)
        else:
            expected = t.__name__
        raise GraphcTypeError(f"expected a single value or an iterable of {expected}, got {x!r}")
    if len(X) != N:
        raise GraphcValueError(f"expected a single value or an iterable with length {N}, got {x!r}")
    return X


def compute_norms(array, norm_axes=None):
    """The L2 norms of a NumPy weight array, over the axes a layer of its rank
    sums over (as :func:`graphc.nn.updates.norm_constraint` does)."""
    ndim = array.ndim
    if norm_axes is not None:
        sum_over = tuple(norm_axes)
    elif ndim == 1:
        sum_over = ()
    elif ndim == 2:
        sum_over = (0,)
    elif ndim in (3, 4, 5):
        sum_over = tuple(range(1, ndim))
    else:
        raise GraphcValueError(f"unsupported tensor dimensionality {ndim}; give norm_axes")
    return np.sqrt(np.sum(array ** 2, axis=sum_over))


def _broadcastable(shape):
    # As Lasagne's create_param: axes of length 1 are broadcastable, so the output
    # of a one-unit DenseLayer is a column (broadcastable (False, True)) and
    # objectives align a vector of targets with it instead of broadcasting to N x N.
    return tuple(length == 1 for length in shape)


def create_param(spec, shape, name=None):
    """A parameter of ``shape`` from ``spec``: an initializer (any callable taking
    a shape), a NumPy array, or a symbolic variable used as it is.

    A new shared variable has its axes of length 1 broadcastable, as in Lasagne.

    Examples
    --------
    >>> from graphc.nn.utils import create_param
    >>> from graphc.nn.init import Constant
    >>> create_param(Constant(1.0), (2, 3), name="W").get_value().shape
    (2, 3)
    >>> create_param(Constant(1.0), (2, 1)).broadcastable
    (False, True)
    """
    shape = tuple(shape)
    if any(d <= 0 for d in shape):
        raise GraphcValueError(f"cannot create param with a non-positive shape dimension; "
                         f"tried shape={shape!r}, name={name!r}")
    prefix = f"cannot initialize parameter {name}: "
    if isinstance(spec, numbers.Number) or (isinstance(spec, np.generic)
                                            and spec.dtype.kind in "biufc"):
        spec = np.asarray(spec)
    if isinstance(spec, np.ndarray):
        if spec.shape != shape:
            raise GraphcValueError(f"{prefix}the given array has shape {spec.shape}, "
                             f"should be {shape}")
        return graphc.shared(spec, name=name, broadcastable=_broadcastable(shape))
    if is_variable(spec):
        # A symbolic shape is known only when called; the rank can be checked now.
        if spec.ndim != len(shape):
            raise GraphcValueError(f"{prefix}the given variable has {spec.ndim} dimensions, "
                             f"should be {len(shape)}")
        return spec
    if callable(spec):
        arr = spec(shape)
        if is_variable(arr):
            return create_param(arr, shape, name)
        try:
            arr = floatX(arr)
        except Exception:
            raise RuntimeError(f"{prefix}the initializer did not return a NumPy array or "
                               "a symbolic variable") from None
        if arr.shape != shape:
            raise RuntimeError(f"{prefix}the initializer returned an array of shape "
                               f"{arr.shape}, should be {shape}")
        return graphc.shared(arr, name=name, broadcastable=_broadcastable(shape))
    raise GraphcTypeError(f"{prefix}expected a NumPy array, a symbolic variable or a callable, "
                    f"got {spec!r}")
