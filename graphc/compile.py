"""``graphc.function`` and ``graphc.shared``: from user graphs to callables.

``function`` collects the inputs, outputs, updates and givens into one
:class:`~graphc.graph.FunctionGraph` (explicit inputs first, then the shared
variables it reads; outputs first, then the new values of updated shared
variables), runs the rewrite pipeline, and hands the result to a backend.
The :class:`Function` it returns validates its arguments with a few precomputed
checks, calls the backend once, and writes all updates together afterwards, so
a call that raises changes no shared variable.
"""
import sys
import time
import warnings
import weakref

import numpy as np

from graphc import backends, passes
from graphc.config import config
from graphc.errors import (GraphcError, GraphcTypeError, GraphcValueError, MissingInputError,
                           ShapeError, UnusedInputError)
from graphc.graph import (Constant, FunctionGraph, SharedVariable, TensorType, Variable,
                          ancestors, clone_replace, graph_inputs, toposort)
from graphc.ops import basic
from graphc.ops.random import RandomState
from graphc import mode                 # graphc.compile.mode, as Theano's path
from graphc.mode import Mode, get_default_mode, get_mode

sys.modules.setdefault("graphc.compile.mode", mode)     # import graphc.compile.mode


# ---------------------------------------------------------------------- shared
def shared(value, name=None, *, borrow=False, shape=None, broadcastable=None, strict=False):
    """A variable with storage that persists between calls.

    Parameters
    ----------
    value : array_like or number
        Python floats become ``config.floatX``, Python ints ``int64``.
    name : str, optional
    borrow : bool
        Keep ``value`` itself as the storage instead of a copy.
    shape : tuple of (int or None), optional
        The static shape; by default every axis is ``None`` (any length), so a
        value of shape (1, n) broadcasts like the array it holds.
    broadcastable : tuple of bool, optional
        Theano's form of ``shape``: True for an axis of length 1 (as in Lasagne's
        ``shared(np.zeros(shape), broadcastable=param.broadcastable)``).
    strict : bool
        Theano's: the value's own dtype, with no conversion (a Python float stays
        float64).

    Examples
    --------
    >>> import graphc
    >>> w = graphc.shared(0.5, name="w")
    >>> w.dtype, w.get_value()
    ('float32', array(0.5, dtype=float32))
    """
    if isinstance(value, Variable):
        raise GraphcTypeError("shared() takes a value, not a symbolic variable")
    try:
        if strict or not basic.is_weak(value):
            array = np.asarray(value)
        else:
            array = np.asarray(value, dtype=basic.default_dtype(value))
    except (ValueError, TypeError) as error:    # a ragged nested list, say
        raise GraphcTypeError(f"shared(): cannot convert {type(value).__name__} to an "
                              f"array ({error})") from None
    if array.dtype.kind not in "biuf":
        raise GraphcTypeError(f"shared(): cannot store {type(value).__name__} {value!r:.60} "
                              f"(dtype {array.dtype}): a shared variable holds numbers")
    if not strict and array.dtype.kind == "f" and not isinstance(value, (np.ndarray,
                                                                         np.generic)):
        array = array.astype(config.floatX)
    if shape is None:
        shape = (None,) * array.ndim if broadcastable is None else broadcastable
    variable = SharedVariable(TensorType(array.dtype, tuple(shape)), None, name=name)
    variable.set_value(array, borrow=borrow and isinstance(value, np.ndarray))
    return variable


# ------------------------------------------------------------------ arguments
class In:
    """An input with options, as Theano's ``In`` (``Param`` is its old name).

    Parameters
    ----------
    variable : Variable
        The free variable the argument binds.
    name : str, optional
        The keyword that passes the argument (default: the variable's name).
    value : array_like, optional
        The default value, used when the call does not give the argument; it is
        converted once, when compiling.
    mutable, borrow : bool
        Accepted for Theano's sake: graphc never writes into an argument.
    implicit : bool
        Not a positional argument: the input takes ``value`` unless it is given by
        keyword.
    allow_downcast : bool or None
        This input's ``allow_input_downcast`` (None: the function's).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x, y = T.dscalars("x", "y")
    >>> f = graphc.function([x, graphc.In(y, value=1.5)], x + y, backend="python")
    >>> float(f(2.0)), float(f(2.0, 0.5)), float(f(x=2.0, y=4.0))
    (3.5, 2.5, 6.0)
    """

    # Class-level defaults: an In pickled before an option existed still loads.
    mutable = borrow = implicit = False
    allow_downcast = None

    def __init__(self, variable, name=None, value=None, mutable=False, borrow=False,
                 implicit=False, allow_downcast=None):
        self.variable = variable
        self.name = name or getattr(variable, "name", None)
        self.value = value
        self.mutable = mutable
        self.borrow = borrow
        self.implicit = bool(implicit)
        self.allow_downcast = allow_downcast
        if self.implicit and value is None:
            raise GraphcValueError(f"In({variable!r}, implicit=True) needs a default value")


Param = In


class Out:
    """An output with options, as Theano's ``Out``: ``function([x], Out(y, borrow=True))``.

    ``borrow`` is accepted and has no effect: outputs are always fresh arrays.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> f = graphc.function([x], graphc.Out(x * 2, borrow=True), backend="python")
    >>> f([1.0, 2.0])
    array([2., 4.])
    """

    def __init__(self, variable, borrow=False):
        self.variable = variable
        self.borrow = borrow


def _describe_input(position, variable):
    name = f"{variable.name!r}" if variable.name else "<unnamed>"
    return f"input {position} ({name}, {variable.type})"


class _Validator:
    """Converts one call argument to the input's dtype and checks its shape."""

    __slots__ = ("position", "variable", "dtype", "ndim", "static", "downcast", "label")

    def __init__(self, position, variable, allow_downcast):
        self.position = position
        self.variable = variable
        self.dtype = np.dtype(variable.dtype)
        self.ndim = variable.ndim
        self.static = variable.type.shape
        self.downcast = allow_downcast
        self.label = _describe_input(position, variable)

    def __call__(self, value):
        if type(value) is np.ndarray and value.dtype == self.dtype and value.ndim == self.ndim:
            array = value
        else:
            array = self._convert(value)
        for expected, actual in zip(self.static, array.shape):
            if expected is not None and expected != actual:
                raise ShapeError(f"{self.label}: got shape {array.shape}, expected "
                                 f"{tuple('?' if s is None else s for s in self.static)}")
        return array

    def _convert(self, value):
        if isinstance(value, Variable):
            raise GraphcTypeError(f"{self.label}: got a symbolic variable; pass a value")
        # Python numbers and sequences (lists, tuples, range) convert when no value
        # changes; NumPy arrays and scalars keep their dtype's meaning.
        weak = basic.is_weak(value) or not isinstance(value, (np.ndarray, np.generic))
        try:
            array = np.asarray(value)
        except ValueError as error:     # a ragged nested list, say
            raise GraphcTypeError(f"{self.label}: cannot convert {type(value).__name__} "
                                  f"to an array ({error})") from None
        if array.dtype.kind not in "biuf":
            raise GraphcTypeError(f"{self.label}: cannot convert {type(value).__name__} "
                                  f"of dtype {array.dtype} to {self.dtype}")
        if array.ndim != self.ndim:
            raise GraphcTypeError(f"{self.label}: got ndim {array.ndim} (shape {array.shape}"
                                  f", dtype {array.dtype}), expected ndim {self.ndim}")
        if array.dtype != self.dtype:
            array = self._cast(array, weak)
        return array

    def _cast(self, array, weak):
        target = self.dtype
        if np.can_cast(array.dtype, target, "safe") or self.downcast:
            return array.astype(target)
        if self.downcast is None and weak:
            # Python numbers and lists convert when no value changes (floats to floatX).
            converted = array.astype(target)
            same = converted.astype(array.dtype) == array
            if target.kind == "f" and array.dtype.kind in "fiub" or np.all(same):
                return converted
        raise GraphcTypeError(
            f"{self.label}: got dtype {array.dtype} (shape {array.shape}), expected "
            f"{target}; casting would lose precision. Cast the value, or compile with "
            "allow_input_downcast=True")


# --------------------------------------------------------------------- function
class Profile:
    """Per-node timings of a function compiled with ``profile=True``."""

    def __init__(self, fgraph):
        self.fgraph = fgraph
        self.node_time = {}
        self.node_calls = {}
        self.call_time = 0.0
        self.calls = 0

    def record(self, node, seconds):
        self.node_time[node] = self.node_time.get(node, 0.0) + seconds
        self.node_calls[node] = self.node_calls.get(node, 0) + 1

    def summary(self):
        from graphc.printing import profile_summary
        return profile_summary(self)


class Function:
    """A compiled graph; call it with values for its inputs.

    Attributes
    ----------
    fgraph : FunctionGraph
        The optimized graph that runs.
    trust_input : bool
        Skip argument validation (for tight loops that pass exact arrays).
    """

    def __init__(self, spec):
        self._spec = spec
        inputs, outputs, updates = spec["inputs"], spec["outputs"], spec["updates"]
        self.name = spec["name"]
        self.input_variables = [i.variable for i in inputs]
        self.input_names = {i.name: n for n, i in enumerate(inputs) if i.name}
        self.shared_inputs = [v for v in graph_inputs(list(outputs) + [u for _, u in updates])
                              if isinstance(v, SharedVariable)]
        for var, _ in updates:
            if var not in self.shared_inputs:
                self.shared_inputs.append(var)
        self.update_targets = [var for var, _ in updates]
        self.n_outputs = len(outputs)
        fgraph = FunctionGraph(self.input_variables + self.shared_inputs,
                               list(outputs) + [u for _, u in updates])
        self.unoptimized = fgraph
        self.fgraph = passes.optimize(fgraph, spec["optimizer"], spec["excluding"],
                                      spec["including"])
        for old, new in zip(fgraph.outputs, self.fgraph.outputs):
            # Rewrites build new output variables: keep the user's names for dumps.
            if new is not old and new.owner is not None and new.name is None:
                new.name = old.name
        self.backend = backends.get(spec["backend"])
        self.profile = Profile(self.fgraph) if spec["profile"] else None
        self._run = self.backend.compile(self.fgraph, profile=self.profile)
        self._validators = [
            _Validator(n, i.variable, spec["allow_input_downcast"] if i.allow_downcast is None
                       else i.allow_downcast) for n, i in enumerate(inputs)]
        # Default values, converted once (None: the argument is required), and the
        # inputs that positional arguments fill (all but the implicit ones).
        self.defaults = [None if i.value is None else _default_value(check, i.value)
                         for check, i in zip(self._validators, inputs)]
        self._positional = [n for n, i in enumerate(inputs) if not i.implicit]
        # (dtype, ndim) per input for the hot path; None when a static shape must be checked.
        static = any(s is not None for v in self.input_variables for s in v.type.shape)
        self._exact_types = None if static else [
            (np.dtype(v.dtype), v.ndim) for v in self.input_variables]
        # The random streams the graph draws from (inner graphs of loops included):
        # a call that raises puts them back, as it leaves shared variables alone.
        self._random_states = _random_states(self.fgraph)
        self.trust_input = False
        self.maker = self          # Theano's f.maker.fgraph
        self.unpack_single = spec["unpack_single"]

    @property
    def backend_source(self):
        """The source the backend generated (numba, cuda), or None."""
        return getattr(self._run, "source", None)

    def _arguments(self, args, kwargs):
        n = len(self._validators)
        if len(args) > len(self._positional):
            raise GraphcTypeError(f"{self._label()} takes {len(self._positional)} inputs, "
                                  f"got {len(args)}")
        values = [None] * n
        given = [False] * n
        for position, value in zip(self._positional, args):
            values[position], given[position] = value, True
        for key, value in kwargs.items():
            if key not in self.input_names:
                raise GraphcTypeError(f"{self._label()} has no input named {key!r}; "
                                      f"inputs: {sorted(self.input_names)}")
            position = self.input_names[key]
            if given[position]:
                raise GraphcTypeError(f"{self._label()}: input {key!r} given twice")
            values[position], given[position] = value, True
        arrays = []
        for position, (check, value, ok) in enumerate(zip(self._validators, values, given)):
            if ok:
                arrays.append(check(value))
            elif self.defaults[position] is not None:
                arrays.append(self.defaults[position])     # converted when compiling
            else:
                missing = _describe_input(position, self.input_variables[position])
                raise GraphcTypeError(f"{self._label()}: missing {missing}; it takes "
                                      f"{len(self._positional)} inputs")
        return arrays

    def _label(self):
        return f"function {self.name!r}" if self.name else "compiled function"

    def _exact(self, args):
        """True if ``args`` are exactly the arrays the inputs expect (no conversion)."""
        if self._exact_types is None or len(args) != len(self._exact_types):
            return False
        for value, (dtype, ndim) in zip(args, self._exact_types):
            # ``is`` first: NumPy's built-in dtypes are singletons, and == costs more.
            if type(value) is not np.ndarray or value.ndim != ndim or (
                    value.dtype is not dtype and value.dtype != dtype):
                return False
        return True

    def __call__(self, *args, **kwargs):
        # The hot path: positional ndarrays of the right dtype and ndim pass through
        # with a few attribute reads; anything else goes through full validation.
        if kwargs or not (self.trust_input or self._exact(args)):
            args = self._arguments(args, kwargs)
        if self.shared_inputs:
            args = list(args) + [v._value for v in self.shared_inputs]
        if self._random_states:
            results = self._run_keeping_streams(args)
        elif self.profile:
            results = self._run_profiled(args)
        else:
            results = self._run(args)
        if not self.backend.fresh_outputs:
            results = _fresh(results, args)
        if self.update_targets:
            self._write_updates(results[self.n_outputs:])
        if self.unpack_single:
            return results[0]
        return results[:self.n_outputs]

    def _run_profiled(self, args):
        start = time.perf_counter()
        results = self._run(args)
        self.profile.call_time += time.perf_counter() - start
        self.profile.calls += 1
        return results

    def _run_keeping_streams(self, args):
        """Run; if that raises, the random streams are put back where they were."""
        saved = [(state.generator, state.generator.bit_generator.state)
                 for state in self._random_states]
        try:
            results = self._run_profiled(args) if self.profile else self._run(args)
            if self.update_targets:
                self._check_updates(results[self.n_outputs:])
        except BaseException:
            for generator, position in saved:
                generator.bit_generator.state = position
            raise
        return results

    def _check_updates(self, new_values):
        for var, value in zip(self.update_targets, new_values):
            if not var.type.shape_matches(np.shape(value)):
                raise ShapeError(f"update of shared variable {var.describe()}: new value of "
                                 f"shape {np.shape(value)} does not fit {var.type}")

    def _write_updates(self, new_values):
        self._check_updates(new_values)
        # All outputs are computed and checked: now write every update in one step.
        for var, value in zip(self.update_targets, new_values):
            var._value = value if value is not var._value else value.copy()

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None,
             profile=None):
        """A new compiled function of the same graph, as Theano's ``Function.copy``.

        Parameters
        ----------
        share_memory : bool
            Accepted for Theano's signature. The copy always uses the same shared
            variables (an update by one is seen by the other) and never shares
            intermediate buffers, which this compiler does not keep between calls.
        swap : dict, optional
            ``{shared variable: shared variable}``: the copy reads and updates the new
            ones instead (each of the same dtype and ndim). The user's graph is unchanged.
        delete_updates : bool
            The copy makes no updates.
        name : str, optional
            Default: this function's name followed by " copy".
        profile : bool, optional
            Default: whether this function profiles.

        Examples
        --------
        >>> import numpy as np, graphc, graphc.tensor as T
        >>> state = graphc.shared(np.int64(0), name="state")
        >>> inc = T.lscalar("inc")
        >>> acc = graphc.function([inc], state, updates=[(state, state + inc)],
        ...                       backend="python")
        >>> other = graphc.shared(np.int64(100), name="other")
        >>> acc2 = acc.copy(swap={state: other})
        >>> int(acc2(5)), int(other.get_value()), int(state.get_value())
        (100, 105, 0)
        """
        spec = dict(self._spec)
        if name is not None:
            spec["name"] = name
        elif self.name is not None:
            spec["name"] = self.name + " copy"
        if profile is not None:
            spec["profile"] = profile
        if delete_updates:
            spec["updates"] = []
        if swap:
            spec["outputs"], spec["updates"] = _swapped(spec["outputs"], spec["updates"],
                                                        swap, self.shared_inputs)
        return Function(spec)

    def __reduce__(self):
        return (Function, (self._spec,))


def _random_states(fgraph):
    """The ``RandomState`` of every random draw in ``fgraph`` and its inner graphs."""
    states, seen, graphs = {}, set(), [fgraph]
    while graphs:
        graph = graphs.pop()
        for node in graph.toposort():
            state = getattr(node.op, "state", None)
            if isinstance(state, RandomState):
                states[id(state)] = state
            inner = getattr(node.op, "inner", None)
            if isinstance(inner, FunctionGraph) and id(inner) not in seen:
                seen.add(id(inner))
                graphs.append(inner)
    return list(states.values())


def _swapped(outputs, updates, swap, used):
    """``outputs`` and ``updates`` reading and updating ``swap``'s new shared variables."""
    for old, new in swap.items():
        if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
            raise GraphcTypeError(f"copy(swap=...): maps shared variables to shared "
                                  f"variables, got {old!r:.60} -> {new!r:.60}")
        if old not in used:
            raise GraphcValueError(f"copy(swap=...): {old.describe()} is not used by this "
                                   "function")
        if old.type.dtype != new.type.dtype or old.ndim != new.ndim:
            raise GraphcTypeError(f"copy(swap=...): {old.describe()} cannot be swapped for "
                                  f"{new.describe()}: dtype or ndim differ")
    expressions = clone_replace(list(outputs) + [u for _, u in updates], replace=swap)
    new_outputs = expressions[:len(outputs)]
    new_updates = [(swap.get(var, var), expression) for (var, _), expression
                   in zip(updates, expressions[len(outputs):])]
    return new_outputs, new_updates


def _default_value(check, value):
    """The default ``value`` of an input converted by its validator ``check``."""
    try:
        array = check(value)
    except GraphcError as error:
        raise type(error)(f"default value: {error}") from None
    # The caller's array may change later; the default must not.
    return array.copy() if array is value else array


def _fresh(outputs, arguments):
    """Copies of outputs that alias an argument, an internal buffer or each other."""
    result = []
    seen = set()
    for out in outputs:
        out = np.asarray(out)
        if (not out.flags.owndata or id(out) in seen
                or any(out is a for a in arguments)):
            out = out.copy()
        seen.add(id(out))
        result.append(out)
    return result


def _as_pairs(updates):
    if updates is None:
        return []
    if isinstance(updates, dict):
        return list(updates.items())
    pairs = [tuple(pair) if isinstance(pair, (list, tuple)) else pair for pair in updates]
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise GraphcTypeError(f"updates: each update is a pair (shared variable, new "
                                  f"value), got {pair!r:.80}")
    return pairs


def _check_inputs(inputs):
    result = []
    for position, item in enumerate(inputs):
        entry = item if isinstance(item, In) else In(item)
        var = entry.variable
        if not isinstance(var, Variable):
            raise GraphcTypeError(f"input {position} of function() is not a symbolic "
                                  f"variable: {var!r}")
        if isinstance(var, SharedVariable):
            raise GraphcTypeError(f"input {position} ({var.describe()}) is a shared "
                                  "variable; shared variables are implicit inputs")
        if isinstance(var, Constant):
            raise GraphcTypeError(f"input {position} is a constant ({var!r})")
        if var.owner is not None:
            raise GraphcTypeError(f"input {position} ({var.describe()}) is computed by "
                                  f"{var.owner.op}; inputs must be free variables "
                                  "(use givens= to substitute)")
        if any(var is r.variable for r in result):
            raise GraphcValueError(f"input {position} ({var.describe()}) is listed twice")
        result.append(entry)
    return result


def _check_updates(updates):
    result = []
    seen = set()
    for target, expr in updates:
        if not isinstance(target, SharedVariable):
            raise GraphcTypeError(f"update target {target!r} is not a shared variable")
        if target in seen:
            raise GraphcValueError(f"shared variable {target.describe()} is updated twice")
        seen.add(target)
        expr = basic.as_operands(target, expr)[1]
        if expr.dtype != target.dtype or expr.ndim != target.ndim:
            raise GraphcTypeError(
                f"update of shared variable {target.describe()}: the new value has type "
                f"{expr.type}; it must keep dtype {target.dtype} and ndim {target.ndim} "
                "(cast it, e.g. (expr).astype(target.dtype))")
        result.append((target, expr))
    return result


def _default_updates(exprs, updates, replace, excluded):
    """``(shared, shared.default_update)`` pairs for the shared variables that
    ``exprs`` read, that have a default update and no explicit one.

    A default update may itself read shared variables with default updates
    (Theano's random streams chain this way), so the walk repeats on the
    expressions it adds.
    """
    updated = {target for target, _ in updates}
    added = []
    frontier = list(exprs)
    while frontier:
        found = []
        for var in graph_inputs(frontier):
            if (not isinstance(var, SharedVariable) or var.default_update is None
                    or var in updated or var in excluded):
                continue
            updated.add(var)
            expr = var.default_update
            if replace:
                expr = clone_replace([basic.as_variable(expr)], replace)[0]
            found.append((var, expr))
        checked = _check_updates(found)
        added += checked
        frontier = [expr for _, expr in checked]
    return added


def _check_graph(inputs, outputs, on_unused_input):
    input_vars = [i.variable for i in inputs]
    known = set(input_vars)
    for node in toposort(outputs):
        for var in node.inputs:
            if var.owner is None and var not in known and not isinstance(
                    var, (Constant, SharedVariable)):
                raise MissingInputError(
                    f"{var.describe()} is needed by {node.op} (made at {node.trace}) but is "
                    "not an input of the function; add it to the inputs or to givens")
    for out in outputs:
        if out.owner is None and out not in known and not isinstance(
                out, (Constant, SharedVariable)):
            raise MissingInputError(f"output {out.describe()} is not an input of the function")
    used = ancestors(outputs)
    for position, var in enumerate(input_vars):
        if var in used or on_unused_input == "ignore":
            continue
        message = (f"{_describe_input(position, var)} is not used by any output or update "
                   "(on_unused_input='ignore' accepts it)")
        if on_unused_input == "warn":
            warnings.warn(message, stacklevel=4)
        else:
            raise UnusedInputError(message)


def function(inputs, outputs=None, updates=None, givens=None, *, backend=None,
             optimizer="fast_run", excluding=(), including=(), name=None,
             on_unused_input="raise", allow_input_downcast=None, profile=False, mode=None,
             no_default_updates=False):
    """Compile a callable computing ``outputs`` (and ``updates``) from ``inputs``.

    Parameters
    ----------
    inputs : list of Variable (or In)
    outputs : Variable or list of Variable, optional
        One variable: the call returns one array; a list: a list of arrays.
    updates : dict or list of (SharedVariable, expression) pairs, optional
        New values of shared variables, written after every output is computed.
    givens : dict or list of (Variable, replacement) pairs, optional
        Substituted in the graph before compiling.
    backend : {"numba", "python", "cuda"}, optional
        Defaults to ``config.backend`` ("numba" on CPU).
    optimizer : {"fast_run", "fast_compile", None}
    excluding, including : iterable of str
        Names of passes or rewrites to drop or add.
    on_unused_input : {"raise", "warn", "ignore"}
    allow_input_downcast : bool or None
        None: Python numbers and lists may convert to the input dtype; True: any
        argument is cast; False: only safe casts.
    profile : bool
        Record per-node timings in ``f.profile``.
    mode : str or Mode, optional
        Theano's spelling of ``optimizer`` (and of ``backend``): "FAST_RUN",
        "FAST_COMPILE", "DebugMode"/"DEBUG_MODE" (no rewrites) or a
        :class:`~graphc.mode.Mode`; it replaces ``optimizer`` and adds to
        ``excluding``/``including``; an explicit ``backend`` wins over its linker.
    no_default_updates : bool or list of SharedVariable
        By default, every shared variable the graph reads that has a
        ``default_update`` expression and no update in ``updates`` is updated
        with it (as in Theano). True turns this off; a list turns it off for
        the variables listed.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> f = graphc.function([x], (x ** 2).sum(), backend="python")
    >>> float(f([1.0, 2.0]))
    5.0
    """
    if mode is not None:
        settings = get_mode(mode).settings()
        optimizer = settings["optimizer"]
        excluding = tuple(excluding) + settings["excluding"]
        including = tuple(including) + settings["including"]
        backend = backend or settings["backend"]
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise GraphcValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', "
                               f"got {on_unused_input!r}")
    if optimizer not in ("fast_run", "fast_compile", None):
        raise GraphcValueError(f"optimizer must be 'fast_run', 'fast_compile' or None, "
                               f"got {optimizer!r}")
    if not isinstance(inputs, (list, tuple)):
        raise GraphcTypeError("function() takes a list of inputs")
    inputs = _check_inputs(inputs)
    unpack_single = outputs is not None and not isinstance(outputs, (list, tuple))
    if outputs is None:
        outputs = []
    elif unpack_single:
        outputs = [outputs]
    outputs = [basic.as_variable(o.variable if isinstance(o, Out) else o) for o in outputs]
    updates = _check_updates(_as_pairs(updates))
    exprs = outputs + [u for _, u in updates]
    replace = {}
    for var, new in _as_pairs(givens):
        new = basic.as_operands(var, new)[1]
        if new.dtype != var.dtype or new.ndim != var.ndim:
            raise GraphcTypeError(f"givens: {var.describe()} cannot be replaced by "
                                  f"{new.describe()} (dtype or ndim differ)")
        replace[var] = new
    if replace:
        exprs = clone_replace(exprs, replace)
    outputs, new_updates = exprs[:len(outputs)], exprs[len(outputs):]
    updates = [(target, expr) for (target, _), expr in zip(updates, new_updates)]
    if no_default_updates is not True:
        excluded = set(no_default_updates or ())
        defaults = _default_updates(exprs, updates, replace, excluded)
        updates += defaults
        exprs = exprs + [expr for _, expr in defaults]
    _check_graph(inputs, exprs, on_unused_input)
    spec = {
        "inputs": inputs, "outputs": outputs, "updates": updates, "name": name,
        "backend": backend or ("cuda" if config.device == "cuda" else config.backend),
        "optimizer": optimizer, "excluding": tuple(excluding), "including": tuple(including),
        "allow_input_downcast": allow_input_downcast, "profile": profile,
        "unpack_single": unpack_single,
    }
    return Function(spec)


# ------------------------------------------------------------------------ eval
_eval_cache = weakref.WeakKeyDictionary()


def eval_variable(self, inputs_to_values=None):
    """Compute this variable for the given ``{input: value}`` (Theano's ``.eval``)."""
    inputs_to_values = inputs_to_values or {}
    keys = list(inputs_to_values)
    cache = _eval_cache.setdefault(self, {})
    key = tuple(id(k) for k in keys)
    if key not in cache:
        cache[key] = function(keys, self, on_unused_input="ignore")
    return cache[key](*[inputs_to_values[k] for k in keys])


Variable.eval = eval_variable
__all__ = ["function", "shared", "Function", "In", "Param", "Out", "Mode", "get_mode",
           "get_default_mode", "GraphcError"]
