"""``graphc.tensor.random``: Theano's ``RandomStreams`` over NumPy generators.

Each draw (``rng.uniform(...)``...) builds a node with a generator of its own,
seeded from the stream's seed, and gives a fresh sample at every call of a
compiled function. ``rng.seed(s)`` reseeds every draw made so far, so a stream
seeded again with the same value repeats the same samples.
"""
import numpy as np

from graphc.config import config
from graphc.errors import GraphcTypeError, GraphcValueError
from graphc.graph import Variable
from graphc.ops.random import RandomDraw, RandomState, check_size

__all__ = ["RandomStreams"]


def _float_dtype(dtype, *params):
    """``dtype``, or floatX promoted with the strong float dtypes of ``params``."""
    if dtype is not None:
        dtype = np.dtype(config.floatX if dtype == "floatX" else dtype).name
        if np.dtype(dtype).kind != "f":
            raise GraphcTypeError(f"a continuous distribution needs a float dtype, got {dtype}")
        return dtype
    strong = [p.dtype for p in params if isinstance(p, Variable)
              and np.dtype(p.dtype).kind == "f"]
    return np.result_type(config.floatX, *strong).name


class RandomStreams:
    """A factory of random draws, as Theano's ``RandomStreams``.

    Parameters
    ----------
    seed : int or None
        Seeds every draw made from this stream (None: fresh entropy).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.tensor.random import RandomStreams
    >>> rng = RandomStreams(seed=42)
    >>> u = rng.uniform((2, 3))
    >>> f = graphc.function([], u, backend="python")
    >>> a, b = f(), f()
    >>> a.shape, bool((a != b).any())
    ((2, 3), True)
    >>> rng.seed(42)
    >>> bool((f() == a).all())
    True
    """

    def __init__(self, seed=None):
        self._seed_sequence = np.random.SeedSequence(seed)
        self.state_updates = []    # the RandomState of every draw, in order

    def seed(self, seed=None):
        """Reseed every draw made so far (and those made later) from ``seed``."""
        self._seed_sequence = np.random.SeedSequence(seed)
        for state in self.state_updates:
            state.reseed(self._seed_sequence.spawn(1)[0])

    def _draw(self, dist, size, ndim, dtype, *params):
        if size is None:
            # Theano's default: the shape of the parameters; graphc takes it for scalars.
            if any(np.ndim(p) if not isinstance(p, Variable) else p.ndim for p in params):
                raise GraphcValueError(f"{dist}: give size= when a parameter is not a scalar")
            size = ()
        size = check_size(size, dist)
        if ndim is not None and ndim != size.type.shape[0]:
            raise GraphcValueError(f"{dist}: ndim={ndim} but the size has "
                                   f"{size.type.shape[0]} entries")
        state = RandomState(self._seed_sequence.spawn(1)[0])
        self.state_updates.append(state)
        return RandomDraw(dist, dtype, state)(size, *params)

    def uniform(self, size=(), low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniform samples in ``[low, high)`` of shape ``size``.

        ``size`` is a tuple of ints or symbolic scalars, or a shape vector such as
        ``x.shape``; ``low`` and ``high`` may be tensors broadcasting to it.
        ``dtype`` defaults to ``config.floatX`` (float64 if a bound is float64).

        Examples
        --------
        >>> import graphc
        >>> from graphc.tensor.random import RandomStreams
        >>> u = RandomStreams(0).uniform((1000,), low=-1.0, high=1.0)
        >>> v = graphc.function([], u, backend="python")()
        >>> bool(v.min() >= -1 and v.max() < 1)
        True
        """
        dtype = _float_dtype(dtype, low, high)
        return self._draw("uniform", size, ndim, dtype, low, high)

    def normal(self, size=(), avg=0.0, std=1.0, ndim=None, dtype=None):
        """Normal samples of mean ``avg`` and standard deviation ``std``.

        Examples
        --------
        >>> import graphc
        >>> from graphc.tensor.random import RandomStreams
        >>> z = RandomStreams(0).normal((10000,), avg=2.0, std=0.5)
        >>> v = graphc.function([], z, backend="python")()
        >>> bool(abs(v.mean() - 2.0) < 0.05 and abs(v.std() - 0.5) < 0.05)
        True
        """
        dtype = _float_dtype(dtype, avg, std)
        return self._draw("normal", size, ndim, dtype, avg, std)

    def binomial(self, size=(), n=1, p=0.5, ndim=None, dtype="int64"):
        """Binomial counts of ``n`` trials with success probability ``p``.

        ``dtype`` may be a float dtype (``x * rng.binomial(x.shape, p=0.5,
        dtype=x.dtype)`` is a dropout mask).

        Examples
        --------
        >>> import graphc
        >>> from graphc.tensor.random import RandomStreams
        >>> mask = RandomStreams(0).binomial((8,), p=0.5)
        >>> sorted(set(graphc.function([], mask, backend="python")().tolist())) in (
        ...     [0], [1], [0, 1])
        True
        """
        dtype = np.dtype(config.floatX if dtype == "floatX" else dtype).name
        return self._draw("binomial", size, ndim, dtype, n, p)

    def random_integers(self, size=(), low=0, high=1, ndim=None, dtype="int64"):
        """Integers uniform in ``[low, high]`` (both ends included, as Theano's).

        Examples
        --------
        >>> import graphc
        >>> from graphc.tensor.random import RandomStreams
        >>> k = RandomStreams(0).random_integers((100,), low=3, high=5)
        >>> sorted(set(graphc.function([], k, backend="python")().tolist()))
        [3, 4, 5]
        """
        dtype = np.dtype(dtype).name
        return self._draw("random_integers", size, ndim, dtype, low, high)

