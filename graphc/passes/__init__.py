"""The rewrite pipeline (filled in by graphc.passes.pipeline)."""


def optimize(fgraph, optimizer="fast_run", excluding=(), including=()):
    from graphc.passes.pipeline import optimize as run
    return run(fgraph, optimizer, excluding, including)


def stabilize_for_grad(cost, wrt):
    from graphc.passes.pipeline import stabilize_for_grad as run
    return run(cost, wrt)
