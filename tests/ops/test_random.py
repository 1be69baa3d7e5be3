"""graphc.tensor.random.RandomStreams: shapes, dtypes, fresh samples, seeding."""
import pickle

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc.errors import GraphcError, GraphcValueError, ShapeError
from graphc.ops.random import RandomDraw
from graphc.tensor.random import RandomStreams


def _draws(f):
    return [node for node in f.fgraph.toposort() if isinstance(node.op, RandomDraw)]


def test_shapes_dtypes_and_fresh_samples(backend):
    rng = RandomStreams(seed=1)
    x = T.dmatrix("x")
    n = T.lscalar("n")
    outs = [
        rng.uniform((2, 3)),
        rng.uniform((4,), low=-2.0, high=-1.0, dtype="float64"),
        rng.normal((3, 2), avg=1.0, std=2.0, dtype="float32"),
        rng.binomial((5,), p=0.5),
        rng.binomial(x.shape, n=3, p=0.2, dtype="float64"),
        rng.uniform((n, 2)),
        rng.normal(x.shape),
        rng.uniform(()),
    ]
    assert [o.type.shape for o in outs] == [(2, 3), (4,), (3, 2), (5,), (None, None),
                                            (None, 2), (None, None), ()]
    assert [o.dtype for o in outs] == [graphc.config.floatX, "float64", "float32", "int64",
                                       "float64", graphc.config.floatX,
                                       graphc.config.floatX, graphc.config.floatX]
    f = graphc.function([x, n], outs, backend=backend)
    # Constant sizes must not fold the draws into constants.
    assert len(_draws(f)) == len(outs)
    xv = np.zeros((3, 4))
    first, second = f(xv, 3), f(xv, 3)
    expected_shapes = [(2, 3), (4,), (3, 2), (5,), (3, 4), (3, 2), (3, 4), ()]
    for k, (a, b, shape) in enumerate(zip(first, second, expected_shapes)):
        assert a.shape == shape and a.dtype == outs[k].dtype, k
        if k not in (3, 4):   # a few binomial draws may repeat by chance
            assert not np.array_equal(a, b), k
    assert np.all((first[1] >= -2) & (first[1] < -1))
    assert set(np.unique(first[3])) <= {0, 1}
    assert set(np.unique(first[4])) <= {0, 1, 2, 3}


def test_statistics(backend):
    rng = RandomStreams(seed=2)
    size = (10000,)
    outs = [rng.uniform(size), rng.uniform(size, low=2.0, high=4.0),
            rng.normal(size, avg=-1.0, std=3.0), rng.binomial(size, p=0.2),
            rng.binomial(size, n=10, p=0.5), rng.random_integers(size, low=-1, high=1)]
    u, u2, z, b, b10, k = graphc.function([], outs, backend=backend)()
    assert abs(u.mean() - 0.5) < 0.05 and u.min() >= 0 and u.max() < 1
    assert abs(u.var() - 1 / 12) < 0.01
    assert abs(u2.mean() - 3.0) < 0.05 and u2.min() >= 2 and u2.max() < 4
    assert abs(z.mean() + 1.0) < 0.15 and abs(z.std() - 3.0) < 0.15
    assert set(np.unique(b)) == {0, 1} and abs(b.mean() - 0.2) < 0.03
    assert abs(b10.mean() - 5.0) < 0.15 and b10.min() >= 0 and b10.max() <= 10
    assert set(np.unique(k)) == {-1, 0, 1}


def test_multinomial_permutation_and_choice(backend):
    # Theano's other draws, built from uniform keys: frequencies within 5 standard
    # errors of the probabilities, permutations that are permutations, choices
    # without replacement that never repeat.
    rng = RandomStreams(seed=4)
    p, P, n = T.dvector("p"), T.dmatrix("P"), T.lscalar("n")
    outs = [rng.multinomial(size=(20000,), pvals=p), rng.multinomial(pvals=P, dtype="float32"),
            rng.multinomial(size=(20000,), n=n, pvals=p), rng.permutation(size=(500,), n=6),
            rng.choice(size=(20000,), a=3, p=[0.5, 0.25, 0.25]),
            rng.choice(size=(2, 3), a=[10, 20, 30, 40, 50, 60], replace=False),
            rng.choice(size=(5,), a=5, replace=False, p=[0.96, 0.01, 0.01, 0.01, 0.01]),
            rng.choice(size=(20000,), a=3)]
    f = graphc.function([p, P, n], outs, backend=backend)
    pv = np.array([0.2, 0.0, 0.5, 0.3])
    rows = np.tile([[0.1, 0.9], [1.0, 0.0]], (5000, 1))
    one, batch, counts, perms, weighted, distinct, heavy_first, uniform = f(pv, rows, 5)
    tolerance = 5 * np.sqrt(0.25 / 20000)
    assert one.shape == (20000, 4) and one.dtype == np.int64 and (one.sum(1) == 1).all()
    np.testing.assert_allclose(one.mean(0), pv, atol=tolerance)
    assert batch.dtype == np.float32 and (batch[1::2] == [1, 0]).all()
    np.testing.assert_allclose(batch[::2].mean(0), [0.1, 0.9], atol=5 * np.sqrt(0.09 / 5000))
    assert (counts.sum(1) == 5).all() and (counts[:, 1] == 0).all()
    np.testing.assert_allclose(counts.mean(0) / 5, pv, atol=tolerance)
    assert perms.shape == (500, 6) and (np.sort(perms, axis=1) == np.arange(6)).all()
    assert abs((perms[:, 0] == 0).mean() - 1 / 6) < 5 * np.sqrt(5 / 36 / 500)
    np.testing.assert_allclose(np.bincount(weighted) / 20000, [0.5, 0.25, 0.25],
                               atol=tolerance)
    assert len(set(distinct.ravel().tolist())) == 6 and set(distinct.ravel()) <= {
        10, 20, 30, 40, 50, 60}
    assert sorted(heavy_first.tolist()) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(np.bincount(uniform) / 20000, [1 / 3] * 3, atol=tolerance)
    draws = [f(pv, rows, 5)[6][0] for _ in range(200)]      # the heavy entry comes first
    assert np.mean(np.equal(draws, 0)) > 0.9
    with pytest.raises(GraphcError, match="pvals"):
        rng.multinomial(size=(3,))


def test_seed_reproducibility():
    rng = RandomStreams(seed=123)
    u, z = rng.uniform((5,)), rng.normal((5,))
    f = graphc.function([], [u, z], backend="python")
    first, second = f(), f()
    assert not np.array_equal(first[0], second[0])
    rng.seed(123)
    again = f()
    np.testing.assert_array_equal(again[0], first[0])
    np.testing.assert_array_equal(again[1], first[1])
    rng.seed(7)
    assert not np.array_equal(f()[0], first[0])
    # A new stream with the same seed and the same draws gives the same samples.
    other = RandomStreams(seed=123)
    g = graphc.function([], [other.uniform((5,)), other.normal((5,))], backend="python")
    np.testing.assert_array_equal(g()[0], first[0])


def test_two_draws_differ_and_one_draw_read_twice_is_one_sample(backend):
    rng = RandomStreams(seed=3)
    a, b = rng.uniform((50,)), rng.uniform((50,))
    f = graphc.function([], [a, b, a - a, a + b - b - a], backend=backend)
    assert len(_draws(f)) == 2
    va, vb, zero, _ = f()
    assert not np.array_equal(va, vb)
    np.testing.assert_array_equal(zero, np.zeros(50))


def test_dropout_mask(backend):
    rng = RandomStreams(seed=4)
    x = T.fmatrix("x")
    mask = rng.binomial(x.shape, p=0.5, dtype=x.dtype)
    y = x * mask
    assert y.dtype == "float32"
    cost = y.sum()
    g = graphc.grad(cost, x)
    f = graphc.function([x], [y, g, mask], backend=backend)
    xv = np.full((40, 50), 2.0, dtype="float32")
    y1, g1, m1 = f(xv)
    y2, _, _ = f(xv)
    assert set(np.unique(y1)) == {0.0, 2.0}
    assert 0.4 < (y1 > 0).mean() < 0.6
    assert not np.array_equal(y1, y2)
    # The gradient reads the same sample as the output: it is the mask.
    np.testing.assert_array_equal(g1, m1)
    np.testing.assert_array_equal(y1, xv * m1)


def test_symbolic_parameters(backend):
    rng = RandomStreams(seed=5)
    p = T.dscalar("p")
    low = T.dvector("low")
    outs = [rng.binomial((4000,), p=p), rng.uniform((3, 2), low=low, high=low + 1)]
    f = graphc.function([p, low], outs, backend=backend)
    b, u = f(0.9, np.array([10.0, -10.0]))
    assert abs(b.mean() - 0.9) < 0.03
    assert np.all((u[:, 0] >= 10) & (u[:, 0] < 11) & (u[:, 1] >= -10) & (u[:, 1] < -9))
    with pytest.raises(GraphcError, match="p"):
        f(1.5, np.array([0.0, 0.0]))


def test_errors():
    rng = RandomStreams(seed=6)
    with pytest.raises(ShapeError, match="negative"):
        rng.uniform((2, -1))
    with pytest.raises(ShapeError, match="broadcast"):
        rng.uniform((2, 3), low=np.zeros(4))
    with pytest.raises(GraphcValueError, match="ndim"):
        rng.normal((2, 3), ndim=3)
    with pytest.raises(GraphcError, match="float"):
        rng.uniform((2,), dtype="int32")
    n = T.lscalar("n")
    f = graphc.function([n], rng.uniform((n,)), backend="python")
    with pytest.raises(ShapeError, match="negative size"):
        f(-2)


def test_no_gradient_through_a_draw():
    rng = RandomStreams(seed=8)
    avg = T.dscalar("avg")
    z = rng.normal((3,), avg=avg)
    g = graphc.grad(z.sum() + avg, avg)
    f = graphc.function([avg], g, backend="python", on_unused_input="ignore")
    assert float(f(0.0)) == 1.0


def test_pickled_function_keeps_drawing(tmp_path):
    rng = RandomStreams(seed=9)
    x = T.dvector("x")
    f = graphc.function([x], x * rng.uniform(x.shape), backend="python")
    f(np.ones(3))
    g = pickle.loads(pickle.dumps(f))
    # The copy starts from the same generator state and then goes its own way.
    a, b = f(np.ones(3)), g(np.ones(3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(g(np.ones(3)), b)


def test_random_draws_are_never_constant_folded():
    rng = RandomStreams(seed=10)
    u = rng.uniform((2, 2)) * 2 + 1
    for optimizer in ("fast_run", "fast_compile"):
        f = graphc.function([], u, backend="python", optimizer=optimizer)
        assert len(_draws(f)) == 1
        assert not np.array_equal(f(), f())
