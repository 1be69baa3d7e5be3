"""Layers: output shapes against compiled outputs, values against NumPy float64,
parameters and their tags, dropout, batch normalization and an end-to-end MLP."""
import pickle

import numpy as np
import pytest

import graphc
import graphc.tensor as T
import graphc.nn as lasagne
from graphc.datasets import iterate_minibatches, load_digits
from graphc.nn import layers as L

from conftest import assert_close


@pytest.fixture(autouse=True)
def seeded():
    lasagne.random.set_rng(np.random.RandomState(0))


def _loop_conv(x, w, stride, pad):
    """Reference 2-d correlation with explicit loops (float64)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * pad[0], wd + 2 * pad[1]))
    xp[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x
    out_h = (xp.shape[2] - kh) // stride[0] + 1
    out_w = (xp.shape[3] - kw) // stride[1] + 1
    out = np.zeros((n, f, out_h, out_w))
    for b in range(n):
        for o in range(f):
            for i in range(out_h):
                for j in range(out_w):
                    r, s = i * stride[0], j * stride[1]
                    out[b, o, i, j] = np.sum(xp[b, :, r:r + kh, s:s + kw] * w[o])
    return out


def _loop_pool(x, ws, stride, pad, mode):
    n, c, h, wd = x.shape
    out_h = (h + 2 * pad[0] - ws[0]) // stride[0] + 1
    out_w = (wd + 2 * pad[1] - ws[1]) // stride[1] + 1
    out = np.zeros((n, c, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            r0, s0 = i * stride[0] - pad[0], j * stride[1] - pad[1]
            r1, s1 = r0 + ws[0], s0 + ws[1]
            window = x[:, :, max(r0, 0):min(r1, h), max(s0, 0):min(s1, wd)]
            if mode == "max":
                out[:, :, i, j] = window.max(axis=(2, 3))
            elif mode == "average_inc_pad":
                out[:, :, i, j] = window.sum(axis=(2, 3)) / (ws[0] * ws[1])
            else:
                out[:, :, i, j] = window.mean(axis=(2, 3))
    return out


# ------------------------------------------------------------- default_update
def test_function_applies_default_updates():
    counter = graphc.shared(np.float32(0), name="counter")
    counter.default_update = counter + 1
    x = T.scalar("x")
    f = graphc.function([x], x + counter, backend="python")
    assert f(1) == 1 and f(1) == 2 and counter.get_value() == 2
    # Switched off, or overridden by an explicit update.
    graphc.function([x], x + counter, backend="python", no_default_updates=True)(1)
    assert counter.get_value() == 2
    graphc.function([x], x + counter, backend="python", no_default_updates=[counter])(1)
    assert counter.get_value() == 2
    graphc.function([x], x + counter, updates=[(counter, counter * 10)],
                    backend="python")(1)
    assert counter.get_value() == 20
    # A function that does not read the variable does not update it.
    graphc.function([x], x * 2, backend="python")(1)
    assert counter.get_value() == 20
    restored = pickle.loads(pickle.dumps(counter))
    assert restored.default_update is not None


def test_alias_shares_storage_and_keeps_its_own_default_update():
    running = graphc.shared(np.zeros(2, "float32"))
    alias = running.alias()
    alias.default_update = alias + 1
    x = T.vector("x")
    graphc.function([x], x + 0 * alias, backend="python")(np.zeros(2, "float32"))
    np.testing.assert_array_equal(running.get_value(), [1, 1])
    # Reading the original does not pick up the alias's default update.
    graphc.function([x], x + running, backend="python")(np.zeros(2, "float32"))
    np.testing.assert_array_equal(running.get_value(), [1, 1])
    running.set_value(np.full(2, 5, "float32"))
    np.testing.assert_array_equal(alias.get_value(), [5, 5])


# ------------------------------------------------------------------ structure
def test_input_layer():
    l_in = L.InputLayer((None, 3, 1))
    assert l_in.output_shape == (None, 3, 1)
    assert l_in.input_var.ndim == 3 and l_in.input_var.dtype == graphc.config.floatX
    assert L.get_output(l_in) is l_in.input_var
    x = T.matrix("x")
    assert L.InputLayer((5, 2), input_var=x).input_var is x
    with pytest.raises(ValueError):
        L.InputLayer((None, 2), input_var=T.tensor3())
    with pytest.raises(ValueError):
        L.InputLayer((None, 0))


def test_add_param_accepts_initializer_array_and_shared():
    layer = L.Layer((None, 4), name="lay")
    a = layer.add_param(lasagne.init.Constant(2.0), (4, 3), name="a")
    b = layer.add_param(np.ones((3,), "float64"), (3,), name="b", regularizable=False)
    shared = graphc.shared(np.zeros((2, 2), "float32"), name="mine")
    c = layer.add_param(shared, (2, 2), name="c", trainable=False, custom=True)
    assert a.name == "lay.a" and a.get_value().dtype == graphc.config.floatX
    assert b.get_value().dtype == np.float64
    assert c is shared and c.name == "mine"
    assert layer.params[a] == {"trainable", "regularizable"}
    assert layer.params[b] == {"trainable"}
    assert layer.params[c] == {"regularizable", "custom"}
    assert layer.get_params(trainable=True) == [a, b]
    assert layer.get_params(regularizable=False) == [b]
    assert layer.get_params(custom=True) == [c]
    with pytest.raises(ValueError):
        layer.add_param(np.ones((2,)), (3,))
    with pytest.raises(ValueError):
        layer.add_param(graphc.shared(np.ones((2,))), (2, 2))
    with pytest.raises(TypeError):
        layer.add_param("nonsense", (2,))


def test_param_expression_unwraps_to_shared():
    base = graphc.shared(np.ones((4, 2), "float32"), name="base")
    layer = L.DenseLayer((None, 4), 2, W=base * 2)
    assert layer.get_params() == [base, layer.b]
    assert layer.get_params(unwrap_shared=False)[0] is layer.W


def test_get_all_params_order_tags_and_counts():
    l_in = L.InputLayer((None, 1, 8, 8))
    l_conv = L.Conv2DLayer(l_in, 4, 3, name="conv")
    l_bn = L.BatchNormLayer(l_conv, name="bn")
    l_hid = L.DenseLayer(l_bn, 5, name="hid")
    l_out = L.DenseLayer(l_hid, 3, b=None, name="out")
    names = [p.name for p in L.get_all_params(l_out)]
    assert names == ["conv.W", "conv.b", "bn.beta", "bn.gamma", "bn.mean", "bn.inv_std",
                     "hid.W", "hid.b", "out.W"]
    assert [p.name for p in L.get_all_params(l_out, trainable=True)] == [
        "conv.W", "conv.b", "bn.beta", "bn.gamma", "hid.W", "hid.b", "out.W"]
    assert [p.name for p in L.get_all_params(l_out, regularizable=True)] == [
        "conv.W", "bn.gamma", "hid.W", "out.W"]
    assert [p.name for p in L.get_all_params(l_out, trainable=True, regularizable=False)] \
        == ["conv.b", "bn.beta", "hid.b"]
    assert L.get_all_layers(l_out) == [l_in, l_conv, l_bn, l_hid, l_out]
    assert L.get_all_layers(l_out, treat_as_input=[l_bn]) == [l_bn, l_hid, l_out]
    conv_count = 4 * 1 * 3 * 3 + 4
    bn_count = 4 * 4
    hid_count = 4 * 6 * 6 * 5 + 5
    assert L.count_params(l_out) == conv_count + bn_count + hid_count + 5 * 3
    assert L.count_params(l_out, trainable=True) == conv_count + 8 + hid_count + 15
    # A layer shared twice in a graph (a merge) gives its parameters once.
    merged = L.ElemwiseSumLayer([l_hid, l_hid])
    assert len(L.get_all_params(merged)) == len(L.get_all_params(l_hid))


def test_param_values_round_trip_and_errors():
    l_in = L.InputLayer((None, 6))
    net = L.DenseLayer(L.DenseLayer(l_in, 4), 2)
    values = L.get_all_param_values(net)
    assert [v.shape for v in values] == [(6, 4), (4,), (4, 2), (2,)]
    other = L.DenseLayer(L.DenseLayer(L.InputLayer((None, 6)), 4), 2)
    L.set_all_param_values(other, values)
    for a, b in zip(L.get_all_param_values(other), values):
        np.testing.assert_array_equal(a, b)
    # The values survive pickling, as a saved model would.
    restored = pickle.loads(pickle.dumps(values))
    L.set_all_param_values(other, [v * 0 for v in restored])
    assert all(np.all(v == 0) for v in L.get_all_param_values(other))
    with pytest.raises(ValueError, match="2 values to set 4 parameters"):
        L.set_all_param_values(net, values[:2])
    with pytest.raises(ValueError, match="shape"):
        L.set_all_param_values(net, [np.zeros((4, 6))] + values[1:])
    assert len(L.get_all_param_values(net, regularizable=True)) == 2


def test_shape_errors():
    with pytest.raises(ValueError):
        L.DenseLayer((None, None), 3)
    with pytest.raises(ValueError):
        L.DenseLayer((None, 3), 3, num_leading_axes=2)
    with pytest.raises(ValueError):
        L.Conv2DLayer((None, 3, 8), 2, 3)
    with pytest.raises(NotImplementedError):
        L.Conv2DLayer((None, 3, 8, 8), 2, 2, pad="same")
    with pytest.raises(ValueError):
        L.ReshapeLayer((None, 10), (3, -1, -1))
    with pytest.raises(ValueError):
        L.ReshapeLayer((None, 10), ([0], 3))


def test_output_shape_arithmetic():
    assert L.conv_output_length(None, 3, 1, 0) is None
    assert [L.conv_output_length(9, 3, s, p) for s, p in
            [(1, "valid"), (1, "full"), (1, "same"), (2, 1), (3, 0)]] == [7, 11, 9, 5, 3]
    assert [L.pool_output_length(9, 3, s, p, ib) for s, p, ib in
            [(3, 0, True), (2, 1, True), (3, 0, False), (2, 0, False)]] == [3, 5, 3, 4]
    l_in = L.InputLayer((None, 3, 10, 10))
    l_conv = L.Conv2DLayer(l_in, 8, (3, 5), stride=(1, 2), pad="full")
    assert l_conv.output_shape == (None, 8, 12, 7)
    assert L.get_output_shape(l_conv, (2, 3, 20, 20)) == (2, 8, 22, 12)
    assert L.get_output_shape([l_in, l_conv], {l_in: (1, 3, 5, 5)}) == [
        (1, 3, 5, 5), (1, 8, 7, 5)]
    assert L.ReshapeLayer(l_in, ([0], -1)).output_shape == (None, 300)
    assert L.ReshapeLayer(l_in, ([0], [2], [3], [1])).output_shape == (None, 10, 10, 3)
    assert L.ReshapeLayer(l_in, (-1, 10)).output_shape == (None, 10)
    assert L.FlattenLayer(l_in, outdim=3).output_shape == (None, 3, 100)
    assert L.DenseLayer(l_in, 7, num_leading_axes=2).output_shape == (None, 3, 7)
    assert L.DenseLayer(l_in, 7, num_leading_axes=-1).output_shape == (None, 3, 10, 7)
    assert L.DimshuffleLayer(l_in, (0, 2, 3, 1)).output_shape == (None, 10, 10, 3)
    assert L.ConcatLayer([l_in, l_in], axis=1).output_shape == (None, 6, 10, 10)


# --------------------------------------------------------------------- values
def test_dense_values(backend, rng):
    l_in = L.InputLayer((None, 2, 3))
    W = rng.normal(size=(6, 4))
    b = rng.normal(size=4)
    dense = L.DenseLayer(l_in, 4, W=W, b=b, nonlinearity=lasagne.nonlinearities.tanh)
    leading = L.DenseLayer(l_in, 4, W=rng.normal(size=(3, 4)), b=None,
                           num_leading_axes=2, nonlinearity=None)
    x = T.dtensor3("x")
    f = graphc.function([x], L.get_output([dense, leading], x), backend=backend)
    xv = rng.normal(size=(5, 2, 3))
    out, out_leading = f(xv)
    assert_close(out, np.tanh(xv.reshape(5, 6) @ W + b))
    assert_close(out_leading, xv @ leading.W.get_value())


def test_network_shapes_match_compiled_outputs(backend, rng):
    l_in = L.InputLayer((None, 1, 12, 12))
    l_conv = L.Conv2DLayer(l_in, 3, 3, pad="same")
    l_pool = L.MaxPool2DLayer(l_conv, 2)
    l_conv2 = L.Conv2DLayer(l_pool, 2, (3, 2), stride=2, pad=1)
    l_avg = L.Pool2DLayer(l_conv2, 2, stride=1, mode="average_exc_pad", ignore_border=False)
    l_flat = L.FlattenLayer(l_avg)
    l_reshape = L.ReshapeLayer(l_flat, ([0], 2, -1))
    l_drop = L.DropoutLayer(l_reshape, p=0.3)
    l_out = L.DenseLayer(l_drop, 5, num_leading_axes=2)
    outputs = L.get_all_layers(l_out)
    f = graphc.function([l_in.input_var], L.get_output(outputs), backend=backend)
    for value, layer in zip(f(rng.normal(size=(4, 1, 12, 12)).astype("float32")), outputs):
        expected = L.get_output_shape(layer, (4, 1, 12, 12))
        assert value.shape == expected, type(layer).__name__
        assert layer.output_shape == (None,) + expected[1:]


@pytest.mark.parametrize("pad, stride, flip", [
    (0, 1, True), ("full", 1, True), ("same", 2, False), ((1, 2), (2, 1), True)])
def test_conv2d_values(backend, rng, pad, stride, flip):
    x = rng.normal(size=(2, 3, 7, 6))
    W = rng.normal(size=(4, 3, 3, 3))
    b = rng.normal(size=4)
    layer = L.Conv2DLayer((None, 3, 7, 6), 4, 3, stride=stride, pad=pad, W=W, b=b,
                          flip_filters=flip, nonlinearity=None)
    xs = T.dtensor4("x")
    result = graphc.function([xs], layer.get_output_for(xs), backend=backend)(x)
    numeric_pad = {"full": (2, 2), "same": (1, 1)}.get(pad) or lasagne.utils.as_tuple(pad, 2)
    # flip_filters=True is a true convolution: a correlation with flipped filters.
    kernel = W[:, :, ::-1, ::-1] if flip else W
    expected = _loop_conv(x, kernel, lasagne.utils.as_tuple(stride, 2), numeric_pad)
    expected += b[None, :, None, None]
    assert result.shape == layer.get_output_shape_for(x.shape)
    assert_close(result, expected)


def test_conv2d_untied_biases(rng):
    layer = L.Conv2DLayer((None, 1, 5, 5), 2, 3, untie_biases=True,
                          b=rng.normal(size=(2, 3, 3)), W=np.zeros((2, 1, 3, 3)),
                          nonlinearity=None)
    xs = T.dtensor4("x")
    result = graphc.function([xs], layer.get_output_for(xs), backend="python")(
        np.ones((2, 1, 5, 5)))
    assert_close(result, np.broadcast_to(layer.b.get_value(), (2, 2, 3, 3)))


@pytest.mark.parametrize("mode", ["max", "average_inc_pad", "average_exc_pad"])
def test_pool_values(backend, rng, mode):
    x = rng.normal(size=(2, 2, 7, 7))
    layer = L.Pool2DLayer((None, 2, 7, 7), 3, stride=2, pad=1, mode=mode)
    xs = T.dtensor4("x")
    result = graphc.function([xs], layer.get_output_for(xs), backend=backend)(x)
    expected = _loop_pool(x, (3, 3), (2, 2), (1, 1), mode)
    assert result.shape == layer.get_output_shape_for(x.shape)
    assert_close(result, expected)


def test_reshape_flatten_nonlinearity_values(rng):
    l_in = L.InputLayer((None, 2, 6))
    l_res = L.ReshapeLayer(l_in, ([0], 3, [1], -1))
    l_flat = L.FlattenLayer(l_res, outdim=2)
    l_nl = L.NonlinearityLayer(l_flat, lasagne.nonlinearities.leaky_rectify)
    x = rng.normal(size=(4, 2, 6)).astype("float32")
    f = graphc.function([l_in.input_var], L.get_output([l_res, l_nl]), backend="python")
    res, nl = f(x)
    np.testing.assert_array_equal(res, x.reshape(4, 3, 2, 2))
    assert_close(nl, np.where(x > 0, x, 0.01 * x).reshape(4, 12))


def test_get_output_inputs_forms(rng):
    l_in = L.InputLayer((None, 3))
    l_hid = L.DenseLayer(l_in, 2, nonlinearity=None)
    l_out = L.DenseLayer(l_hid, 1, nonlinearity=None)
    x = rng.normal(size=(2, 3)).astype("float32")
    expected = x @ l_hid.W.get_value() @ l_out.W.get_value()
    # A numpy array becomes a constant; a dict may start from any layer.
    assert_close(graphc.function([], L.get_output(l_out, x), backend="python")(), expected)
    h = T.matrix("h")
    from_hidden = graphc.function([h], L.get_output(l_out, {l_hid: h}), backend="python")
    assert_close(from_hidden(x[:, :2]), x[:, :2] @ l_out.W.get_value())
    with pytest.warns(UserWarning, match="deterministc"):
        L.get_output(l_out, deterministc=True)
    with pytest.raises(ValueError, match="free-floating"):
        L.get_output(L.DenseLayer((None, 3), 2))


# -------------------------------------------------------------------- dropout
def test_dropout(backend):
    l_in = L.InputLayer((None, 200))
    l_drop = L.DropoutLayer(l_in, p=0.25)
    assert L.get_output(l_drop, deterministic=True) is l_in.input_var
    assert L.get_output(L.DropoutLayer(l_in, p=0)) is l_in.input_var
    f = graphc.function([l_in.input_var], L.get_output(l_drop), backend=backend)
    x = np.ones((50, 200), "float32")
    a, b = f(x), f(x)
    assert a.dtype == np.float32
    # Kept inputs are rescaled by 1 / (1 - p); about p of them are dropped.
    assert set(np.unique(a).tolist()) <= {0.0, np.float32(1 / 0.75)}
    assert abs((a == 0).mean() - 0.25) < 0.02
    assert (a != b).any(), "a new mask at every call"


def test_dropout_shared_axes_and_no_rescale():
    l_in = L.InputLayer((None, 4, 30, 30))
    l_drop = L.dropout(l_in, p=0.5, rescale=False, shared_axes=(2, 3))
    f = graphc.function([l_in.input_var], L.get_output(l_drop), backend="python")
    out = f(np.ones((20, 4, 30, 30), "float32"))
    assert set(np.unique(out).tolist()) <= {0.0, 1.0}
    # One value per feature map.
    assert np.all(out.min(axis=(2, 3)) == out.max(axis=(2, 3)))
    assert 0.2 < out.mean() < 0.8


def test_dropout_seeded_from_lasagne_rng():
    outputs = []
    for _ in range(2):
        lasagne.random.set_rng(np.random.RandomState(3))
        l_in = L.InputLayer((None, 50))
        f = graphc.function([l_in.input_var], L.get_output(L.DropoutLayer(l_in)),
                            backend="python")
        outputs.append(f(np.ones((4, 50), "float32")))
    np.testing.assert_array_equal(outputs[0], outputs[1])


# --------------------------------------------------------- batch normalization
def test_batch_norm_training_deterministic_and_running_averages(backend, rng):
    x = (rng.normal(size=(16, 3, 4, 4)) * 2 + 5).astype("float32")
    l_in = L.InputLayer((None, 3, 4, 4))
    layer = L.BatchNormLayer(l_in, alpha=0.25, epsilon=1e-3,
                             beta=np.array([0.5, 0.0, -1.0], "float32"),
                             gamma=np.array([2.0, 1.0, 0.5], "float32"))
    train = graphc.function([l_in.input_var], L.get_output(layer), backend=backend)
    test = graphc.function([l_in.input_var], L.get_output(layer, deterministic=True),
                           backend=backend)
    x64 = x.astype("float64")
    mean = x64.mean(axis=(0, 2, 3))
    inv_std = 1 / np.sqrt(x64.var(axis=(0, 2, 3)) + 1e-3)
    gamma, beta = layer.gamma.get_value(), layer.beta.get_value()

    def normalize(m, s):
        shape = (1, 3, 1, 1)
        return ((x64 - m.reshape(shape)) * (gamma * s).reshape(shape) + beta.reshape(shape))

    # Deterministic: the stored averages (initially 0 and 1); nothing is updated.
    np.testing.assert_allclose(test(x), normalize(np.zeros(3), np.ones(3)), rtol=1e-5)
    assert np.all(layer.mean.get_value() == 0) and np.all(layer.inv_std.get_value() == 1)
    # Training: the batch statistics, and the running averages move by alpha.
    np.testing.assert_allclose(train(x), normalize(mean, inv_std), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.mean.get_value(), 0.25 * mean, rtol=1e-5)
    np.testing.assert_allclose(layer.inv_std.get_value(), 0.75 + 0.25 * inv_std, rtol=1e-5)
    train(x)
    np.testing.assert_allclose(layer.mean.get_value(), (0.75 * 0.25 + 0.25) * mean,
                               rtol=1e-5)
    running_mean, running_inv_std = layer.mean.get_value(), layer.inv_std.get_value()
    np.testing.assert_allclose(test(x), normalize(running_mean, running_inv_std),
                               rtol=1e-4, atol=1e-5)
    assert layer.mean.get_value().dtype == np.float32


def test_batch_norm_options():
    l_in = L.InputLayer((None, 5))
    layer = L.BatchNormLayer(l_in, beta=None, gamma=None, axes=0)
    assert layer.get_params() == [layer.mean, layer.inv_std]
    x = np.arange(10, dtype="float32").reshape(2, 5)
    f = graphc.function([l_in.input_var],
                        L.get_output(layer, batch_norm_update_averages=False),
                        backend="python")
    out = f(x)
    assert_close(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-4))
    assert np.all(layer.mean.get_value() == 0)
    with pytest.raises(ValueError):
        L.BatchNormLayer((None, None))
    stacked = L.batch_norm(L.DenseLayer(l_in, 3, name="d"))
    assert isinstance(stacked, L.NonlinearityLayer)
    assert [p.name for p in L.get_all_params(stacked)] == [
        "d.W", "d_bn.beta", "d_bn.gamma", "d_bn.mean", "d_bn.inv_std"]


# ------------------------------------------------------------------- training
def test_mlp_trains_on_digits():
    (X_train, y_train), _, (X_test, y_test) = load_digits()
    l_in = L.InputLayer((None, 64))
    l_hid = L.DenseLayer(l_in, 32)
    l_drop = L.DropoutLayer(l_hid, p=0.1)
    l_out = L.DenseLayer(l_drop, 10, nonlinearity=lasagne.nonlinearities.softmax)
    y = T.ivector("y")
    loss = lasagne.objectives.categorical_crossentropy(L.get_output(l_out), y).mean()
    loss = loss + 1e-4 * lasagne.regularization.regularize_network_params(
        l_out, lasagne.regularization.l2)
    params = L.get_all_params(l_out, trainable=True)
    updates = lasagne.updates.nesterov_momentum(loss, params, learning_rate=0.1)
    train = graphc.function([l_in.input_var, y], loss, updates=updates, backend="python")
    accuracy = lasagne.objectives.categorical_accuracy(
        L.get_output(l_out, deterministic=True), y).mean()
    evaluate = graphc.function([l_in.input_var, y], accuracy, backend="python")
    batches = np.random.default_rng(0)
    for _ in range(10):
        for xb, yb in iterate_minibatches(X_train, y_train, 32, rng=batches):
            train(xb, yb)
    assert evaluate(X_test, y_test) > 0.9
