"""T.nnet.conv2d, pool_2d and batch_normalization against plain float64 loops."""
import itertools

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from conftest import assert_close
from graphc.errors import GraphcError, GraphcTypeError, GraphcValueError, ShapeError


# ------------------------------------------------------------ references
def ref_conv2d(x, w, border_mode="valid", subsample=(1, 1), dilation=(1, 1), flip=False):
    """A direct loop correlation in float64 (Theano's conv2d semantics)."""
    x, w = np.asarray(x, "float64"), np.asarray(w, "float64")
    if flip:
        w = w[:, :, ::-1, ::-1]
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    eh, ew = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    if border_mode == "valid":
        ph, pw = 0, 0
    elif border_mode == "full":
        ph, pw = eh - 1, ew - 1
    elif border_mode == "half":
        ph, pw = eh // 2, ew // 2
    elif isinstance(border_mode, int):
        ph = pw = border_mode
    else:
        ph, pw = border_mode
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh = (h + 2 * ph - eh) // subsample[0] + 1
    ow = (wd + 2 * pw - ew) // subsample[1] + 1
    out = np.zeros((n, o, oh, ow))
    for b, f, r, q in itertools.product(range(n), range(o), range(oh), range(ow)):
        total = 0.0
        for ch, i, j in itertools.product(range(c), range(kh), range(kw)):
            total += (xp[b, ch, r * subsample[0] + i * dilation[0],
                         q * subsample[1] + j * dilation[1]] * w[f, ch, i, j])
        out[b, f, r, q] = total
    return out


def ref_pool(x, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """Theano's pooling rules, one window at a time, in float64."""
    x = np.asarray(x, "float64")
    stride = ws if stride is None else stride
    h, w = x.shape[-2:]
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]

    def out_len(length, k, s):
        if ignore_border:
            return max((length - k) // s + 1, 0)
        if s >= k:
            return (length - 1) // s + 1
        return max(0, (length - 1 - k) // s + 1) + 1

    oh, ow = out_len(hp, ws[0], stride[0]), out_len(wp, ws[1], stride[1])
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for lead in np.ndindex(*x.shape[:-2]):
        for r, q in itertools.product(range(oh), range(ow)):
            # The window in padded coordinates, clipped to the padded image...
            r0, c0 = r * stride[0], q * stride[1]
            r1, c1 = min(r0 + ws[0], hp), min(c0 + ws[1], wp)
            inc_count = (r1 - r0) * (c1 - c0)
            # ... and its part on the real image.
            rr0, cc0 = max(r0, pad[0]) - pad[0], max(c0, pad[1]) - pad[1]
            rr1, cc1 = min(r1, h + pad[0]) - pad[0], min(c1, w + pad[1]) - pad[1]
            block = x[lead][rr0:rr1, cc0:cc1]
            if mode == "max":
                out[lead + (r, q)] = block.max()
            elif mode == "average_inc_pad":
                out[lead + (r, q)] = block.sum() / inc_count
            else:
                out[lead + (r, q)] = block.sum() / block.size
    return out


# -------------------------------------------------------------- conv2d
CONV_CASES = [
    # (x shape, w shape, keyword arguments)
    ((2, 3, 7, 6), (4, 3, 3, 2), dict(border_mode="valid")),
    ((2, 3, 7, 6), (4, 3, 3, 2), dict(border_mode="full")),
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(border_mode="half")),
    ((1, 2, 6, 6), (3, 2, 2, 4), dict(border_mode="half")),
    ((2, 2, 6, 5), (3, 2, 3, 3), dict(border_mode=1)),
    ((2, 2, 6, 5), (3, 2, 3, 3), dict(border_mode=(2, 0))),
    ((2, 2, 9, 8), (3, 2, 3, 3), dict(subsample=(2, 3))),
    ((2, 2, 9, 8), (3, 2, 3, 3), dict(border_mode="full", subsample=(2, 2))),
    ((2, 2, 9, 9), (3, 2, 3, 2), dict(filter_dilation=(2, 3))),
    ((1, 2, 9, 9), (2, 2, 3, 3), dict(border_mode="half", filter_dilation=(2, 2),
                                      subsample=(2, 1))),
    ((2, 3, 5, 5), (2, 3, 3, 3), dict(filter_flip=True)),
    ((2, 3, 5, 5), (2, 3, 3, 2), dict(border_mode="full", filter_flip=True, subsample=2)),
]


def _ref_kwargs(kwargs):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    return dict(border_mode=kwargs.get("border_mode", "valid"),
                subsample=pair(kwargs.get("subsample", (1, 1))),
                dilation=pair(kwargs.get("filter_dilation", (1, 1))),
                flip=kwargs.get("filter_flip", False))


def test_conv2d_values(backend, rng):
    # One compiled function for every case keeps the number of compiles small.
    xs = [T.dtensor4(f"x{k}") for k in range(len(CONV_CASES))]
    ws = [T.dtensor4(f"w{k}") for k in range(len(CONV_CASES))]
    outs = [T.nnet.conv2d(x, w, **kw) for x, w, (_, _, kw) in zip(xs, ws, CONV_CASES)]
    f = graphc.function(xs + ws, outs, backend=backend)
    xv = [rng.normal(size=xshape) for xshape, _, _ in CONV_CASES]
    wv = [rng.normal(size=wshape) for _, wshape, _ in CONV_CASES]
    for k, got in enumerate(f(*xv, *wv)):
        want = ref_conv2d(xv[k], wv[k], **_ref_kwargs(CONV_CASES[k][2]))
        assert got.shape == want.shape, (k, CONV_CASES[k])
        assert_close(got, want)


def test_conv2d_float32_and_static_shape(backend, rng):
    x = T.tensor("float32", shape=(None, 1, 8, 8), name="x")
    w = T.tensor("float32", shape=(4, 1, 3, 3), name="w")
    y = T.nnet.conv2d(x, w, border_mode="half", subsample=(2, 2))
    assert y.dtype == "float32"
    assert y.type.shape == (None, 4, 4, 4)
    xv = rng.normal(size=(5, 1, 8, 8)).astype("float32")
    wv = rng.normal(size=(4, 1, 3, 3)).astype("float32")
    got = graphc.function([x, w], y, backend=backend)(xv, wv)
    assert got.dtype == np.float32
    assert_close(got, ref_conv2d(xv, wv, "half", (2, 2)))


def test_conv2d_static_shapes_of_border_modes():
    x = T.tensor("float64", shape=(2, 3, 10, 9))
    w = T.tensor("float64", shape=(5, 3, 3, 4))
    assert T.nnet.conv2d(x, w).type.shape == (2, 5, 8, 6)
    assert T.nnet.conv2d(x, w, border_mode="full").type.shape == (2, 5, 12, 12)
    assert T.nnet.conv2d(x, w, border_mode="half").type.shape == (2, 5, 10, 10)
    assert T.nnet.conv2d(x, w, border_mode=(1, 2), subsample=(2, 3)).type.shape == \
        (2, 5, 5, 4)
    assert T.nnet.conv2d(x, w, filter_dilation=2).type.shape == (2, 5, 6, 3)
    # Unknown lengths stay unknown.
    assert T.nnet.conv2d(T.dtensor4(), w).type.shape == (None, 5, None, None)


def test_conv2d_shape_errors_at_build_time():
    x = T.tensor("float64", shape=(2, 3, 6, 6), name="x")
    with pytest.raises(ShapeError, match=r"Conv2d.*\(2, 3, 6, 6\).*\(4, 2, 3, 3\)"):
        T.nnet.conv2d(x, T.tensor("float64", shape=(4, 2, 3, 3)))
    with pytest.raises(ShapeError, match=r"too small"):
        T.nnet.conv2d(x, T.tensor("float64", shape=(4, 3, 8, 3)))
    with pytest.raises(GraphcTypeError, match="4-d"):
        T.nnet.conv2d(T.dmatrix(), T.dtensor4())
    with pytest.raises(GraphcValueError, match="border_mode"):
        T.nnet.conv2d(x, T.dtensor4(), border_mode="same")
    with pytest.raises(GraphcValueError, match="subsample"):
        T.nnet.conv2d(x, T.dtensor4(), subsample=(0, 1))
    with pytest.raises(ShapeError, match="input_shape"):
        T.nnet.conv2d(x, T.dtensor4(), input_shape=(2, 3, 5, 6))
    with pytest.raises(GraphcTypeError, match="unexpected"):
        T.nnet.conv2d(x, T.dtensor4(), stride=2)
    # Hints that agree (None for unknown) are accepted.
    T.nnet.conv2d(x, T.dtensor4(), input_shape=(None, 3, 6, 6), filter_shape=(4, 3, 3, 3))


def test_conv2d_shape_errors_at_run_time():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    f = graphc.function([x, w], T.nnet.conv2d(x, w), backend="python")
    with pytest.raises(ShapeError, match=r"Conv2d.*\(1, 3, 5, 5\).*\(2, 2, 3, 3\)"):
        f(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)))
    with pytest.raises(GraphcError, match="too small"):
        f(np.zeros((1, 2, 2, 5)), np.zeros((2, 2, 3, 3)))


@pytest.mark.parametrize("kwargs", [
    dict(border_mode="valid"),
    dict(border_mode="full", subsample=(2, 1)),
    dict(border_mode="half", filter_dilation=(2, 1)),
    dict(border_mode=(1, 2), subsample=(2, 2), filter_flip=True),
])
def test_conv2d_grad(kwargs, rng):
    xv = rng.normal(size=(2, 2, 6, 5))
    wv = rng.normal(size=(3, 2, 3, 2))
    graphc.verify_grad(lambda x, w: T.nnet.conv2d(x, w, **kwargs), [xv, wv], rng=rng)


def test_conv2d_grad_values_and_second_order(rng):
    # The gradient ops against the loop reference: d sum(conv * G) / dx and / dw.
    x, w = T.dtensor4("x"), T.dtensor4("w")
    g = T.dtensor4("g")
    kw = dict(border_mode=1, subsample=(2, 1))
    cost = (T.nnet.conv2d(x, w, **kw) * g).sum()
    gx, gw = graphc.grad(cost, [x, w])
    f = graphc.function([x, w, g], [gx, gw], backend="python")
    xv, wv = rng.normal(size=(1, 2, 5, 4)), rng.normal(size=(2, 2, 3, 2))
    gv = rng.normal(size=ref_conv2d(xv, wv, 1, (2, 1)).shape)
    got_x, got_w = f(xv, wv, gv)
    eps = 1e-6
    for point, got, index in ((xv, got_x, (0, 1, 2, 3)), (wv, got_w, (1, 0, 2, 1))):
        plus, minus = point.copy(), point.copy()
        plus[index] += eps
        minus[index] -= eps
        args_p = (plus, wv) if point is xv else (xv, plus)
        args_m = (minus, wv) if point is xv else (xv, minus)
        numeric = ((ref_conv2d(*args_p, 1, (2, 1)) * gv).sum()
                   - (ref_conv2d(*args_m, 1, (2, 1)) * gv).sum()) / (2 * eps)
        assert abs(got[index] - numeric) < 1e-6
    # The gradient ops have gradients of their own (a Hessian-vector product).
    graphc.verify_grad(lambda a, b: graphc.grad((T.nnet.conv2d(a, b, **kw) ** 2).sum(), a),
                       [xv, wv], rng=rng)


# -------------------------------------------------------------- pooling
POOL_CASES = [
    # (x shape, keyword arguments)
    ((2, 3, 6, 6), dict(ws=(2, 2))),
    ((2, 3, 7, 5), dict(ws=(2, 2))),
    ((2, 3, 7, 5), dict(ws=(2, 2), ignore_border=False)),
    ((2, 2, 7, 8), dict(ws=(3, 2), stride=(2, 1))),
    ((2, 2, 7, 8), dict(ws=(3, 3), stride=(2, 2), ignore_border=False)),
    ((2, 2, 6, 7), dict(ws=(3, 3), stride=(1, 2), pad=(1, 2))),
    ((2, 2, 5, 5), dict(ws=(2, 3), pad=(1, 1))),
    ((3, 4, 5), dict(ws=(2, 2), stride=(1, 1))),
    ((4, 5), dict(ws=(2, 3), ignore_border=False)),
]
POOL_MODES = ["max", "average_inc_pad", "average_exc_pad"]


def test_pool_values(backend, rng):
    cases = [(shape, dict(kw, mode=mode)) for shape, kw in POOL_CASES for mode in POOL_MODES]
    xs = [T.tensor("float64", shape=(None,) * len(shape), name=f"x{k}")
          for k, (shape, _) in enumerate(cases)]
    outs = [T.nnet.pool_2d(x, **kw) for x, (_, kw) in zip(xs, cases)]
    f = graphc.function(xs, outs, backend=backend)
    xv = [rng.normal(size=shape) for shape, _ in cases]
    for k, got in enumerate(f(*xv)):
        want = ref_pool(xv[k], **cases[k][1])
        assert got.shape == want.shape, cases[k]
        assert_close(got, want)


def test_pool_old_names_dtypes_and_static_shape(backend, rng):
    x = T.tensor("float32", shape=(None, 2, 7, 7), name="x")
    a = T.nnet.pool_2d(x, ds=(2, 2), st=(2, 2), padding=(1, 1), mode="average_exc_pad")
    b = T.nnet.pool_2d(x, (3, 3), ignore_border=False, stride=(2, 2))
    c = T.nnet.pool_2d(T.imatrix("i"), (2, 2))
    assert (a.type.shape, b.type.shape) == ((None, 2, 4, 4), (None, 2, 3, 3))
    assert (a.dtype, b.dtype, c.dtype) == ("float32", "float32", "int32")
    f = graphc.function([x, c.owner.inputs[0]], [a, b, c], backend=backend)
    xv = rng.normal(size=(3, 2, 7, 7)).astype("float32")
    iv = rng.integers(-50, 50, size=(5, 4)).astype("int32")
    got_a, got_b, got_c = f(xv, iv)
    assert_close(got_a, ref_pool(xv, (2, 2), True, (2, 2), (1, 1), "average_exc_pad"))
    assert_close(got_b, ref_pool(xv, (3, 3), False, (2, 2)))
    np.testing.assert_array_equal(got_c, ref_pool(iv, (2, 2)))


def test_pool_from_theanos_signal_path(backend):
    # Theano code imports pooling as ``from theano.tensor.signal import pool``.
    from graphc.tensor.signal import pool
    x = T.ftensor4("x")
    f = graphc.function([x], pool.pool_2d(x, ws=(2, 2), ignore_border=True), backend=backend)
    xv = np.arange(32, dtype="float32").reshape(1, 2, 4, 4)
    assert_close(f(xv), ref_pool(xv, (2, 2)))


def test_pool_window_larger_than_input_is_empty():
    x = T.tensor("float64", shape=(1, 1, 2, 2))
    y = T.nnet.pool_2d(x, (3, 3))
    assert y.type.shape == (1, 1, 0, 0)
    f = graphc.function([x], y, backend="python")
    assert f(np.ones((1, 1, 2, 2))).shape == (1, 1, 0, 0)
    # Without ignore_border the partial window is kept.
    z = graphc.function([x], T.nnet.pool_2d(x, (3, 3), ignore_border=False),
                        backend="python")(np.arange(4.0).reshape(1, 1, 2, 2))
    assert_close(z, [[[[3.0]]]])


def test_pool_errors():
    x = T.dtensor4("x")
    with pytest.raises(GraphcTypeError, match="at least 2 axes"):
        T.nnet.pool_2d(T.dvector(), (2, 2))
    with pytest.raises(GraphcValueError, match="mode"):
        T.nnet.pool_2d(x, (2, 2), mode="sum_of_squares")
    with pytest.raises(GraphcValueError, match="smaller than the window"):
        T.nnet.pool_2d(x, (2, 2), pad=(2, 0))
    with pytest.raises(GraphcValueError, match="ignore_border"):
        T.nnet.pool_2d(x, (2, 2), pad=(1, 1), ignore_border=False)
    with pytest.raises(GraphcValueError, match="ws"):
        T.nnet.pool_2d(x, (0, 2))
    with pytest.raises(GraphcTypeError, match="ws"):
        T.nnet.pool_2d(x, (2, 2), ds=(2, 2))


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("kwargs", [
    dict(ws=(2, 2)),
    dict(ws=(3, 2), stride=(2, 1), pad=(1, 1)),
    dict(ws=(3, 3), stride=(2, 2), ignore_border=False),
])
def test_pool_grad(mode, kwargs):
    # Distinct, well separated values: no ties, and no max changes under eps.
    rng = np.random.default_rng(7)
    xv = rng.permutation(2 * 2 * 6 * 5).reshape(2, 2, 6, 5) * 0.1
    graphc.verify_grad(lambda x: T.nnet.pool_2d(x, mode=mode, **kwargs), [xv], rng=rng)


def test_max_pool_grad_goes_to_every_tied_maximum():
    x = T.dmatrix("x")
    g = graphc.grad(T.nnet.pool_2d(x, (2, 2)).sum(), x)
    xv = np.array([[1.0, 3.0, 0.0, 0.0], [3.0, 2.0, 0.0, -1.0]])
    got = graphc.function([x], g, backend="python")(xv)
    assert_close(got, [[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0]])


def test_average_pool_second_order():
    rng = np.random.default_rng(3)
    xv = rng.normal(size=(1, 1, 4, 5))
    graphc.verify_grad(
        lambda x: graphc.grad((T.nnet.pool_2d(x, (2, 2), mode="average_inc_pad",
                                              pad=(1, 1)) ** 2).sum(), x), [xv], rng=rng)


# --------------------------------------------------- batch normalization
def test_batch_normalization(backend, rng):
    x = T.dmatrix("x")
    gamma, beta = T.dvector("gamma"), T.dvector("beta")
    mean, std = x.mean(axis=0), x.std(axis=0)
    y = T.nnet.batch_normalization(x, gamma, beta, mean, std)
    f = graphc.function([x, gamma, beta], y, backend=backend)
    xv, gv, bv = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=3)
    want = (xv - xv.mean(0)) * (gv / xv.std(0)) + bv
    assert_close(f(xv, gv, bv), want)
    graphc.verify_grad(lambda a, g, b: T.nnet.batch_normalization(
        a, g, b, a.mean(axis=0), a.std(axis=0) + 0.1), [xv, gv, bv], rng=rng)


# ------------------------------------------------------------ a small net
def test_small_convnet_trains(rng):
    # conv -> relu -> max pool -> dense -> softmax on separable 6x6 images.
    n = 40
    labels = rng.integers(0, 2, size=n).astype("int64")
    images = rng.normal(scale=0.3, size=(n, 1, 6, 6))
    images[labels == 1, :, :3, :] += 1.0
    x, y = T.dtensor4("x"), T.lvector("y")
    w = graphc.shared(rng.normal(scale=0.3, size=(4, 1, 3, 3)), name="w")
    v = graphc.shared(rng.normal(scale=0.1, size=(4 * 3 * 3, 2)), name="v")
    hidden = T.nnet.pool_2d(T.nnet.relu(T.nnet.conv2d(x, w, border_mode="half")), (2, 2))
    p = T.nnet.softmax(hidden.flatten(2).dot(v))
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    gw, gv = graphc.grad(loss, [w, v])
    train = graphc.function([x, y], loss, updates=[(w, w - 0.5 * gw), (v, v - 0.5 * gv)],
                            backend="python")
    first = train(images, labels)
    for _ in range(30):
        last = train(images, labels)
    assert last < 0.5 * first


def test_bn_train_and_test_follow_theano(backend, rng):
    # Theano's T.nnet.bn: "spatial" normalizes over the batch and the pixels of each
    # channel; gamma and beta as (1, C, 1, 1); the running variance is unbiased.
    from graphc.tensor.nnet import bn
    x = T.dtensor4("x")
    gamma, beta = T.dtensor4("gamma"), T.dtensor4("beta")
    r_mean, r_var = T.dtensor4("r_mean"), T.dtensor4("r_var")
    out, mean, invstd, new_mean, new_var = bn.batch_normalization_train(
        x, gamma, beta, "spatial", 1e-3, 0.2, r_mean, r_var)
    test_out = bn.batch_normalization_test(x, gamma, beta, r_mean, r_var, "spatial", 1e-3)
    per_activation = bn.batch_normalization_train(x[:, :, 0, 0], gamma[0, :, 0, 0],
                                                  beta[0, :, 0, 0])[0]
    f = graphc.function([x, gamma, beta, r_mean, r_var],
                        [out, mean, invstd, new_mean, new_var, test_out, per_activation],
                        backend=backend)
    xv = rng.normal(2.0, 3.0, size=(4, 3, 2, 5))
    gv, bv = rng.normal(size=(1, 3, 1, 1)), rng.normal(size=(1, 3, 1, 1))
    mv, vv = rng.normal(size=(1, 3, 1, 1)), rng.uniform(0.5, 2, size=(1, 3, 1, 1))
    got = f(xv, gv, bv, mv, vv)
    m = xv.mean(axis=(0, 2, 3), keepdims=True)
    v = xv.var(axis=(0, 2, 3), keepdims=True)
    flat = xv[:, :, 0, 0]
    flat_out = ((flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-4) * gv[0, :, 0, 0]
                + bv[0, :, 0, 0])
    want = [(xv - m) / np.sqrt(v + 1e-3) * gv + bv, m, 1 / np.sqrt(v + 1e-3),
            0.8 * mv + 0.2 * m, 0.8 * vv + 0.2 * v * 40 / 39,
            (xv - mv) * gv / np.sqrt(vv + 1e-3) + bv, flat_out]
    for a, b in zip(got, want):
        assert_close(a, b)
    graphc.verify_grad(lambda a, g, b: bn.batch_normalization_train(a, g, b, "spatial")[0],
                       [xv, gv, bv], rng=rng)
