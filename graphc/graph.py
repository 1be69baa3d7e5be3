"""The core structures: types, variables, nodes, ops, and walks over graphs.

A graph is made of :class:`Variable` objects joined by :class:`Node` objects.
A node applies an :class:`Op` to input variables and owns its output variables;
a variable without an owner is a graph input, a :class:`Constant` or a
:class:`SharedVariable`. Nodes are never edited in place: a rewrite builds new
nodes and the walks here rebuild what depends on them.

This module knows nothing about arithmetic: ``graphc.tensor`` gives variables
their Python operators (``x + y``) when it is imported, as JAX attaches array
methods to its abstract values.
"""
import itertools
import os
import sys

import numpy as np

from graphc.errors import GraphcError, GraphcTypeError, GraphcValueError, ShapeError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------- types
def _static_length(entry):
    """A static shape entry: an int, None (unknown), or Theano's broadcastable flag."""
    if isinstance(entry, (bool, np.bool_)):
        return 1 if entry else None
    return None if entry is None else int(entry)


class TensorType:
    """The type of a tensor variable: a dtype and a static shape.

    Parameters
    ----------
    dtype : str or numpy dtype
    shape : tuple of (int or None)
        ``None`` means the length of that axis is known only when called. Theano's
        broadcastable pattern (booleans) is read as such: True is a length of 1,
        False a length known only when called.
    broadcastable : tuple of bool, optional
        Theano's keyword, instead of ``shape``.

    Examples
    --------
    >>> TensorType("float32", (None, 3))
    TensorType(float32, (?, 3))
    >>> TensorType("float32", (True, False))("row")   # Theano's spelling
    row
    """

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape=None, broadcastable=None):
        if (shape is None) == (broadcastable is None):
            raise GraphcTypeError("TensorType needs a shape (or Theano's broadcastable)")
        shape = broadcastable if shape is None else shape
        try:
            self.dtype = np.dtype(dtype).name
        except TypeError:
            raise GraphcTypeError(f"TensorType: {dtype!r} is not a dtype") from None
        if np.dtype(self.dtype).kind not in "biuf":
            raise GraphcTypeError(f"TensorType: dtype {self.dtype} is not a number type "
                                  "(bool, int, uint or float)")
        self.shape = tuple(_static_length(s) for s in shape)
        if any(s is not None and s < 0 for s in self.shape):
            raise ShapeError(f"negative static shape {self.shape}")

    def __call__(self, name=None):
        """A new variable of this type (Theano's ``TensorType(...)(name)``)."""
        return self.make_variable(name)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def broadcastable(self):
        """Theano's view of the shape: True where the axis is known to be 1."""
        return tuple(s == 1 for s in self.shape)

    def __eq__(self, other):
        return (type(self) is type(other) and self.dtype == other.dtype
                and self.shape == other.shape)

    def __hash__(self):
        return hash((self.dtype, self.shape))

    def __repr__(self):
        shape = ", ".join("?" if s is None else str(s) for s in self.shape)
        if len(self.shape) == 1:
            shape += ","
        return f"TensorType({self.dtype}, ({shape}))"

    def accepts(self, other):
        """True if every value of type ``other`` is also a value of this type."""
        return (self.dtype == other.dtype and self.ndim == other.ndim
                and all(a is None or a == b for a, b in zip(self.shape, other.shape)))

    def shape_matches(self, shape):
        """True if a run-time ``shape`` fits the static shape."""
        return len(shape) == self.ndim and all(
            s is None or s == n for s, n in zip(self.shape, shape))

    def make_variable(self, name=None):
        return Variable(self, name=name)


# --------------------------------------------------------------------- variables
_ids = itertools.count()


# The elementwise scalars whose results refuse a truth value (Variable.__bool__).
_COMPARISONS = frozenset({"lt", "le", "gt", "ge", "eq", "neq"})


class Variable:
    """A symbolic value: the output of a node, or an input of the graph.

    Attributes
    ----------
    type : TensorType
    owner : Node or None
        The node computing this variable; ``None`` for graph inputs.
    index : int
        Position among ``owner.outputs``.
    name : str or None
    """

    __slots__ = ("type", "owner", "index", "name", "uid", "__weakref__")

    def __init__(self, type, owner=None, index=0, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.uid = next(_ids)

    @property
    def dtype(self):
        return self.type.dtype

    @property
    def ndim(self):
        return self.type.ndim

    @property
    def broadcastable(self):
        return self.type.broadcastable

    @property
    def static_shape(self):
        return self.type.shape

    def clone(self):
        """A fresh input variable of the same type and name."""
        return type(self)(self.type, name=self.name)

    def describe(self):
        """A short human description used in error messages."""
        if self.name:
            return f"{self.name!r} ({self.type})"
        if self.owner is not None:
            return f"output of {self.owner.op} ({self.type})"
        return f"<unnamed> ({self.type})"

    def __repr__(self):
        if self.name:
            return self.name
        if self.owner is not None:
            return f"{self.owner.op}.{self.index}" if len(self.owner.outputs) > 1 \
                else f"{self.owner.op}.out"
        return f"<{self.type}>"

    # The arithmetic operators are attached by graphc.tensor; hashing stays identity.
    __hash__ = object.__hash__

    def __bool__(self):
        # Theano's rule: every variable is true (tutorial code tests ``if not W:`` on
        # a parameter that may be None or a shared variable), except the result of a
        # comparison, so that ``a < b < c`` (Python's (a < b) and (b < c)) fails.
        scalar = getattr(getattr(self.owner, "op", None), "scalar", None)
        if getattr(scalar, "name", None) in _COMPARISONS:
            raise GraphcTypeError(
                f"the comparison {self.describe()} has no truth value: it is symbolic; use "
                "T.switch for a condition and T.and_ to combine comparisons")
        return True

    def __iter__(self):
        raise GraphcTypeError(
            f"cannot iterate over symbolic variable {self.describe()}; index it instead")


class Constant(Variable):
    """A variable with a fixed value, folded into the compiled code."""

    __slots__ = ("data", "_signature")

    def __init__(self, type, data, name=None):
        super().__init__(type, name=name)
        self.data = data
        self._signature = None

    def signature(self):
        """A hashable key equal for constants of equal type and value (for merging)."""
        if self._signature is None:
            data = np.ascontiguousarray(self.data)
            self._signature = (self.type, data.tobytes())
        return self._signature

    def clone(self):
        return Constant(self.type, self.data, name=self.name)

    def __repr__(self):
        if self.name:
            return self.name
        if self.data.size <= 8:
            text = np.array2string(self.data, separator=", ")
            return text if self.data.ndim else str(self.data.item())
        return f"Constant{{{self.type}}}"


class SharedVariable(Variable):
    """A variable whose value lives between calls of the compiled functions.

    Build one with :func:`graphc.shared`. Its dtype and number of dimensions are
    fixed; its shape may change with :meth:`set_value`.
    """

    # ``default_update``: an expression ``function()`` uses as this variable's
    # update when the caller gives none (Theano's attribute; Lasagne's batch
    # normalization keeps its running averages this way).
    __slots__ = ("_value", "default_update")

    def __init__(self, type, value, name=None):
        super().__init__(type, name=name)
        self._value = value
        self.default_update = None

    def get_value(self, borrow=False):
        """The current value; a copy unless ``borrow=True``."""
        return self._value if borrow else self._value.copy()

    def set_value(self, value, borrow=False):
        """Replace the value; it must keep the dtype and ndim (a Python list is converted)."""
        self._value = self.filter(value, borrow=borrow)

    def filter(self, value, borrow=False):
        """Convert ``value`` to this variable's dtype and check its ndim."""
        if isinstance(value, Variable):
            raise GraphcTypeError(f"shared variable {self.describe()}: set_value takes a "
                                  f"value, got the symbolic {value.describe()} (use "
                                  "get_value() for another shared variable's value)")
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as error:    # a ragged nested list, say
            raise GraphcTypeError(f"shared variable {self.describe()}: cannot convert "
                                  f"{type(value).__name__} to an array ({error})") from None
        if array.dtype.kind not in "biuf":
            raise GraphcTypeError(f"shared variable {self.describe()}: got a value of dtype "
                                  f"{array.dtype} ({type(value).__name__}); it holds "
                                  f"{self.dtype} numbers")
        if array.ndim != self.ndim:
            raise GraphcTypeError(
                f"shared variable {self.describe()}: value has ndim {array.ndim} "
                f"(shape {array.shape}), expected ndim {self.ndim}")
        if array.dtype != self.dtype:
            if array.dtype.kind in "fc" and np.dtype(self.dtype).kind in "iub":
                raise GraphcTypeError(
                    f"shared variable {self.describe()}: cannot store a {array.dtype} "
                    f"value in a {self.dtype} variable")
            with np.errstate(over="ignore"):
                converted = array.astype(self.dtype)
            if not np.array_equal(converted, array, equal_nan=array.dtype.kind == "f") \
                    and np.dtype(self.dtype).kind != "f":
                raise GraphcTypeError(
                    f"shared variable {self.describe()}: the {array.dtype} value does "
                    f"not fit dtype {self.dtype} without loss")
            if np.dtype(self.dtype).kind == "f" and np.any(
                    np.isinf(converted) & np.isfinite(array)):
                raise GraphcTypeError(
                    f"shared variable {self.describe()}: the {array.dtype} value has "
                    f"entries too large for {self.dtype} (they would become inf)")
            array = converted
        elif not borrow or not isinstance(value, np.ndarray):
            array = array.copy()
        if not self.type.shape_matches(array.shape):
            raise ShapeError(
                f"shared variable {self.describe()}: value of shape {array.shape} does "
                f"not fit the static shape {self.type.shape}")
        return array

    def clone(self):
        # A shared variable is a unique storage cell: cloning a graph keeps it.
        return self

    def alias(self, name=None):
        """A new shared variable over this one's storage (Theano's
        ``clone(shared, share_inputs=False)``).

        Updating either updates both; the alias carries its own
        ``default_update``, so graphs that read only the original never pick it
        up (Lasagne's batch normalization updates its running averages so).

        Examples
        --------
        >>> import graphc
        >>> v = graphc.shared(1.0)
        >>> a = v.alias()
        >>> a.set_value(2.0)
        >>> float(v.get_value())
        2.0
        """
        return _SharedAlias(self, name=name)

    def __getstate__(self):
        return {"type": self.type, "name": self.name, "value": self._value,
                "default_update": self.default_update}

    def __setstate__(self, state):
        self.type = state["type"]
        self.name = state["name"]
        self._value = state["value"]
        self.default_update = state.get("default_update")
        self.owner = None
        self.index = 0
        self.uid = next(_ids)


class _SharedAlias(SharedVariable):
    """A shared variable whose storage is another's (see :meth:`SharedVariable.alias`)."""

    __slots__ = ("target",)

    def __init__(self, target, name=None):
        Variable.__init__(self, target.type, name=name)
        self.target = target
        self.default_update = None

    # Reads and writes of the storage go to the target (this overrides the slot).
    @property
    def _value(self):
        return self.target._value

    @_value.setter
    def _value(self, value):
        self.target._value = value

    def __getstate__(self):
        return {"target": self.target, "name": self.name,
                "default_update": self.default_update}

    def __setstate__(self, state):
        Variable.__init__(self, state["target"].type, name=state["name"])
        self.target = state["target"]
        self.default_update = state["default_update"]


# ------------------------------------------------------------------------- nodes
_rewrite_stack = []


def _replaced(inputs, sources):
    """The nodes of a rewrite's matched region that a new node over ``inputs`` stands
    for: the region less the nodes that compute those inputs (kept, not replaced; a
    Gemm over a rewritten ``z`` is not made from the rewrite that made ``z``)."""
    region = set(sources)
    kept = set()
    stack = [v.owner for v in inputs if v.owner in region]
    while stack:
        node = stack.pop()
        if node not in kept:
            kept.add(node)
            stack.extend(v.owner for v in node.inputs if v.owner in region)
    return [node for node in sources if node not in kept]


class rewrite_context:
    """Mark nodes built inside as made by rewrite ``name`` from ``nodes``.

    With ``name=None`` the nodes are rebuilds of ``nodes[0]`` and keep its trail.
    ``nodes`` may be a callable returning them, evaluated only if a node is built;
    ``name`` may be changed inside the block (one scope serves several attempts).
    """

    __slots__ = ("name", "_nodes")

    def __init__(self, name, nodes):
        self.name = name
        self._nodes = nodes

    @property
    def nodes(self):
        if callable(self._nodes):
            self._nodes = tuple(self._nodes())
        return tuple(self._nodes)

    def __enter__(self):
        _rewrite_stack.append(self)
        return self

    def __exit__(self, *exc_info):
        _rewrite_stack.pop()


def user_site():
    """``file:line`` of the innermost frame outside the graphc package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<graphc>"


class Node:
    """An op applied to input variables, producing output variables.

    Attributes
    ----------
    op : Op
    inputs : tuple of Variable
    outputs : tuple of Variable
    trace : str
        Where the user built this node (``file:line``); a node made by a rewrite
        inherits the trace of the node it replaced.
    trail : tuple or None
        ``(rewrite_name, source_nodes)`` for a node made by a rewrite.
    """

    __slots__ = ("op", "inputs", "outputs", "trace", "trail", "__weakref__")

    def __init__(self, op, inputs, output_types):
        self.op = op
        self.inputs = tuple(inputs)
        self.outputs = tuple(Variable(t, owner=self, index=i) for i, t in enumerate(output_types))
        if _rewrite_stack:
            scope = _rewrite_stack[-1]
            name, sources = scope.name, scope.nodes
            if name is None:
                # A node rebuilt because its inputs changed keeps its history.
                self.trail = sources[0].trail
            else:
                self.trail = (name, _replaced(self.inputs, sources))
            self.trace = sources[0].trace if sources else "<rewrite>"
        else:
            self.trail = None
            self.trace = user_site()

    @property
    def out(self):
        return self.outputs[0]

    def __repr__(self):
        return f"{self.op}({', '.join(map(repr, self.inputs))})"


def rewrite_history(node):
    """Names of the rewrites that made ``node``, newest first, through its sources."""
    names, stack, seen = [], [node], set()
    while stack:
        current = stack.pop()
        if current in seen or current.trail is None:
            continue
        seen.add(current)
        name, sources = current.trail
        if name not in names:
            names.append(name)
        stack.extend(reversed(sources))
    return names


class Op:
    """What an operation is: its type rule, reference evaluation and gradient.

    Subclasses list their parameters in ``__props__`` (hashable attributes that,
    with the class, decide equality) and implement:

    - ``make_node(*inputs) -> Node``: check types, compute output types;
    - ``perform(node, inputs) -> list of arrays``: the NumPy reference;
    - ``grad(inputs, outputs, output_grads) -> list``: symbolic gradients, one per
      input (``None`` for a disconnected input);
    - ``infer_shape(node, input_shapes) -> list of shape tuples`` (optional).
    """

    __props__ = ()

    def _props(self):
        return tuple(getattr(self, name) for name in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        props = self._props()
        if not props:
            return type(self).__name__
        return f"{type(self).__name__}{{{', '.join(map(str, props))}}}"

    __repr__ = __str__

    def __call__(self, *inputs):
        try:
            node = self.make_node(*inputs)
        except GraphcError as error:
            # A build-time error names the user's line, not only graphc's frames.
            site = user_site()
            custom_init = any("__init__" in vars(c) for c in type(error).__mro__
                              if issubclass(c, GraphcError))
            if site in str(error) or custom_init:
                raise
            raise type(error)(f"{error} [building {self} at {site}]") from None
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    def make_node(self, *inputs):
        raise NotImplementedError

    def perform(self, node, inputs):
        raise NotImplementedError

    def grad(self, inputs, outputs, output_grads):
        raise GraphcTypeError(f"{self} has no gradient rule")

    # An op that returns a view or updates an input in place says so here:
    # {output index: input index}. The inplace pass and backends read them.
    view_map = {}
    destroy_map = {}


# ------------------------------------------------------------------------- walks
def toposort(outputs):
    """The nodes needed to compute ``outputs``, each after the nodes it reads."""
    order = []
    seen = set()
    for out in outputs:
        if out.owner is None or out.owner in seen:
            continue
        # Iterative depth-first walk: deep chains must not hit Python's recursion limit.
        stack = [(out.owner, iter(out.owner.inputs))]
        seen.add(out.owner)
        while stack:
            node, pending = stack[-1]
            for var in pending:
                parent = var.owner
                if parent is not None and parent not in seen:
                    seen.add(parent)
                    stack.append((parent, iter(parent.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def graph_inputs(outputs):
    """The ownerless variables (inputs, constants, shared) that ``outputs`` depend on."""
    found = {}
    for node in toposort(outputs):
        for var in node.inputs:
            if var.owner is None:
                found.setdefault(var, None)
    for out in outputs:
        if out.owner is None:
            found.setdefault(out, None)
    return list(found)


def ancestors(outputs, blockers=()):
    """Every variable ``outputs`` depend on, stopping at ``blockers``."""
    blockers = set(blockers)
    seen = set()
    stack = list(outputs)
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        if var.owner is not None and var not in blockers:
            stack.extend(var.owner.inputs)
    return seen


def clone_replace(outputs, replace=None, rebuild=None, strict=True):
    """Rebuild the graph of ``outputs`` with variables substituted.

    Parameters
    ----------
    outputs : list of Variable
    replace : dict, optional
        ``{old variable: new variable}``; new must have the same dtype and ndim.
    rebuild : callable, optional
        ``rebuild(node, new_inputs) -> list of Variable``; by default the node's op
        is applied again to the new inputs when any input changed.
    strict : bool
        False lets a replacement change the dtype or ndim (the ops rebuilt over it
        then decide their new types).

    Returns
    -------
    list of Variable
        The new outputs; parts of the graph untouched by ``replace`` are shared.
    """
    memo = dict(replace or {})
    for old, new in memo.items():
        if strict and (old.type.dtype != new.type.dtype or old.ndim != new.ndim):
            raise GraphcTypeError(
                f"cannot replace {old.describe()} by {new.describe()}: dtype or ndim differ")
    replaced = set(memo)
    for node in toposort(outputs):
        new_inputs = [memo.get(v, v) for v in node.inputs]
        if rebuild is not None:
            new_outputs = rebuild(node, new_inputs)
        elif all(a is b for a, b in zip(new_inputs, node.inputs)):
            continue
        else:
            new_outputs = node.op.make_node(*new_inputs).outputs
        for old, new in zip(node.outputs, new_outputs):
            # A variable the caller replaced keeps its replacement, even when the
            # node computing it is rebuilt over other replacements.
            if new is not old and old not in replaced:
                memo[old] = new
    return [memo.get(out, out) for out in outputs]


def clone(output, replace=None, strict=True, share_inputs=True):
    """A copy of the graph of ``output`` with variables substituted (Theano's
    ``theano.clone``, also ``graphc.clone_replace``).

    Every node is built anew; the copy computes what the original computes, with
    each variable of ``replace`` standing for the variable it replaces.

    Parameters
    ----------
    output : Variable or list of Variable
    replace : dict or list of (Variable, Variable) pairs, optional
        ``{old: new}``; ``old`` may be an input or an intermediate variable, ``new``
        a variable or a number (a constant of ``old``'s dtype).
    strict : bool
        True: ``new`` must have ``old``'s dtype and ndim. False: any type, the ops
        built over it decide theirs.
    share_inputs : bool
        True: the copy reads the same inputs and shared variables as the original.
        False: it reads fresh inputs of the same types and names, and aliases of the
        shared variables (same storage, see :meth:`SharedVariable.alias`).

    Returns
    -------
    Variable or list of Variable
        The same structure as ``output``.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x, z = T.dscalar("x"), T.dscalar("z")
    >>> y = x * 2 + 1
    >>> y2 = graphc.clone(y, replace={x: z})
    >>> float(graphc.function([z], y2, backend="python")(3.0))
    7.0
    """
    single = isinstance(output, Variable)
    outputs = [output] if single else list(output)
    if any(not isinstance(out, Variable) for out in outputs):
        raise GraphcTypeError(f"clone: expected a Variable or a list of Variables, got "
                              f"{output!r}")
    pairs = replace.items() if isinstance(replace, dict) else (replace or ())
    memo = {}
    for old, new in pairs:
        if not isinstance(old, Variable):
            raise GraphcTypeError(f"clone: the replaced {old!r} is not a Variable")
        new = new if isinstance(new, Variable) else _constant_like(old, new)
        if strict and (new.dtype != old.dtype or new.ndim != old.ndim):
            raise GraphcTypeError(f"clone: cannot replace {old.describe()} by "
                                  f"{new.describe()}: dtype or ndim differ (strict=False "
                                  "lets the replacement change the type)")
        memo[old] = new
    if not share_inputs:
        for var in graph_inputs(outputs):
            if var in memo or isinstance(var, Constant):
                continue
            memo[var] = var.alias(var.name) if isinstance(var, SharedVariable) else var.clone()

    def rebuild(node, new_inputs):
        with rewrite_context(None, [node]):     # keeps the node's trace and trail
            new_outputs = node.op.make_node(*new_inputs).outputs
        for old, new in zip(node.outputs, new_outputs):
            new.name = old.name
        return new_outputs

    result = clone_replace(outputs, memo, rebuild=rebuild, strict=strict)
    return result[0] if single else result


def _constant_like(var, value):
    """``value`` as a Constant of ``var``'s dtype (a replacement given as a number)."""
    data = np.asarray(value, dtype=var.dtype)
    return Constant(TensorType(var.dtype, data.shape), data)


class FunctionGraph:
    """A graph with fixed inputs and outputs, as compiled by ``graphc.function``.

    Attributes
    ----------
    inputs : list of Variable
        Explicit inputs first, then shared variables read by the graph.
    outputs : list of Variable
        The requested outputs, then the new values of updated shared variables.
    """

    def __init__(self, inputs, outputs):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self._order = None

    def toposort(self):
        """The nodes in execution order."""
        if self._order is None:
            self._order = toposort(self.outputs)
        return list(self._order)

    def clients(self):
        """``{variable: [(node, input position), ...]}`` with ``"output"`` for graph outputs."""
        result = {}
        for node in self.toposort():
            for position, var in enumerate(node.inputs):
                result.setdefault(var, []).append((node, position))
        for position, var in enumerate(self.outputs):
            result.setdefault(var, []).append(("output", position))
        return result

    def variables(self):
        found = dict.fromkeys(self.inputs)
        for node in self.toposort():
            found.update(dict.fromkeys(node.inputs))
            found.update(dict.fromkeys(node.outputs))
        found.update(dict.fromkeys(self.outputs))
        return list(found)

    def replace_outputs(self, outputs):
        return FunctionGraph(self.inputs, outputs)

    def check(self):
        """Check well-formedness: types agree, every input reachable, no cycles."""
        order = self.toposort()
        position = {node: i for i, node in enumerate(order)}
        known = set(self.inputs)
        for i, node in enumerate(order):
            for var in node.inputs:
                if var.owner is None:
                    if not isinstance(var, (Constant, SharedVariable)) and var not in known:
                        raise GraphcValueError(
                            f"{node.op} reads {var.describe()}, which is not a graph input")
                elif position.get(var.owner, len(order)) >= i:
                    raise GraphcValueError(f"{node.op} is computed before its input {var}")
            for j, out in enumerate(node.outputs):
                if out.owner is not node or out.index != j:
                    raise GraphcValueError(f"output {j} of {node.op} has a wrong owner")
        for out in self.outputs:
            if out.owner is None and out not in known and not isinstance(
                    out, (Constant, SharedVariable)):
                raise GraphcValueError(f"graph output {out} is not computed")

    def __repr__(self):
        return f"FunctionGraph({self.inputs} -> {self.outputs}, {len(self.toposort())} nodes)"
