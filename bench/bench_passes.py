"""Compile-time growth of the rewrite pipeline: graph size (nodes) vs seconds.

Builds a deep elementwise chain plus a wide sum of N terms and times
``passes.optimize`` in fast_run mode (no backend compile).

    python bench/bench_passes.py
"""
import sys
import time

import graphc.tensor as T
from graphc import passes
from graphc.graph import FunctionGraph, toposort


def build(n):
    """About ``n`` nodes: half in a deep chain, half in a wide sum."""
    x = T.dvector("x")
    y = T.dvector("y")
    chain = x
    for i in range(n // 4):
        chain = T.tanh(chain * 1.0001 + y)
    total = chain
    for i in range(n // 4):
        total = total + (y * float(i)).sum()
    return [x, y], [total]


def main(sizes=(1000, 2500, 5000, 10000)):
    print(f"{'nodes':>8} {'optimize s':>11} {'nodes after':>12}")
    for n in sizes:
        inputs, outputs = build(n)
        fgraph = FunctionGraph(inputs, outputs)
        count = len(toposort(outputs))
        start = time.perf_counter()
        optimized = passes.optimize(fgraph, "fast_run")
        seconds = time.perf_counter() - start
        print(f"{count:>8} {seconds:>11.3f} {len(optimized.toposort()):>12}")


if __name__ == "__main__":
    sys.setrecursionlimit(100000)
    main()
