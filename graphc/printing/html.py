"""``to_html``: one self-contained page comparing a graph before and after rewriting.

The page holds everything it needs (inline SVG, CSS, a little vanilla JavaScript
and the node details as JSON), so it opens from disk, offline, in any browser.
Clicking a node shows its op, type, shape, where the user created it and the
rewrite that made it.
"""
import html
import json
import os

from graphc.printing._graph import graph_view
from graphc.printing.svg import STYLES, build_model, render_svg

_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { padding: 10px 16px; background: #263238; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
header .summary { font-size: 13px; opacity: 0.85; margin-top: 4px; }
main { display: flex; align-items: flex-start; gap: 12px; padding: 12px; }
.panes { display: flex; gap: 12px; flex: 1; min-width: 0; }
.pane { flex: 1; min-width: 0; border: 1px solid #ccc; border-radius: 4px; }
.pane h2 { font-size: 14px; margin: 0; padding: 6px 10px; background: #eceff1; }
.pane .graph { overflow: auto; max-height: 85vh; }
#details { width: 340px; flex: none; border: 1px solid #ccc; border-radius: 4px;
           padding: 8px 12px; font-size: 13px; position: sticky; top: 12px; }
#details dt { font-weight: bold; margin-top: 6px; }
#details dd { margin: 0 0 0 8px; font-family: monospace; white-space: pre-wrap;
              word-break: break-word; }
g.node { cursor: pointer; }
g.node:hover > rect, g.node:hover > ellipse { stroke-width: 3; }
g.node.selected > rect, g.node.selected > ellipse { stroke: #d50000; stroke-width: 3.5; }
.legend span { display: inline-block; color: #222; padding: 1px 6px; margin: 2px 4px 2px 0;
               border: 1px solid #999; border-radius: 8px; font-size: 12px; }
#status.error { color: #b00020; font-weight: bold; }
"""

# Runs after the SVGs are in the DOM. It only reads the embedded JSON and the
# SVG groups; it sets data-status on <body> so headless checks can see it ran.
_JS = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var panel = document.getElementById("details-body");
  var selected = null;

  function show(id) {
    var info = data.nodes[id];
    if (!info) { return; }
    if (selected) { selected.classList.remove("selected"); }
    selected = document.getElementById(id);
    selected.classList.add("selected");
    panel.textContent = "";
    var list = document.createElement("dl");
    var heading = document.createElement("h3");
    heading.textContent = info.label + " (" + info.graph + ")";
    panel.appendChild(heading);
    Object.keys(info.details).forEach(function (key) {
      var value = info.details[key];
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = key;
      dd.textContent = Array.isArray(value) ? value.join("\\n") : String(value);
      list.appendChild(dt);
      list.appendChild(dd);
    });
    panel.appendChild(list);
    panel.setAttribute("data-selected", id);
  }

  var groups = document.querySelectorAll("g.node");
  Array.prototype.forEach.call(groups, function (group) {
    group.addEventListener("click", function () { show(group.id); });
  });
  var counts = {};
  Array.prototype.forEach.call(document.querySelectorAll("svg.graphc-graph"), function (svg) {
    counts[svg.getAttribute("data-graph")] = svg.querySelectorAll("g.node").length;
  });
  var status = document.getElementById("status");
  if (status.className !== "error") {
    status.textContent = Object.keys(counts).map(function (name) {
      return name + ": " + counts[name] + " nodes";
    }).join(", ");
  }
  document.body.setAttribute("data-node-count", String(groups.length));
  // #selftest clicks the first node, so a headless browser can check the panel.
  if (window.location.hash === "#selftest" && groups.length) {
    groups[0].dispatchEvent(new MouseEvent("click", {bubbles: true}));
  }
  if (document.body.getAttribute("data-status") === "loading") {
    document.body.setAttribute("data-status", "ready");
  }
})();
"""

# Installed first, so that an error anywhere later is reported on the page.
_ERROR_HOOK = """
window.addEventListener("error", function (event) {
  document.body.setAttribute("data-status", "error");
  var status = document.getElementById("status");
  if (status) {
    status.className = "error";
    status.textContent = "script error: " + event.message;
  }
});
"""


def _pane(obj, which, heading, prefix, data):
    nodes, edges, title = build_model(obj, which)
    svg, ids = render_svg(nodes, edges, id_prefix=prefix, standalone=False, title=title)
    svg = svg.replace('class="graphc-graph"', f'class="graphc-graph" data-graph="{which}"', 1)
    for key, draw in nodes.items():
        data["nodes"][ids[key]] = {"label": draw.label, "kind": draw.kind, "graph": which,
                                   "details": draw.details}
    applies = sum(1 for d in nodes.values() if d.kind in ("apply", "fused"))
    return (f'<section class="pane" id="{prefix}pane"><h2>{html.escape(heading)} '
            f"({applies} ops)</h2><div class=\"graph\">{svg}</div></section>")


def _legend():
    items = []
    for kind, (_, fill, stroke, _) in STYLES.items():
        items.append(f'<span style="background:{fill};border-color:{stroke}">{kind}</span>')
    items.append('<span style="background:#fff;border: 2px solid #e65100">made by a rewrite</span>')
    return '<div class="legend">' + "".join(items) + "</div>"


def to_html(obj, outfile=None, *, title=None):
    """Write one self-contained HTML page showing a graph, before and after rewriting.

    Parameters
    ----------
    obj : Variable, list of Variable, FunctionGraph or compiled Function
        A compiled function shows ``f.unoptimized`` and ``f.fgraph`` side by side;
        anything else shows its one graph.
    outfile : str or path, optional
        Where to write the page; ``None`` returns the HTML text.
    title : str, optional

    Returns
    -------
    str
        The path written, or the HTML text when ``outfile`` is None.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> f = graphc.function([x], T.exp(x).sum(), backend="python")
    >>> page = graphc.printing.to_html(f)
    >>> page.startswith("<!DOCTYPE html>") and page.count('<g class="node"') > 0
    True
    """
    view = graph_view(obj)
    compiled = hasattr(obj, "unoptimized") and hasattr(obj, "fgraph")
    data = {"nodes": {}}
    if compiled:
        panes = [_pane(obj, "unoptimized", "Before optimization", "before-", data),
                 _pane(obj, "optimized", "After optimization", "after-", data)]
    else:
        panes = [_pane(obj, "optimized", "Graph", "graph-", data)]
    title = title or f"graphc: {view.title}"
    # "</" or "<!--" inside a script element would end it early or change how it is
    # parsed: every "<" is written as the JSON escape "\u003c" instead.
    payload = json.dumps(data, indent=None, sort_keys=False).replace("<", "\\u003c")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body data-status="loading">
<script>{_ERROR_HOOK}</script>
<header><h1>{html.escape(title)}</h1>
<div class="summary" id="status">loading</div>{_legend()}</header>
<main>
<div class="panes">
{chr(10).join(panes)}
</div>
<aside id="details"><h2>Details</h2><div id="details-body">Click a node to see its op,
type, shape, where it was created and the rewrite that made it.</div></aside>
</main>
<script type="application/json" id="graph-data">{payload}</script>
<script>{_JS}</script>
</body>
</html>
"""
    if outfile is None:
        return page
    outfile = os.fspath(outfile)
    with open(outfile, "w", encoding="utf-8") as handle:
        handle.write(page)
    return outfile
