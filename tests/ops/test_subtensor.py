"""Indexing: basic slices and integers, advanced integer arrays, boolean masks,
set_subtensor and inc_subtensor."""
import warnings

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc.backends.numba.fallback import FallbackWarning
from conftest import assert_close


def test_basic_slices_and_integers(backend, rng):
    x = T.dtensor3("x")
    i = T.lscalar("i")
    outs = [x[0], x[-1], x[1:], x[:, 1], x[..., -1], x[::-1], x[:, ::-2], x[1, 2, 3],
            x[:, 1:3, ::2], x[None, 0], x[0, None, :, 1], x[i], x[:, i:], x[::i],
            x[-3:-1, -2], x[5:], x[:, :, -100:100], x[i, -1, :i]]
    f = graphc.function([x, i], outs, backend=backend)
    xv = rng.normal(size=(3, 4, 5))
    iv = 2
    expected = [xv[0], xv[-1], xv[1:], xv[:, 1], xv[..., -1], xv[::-1], xv[:, ::-2],
                xv[1, 2, 3], xv[:, 1:3, ::2], xv[None, 0], xv[0, None, :, 1], xv[iv],
                xv[:, iv:], xv[::iv], xv[-3:-1, -2], xv[5:], xv[:, :, -100:100],
                xv[iv, -1, :iv]]
    for k, (got, want) in enumerate(zip(f(xv, iv), expected)):
        assert np.shape(got) == np.shape(want), (k, np.shape(got), np.shape(want))
        assert_close(got, want)


def test_negative_symbolic_step(backend, rng):
    x = T.dvector("x")
    s = T.lscalar("s")
    f = graphc.function([x, s], [x[::s], x[-2::s], x[:1:s]], backend=backend)
    xv = rng.normal(size=7)
    for step in (-1, -2, -3, 2):
        for got, want in zip(f(xv, step), [xv[::step], xv[-2::step], xv[:1:step]]):
            assert_close(got, want)


def test_advanced_integer_indexing(backend, rng):
    p = T.dmatrix("p")
    y = T.ivector("y")
    idx = T.lvector("idx")
    outs = [p[T.arange(y.shape[0]), y], p[idx], p[:, idx], p[idx, 0], p[[0, 2]],
            p[idx, 1:], p[idx[:3], y]]
    f = graphc.function([p, y, idx], outs, backend=backend)
    pv = rng.normal(size=(3, 4))
    yv = np.array([3, 0, 2], dtype="int32")
    iv = np.array([2, 0, 2, -1], dtype="int64")
    expected = [pv[np.arange(3), yv], pv[iv], pv[:, iv], pv[iv, 0], pv[[0, 2]], pv[iv, 1:],
                pv[iv[:3], yv]]
    for k, (got, want) in enumerate(zip(f(pv, yv, iv), expected)):
        assert got.shape == want.shape, k
        assert_close(got, want)


def test_non_adjacent_advanced_indices_go_first(backend, rng):
    x = T.dtensor3("x")
    a = T.lvector("a")
    f = graphc.function([x, a], [x[a, :, a], x[:, a, a], x[0, :, a]], backend=backend)
    xv = rng.normal(size=(3, 4, 3))
    av = np.array([0, 2])
    for got, want in zip(f(xv, av), [xv[av, :, av], xv[:, av, av], xv[0, :, av]]):
        assert got.shape == want.shape
        assert_close(got, want)


def test_boolean_masks(backend, rng):
    x = T.dmatrix("x")
    v = T.dvector("v")
    outs = [x[x > 0], v[v < 0.5], x[:, v > 0], x[T.neq(x, 0)]]
    f = graphc.function([x, v], outs, backend=backend)
    xv = rng.normal(size=(3, 4))
    vv = rng.normal(size=4)
    expected = [xv[xv > 0], vv[vv < 0.5], xv[:, vv > 0], xv[xv != 0]]
    for got, want in zip(f(xv, vv), expected):
        assert got.shape == want.shape
        assert_close(got, want)


@pytest.mark.filterwarnings("error::graphc.backends.numba.fallback.FallbackWarning")
def test_masks_and_sliced_groups_compile_natively(backend, rng):
    # Reading through masks and through an index array next to slices, and the
    # gradient of a masked read (an increment through the mask), run as compiled
    # code under numba: a FallbackWarning fails this test.
    x, v, i, k = T.dmatrix("x"), T.dvector("v"), T.lvector("i"), T.lscalar("k")
    outs = [x[x > 0], x[i, 1:], x[::-1, i], x[i, k:], x[x[:, 0] > 0], v[v > 2],
            T.set_subtensor(x[x > 0], 0.0), T.inc_subtensor(x[x[:, 0] > 0], v),
            graphc.grad((x[x > 0] ** 2).sum(), x)]
    f = graphc.function([x, v, i, k], outs, backend=backend)
    xv, vv, iv = rng.normal(size=(4, 5)), rng.normal(2, 1, size=5), np.array([0, 2, -1])
    masked_grad = np.where(xv > 0, 2 * xv, 0.0)
    inc = xv.copy()
    inc[xv[:, 0] > 0] += vv
    expected = [xv[xv > 0], xv[iv, 1:], xv[::-1, iv], xv[iv, 2:], xv[xv[:, 0] > 0],
                vv[vv > 2], np.where(xv > 0, 0.0, xv), inc, masked_grad]
    for got, want in zip(f(xv, vv, iv, 2), expected):
        assert got.shape == want.shape
        assert_close(got, want)
    with pytest.raises(graphc.GraphcError, match="boolean index"):
        graphc.function([x, v], x[v > 0], backend=backend)(xv, vv)   # 5 flags for 4 rows


def test_index_arrays_of_several_axes_compile_natively(backend, rng):
    # Embedding lookups (W[ids] with ids a matrix), their gradient and increments
    # run as compiled code under numba (a FallbackWarning fails this test).
    W, ids = T.dmatrix("W"), T.lmatrix("ids")
    X, cube = T.dtensor3("X"), T.ltensor3("cube")
    outs = [W[ids], W[cube], X[:, ids], X[1:3, ids, ::2], T.take(W[:, 0], ids),
            T.inc_subtensor(W[ids], 1.5), T.set_subtensor(X[:, ids], -1.0),
            graphc.grad((W[ids] ** 2).sum(), W)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        f = graphc.function([W, ids, X, cube], outs, backend=backend)
    Wv, Xv = rng.normal(size=(6, 3)), rng.normal(size=(4, 6, 5))
    iv, cv = np.array([[1, 2, -1], [5, 0, 0]]), rng.integers(0, 6, (2, 2, 2))
    inc, put, grad = Wv.copy(), Xv.copy(), np.zeros_like(Wv)
    np.add.at(inc, iv, 1.5)
    put[:, iv] = -1.0
    np.add.at(grad, iv, 2 * Wv[iv])
    expected = [Wv[iv], Wv[cv], Xv[:, iv], Xv[1:3, iv, ::2], Wv[:, 0][iv], inc, put, grad]
    for got, want in zip(f(Wv, iv, Xv, cv), expected):
        assert got.shape == want.shape
        assert_close(got, want)
    with pytest.raises(graphc.GraphcError, match="out of bounds"):
        f(Wv, np.array([[1, 7]]), Xv, cv)


def test_index_out_of_bounds_raises(backend):
    x = T.dvector("x")
    idx = T.lvector("idx")
    f = graphc.function([x, idx], x[idx], backend=backend)
    with pytest.raises(graphc.GraphcError, match="out of bounds|index"):
        f(np.zeros(3), np.array([0, 3]))
    with pytest.raises(graphc.GraphcError):
        T.tensor("float64", shape=(3,))[5]
    with pytest.raises(graphc.GraphcError):
        T.dvector()[0, 0]
    with pytest.raises(graphc.GraphcError):
        T.dvector()[T.dvector()]      # float index


def test_set_and_inc_subtensor(backend, rng):
    x = T.dmatrix("x")
    v = T.dvector("v")
    idx = T.lvector("idx")
    outs = [T.set_subtensor(x[0], v), T.inc_subtensor(x[:, 1], 10.0),
            T.set_subtensor(x[1:, ::2], 0.0), T.inc_subtensor(x[idx], v),
            T.set_subtensor(x[idx, 0], -1.0), T.inc_subtensor(x[x > 0], 1.0),
            T.set_subtensor(x[-1, -2:], v[:2])]
    f = graphc.function([x, v, idx], outs, backend=backend)
    xv = rng.normal(size=(3, 4))
    vv = rng.normal(size=4)
    iv = np.array([0, 2, 0, 0])     # repeated indices accumulate in inc_subtensor
    e = [xv.copy() for _ in range(7)]
    e[0][0] = vv
    e[1][:, 1] += 10.0
    e[2][1:, ::2] = 0.0
    np.add.at(e[3], iv, vv)
    e[4][iv, 0] = -1.0
    e[5][xv > 0] += 1.0
    e[6][-1, -2:] = vv[:2]
    results = f(xv, vv, iv)
    for k, (got, want) in enumerate(zip(results, e)):
        assert_close(got, want)
    # Repeated indices really accumulated (row 0 got v three times).
    assert_close(results[3][0], xv[0] + 3 * vv)


def test_inc_subtensor_repeated_indices_vector(backend):
    x = T.dvector("x")
    idx = T.lvector("idx")
    f = graphc.function([x, idx], T.inc_subtensor(x[idx], 1.0), backend=backend)
    got = f(np.zeros(4), np.array([1, 1, 1, 3, -1]))
    np.testing.assert_array_equal(got, [0.0, 3.0, 0.0, 2.0])


def test_set_subtensor_leaves_the_input_unchanged(backend, rng):
    # The result is a copy: the caller's array and a shared value are not written.
    s = graphc.shared(np.zeros(3), name="s")
    x = T.dvector("x")
    f = graphc.function([x], [T.set_subtensor(x[0], 5.0), T.inc_subtensor(s[1], 2.0)],
                        backend=backend)
    xv = np.zeros(3)
    a, b = f(xv)
    np.testing.assert_array_equal(xv, np.zeros(3))
    np.testing.assert_array_equal(s.get_value(), np.zeros(3))
    np.testing.assert_array_equal(a, [5.0, 0, 0])
    np.testing.assert_array_equal(b, [0, 2.0, 0])



def test_set_subtensor_gradient_with_repeated_indices(backend):
    # x[[0, 2, 2]] = v: the last write to place 2 wins (NumPy), so v[1] never reaches
    # the result and its gradient is 0; finite differences agree.
    x, v = T.dvector("x"), T.dvector("v")
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    cost = (T.set_subtensor(x[np.array([0, 2, 2])], v) * weights).sum()
    m, w, i = T.dmatrix("m"), T.dmatrix("w"), T.ivector("i")
    cost2 = (T.set_subtensor(m[i], w) ** 2).sum()
    f = graphc.function([x, v, m, w, i], [T.grad(cost, v), T.grad(cost2, w)], backend=backend)
    wv = np.arange(6.0).reshape(3, 2) + 1
    gv, gw = f(np.zeros(4), np.array([1.0, 2.0, 3.0]), np.zeros((3, 2)), wv,
               np.array([1, 1, 0], dtype="int32"))
    assert_close(gv, [1.0, 0.0, 3.0])
    assert_close(gw, [[0.0, 0.0], 2 * wv[1], 2 * wv[2]])
    graphc.verify_grad(lambda v: T.set_subtensor(T.zeros((4,), dtype="float64")[
        np.array([0, 2, 2])], v), [np.ones(3)])

def test_set_subtensor_needs_an_indexed_variable():
    with pytest.raises(graphc.GraphcError):
        T.set_subtensor(T.dvector(), 1.0)
    with pytest.raises(graphc.GraphcError):
        T.set_subtensor(T.tensor("float64", shape=(4, 3))[0], T.tensor("float64", shape=(4,)))


def test_indexing_integer_and_float32_tensors(backend, rng):
    a = T.ivector("a")
    x = T.fmatrix("x")
    f = graphc.function([a, x], [a[::-1], x[a], T.set_subtensor(x[0, 0], 2.5)],
                        backend=backend)
    av = np.array([1, 0], dtype="int32")
    xv = rng.normal(size=(2, 3)).astype("float32")
    r, s, t = f(av, xv)
    assert r.dtype == "int32" and s.dtype == "float32" and t.dtype == "float32"
    np.testing.assert_array_equal(r, av[::-1])
    np.testing.assert_array_equal(s, xv[av])
    assert t[0, 0] == 2.5


def test_slices_of_empty_results(backend, rng):
    x = T.dmatrix("x")
    idx = T.lvector("idx")
    f = graphc.function([x, idx], [x[3:], x[idx], x[:, 2:1]], backend=backend)
    a, b, c = f(rng.normal(size=(2, 3)), np.zeros(0, dtype="int64"))
    assert a.shape == (0, 3) and b.shape == (0, 3) and c.shape == (2, 0)
