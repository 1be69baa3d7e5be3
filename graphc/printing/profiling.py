"""``profile_summary``: the report behind ``f.profile.summary()``.

A :class:`graphc.compile.Profile` holds, per node, the seconds spent and the
number of runs (``node_time``, ``node_calls``), and for the whole function the
measured time of its calls (``call_time``, ``calls``). The report shows where the
time goes by op class, by op and by node, largest first, with each share of the
summed node time; the gap between that sum and the call time is the backend's own
overhead (walking nodes, storage, timing itself).
"""
from graphc.graph import Node
from graphc.printing._graph import describe_input, op_label

# Rows shown per table; the rest are summed into one line.
ROW_LIMIT = 40


def _node_label(key):
    """(op label, op class, node text) for a profiled key.

    Backends that time something other than a graph node (a fused kernel, say)
    may record any object; it is then shown by its ``str``.
    """
    if isinstance(key, Node):
        op = op_label(key.op)
        inputs = ", ".join(describe_input(v) for v in key.inputs)
        if len(inputs) > 60:
            inputs = inputs[:57] + "..."
        return op, type(key.op).__name__, f"{op}({inputs}) at {key.trace}"
    text = str(key)
    return text, type(key).__name__, text


def _table(rows, total, columns):
    """Format ``rows`` of (seconds, calls, count, label), largest first."""
    rows = sorted(rows, key=lambda row: row[0], reverse=True)
    lines = [columns]
    shown, rest = rows[:ROW_LIMIT], rows[ROW_LIMIT:]
    for seconds, calls, count, label in shown:
        share = 100.0 * seconds / total if total else 0.0
        per_call = 1e6 * seconds / calls if calls else 0.0
        lines.append(f"  {seconds:10.6f}  {share:6.1f}%  {per_call:12.2f}  {calls:8d}  "
                     f"{count:5d}  {label}")
    if rest:
        seconds = sum(row[0] for row in rest)
        share = 100.0 * seconds / total if total else 0.0
        lines.append(f"  {seconds:10.6f}  {share:6.1f}%  {'':12s}  {'':8s}  "
                     f"{len(rest):5d}  ... {len(rest)} more")
    return lines


def profile_summary(profile):
    """The timings of a profiled function as text, largest first.

    Parameters
    ----------
    profile : graphc.compile.Profile
        ``f.profile`` of a function compiled with ``profile=True``.

    Returns
    -------
    str
        Total call time, the sum of per-node times, then tables per op class, per
        op and per node: seconds, share of the summed node time, microseconds per
        run, runs, and how many nodes the row covers.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> f = graphc.function([x], T.exp(x).sum(), backend="python", profile=True)
    >>> _ = f([1.0, 2.0])
    >>> "sum of per-node times" in f.profile.summary()
    True
    """
    node_total = sum(profile.node_time.values())
    calls = profile.calls
    lines = ["Function profile"]
    name = getattr(getattr(profile, "fgraph", None), "name", None)
    if name:
        lines[0] += f" ({name})"
    per_call = 1e3 * profile.call_time / calls if calls else 0.0
    lines.append(f"  calls: {calls}; total call time: {profile.call_time:.6f} s "
                 f"({per_call:.4f} ms per call)")
    share = 100.0 * node_total / profile.call_time if profile.call_time else 0.0
    lines.append(f"  sum of per-node times: {node_total:.6f} s ({share:.1f}% of call time; "
                 "the rest is the backend's own overhead)")
    if not profile.node_time:
        lines.append("  no node timings recorded: " + ("the optimized graph has no nodes"
                                                       if profile.calls else
                                                       "the function was not called yet"))
        return "\n".join(lines) + "\n"
    by_class, by_op, by_node = {}, {}, []
    for key, seconds in profile.node_time.items():
        runs = profile.node_calls.get(key, 0)
        op, op_class, text = _node_label(key)
        for table, label in ((by_class, op_class), (by_op, op)):
            old = table.get(label, (0.0, 0, 0))
            table[label] = (old[0] + seconds, old[1] + runs, old[2] + 1)
        by_node.append((seconds, runs, 1, text))
    header = f"  {'time (s)':>10s}  {'share':>7s}  {'us per run':>12s}  {'runs':>8s}  {'nodes':>5s}"
    for title, rows in (("Per op class", by_class), ("Per op", by_op)):
        lines.extend(["", f"{title} (share of the summed node time):"])
        lines.extend(_table([(s, r, c, label) for label, (s, r, c) in rows.items()],
                            node_total, header + "  " + title.split()[-1]))
    lines.extend(["", "Per node (share of the summed node time):"])
    lines.extend(_table(by_node, node_total, header + "  node"))
    return "\n".join(lines) + "\n"
