"""Random draws on the numba backend: compiled sampling keyed by the draw's generator."""
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import graphc  # noqa: E402
import graphc.tensor as T  # noqa: E402
from graphc.backends.numba.fallback import FallbackWarning  # noqa: E402
from graphc.tensor.random import RandomStreams  # noqa: E402


def _numba(inputs, outputs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        return graphc.function(inputs, outputs, backend="numba")


def test_draws_are_lowered_and_seeding_repeats_them():
    rng = RandomStreams(seed=123)
    outs = [rng.uniform((5,)), rng.normal((2, 3), dtype="float32"), rng.binomial((7,), p=0.3),
            rng.random_integers((6,), low=-3, high=3), rng.uniform(())]
    f = _numba([], outs)
    assert "k_rand_uniform" in f.backend_source and "k_run_node" not in f.backend_source
    first, second = f(), f()
    assert not np.array_equal(first[0], second[0])
    assert not np.array_equal(first[1], second[1])
    rng.seed(123)
    for again, want in zip(f(), first):
        np.testing.assert_array_equal(again, want)
    rng.seed(7)
    assert not np.array_equal(f()[0], first[0])
    # A new stream with the same seed and the same draws gives the same samples.
    other = RandomStreams(seed=123)
    g = _numba([], [other.uniform((5,))])
    np.testing.assert_array_equal(g()[0], first[0])


def test_large_parameters_and_edge_values():
    rng = RandomStreams(seed=1)
    n, p = T.lvector("n"), T.dvector("p")
    outs = [rng.binomial((6,), n=n, p=p, dtype="float32"),
            rng.random_integers((4000,), low=np.iinfo(np.int64).min, high=np.iinfo(np.int64).max),
            rng.normal((20000,), avg=5.0, std=0.5, dtype="float64"),
            rng.uniform((20000,), low=-1.0, high=1.0, dtype="float32")]
    f = _numba([n, p], outs)
    b, k, z, u = f(np.array([0, 5, 5, 1000, 3, 1]), np.array([0.3, 0.0, 1.0, 0.9, 0.5, 1.0]))
    assert b.dtype == np.float32
    assert b[0] == 0 and b[1] == 0 and b[2] == 5 and 850 < b[3] < 950 and b[5] == 1
    assert (k < 0).mean() > 0.4 and (k > 0).mean() > 0.4
    assert abs(z.mean() - 5.0) < 0.02 and abs(z.std() - 0.5) < 0.02
    assert u.dtype == np.float32 and u.min() >= -1 and u.max() < 1 and abs(u.mean()) < 0.02


def test_pickled_function_keeps_drawing():
    rng = RandomStreams(seed=9)
    x = T.dvector("x")
    f = _numba([x], x * rng.uniform(x.shape))
    f(np.ones(3))
    g = pickle.loads(pickle.dumps(f))
    a, b = f(np.ones(3)), g(np.ones(3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(g(np.ones(3)), b)
