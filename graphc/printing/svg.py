"""``pydotprint``: a graph drawn as standalone SVG, without the Graphviz binary.

Theano drew graphs by calling Graphviz's ``dot``; a missing binary was its most
reported printing problem (Theano #1801, #4759) and files that opened blank in a
browser the next (#4510, #5291). Here the layout is computed in Python:

1. layers: each op one layer below its lowest input; inputs, shared variables and
   constants sit just above their first reader, outputs just below their op;
2. order within a layer: a few barycenter sweeps down and up (Sugiyama's method)
   to reduce crossings;
3. x positions: each node pulled toward the mean x of its neighbours, then pushed
   apart so that boxes never overlap.

The drawing is plain SVG 1.1 with explicit ``width``, ``height`` and ``viewBox``:
one ``<g class="node">`` per graph node (ops as boxes, inputs, shared variables,
constants and outputs as differently coloured ellipses) and one ``<g class="edge">``
per edge, labelled with the type it carries. Tooltips (``<title>``) give the user's
``file:line`` and the rewrite that made the node.
"""
import os
from collections import namedtuple
import html
import warnings

from graphc.errors import GraphcTypeError, GraphcValueError
from graphc.graph import toposort
from graphc.printing._graph import (graph_view, inner_text, node_details, op_label,
                                    short_type, trail_text, variable_details, variable_kind,
                                    variable_label)

# Geometry in pixels. Labels use a monospace font so their width is predictable.
FONT_SIZE = 12
CHAR_WIDTH = 7.3
NODE_HEIGHT = 34
LAYER_GAP = 62
NODE_GAP = 26
MARGIN = 24
MAX_LABEL = 48
BEND_WIDTH = 2.0
BEND_GAP = 10.0

# kind -> (shape, fill, stroke, dash). The legend of the drawing.
STYLES = {
    "apply": ("box", "#ffffff", "#333333", None),
    "fused": ("box", "#fff1c1", "#8a6d00", None),
    "input": ("ellipse", "#b8e6b8", "#2e7d32", None),
    "shared": ("ellipse", "#ffd8a8", "#c05800", None),
    "constant": ("ellipse", "#e6e6e6", "#666666", "4 3"),
    "output": ("ellipse", "#a9d4ff", "#1565c0", None),
    "update": ("ellipse", "#d9c8ff", "#5e35b1", None),
}
REWRITTEN_STROKE = "#e65100"

DrawNode = namedtuple("DrawNode", ["key", "kind", "label", "tooltip", "details"])
Edge = namedtuple("Edge", ["source", "target", "position", "label", "tooltip"])


# ----------------------------------------------------------------- XML text
def escape(text):
    """``text`` safe inside an XML element (xml.sax.saxutils imports urllib: 40 ms)."""
    return html.escape(text, quote=False)


def quoteattr(text):
    """``text`` as a quoted XML attribute value, line breaks and tabs kept."""
    quoted = html.escape(text, quote=True)
    for char, entity in (("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):
        quoted = quoted.replace(char, entity)
    return f'"{quoted}"'


# ----------------------------------------------------------------- the graph model
def build_model(obj, which="optimized"):
    """The nodes and edges to draw for ``obj``.

    Returns
    -------
    nodes : dict
        ``{key: DrawNode}`` in a deterministic order; the key is the graph node
        (op application), the variable (input, shared, constant) or
        ``("output", i)``.
    edges : list of Edge
    title : str
    """
    view = graph_view(obj, which)
    ends = list(view.outputs) + [expr for _, expr in view.updates]
    nodes = {}
    edges = []

    def add_source(var):
        if var not in nodes:
            kind = variable_kind(var)
            label = variable_label(var)
            tooltip = [label, f"{kind}: {var.type}"]
            nodes[var] = DrawNode(var, kind, label, tooltip, variable_details(var))
        return var

    def endpoint(var):
        """The drawn node that produces ``var``."""
        return var.owner if var.owner is not None else add_source(var)

    for node in toposort(ends):
        # Sources first, in input order, so that the drawing reads left to right.
        for var in node.inputs:
            if var.owner is None:
                add_source(var)
        nodes[node] = _apply_node(node)
        many = len(node.inputs) > 1
        for position, var in enumerate(node.inputs):
            label = short_type(var)
            if many:
                label = f"{position}: {label}"
            if var.owner is not None and len(var.owner.outputs) > 1:
                label = f".{var.index} {label}"
            tooltip = f"input {position} of {op_label(node.op)}: {var.type}"
            edges.append(Edge(endpoint(var), node, position, label, tooltip))
    sinks = [(var, "output", var.name or f"output {i}") for i, var in enumerate(view.outputs)]
    sinks += [(expr, "update", f"{variable_label(target)} (update)")
              for target, expr in view.updates]
    for i, (var, kind, label) in enumerate(sinks):
        key = (kind, i)
        details = {"kind": kind, "type": str(var.type), "computed by": _producer(var)}
        nodes[key] = DrawNode(key, kind, label, [label, f"{kind}: {var.type}"], details)
        edges.append(Edge(endpoint(var), key, 0, short_type(var), f"{kind}: {var.type}"))
    return nodes, edges, view.title


def _producer(var):
    if var.owner is None:
        return variable_label(var)
    return op_label(var.owner.op)


def _apply_node(node):
    label = op_label(node.op)
    kind = "fused" if inner_text(node.op) else "apply"
    tooltip = [label, "out: " + ", ".join(str(o.type) for o in node.outputs),
               f"created at {node.trace}"]
    trail = trail_text(node, with_sources=True)
    if trail:
        tooltip.append(f"made by rewrite {trail}")
    program = inner_text(node.op)
    if program:
        tooltip.extend(program)
    return DrawNode(node, kind, label, tooltip, node_details(node))


# ------------------------------------------------------------------------- layout
def _clip(label):
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 3] + "..."


def node_width(draw):
    return max(56.0, CHAR_WIDTH * len(_clip(draw.label)) + 24.0)


def layout(nodes, edges):
    """Positions of nodes and the bends of long edges.

    Returns
    -------
    positions : dict
        ``{key: (x_center, y_center, width)}``.
    bends : dict
        ``{edge index: [(x, y), ...]}``, the points an edge spanning several layers
        passes through (one per layer it crosses), so that it runs between nodes.
    size : tuple
        The canvas ``(width, height)``.
    """
    # Imported here, not with graphc: networkx takes 0.1 s to import, which every
    # process would pay for a dump it may never draw.
    import networkx as nx
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((e.source, e.target) for e in edges)
    layer = _layers(graph, nodes)
    # Sugiyama's dummy nodes: a long edge becomes a chain through every layer it
    # crosses; ordering and placement then keep those chains clear of real nodes.
    routed = nx.DiGraph()
    routed.add_nodes_from(nodes)
    chains = {}
    for index, edge in enumerate(edges):
        span = layer[edge.target] - layer[edge.source]
        chain = [("bend", index, k) for k in range(1, span)]
        for k, dummy in enumerate(chain):
            layer[dummy] = layer[edge.source] + k + 1
        points = [edge.source] + chain + [edge.target]
        routed.add_edges_from(zip(points, points[1:]))
        chains[index] = chain
    rows = {}
    for key in routed.nodes:  # model order: toposort with sources before their readers
        rows.setdefault(layer[key], []).append(key)
    rows = [rows[i] for i in sorted(rows)]
    _order_rows(routed, rows)
    width = {key: node_width(nodes[key]) if key in nodes else BEND_WIDTH for key in routed.nodes}
    x = _place(routed, rows, width)
    row_y = [MARGIN + NODE_HEIGHT / 2 + depth * (NODE_HEIGHT + LAYER_GAP)
             for depth in range(len(rows))]
    positions = {key: (x[key], row_y[layer[key]], width[key]) for key in nodes}
    bends = {index: [(x[d], row_y[layer[d]]) for d in chain] for index, chain in chains.items()}
    canvas_width = max((x[k] + width[k] / 2 for k in x), default=MARGIN) + MARGIN
    canvas_height = 2 * MARGIN + len(rows) * NODE_HEIGHT + max(len(rows) - 1, 0) * LAYER_GAP
    return positions, bends, (canvas_width, max(canvas_height, 2 * MARGIN))


def _layers(graph, nodes):
    import networkx as nx
    layer = {}
    for key in nx.topological_sort(graph):
        preds = list(graph.predecessors(key))
        layer[key] = 1 + max(layer[p] for p in preds) if preds else 0
    # Pull sources down to just above their first reader so that a constant used
    # late does not send a long edge across the whole drawing.
    for key in nodes:
        succs = list(graph.successors(key))
        if not list(graph.predecessors(key)) and succs:
            layer[key] = max(0, min(layer[s] for s in succs) - 1)
    return layer


def _order_rows(graph, rows, sweeps=6):
    """Barycenter ordering: sort each row by the mean position of its neighbours."""
    def positions():
        # Positions normalised to [0, 1] so rows of different lengths compare.
        result = {}
        for row in rows:
            for i, key in enumerate(row):
                result[key] = (i + 0.5) / len(row)
        return result

    for sweep in range(sweeps):
        down = sweep % 2 == 0
        indices = range(1, len(rows)) if down else range(len(rows) - 2, -1, -1)
        for index in indices:
            pos = positions()
            row = rows[index]
            neighbours = graph.predecessors if down else graph.successors

            def barycenter(item, pos=pos, neighbours=neighbours):
                i, key = item
                near = [pos[n] for n in neighbours(key)]
                return sum(near) / len(near) if near else pos[key]

            # Ties keep the current order (sorted is stable), so sweeps converge.
            rows[index] = [key for _, key in sorted(enumerate(row), key=barycenter)]


def _place(graph, rows, width, rounds=8):
    """x centres: pulled toward neighbours, then separated, keeping the row order."""
    x = {}
    for row in rows:
        cursor = MARGIN
        for key in row:
            x[key] = cursor + width[key] / 2
            cursor += width[key] + NODE_GAP
    for sweep in range(rounds):
        down = sweep % 2 == 0
        order = rows if down else rows[::-1]
        for row in order:
            wanted = {}
            for key in row:
                near = list(graph.predecessors(key)) + list(graph.successors(key))
                near_x = [x[n] for n in near]
                wanted[key] = sum(near_x) / len(near_x) if near_x else x[key]
            _separate(row, wanted, width, x)
    left = min((x[k] - width[k] / 2 for k in x), default=MARGIN)
    return {k: v - left + MARGIN for k, v in x.items()}


def _gap(left, right, width):
    # Bends of long edges may run closer to each other than boxes do.
    return NODE_GAP if width[left] > BEND_WIDTH and width[right] > BEND_WIDTH else BEND_GAP


def _separate(row, wanted, width, x):
    """Move a row to its wanted centres, keeping gaps between neighbours."""
    # Forward pass pushes right, backward pass pushes left; their mean is balanced.
    forward = {}
    limit, previous = float("-inf"), None
    for key in row:
        gap = _gap(previous, key, width) if previous is not None else 0.0
        forward[key] = max(wanted[key], limit + gap + width[key] / 2)
        limit, previous = forward[key] + width[key] / 2, key
    backward = {}
    limit, previous = float("inf"), None
    for key in reversed(row):
        gap = _gap(key, previous, width) if previous is not None else 0.0
        backward[key] = min(wanted[key], limit - gap - width[key] / 2)
        limit, previous = backward[key] - width[key] / 2, key
    middle = {key: (forward[key] + backward[key]) / 2 for key in row}
    # The mean of two feasible placements can still overlap; one forward pass fixes it.
    limit, previous = float("-inf"), None
    for key in row:
        gap = _gap(previous, key, width) if previous is not None else 0.0
        x[key] = max(middle[key], limit + gap + width[key] / 2)
        limit, previous = x[key] + width[key] / 2, key


# ------------------------------------------------------------------------ drawing
def render_svg(nodes, edges, *, id_prefix="", standalone=True, title=""):
    """SVG text for a model from :func:`build_model`.

    Returns
    -------
    text : str
    ids : dict
        ``{key: element id}`` of each node group, for pages that link to them.
    """
    positions, bends, (width, height) = layout(nodes, edges)
    ids = {key: f"{id_prefix}n{i}" for i, key in enumerate(nodes)}
    arrow = f"{id_prefix}arrow"
    out = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8" standalone="no"?>')
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graphc-graph" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="{FONT_SIZE}">')
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>')
    out.append(f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')
    inputs_of = {}
    for edge in edges:
        inputs_of[edge.target] = max(inputs_of.get(edge.target, 0), edge.position + 1)
    # Edges first so that node shapes are drawn over their ends.
    for index, edge in enumerate(edges):
        out.append(_edge(edge, positions, bends[index], inputs_of, ids, arrow))
    for key, draw in nodes.items():
        out.append(_node(draw, positions[key], ids[key]))
    out.append("</svg>")
    return "\n".join(out) + "\n", ids


def _edge(edge, positions, bends, inputs_of, ids, arrow):
    x1, y1, _ = positions[edge.source]
    x2, y2, w2 = positions[edge.target]
    y1 += NODE_HEIGHT / 2
    y2 -= NODE_HEIGHT / 2
    # Inputs of one op arrive side by side in argument order.
    count = inputs_of.get(edge.target, 1)
    if count > 1:
        spread = min(18.0, (w2 - 16) / (count - 1))
        x2 += (edge.position - (count - 1) / 2) * spread
    points = [(x1, y1)] + list(bends) + [(x2, y2)]
    path = f"M {x1:.1f} {y1:.1f} " + _smooth(points)
    # The label sits at the middle of the last piece, next to the op it feeds.
    (ax, ay), (bx, by) = points[-2], points[-1]
    label_x, label_y = (ax + bx) / 2 + 4, (ay + by) / 2 + 4
    source, target = ids[edge.source], ids[edge.target]
    return (
        f'<g class="edge" id="{source}-{target}-{edge.position}">'
        f"<title>{escape(edge.tooltip)}</title>"
        f'<path d="{path}" fill="none" stroke="#555555" stroke-width="1.2" '
        f'marker-end="url(#{arrow})"/>'
        f'<text x="{label_x:.1f}" y="{label_y:.1f}" font-size="10" fill="#666666">'
        f"{escape(edge.label)}</text></g>")


def _smooth(points):
    """Cubic Bezier pieces through ``points`` (a Catmull-Rom spline).

    The curve leaves the first point and enters the last one vertically, as edges
    leave the bottom of one node and enter the top of the next.
    """
    (x0, y0), (xn, yn) = points[0], points[-1]
    lead = max(abs(points[1][1] - y0), 12.0)
    padded = [(x0, y0 - lead)] + list(points) + [(xn, yn + lead)]
    pieces = []
    for i in range(1, len(padded) - 2):
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = padded[i - 1:i + 3]
        c1 = (bx + (cx - ax) / 6, by + (cy - ay) / 6)
        c2 = (cx - (dx - bx) / 6, cy - (dy - by) / 6)
        pieces.append(f"C {c1[0]:.1f} {c1[1]:.1f} {c2[0]:.1f} {c2[1]:.1f} {cx:.1f} {cy:.1f}")
    return " ".join(pieces)


def _node(draw, position, element_id):
    x, y, width = position
    shape, fill, stroke, dash = STYLES[draw.kind]
    rewritten = draw.kind in ("apply", "fused") and "rewrite" in draw.details
    if rewritten:
        stroke = REWRITTEN_STROKE
    attrs = f'fill="{fill}" stroke="{stroke}" stroke-width="{2.2 if rewritten else 1.4}"'
    if dash:
        attrs += f' stroke-dasharray="{dash}"'
    if shape == "box":
        figure = (f'<rect x="{x - width / 2:.1f}" y="{y - NODE_HEIGHT / 2:.1f}" '
                  f'width="{width:.1f}" height="{NODE_HEIGHT}" rx="3" {attrs}/>')
    else:
        figure = (f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{width / 2:.1f}" '
                  f'ry="{NODE_HEIGHT / 2}" {attrs}/>')
    text = (f'<text x="{x:.1f}" y="{y + FONT_SIZE / 3:.1f}" text-anchor="middle" '
            f'fill="#111111">{escape(_clip(draw.label))}</text>')
    return (f'<g class="node" id="{element_id}" data-kind="{draw.kind}" '
            f"data-label={quoteattr(draw.label)}>"
            f"<title>{escape(chr(10).join(draw.tooltip))}</title>{figure}{text}</g>")


# Theano's drawing options: a ported call passes them, and SVG has no use for them.
THEANO_OPTIONS = frozenset({"compact", "with_ids", "high_contrast", "cond_highlight",
                            "colorCodes", "max_label_size", "scan_graphs",
                            "var_with_name_simple", "return_image"})


def pydotprint(obj, outfile=None, format="svg", *, which="optimized", title=None,
               print_output_file=False, **theano_options):
    """Draw a graph as a standalone SVG file; no Graphviz needed.

    Parameters
    ----------
    obj : Variable, list of Variable, FunctionGraph or compiled Function
        A compiled function is drawn as optimized (``f.fgraph``) unless
        ``which="unoptimized"``.
    outfile : str or path, optional
        Where to write the SVG. A name ending in another extension (Theano's
        ``"graph.png"``) gets ``.svg`` instead, with a warning, so that a file's
        extension never lies about its content. ``None`` returns the SVG text.
    format : {"svg"}
        The only format; others need Graphviz, which graphc does not use.
    which : {"optimized", "unoptimized"}
    title : str, optional
        The drawing's ``<title>``.
    print_output_file : bool
        Print where the file went, as Theano did.
    **theano_options
        Theano's drawing options (``compact``, ``with_ids``,
        ``var_with_name_simple``, ...) are accepted and ignored, so that ported
        calls run; ``return_image=True`` returns the SVG text.

    Returns
    -------
    str
        The path written, or the SVG text when ``outfile`` is None.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> svg = graphc.printing.pydotprint(T.exp(x) + 1)
    >>> svg.count('<g class="node"')  # x, 1, DimShuffle, exp, add, the output
    6
    """
    unknown = sorted(set(theano_options) - THEANO_OPTIONS)
    if unknown:
        raise GraphcTypeError(f"pydotprint got unexpected keyword arguments {unknown}")
    if format != "svg":
        raise GraphcValueError(f"pydotprint draws SVG only (format='svg'), got {format!r}; "
                               "convert the SVG with any image tool if needed")
    nodes, edges, default_title = build_model(obj, which)
    text, _ = render_svg(nodes, edges, title=title or default_title)
    if outfile is None or theano_options.get("return_image"):
        return text
    outfile = os.fspath(outfile)
    stem, extension = os.path.splitext(outfile)
    if extension.lower() != ".svg":
        warnings.warn(f"pydotprint draws SVG only: writing {stem + '.svg'!r} instead of "
                      f"{outfile!r}", stacklevel=2)
        outfile = stem + ".svg"
    with open(outfile, "w", encoding="utf-8") as handle:
        handle.write(text)
    if print_output_file:
        print("The output file is available at", outfile)
    return outfile
