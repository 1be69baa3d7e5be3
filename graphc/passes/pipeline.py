"""The pipeline: an ordered list of named passes."""


def optimize(fgraph, optimizer="fast_run", excluding=(), including=()):
    return fgraph


def stabilize_for_grad(cost, wrt):
    return cost
