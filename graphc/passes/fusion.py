"""Fusion: chains of elementwise nodes become one node running a Composite scalar
program, so a backend computes them in one loop without intermediate arrays.

A producer joins its consumer's group when the consumer is its only reader and
it is not itself a graph output (otherwise its value would be computed twice).
Broadcasting composes, so the fused node broadcasts its inputs exactly as the
chain did.
"""
from graphc.graph import Constant, FunctionGraph, rewrite_context
from graphc.ops.elemwise import Composite, Elemwise

# A constant of this many elements (one) is written into the program itself; an
# empty one stays an input (it has no value to write).
_INLINE_CONSTANT_SIZE = 1
# Bound the program size: a backend's generated loop body grows with it.
MAX_GROUP = 128


def _fusable(node):
    return (isinstance(node.op, Elemwise) and node.op.inplace is None
            and not isinstance(node.op.scalar, Composite))


def find_groups(fgraph):
    """``{root node: member nodes}`` for every chain worth fusing (two nodes or more)."""
    clients = fgraph.clients()
    graph_outputs = set(fgraph.outputs)
    absorbed, groups = set(), {}
    for root in reversed(fgraph.toposort()):
        if not _fusable(root) or root in absorbed:
            continue
        members, frontier = [root], [root]
        while frontier:
            consumer = frontier.pop()
            for var in consumer.inputs:
                producer = var.owner
                if (producer is None or not _fusable(producer) or producer in members
                        or producer in absorbed or var in graph_outputs
                        or len(members) >= MAX_GROUP):
                    continue
                if not all(client is consumer for client, _ in clients.get(var, [])):
                    continue
                members.append(producer)
                absorbed.add(producer)
                frontier.append(producer)
        if len(members) > 1:
            groups[root] = members
    return groups


def build_composite(members, position, final):
    """The fused Elemwise output replacing the group's root.

    ``position`` gives each node's place in the graph's order; ``final`` maps old
    variables to their replacements.
    """
    order = sorted(members, key=position.__getitem__)
    external, refs, steps = [], {}, []
    for node in order:
        args = []
        for var in node.inputs:
            if var in refs:
                args.append(refs[var])
            elif isinstance(var, Constant) and var.data.size == _INLINE_CONSTANT_SIZE:
                args.append(("const", var.data.reshape(()).item(), var.dtype))
            else:
                refs[var] = ("in", len(external))
                external.append(var)
                args.append(refs[var])
        refs[node.outputs[0]] = ("step", len(steps))
        steps.append((node.op.scalar, tuple(args)))
    composite = Composite(steps, [len(steps) - 1], [v.dtype for v in external])
    return Elemwise(composite)(*[final(v) for v in external])


def fuse(fgraph):
    """A FunctionGraph with each fusable elementwise chain replaced by one node."""
    groups = find_groups(fgraph)
    if not groups:
        return fgraph
    absorbed = {n for members in groups.values() for n in members}
    memo = {}
    order = fgraph.toposort()
    position = {node: i for i, node in enumerate(order)}

    def final(var):
        return memo.get(var, var)

    for node in order:
        if node in groups:
            with rewrite_context("fusion", groups[node]):
                memo[node.outputs[0]] = build_composite(groups[node], position, final)
        elif node not in absorbed:
            inputs = [final(v) for v in node.inputs]
            if any(a is not b for a, b in zip(inputs, node.inputs)):
                with rewrite_context(None, [node]):
                    rebuilt = node.op.make_node(*inputs)
                memo.update(zip(node.outputs, rebuilt.outputs))
    return FunctionGraph(fgraph.inputs, [final(v) for v in fgraph.outputs])
