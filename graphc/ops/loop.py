"""A loop over rows: ``stack([f(i) for i in range(n)])`` with ``f`` an inner graph.

``jacobian`` needs one gradient per element of a vector whose length is known
only when called; this op evaluates the inner graph once per row with the
reference evaluator (backends without a lowering run it through Python).
"""
import numpy as np

from graphc.errors import GraphcTypeError
from graphc.graph import FunctionGraph, Node, Op, TensorType, graph_inputs


class MapRows(Op):
    """Evaluate ``inner`` (outputs one tensor; inputs: the index, then free variables)
    for ``i`` in ``range(n)`` and stack the results."""

    __props__ = ("inner_key",)

    def __init__(self, inner):
        self.inner = inner
        self.inner_key = id(inner)

    def __str__(self):
        return "MapRows"

    def make_node(self, n, *free):
        out = self.inner.outputs[0]
        return Node(self, [n] + list(free), [TensorType(out.dtype, (None,) + out.type.shape)])

    def perform(self, node, inputs):
        from graphc.backends.python import BACKEND
        n, *free = inputs
        run = getattr(self, "_run", None)
        if run is None:
            run = self._run = BACKEND.compile(self.inner)
        out = self.inner.outputs[0]
        rows = [run([np.array(i, dtype="int64")] + list(free))[0] for i in range(int(n))]
        if not rows:
            return [np.zeros((0,) + tuple(0 if s is None else s for s in out.type.shape),
                             dtype=out.dtype)]
        return [np.stack([np.asarray(r, dtype=out.dtype) for r in rows])]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_run", None)
        return state


def map_rows(row, index, n):
    """``stack([row with index=i for i in range(n)])``."""
    if index.ndim != 0:
        raise GraphcTypeError("map_rows: the index must be a scalar")
    free = [v for v in graph_inputs([row]) if v is not index and v.owner is None
            and not hasattr(v, "data") and not hasattr(v, "get_value")]
    inner = FunctionGraph([index] + free, [row])
    return MapRows(inner)(n, *free)
