"""Lowering: a FunctionGraph becomes the Python source text of ONE function.

The generated function takes the graph inputs (then the array constants) as
arguments and returns a tuple of the outputs. Values are held in local
variables: a 0-d variable is a numba *scalar* (cheap arithmetic, no
allocation), anything else an array of any layout. Each op family lowers its
nodes in its own module (``elemwise.py``, ``reduction.py`` ...), each of which
exports a table ``LOWERINGS = {op class: function(ctx, node)}``; the function
writes lines through the :class:`Context` and binds the node's outputs.

Nothing here compiles anything: :func:`lower` is a pure function from graph to
text (plus the constants and fallback nodes the text refers to), testable
without numba's compiler.
"""
import warnings

import numpy as np

from graphc.graph import Constant

# Constant folding at lowering time: a node whose inputs are all constants is
# evaluated once by its ``perform`` when the result is at most this many elements.
FOLD_LIMIT = 4096


def literal(value, dtype):
    """Python source for a scalar ``value`` of ``dtype`` (typed, so numba keeps it)."""
    dtype = np.dtype(dtype)
    value = np.asarray(value, dtype=dtype).item()
    if dtype.kind == "b":
        return "True" if value else "False"
    if dtype.kind == "f":
        if np.isnan(value):
            text = "np.nan"
        elif np.isinf(value):
            text = "np.inf" if value > 0 else "-np.inf"
        else:
            text = repr(float(value))
        return f"np.{dtype.name}({text})"
    return f"np.{dtype.name}({int(value)})"


def np_dtype(dtype):
    """``np.float32`` style source text for a dtype."""
    name = np.dtype(dtype).name
    return "np.bool_" if name == "bool" else f"np.{name}"


class Context:
    """What a lowering function sees: names of values, and a place to write lines.

    Attributes
    ----------
    lines : list of str
        The body of the generated function, already indented.
    const_args : list of ndarray
        Array constants, passed to the compiled function after the inputs.
    fallbacks : list of Node
        Nodes run through their ``perform`` in object mode (see ``fallback.py``).
    """

    def __init__(self, fgraph):
        self.fgraph = fgraph
        self.lines = []
        self.names = {}
        self.bases = {}       # variable -> the variable whose buffer its array lives in
        self.const_args = []
        self.const_names = []
        self.fallbacks = []
        self.folded = {}      # variable -> Constant computed at lowering time
        self.loops = []       # bodies of the outlined loops (see loops.py)
        self.loop_branches = {}   # a loop's text up to local names -> its index
        self._counter = 0
        self.indent = 1

    # ------------------------------------------------------------- writing
    def line(self, text):
        self.lines.append("    " * self.indent + text)

    def tmp(self, prefix="t"):
        self._counter += 1
        # Every temporary has an underscore: no clash with ``argN`` / ``constN``.
        return f"{prefix.rstrip('_')}_{self._counter}"

    # ------------------------------------------------------------- values
    def bind(self, var, name, base=None):
        """Say that ``var`` is held in the local ``name``.

        ``base`` is the variable whose buffer the array may share (a view), or
        None for a fresh buffer owned by this call.
        """
        self.names[var] = name
        self.bases[var] = var if base is None else self.bases.get(base, base)

    def resolve(self, var):
        """``var``, or the constant it was folded into."""
        return self.folded.get(var, var)

    def get(self, var):
        """The source expression holding ``var`` (a scalar if ``var.ndim == 0``)."""
        var = self.resolve(var)
        if var in self.names:
            return self.names[var]
        if isinstance(var, Constant):
            return self._constant(var)
        raise KeyError(f"numba lowering: {var!r} has no value yet")

    def _constant(self, var):
        data = np.asarray(var.data, dtype=var.dtype)
        if var.ndim == 0:
            return literal(data, var.dtype)
        name = f"const{len(self.const_args)}"
        self.const_args.append(np.ascontiguousarray(data))
        self.const_names.append(name)
        self.names[var] = name
        self.bases[var] = var
        return name

    def array(self, var):
        """``var`` as an array expression (a 0-d scalar is boxed)."""
        if var.ndim == 0:
            return f"k_box({self.get(var)})"
        return self.get(var)

    def scalar(self, var):
        """``var`` as a scalar: a 0-d value, or the only element of an all-ones array."""
        var = self.resolve(var)
        if var.ndim == 0:
            return self.get(var)
        if isinstance(var, Constant) and np.size(var.data) == 1:
            return literal(np.asarray(var.data).reshape(()), var.dtype)
        index = ", ".join(["0"] * var.ndim)
        return f"{self.get(var)}[{index}]"

    def int64(self, var):
        """``var`` as an int64 scalar (a shape entry is one already: no cast, which
        would be four more numba instructions to type and lower)."""
        if np.dtype(var.dtype) == np.int64:
            return self.scalar(var)
        return f"np.int64({self.scalar(var)})"

    def is_unit(self, var):
        """True where the static shape says ``var`` holds exactly one element."""
        return var.ndim == 0 or all(s == 1 for s in var.type.shape)

    def vector_items(self, var):
        """Scalar expressions for each entry of a 1-d ``var`` of static length."""
        from graphc.ops.shape import MakeVector
        var = self.resolve(var)
        length = var.type.shape[0]
        if isinstance(var, Constant):
            return [literal(v, var.dtype) for v in np.asarray(var.data).reshape(-1)]
        if var.owner is not None and isinstance(var.owner.op, MakeVector):
            return [self.scalar(v) for v in var.owner.inputs]
        name = self.get(var)
        return [f"{name}[{i}]" for i in range(length)]

    def nd_loop(self, shape, ndim):
        """Open ``ndim`` nested loops over ``shape`` (source of a tuple); returns the
        index names. The caller writes the body, then ``ctx.indent -= ndim``."""
        index = [self.tmp("i") for _ in range(ndim)]
        for axis, name in enumerate(index):
            self.line(f"for {name} in range({shape}[{axis}]):")
            self.indent += 1
        return index

    def bind_reshaped(self, var, buffer, rank, dims):
        """Bind ``var`` to the ``rank``-d array ``buffer`` reshaped to ``dims`` (source
        of the lengths), or to its only element when ``var`` is 0-d."""
        name = self.tmp("v")
        if var.ndim == 0:
            self.line(f"{name} = {buffer}[{', '.join(['0'] * rank)}]")
        else:
            self.line(f"{name} = k_reshape({buffer}, ({''.join(d + ', ' for d in dims)}))")
        self.bind(var, name)

    def shape_tuple(self, items):
        """A tuple literal of int64 scalars (``(n,)`` for one item)."""
        if not items:
            return "()"
        return "(" + ", ".join(f"np.int64({s})" for s in items) + ",)"


def _lowerings():
    from graphc.backends.numba import (conv, elemwise, extra, linalg, nnet, random,
                                       reduction, shape, subtensor)
    table = {}
    for module in (elemwise, reduction, shape, linalg, subtensor, nnet, conv, random, extra):
        table.update(module.LOWERINGS)
    return table


_TABLE = None


def lowering_for(op):
    """The lowering function for ``op``, or None (the node then runs as a fallback)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = _lowerings()
    for cls in type(op).__mro__:
        if cls in _TABLE:
            return _TABLE[cls]
    return None


def _try_fold(node):
    """Output constants of ``node`` if all its inputs are constants and it is small."""
    if not node.inputs or not all(isinstance(v, Constant) for v in node.inputs):
        return None
    if lowering_for(node.op) is None or getattr(node.op, "nondeterministic", False):
        return None    # unknown ops may be impure, random draws are: never fold them
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = node.op.perform(node, [v.data for v in node.inputs])
    except Exception:   # let the run-time code raise the error with its context
        return None
    results = [np.asarray(r, dtype=v.dtype) for r, v in zip(results, node.outputs)]
    if any(r.size > FOLD_LIMIT or r.shape != tuple(
            n if s is None else s for s, n in zip(v.type.shape, r.shape))
            for r, v in zip(results, node.outputs)):
        return None
    return [Constant(v.type, r) for v, r in zip(node.outputs, results)]


class Lowered:
    """The result of :func:`lower`: source text and what the text refers to."""

    def __init__(self, source, func_name, n_inputs, const_args, fallbacks):
        self.source = source
        self.func_name = func_name
        self.n_inputs = n_inputs
        self.const_args = const_args
        self.fallbacks = fallbacks


FUNC_NAME = "graph_fn"


def lower(fgraph):
    """Lower ``fgraph`` to the source of one module holding one function.

    Returns
    -------
    Lowered
        ``.source`` is the module text; the function ``graph_fn`` in it takes the
        inputs, then ``.const_args``, then a fallback token (an int) and the address
        of the module's ``graph_loops`` callback (0 if it has none), and returns a
        tuple of outputs.
    """
    from graphc.backends.numba import fallback
    from graphc.backends.numba.loops import loops_source
    ctx = Context(fgraph)
    arg_names = []
    for i, var in enumerate(fgraph.inputs):
        name = f"arg{i}"
        arg_names.append(name)
        if var.ndim == 0:
            ctx.line(f"scalar{i} = {name}[()]")
            ctx.bind(var, f"scalar{i}")
        else:
            ctx.bind(var, name, base=var)
    for node in fgraph.toposort():
        folded = _try_fold(node)
        if folded is not None:
            ctx.folded.update(zip(node.outputs, folded))
            continue
        ctx.line(f"# {node.op}")
        rule = lowering_for(node.op)
        if rule is None:
            fallback.lower_fallback(ctx, node)
        else:
            rule(ctx, node)
    results = _return_outputs(ctx, fgraph.outputs)
    params = arg_names + ctx.const_names + ["token", "loops"]
    header = [
        "import numpy as np",
        "import numba",
        "from graphc.backends.numba.runtime import *",
        "",
        "",
        # Cached by cache.GraphCache. Python calls it through its CPython wrapper
        # only: numba's C wrapper would be lowered and compiled for nothing.
        "@numba.njit(error_model='numpy', no_cfunc_wrapper=True)",
        f"def {FUNC_NAME}({', '.join(params)}):",
    ]
    body = ctx.lines + ["    return (" + "".join(r + ", " for r in results) + ")"]
    source = "\n".join(header + body) + "\n" + loops_source(ctx)
    return Lowered(source, FUNC_NAME, len(arg_names), ctx.const_args, ctx.fallbacks)


def _return_outputs(ctx, outputs):
    """Names of the outputs, copying those that share a buffer with an input, a
    constant or an earlier output (outputs are owned by the caller)."""
    inputs = set(ctx.fgraph.inputs)
    used = set()
    results = []
    for var in outputs:
        expr = ctx.get(var)
        if var.ndim == 0:
            results.append(f"k_box({expr})")
            continue
        var = ctx.resolve(var)
        base = ctx.bases.get(var, var)
        external = base in inputs or isinstance(base, Constant) or base.owner is None
        if external or base in used:
            results.append(f"k_copy({expr})")
        else:
            results.append(expr)
            used.add(base)
    return results
