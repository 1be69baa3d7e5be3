"""Reverse-mode differentiation over graphs, as in Theano.

:func:`grad` walks the graph from a scalar cost back towards ``wrt`` and calls
each op's ``grad`` rule, which builds new symbolic nodes: the gradient is a graph
like any other, rewritten and compiled with the rest. Before walking, the cost
graph is stabilized (``log(softmax(x))`` becomes ``log_softmax(x)``...) so that
the gradient is built from the stable ops and their stable rules.
"""
import numpy as np

from graphc.errors import (DisconnectedInputError, GradientError, GraphcTypeError,
                           GraphcValueError)
from graphc.graph import Node, Op, TensorType, Variable, ancestors, clone_replace, toposort
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import shape as shape_ops


# --------------------------------------------------------- gradient shapers
class GradientShaper(Op):
    """Identity in the forward pass; changes the gradient flowing through it.

    ``kind`` is ``"zero"`` (gradient replaced by zeros), ``"disconnected"`` (no
    gradient at all), ``"clip"`` (clipped to ``[lo, hi]``) or ``"scale"`` (times k:
    a number in ``params``, or a symbolic scalar given as a second input).
    """

    __props__ = ("kind", "params")
    view_map = {0: 0}

    def __init__(self, kind, params=()):
        self.kind = kind
        self.params = tuple(params)

    def make_node(self, x, *multiplier):
        x = basic.as_variable(x)
        return Node(self, [x] + [basic.as_variable(k) for k in multiplier], [x.type])

    def perform(self, node, inputs):
        return [inputs[0]]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        (x, *multiplier), (gz,) = inputs, output_grads
        if self.kind == "zero":
            return [ew.zeros_like(x)]
        if self.kind == "disconnected":
            return [None]
        if self.kind == "clip":
            lo, hi = self.params
            return [ew.clip(gz, lo, hi)]
        if multiplier:
            return [ew.cast(ew.mul(gz, multiplier[0]), gz.dtype), None]
        return [ew.mul(gz, self.params[0])]


def zero_grad(x):
    """``x`` in the forward pass; its gradient is zero."""
    return GradientShaper("zero")(x)


def disconnected_grad(x):
    """``x`` in the forward pass; no gradient flows through it."""
    return GradientShaper("disconnected")(x)


def grad_clip(x, lower_bound, upper_bound):
    """``x`` in the forward pass; its gradient is clipped to ``[lower, upper]``."""
    if lower_bound > upper_bound:
        raise GraphcValueError(f"grad_clip: lower bound {lower_bound} > upper {upper_bound}")
    return GradientShaper("clip", (float(lower_bound), float(upper_bound)))(x)


def grad_scale(x, multiplier):
    """``x`` in the forward pass; its gradient is multiplied by ``multiplier``
    (a number or a symbolic scalar)."""
    if isinstance(multiplier, Variable):
        if multiplier.ndim != 0:
            raise GraphcTypeError(f"grad_scale: the multiplier must be a scalar, got "
                                  f"{multiplier.type}")
        return GradientShaper("scale")(x, multiplier)
    try:
        return GradientShaper("scale", (float(multiplier),))(x)
    except (TypeError, ValueError):
        raise GraphcTypeError(f"grad_scale: the multiplier must be a number or a scalar "
                              f"variable, got {multiplier!r}") from None


# ------------------------------------------------------------------------ grad
def _is_float(var):
    return np.dtype(var.dtype).kind == "f"


def _stabilize(cost, wrt):
    """Run the stabilizing rewrites on the cost graph, keeping ``wrt`` in place."""
    from graphc.passes import stabilize_for_grad
    return stabilize_for_grad(cost, wrt)


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", known_grads=None,
         return_disconnected="zero"):
    """Symbolic gradient of a scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost : Variable or None
        A scalar of a floating dtype (``None`` if ``known_grads`` seeds the walk).
    wrt : Variable or list of Variable
        Inputs, shared variables or intermediate variables of the graph.
    consider_constant : list of Variable, optional
        No gradient flows through these.
    disconnected_inputs : {"raise", "warn", "ignore"}
        What to do for a ``wrt`` the cost does not depend on (its gradient is zero).
    known_grads : dict, optional
        ``{variable: gradient}`` to start from, as Theano's: a variable listed
        here has exactly that gradient (what the cost would send it is not added).

    Returns
    -------
    Variable, list or tuple of Variable
        Same structure as ``wrt``.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dscalar("x")
    >>> g = graphc.grad(x ** 3, x)
    >>> float(graphc.function([x], g, backend="python")(2.0))
    12.0
    """
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise GraphcValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', "
                               f"got {disconnected_inputs!r}")
    for position, var in enumerate(wrt_list):
        if not isinstance(var, Variable):
            raise GraphcTypeError(f"grad: wrt[{position}] is not a variable: {var!r}")
        if not _is_float(var):
            raise GraphcTypeError(f"grad: cannot differentiate with respect to "
                                  f"{var.describe()}: its dtype {var.dtype} is not floating")
    seeds = dict(known_grads or {})
    if cost is not None:
        cost = basic.as_variable(cost)
        if cost.ndim != 0:
            raise GraphcTypeError(f"grad: the cost must be a scalar, got {cost.type}; "
                                  "use .sum() or jacobian()")
        if not _is_float(cost):
            raise GraphcTypeError(f"grad: the cost has dtype {cost.dtype}; an integer or "
                                  "boolean cost has no gradient")
        if not seeds:
            # Keep intact what the walk must find again: wrt and consider_constant.
            cost = _stabilize(cost, wrt_list + list(consider_constant or ()))
        # Theano's fill(cost, 1): the gradient's graph reads the cost, so that the
        # inputs of a linear cost stay inputs of its gradient (3 * x -> 3 needs x).
        seeds[cost] = ew.apply("second", cost, 1)
    elif not seeds:
        raise GraphcValueError("grad: give a cost or known_grads")
    grads = backprop(list(seeds.items()), wrt_list, consider_constant or (),
                     fixed=set(known_grads or ()))
    result = []
    for var, g in zip(wrt_list, grads):
        if g is None:
            message = (f"grad: the cost does not depend on {var.describe()}")
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(message + " (disconnected_inputs='ignore' "
                                             "returns zeros)")
            if disconnected_inputs == "warn":
                import warnings
                warnings.warn(message, stacklevel=2)
            g = ew.zeros_like(var) if return_disconnected == "zero" else None
        result.append(g)
    return result[0] if single else _as_structure_of(wrt, result)


def _as_structure_of(wrt, items):
    """``items`` as a tuple when ``wrt`` is one (Theano keeps the caller's structure)."""
    return tuple(items) if isinstance(wrt, tuple) else list(items)


def backprop(seeds, wrt, consider_constant=(), fixed=()):
    """Gradients of ``wrt`` given ``[(variable, its gradient), ...]``; None if disconnected.

    The gradients of the seeded variables add up with what their consumers send
    them, except for those in ``fixed``, whose gradient is their seed alone.
    """
    blockers = set(consider_constant)
    roots = [var for var, _ in seeds]
    # Only nodes on a path from some wrt to some seeded variable need a rule.
    reaching = set(wrt)
    order = toposort(roots)
    for node in order:
        if any(v in reaching for v in node.inputs) and not any(
                out in blockers for out in node.outputs):
            reaching.update(node.outputs)
    contributions = {}
    for var, g in seeds:
        g = basic.as_operands(var, g)[1]
        contributions.setdefault(var, []).append(g)
    for node in reversed(order):
        if not any(out in reaching for out in node.outputs):
            continue
        if any(out in blockers for out in node.outputs):
            continue
        output_grads = [_total(contributions.get(out)) for out in node.outputs]
        if all(g is None for g in output_grads):
            continue
        if len(node.outputs) > 1:
            output_grads = [ew.zeros_like(out) if g is None else g
                            for out, g in zip(node.outputs, output_grads)]
        needed = [v in reaching and _is_float(v) for v in node.inputs]
        if not any(needed):
            continue
        input_grads = node.op.grad(list(node.inputs), list(node.outputs), output_grads)
        if len(input_grads) != len(node.inputs):
            raise GraphcTypeError(f"{node.op}.grad returned {len(input_grads)} gradients for "
                                  f"{len(node.inputs)} inputs")
        for var, g, need in zip(node.inputs, input_grads, needed):
            if g is None or not need or var in fixed:
                continue
            if g.ndim != var.ndim:
                raise GraphcTypeError(f"{node.op}.grad gave a gradient of {g.type} for input "
                                      f"{var.describe()}")
            contributions.setdefault(var, []).append(ew.cast(g, var.dtype))
    return [_total(contributions.get(var)) for var in wrt]


def _total(parts):
    if not parts:
        return None
    total = parts[0]
    for part in parts[1:]:
        total = ew.add(total, part)
    return total


# ---------------------------------------------------------- jacobian, hessian
def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Jacobian of ``expression`` (a vector or scalar) with respect to ``wrt``.

    The result has shape ``expression.shape + wrt.shape``. The rows are built by
    unrolling when the length of ``expression`` is known statically, and by a
    loop op evaluating one row per element otherwise.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> J = graphc.jacobian(x ** 2, x)
    >>> graphc.function([x], J, backend="python")([1.0, 2.0])
    array([[2., 0.],
           [0., 4.]])
    """
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    expression = basic.as_variable(expression)
    if expression.ndim == 0:
        rows = grad(expression, wrt_list, consider_constant, disconnected_inputs)
        return rows[0] if single else _as_structure_of(wrt, rows)
    if expression.ndim != 1:
        raise GraphcTypeError(f"jacobian: the expression must be a scalar or a vector, got "
                              f"{expression.type}")
    length = expression.type.shape[0]
    results = []
    if length is not None:
        per_row = [grad(expression[i], wrt_list, consider_constant, disconnected_inputs)
                   for i in range(length)]
        for k, var in enumerate(wrt_list):
            rows = [row[k] for row in per_row]
            results.append(shape_ops.stack(rows) if rows else
                           ew.zeros_like(shape_ops.dimshuffle(var, ["x"] + list(range(var.ndim)))))
    else:
        for var in wrt_list:
            results.append(_jacobian_loop(expression, var, consider_constant,
                                          disconnected_inputs))
    return results[0] if single else _as_structure_of(wrt, results)


def _jacobian_loop(expression, var, consider_constant, disconnected_inputs):
    from graphc.ops.loop import map_rows
    i = Variable(TensorType("int64", ()), name="row")
    row = grad(expression[i], var, consider_constant, disconnected_inputs)
    return map_rows(row, i, shape_ops.shape_list(expression)[0])


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of a scalar ``cost``: ``jacobian(grad(cost, wrt), wrt)``.

    As in Theano, ``disconnected_inputs`` applies to the gradient; a gradient
    that does not depend on ``wrt`` (a linear cost) gives a zero Hessian.
    """
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    result = []
    for var in wrt_list:
        if var.ndim != 1:
            raise GraphcTypeError(f"hessian: wrt must be vectors, got {var.type}")
        g = grad(cost, var, consider_constant, disconnected_inputs)
        result.append(jacobian(g, var, consider_constant, disconnected_inputs="ignore"))
    return result[0] if single else _as_structure_of(wrt, result)


# ------------------------------------------------------------------ Lop, Rop
def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product ``v^T (df/dwrt)`` for ``eval_points`` v shaped like ``f``."""
    fs = f if isinstance(f, (list, tuple)) else [f]
    vs = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    known = {out: basic.as_operands(out, v)[1] for out, v in zip(fs, vs)}
    return grad(None, wrt, consider_constant, disconnected_inputs, known_grads=known)


def Rop(f, wrt, eval_points, disconnected_inputs="raise"):
    """Jacobian-vector product ``(df/dwrt) v`` for ``eval_points`` v shaped like ``wrt``.

    Built from two reverse passes: with ``u`` shaped like ``f``,
    ``Rop = d(Lop(f, wrt, u) . v)/du``, which does not depend on ``u``.
    """
    single_f = not isinstance(f, (list, tuple))
    fs = [f] if single_f else list(f)
    wrts = wrt if isinstance(wrt, (list, tuple)) else [wrt]
    vs = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    results = []
    for out in fs:
        u = out.type.make_variable(name="u")
        lops = Lop(out, list(wrts), [u], disconnected_inputs=disconnected_inputs)
        inner = None
        for lop, v in zip(lops, vs):
            term = basic.as_operands(lop, v)
            piece = ew.mul(term[0], term[1]).sum()
            inner = piece if inner is None else ew.add(inner, piece)
        jv = grad(inner, u, disconnected_inputs="ignore")
        if u in ancestors([jv]):
            (jv,) = clone_replace([jv], {u: ew.zeros_like(out)})
        results.append(jv)
    return results[0] if single_f else results


# --------------------------------------------------------------- verify_grad
def verify_grad(fun, points, n_tests=2, rng=None, eps=None, abs_tol=None, rel_tol=None,
                backend="python", cast_to_output_type=False, mode=None, out_type=None,
                no_debug_ref=True):
    """Check the symbolic gradient of ``fun`` against central finite differences.

    ``fun`` receives one symbolic float64 variable per point and returns a
    symbolic expression; its output is projected on a random direction to get a
    scalar, whose gradient is compared, in float64, to finite differences.
    ``rng`` is a NumPy ``Generator``, a ``RandomState`` or the ``numpy.random``
    module, as Theano code passes. ``mode`` (Theano's) compiles with that mode
    instead of ``backend``; ``out_type`` and ``no_debug_ref`` are accepted and
    ignored, as ``cast_to_output_type`` (the check is always in float64).

    Raises
    ------
    GradientError
        Naming the input and the worst entry, with both gradients.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> graphc.verify_grad(lambda x: T.tanh(x).sum(), [np.array([0.1, -0.5])])
    """
    from graphc.compile import function
    rng = rng if rng is not None else np.random.default_rng(42)
    if isinstance(rng, np.random.RandomState):
        rng = np.random.default_rng(rng.randint(2 ** 31))
    points = [np.array(p, dtype="float64") for p in points]
    eps = 1e-6 if eps is None else eps
    abs_tol = 1e-4 if abs_tol is None else abs_tol
    rel_tol = 1e-4 if rel_tol is None else rel_tol
    variables = [Variable(TensorType("float64", (None,) * p.ndim), name=f"input{k}")
                 for k, p in enumerate(points)]
    output = basic.as_variable(fun(*variables))
    if not _is_float(output):
        raise GraphcTypeError(f"verify_grad: fun returned {output.type}, not a float tensor")
    output = ew.cast(output, "float64")
    direction = output.type.make_variable(name="direction")
    cost = ew.mul(output, direction).sum()
    grads = grad(cost, variables, disconnected_inputs="ignore")
    compiled = {"mode": mode} if mode is not None else {"backend": backend}
    f_cost = function(variables + [direction], cost, on_unused_input="ignore", **compiled)
    f_grad = function(variables + [direction], grads, on_unused_input="ignore", **compiled)
    out_shape = np.shape(function(variables, output, on_unused_input="ignore",
                                  **compiled)(*points))
    for _ in range(n_tests):
        t = rng.uniform(0.5, 1.5, size=out_shape) * rng.choice([-1.0, 1.0], size=out_shape)
        symbolic = f_grad(*points, t)
        for k, point in enumerate(points):
            numeric = np.zeros_like(point)
            for index in np.ndindex(point.shape):
                shifted = [p.copy() for p in points]
                shifted[k][index] = point[index] + eps
                plus = float(f_cost(*shifted, t))
                shifted[k][index] = point[index] - eps
                minus = float(f_cost(*shifted, t))
                numeric[index] = (plus - minus) / (2 * eps)
            _compare(k, np.asarray(symbolic[k]), numeric, abs_tol, rel_tol)


def _compare(k, symbolic, numeric, abs_tol, rel_tol):
    abs_err = np.abs(symbolic - numeric)
    rel_err = abs_err / np.maximum(np.abs(symbolic) + np.abs(numeric), 1e-8)
    bad = (abs_err > abs_tol) & (rel_err > rel_tol)
    bad |= np.isnan(symbolic) != np.isnan(numeric)
    if np.any(bad):
        worst = np.unravel_index(np.argmax(np.where(bad, abs_err, -1)), abs_err.shape) \
            if abs_err.ndim else ()
        raise GradientError(
            f"verify_grad: gradient of input {k} differs from finite differences at index "
            f"{tuple(int(i) for i in worst)}: symbolic {symbolic[worst]!r}, numeric "
            f"{numeric[worst]!r} (abs error {abs_err[worst]:.3g}, rel error "
            f"{rel_err[worst]:.3g}; tolerances abs {abs_tol}, rel {rel_tol})",
            arg=k, abs_err=float(abs_err[worst]), rel_err=float(rel_err[worst]))


__all__ = ["grad", "jacobian", "hessian", "Lop", "Rop", "verify_grad", "zero_grad",
           "disconnected_grad", "grad_clip", "grad_scale", "GradientError"]
