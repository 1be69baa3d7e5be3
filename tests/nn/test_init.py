"""Initializers: shapes, dtypes, Lasagne's fans and the statistics of the draws."""
import numpy as np
import pytest

import graphc
import graphc.nn as lasagne
from graphc.nn import init


@pytest.fixture(autouse=True)
def seeded():
    lasagne.random.set_rng(np.random.RandomState(0))


def test_constant():
    values = init.Constant(0.25)((3, 2))
    assert values.dtype == graphc.config.floatX
    assert np.all(values == 0.25)
    assert np.all(init.Constant()((4,)) == 0)


def test_initializer_call_is_sample():
    class Twos(init.Initializer):
        def sample(self, shape):
            return np.full(shape, 2.0)

    assert np.all(Twos()((2, 2)) == 2)
    with pytest.raises(NotImplementedError):
        init.Initializer()((2,))


def test_normal_statistics():
    values = init.Normal(std=0.5, mean=1.0)((300, 300))
    assert values.dtype == graphc.config.floatX
    assert abs(values.mean() - 1.0) < 0.01
    assert abs(values.std() - 0.5) < 0.01


@pytest.mark.parametrize("kwargs, low, high", [
    ({}, -0.01, 0.01),
    ({"range": 0.5}, -0.5, 0.5),
    ({"range": (1.0, 3.0)}, 1.0, 3.0),
    ({"std": 2.0, "mean": 1.0}, 1.0 - 2.0 * np.sqrt(3), 1.0 + 2.0 * np.sqrt(3)),
])
def test_uniform_range(kwargs, low, high):
    values = init.Uniform(**kwargs)((200, 200)).astype("float64")
    assert values.min() >= low - 1e-6 and values.max() <= high + 1e-6
    # A uniform sample fills its interval: the extremes are close to the bounds.
    width = high - low
    assert values.min() < low + 0.01 * width and values.max() > high - 0.01 * width


def _uniform_std(values):
    # The draws are U(-a, a); the bound is the best estimate of a.
    return np.abs(values).max() / np.sqrt(3)


@pytest.mark.parametrize("shape, fan_sum", [
    ((200, 100), 300),                   # dense: fan_in = shape[0], fan_out = shape[1]
    ((32, 16, 3, 3), (32 + 16) * 9),     # conv: (out, in) times the receptive field
])
def test_glorot_uniform_fans(shape, fan_sum):
    values = init.GlorotUniform()(shape)
    expected_std = np.sqrt(2.0 / fan_sum)
    assert np.isclose(_uniform_std(values), expected_std, rtol=0.02)
    relu = init.GlorotUniform(gain="relu")(shape)
    assert np.isclose(_uniform_std(relu), np.sqrt(2) * expected_std, rtol=0.02)


def test_glorot_normal_std():
    values = init.GlorotNormal(gain=2.0)((400, 200))
    assert np.isclose(values.std(), 2.0 * np.sqrt(2.0 / 600), rtol=0.02)


@pytest.mark.parametrize("shape, fan_in", [((300, 100), 300), ((64, 8, 3, 3), 72)])
def test_he_fans(shape, fan_in):
    normal = init.HeNormal(gain="relu")(shape)
    assert np.isclose(normal.std(), np.sqrt(2.0 / fan_in), rtol=0.03)
    uniform = init.HeUniform()(shape)
    assert np.isclose(_uniform_std(uniform), np.sqrt(1.0 / fan_in), rtol=0.03)


def test_glorot_and_he_reject_vectors():
    with pytest.raises(RuntimeError):
        init.GlorotUniform()((5,))
    with pytest.raises(RuntimeError):
        init.HeNormal()((5,))


@pytest.mark.parametrize("shape", [(6, 6), (4, 10), (10, 4), (4, 2, 3, 3)])
def test_orthogonal(shape):
    q = init.Orthogonal(gain=1.5)(shape).astype("float64")
    assert q.shape == shape and q.dtype == np.float64
    flat = q.reshape(shape[0], -1) / 1.5
    if flat.shape[0] <= flat.shape[1]:
        np.testing.assert_allclose(flat @ flat.T, np.eye(flat.shape[0]), atol=1e-5)
    else:
        np.testing.assert_allclose(flat.T @ flat, np.eye(flat.shape[1]), atol=1e-5)


def test_seeded_rng_reproduces():
    lasagne.random.set_rng(np.random.RandomState(7))
    a = init.GlorotUniform()((5, 5))
    lasagne.random.set_rng(np.random.RandomState(7))
    b = init.GlorotUniform()((5, 5))
    np.testing.assert_array_equal(a, b)


def test_sparse():
    values = init.Sparse(sparsity=0.2)((50, 10))
    assert np.all((values != 0).sum(axis=0) == 10)
