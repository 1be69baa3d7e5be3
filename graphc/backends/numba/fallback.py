"""Ops with no numba lowering run their ``perform`` in numba object mode.

Policy: a node whose op has no entry in any family's ``LOWERINGS`` table (for
example :class:`graphc.ops.loop.MapRows`, or an op added to ``graphc.ops``
after this backend was written) is not an error. The generated function
leaves compiled code for that node only (``with numba.objmode(...)``), calls
the op's NumPy ``perform`` on the node's inputs, and continues compiled. The
backend warns once per op class (:class:`FallbackWarning`), naming the op, so
that a missing lowering is visible but never breaks a user's graph.

The generated source only refers to a node by its position; which node that is
lives in a registry keyed by the ``token`` argument of the compiled function,
so two graphs with the same source (hence one cached module) can hold
different inner graphs.
"""
import itertools
import threading
import warnings

import numpy as np

from graphc.ops.extra import Print
from graphc.ops.loop import MapRows
from graphc.ops.scan import Scan
from graphc.backends.numba.lower import np_dtype


# Ops whose Python ``perform`` is their implementation under numba too, by design
# (an inner graph evaluated step by step; printing from Python): they run in object
# mode without a warning.
BY_DESIGN = (MapRows, Scan, Print)


class FallbackWarning(UserWarning):
    """An op ran through its Python ``perform`` because it has no numba lowering."""


_REGISTRY = {}
_TOKENS = itertools.count(1)
_WARNED = set()
_LOCK = threading.Lock()


def register(nodes):
    """A new token under which ``nodes`` (fallback positions) are found at run time."""
    with _LOCK:
        token = next(_TOKENS)
        _REGISTRY[token] = list(nodes)
    return token


def release(token):
    _REGISTRY.pop(token, None)


def warn_once(op):
    key = type(op).__name__
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(f"numba backend: {op} has no numba lowering; it runs through its Python "
                  "perform in object mode (slower, but correct)", FallbackWarning, stacklevel=3)


def run_node(token, position, *values):
    """Called from object mode: run a fallback node's perform on ``values``."""
    node = _REGISTRY[token][position]
    args = [np.asarray(v, dtype=var.dtype) for v, var in zip(values, node.inputs)]
    results = node.op.perform(node, args)
    out = []
    for value, var in zip(results, node.outputs):
        array = np.asarray(value, dtype=var.dtype)
        out.append(array.item() if var.ndim == 0 else np.ascontiguousarray(array))
    return out[0] if len(out) == 1 else tuple(out)


def numba_type(var):
    """The objmode type string of ``var``: a scalar, or a C-contiguous array."""
    dtype = np.dtype(var.dtype)
    name = "boolean" if dtype.kind == "b" else dtype.name
    if var.ndim == 0:
        return name
    return name + "[" + ", ".join([":"] * (var.ndim - 1) + ["::1"]) + "]"


def lower_fallback(ctx, node):
    """Write an object-mode block running ``node.op.perform``."""
    if not isinstance(node.op, BY_DESIGN):
        warn_once(node.op)
    position = len(ctx.fallbacks)
    ctx.fallbacks.append(node)
    outs = [ctx.tmp("ob") for _ in node.outputs]
    # numba refuses a type for an object-mode result that nothing reads afterwards (an
    # output of a multi-output op the graph ignores): such results are not declared.
    read = set(ctx.fgraph.outputs).union(*(n.inputs for n in ctx.fgraph.toposort()))
    types = ", ".join(f"{name}={numba_type(var)!r}" for name, var in zip(outs, node.outputs)
                      if var in read)
    ins = [ctx.get(v) for v in node.inputs]
    ctx.line(f"with numba.objmode({types}):")
    ctx.indent += 1
    call = f"k_run_node(token, {position}{''.join(', ' + a for a in ins)})"
    target = outs[0] if len(outs) == 1 else ", ".join(outs)
    ctx.line(f"{target} = {call}")
    ctx.indent -= 1
    for var, name in zip(node.outputs, outs):
        ctx.bind(var, name)


k_run_node = run_node
