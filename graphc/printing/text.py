"""``debugprint``: the graph as indented text, in Theano's format.

Each line is one variable: the op that computes it (or the input's name), an id
``[id A]`` and the variable's name in quotes; its inputs follow one level deeper
after `` |``. A node met a second time is printed once more by op and id only,
so shared subtrees appear once. Nodes that a rewrite made end with
``<- rewrite_name``; fused programs and inner graphs are listed once at the end.
"""
import io
import sys

from graphc.errors import GraphcValueError
from graphc.printing._graph import (graph_view, inner_graph, inner_text, op_label,
                                    trail_text, variable_label)

ID_STYLES = ("CHAR", "int", "id", "")


def char_from_number(number):
    """Theano's ids: 0 -> ``A``, 25 -> ``Z``, 26 -> ``BA`` (base 26 with A as zero).

    Examples
    --------
    >>> [char_from_number(n) for n in (0, 1, 25, 26, 27)]
    ['A', 'B', 'Z', 'BA', 'BB']
    """
    if number == 0:
        return "A"
    text = ""
    while number:
        number, remainder = divmod(number, 26)
        text = chr(ord("A") + remainder) + text
    return text


class _Printer:
    """Walks graphs and writes lines; ids persist across the graphs it prints."""

    def __init__(self, print_type, ids, print_trail):
        if ids not in ID_STYLES:
            raise GraphcValueError(f"ids must be one of {ID_STYLES}, got {ids!r}")
        self.print_type = print_type
        self.ids = ids
        self.print_trail = print_trail
        self.lines = []
        # Key: the node for computed variables (all outputs of a node share its id, as
        # in Theano), the variable itself for inputs, shared variables and constants.
        self.done = {}
        self.inner = {}  # op with an inner program -> id of the first node using it

    def id_of(self, key):
        if key not in self.done:
            self.done[key] = self._new_id(key)
        return self.done[key]

    def _new_id(self, key):
        count = len(self.done)
        if self.ids == "CHAR":
            return f"[id {char_from_number(count)}]"
        if self.ids == "int":
            return f"[id {count}]"
        if self.ids == "id":
            return f"[id {id(key)}]"
        return ""

    def type_text(self, var):
        return f"<{var.type}>" if self.print_type else ""

    def walk(self, root, depth=-1, prefix="", suffix=""):
        """Print ``root`` and (up to ``depth`` levels of) what it depends on."""
        # An explicit stack instead of recursion: chains of thousands of nodes are
        # common after gradients and must not hit Python's recursion limit.
        stack = [(root, prefix, prefix, depth, suffix)]
        while stack:
            var, prefix, prefix_child, depth, suffix = stack.pop()
            if depth == 0:
                continue
            node = var.owner
            if node is None:
                self.emit(prefix, variable_label(var), self.id_of(var), var, None, suffix)
                continue
            index = f".{var.index}" if len(node.outputs) > 1 else ""
            label = op_label(node.op) + index
            seen = node in self.done
            ident = self.id_of(node)
            if seen:
                # Printed before: op and id only (Theano's back reference).
                self.emit(prefix, label, ident, None, None, suffix)
                continue
            self.emit(prefix, label, ident, var, node, suffix)
            if inner_text(node.op) or inner_graph(node.op):
                self.inner.setdefault(node.op, (label, ident))
            children = []
            last = len(node.inputs) - 1
            for position, child in enumerate(node.inputs):
                # Below the last input no vertical bar continues.
                child_rest = prefix_child + ("  " if position == last else " |")
                children.append((child, prefix_child + " |", child_rest, depth - 1, ""))
            stack.extend(reversed(children))

    def emit(self, prefix, label, ident, var, node, suffix):
        parts = [prefix + label]
        if ident:
            parts.append(ident)
        if var is not None:
            type_text = self.type_text(var)
            if type_text:
                parts.append(type_text)
            if var.name and var.owner is not None:
                parts.append(f"'{var.name}'")
        if node is not None and self.print_trail:
            trail = trail_text(node)
            if trail:
                parts.append(f"<- {trail}")
        if suffix:
            parts.append(suffix)
        self.lines.append(" ".join(parts))

    def inner_section(self):
        """Fused programs and inner graphs, each once (Theano's "Inner graphs:")."""
        if not self.inner:
            return
        self.lines.extend(["", "Inner graphs:"])
        printed = set()
        pending = list(self.inner.items())
        while pending:
            op, (label, ident) = pending.pop(0)
            if op in printed:
                continue
            printed.add(op)
            self.lines.extend(["", f"{label} {ident}".rstrip()])
            steps = inner_text(op)
            if steps:
                self.lines.extend(" > " + step for step in steps)
            graph = inner_graph(op)
            if graph is not None:
                before = set(self.inner)
                for out in graph.outputs:
                    self.walk(out, prefix=" >", suffix="")
                # Inner graphs found inside this one are listed after it.
                pending.extend((k, v) for k, v in self.inner.items() if k not in before)


def debugprint(obj, file=None, *, print_type=False, ids="CHAR", depth=-1, print_trail=True,
               which="optimized"):
    """Print a graph as indented text, one variable a line, in Theano's format.

    Parameters
    ----------
    obj : Variable, list of Variable, FunctionGraph or compiled Function
        A compiled function shows its optimized graph (``f.fgraph``) and, after a
        line ``Updates:``, the new values of its shared variables.
    file : None, "str" or file object
        ``None`` prints to stdout, ``"str"`` returns the text, a file object is
        written to.
    print_type : bool
        Append each variable's type.
    ids : {"CHAR", "int", "id", ""}
        Ids as letters (A, B, ..., Z, BA), counters, Python ids, or none.
    depth : int
        Levels to print below each output; -1 for all.
    print_trail : bool
        End the line of a node made by a rewrite with ``<- rewrite_name``.
    which : {"optimized", "unoptimized"}
        For a compiled function: its graph after or before the rewrites.

    Returns
    -------
    str or None
        The text when ``file="str"``.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x, y = T.dvector("x"), T.dvector("y")
    >>> z = x + T.exp(y)
    >>> z.name = "z"
    >>> graphc.debugprint(z)
    Elemwise{add} [id A] 'z'
     |x [id B]
     |Elemwise{exp} [id C]
       |y [id D]
    """
    view = graph_view(obj, which)
    printer = _Printer(print_type, ids, print_trail)
    for out in view.outputs:
        printer.walk(out, depth)
    if view.updates:
        printer.lines.append("Updates:")
        for target, expr in view.updates:
            printer.walk(expr, depth, suffix=f"-> {variable_label(target)}")
    printer.inner_section()
    text = "\n".join(printer.lines) + "\n"
    if file == "str":
        return text
    out = sys.stdout if file is None else file
    out.write(text)
    if file is None or isinstance(file, io.TextIOBase):
        out.flush()
    return None if file is None else file
