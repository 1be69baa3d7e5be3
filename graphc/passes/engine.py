"""The rewrite engine: local rewrites applied bottom-up to a fixed point.

A local rewrite is a pure function ``node -> list of replacement variables`` (one
per output of the node) or ``None``. :func:`rewrite` registers it with a name and
the op classes it looks at. :func:`apply_local` rebuilds the graph bottom-up:
each node, once its inputs are final, is offered to the rewrites of its op
class; a replacement's own new nodes are offered in turn, and the walk repeats
until nothing changes. Nodes are never edited: new ones are built, and every
node a rewrite builds records the rewrite's name and the node it replaced.
"""
from graphc.errors import GraphcError
from graphc.graph import Constant, FunctionGraph, rewrite_context, toposort


class Rewrite:
    """A named local rewrite over nodes whose op is one of ``tracks``."""

    def __init__(self, name, fn, tracks, tags):
        self.name = name
        self.fn = fn
        self.tracks = tuple(tracks)
        self.tags = frozenset(tags) | {name}

    def __call__(self, node):
        return self.fn(node)

    def __repr__(self):
        return f"Rewrite({self.name})"


def rewrite(table, name, tracks, tags=()):
    """Decorator adding a rewrite function to ``table`` (a list) under ``name``."""
    def register(fn):
        table.append(Rewrite(name, fn, tracks, tags))
        return fn
    return register


def _by_op_class(rewrites):
    """``{op class: rewrites}``; rewrites with no ``tracks`` look at every node (key None)."""
    index = {}
    for rw in rewrites:
        for cls in rw.tracks or (None,):
            index.setdefault(cls, []).append(rw)
    return index


def _check_replacement(rw, node, replacement):
    if len(replacement) != len(node.outputs):
        raise GraphcError(f"rewrite {rw.name} returned {len(replacement)} variables for "
                          f"{len(node.outputs)} outputs of {node.op}")
    for old, new in zip(node.outputs, replacement):
        if new.dtype != old.dtype or new.ndim != old.ndim:
            raise GraphcError(f"rewrite {rw.name} replaced {old.type} by {new.type} "
                              f"at {node.op}")


class _Walker:
    """One bottom-up rebuild of a graph, offering each node to the rewrites."""

    def __init__(self, index, max_depth=20):
        self.index = index
        self.per_class = {}
        self.memo = {}
        self.done = set()
        self.changed = False
        self.max_depth = max_depth

    def final(self, var):
        return self.memo.get(var, var)

    def visit(self, node, depth=0):
        if node in self.done:
            return
        self.done.add(node)
        inputs = [self.final(v) for v in node.inputs]
        current = node
        if any(a is not b for a, b in zip(inputs, node.inputs)):
            with rewrite_context(None, [node]):
                current = node.op.make_node(*inputs)
            self.done.add(current)
            self._bind(node.outputs, current.outputs)
        replacement = self._offer(current)
        if replacement is None:
            return
        self.changed = True
        # The replacement's new nodes are visited (and offered) before anything reads them.
        if depth < self.max_depth:
            for new_node in _new_nodes(replacement, self.done):
                self.visit(new_node, depth + 1)
            replacement = [self.final(v) for v in replacement]
        self._bind(current.outputs, replacement)
        self._bind(node.outputs, replacement)

    def _bind(self, old_outputs, new_outputs):
        for old, new in zip(old_outputs, new_outputs):
            if old is not new:
                self.memo[old] = new

    def _rewrites_for(self, op_class):
        rewrites = self.per_class.get(op_class)
        if rewrites is None:
            rewrites = self.index.get(op_class, []) + self.index.get(None, [])
            self.per_class[op_class] = rewrites
        return rewrites

    def _offer(self, node):
        with rewrite_context(None, lambda: matched_region(node)) as scope:
            for rw in self._rewrites_for(type(node.op)):
                scope.name = rw.name
                replacement = rw(node)
                if replacement is None:
                    continue
                replacement = list(replacement)
                _check_replacement(rw, node, replacement)
                if all(a is b for a, b in zip(replacement, node.outputs)):
                    continue
                return replacement
        return None


def matched_region(node, depth=2):
    """``node`` and the nodes up to ``depth`` levels below it: what a rewrite may have
    matched, recorded as the sources of the nodes it builds."""
    region, level = [node], [node]
    for _ in range(depth):
        level = [v.owner for n in level for v in n.inputs if v.owner is not None]
        region += [n for n in level if n not in region]
    return region


def _new_nodes(outputs, done):
    """The nodes of ``outputs``' graph not in ``done``, in order; stops at done nodes."""
    order, seen = [], set()

    def walk(var):
        node = var.owner
        if node is None or node in done or node in seen:
            return
        seen.add(node)
        for v in node.inputs:
            walk(v)
        order.append(node)

    for var in outputs:
        walk(var)
    return order


def apply_local(fgraph, rewrites, max_rounds=20):
    """Apply ``rewrites`` everywhere in ``fgraph`` until none fires; a new FunctionGraph."""
    index = _by_op_class(rewrites)
    if not index:
        return fgraph
    outputs = list(fgraph.outputs)
    for _ in range(max_rounds):
        walker = _Walker(index)
        for node in toposort(outputs):
            walker.visit(node)
        outputs = [walker.final(v) for v in outputs]
        if not walker.changed:
            break
    return FunctionGraph(fgraph.inputs, outputs)


def constant_under_dimshuffles(var):
    """The Constant ``var`` is, or is a dimshuffle of (a scalar meeting a matrix), else None."""
    from graphc.ops.shape import DimShuffle
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var if isinstance(var, Constant) else None


def constant_value(var):
    """The single value of a constant whose elements are all equal, else None.

    Looks through dimshuffles of constants (how a scalar meets a matrix).
    """
    var = constant_under_dimshuffles(var)
    if var is None:
        return None
    data = var.data
    if data.size == 0:
        return None
    first = data.flat[0]
    if data.size > 1 and not (data == first).all():
        return None
    return first.item()
