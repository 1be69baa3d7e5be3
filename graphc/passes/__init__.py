"""The rewrite pipeline (filled in by graphc.passes.pipeline)."""


def optimize(fgraph, optimizer="fast_run", excluding=(), including=()):
    from graphc.passes.pipeline import optimize as run
    return run(fgraph, optimizer, excluding, including)
