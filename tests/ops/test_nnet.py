"""T.nnet: activations, softmax/log_softmax and the cross-entropy losses."""
import numpy as np
import pytest

import graphc
import graphc.tensor as T
from conftest import assert_close


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_activations(backend, rng):
    x = T.dmatrix("x")
    outs = [T.nnet.sigmoid(x), T.nnet.softplus(x), T.nnet.relu(x), T.nnet.relu(x, alpha=0.1),
            T.nnet.relu(x, 0.3), T.sigmoid(x), T.softplus(x)]
    f = graphc.function([x], outs, backend=backend)
    xv = rng.normal(scale=3, size=(4, 5))
    expected = [np_sigmoid(xv), np.log1p(np.exp(xv)), np.maximum(xv, 0),
                np.where(xv > 0, xv, 0.1 * xv), np.where(xv > 0, xv, 0.3 * xv), np_sigmoid(xv),
                np.log1p(np.exp(xv))]
    for k, (got, want) in enumerate(zip(f(xv), expected)):
        assert_close(got, want)


def test_relu_gradient_at_zero_is_theanos(backend):
    # Theano's relu is 0.5 * (x + |x|): its gradient at exactly 0 is 0.5, the
    # central finite difference (a pre-activation is exactly 0 on a zero background
    # with zero bias). The value stays exact: relu(-inf) is 0 and NaN propagates.
    x = T.dvector("x")
    y = T.nnet.relu(x)
    f = graphc.function([x], [y, graphc.grad(y.sum(), x)], backend=backend)
    xv = np.array([-np.inf, -2.0, 0.0, 3.0, np.inf, np.nan])
    value, slope = f(xv)
    np.testing.assert_array_equal(value, [0.0, 0.0, 0.0, 3.0, np.inf, np.nan])
    np.testing.assert_array_equal(slope, [0.0, 0.0, 0.5, 1.0, 1.0, np.nan])
    graphc.verify_grad(T.nnet.relu, [np.array([-1.0, 0.0, 2.0])],
                       rng=np.random.default_rng(1))
    i = T.ivector("i")      # integers keep their dtype
    got = graphc.function([i], T.nnet.relu(i), backend=backend)(np.int32([-3, 0, 4]))
    assert got.dtype == np.int32 and got.tolist() == [0, 0, 4]


def test_leaky_relu_is_exact_with_theanos_gradient_at_zero(backend):
    # Theano's relu(x, alpha) is 0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * |x|: its
    # gradient at 0 is 0.5 * (1 + alpha) (Lasagne's leaky_rectify calls it). The
    # values here are exactly x and alpha * x, infinities included.
    x = T.dvector("x")
    y = T.nnet.relu(x, 1 / 3)
    f = graphc.function([x], [y, graphc.grad(y.sum(), x)], backend=backend)
    xv = np.array([-np.inf, -2.0, 0.0, 3.0, np.inf, np.nan])
    value, slope = f(xv)
    np.testing.assert_array_equal(value, [-np.inf, -2.0 / 3, 0.0, 3.0, np.inf, np.nan])
    np.testing.assert_array_equal(slope, [1 / 3, 1 / 3, 0.5 * (1 + 1 / 3), 1.0, 1.0, np.nan])


def test_elu_gradient_is_finite_where_exp_overflows(backend):
    # The negative branch is expm1(minimum(x, 0)): with expm1(x), exp(100) is inf in
    # float32 and the switch's zero gradient times it NaN (Theano and Lasagne do that).
    from graphc.nn.nonlinearities import SELU
    x = T.fvector("x")
    outs = [T.nnet.elu(x), T.nnet.elu(x, alpha=0.5), SELU()(x)]
    f = graphc.function([x], outs + [graphc.grad(y.sum(), x) for y in outs], backend=backend)
    xv = np.float32([-np.inf, -30.0, -1.0, 0.0, 0.5, 100.0, 1e30, np.nan])
    x64 = xv.astype("float64")
    negative = np.expm1(np.minimum(x64, 0))
    scale, scale_neg = 1.0507009873554805, 1.6732632423543772
    values = [np.where(x64 > 0, x64, negative), np.where(x64 > 0, x64, 0.5 * negative),
              scale * np.where(x64 > 0, x64, scale_neg * negative)]
    slope = np.where(x64 > 0, 1.0, np.exp(np.minimum(x64, 0)))
    slopes = [slope, np.where(x64 > 0, 1.0, 0.5 * slope),
              scale * np.where(x64 > 0, 1.0, scale_neg * slope)]
    for got, want in zip(f(xv), values + slopes):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


def test_float32_sigmoid_rounds_like_numpy_at_its_exact_points(backend):
    # sigmoid(0) is 0.5 and sigmoid(100) rounds to 1 in float32, so that, without the
    # stability rewrites, log(1 - sigmoid(100)) is -inf as NumPy's is.
    x = T.fvector("x")
    s = T.nnet.sigmoid(x)
    f = graphc.function([x], [s, T.log(1 - s)], backend=backend, optimizer=None)
    xv = np.float32([0.0, 100.0, -100.0, 88.0])
    value, log_rest = f(xv)
    np.testing.assert_array_equal(value[:2], [0.5, 1.0])
    assert_close(value, 1 / (1 + np.exp(-xv.astype("float64"))), "float32")
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(log_rest[[1, 3]], [-np.inf, -np.inf])


def test_sigmoid_softplus_extreme_values_are_finite(backend):
    x = T.dvector("x")
    f = graphc.function([x], [T.nnet.sigmoid(x), T.nnet.softplus(x)], backend=backend)
    xv = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    s, sp = f(xv)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(sp))
    assert_close(s, [0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5, 1.0, 1.0])
    assert_close(sp, [0.0, np.log1p(np.exp(-40.0)), np.log(2), 40.0, 800.0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_and_log_softmax(backend, rng, dtype):
    x = T.tensor(dtype, shape=(None, None), name="x")
    t3 = T.tensor(dtype, shape=(None, None, None), name="t3")
    outs = [T.nnet.softmax(x), T.nnet.log_softmax(x), T.nnet.softmax(x, axis=0),
            T.nnet.log_softmax(x, axis=0), T.nnet.softmax(t3, axis=1),
            T.nnet.log_softmax(t3, axis=-1)]
    f = graphc.function([x, t3], outs, backend=backend)
    xv = rng.normal(scale=3, size=(4, 5)).astype(dtype)
    tv = rng.normal(size=(2, 3, 4)).astype(dtype)
    x64, t64 = xv.astype("float64"), tv.astype("float64")
    expected = [np_softmax(x64), np_log_softmax(x64), np_softmax(x64, 0),
                np_log_softmax(x64, 0), np_softmax(t64, 1), np_log_softmax(t64, -1)]
    for got, want in zip(f(xv, tv), expected):
        assert got.dtype == dtype
        assert_close(got, want, dtype)


def test_softmax_of_large_logits_is_finite(backend):
    x = T.dmatrix("x")
    f = graphc.function([x], [T.nnet.softmax(x), T.nnet.log_softmax(x)], backend=backend)
    xv = np.array([[1000.0, 0.0, -1000.0]])
    sm, lsm = f(xv)
    assert np.all(np.isfinite(sm)) and np.all(np.isfinite(lsm))
    assert_close(sm, [[1.0, 0.0, 0.0]])
    assert_close(lsm, [[0.0, -1000.0, -2000.0]])


def test_categorical_crossentropy_int_labels_and_one_hot(backend, rng):
    x = T.dmatrix("x")
    y = T.ivector("y")
    t = T.dmatrix("t")
    p = T.nnet.softmax(x)
    outs = [T.nnet.categorical_crossentropy(p, y), T.nnet.categorical_crossentropy(p, t),
            T.nnet.categorical_crossentropy(p, y).mean()]
    f = graphc.function([x, y, t], outs, backend=backend)
    xv = rng.normal(size=(4, 3))
    yv = np.array([0, 2, 1, 2], dtype="int32")
    tv = np.eye(3)[yv]
    logp = np_log_softmax(xv)
    expected = -logp[np.arange(4), yv]
    a, b, c = f(xv, yv, tv)
    assert a.shape == (4,) and b.shape == (4,)
    assert_close(a, expected)
    assert_close(b, expected)
    assert_close(c, expected.mean())
    # Soft targets: -sum(t * log p) per row.
    soft = np_softmax(rng.normal(size=(4, 3)))
    assert_close(f(xv, yv, soft)[1], -(soft * logp).sum(1))
    # An integer one-hot matrix is rows of probabilities too (Theano decides by ndim).
    t_int = T.imatrix("t_int")
    g = graphc.function([x, t_int], T.nnet.categorical_crossentropy(p, t_int), backend=backend)
    assert_close(g(xv, np.eye(3, dtype="int32")[yv]), expected)


def test_binary_crossentropy_and_sigmoid_form(backend, rng):
    p = T.dvector("p")
    z = T.dvector("z")
    t = T.dvector("t")
    outs = [T.nnet.binary_crossentropy(p, t), T.nnet.sigmoid_binary_crossentropy(z, t),
            T.nnet.binary_crossentropy(T.nnet.sigmoid(z), t)]
    f = graphc.function([p, z, t], outs, backend=backend)
    pv = rng.uniform(0.05, 0.95, size=6)
    zv = rng.normal(scale=3, size=6)
    tv = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0])
    sz = np_sigmoid(zv)
    expected = [-(tv * np.log(pv) + (1 - tv) * np.log(1 - pv)),
                -(tv * np.log(sz) + (1 - tv) * np.log(1 - sz)),
                -(tv * np.log(sz) + (1 - tv) * np.log(1 - sz))]
    for got, want in zip(f(pv, zv, tv), expected):
        assert_close(got, want)


def test_sigmoid_binary_crossentropy_is_stable(backend):
    z = T.dvector("z")
    t = T.dvector("t")
    f = graphc.function([z, t], T.nnet.sigmoid_binary_crossentropy(z, t), backend=backend)
    got = f(np.array([-800.0, 800.0, 50.0]), np.array([1.0, 0.0, 1.0]))
    assert_close(got, [800.0, 800.0, np.log1p(np.exp(-50.0))])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_binary_crossentropy_keeps_small_losses_and_the_gradient_at_zero(backend,
                                                                                   dtype):
    # A large, right logit has a tiny loss, which must not cancel to 0; at a zero
    # logit (zero-initialized weights) the gradient is sigmoid(0) - t exactly.
    z, t = T.vector("z", dtype=dtype), T.vector("t", dtype=dtype)
    loss = T.nnet.sigmoid_binary_crossentropy(z, t)
    f = graphc.function([z, t], [loss, graphc.grad(loss.sum(), z)], backend=backend)
    zv = np.array([20.0, 30.0, -20.0, 0.0, 0.0, 3.0, -3.0], dtype=dtype)
    tv = np.array([1.0, 1.0, 0.0, 1.0, 0.25, 0.3, 0.6], dtype=dtype)
    got, grad = f(zv, tv)
    z64, t64 = zv.astype("float64"), tv.astype("float64")
    exact = np.maximum(z64, 0) - t64 * z64 + np.log1p(np.exp(-np.abs(z64)))
    np.testing.assert_allclose(got, exact, rtol=1e-6 if dtype == "float32" else 1e-13)
    np.testing.assert_allclose(grad, 1 / (1 + np.exp(-z64)) - t64, rtol=1e-6, atol=1e-7)


def test_crossentropy_label_errors(backend):
    x = T.dmatrix("x")
    y = T.ivector("y")
    f = graphc.function([x, y], T.nnet.categorical_crossentropy(T.nnet.softmax(x), y),
                        backend=backend)
    with pytest.raises(graphc.GraphcError):
        f(np.zeros((2, 3)), np.array([0, 3], dtype="int32"))
    with pytest.raises(graphc.GraphcError, match="must be integers"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.dvector())
    with pytest.raises(graphc.GraphcError, match="ndim"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.itensor3())


def test_log_softmax_and_crossentropy_of_large_logits_keep_their_precision(backend):
    # (x - max) - log(sum), not x - (max + log(sum)): a row of 3e7s gave -2, not -log 3.
    x, y = T.fmatrix("x"), T.ivector("y")
    f = graphc.function([x, y], [T.nnet.log_softmax(x), T.nnet.log_softmax(x, axis=0),
                                 T.nnet.categorical_crossentropy(T.nnet.softmax(x), y)],
                        backend=backend)
    xv = np.float32([[3e7, 3e7, 3e7], [1e6, 1e6, 1e6 - 1]])
    rows, columns, xent = f(xv, np.int32([0, 2]))
    exact = np_log_softmax(xv.astype("float64"))
    np.testing.assert_allclose(rows, exact, rtol=1e-6)
    np.testing.assert_allclose(columns[:, 0], np_log_softmax(xv[:, :1].T.astype("float64"))[0],
                               rtol=1e-6)
    np.testing.assert_allclose(xent, -exact[[0, 1], [0, 2]], rtol=1e-6)


def test_gradient_of_mod_reaches_the_divisor(backend):
    # x % y = x - floor(x / y) * y: d/dy is -floor(x / y) (Theano's rule; it was 0).
    x, y = T.dvector("x"), T.dvector("y")
    gx, gy = graphc.grad((x % y).sum(), [x, y])
    xv, yv = np.array([1.5, -2.3, 3.7]), np.array([0.7, 0.9, -1.1])
    got = graphc.function([x, y], [gx, gy], backend=backend)(xv, yv)
    assert_close(got[0], np.ones(3))
    assert_close(got[1], -np.floor(xv / yv))
    graphc.verify_grad(lambda a, b: a % b, [xv, yv], rng=np.random.default_rng(3))


def test_categorical_crossentropy_checks_its_labels(backend):
    # A loss's integer targets get no NumPy indexing semantics: -1 is not the last
    # class and one label is not reused for every row (both trained silently once),
    # with or without the softmax fusion, forward and backward.
    P, X, y = T.fmatrix("P"), T.fmatrix("X"), T.ivector("y")
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "float32")
    fused = T.nnet.categorical_crossentropy(T.nnet.softmax(X), y)
    functions = [graphc.function([P, y], T.nnet.categorical_crossentropy(P, y),
                                 backend=backend),
                 graphc.function([X, y], fused, backend=backend),
                 graphc.function([X, y], fused, backend=backend, optimizer=None),
                 graphc.function([X, y], graphc.grad(fused.mean(), X), backend=backend)]
    assert_close(functions[0](probs, np.int32([0, 2])), -np.log([0.7, 0.8]))
    for bad, message in (([0, -1], "label -1"), ([0], "1 labels for 2 rows"),
                         ([0, 3], "label 3"), ([0, 1, 2], "3 labels for 2 rows")):
        for f in functions:
            with pytest.raises(graphc.GraphcError, match=message):
                f(probs, np.int32(bad))


def test_indexed_log_softmax_keeps_numpy_indexing(backend, rng):
    # -log(softmax(x))[arange(len(y)), y] becomes one cross-entropy op; it must
    # still mean what NumPy's indexing means: fewer labels than rows use the first
    # rows, a negative label counts from the last class.
    x, y = T.dmatrix("x"), T.ivector("y")
    cost = -T.log(T.nnet.softmax(x))[T.arange(y.shape[0]), y]
    f = graphc.function([x, y], [cost, graphc.grad(cost.sum(), x)], backend=backend)
    assert any(type(n.op).__name__ == "SoftmaxCrossentropy" for n in f.fgraph.toposort())
    xv = rng.normal(size=(4, 5))
    for labels in ([0, 3, 4], [0, -1, 2, -5]):
        yv = np.array(labels, dtype="int32")
        value, grad = f(xv, yv)
        n = len(labels)
        assert_close(value, -np_log_softmax(xv)[np.arange(n), yv])
        expected = np.zeros_like(xv)
        expected[:n] = np_softmax(xv[:n])
        expected[np.arange(n), yv] -= 1
        assert_close(grad, expected)
    for bad in ([0, 1, 2, 3, 0], [5], [-6]):     # more labels than rows, out of range
        with pytest.raises(graphc.GraphcError):
            f(xv, np.array(bad, dtype="int32"))


def test_logsumexp_in_nnet(backend, rng):
    x = T.dmatrix("x")
    f = graphc.function([x], T.nnet.logsumexp(x, axis=1), backend=backend)
    xv = rng.normal(size=(3, 4))
    assert_close(f(xv), np.log(np.exp(xv).sum(1)))
    # Of a scalar: the scalar (log(exp(s)) without rounding), as the other reductions.
    s = T.dscalar("s")
    g = graphc.function([s], T.logsumexp(s), backend=backend)
    for value in (2.5, -np.inf, np.inf):
        assert g(value) == value


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_row_kernels_on_large_inputs(backend, rng, dtype):
    # 300 x 200 is above the numba backend's PARALLEL_MIN: the rows run on every
    # core there. Special rows check that the vectorized max (which skips NaN)
    # still lets a NaN reach the result, and that +-inf rows match NumPy.
    x = T.tensor(dtype, shape=(None, None), name="x")
    f = graphc.function([x], [T.nnet.softmax(x), T.nnet.log_softmax(x),
                              T.logsumexp(x, axis=1)], backend=backend)
    xv = rng.normal(scale=4, size=(300, 200)).astype(dtype)
    xv[3, 17] = np.nan
    xv[5, 0] = np.inf
    xv[7, :] = -np.inf
    xv[9, 199] = 80.0
    x64 = xv.astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(np.isfinite(x64.max(1, keepdims=True)), x64.max(1, keepdims=True), 0)
        lse = np.log(np.exp(x64 - shift).sum(1)) + shift[:, 0]
        want = [np_softmax(x64), np_log_softmax(x64), lse]
    for got, ref in zip(f(xv), want):
        assert got.dtype == dtype
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        finite = np.isfinite(ref)
        assert_close(got[finite], ref[finite], dtype)
        np.testing.assert_array_equal(got[~finite & ~np.isnan(ref)],
                                      ref[~finite & ~np.isnan(ref)])
