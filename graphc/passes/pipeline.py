"""The pipeline: an ordered list of named passes, each run to a fixed point.

    merge -> canonicalize -> stabilize -> merge -> specialize -> fusion -> inplace -> dce

``optimizer="fast_compile"`` runs merge and constant folding only; ``None`` runs
nothing. ``excluding=`` drops passes or single rewrites by name (or by tag, such
as "stability"); ``including=`` adds passes of the full pipeline to a shorter one,
or single rewrites (by name or tag): their pass then runs with those rewrites only.
"""
from graphc.config import config
from graphc.errors import GraphcValueError
from graphc.graph import FunctionGraph, clone_replace, rewrite_context
from graphc.passes.canonicalize import (CANONICALIZE, CONSTANT_FOLDING, double_negation,
                                        neutral_element, shape_inference)
from graphc.passes.engine import apply_local
from graphc.passes.fusion import fuse
from graphc.passes.inplace import inplace
from graphc.passes.merge import merge
from graphc.passes.specialize import SPECIALIZE
from graphc.passes.stabilize import STABILIZE

# The local passes: name -> the rewrites they apply together. Constant folding
# runs inside each, so a rewrite's new constants fold at once.
_CLEANUP = [r for r in CANONICALIZE
            if r.fn in (double_negation, neutral_element, shape_inference)]
LOCAL_PASSES = {
    "constant_folding": CONSTANT_FOLDING,
    "canonicalize": CONSTANT_FOLDING + CANONICALIZE,
    "stabilize": STABILIZE + _CLEANUP + CONSTANT_FOLDING,
    "specialize": SPECIALIZE + CONSTANT_FOLDING,
}
GLOBAL_PASSES = {
    "merge": merge,
    "fusion": fuse,
    "inplace": inplace,
    "dce": lambda fgraph: FunctionGraph(fgraph.inputs, fgraph.outputs),
}

PIPELINES = {
    "fast_run": ["merge", "canonicalize", "stabilize", "merge", "specialize", "fusion",
                 "inplace", "dce"],
    "fast_compile": ["merge", "constant_folding", "dce"],
    None: [],
}


def all_rewrite_names():
    """Every pass and rewrite name (what ``excluding``/``including`` accept)."""
    names = set(LOCAL_PASSES) | set(GLOBAL_PASSES)
    for rewrites in LOCAL_PASSES.values():
        for rw in rewrites:
            names |= rw.tags
    return names


def _check_names(names, what):
    unknown = set(names) - all_rewrite_names()
    if unknown:
        raise GraphcValueError(f"{what}: unknown pass or rewrite {sorted(unknown)}; known: "
                               f"{sorted(all_rewrite_names())}")


def plan(optimizer="fast_run", excluding=(), including=()):
    """The passes that ``optimize`` will run, in order: pass names, and
    ``(pass name, rewrite names)`` for a pass that ``including`` adds for some of
    its rewrites only."""
    _check_names(excluding, "excluding")
    _check_names(including, "including")
    names = list(PIPELINES[optimizer])
    full = PIPELINES["fast_run"]

    def insert(entry, home):
        # In the full pipeline's order, before the first later pass.
        later = [n for n in names if _home(n) in full and full.index(_home(n)) > full.index(home)]
        names.insert(names.index(later[0]) if later else len(names), entry)

    for extra in including:
        if extra in full:
            if extra not in names:
                insert(extra, extra)
            continue
        for home in full:
            if home in LOCAL_PASSES and home not in names and any(
                    extra in rw.tags for rw in LOCAL_PASSES[home]):
                insert((home, frozenset([extra])), home)
    return [n for n in names if _home(n) not in excluding]


def _home(entry):
    """The pass a plan entry runs (``entry`` or the first of its pair)."""
    return entry[0] if isinstance(entry, tuple) else entry


def run_pass(name, fgraph, excluding=()):
    only = None
    if isinstance(name, tuple):
        name, only = name
    if name in GLOBAL_PASSES:
        return GLOBAL_PASSES[name](fgraph)
    rewrites = [rw for rw in LOCAL_PASSES[name] if not (rw.tags & set(excluding))
                and (only is None or rw.tags & only)]
    return apply_local(fgraph, rewrites)


def optimize(fgraph, optimizer="fast_run", excluding=(), including=()):
    """Run the pipeline on ``fgraph``; returns a new FunctionGraph.

    The inner graphs of loops (``scan``) get the same settings, less fusion and
    inplace, so that ``optimizer=None`` or ``excluding=`` mean the same inside a
    loop, and a printout of the function shows the inner graphs that run.
    """
    for name in plan(optimizer, excluding, including):
        fgraph = run_pass(name, fgraph, excluding)
        if config.check_passes:
            fgraph.check()
    return _optimize_loops(fgraph, optimizer, excluding, including)


def _optimize_loops(fgraph, optimizer, excluding, including):
    from graphc.ops.scan import LOOP_EXCLUDED, Scan
    if not any(isinstance(node.op, Scan) and not node.op.inner_optimized
               for node in fgraph.toposort()):
        return fgraph

    def rebuild(node, new_inputs):
        # Every node is rebuilt once, in order, keeping its trail: the copy has the
        # same structure (an inplace node still the only one to write its buffer).
        op = node.op
        if isinstance(op, Scan) and not op.inner_optimized:
            inner = optimize(op.inner, optimizer, tuple(excluding) + LOOP_EXCLUDED,
                             [name for name in including if name not in LOOP_EXCLUDED])
            op = op.with_inner(inner)
        elif all(a is b for a, b in zip(new_inputs, node.inputs)):
            return node.outputs
        with rewrite_context(None, [node]):
            return op.make_node(*new_inputs).outputs

    return FunctionGraph(fgraph.inputs, clone_replace(fgraph.outputs, rebuild=rebuild))


def stabilize_for_grad(cost, keep):
    """``cost`` after canonicalize and stabilize, with the variables in ``keep`` intact.

    Intermediate variables in ``keep`` (``wrt``, ``consider_constant``) are cut out
    as placeholders while rewriting, so no rewrite can absorb them.
    """
    cut = {var: var.type.make_variable(name=var.name) for var in keep if var.owner is not None}
    (graph,) = clone_replace([cost], cut) if cut else [cost]
    fgraph = FunctionGraph([], [graph])
    for name in ("canonicalize", "stabilize"):
        # The gradient shapers are identities forward but must meet the gradient walk.
        fgraph = run_pass(name, fgraph, excluding=("remove_gradient_shaper",))
    (result,) = fgraph.outputs
    if cut:
        (result,) = clone_replace([result], {p: var for var, p in cut.items()})
    return result
