"""Products: dot (Theano/NumPy semantics for 1-D and 2-D), matmul, outer, tensordot,
batched_dot, and the .dot/.norm methods."""
import numpy as np
import pytest

import graphc
import graphc.tensor as T
from conftest import assert_close


def test_dot_all_rank_combinations(backend, rng):
    m = T.dmatrix("m")
    n = T.dmatrix("n")
    u = T.dvector("u")
    w = T.dvector("w")
    s = T.dscalar("s")
    outs = [T.dot(m, n), T.dot(m, w), T.dot(u, m), T.dot(w, w), m.dot(n), T.dot(s, m),
            T.dot(m, 2.0), u.dot(u)]
    f = graphc.function([m, n, u, w, s], outs, backend=backend)
    mv, nv = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    uv, wv = rng.normal(size=3), rng.normal(size=4)
    expected = [mv @ nv, mv @ wv, uv @ mv, wv @ wv, mv @ nv, 1.5 * mv, mv * 2.0, uv @ uv]
    for k, (got, want) in enumerate(zip(f(mv, nv, uv, wv, 1.5), expected)):
        assert np.shape(got) == np.shape(want), k
        assert_close(got, want)


def test_dot_vector_vector_and_matrix_vector(backend, rng):
    u = T.dvector("u")
    w = T.dvector("w")
    m = T.dmatrix("m")
    f = graphc.function([u, w, m], [T.dot(u, w), T.dot(m, u), T.dot(u, m), u @ w],
                        backend=backend)
    uv, wv, mv = rng.normal(size=3), rng.normal(size=3), rng.normal(size=(3, 3))
    a, b, c, d = f(uv, wv, mv)
    assert np.shape(a) == () and np.shape(d) == ()
    assert_close(a, np.dot(uv, wv))
    assert_close(b, mv @ uv)
    assert_close(c, uv @ mv)
    assert_close(d, uv @ wv)


def test_matmul_with_batches_and_vectors(backend, rng):
    a = T.dtensor3("a")
    b = T.dtensor3("b")
    m = T.dmatrix("m")
    v = T.dvector("v")
    outs = [T.matmul(a, b), a @ m, m @ a, T.matmul(a, v), a @ b]
    f = graphc.function([a, b, m, v], outs, backend=backend)
    av = rng.normal(size=(2, 3, 4))
    bv = rng.normal(size=(2, 4, 5))
    mv = rng.normal(size=(4, 3))
    vv = rng.normal(size=4)
    v3 = rng.normal(size=3)
    with pytest.raises(graphc.GraphcError):
        f(av, bv, mv, v3)   # matmul(a, v) needs len(v) == 4
    expected = [av @ bv, av @ mv, mv @ av, None, av @ bv]
    got = f(av, bv, mv, vv)
    for k in (0, 1, 2, 4):
        assert got[k].shape == expected[k].shape, k
        assert_close(got[k], expected[k])
    assert_close(got[3], np.matmul(av, vv))
    # matmul(v, a) contracts v with a's second-to-last axis (3): use a (2, 4, 4) a.
    a4 = rng.normal(size=(2, 4, 4))
    got = graphc.function([a, v], T.matmul(v, a), backend=backend)(a4, vv)
    assert_close(got, np.matmul(vv, a4))


def test_matmul_broadcasts_batch_axes(backend, rng):
    a = T.dtensor3("a")
    b = T.dtensor3("b")
    f = graphc.function([a, b], T.matmul(a, b), backend=backend)
    av = rng.normal(size=(1, 2, 3))
    bv = rng.normal(size=(4, 3, 5))
    assert_close(f(av, bv), np.matmul(av, bv))


def test_outer_tensordot_batched_dot(backend, rng):
    u = T.dvector("u")
    w = T.dvector("w")
    a = T.dtensor3("a")
    b = T.dtensor3("b")
    c = T.dtensor3("c")
    m = T.dmatrix("m")
    n = T.dmatrix("n")
    outs = [T.outer(u, w), T.tensordot(a, b, axes=[[1, 2], [0, 1]]), T.tensordot(a, c, 1),
            T.tensordot(m, n, axes=([0], [0])), T.tensordot(m, n.T, 1),
            T.batched_dot(a, c.dimshuffle(1, 0, 2)), T.batched_dot(m, n)]
    f = graphc.function([u, w, a, b, c, m, n], outs, backend=backend)
    uv, wv = rng.normal(size=3), rng.normal(size=5)
    av = rng.normal(size=(3, 4, 2))
    bv = rng.normal(size=(4, 2, 3))
    cv = rng.normal(size=(2, 3, 5))
    mv, nv = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    expected = [np.outer(uv, wv), np.tensordot(av, bv, axes=[[1, 2], [0, 1]]),
                np.tensordot(av, cv, 1), np.tensordot(mv, nv, axes=([0], [0])),
                mv @ nv.T, np.matmul(av, cv.transpose(1, 0, 2)), np.einsum("ij,ij->i", mv, nv)]
    for k, (got, want) in enumerate(zip(f(uv, wv, av, bv, cv, mv, nv), expected)):
        assert got.shape == want.shape, k
        assert_close(got, want)


def test_norms(backend, rng):
    x = T.dmatrix("x")
    outs = [x.norm(1), x.norm(2), x.norm(2, axis=1), x.norm(1, axis=0), x.norm(3)]
    f = graphc.function([x], outs, backend=backend)
    xv = rng.normal(size=(3, 4))
    expected = [np.abs(xv).sum(), np.sqrt((xv ** 2).sum()), np.sqrt((xv ** 2).sum(1)),
                np.abs(xv).sum(0), (np.abs(xv) ** 3).sum() ** (1 / 3)]
    for got, want in zip(f(xv), expected):
        assert_close(got, want)


def test_dot_of_mixed_dtypes_upcasts_and_float32_stays(backend, rng):
    a = T.fmatrix("a")
    b = T.fmatrix("b")
    i = T.imatrix("i")
    assert T.dot(a, b).dtype == "float32"
    assert T.dot(a, T.dmatrix()).dtype == "float64"
    f = graphc.function([a, b, i], [T.dot(a, b), T.dot(i, i)], backend=backend)
    av = rng.normal(size=(3, 4)).astype("float32")
    bv = rng.normal(size=(4, 2)).astype("float32")
    iv = rng.integers(-5, 5, size=(3, 3)).astype("int32")
    r, ri = f(av, bv, iv)
    assert r.dtype == "float32"
    assert_close(r, av.astype("float64") @ bv.astype("float64"), "float32")
    assert ri.dtype == "int32"
    np.testing.assert_array_equal(ri, iv @ iv)


def test_dot_shape_errors(backend):
    with pytest.raises(graphc.GraphcError, match=r"\(2, 3\).*\(4, 5\)"):
        T.dot(T.tensor("float64", shape=(2, 3)), T.tensor("float64", shape=(4, 5)))
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = graphc.function([x, y], T.dot(x, y), backend=backend)
    with pytest.raises(graphc.GraphcError, match=r"\(2, 3\).*\(4, 5\)"):
        f(np.zeros((2, 3)), np.zeros((4, 5)))


def test_dot_of_empty_inner_axis_is_zero(backend):
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = graphc.function([x, y], T.dot(x, y), backend=backend)
    np.testing.assert_array_equal(f(np.zeros((2, 0)), np.zeros((0, 3))), np.zeros((2, 3)))


def test_tensordot_refuses_axes_numpy_refuses():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    for axes, message in (([[3], [0]], "axis 3 is out of range"),
                          ([[0, 0], [0, 1]], "repeated"), (3, "cannot contract 3 axes")):
        with pytest.raises(graphc.GraphcError, match=message):
            T.tensordot(a, b, axes)
