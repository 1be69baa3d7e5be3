"""Turning Python values into graph variables, with NumPy 2's weak scalars.

A Python ``int`` or ``float`` in an expression is *weak*: it takes the dtype of
the tensors it meets (``T.fvector() * 0.1`` stays float32). Everything else
(NumPy scalars and arrays, variables) is strong and promotes as NumPy does.
"""
import numbers

import numpy as np

from graphc.config import config
from graphc.errors import GraphcTypeError, GraphcValueError
from graphc.graph import Constant, TensorType, Variable


def is_weak(x):
    """True for a Python number that should adapt to the tensors it meets."""
    return isinstance(x, (int, float, bool)) and not isinstance(x, np.generic)


def default_dtype(x):
    """The dtype a Python number gets when nothing else decides it."""
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, numbers.Integral):
        return "int64"
    if isinstance(x, numbers.Real):
        return config.floatX
    raise GraphcTypeError(f"cannot make a tensor of {type(x).__name__} {x!r}")


def constant(value, dtype=None, name=None):
    """A :class:`Constant` holding ``value`` (a number or array).

    Python floats become ``config.floatX`` and ints ``int64`` unless ``dtype`` says.
    """
    if isinstance(value, Variable):
        raise GraphcTypeError(f"constant() got a symbolic variable {value.describe()}")
    if dtype is None:
        if is_weak(value):
            dtype = default_dtype(value)
        else:
            array = np.asarray(value)
            if array.dtype == object:
                raise GraphcTypeError(f"cannot make a tensor constant of {value!r}")
            if array.dtype.kind == "f" and not isinstance(value, (np.ndarray, np.generic)):
                # A list of Python floats is as weak as one float: floatX.
                dtype = config.floatX
            else:
                dtype = array.dtype
    try:
        array = np.array(value, dtype=dtype)
    except OverflowError:   # NumPy 2: a Python int out of the other operand's range
        raise GraphcTypeError(f"the Python integer {value!r} does not fit "
                              f"{np.dtype(dtype).name}; cast the tensor first") from None
    return Constant(TensorType(array.dtype, array.shape), array, name=name)


def as_variable(x, dtype=None):
    """Return ``x`` if it is a variable, else a constant made from it."""
    if isinstance(x, Variable):
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        # [x.shape[0], 3] as a shape: a stack of scalars.
        from graphc.ops import shape
        parts = [as_variable(e, dtype="int64" if is_weak(e) else None) for e in x]
        return shape.stack_scalars(parts)
    return constant(x, dtype=dtype)


def weak_dtype(value, strong_dtypes):
    """The dtype a weak Python number takes next to tensors of ``strong_dtypes``."""
    kinds = {np.dtype(d).kind for d in strong_dtypes}
    if isinstance(value, bool):
        return "bool" if not strong_dtypes else np.result_type(*strong_dtypes).name
    if isinstance(value, numbers.Integral):
        if not strong_dtypes:
            return "int64"
        result = np.result_type(*strong_dtypes)
        return "int64" if result.kind == "b" else result.name
    # A Python float: the floating dtype among the tensors, else floatX.
    if "f" in kinds:
        return np.result_type(*strong_dtypes).name
    return config.floatX


def as_operands(*values):
    """Variables for ``values``, with Python numbers typed like the tensors beside them."""
    strong = [v.dtype for v in values if isinstance(v, Variable)]
    strong += [np.asarray(v).dtype.name for v in values
               if not isinstance(v, Variable) and not is_weak(v)]
    result = []
    for v in values:
        if isinstance(v, Variable):
            result.append(v)
        elif is_weak(v):
            result.append(constant(v, dtype=weak_dtype(v, strong)))
        else:
            result.append(as_variable(v))
    return result


def axis_index(axis, ndim, context):
    """``axis`` as a non-negative index among ``ndim`` axes (negative ones count from
    the end), or a GraphcValueError naming ``context``: never wrapped around."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise GraphcTypeError(f"{context}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise GraphcValueError(f"{context}: axis {axis} is out of range for ndim {ndim}")
    return int(axis) % ndim

