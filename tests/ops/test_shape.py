"""Shape operations: reshape, flatten, dimshuffle, transpose, join/stack, alloc, arange..."""
import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc import config
from conftest import assert_close


def test_reshape_flatten_dimshuffle_transpose(backend, rng):
    x = T.dtensor3("x")
    outs = [
        x.reshape((6, 4)), x.reshape((-1,)), x.reshape((2, -1)), T.reshape(x, (4, 3, 2)),
        x.reshape((x.shape[0], -1)), x.reshape([x.shape[2], x.shape[0], 3]),
        x.flatten(), x.flatten(2), T.flatten(x, 3), T.flatten(x, ndim=2),
        x.dimshuffle(2, 0, 1), x.dimshuffle((1, "x", 0, 2)), x.dimshuffle("x", 0, 1, 2),
        T.dimshuffle(x, [2, 1, 0]), x.transpose(), x.transpose(1, 0, 2), x.T,
        T.transpose(x, (0, 2, 1)), T.transpose(x, (-1, 0, 1)), x.transpose(0, -1, -2),
    ]
    f = graphc.function([x], outs, backend=backend)
    xv = rng.normal(size=(2, 3, 4))
    expected = [
        xv.reshape(6, 4), xv.reshape(-1), xv.reshape(2, -1), xv.reshape(4, 3, 2),
        xv.reshape(2, -1), xv.reshape(4, 2, 3), xv.reshape(-1), xv.reshape(2, -1), xv,
        xv.reshape(2, -1), xv.transpose(2, 0, 1), xv.transpose(1, 0, 2)[:, None],
        xv[None], xv.transpose(2, 1, 0), xv.T, xv.transpose(1, 0, 2), xv.T,
        xv.transpose(0, 2, 1), xv.transpose(-1, 0, 1), xv.transpose(0, -1, -2),
    ]
    for k, (got, want) in enumerate(zip(f(xv), expected)):
        assert got.shape == want.shape, (k, got.shape, want.shape)
        assert_close(got, want)


def test_dimshuffle_drops_broadcastable_axes(backend, rng):
    x = T.tensor("float64", shape=(None, 1, None), name="x")
    y = x.dimshuffle(0, 2)
    assert y.ndim == 2
    f = graphc.function([x], [y, T.squeeze(x)], backend=backend)
    xv = rng.normal(size=(3, 1, 2))
    a, b = f(xv)
    assert_close(a, xv[:, 0])
    assert_close(b, xv[:, 0])
    with pytest.raises(graphc.GraphcError):
        T.dmatrix().dimshuffle(0)   # axis 1 is not known to have length 1


def test_dimshuffle_drops_every_axis_and_adds_new_ones(backend):
    # DimShuffle{x,x} of a (1, 1) matrix: the numba lowering once indexed the number
    # it got after dropping both axes (the gradient of T.std() builds this).
    x = T.tensor("float64", shape=(1, 1), name="x")
    f = graphc.function([x], [x.dimshuffle("x", "x", "x"), x.dimshuffle("x")],
                        backend=backend, optimizer=None)
    a, b = f(np.array([[2.5]]))
    assert_close(a, np.full((1, 1, 1), 2.5))
    assert_close(b, [2.5])
    m = T.dmatrix("m")
    g = graphc.function([m], graphc.grad(m.std(), m), backend=backend)
    mv = np.arange(12.0).reshape(3, 4)
    assert_close(g(mv), (mv - mv.mean()) / (mv.size * mv.std()))


def test_negative_symbolic_counts_raise_instead_of_crashing(backend):
    # A negative length reached the numba kernel that broadcasts an alloc's value,
    # and copying the view it made crashed the process.
    x = T.dvector("x")
    n = T.lscalar("n")
    f = graphc.function([x, n], [T.tile(x, (2, n)), T.alloc(x[:1], 2, n)], backend=backend)
    assert [r.shape for r in f(np.arange(3.0), 2)] == [(2, 6), (2, 2)]
    with pytest.raises(graphc.GraphcError):
        f(np.arange(3.0), -1)


def test_shape_and_ndim_dtype_attributes(backend, rng):
    x = T.dtensor3("x")
    assert x.ndim == 3 and x.dtype == "float64"
    f = graphc.function([x], [x.shape, T.shape(x), x.shape[1], x.shape[-1] * 2, x.size],
                        backend=backend)
    xv = rng.normal(size=(2, 5, 3))
    s, s2, s1, last, size = f(xv)
    np.testing.assert_array_equal(s, [2, 5, 3])
    np.testing.assert_array_equal(s2, [2, 5, 3])
    assert int(s1) == 5 and int(last) == 6 and int(size) == 30


def test_join_concatenate_stack(backend, rng):
    a = T.dmatrix("a")
    b = T.dmatrix("b")
    v = T.dvector("v")
    outs = [T.concatenate([a, b]), T.concatenate([a, b], axis=1), T.join(0, a, b),
            T.join(-1, a, b), T.stack([v, v * 2]), T.stack([v, v], axis=1),
            T.stack([a, b], axis=-1), T.concatenate([a, b, a], axis=0)]
    f = graphc.function([a, b, v], outs, backend=backend)
    av = rng.normal(size=(2, 3))
    bv = rng.normal(size=(2, 3))
    vv = rng.normal(size=4)
    expected = [np.concatenate([av, bv]), np.concatenate([av, bv], 1),
                np.concatenate([av, bv], 0), np.concatenate([av, bv], -1),
                np.stack([vv, vv * 2]), np.stack([vv, vv], 1), np.stack([av, bv], -1),
                np.concatenate([av, bv, av])]
    for k, (got, want) in enumerate(zip(f(av, bv, vv), expected)):
        assert got.shape == want.shape, k
        assert_close(got, want)


def test_join_of_mixed_dtypes_upcasts(backend):
    a = T.ivector("a")
    b = T.dvector("b")
    out = T.concatenate([a, b])
    assert out.dtype == "float64"
    f = graphc.function([a, b], out, backend=backend)
    assert_close(f(np.array([1, 2], dtype="int32"), np.array([0.5])), [1.0, 2.0, 0.5])


def test_join_run_time_mismatch_names_shapes(backend):
    a = T.dmatrix("a")
    b = T.dmatrix("b")
    f = graphc.function([a, b], T.concatenate([a, b]), backend=backend)
    with pytest.raises(graphc.GraphcError, match=r"\(2, 3\)"):
        f(np.zeros((2, 3)), np.zeros((2, 4)))


def test_squeeze_and_expand_dims(backend, rng):
    x = T.dmatrix("x")
    outs = [T.expand_dims(x, 0), T.expand_dims(x, -1), T.expand_dims(x, 1),
            T.squeeze(T.expand_dims(x, 1)), T.expand_dims(x, (0, 2))]
    f = graphc.function([x], outs, backend=backend)
    xv = rng.normal(size=(2, 3))
    expected = [np.expand_dims(xv, 0), np.expand_dims(xv, -1), np.expand_dims(xv, 1), xv,
                np.expand_dims(xv, (0, 2))]
    for got, want in zip(f(xv), expected):
        assert got.shape == want.shape
        assert_close(got, want)


def test_squeeze_of_an_axis_known_only_when_called(backend):
    # NumPy's squeeze(axis=1) of a (3, 1, 2) array; a length other than 1 is an error.
    t = T.dtensor3("t")
    f = graphc.function([t], T.squeeze(t, axis=1), backend=backend)
    tv = np.arange(6.0).reshape(3, 1, 2)
    np.testing.assert_array_equal(f(tv), np.squeeze(tv, axis=1))
    with pytest.raises(graphc.GraphcError):
        f(np.ones((3, 2, 2)))


def test_arange(backend):
    n = T.lscalar("n")
    outs = [T.arange(n), T.arange(2, n), T.arange(n, 0, -2), T.arange(5), T.arange(1, 10, 3),
            T.arange(0.0, 1.0, 0.25)]
    f = graphc.function([n], outs, backend=backend)
    expected = [np.arange(7), np.arange(2, 7), np.arange(7, 0, -2), np.arange(5),
                np.arange(1, 10, 3), np.arange(0.0, 1.0, 0.25)]
    for got, want in zip(f(7), expected):
        np.testing.assert_allclose(got, want)
        assert got.shape == want.shape
    assert f(0)[0].shape == (0,)
    assert outs[0].dtype == "int64"


def test_zeros_ones_alloc_fill_like(backend, rng):
    x = T.dmatrix("x")
    n = T.lscalar("n")
    outs = [T.zeros((2, 3)), T.ones((n, 2)), T.zeros(x.shape), T.ones_like(x),
            T.zeros_like(x), T.alloc(1.5, n, 3), T.alloc(x[0], 4, x.shape[1]),
            T.fill(x, 3.0), T.zeros((2,), dtype="int32")]
    assert outs[0].dtype == config.floatX
    assert outs[3].dtype == "float64"
    assert outs[-1].dtype == "int32"
    f = graphc.function([x, n], outs, backend=backend)
    xv = rng.normal(size=(2, 3))
    expected = [np.zeros((2, 3)), np.ones((4, 2)), np.zeros((2, 3)), np.ones_like(xv),
                np.zeros_like(xv), np.full((4, 3), 1.5), np.broadcast_to(xv[0], (4, 3)),
                np.full((2, 3), 3.0), np.zeros(2)]
    for k, (got, want) in enumerate(zip(f(xv, 4), expected)):
        assert got.shape == want.shape, k
        assert_close(got, want)


def test_tile_and_repeat(backend, rng):
    x = T.dmatrix("x")
    outs = [T.tile(x, (2, 3)), T.tile(x, (2, 1, 2)), T.repeat(x, 3, axis=0),
            T.repeat(x, 2, axis=-1), T.repeat(x, 2)]
    f = graphc.function([x], outs, backend=backend)
    xv = rng.normal(size=(2, 3))
    expected = [np.tile(xv, (2, 3)), np.tile(xv, (2, 1, 2)), np.repeat(xv, 3, axis=0),
                np.repeat(xv, 2, axis=-1), np.repeat(xv, 2)]
    for k, (got, want) in enumerate(zip(f(xv), expected)):
        assert got.shape == want.shape, k
        assert_close(got, want)



def test_repeat_with_one_count_per_element(backend, rng):
    x, r = T.dmatrix("x"), T.ivector("r")
    counts = np.array([1, 0, 2])
    outs = [T.repeat(x, counts, axis=1), T.repeat(x, r, axis=0), T.repeat(x, [2]),
            x.repeat(np.array([3]), axis=0)]
    cost = T.repeat(x, r, axis=0).sum() + (T.repeat(x, counts, axis=1) ** 2).sum()
    f = graphc.function([x, r], outs + [T.grad(cost, x)], backend=backend)
    xv, rv = rng.normal(size=(2, 3)), np.array([2, 1], dtype="int32")
    *got, grad = f(xv, rv)
    expected = [np.repeat(xv, counts, axis=1), np.repeat(xv, rv, axis=0), np.repeat(xv, [2]),
                np.repeat(xv, [3], axis=0)]
    for k, (a, b) in enumerate(zip(got, expected)):
        assert a.shape == b.shape, k
        assert_close(a, b)
    assert_close(grad, rv[:, None] + 2 * xv * counts)
    with pytest.raises(graphc.GraphcError, match="3 counts for 2"):
        f(xv, np.array([1, 2, 3], dtype="int32"))
    with pytest.raises(graphc.GraphcError):
        T.repeat(x, np.array([1.5, 2.0]))

def test_reshape_errors():
    x = T.tensor("float64", shape=(2, 3))
    with pytest.raises(graphc.GraphcError, match=r"\(2, 3\)|size 6"):
        x.reshape((4, 2))
    y = T.dmatrix("y")
    f = graphc.function([y], y.reshape((5, -1)), backend="python")
    with pytest.raises(graphc.GraphcError, match=r"\(2, 3\)"):
        f(np.zeros((2, 3)))


def test_shape_ops_on_empty_arrays(backend):
    x = T.dmatrix("x")
    f = graphc.function([x], [x.T, x.flatten(), x.reshape((-1, 2)),
                              T.concatenate([x, x])], backend=backend)
    a, b, c, d = f(np.zeros((0, 2)))
    assert a.shape == (2, 0) and b.shape == (0,) and c.shape == (0, 2) and d.shape == (0, 2)


def test_static_shapes_are_inferred():
    x = T.tensor("float64", shape=(2, 3))
    assert x.T.type.shape == (3, 2)
    assert x.reshape((3, -1)).type.shape == (3, 2)
    assert x.flatten().type.shape == (6,)
    assert T.concatenate([x, x]).type.shape == (4, 3)
    assert (x + T.dvector()).type.shape == (2, 3)
    with pytest.raises(graphc.GraphcError, match=r"\(2, 3\).*\(4,\)|\(4,\).*\(2, 3\)"):
        x + T.tensor("float64", shape=(4,))


def test_flatten_accepts_theanos_outdim(backend, rng):
    x = T.dtensor3("x")
    f = graphc.function([x], T.flatten(x, outdim=2), backend=backend)
    xv = rng.normal(size=(2, 3, 4))
    assert_close(f(xv), xv.reshape(2, -1))


def test_plural_constructors_make_named_inputs():
    a, b = T.dmatrices("a", "b")
    assert (a.name, b.name, a.dtype, a.ndim) == ("a", "b", "float64", 2)
    xs = T.fvectors(3)
    assert len(xs) == 3 and all(v.dtype == "float32" and v.ndim == 1 for v in xs)
    r, c = T.frows("r") + T.lcols("c")
    assert (r.type.shape, r.dtype, c.type.shape, c.dtype) == ((1, None), "float32",
                                                              (None, 1), "int64")
    assert [v.ndim for v in T.tensor5s(2)] == [5, 5]


def test_fuzz_found_shape_cases(backend):
    # tile of a 0-d tensor (numba wrote x[]), an empty constant in a fused chain
    # (fusion inlined it as a scalar), and a single tensor's join axis, checked as
    # NumPy checks it.
    s, x = T.dscalar("s"), T.dvector("x")
    f = graphc.function([s, x], [T.tile(s, 3), T.tile(s, (2, 2)), T.exp(x * np.zeros(0))],
                        backend=backend)
    three, square, empty = f(2.0, np.ones(0))
    np.testing.assert_array_equal(three, np.tile(2.0, 3))
    np.testing.assert_array_equal(square, np.tile(2.0, (2, 2)))
    assert empty.shape == (0,)
    with pytest.raises(graphc.GraphcError, match="axis 3 is out of range"):
        T.concatenate([x], axis=3)
    with pytest.raises(graphc.GraphcError, match="axis 3 is out of range"):
        T.join(3, x)


def test_flatten_of_an_empty_batch(backend):
    # flatten used reshape(..., -1), which no length fits when the batch is empty
    # (the python backend raised, numba gave (0, 0)); NumPy's reshape(0, 6) is the answer.
    X, F = T.dtensor3("X"), T.tensor("float64", shape=(None, 2, 3))
    f = graphc.function([X, F], [T.flatten(X, 2), T.flatten(F, 2), T.flatten(X)],
                        backend=backend)
    empty = np.ones((0, 2, 3))
    assert [o.shape for o in f(empty, empty)] == [(0, 6), (0, 6), (0,)]
    assert T.flatten(F, 2).type.shape == (None, 6)
