"""What every dump needs: which graph an object stands for, and how to name its parts.

``debugprint``, the SVG and the HTML page all accept a Variable, a list of
Variables, a FunctionGraph or a compiled Function; :func:`graph_view` turns each
into the same small record so that the three agree on what they show.
"""
from collections import namedtuple

import numpy as np

from graphc.errors import GraphcTypeError
from graphc.graph import Constant, FunctionGraph, SharedVariable, Variable

GraphView = namedtuple("GraphView", ["outputs", "updates", "title"])
GraphView.__doc__ = """A graph to dump.

outputs : list of Variable
    The requested outputs.
updates : list of (SharedVariable, Variable)
    Shared variables and the expressions of their new values.
title : str
    A short description used as a heading.
"""


def graph_view(obj, which="optimized"):
    """The outputs and updates that ``obj`` stands for.

    Parameters
    ----------
    obj : Variable, list of Variable, FunctionGraph or Function
    which : {"optimized", "unoptimized"}
        For a compiled function: its graph after (``f.fgraph``) or before
        (``f.unoptimized``) the rewrites.
    """
    if isinstance(obj, Variable):
        return GraphView([obj], [], _name_of(obj))
    if isinstance(obj, FunctionGraph):
        return GraphView(list(obj.outputs), [], "graph")
    if isinstance(obj, (list, tuple)) and all(isinstance(v, Variable) for v in obj):
        return GraphView(list(obj), [], ", ".join(_name_of(v) for v in obj))
    fgraph = getattr(obj, "fgraph", None)
    if isinstance(fgraph, FunctionGraph) and hasattr(obj, "n_outputs"):
        if which == "unoptimized":
            fgraph = obj.unoptimized
        # A compiled graph lists the outputs first, then the new values of the shared
        # variables in the order of update_targets.
        n = obj.n_outputs
        updates = list(zip(obj.update_targets, fgraph.outputs[n:]))
        name = getattr(obj, "name", None)
        return GraphView(list(fgraph.outputs[:n]), updates,
                         f"function {name!r}" if name else "compiled function")
    raise GraphcTypeError(
        "expected a Variable, a list of Variables, a FunctionGraph or a compiled "
        f"Function, got {type(obj).__name__}")


def _name_of(var):
    return var.name or "expression"


def op_label(op):
    """The op as Theano wrote it: elementwise ops read ``Elemwise{add}``."""
    from graphc.ops.elemwise import Elemwise
    text = str(op)
    if isinstance(op, Elemwise):
        return f"Elemwise{{{text}}}"
    return text


def format_shape(shape):
    """``(None, 3)`` as ``(?, 3)`` and a 1-tuple with its comma."""
    items = ["?" if s is None else str(s) for s in shape]
    if len(items) == 1:
        return f"({items[0]},)"
    return f"({', '.join(items)})"


def short_type(var):
    """``float64 (?, 3)``: the dtype and the static shape, for edge labels."""
    return f"{var.type.dtype} {format_shape(var.type.shape)}"


def constant_text(data, limit=8):
    """A constant's value, whole when small, summarised otherwise."""
    data = np.asarray(data)
    if data.ndim == 0:
        return str(data.item())
    if data.size <= limit:
        return np.array2string(data, separator=", ").replace("\n", "")
    flat = data.reshape(-1)
    if data.size and np.all(flat == flat[0]):
        return f"{format_shape(data.shape)} of {flat[0].item()}"
    return f"{data.dtype} {format_shape(data.shape)}"


def variable_label(var):
    """How an ownerless variable (input, shared variable or constant) is named."""
    if isinstance(var, Constant):
        return f"TensorConstant{{{constant_text(var.data)}}}"
    if isinstance(var, SharedVariable):
        return var.name or f"<SharedVariable {short_type(var)}>"
    if var.name:
        return var.name
    return f"<{var.type}>"


def variable_kind(var):
    """``"constant"``, ``"shared"`` or ``"input"`` for a variable with no owner."""
    if isinstance(var, Constant):
        return "constant"
    if isinstance(var, SharedVariable):
        return "shared"
    return "input"


def trail_history(node, limit=6, visits=256):
    """Names of the rewrites behind ``node``, latest first (``["fusion", "log_sigmoid"]``).

    A node's trail names only the last rewrite; the nodes it replaced carry their
    own trails, so the history is a walk back through them. Nodes merely rebuilt
    because an input changed have the name ``None`` and are walked through.
    """
    names = []
    seen = set()
    queue = [node]
    # Fusion replaces many nodes at once; the caps keep dumps of big graphs linear.
    while queue and len(names) <= limit and len(seen) < visits:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        trail = getattr(current, "trail", None)
        if not trail:
            continue
        name, sources = trail
        if name is not None and name not in names:
            names.append(name)
        queue.extend(sources)
    return names


def trail_text(node, with_sources=False, limit=6):
    """``fusion <- log_sigmoid`` for a node rewrites made, else ``None``.

    With ``with_sources`` the ops of the nodes the last rewrite replaced follow.
    """
    names = trail_history(node, limit)
    if not names:
        return None
    text = " <- ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        text += " <- ..."
    sources = node.trail[1] if node.trail else ()
    if with_sources and sources:
        ops = ", ".join(op_label(s.op) for s in sources[:4])
        more = f", ... ({len(sources)} nodes)" if len(sources) > 4 else ""
        text += f" (from {ops}{more})"
    return text


def inner_text(op):
    """The inner program of a fused or looping op as lines, or ``None``."""
    scalar = getattr(op, "scalar", None)
    if scalar is not None and hasattr(scalar, "describe") and hasattr(scalar, "steps"):
        program = scalar.describe()
        steps, _, outputs = program.rpartition(" -> ")
        return steps.split("; ") + [f"-> {outputs}"]
    return None


def inner_graph(op):
    """The inner FunctionGraph of an op that runs one (a loop), or ``None``."""
    inner = getattr(op, "inner", None)
    return inner if isinstance(inner, FunctionGraph) else None


def node_details(node):
    """A dict of what a reader may want to know about ``node`` (for the HTML panel)."""
    details = {
        "op": op_label(node.op),
        "class": type(node.op).__name__,
        "outputs": [f"{out.type}" + (f" '{out.name}'" if out.name else "")
                    for out in node.outputs],
        "shape": [format_shape(out.type.shape) for out in node.outputs],
        "inputs": [describe_input(v) for v in node.inputs],
        "created at": node.trace,
    }
    trail = trail_text(node, with_sources=True)
    if trail:
        details["rewrite"] = trail
    inner = inner_text(node.op)
    if inner:
        details["fused program"] = inner
    return details


def variable_details(var):
    """What the HTML panel shows for an input, a shared variable or a constant."""
    details = {
        "kind": variable_kind(var),
        "name": var.name or "",
        "type": str(var.type),
        "shape": format_shape(var.type.shape),
    }
    if isinstance(var, Constant):
        details["value"] = constant_text(var.data, limit=64)
    if isinstance(var, SharedVariable):
        # The static shape of a shared variable is usually unknown; its value says more.
        details["value shape"] = str(np.shape(var.get_value(borrow=True)))
    return details


def describe_input(var):
    if var.owner is None:
        return variable_label(var)
    suffix = f".{var.index}" if len(var.owner.outputs) > 1 else ""
    return f"{op_label(var.owner.op)}{suffix}"
