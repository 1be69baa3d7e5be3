"""The reference backend: every node runs its op's NumPy ``perform``.

It is the oracle every other backend is tested against, so it is plain on
purpose: walk the nodes in order, keep values in a dict, and wrap any failure in
an error that names the op, the input shapes and where the user made the node.
"""
import time

import numpy as np

from graphc.errors import GraphcError
from graphc.graph import Constant


def node_error(node, inputs, error):
    """A GraphcError for ``error`` raised while running ``node`` on ``inputs``."""
    shapes = ", ".join(f"{np.shape(v)} {np.asarray(v).dtype}" for v in inputs)
    message = (f"{error} [while computing {node.op} on inputs ({shapes}), built at "
               f"{node.trace}]")
    if isinstance(error, GraphcError):
        return type(error)(message) if type(error).__init__ is Exception.__init__ or \
            not hasattr(error, "arg") else error
    return GraphcError(message)


class PythonBackend:
    name = "python"
    fresh_outputs = False

    def compile(self, fgraph, profile=None):
        order = fgraph.toposort()
        inputs, outputs = list(fgraph.inputs), list(fgraph.outputs)
        constants = {}
        for node in order:
            for var in node.inputs:
                if isinstance(var, Constant):
                    constants[var] = var.data
        for var in outputs:
            if isinstance(var, Constant):
                constants[var] = var.data

        constant_ids = {id(value) for value in constants.values()}

        def run(values):
            storage = dict(constants)
            storage.update(zip(inputs, values))
            for node in order:
                args = [storage[v] for v in node.inputs]
                start = time.perf_counter() if profile is not None else 0.0
                try:
                    results = node.op.perform(node, args)
                except Exception as error:  # any failure gets the node's context
                    raise node_error(node, args, error) from error
                if profile is not None:
                    profile.record(node, time.perf_counter() - start)
                for var, value in zip(node.outputs, results):
                    storage[var] = value
            # A constant (or an op passing one through unchanged) owns its data, so
            # compile's aliasing check would hand the caller the graph's own array.
            return [np.array(value) if id(value) in constant_ids else value
                    for value in (storage[v] for v in outputs)]

        return run


BACKEND = PythonBackend()
