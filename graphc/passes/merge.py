"""Merge: equal subgraphs become one (common subexpression elimination).

A node's structural key is its op and the identities of its (already merged)
inputs, so merging is one dictionary lookup per node; constants merge by value.
"""
from graphc.graph import Constant, FunctionGraph, rewrite_context, toposort


def merge(fgraph):
    """A FunctionGraph where equal constants and equal nodes appear once."""
    memo = {}
    constants = {}
    nodes = {}

    def final(var):
        var = memo.get(var, var)
        if isinstance(var, Constant):
            return constants.setdefault(var.signature(), var)
        return var

    for node in toposort(fgraph.outputs):
        inputs = [final(v) for v in node.inputs]
        key = (node.op, tuple(id(v) for v in inputs))
        existing = nodes.get(key)
        if existing is None:
            if any(a is not b for a, b in zip(inputs, node.inputs)):
                with rewrite_context(None, [node]):
                    rebuilt = node.op.make_node(*inputs)
                memo.update(zip(node.outputs, rebuilt.outputs))
                existing = rebuilt
            else:
                existing = node
            # Keep the inputs alive in the key's owner so ids stay unique.
            nodes[key] = existing
        else:
            memo.update(zip(node.outputs, existing.outputs))
    return FunctionGraph(fgraph.inputs, [final(v) for v in fgraph.outputs])
