"""Python operators and methods of symbolic variables.

``graphc.graph`` knows nothing about arithmetic; importing ``graphc.tensor``
attaches these to :class:`graphc.graph.Variable` (JAX attaches its array
methods to abstract values the same way). ``==`` is not overloaded: variables
stay hashable by identity, and ``T.eq`` compares values, as in Theano.
"""
from graphc.errors import GraphcTypeError
from graphc.graph import Variable
from graphc.ops import elemwise as ew
from graphc.ops import extra
from graphc.ops import linalg
from graphc.ops import reduction
from graphc.ops import shape as shape_ops
from graphc.ops import subtensor


def _swap(fn):
    return lambda self, other: fn(other, self)


# Python operator -> builder; the reflected form swaps operands.
_BINARY = {
    "add": ew.add, "sub": ew.sub, "mul": ew.mul, "truediv": ew.true_div,
    "floordiv": ew.floor_div, "mod": ew.mod, "pow": ew.pow, "matmul": linalg.matmul,
    "and": ew.and_, "or": ew.or_, "xor": ew.xor,
}
_COMPARE = {"lt": ew.lt, "le": ew.le, "gt": ew.gt, "ge": ew.ge}
_UNARY = {"neg": ew.neg, "abs": ew.abs, "invert": ew.invert, "pos": lambda x: x}


def _reshape(self, *shape, ndim=None):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return shape_ops.reshape(self, shape, ndim=ndim)


def _dimshuffle(self, *pattern):
    if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
        pattern = pattern[0]
    return shape_ops.dimshuffle(self, pattern)


def _transpose(self, *axes):
    if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
        axes = axes[0]
    return linalg.transpose(self, axes or None)


def _norm(self, L, axis=None, keepdims=False):
    """The ``L``-norm over ``axis`` (all axes by default)."""
    if L == 1:
        return reduction.sum(ew.abs(self), axis, keepdims)
    if L == 2:
        return ew.sqrt(reduction.sum(ew.sqr(self), axis, keepdims))
    if L == float("inf"):
        return reduction.max(ew.abs(self), axis, keepdims)
    return ew.pow(reduction.sum(ew.pow(ew.abs(self), L), axis, keepdims), 1.0 / L)


def _shape(self):
    from graphc.ops.shape import Shape
    return Shape()(self)


def _len(self):
    length = self.type.shape[0] if self.ndim else None
    if length is None:
        raise GraphcTypeError(f"len() of {self.describe()}: the length is only known when "
                              "called; use x.shape[0]")
    return length


def _iter(self):
    """The entries along the first axis, when its length is static: ``n, m = x.shape``
    (Theano's, for shape vectors and other vectors of known length)."""
    length = self.type.shape[0] if self.ndim else None
    if length is None:
        raise GraphcTypeError(f"cannot iterate over {self.describe()}: its length is only "
                              "known when called; index it instead")
    return (subtensor.index(self, i) for i in range(length))


METHODS = {
    "__getitem__": subtensor.index,
    "sum": reduction.sum, "prod": reduction.prod, "mean": reduction.mean,
    "var": reduction.var, "std": reduction.std, "max": reduction.max, "min": reduction.min,
    "argmax": reduction.argmax, "argmin": reduction.argmin,
    "all": reduction.all, "any": reduction.any,
    "reshape": _reshape, "flatten": shape_ops.flatten, "dimshuffle": _dimshuffle,
    "transpose": _transpose, "astype": ew.cast, "clip": ew.clip, "dot": linalg.dot,
    "norm": _norm, "__len__": _len, "__iter__": _iter, "repeat": shape_ops.repeat,
    "sort": extra.sort, "argsort": extra.argsort, "cumsum": extra.cumsum,
    "cumprod": extra.cumprod, "diagonal": extra.diagonal, "trace": extra.trace,
    "T": property(lambda self: linalg.transpose(self)),
    "shape": property(_shape),
    "size": property(lambda self: reduction.prod(_shape(self))),
    # NumPy must hand mixed operations to our reflected operators.
    "__array_ufunc__": None,
}


def install():
    """Attach the operators and methods to :class:`Variable` (idempotent)."""
    for name, fn in _BINARY.items():
        setattr(Variable, f"__{name}__", fn)
        setattr(Variable, f"__r{name}__", _swap(fn))
    for name, fn in _COMPARE.items():
        setattr(Variable, f"__{name}__", fn)
    for name, fn in _UNARY.items():
        setattr(Variable, f"__{name}__", fn)
    for name, fn in METHODS.items():
        setattr(Variable, name, fn)
