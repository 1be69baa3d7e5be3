"""Objectives against NumPy float64, and the penalties of the regularization helpers."""
import numpy as np
import pytest

import graphc
import graphc.tensor as T
import graphc.nn as lasagne
from graphc.nn import objectives as O
from graphc.nn import regularization as R

from conftest import assert_close


def test_objectives_values(backend, rng):
    logits = rng.normal(size=(6, 4))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, size=6).astype("int32")
    one_hot = np.eye(4)[labels]
    binary_p = rng.uniform(0.05, 0.95, size=(6, 1))
    binary_t = rng.integers(0, 2, size=6).astype("float64")
    p, oh, bt = T.dmatrix("p"), T.dmatrix("oh"), T.dvector("bt")
    bp = T.tensor("float64", shape=(None, 1), name="bp")   # a one-unit output
    y = T.ivector("y")
    f = graphc.function([p, y, oh, bp, bt], [
        O.categorical_crossentropy(p, y),
        O.categorical_crossentropy(p, oh),
        O.binary_crossentropy(bp, bt),          # a column against a vector: aligned
        O.squared_error(p, oh),
        O.categorical_accuracy(p, y),
        O.categorical_accuracy(p, oh, top_k=2),
        O.binary_accuracy(bp, bt),
        O.multiclass_hinge_loss(p, y, delta=0.5),
        O.binary_hinge_loss(bp, bt),
    ], backend=backend)
    (xent, xent_oh, bxent, sq, acc, acc2, bacc, mhinge, bhinge) = f(
        probs, labels, one_hot, binary_p, binary_t)
    expected_xent = -np.log(probs[np.arange(6), labels])
    assert_close(xent, expected_xent)
    assert_close(xent_oh, expected_xent)
    column_t = binary_t[:, None]
    assert_close(bxent, -(column_t * np.log(binary_p) + (1 - column_t) * np.log(1 - binary_p)))
    assert_close(sq, (probs - one_hot) ** 2)
    np.testing.assert_array_equal(acc, probs.argmax(axis=1) == labels)
    top2 = np.argsort(probs, axis=1)[:, -2:]
    np.testing.assert_array_equal(acc2, (top2 == labels[:, None]).any(axis=1))
    np.testing.assert_array_equal(bacc, (binary_p >= 0.5) == column_t)
    correct = probs[np.arange(6), labels]
    rest = np.where(one_hot > 0, -np.inf, probs).max(axis=1)
    assert_close(mhinge, np.maximum(0, rest - correct + 0.5))
    assert_close(bhinge, np.maximum(0, 1 - binary_p * (2 * column_t - 1)))


def test_top_k_accuracy_breaks_ties_as_lasagnes_argsort():
    # Lasagne: the last k of argsort(predictions); a stable sort puts the tied classes
    # of larger index last, so exactly k classes count even when all scores tie.
    p, y = T.dmatrix("p"), T.ivector("y")
    f = graphc.function([p, y], O.categorical_accuracy(p, y, top_k=2), backend="python")
    scores = np.array([[0.25] * 4] * 4 + [[0.1, 0.4, 0.4, 0.1]] * 4)
    labels = np.array([0, 1, 2, 3, 0, 1, 2, 3], dtype="int32")
    top2 = np.argsort(scores, axis=1, kind="stable")[:, -2:]
    np.testing.assert_array_equal(f(scores, labels), (top2 == labels[:, None]).any(axis=1))
    np.testing.assert_array_equal(f(scores, labels), [0, 0, 1, 1, 0, 1, 1, 0])


def test_aggregate():
    loss = T.dvector("loss")
    weights = T.dvector("w")
    f = graphc.function([loss, weights], [
        O.aggregate(loss), O.aggregate(loss, mode="sum"),
        O.aggregate(loss, weights), O.aggregate(loss, weights, mode="normalized_sum"),
    ], backend="python")
    values, w = np.array([1.0, 2.0, 6.0]), np.array([1.0, 0.0, 0.5])
    mean, total, weighted_mean, normalized = f(values, w)
    assert mean == 3.0 and total == 9.0
    assert weighted_mean == pytest.approx((1 + 3) / 3)
    assert normalized == pytest.approx(4 / 1.5)
    with pytest.raises(ValueError):
        O.aggregate(loss, mode="normalized_sum")
    with pytest.raises(ValueError):
        O.aggregate(loss, mode="median")


def test_accuracy_rank_mismatch():
    with pytest.raises(TypeError):
        O.categorical_accuracy(T.matrix(), T.tensor3())


def test_penalties_and_tags():
    l_in = lasagne.layers.InputLayer((None, 3))
    l_hid = lasagne.layers.DenseLayer(l_in, 2, W=np.full((3, 2), -2.0, "float32"),
                                      b=np.ones(2, "float32"))
    l_out = lasagne.layers.DenseLayer(l_hid, 1, W=np.full((2, 1), 3.0, "float32"))

    def value(expr):
        return float(graphc.function([], expr, backend="python")())

    assert value(R.l1(l_hid.W)) == 12.0
    assert value(R.l2(l_hid.W)) == 24.0
    # Biases are not regularizable: only the weights count.
    assert value(R.regularize_network_params(l_out, R.l2)) == 24.0 + 18.0
    assert value(R.regularize_network_params(l_out, R.l1, tags={"trainable": True})) \
        == 12.0 + 2.0 + 6.0
    assert value(R.regularize_layer_params(l_out, R.l2)) == 18.0
    assert value(R.regularize_layer_params([l_hid, l_out], R.l1)) == 18.0
    assert value(R.regularize_layer_params_weighted({l_hid: 0.5, l_out: 2.0}, R.l2)) \
        == 0.5 * 24.0 + 2.0 * 18.0
    assert value(R.apply_penalty(l_out.W, R.l1)) == 6.0


def test_one_unit_dense_output_aligns_vector_targets(backend):
    # Parameters are broadcastable on their axes of length 1 (Lasagne's create_param),
    # so a one-unit DenseLayer gives a column that objectives align with a vector of
    # targets: the loss is (N, 1), not the N x N of broadcasting a column with a row.
    l_in = lasagne.layers.InputLayer((None, 3))
    l_out = lasagne.layers.DenseLayer(l_in, 1, nonlinearity=lasagne.nonlinearities.sigmoid)
    assert l_out.W.broadcastable == (False, True) and l_out.b.broadcastable == (True,)
    prediction = lasagne.layers.get_output(l_out)
    t = T.vector("t")
    f = graphc.function([l_in.input_var, t], [O.binary_crossentropy(prediction, t),
                                              O.squared_error(prediction, t)],
                        backend=backend)
    x = np.random.default_rng(0).uniform(size=(4, 3)).astype("float32")
    targets = np.array([0, 1, 1, 0], "float32")
    bxent, sq = f(x, targets)
    p = 1 / (1 + np.exp(-(x.astype("float64") @ l_out.W.get_value() + l_out.b.get_value())))
    column = targets[:, None]
    assert bxent.shape == sq.shape == (4, 1)
    assert_close(bxent, -column * np.log(p) - (1 - column) * np.log(1 - p), "float32")
    assert_close(sq, (p - column) ** 2, "float32")
    # Training it updates the column parameters in place of their shapes.
    loss = O.squared_error(prediction, t).mean()
    params = lasagne.layers.get_all_params(l_out, trainable=True)
    train = graphc.function([l_in.input_var, t], loss, backend=backend,
                            updates=lasagne.updates.momentum(loss, params, 0.1))
    train(x, targets)
    assert l_out.W.get_value().shape == (3, 1) and l_out.b.get_value().shape == (1,)
