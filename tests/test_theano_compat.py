"""Theano and Lasagne spellings that ported code uses, against NumPy references."""
import numpy as np
import pytest

import graphc
import graphc.nn as lasagne
import graphc.tensor as T
from graphc.errors import GraphcError, GraphcTypeError, GraphcValueError, ShapeError
from graphc.ifelse import ifelse
from graphc.tensor.extra_ops import to_one_hot


def test_reductions_take_dtype_and_acc_dtype(backend):
    # Lasagne's mnist.py: T.mean(T.eq(T.argmax(p, axis=1), t), dtype=floatX).
    p, t = T.fmatrix("p"), T.ivector("t")
    b = T.bvector("b")
    acc = T.mean(T.eq(T.argmax(p, axis=1), t), dtype=graphc.config.floatX)
    total = T.sum(b, acc_dtype="int64")
    product = b.prod(dtype="float64")
    spread = T.var(p, axis=0, corrected=True)
    f = graphc.function([p, t, b], [acc, total, product, spread, p.std(ddof=1)],
                        backend=backend)
    pv = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], "float32")
    bv = np.array([100, 100, 3], "int8")
    got = f(pv, np.array([1, 1, 1], "int32"), bv)
    assert got[0].dtype == graphc.config.floatX and np.isclose(got[0], 2 / 3)
    assert got[1].dtype == np.int64 and got[1] == 203   # no int8 wraparound
    assert got[2].dtype == np.float64 and got[2] == 30000.0
    np.testing.assert_allclose(got[3], pv.astype("float64").var(axis=0), rtol=1e-6)
    np.testing.assert_allclose(got[4], pv.astype("float64").std(ddof=1), rtol=1e-6)


def test_shape_unpacks_and_stack_takes_separate_arguments(backend):
    x, t4 = T.dmatrix("x"), T.tensor4("t4")
    n, m = x.shape
    b, c, h, w = t4.shape
    f = graphc.function([x, t4], [n * m, T.stack(n, m), T.stack([b, c, h, w])],
                        backend=backend)
    area, pair, four = f(np.ones((2, 3)), np.ones((1, 2, 3, 4), "float32"))
    assert area == 6 and list(pair) == [2, 3] and list(four) == [1, 2, 3, 4]
    with pytest.raises(GraphcTypeError, match="only known when called"):
        a, b = T.dvector("v")


def test_broadcastable_patterns_mean_what_they_meant_in_theano(backend):
    # T.tensor(dtype, broadcastable): False is "any length", not a length of 0.
    v = T.tensor("float64", (False, False), name="v")
    row = T.TensorType("float64", (True, False))("row")
    col = T.tensor("float64", broadcastable=(False, True))
    assert v.type.shape == (None, None) and row.broadcastable == (True, False)
    assert col.type == T.TensorType("float64", broadcastable=(False, True))
    f = graphc.function([v, row, col], v * 2 + row + col, backend=backend)
    vv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(f(vv, np.ones((1, 3)), np.ones((2, 1))), vv * 2 + 2)
    with pytest.raises(ShapeError):
        f(vv, np.ones((2, 3)), np.ones((2, 1)))


def test_shared_takes_broadcastable_and_strict():
    # Lasagne's updates: theano.shared(np.zeros(shape), broadcastable=param.broadcastable).
    param = graphc.shared(np.zeros((1, 3), "float32"), broadcastable=(True, False))
    velocity = graphc.shared(np.zeros((1, 3), "float32"), broadcastable=param.broadcastable)
    assert velocity.broadcastable == (True, False) and velocity.type.shape == (1, None)
    assert graphc.shared(0.5, strict=True).dtype == "float64"
    assert graphc.shared(0.5).dtype == graphc.config.floatX


def test_symbolic_counts_for_tile_repeat_and_reshape(backend):
    v, i, m, sh = T.dvector("v"), T.lscalar("i"), T.dmatrix("m"), T.lvector("sh")
    outs = [T.tile(v, (i,)), T.tile(v, 3), T.tile(m, (2, i)), T.tile(m, (i, 1, 2)),
            T.repeat(v, i), m.repeat(i, axis=1), m.reshape(sh, ndim=2)]
    f = graphc.function([v, i, m, sh], outs, backend=backend)
    vv, mv = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    want = [np.tile(vv, 2), np.tile(vv, 3), np.tile(mv, (2, 2)), np.tile(mv, (2, 1, 2)),
            np.repeat(vv, 2), np.repeat(mv, 2, axis=1), mv.reshape(3, 2)]
    for got, expected in zip(f(vv, 2, mv, np.array([3, 2])), want):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ShapeError, match="3 entries.*expects 2"):
        f(vv, 2, mv, np.array([3, 2, 1]))
    # The gradient flows through the symbolic forms: d/dv (2 sum v)^2 = 8 sum v.
    cost = T.tile(v, (i,)).sum() * T.repeat(v, i).sum()
    g = graphc.function([v, i], graphc.grad(cost, v), backend=backend)
    np.testing.assert_allclose(g(vv, 2), np.full(3, 8 * vv.sum()))
    with pytest.raises(GraphcTypeError, match="vector of counts"):
        T.repeat(v, T.lmatrix())


def test_theano_aliases(backend, rng):
    x, y = T.dmatrix("x"), T.ivector("y")
    top, where = T.max_and_argmax(x, axis=1)
    outs = [T.abs_(x), T.shape_padleft(y).shape, T.shape_padright(x, 2).shape,
            T.shape_padaxis(y, 1).shape, top, where, T.iround(x * 3), T.eye(3, 4, k=1),
            to_one_hot(y, 4), T.nnet.crossentropy_categorical_1hot(T.nnet.softmax(x), y),
            ifelse(T.lt(x.sum(), 0), x, -x), T.arange(0, 1, 0.25)]
    f = graphc.function([x, y], outs, backend=backend)
    xv = rng.normal(size=(2, 4))
    yv = np.array([3, 0], "int32")
    got = f(xv, yv)
    e = np.exp(xv - xv.max(axis=1, keepdims=True))
    soft = e / e.sum(axis=1, keepdims=True)
    want = [np.abs(xv), [1, 2], [2, 4, 1, 1], [2, 1], xv.max(axis=1), xv.argmax(axis=1),
            np.round(xv * 3), np.eye(3, 4, k=1), np.eye(4)[yv], -np.log(soft[[0, 1], yv]),
            xv if xv.sum() < 0 else -xv, np.arange(0, 1, 0.25)]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert got[6].dtype == np.int64 and got[-1].dtype == graphc.config.floatX
    r = T.dmatrix("r")
    row = T.addbroadcast(r, 0)
    assert row.broadcastable == (True, False)
    h = graphc.function([r], row * 2, backend=backend)
    np.testing.assert_array_equal(h(np.ones((1, 3))), np.full((1, 3), 2.0))
    with pytest.raises(ShapeError):
        h(np.ones((2, 3)))


def test_booleans_refuse_minus_as_numpy_does():
    flags = T.ivector("a") > 0
    with pytest.raises(GraphcTypeError, match="~"):
        -flags
    with pytest.raises(GraphcTypeError, match=r"\^"):
        flags - (T.ivector("b") > 1)
    assert (flags - 1).dtype == "int64"     # booleans with a number are fine


def test_out_of_range_python_ints_are_graphc_errors():
    with pytest.raises(GraphcTypeError, match="300 does not fit int8"):
        T.bvector("b") * 300


def test_lasagne_layer_errors_are_graphc_errors():
    l_in = lasagne.layers.InputLayer((None, 5))
    with pytest.raises(GraphcValueError):
        lasagne.layers.DenseLayer(l_in, 3, W=np.ones((4, 3), "float32"))
    with pytest.raises(GraphcValueError):
        lasagne.layers.DenseLayer(l_in, 0)
    with pytest.raises(GraphcValueError):
        lasagne.layers.InputLayer((None, 4), input_var=T.tensor3())
    with pytest.raises(GraphcValueError):
        lasagne.layers.Conv2DLayer(l_in, 2, 3)
    net = lasagne.layers.DenseLayer(l_in, 3)
    with pytest.raises(ValueError):      # still a ValueError, as Lasagne's
        lasagne.layers.set_all_param_values(net, [np.ones((5, 3), "float32")])
    with pytest.raises(GraphcError):
        lasagne.layers.set_all_param_values(net, [np.ones((4, 3), "float32"),
                                                  np.ones(3, "float32")])
