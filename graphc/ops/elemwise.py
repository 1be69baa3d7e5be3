"""Elementwise operations: one scalar function mapped over broadcast tensors.

A :class:`Scalar` says what one element does: its NumPy implementation, how it
picks its output dtype, and its gradient, side by side in :data:`SCALARS`. The
:class:`Elemwise` op maps a scalar over tensors of equal ndim (the builders at the
bottom add the leading ``'x'`` axes NumPy broadcasting implies). A
:class:`Composite` scalar is a small program of scalars: the fusion pass makes
them and the backends compile each into one loop.
"""
import math

import numpy as np

from graphc.config import config
from graphc.errors import GraphcError, GraphcTypeError, ShapeError
from graphc.graph import Node, Op, TensorType, user_site
from graphc.ops import basic
from graphc.ops import reduction
from graphc.ops import shape as shape_ops
from graphc.ops import special


# --------------------------------------------------------------- dtype rules
def upcast(*dtypes):
    return np.result_type(*dtypes).name


def to_float(*dtypes):
    """Upcast, then integers and booleans become floatX (as ``/`` on integers)."""
    dtype = np.result_type(*dtypes)
    return dtype.name if dtype.kind == "f" else config.floatX


def to_bool(*dtypes):
    return "bool"


def bitwise(*dtypes):
    if any(np.dtype(d).kind not in "iub" for d in dtypes):
        raise GraphcTypeError(f"bitwise operation on non-integer dtypes {dtypes}")
    return upcast(*dtypes)


def branches(cond, a, b):
    return upcast(a, b)


# -------------------------------------------------------------- scalar ops
class Scalar:
    """One scalar function.

    Parameters
    ----------
    name : str
    nin : int
    impl : callable
        NumPy implementation over arrays already cast to the compute dtype.
    dtype_rule : callable
        ``dtype_rule(*input_dtypes) -> output dtype``.
    grad : callable or None
        ``grad(inputs, output, gz) -> list`` of symbolic gradients (``None`` entries
        for inputs the output does not depend on smoothly); ``None`` if the output is
        piecewise constant (zero gradient).
    """

    def __init__(self, name, nin, impl, dtype_rule, grad=None, cast_inputs=True):
        self.name = name
        self.nin = nin
        self.impl = impl
        self.dtype_rule = dtype_rule
        self.grad = grad
        # Float ops on integers compute in the output dtype, as Theano and NumPy do.
        self.cast_inputs = cast_inputs

    def __reduce__(self):
        return (scalar_by_name, (self.name,))

    def __str__(self):
        return self.name

    __repr__ = __str__

    def out_dtype(self, *dtypes):
        return self.dtype_rule(*dtypes)

    def compute(self, inputs, out_dtype):
        if self.cast_inputs and np.dtype(out_dtype).kind == "f":
            inputs = [np.asarray(x, dtype=out_dtype) for x in inputs]
        # IEEE: NaN and Inf results are values, not warnings (x * 0 with x = inf).
        with np.errstate(all="ignore"):
            return np.asarray(self.impl(*inputs)).astype(out_dtype, copy=False)


class Cast(Scalar):
    """Conversion to ``dtype``; one instance per target dtype."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name
        super().__init__(f"cast_{self.dtype}", 1, lambda x: x, lambda d: self.dtype,
                         grad=_cast_grad, cast_inputs=False)

    def __reduce__(self):
        return (Cast, (self.dtype,))

    def __eq__(self, other):
        return isinstance(other, Cast) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("cast", self.dtype))


def _cast_grad(inputs, output, gz):
    (x,) = inputs
    if np.dtype(x.dtype).kind != "f":
        return [None]
    return [cast(gz, x.dtype)]


def _sigmoid_stable(x):
    # 1 - p loses everything for x << 0; exp(x) / (1 + exp(x)) does not.
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(x):
    # log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)).
    with np.errstate(over="ignore"):
        return np.logaddexp(0, x)


_erf_ufunc = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    return np.asarray(_erf_ufunc(x), dtype=np.float64).astype(np.asarray(x).dtype)


def _errstate(fn):
    """NumPy implementation that returns NaN/Inf silently, as IEEE says."""
    def wrapped(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    wrapped.__name__ = fn.__name__
    return wrapped


def _int_safe_floor_divide(x, y):
    with np.errstate(all="ignore"):
        return np.floor_divide(x, y)


def _true_div(x, y):
    with np.errstate(all="ignore"):
        return np.true_divide(x, y)


def _pow(x, y):
    with np.errstate(all="ignore"):
        if np.asarray(y).dtype.kind in "iu" and np.asarray(x).dtype.kind in "iu" \
                and np.any(np.asarray(y) < 0):
            raise GraphcTypeError("integers to negative integer powers are not allowed")
        return np.power(x, y)


# Gradient rules. Each receives the op's symbolic inputs, its output and the
# output's gradient, and returns one gradient per input.
def _g_add(inputs, z, gz):
    return [gz for _ in inputs]


def _g_sub(inputs, z, gz):
    return [gz, neg(gz)]


def _g_mul(inputs, z, gz):
    x, y = inputs
    return [mul(gz, y), mul(gz, x)]


def _g_true_div(inputs, z, gz):
    x, y = inputs
    return [true_div(gz, y), neg(true_div(mul(gz, x), sqr(y)))]


def _g_pow(inputs, z, gz):
    x, y = inputs
    gx = mul(mul(gz, y), pow(x, sub(y, 1)))
    gy = mul(mul(gz, log(x)), z) if np.dtype(y.dtype).kind == "f" else None
    return [gx, gy]


def _g_max_min(inputs, z, gz):
    # Ties give the whole gradient to both inputs, as Theano does.
    x, y = inputs
    return [mul(gz, cast(eq(z, x), gz.dtype)), mul(gz, cast(eq(z, y), gz.dtype))]


def _g_switch(inputs, z, gz):
    cond, a, b = inputs
    zero = basic.constant(0, dtype=gz.dtype)
    return [None, switch(cond, gz, zero), switch(cond, zero, gz)]


def _g_clip(inputs, z, gz):
    x, lo, hi = inputs
    inside = and_(ge(x, lo), le(x, hi))
    zero = basic.constant(0, dtype=gz.dtype)
    return [switch(inside, gz, zero), switch(lt(x, lo), gz, zero), switch(gt(x, hi), gz, zero)]


def _second(a, b):
    return np.array(np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b))))


def _relu(x):
    return np.maximum(x, np.zeros((), x.dtype))


def _unary(rule):
    """Gradient rule ``gz * rule(x, z)`` for a one-input scalar."""
    def grad(inputs, z, gz):
        return [mul(gz, rule(inputs[0], z))]
    return grad


def _g_psi(inputs, z, gz):
    # Its derivative is trigamma, which graphc (like Theano) does not have: say so
    # rather than return a wrong or zero gradient.
    raise GraphcError("psi (digamma) has no gradient: its derivative, trigamma, is not "
                      "implemented (as in Theano); gradients of gammaln and gamma are "
                      "fine, differentiating them twice is not")


_SQRT_PI = math.sqrt(math.pi)


# name -> (nin, impl, dtype rule, gradient). None as gradient: piecewise
# constant (zero gradient). Comparisons and integer ops have no gradient.
_TABLE = {
    # arithmetic
    "add": (2, np.add, upcast, _g_add),
    "sub": (2, np.subtract, upcast, _g_sub),
    "mul": (2, np.multiply, upcast, _g_mul),
    "true_div": (2, _true_div, to_float, _g_true_div),
    "floor_div": (2, _int_safe_floor_divide, upcast, "none"),
    # x % y = x - floor(x / y) * y: the gradient to y is -floor(x / y) (Theano's).
    "mod": (2, _errstate(np.mod), upcast,
            lambda i, z, gz: [gz, mul(gz, neg(floor(true_div(i[0], i[1]))))]),
    "pow": (2, _pow, upcast, _g_pow),
    "maximum": (2, np.maximum, upcast, _g_max_min),
    "minimum": (2, np.minimum, upcast, _g_max_min),
    "neg": (1, np.negative, upcast, lambda i, z, gz: [neg(gz)]),
    "abs": (1, np.abs, upcast, _unary(lambda x, z: sgn(x))),
    # max(x, 0) with Theano's gradient 0.5 * (1 + sgn(x)): 0.5 at 0, as its
    # 0.5 * (x + |x|) and the central finite difference give (maximum's tie rule
    # would give 1); the value is exact, and relu(-inf) is 0 where Theano's is NaN.
    "relu": (1, _relu, upcast, _unary(lambda x, z: mul(add(sgn(x), 1), 0.5))),
    "sgn": (1, np.sign, upcast, None),
    "sqr": (1, np.square, upcast, _unary(lambda x, z: mul(x, 2))),
    "inv": (1, _errstate(np.reciprocal), to_float, _unary(lambda x, z: neg(sqr(z)))),
    "floor": (1, np.floor, upcast, None),
    "ceil": (1, np.ceil, upcast, None),
    "round": (1, np.round, upcast, None),
    "round_half_away_from_zero": (1, special.round_half_away_from_zero, upcast, None),
    "trunc": (1, np.trunc, upcast, None),
    # transcendental
    "exp": (1, _errstate(np.exp), to_float, _unary(lambda x, z: z)),
    "exp2": (1, _errstate(np.exp2), to_float, _unary(lambda x, z: mul(z, math.log(2)))),
    # exp(x), not expm1(x) + 1: that rounds to 0 where exp(x) is below half an ulp
    # of 1 (float32 from x = -17), and the gradient of ELU's negative side with it.
    "expm1": (1, _errstate(np.expm1), to_float, _unary(lambda x, z: exp(x))),
    "log": (1, _errstate(np.log), to_float, _unary(lambda x, z: inv(x))),
    "log2": (1, _errstate(np.log2), to_float,
             _unary(lambda x, z: inv(mul(x, math.log(2))))),
    "log10": (1, _errstate(np.log10), to_float,
              _unary(lambda x, z: inv(mul(x, math.log(10))))),
    "log1p": (1, _errstate(np.log1p), to_float, _unary(lambda x, z: inv(add(x, 1)))),
    "sqrt": (1, _errstate(np.sqrt), to_float, _unary(lambda x, z: true_div(0.5, z))),
    "tanh": (1, np.tanh, to_float, _unary(lambda x, z: sub(1, sqr(z)))),
    "sinh": (1, _errstate(np.sinh), to_float, _unary(lambda x, z: cosh(x))),
    "cosh": (1, _errstate(np.cosh), to_float, _unary(lambda x, z: sinh(x))),
    "sin": (1, _errstate(np.sin), to_float, _unary(lambda x, z: cos(x))),
    "cos": (1, _errstate(np.cos), to_float, _unary(lambda x, z: neg(sin(x)))),
    "tan": (1, _errstate(np.tan), to_float, _unary(lambda x, z: add(1, sqr(z)))),
    "arcsin": (1, _errstate(np.arcsin), to_float,
               _unary(lambda x, z: inv(sqrt(sub(1, sqr(x)))))),
    "arccos": (1, _errstate(np.arccos), to_float,
               _unary(lambda x, z: neg(inv(sqrt(sub(1, sqr(x))))))),
    "arctan": (1, np.arctan, to_float, _unary(lambda x, z: inv(add(1, sqr(x))))),
    "arcsinh": (1, _errstate(np.arcsinh), to_float,
                _unary(lambda x, z: inv(sqrt(add(sqr(x), 1))))),
    "arccosh": (1, _errstate(np.arccosh), to_float,
                _unary(lambda x, z: inv(sqrt(sub(sqr(x), 1))))),
    "arctanh": (1, _errstate(np.arctanh), to_float,
                _unary(lambda x, z: inv(sub(1, sqr(x))))),
    "erf": (1, _erf, to_float,
            _unary(lambda x, z: mul(exp(neg(sqr(x))), 2 / math.sqrt(math.pi)))),
    # special functions (graphc/ops/special.py): references computed in float64
    "erfc": (1, special.erfc, to_float,
             _unary(lambda x, z: mul(exp(neg(sqr(x))), -2 / _SQRT_PI))),
    "erfinv": (1, special.erfinv, to_float,
               _unary(lambda x, z: mul(exp(sqr(z)), _SQRT_PI / 2))),
    "erfcinv": (1, special.erfcinv, to_float,
                _unary(lambda x, z: mul(exp(sqr(z)), -_SQRT_PI / 2))),
    "gammaln": (1, special.gammaln, to_float, _unary(lambda x, z: psi(x))),
    "gamma": (1, special.gamma, to_float, _unary(lambda x, z: mul(z, psi(x)))),
    "psi": (1, special.psi, to_float, _g_psi),
    "sigmoid": (1, _sigmoid_stable, to_float, _unary(lambda x, z: mul(z, sub(1, z)))),
    "softplus": (1, _softplus, to_float, _unary(lambda x, z: sigmoid(x))),
    # comparisons and logic: no gradient
    "eq": (2, np.equal, to_bool, "none"),
    "neq": (2, np.not_equal, to_bool, "none"),
    "lt": (2, np.less, to_bool, "none"),
    "le": (2, np.less_equal, to_bool, "none"),
    "gt": (2, np.greater, to_bool, "none"),
    "ge": (2, np.greater_equal, to_bool, "none"),
    "isnan": (1, np.isnan, to_bool, "none"),
    "isinf": (1, np.isinf, to_bool, "none"),
    "and_": (2, np.bitwise_and, bitwise, "none"),
    "or_": (2, np.bitwise_or, bitwise, "none"),
    "xor": (2, np.bitwise_xor, bitwise, "none"),
    "invert": (1, np.invert, bitwise, "none"),
    # selection
    "switch": (3, np.where, branches, _g_switch),
    # np.clip's dtype: the bounds count (clip(ivector, 0.5, 2.5) is floatX, as in
    # NumPy and Theano's upcast_out); a weak bound keeps the tensor's dtype.
    "clip": (3, np.clip, upcast, _g_clip),
    "identity": (1, lambda x: x, upcast, lambda i, z, gz: [gz]),
    # Theano's second(a, b) (its fill): b broadcast to the shape of both. grad seeds
    # a cost's gradient with second(cost, 1), so that the gradient graph reads the
    # cost; canonicalize turns it into an Alloc (for a scalar cost, the constant).
    "second": (2, _second, lambda a, b: b, lambda i, z, gz: [None, gz]),
}

# Ops whose inputs must not be cast to the output dtype before computing.
_NO_INPUT_CAST = {"switch", "eq", "neq", "lt", "le", "gt", "ge", "isnan", "isinf",
                  "and_", "or_", "xor", "invert", "clip", "second"}

SCALARS = {
    name: Scalar(name, nin, impl, rule, grad=grad, cast_inputs=name not in _NO_INPUT_CAST)
    for name, (nin, impl, rule, grad) in _TABLE.items()
}


def scalar_by_name(name):
    return SCALARS[name]


# ------------------------------------------------------------------ composite
class Composite(Scalar):
    """A small program of scalars, evaluated per element in one loop.

    ``steps`` is a tuple of ``(scalar, args)``; each arg is ``("in", i)``,
    ``("step", j)`` (an earlier step) or ``("const", value, dtype)``. ``outputs``
    are step indices. ``in_dtypes`` fixes the input dtypes the program was built for.
    """

    def __init__(self, steps, outputs, in_dtypes):
        self.steps = tuple(steps)
        self.outputs = tuple(outputs)
        self.in_dtypes = tuple(in_dtypes)
        self.step_dtypes = []
        for scalar, args in self.steps:
            self.step_dtypes.append(scalar.out_dtype(*[self._arg_dtype(a) for a in args]))
        name = "composite{" + ",".join(s.name for s, _ in self.steps) + "}"
        super().__init__(name, len(self.in_dtypes), None, None)

    def _arg_dtype(self, arg):
        if arg[0] == "in":
            return self.in_dtypes[arg[1]]
        if arg[0] == "step":
            return self.step_dtypes[arg[1]]
        return arg[2]

    def __reduce__(self):
        return (Composite, (self.steps, self.outputs, self.in_dtypes))

    def key(self):
        return (tuple((s, a) for s, a in self.steps), self.outputs, self.in_dtypes)

    def __eq__(self, other):
        return isinstance(other, Composite) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def out_dtypes(self):
        return [self.step_dtypes[i] for i in self.outputs]

    def evaluate(self, inputs):
        values = []
        for (scalar, args), dtype in zip(self.steps, self.step_dtypes):
            operands = [inputs[a[1]] if a[0] == "in" else values[a[1]] if a[0] == "step"
                        else np.asarray(a[1], dtype=a[2]) for a in args]
            values.append(scalar.compute(operands, dtype))
        return [values[i] for i in self.outputs]

    def describe(self):
        """The program as text, one step a line: ``s2 = exp(s1)``."""
        lines = []
        for j, (scalar, args) in enumerate(self.steps):
            names = [f"i{a[1]}" if a[0] == "in" else f"s{a[1]}" if a[0] == "step"
                     else repr(a[1]) for a in args]
            lines.append(f"s{j} = {scalar.name}({', '.join(names)})")
        return "; ".join(lines) + " -> " + ", ".join(f"s{i}" for i in self.outputs)


# ------------------------------------------------------------------- the op
def broadcast_static(shapes, context):
    """Output static shape of broadcasting ``shapes`` (equal lengths) or a ShapeError."""
    result = []
    for axis, dims in enumerate(zip(*shapes)):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            listing = " and ".join(str(tuple("?" if d is None else d for d in s))
                                   for s in shapes)
            raise ShapeError(f"{context}: shapes {listing} cannot be broadcast "
                             f"(axis {axis} has lengths {sorted(known)})")
        if known:
            result.append(known.pop())
        elif all(d == 1 for d in dims):
            result.append(1)
        else:
            result.append(None)
    return tuple(result)


class Elemwise(Op):
    """Apply a scalar function to each element of inputs of equal ndim.

    Broadcasting follows NumPy: an axis of length 1 stretches, at build time where
    the static shape knows it and at call time otherwise.
    """

    __props__ = ("scalar", "inplace")

    def __init__(self, scalar, inplace=None):
        self.scalar = scalar
        # inplace: None, or the index of an input whose buffer output 0 reuses.
        self.inplace = inplace
        self.destroy_map = {} if inplace is None else {0: inplace}

    def __str__(self):
        text = self.scalar.name
        return text if self.inplace is None else f"{text}[inplace {self.inplace}]"

    def make_node(self, *inputs):
        if len(inputs) != self.scalar.nin:
            raise GraphcTypeError(f"{self.scalar.name} takes {self.scalar.nin} inputs, "
                                  f"got {len(inputs)}")
        inputs = [basic.as_variable(x) for x in inputs]
        ndims = {x.ndim for x in inputs}
        if len(ndims) > 1:
            raise GraphcTypeError(f"{self.scalar.name}: inputs of different ndim {sorted(ndims)}"
                                  " (use the builders, which broadcast)")
        shape = broadcast_static([x.type.shape for x in inputs], self.scalar.name)
        dtypes = [x.dtype for x in inputs]
        if isinstance(self.scalar, Composite):
            out_dtypes = self.scalar.out_dtypes()
        else:
            out_dtypes = [self.scalar.out_dtype(*dtypes)]
        return Node(self, inputs, [TensorType(d, shape) for d in out_dtypes])

    def perform(self, node, inputs):
        shapes = [np.shape(x) for x in inputs]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            shown = [_shape_before_padding(v, shape) for v, shape in zip(node.inputs, shapes)]
            raise ShapeError(f"{self.scalar.name}: input shapes "
                             f"{' and '.join(map(str, shown))} cannot be broadcast") from None
        if isinstance(self.scalar, Composite):
            results = self.scalar.evaluate(inputs)
        else:
            results = [self.scalar.compute(inputs, node.outputs[0].dtype)]
        out_shape = np.broadcast_shapes(*shapes)
        return [np.broadcast_to(r, out_shape).copy() if r.shape != out_shape else r
                for r in results]

    def grad(self, inputs, outputs, output_grads):
        if isinstance(self.scalar, Composite):
            raise GraphcTypeError("gradients are taken before fusion; a fused node has none")
        (z,), (gz,) = outputs, output_grads
        rule = self.scalar.grad
        if rule == "none" or gz is None:
            return [None] * len(inputs)
        if rule is None:
            return [zeros_like(x) if np.dtype(x.dtype).kind == "f" else None for x in inputs]
        grads = rule(list(inputs), z, gz)
        result = []
        for x, g in zip(inputs, grads):
            if g is None or np.dtype(x.dtype).kind != "f":
                result.append(None)
                continue
            g = reduction.sum_to_shape_of(g, x)
            result.append(cast(g, x.dtype) if g.dtype != x.dtype else g)
        return result

    def infer_shape(self, node, input_shapes):
        return [shape_ops.broadcast_shapes_symbolic(input_shapes)] * len(node.outputs)


def _shape_before_padding(var, shape):
    """``shape`` without the leading length-1 axes that :func:`align` added to ``var``
    (the shape the user passed, ``(4,)`` rather than ``(1, 4)``)."""
    owner = var.owner
    if owner is None or not isinstance(owner.op, shape_ops.DimShuffle):
        return shape
    pattern = owner.op.pattern
    added = next((k for k, p in enumerate(pattern) if p != "x"), len(pattern))
    if list(pattern[added:]) != list(range(owner.inputs[0].ndim)):
        return shape
    return shape[added:]


# ------------------------------------------------------------------ builders
def align(inputs):
    """Pad inputs on the left with broadcastable axes so their ndims agree."""
    ndim = max(x.ndim for x in inputs)
    return [x if x.ndim == ndim else shape_ops.dimshuffle(x, ["x"] * (ndim - x.ndim)
                                                              + list(range(x.ndim)))
            for x in inputs]


def _weak_float_meets_integers(operands, inputs):
    """True if a Python float meets only integer/boolean tensors (it then gives floatX)."""
    if not any(isinstance(v, float) and basic.is_weak(v) for v in operands):
        return False
    return not any(np.dtype(x.dtype).kind in "fc"
                   for v, x in zip(operands, inputs) if not basic.is_weak(v))


# Ops NumPy refuses on booleans alone, with its advice (the backends would
# disagree otherwise: NumPy raises, compiled code computes something).
_NOT_ON_BOOLEANS = {
    "neg": "use ~ (T.invert) to negate booleans",
    "sub": "use ^ (T.xor) for the difference of booleans",
}


def apply(name, *operands):
    """Build the elementwise op ``name`` over operands (variables or numbers)."""
    scalar = SCALARS[name]
    inputs = basic.as_operands(*operands)
    if name in _NOT_ON_BOOLEANS and all(x.dtype == "bool" for x in inputs):
        raise GraphcTypeError(f"{name} of booleans is not supported, as in NumPy: "
                              f"{_NOT_ON_BOOLEANS[name]}")
    if scalar.dtype_rule in (upcast, to_float, branches) and \
            _weak_float_meets_integers(operands, inputs):
        # ``T.ivector() * 1.5`` is floatX (API.md), not NumPy's float64 of int32 and
        # float32: the integer operands compute in floatX. A switch keeps its condition.
        skip = 1 if name == "switch" else 0
        inputs = inputs[:skip] + [x if np.dtype(x.dtype).kind == "f" else cast(x, config.floatX)
                                  for x in inputs[skip:]]
    _check_broadcast(name, inputs)
    inputs = align(inputs)
    return Elemwise(scalar)(*inputs)


def _check_broadcast(name, inputs):
    """A build-time ShapeError naming the user's shapes (before left padding)."""
    ndim = max(x.ndim for x in inputs)
    padded = [(1,) * (ndim - x.ndim) + x.type.shape for x in inputs]
    try:
        broadcast_static(padded, name)
    except ShapeError as error:
        listing = " and ".join(str(tuple("?" if d is None else d for d in x.type.shape))
                               for x in inputs)
        reason = str(error).rsplit("(", 1)[-1]
        raise ShapeError(f"{name}: shapes {listing} cannot be broadcast ({reason} "
                         f"[building {name} at {user_site()}]") from None


def _builder(name, doc=None):
    def build(*operands):
        return apply(name, *operands)
    build.__name__ = name
    build.__qualname__ = name
    build.__doc__ = doc or f"Elementwise ``{name}`` with NumPy broadcasting."
    return build


def _documented(name, summary, values, results, notes="", keeps_integers=False):
    """A builder whose docstring has numpydoc sections and a runnable example
    (``T.<name>`` of the float64 vector ``values`` gives ``results``)."""
    if keeps_integers:
        returns = "Of ``x``'s dtype (integers are returned unchanged)."
    else:
        returns = "Of ``x``'s float dtype; integers and booleans give ``config.floatX``."
    notes = f"""
    Notes
    -----
    {notes}
""" if notes else ""
    doc = f"""{summary}

    Parameters
    ----------
    x : tensor-like

    Returns
    -------
    Variable
        {returns}
{notes}
    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> f = graphc.function([x], T.{name}(x), backend="python")
    >>> f({values})
    array({results})
    """
    return _builder(name, doc)


# One builder per scalar, by name (``abs`` and ``round`` shadow builtins only here).
add = _builder("add")
sub = _builder("sub")
mul = _builder("mul")
true_div = _builder("true_div")
floor_div = _builder("floor_div")
mod = _builder("mod")
pow = _builder("pow")
maximum = _builder("maximum")
minimum = _builder("minimum")
neg = _builder("neg")
abs = _builder("abs")
relu = _builder("relu")
sgn = _builder("sgn")
sqr = _builder("sqr")
inv = _builder("inv")
floor = _builder("floor")
ceil = _builder("ceil")
round = _builder("round")
round_half_away_from_zero = _documented(
    "round_half_away_from_zero", "Round to the nearest integer, ties away from zero (C's round).",
    "[-2.5, -0.5, 0.5, 1.5]", "[-3., -1.,  1.,  2.]",
    notes="NumPy's ``np.round`` (``T.round``) rounds ties to even instead.",
    keeps_integers=True)
trunc = _documented(
    "trunc", "The integer part of ``x`` (rounds toward zero).", "[-1.5, 2.7]", "[-1.,  2.]",
    keeps_integers=True)
exp = _builder("exp")
exp2 = _builder("exp2")
expm1 = _builder("expm1")
log = _builder("log")
log2 = _builder("log2")
log10 = _builder("log10")
log1p = _builder("log1p")
sqrt = _builder("sqrt")
tanh = _builder("tanh")
sinh = _builder("sinh")
cosh = _builder("cosh")
sin = _builder("sin")
cos = _builder("cos")
tan = _builder("tan")
arcsin = _builder("arcsin")
arccos = _builder("arccos")
arctan = _builder("arctan")
arcsinh = _documented("arcsinh", "Inverse hyperbolic sine, elementwise.", "[0.0, 1.0]",
                      "[0.        , 0.88137359]")
arccosh = _documented("arccosh", "Inverse hyperbolic cosine: NaN below 1.", "[1.0, 2.0]",
                      "[0.        , 1.3169579]")
arctanh = _documented("arctanh", "Inverse hyperbolic tangent: +-inf at +-1, NaN beyond.",
                      "[0.0, 0.5, 1.0]", "[0.        , 0.54930614,        inf]")
erf = _builder("erf")
erfc = _documented(
    "erfc", "Complementary error function ``1 - erf(x)``, accurate where it is tiny.",
    "[0.0, 10.0]", "[1.00000000e+00, 2.08848758e-45]")
erfinv = _documented(
    "erfinv", "Inverse error function: ``erf(erfinv(y)) == y`` on [-1, 1].",
    "[0.0, 0.5, 1.0, 2.0]", "[0.        , 0.47693628,        inf,        nan]",
    notes="``erfinv(+-1)`` is ``+-inf``; outside [-1, 1] the result is NaN.")
erfcinv = _documented(
    "erfcinv", "Inverse complementary error function: ``erfc(erfcinv(y)) == y`` on [0, 2].",
    "[1e-30, 1.0, 2.0]", "[8.14861622, 0.        ,       -inf]",
    notes="Accurate for tiny ``y`` (where ``erfinv(1 - y)`` would give inf). "
          "``erfcinv(0)``\n    is inf, ``erfcinv(2)`` -inf, NaN outside [0, 2].")
gammaln = _documented(
    "gammaln", "``log|gamma(x)|`` (Theano's gammaln; also ``T.lgamma``).",
    "[1.0, 0.5, 100.0, 0.0]", "[  0.        ,   0.57236494, 359.13420537,          inf]",
    notes="``inf`` at zero and the negative integers, where gamma has its poles. "
          "Its gradient\n    is ``psi(x)``.")
gamma = _documented(
    "gamma", "The gamma function: ``gamma(n) == (n - 1)!``.", "[5.0, 0.5, -1.0]",
    "[24.        ,  1.77245385,         nan]",
    notes="``+-inf`` at ``+-0`` and on overflow (``x > 171.6``), NaN at the negative"
          "\n    integers. Its gradient is ``gamma(x) * psi(x)``.")
psi = _documented(
    "psi", "Digamma, the derivative of ``gammaln``.", "[1.0, 0.5, 0.0]",
    "[-0.57721566, -1.96351003,        -inf]",
    notes="``-inf`` at +0 (``inf`` at -0), NaN at the negative integers. It has no "
          "gradient\n    (trigamma is not implemented, as in Theano): differentiating "
          "it raises GraphcError.")
sigmoid = _builder("sigmoid")
softplus = _builder("softplus")
eq = _builder("eq")
neq = _builder("neq")
lt = _builder("lt")
le = _builder("le")
gt = _builder("gt")
ge = _builder("ge")
isnan = _builder("isnan")
isinf = _builder("isinf")
and_ = _builder("and_")
or_ = _builder("or_")
xor = _builder("xor")
invert = _builder("invert")
switch = _builder("switch")
clip = _builder("clip")
identity = _builder("identity")


def cast(x, dtype):
    """``x`` converted to ``dtype`` (a no-op if it already has it)."""
    x = basic.as_variable(x)
    # Theano accepts the string "floatX" for config.floatX.
    try:
        dtype = np.dtype(config.floatX if dtype == "floatX" else dtype).name
    except TypeError:
        raise GraphcTypeError(f"cast of {x.describe()}: {dtype!r} is not a dtype") from None
    if x.dtype == dtype:
        return x
    return Elemwise(Cast(dtype))(x)


def zeros_like(x, dtype=None):
    """Zeros of the shape of ``x``."""
    return shape_ops.alloc(basic.constant(0, dtype=dtype or x.dtype), *shape_ops.shape_list(x))


def ones_like(x, dtype=None):
    return shape_ops.alloc(basic.constant(1, dtype=dtype or x.dtype), *shape_ops.shape_list(x))


def is_elemwise(var, name):
    """True if ``var`` is computed by the elementwise scalar ``name``."""
    return (var.owner is not None and isinstance(var.owner.op, Elemwise)
            and var.owner.op.scalar.name == name)


def as_float(x):
    x = basic.as_variable(x)
    return x if np.dtype(x.dtype).kind == "f" else cast(x, config.floatX)


