"""Random draws: an op that samples from a NumPy ``Generator`` at every call.

A draw is impure, so three things differ from other ops:

- Each draw owns a :class:`RandomState` (a holder of one ``np.random.Generator``)
  and the holder is one of the op's parameters, compared by identity: two draws
  are never equal ops, so ``merge`` never makes them one sample, while the same
  draw read twice in a graph is one sample, as in Theano.
- ``nondeterministic = True`` tells constant folding never to evaluate the op
  at compile time (its inputs are often all constants).
- The op has no gradient: its inputs (the size and the parameters of the
  distribution) get none.

The generator advances each time ``perform`` runs; backends that cannot
lower the op run that ``perform``. Pickling a compiled function pickles the
holders with their generators' states.
"""
import itertools

import numpy as np

from graphc.errors import GraphcTypeError, GraphcValueError, ShapeError
from graphc.graph import Constant, Node, Op, TensorType
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import shape as shape_ops
from graphc.ops import subtensor

_state_ids = itertools.count()


class RandomState:
    """A mutable holder of one ``np.random.Generator``, hashed by identity.

    Parameters
    ----------
    seed : int, SeedSequence or None
    """

    def __init__(self, seed=None):
        self.id = next(_state_ids)
        self.generator = np.random.default_rng(seed)

    def reseed(self, seed):
        """Restart the generator from ``seed``."""
        self.generator = np.random.default_rng(seed)

    def __repr__(self):
        return f"rng{self.id}"


def _uniform(generator, shape, dtype, low, high):
    u = generator.random(shape, dtype=_sampling_dtype(dtype))
    return low + (high - low) * u


def _normal(generator, shape, dtype, avg, std):
    return avg + std * generator.standard_normal(shape, dtype=_sampling_dtype(dtype))


def _binomial(generator, shape, dtype, n, p):
    if np.any(n < 0) or np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise GraphcValueError(f"binomial: needs n >= 0 and 0 <= p <= 1, got n in "
                               f"[{np.min(n)}, {np.max(n)}] and p in [{np.min(p)}, {np.max(p)}]")
    return generator.binomial(n, p, shape)


def _integers(generator, shape, dtype, low, high):
    if np.any(low > high):
        raise GraphcValueError(f"random_integers: low {low} is above high {high}")
    return generator.integers(low, high, shape, endpoint=True)


def _sampling_dtype(dtype):
    """The dtype NumPy samples in directly (float32 or float64)."""
    return np.float32 if dtype == "float32" else np.float64


# name -> (sampler, dtypes of the parameters given the output dtype)
DISTRIBUTIONS = {
    "uniform": (_uniform, lambda dtype: (dtype, dtype)),
    "normal": (_normal, lambda dtype: (dtype, dtype)),
    "binomial": (_binomial, lambda dtype: ("int64", "float64")),
    "random_integers": (_integers, lambda dtype: ("int64", "int64")),
}


class RandomDraw(Op):
    """A sample of ``dist`` of shape ``size`` drawn from ``state`` at every call.

    Inputs: ``size`` (an int64 vector of known length), then the distribution's
    parameters (broadcast to ``size``).
    """

    __props__ = ("dist", "dtype", "state")
    nondeterministic = True

    def __init__(self, dist, dtype, state):
        if dist not in DISTRIBUTIONS:
            raise GraphcValueError(f"unknown distribution {dist!r}; known: "
                                   f"{sorted(DISTRIBUTIONS)}")
        self.dist = dist
        self.dtype = np.dtype(dtype).name
        self.state = state

    def __str__(self):
        # No state id here: backends key their caches on text that names ops, and the
        # id depends on how many draws the process made before.
        return f"{self.dist}{{{self.dtype}}}"

    def make_node(self, size, *params):
        size = shape_ops.as_shape_vector(size, self.dist)
        param_dtypes = DISTRIBUTIONS[self.dist][1](self.dtype)
        if len(params) != len(param_dtypes):
            raise GraphcTypeError(f"{self.dist} takes {len(param_dtypes)} parameters, got "
                                  f"{len(params)}")
        params = [ew.cast(basic.as_variable(p), d) for p, d in zip(params, param_dtypes)]
        static = static_size(size)
        for p in params:
            if p.ndim > len(static):
                raise ShapeError(f"{self.dist}: a parameter of type {p.type} has more axes "
                                 f"than the size {_size_text(static)}")
            for n, s in zip(p.type.shape[::-1], static[::-1]):
                if None not in (n, s) and n not in (1, s):
                    raise ShapeError(f"{self.dist}: a parameter of shape {p.type.shape} "
                                     f"does not broadcast to the size {_size_text(static)}")
        return Node(self, [size] + params, [TensorType(self.dtype, static)])

    def perform(self, node, inputs):
        size, *params = inputs
        shape = tuple(int(s) for s in size)
        if any(s < 0 for s in shape):
            raise ShapeError(f"{self.dist}: negative size {shape}")
        for p in params:
            try:
                if np.broadcast_shapes(np.shape(p), shape) != shape:
                    raise ValueError
            except ValueError:
                raise ShapeError(f"{self.dist}: a parameter of shape {np.shape(p)} does not "
                                 f"broadcast to the size {shape}") from None
        sampler = DISTRIBUTIONS[self.dist][0]
        sample = sampler(self.state.generator, shape, self.dtype, *params)
        return [np.asarray(sample, dtype=self.dtype).reshape(shape)]

    def infer_shape(self, node, input_shapes):
        size = node.inputs[0]
        length = size.type.shape[0]
        if size.owner is not None and isinstance(size.owner.op, shape_ops.MakeVector):
            return [tuple(size.owner.inputs)]
        return [tuple(subtensor.index(size, (i,)) for i in range(length))]

    def grad(self, inputs, outputs, output_grads):
        return [None] * len(inputs)


def static_size(size):
    """The static shape a draw of ``size`` (an int64 vector) has: ints or None."""
    length = size.type.shape[0]
    if isinstance(size, Constant):
        return tuple(int(s) for s in size.data)
    owner = size.owner
    if owner is not None and isinstance(owner.op, shape_ops.MakeVector):
        values = [shape_ops.static_value(v) for v in owner.inputs]
        return tuple(v if isinstance(v, int) else None for v in values)
    if owner is not None and isinstance(owner.op, shape_ops.Shape):
        return owner.inputs[0].type.shape
    return (None,) * length


def _size_text(static):
    return "(" + ", ".join("?" if s is None else str(s) for s in static) + ")"


def check_size(size, context):
    """``size`` as an int64 vector; a ShapeError for a negative static entry."""
    vector = shape_ops.as_shape_vector(size, context)
    static = static_size(vector)
    if any(s is not None and s < 0 for s in static):
        raise ShapeError(f"{context}: negative size {_size_text(static)}")
    return vector
