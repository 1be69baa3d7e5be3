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
from graphc.ops import basic, extra
from graphc.ops.random import RandomDraw, RandomState, check_size
from graphc.tensor import basic as tensor

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
        size = _checked_size(size, ndim, dist)
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

    # The draws below are built from the ones above (uniform keys, sorts and
    # comparisons), so every backend runs them with no kernel of their own.
    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64"):
        """Counts of ``n`` draws among ``k`` classes of probabilities ``pvals``.

        ``pvals`` has the classes on its last axis (a vector, or one distribution
        per row as in Theano's ``MRG_RandomStreams.multinomial``); each is
        normalized by its sum. The sample has the shape of ``pvals``, or
        ``size + (k,)`` when ``size`` is given (``pvals`` broadcasting to it).
        With ``n=1`` each row is one-hot. Cost: ``n * k`` work per distribution.

        Examples
        --------
        >>> import numpy as np, graphc
        >>> from graphc.tensor.random import RandomStreams
        >>> draw = RandomStreams(0).multinomial(pvals=np.array([[0.0, 1.0, 0.0],
        ...                                                     [1.0, 0.0, 0.0]]))
        >>> graphc.function([], draw, backend="python")().tolist()
        [[0, 1, 0], [1, 0, 0]]
        """
        if pvals is None:
            raise GraphcValueError("multinomial: give pvals, the class probabilities")
        pvals = basic.as_variable(pvals)
        if pvals.ndim == 0 or np.dtype(pvals.dtype).kind not in "iuf":
            raise GraphcTypeError(f"multinomial: pvals must be a vector or a tensor of "
                                  f"probabilities along its last axis, got {pvals.type}")
        if np.dtype(pvals.dtype).kind != "f":
            pvals = tensor.cast(pvals, config.floatX)
        shape = pvals.shape[:-1] if size is None else _checked_size(size, ndim, "multinomial")
        cumulative = extra.cumsum(pvals, axis=-1)
        total = cumulative[..., -1:]
        repeated = not (isinstance(n, (int, np.integer)) and n == 1)
        if repeated:
            shape = tensor.concatenate([tensor.as_tensor_variable([n]).astype("int64"),
                                        shape])
        # One uniform per draw, scaled to the row's total: the class drawn is the
        # first whose cumulative probability is above it.
        u = self.uniform(size=shape, dtype=pvals.dtype)
        above = tensor.cast(tensor.gt(cumulative, tensor.shape_padright(u) * total), "int8")
        before = tensor.zeros_like(above[..., :1])
        one_hot = above - tensor.concatenate([before, above[..., :-1]], axis=-1)
        counts = one_hot.sum(axis=0) if repeated else one_hot
        return tensor.cast(counts, np.dtype(dtype).name)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """Random orderings of ``0 .. n-1``: shape ``(n,)``, or ``size + (n,)``
        (one permutation per entry of ``size``), as Theano's.

        Examples
        --------
        >>> import graphc
        >>> from graphc.tensor.random import RandomStreams
        >>> order = RandomStreams(0).permutation(n=5)
        >>> sorted(graphc.function([], order, backend="python")().tolist())
        [0, 1, 2, 3, 4]
        """
        n = basic.as_variable(n, dtype="int64" if basic.is_weak(n) else None)
        lead = [] if size is None else [_checked_size(size, ndim, "permutation")]
        shape = tensor.concatenate(lead + [tensor.shape_padleft(n).astype("int64")])
        # float64 keys: ties (which would favour the lower index) are rare even for
        # long permutations.
        keys = self.uniform(size=shape, dtype="float64")
        return tensor.cast(extra.argsort(keys, axis=-1), np.dtype(dtype).name)

    def choice(self, size=1, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Samples of ``a`` (an integer: ``range(a)``; else a vector's entries) of
        shape ``size``, with probabilities ``p`` (default uniform), with or without
        replacement, as NumPy's ``choice``.

        Without replacement, ``size`` must hold at most ``len(a)`` samples in all;
        with ``p``, they are drawn one after the other, each with the probability of
        the remaining entries, as NumPy does (keys ``-log(u) / p``, smallest first).

        Examples
        --------
        >>> import graphc
        >>> from graphc.tensor.random import RandomStreams
        >>> pick = RandomStreams(0).choice(size=(4,), a=[10, 20, 30], replace=False)
        >>> v = graphc.function([], pick, backend="python")()
        >>> len(set(v.tolist())), set(v.tolist()) <= {10, 20, 30}
        (3, True)
        """
        population = None if isinstance(a, (int, np.integer)) else basic.as_variable(a)
        if population is not None and population.ndim == 0 and (
                np.dtype(population.dtype).kind in "iu"):
            population, a = None, population
        if population is not None and population.ndim != 1:
            raise GraphcValueError(f"choice: a must be an integer or a vector, got "
                                   f"{population.type}")
        count = population.shape[0] if population is not None else a
        shape = _checked_size(size, ndim, "choice")
        if replace and p is None:
            picked = self.random_integers(size=shape, low=0, high=count - 1)
        elif replace:
            picked = tensor.argmax(self.multinomial(size=shape, pvals=p), axis=-1)
        else:
            keys = self.uniform(size=tensor.shape_padleft(
                tensor.as_tensor_variable(count).astype("int64")), dtype="float64")
            if p is not None:
                keys = -tensor.log(keys) / tensor.cast(basic.as_variable(p), "float64")
            # The first len(picked) of a random order (keys smallest first).
            order = extra.argsort(keys)
            picked = order[:tensor.prod(shape)].reshape(shape, ndim=shape.type.shape[0])
        if population is not None:
            return population[picked]
        return tensor.cast(picked, np.dtype(dtype).name)


def _checked_size(size, ndim, context):
    shape = check_size(size, context)
    if ndim is not None and ndim != shape.type.shape[0]:
        raise GraphcValueError(f"{context}: ndim={ndim} but the size has "
                               f"{shape.type.shape[0]} entries")
    return shape

