"""Reductions: sum, mean, prod, max, min, argmax, argmin, var, std, all, any, logsumexp."""
import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc import config
from conftest import assert_close


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


REDUCERS = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "var": np.var, "std": np.std, "logsumexp": _logsumexp,
}
AXES = [None, 0, 1, 2, -1, -2, (0, 2), (1, -1), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
def test_float_reductions_all_axes(backend, rng, keepdims):
    # One graph per keepdims: every reducer over every axis spec.
    x = T.dtensor3("x")
    outs, expected_fns = [], []
    for name, ref in REDUCERS.items():
        for axis in AXES:
            outs.append(getattr(T, name)(x, axis=axis, keepdims=keepdims))
            expected_fns.append((name, axis, ref))
    f = graphc.function([x], outs, backend=backend)
    xv = rng.uniform(0.5, 1.5, size=(2, 3, 4))
    for got, (name, axis, ref) in zip(f(xv), expected_fns):
        want = ref(xv, axis=axis, keepdims=keepdims)
        assert np.shape(got) == np.shape(want), (name, axis)
        assert_close(got, want)


@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_methods(backend, rng, keepdims):
    x = T.dmatrix("x")
    outs = [x.sum(axis=0, keepdims=keepdims), x.mean(axis=-1, keepdims=keepdims),
            x.max(axis=1, keepdims=keepdims), x.min(keepdims=keepdims),
            x.prod(axis=0, keepdims=keepdims), x.var(axis=0, keepdims=keepdims),
            x.std(axis=1, keepdims=keepdims), x.argmax(axis=1, keepdims=keepdims),
            x.argmin(axis=0, keepdims=keepdims), (x > 0).all(axis=1, keepdims=keepdims),
            (x > 0).any(axis=0, keepdims=keepdims), x.sum(), x.argmax(), x.argmin(axis=-1)]
    f = graphc.function([x], outs, backend=backend)
    xv = rng.normal(size=(3, 5))
    expected = [xv.sum(0, keepdims=keepdims), xv.mean(-1, keepdims=keepdims),
                xv.max(1, keepdims=keepdims), xv.min(keepdims=keepdims),
                xv.prod(0, keepdims=keepdims), xv.var(0, keepdims=keepdims),
                xv.std(1, keepdims=keepdims), np.argmax(xv, 1, keepdims=keepdims),
                np.argmin(xv, 0, keepdims=keepdims), (xv > 0).all(1, keepdims=keepdims),
                (xv > 0).any(0, keepdims=keepdims), xv.sum(), xv.argmax(), xv.argmin(-1)]
    for k, (got, want) in enumerate(zip(f(xv), expected)):
        assert np.shape(got) == np.shape(want), k
        assert_close(got, want)


def test_argmax_argmin_ties_take_the_first(backend):
    x = T.dmatrix("x")
    f = graphc.function([x], [T.argmax(x, axis=1), T.argmin(x, axis=0), T.argmax(x)],
                        backend=backend)
    xv = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    a, b, c = f(xv)
    np.testing.assert_array_equal(a, np.argmax(xv, 1))
    np.testing.assert_array_equal(b, np.argmin(xv, 0))
    assert int(c) == np.argmax(xv)


def test_integer_and_boolean_reductions_dtypes(backend):
    a = T.ivector("a")
    m = T.bvector("m")
    outs = [T.sum(a), T.prod(a), T.max(a), T.mean(a), T.sum(a > 0), T.all(m), T.any(m),
            T.sum(m)]
    f = graphc.function([a, m], outs, backend=backend)
    av = np.array([3, -2, 5], dtype="int32")
    mv = np.array([1, 0, 1], dtype="int8")
    s, p, mx, me, cnt, al, an, sm = f(av, mv)
    assert s.dtype == np.sum(av).dtype == "int64"
    assert int(s) == av.sum() and int(p) == av.prod() and int(mx) == 5
    assert mx.dtype == "int32"
    assert me.dtype == config.floatX
    assert_close(me, av.mean(), config.floatX)
    assert int(cnt) == 2 and cnt.dtype == "int64"
    assert al.dtype == bool and not al and an
    assert int(sm) == 2
    # The mean of large integers is summed in float64, as NumPy's: not rounded one by
    # one to float32 first (which gave 0 here).
    big = np.array([2 ** 24 + 1, -2 ** 24, 0, 0], dtype="int32")
    assert_close(f(big, mv)[3], big.mean(), config.floatX)


def test_float32_reductions_stay_float32(backend, rng):
    x = T.fmatrix("x")
    outs = [x.sum(axis=1), x.mean(), x.var(axis=0), x.std(), T.logsumexp(x, axis=1)]
    f = graphc.function([x], outs, backend=backend)
    xv = rng.normal(size=(4, 6)).astype("float32")
    x64 = xv.astype("float64")
    expected = [x64.sum(1), x64.mean(), x64.var(0), x64.std(), _logsumexp(x64, 1)]
    for got, want in zip(f(xv), expected):
        assert got.dtype == "float32"
        assert_close(got, want, "float32")


def test_reductions_of_empty_arrays(backend):
    x = T.dmatrix("x")
    f = graphc.function([x], [x.sum(), x.sum(axis=0), x.prod(axis=1), x.prod(),
                              (x > 0).any(), (x > 0).all()], backend=backend)
    xv = np.zeros((0, 3))
    s, s0, p1, p, an, al = f(xv)
    assert float(s) == 0.0
    np.testing.assert_array_equal(s0, np.zeros(3))
    assert p1.shape == (0,)
    assert float(p) == 1.0
    assert not an and al


def test_max_of_empty_axis_raises(backend):
    x = T.dmatrix("x")
    f = graphc.function([x], x.max(axis=0), backend=backend)
    with pytest.raises(graphc.GraphcError, match="max"):
        f(np.zeros((0, 3)))
    # Reducing a non-empty axis of an array with an empty other axis is fine.
    assert f(np.zeros((2, 0))).shape == (0,)
    # max over an empty axis known at build time is caught while building.
    with pytest.raises(graphc.GraphcError):
        T.tensor("float64", shape=(0, 3)).max(axis=0)


def test_logsumexp_is_stable_for_large_values(backend):
    x = T.dmatrix("x")
    f = graphc.function([x], [T.logsumexp(x, axis=1), T.logsumexp(x, axis=1, keepdims=True),
                              T.logsumexp(x)], backend=backend)
    xv = np.array([[1000.0, 1000.0], [-1000.0, -1001.0]])
    a, b, c = f(xv)
    assert_close(a, [1000 + np.log(2), -1000 + np.log1p(np.exp(-1.0))])
    assert b.shape == (2, 1)
    assert np.isfinite(c)


def test_nan_propagates_through_reductions(backend):
    x = T.dvector("x")
    f = graphc.function([x], [x.sum(), x.max(), x.min(), x.mean(), x.prod()], backend=backend)
    for got in f(np.array([1.0, np.nan, 3.0])):
        assert np.isnan(got)


def test_var_and_std_with_ddof(backend, rng):
    x = T.dmatrix("x")
    f = graphc.function([x], [T.var(x, axis=0, ddof=1), T.std(x, ddof=1)], backend=backend)
    xv = rng.normal(size=(5, 3))
    v, s = f(xv)
    assert_close(v, xv.var(0, ddof=1))
    assert_close(s, xv.std(ddof=1))


def test_invalid_axes_raise_at_build_time():
    x = T.dmatrix("x")
    with pytest.raises(graphc.GraphcError, match="axis"):
        x.sum(axis=2)
    with pytest.raises(graphc.GraphcError, match="axis"):
        x.mean(axis=-3)
    with pytest.raises(graphc.GraphcError):
        x.max(axis=(0, 0))
    with pytest.raises(graphc.GraphcError):
        x.argmax(axis=5)


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_reductions_around_kept_axes(backend, rng, dtype):
    # A bias gradient's sum(axis=(0, 2, 3)): leading and trailing axes reduced, the
    # middle kept (the numba backend reduces the two blocks one after the other).
    x = T.tensor(dtype, shape=(None, None, None, None), name="x")
    kinds = ["sum", "max", "min", "prod"] if dtype != "bool" else ["any", "all", "sum"]
    outs = [getattr(x, kind)(axis=(0, 2, 3)) for kind in kinds]
    outs += [x.sum(axis=(0, 3)), x.max(axis=(0, 1, 3), keepdims=True)]
    f = graphc.function([x], outs, backend=backend)
    xv = rng.normal(size=(3, 4, 5, 2))
    xv = (xv > 0) if dtype == "bool" else (xv * 3).astype(dtype)
    if dtype == "float32":
        xv[1, 2, 3, 1] = np.nan
    want = [getattr(np, kind)(xv, axis=(0, 2, 3)) for kind in kinds]
    want += [xv.sum(axis=(0, 3)), xv.max(axis=(0, 1, 3), keepdims=True)]
    for got, ref in zip(f(xv), want):
        assert got.shape == ref.shape and got.dtype == ref.dtype, (got.dtype, ref.dtype)
        assert_close(got, ref)    # NaN where NumPy has NaN (equal_nan)


def test_argmax_over_several_axes_indexes_them_flattened(backend, rng):
    # Theano's max_and_argmax takes a tuple of axes: the index into those axes
    # flattened in their order; a one-element tuple is that axis.
    x = T.dtensor3("x")
    top, where = T.max_and_argmax(x, axis=(1, 2))
    f = graphc.function([x], [where, x.argmax(axis=(1,)), T.argmin(x, axis=[0, 2]),
                              x.argmax(axis=(0, 2), keepdims=True), top,
                              T.max_and_argmax(x, keepdims=True)[1]], backend=backend)
    xv = rng.normal(size=(2, 3, 4))
    w, a1, a02, k02, t, kall = f(xv)
    np.testing.assert_array_equal(w, xv.reshape(2, -1).argmax(1))
    np.testing.assert_array_equal(a1, xv.argmax(1))
    np.testing.assert_array_equal(a02, xv.transpose(1, 0, 2).reshape(3, -1).argmin(1))
    np.testing.assert_array_equal(k02, xv.transpose(1, 0, 2).reshape(3, -1).argmax(1)
                                  .reshape(1, 3, 1))
    assert_close(t, xv.max(axis=(1, 2)))
    assert kall.shape == (1, 1, 1) and kall.item() == xv.argmax()


def test_variance_of_large_integers_is_centred_in_float64(backend):
    # Cast to float32 first, 1e8 + k (k < 4) were one value and their variance 0.
    l = T.lvector("l")
    f = graphc.function([l], [T.var(l), T.std(l), l.var(ddof=1)], backend=backend)
    xv = np.array([100000000, 100000001, 100000002, 100000003])
    for got, want in zip(f(xv), (np.var(xv), np.std(xv), np.var(xv, ddof=1))):
        assert got.dtype == np.dtype(graphc.config.floatX)
        np.testing.assert_allclose(got, want, rtol=1e-6)
