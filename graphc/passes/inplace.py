"""Inplace: let a node write its result into an input buffer read for the last time.

A candidate buffer is an intermediate result (never a graph input, a shared
value or a constant), read by this node alone, not a graph output, and not a
view of another buffer. Elementwise nodes may reuse it only when its run-time
shape equals the output's: backends check that and allocate otherwise.
"""
from graphc.graph import FunctionGraph, rewrite_context
from graphc.ops.elemwise import Elemwise
from graphc.ops.subtensor import IncSubtensor


def _last_reader(var, node, clients, graph_outputs):
    producer = var.owner
    if producer is None or var in graph_outputs:
        return False
    if producer.op.view_map:
        return False
    readers = clients.get(var, [])
    return len(readers) == 1 and readers[0][0] is node


def _inplace_op(node, clients, graph_outputs):
    """The in-place version of ``node.op`` if one of its inputs qualifies, else None."""
    op = node.op
    if isinstance(op, Elemwise) and op.inplace is None and len(node.outputs) == 1:
        out = node.outputs[0]
        for i, var in enumerate(node.inputs):
            if (var.type == out.type and _last_reader(var, node, clients, graph_outputs)):
                return Elemwise(op.scalar, inplace=i)
    if isinstance(op, IncSubtensor) and not op.inplace:
        if _last_reader(node.inputs[0], node, clients, graph_outputs):
            return IncSubtensor(op.spec, op.set_instead_of_inc, inplace=True)
    return None


def inplace(fgraph):
    """A FunctionGraph whose eligible nodes overwrite an input buffer."""
    clients = fgraph.clients()
    graph_outputs = set(fgraph.outputs)
    memo = {}
    for node in fgraph.toposort():
        inputs = [memo.get(v, v) for v in node.inputs]
        new_op = _inplace_op(node, clients, graph_outputs)
        if new_op is None and all(a is b for a, b in zip(inputs, node.inputs)):
            continue
        with rewrite_context("inplace" if new_op is not None else None, [node]):
            rebuilt = (new_op or node.op).make_node(*inputs)
        memo.update(zip(node.outputs, rebuilt.outputs))
    return FunctionGraph(fgraph.inputs, [memo.get(v, v) for v in fgraph.outputs])
