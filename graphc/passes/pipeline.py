"""The pipeline: an ordered list of named passes, each run to a fixed point.

    merge -> canonicalize -> stabilize -> merge -> specialize -> fusion -> inplace -> dce

``optimizer="fast_compile"`` runs merge and constant folding only; ``None`` runs
nothing. ``excluding=`` drops passes or single rewrites by name (or by tag, such
as "stability"); ``including=`` adds passes of the full pipeline to a shorter one.
"""
from graphc.config import config
from graphc.errors import GraphcValueError
from graphc.graph import FunctionGraph, clone_replace
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
    """The list of pass names that ``optimize`` will run."""
    _check_names(excluding, "excluding")
    _check_names(including, "including")
    names = list(PIPELINES[optimizer])
    full = PIPELINES["fast_run"]
    for extra in including:
        if extra in full and extra not in names:
            # Insert in the full pipeline's order, before the first later pass.
            later = [n for n in names if n in full and full.index(n) > full.index(extra)]
            names.insert(names.index(later[0]) if later else len(names), extra)
    return [n for n in names if n not in excluding]


def run_pass(name, fgraph, excluding=()):
    if name in GLOBAL_PASSES:
        return GLOBAL_PASSES[name](fgraph)
    rewrites = [rw for rw in LOCAL_PASSES[name] if not (rw.tags & set(excluding))]
    return apply_local(fgraph, rewrites)


def optimize(fgraph, optimizer="fast_run", excluding=(), including=()):
    """Run the pipeline on ``fgraph``; returns a new FunctionGraph."""
    for name in plan(optimizer, excluding, including):
        fgraph = run_pass(name, fgraph, excluding)
        if config.check_passes:
            fgraph.check()
    return fgraph


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
