"""Gradients: verify_grad on every op that has a gradient rule, the classic checks
(hessian, jacobian, logistic regression, second order), Lop/Rop, gradient shapers
and the errors grad raises."""

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc.gradient import (Lop, Rop, disconnected_grad, grad_clip, grad_scale, hessian,
                             jacobian, verify_grad, zero_grad)
from graphc.graph import Node, Op
from conftest import assert_close

R = np.random.default_rng(7)


def U(*shape, lo=-2.0, hi=2.0):
    """Uniform test points; callers pick ranges away from kinks and singularities."""
    return R.uniform(lo, hi, size=shape)


def away(*shape, gap=0.2):
    """Values with |x| >= gap: no kink of abs/relu/sgn at 0 within finite-difference reach."""
    v = U(*shape, lo=gap, hi=2.0)
    return v * R.choice([-1.0, 1.0], size=shape)


def distinct(*shape):
    """Values with no ties (max/min/sort kinks), spaced well beyond eps."""
    n = int(np.prod(shape))
    return (R.permutation(n) * 0.37 - n * 0.15).reshape(shape)


# name -> (function of symbolic inputs, list of points). Points avoid kinks.
CASES = {
    # ---------------------------------------------------------- elementwise, unary
    "neg": (lambda x: -x, [U(3, 2)]),
    "abs": (abs, [away(3, 2)]),
    "sqr": (T.sqr, [U(3, 2)]),
    "inv": (T.inv, [away(4, gap=0.5)]),
    "exp": (T.exp, [U(3, 2)]),
    "exp2": (lambda x: T.exp2(x), [U(4)]),
    "expm1": (T.expm1, [U(4)]),
    "log": (T.log, [U(4, lo=0.3, hi=3)]),
    "log2": (T.log2, [U(4, lo=0.3, hi=3)]),
    "log10": (T.log10, [U(4, lo=0.3, hi=3)]),
    "log1p": (T.log1p, [U(4, lo=-0.5, hi=3)]),
    "sqrt": (T.sqrt, [U(4, lo=0.3, hi=3)]),
    "tanh": (T.tanh, [U(3, 2)]),
    "sinh": (T.sinh, [U(4)]),
    "cosh": (T.cosh, [U(4)]),
    "sin": (T.sin, [U(4)]),
    "cos": (T.cos, [U(4)]),
    "tan": (lambda x: T.tan(x), [U(4, lo=-1, hi=1)]),
    "arcsin": (T.arcsin, [U(4, lo=-0.8, hi=0.8)]),
    "arccos": (T.arccos, [U(4, lo=-0.8, hi=0.8)]),
    "arctan": (T.arctan, [U(4)]),
    "erf": (T.erf, [U(4)]),
    "sigmoid": (T.sigmoid, [U(3, 2, lo=-5, hi=5)]),
    "softplus": (T.softplus, [U(3, 2, lo=-5, hi=5)]),
    "piecewise_constant": (lambda x: T.floor(x) + T.ceil(x) + T.round(x) + T.sgn(x) + x,
                           [np.array([0.3, 1.3, -0.7, 2.2])]),
    "pos_identity": (lambda x: +x * 1, [U(3)]),
    # ------------------------------------------------ elementwise, binary, broadcasting
    "add_bcast": (lambda x, y: x + y, [U(3, 1), U(4)]),
    "sub_bcast": (lambda x, y: x - y, [U(3, 4), U(1, 4)]),
    "mul_bcast": (lambda x, y: x * y, [U(3, 1), U(1, 4)]),
    "true_div_bcast": (lambda x, y: x / y, [U(2, 3), away(3, gap=0.5)]),
    "pow": (lambda x, y: x ** y, [U(2, 3, lo=0.5, hi=2), U(2, 3)]),
    "pow_const": (lambda x: x ** 3, [U(4)]),
    "pow_bcast": (lambda x, y: x ** y, [U(3, 1, lo=0.5, hi=2), U(1, 2)]),
    "maximum": (lambda x, y: T.maximum(x, y), [distinct(3, 2), distinct(3, 2) + 0.05]),
    "minimum": (lambda x, y: T.minimum(x, y), [distinct(3, 2), distinct(3, 2) + 0.05]),
    "mod": (lambda x, y: x % y, [U(4, lo=0.1, hi=0.9), np.full(4, 1.0)]),
    "scalar_times_matrix": (lambda s, m: s * m, [np.array(1.3), U(2, 3)]),
    "switch": (lambda x, y: T.switch(x > 0, x * y, y ** 2), [away(5), U(5)]),
    "switch_bcast": (lambda x, y: T.switch(x > 0, x, y), [away(3, 1), U(1, 4)]),
    "clip": (lambda x: T.clip(x, -1.0, 1.0), [np.array([-1.7, -0.4, 0.3, 1.6])]),
    "clip_symbolic_bounds": (lambda x, lo, hi: T.clip(x, lo, hi),
                             [np.array([-1.7, -0.4, 0.3, 1.6]), np.full(4, -1.0),
                              np.full(4, 1.0)]),
    "cast_roundtrip": (lambda x: T.cast(x * 2, "float64"), [U(3)]),
    # -------------------------------------------------------------- reductions
    "sum": (lambda x: x.sum(axis=1), [U(3, 4)]),
    "sum_all_keepdims": (lambda x: x.sum(keepdims=True) * x, [U(2, 3)]),
    "sum_neg_axis": (lambda x: T.sum(x, axis=(0, -1)), [U(2, 3, 2)]),
    "mean": (lambda x: x.mean(axis=0), [U(3, 4)]),
    "prod": (lambda x: x.prod(axis=1), [away(3, 4, gap=0.5)]),
    "prod_all": (lambda x: x.prod(), [away(5, gap=0.5)]),
    "max": (lambda x: x.max(axis=1), [distinct(3, 4)]),
    "min": (lambda x: x.min(axis=0, keepdims=True), [distinct(3, 4)]),
    "max_all": (lambda x: T.max(x), [distinct(2, 3)]),
    "var": (lambda x: x.var(axis=1), [U(3, 4)]),
    "std": (lambda x: x.std(axis=0), [U(5, 2)]),
    "logsumexp": (lambda x: T.logsumexp(x, axis=1), [U(3, 4)]),
    "logsumexp_all": (lambda x: T.logsumexp(x), [U(3, 4)]),
    "norm2": (lambda x: x.norm(2, axis=1), [U(3, 4)]),
    # ------------------------------------------------------------------- shape
    "dimshuffle": (lambda x: x.dimshuffle(1, "x", 0) * 2, [U(2, 3)]),
    "transpose": (lambda x: x.T, [U(2, 3)]),
    "reshape": (lambda x: x.reshape((3, 4)), [U(2, 6)]),
    "reshape_symbolic": (lambda x: x.reshape((x.shape[1], -1)), [U(2, 6)]),
    "flatten": (lambda x: x.flatten(2), [U(2, 3, 2)]),
    "join": (lambda x, y: T.concatenate([x, y, x], axis=1), [U(2, 3), U(2, 1)]),
    "stack": (lambda x, y: T.stack([x, y * 2], axis=1), [U(3), U(3)]),
    "alloc": (lambda x: T.alloc(x, 4, 3), [U(3)]),
    "alloc_bcast": (lambda x: T.alloc(x, 2, 3), [U(2, 1)]),
    "fill": (lambda x, y: T.fill(x, y), [U(2, 3), np.array(0.7)]),
    "tile": (lambda x: T.tile(x, (2, 3)), [U(2, 2)]),
    "repeat": (lambda x: T.repeat(x, 3, axis=1), [U(2, 2)]),
    "expand_squeeze": (lambda x: T.squeeze(T.expand_dims(x, 1)), [U(3, 2)]),
    "make_vector": (lambda x, y: T.as_tensor_variable([x, y * 3]), [np.array(0.4),
                                                                    np.array(1.2)]),
    # ------------------------------------------------------------------ linalg
    "dot_mm": (T.dot, [U(3, 4), U(4, 2)]),
    "dot_mv": (T.dot, [U(3, 4), U(4)]),
    "dot_vm": (T.dot, [U(3), U(3, 4)]),
    "dot_vv": (T.dot, [U(4), U(4)]),
    "matmul_batched": (T.matmul, [U(2, 3, 4), U(2, 4, 2)]),
    "matmul_bcast_batch": (T.matmul, [U(1, 2, 3), U(2, 3, 2)]),
    "matmul_3d_2d": (lambda a, b: a @ b, [U(2, 3, 4), U(4, 2)]),
    "outer": (T.outer, [U(3), U(2)]),
    "tensordot": (lambda a, b: T.tensordot(a, b, axes=[[1, 2], [0, 1]]),
                  [U(2, 3, 2), U(3, 2, 2)]),
    "batched_dot": (T.batched_dot, [U(2, 3, 4), U(2, 4, 2)]),
    "batched_dot_2d": (T.batched_dot, [U(3, 4), U(3, 4)]),
    # --------------------------------------------------------------- indexing
    "subtensor": (lambda x: x[1:, ::-2] * 3, [U(3, 4)]),
    "subtensor_int": (lambda x: x[1, -1] * x[0], [U(3, 4)]),
    "advanced": (lambda x: x[np.array([0, 2, 0]), np.array([1, 1, 3])], [U(3, 4)]),
    "advanced_rows_repeated": (lambda x: x[np.array([2, 0, 2])], [U(3, 4)]),
    "boolean_mask": (lambda x: x[x > 0], [away(3, 4)]),
    "set_subtensor": (lambda x, v: T.set_subtensor(x[1:, 0], v), [U(3, 2), U(2)]),
    "inc_subtensor": (lambda x, v: T.inc_subtensor(x[:, 1:], v), [U(3, 3), U(1, 2)]),
    "inc_advanced_repeated": (lambda x, v: T.inc_subtensor(x[np.array([0, 0, 2])], v),
                              [U(3, 2), U(3, 2)]),
    "set_advanced": (lambda x, v: T.set_subtensor(x[np.array([1, 2])], v), [U(3, 2), U(2)]),
    # -------------------------------------------------------------------- nnet
    "softmax": (T.nnet.softmax, [U(3, 4)]),
    "softmax_axis0": (lambda x: T.nnet.softmax(x, axis=0), [U(3, 4)]),
    "log_softmax": (T.nnet.log_softmax, [U(3, 4)]),
    "log_of_softmax": (lambda x: T.log(T.nnet.softmax(x)), [U(3, 4)]),
    "relu": (T.nnet.relu, [away(3, 4)]),
    "relu_alpha": (lambda x: T.nnet.relu(x, alpha=0.1), [away(3, 4)]),
    "categorical_xent_int": (lambda x: T.nnet.categorical_crossentropy(
        T.nnet.softmax(x), np.array([0, 3, 1], dtype="int32")), [U(3, 4)]),
    "categorical_xent_onehot": (lambda x, t: T.nnet.categorical_crossentropy(
        T.nnet.softmax(x), t), [U(3, 4), np.eye(4)[[0, 3, 1]]]),
    "binary_xent": (lambda p, t: T.nnet.binary_crossentropy(p, t),
                    [U(5, lo=0.1, hi=0.9), U(5, lo=0, hi=1)]),
    "sigmoid_binary_xent": (lambda z, t: T.nnet.sigmoid_binary_crossentropy(z, t),
                            [U(5, lo=-4, hi=4), U(5, lo=0, hi=1)]),
    "xent_softmax_1hot": (lambda x: T.nnet.crossentropy_softmax_1hot(
        x, np.array([2, 0], dtype="int64")), [U(2, 3)]),
    "log_sigmoid": (lambda x: T.log(T.nnet.sigmoid(x)), [U(4, lo=-5, hi=5)]),
    # -------------------------------------------------------- gradient shapers
    "grad_scale_fd": (lambda x: grad_scale(x, 1.0) * x, [U(3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_verify_grad(name):
    fun, points = CASES[name]
    verify_grad(fun, points, rng=np.random.default_rng(0))


def test_verify_grad_on_the_backend(backend):
    # One composite expression through the backend under test (compiled three times).
    def fun(x, w):
        h = T.tanh(T.dot(x, w))
        return (T.nnet.softmax(h) * T.exp(-h ** 2)).sum(axis=1) + T.log1p(x ** 2).mean()
    verify_grad(fun, [U(3, 4), U(4, 2)], backend=backend)


class _WrongSquare(Op):
    """x ** 2 with a gradient rule off by a factor 2: verify_grad must catch it."""

    def make_node(self, x):
        return Node(self, [x], [x.type])

    def perform(self, node, inputs):
        return [inputs[0] ** 2]

    def grad(self, inputs, outputs, output_grads):
        return [output_grads[0] * inputs[0] * 4]


def test_verify_grad_catches_a_wrong_gradient():
    with pytest.raises(graphc.GradientError) as info:
        verify_grad(lambda x: _WrongSquare()(x), [U(3, lo=0.5, hi=2)])
    assert isinstance(info.value, graphc.GraphcError)
    assert "input 0" in str(info.value)


def test_verify_grad_takes_theanos_arguments():
    # As Theano's tests call it: the numpy.random module or a RandomState, a mode.
    point = U(3, 4)
    T.verify_grad(lambda x: T.tanh(x) * 2, [point], rng=np.random)
    verify_grad(lambda x: T.tanh(x), [point], rng=np.random.RandomState(42), mode="FAST_RUN",
                out_type=None, cast_to_output_type=False)
    with pytest.raises(graphc.GradientError):
        verify_grad(lambda x: _WrongSquare()(x), [U(3, lo=0.5, hi=2)], rng=np.random,
                    mode="FAST_COMPILE")


def test_hessian_of_quadratic_form_is_a_plus_a_transpose(backend):
    x = T.dvector("x")              # length unknown at build time
    A = T.dmatrix("A")
    cost = T.dot(x, T.dot(A, x))
    H = hessian(cost, x)
    f = graphc.function([x, A], H, backend=backend)
    Av = U(4, 4)
    assert_close(f(U(4), Av), Av + Av.T)


def test_jacobian_of_elementwise_function_is_diagonal(backend):
    x = T.dvector("x")
    J = jacobian(T.exp(x) * 2, x)
    f = graphc.function([x], J, backend=backend)
    xv = U(5)
    assert_close(f(xv), np.diag(2 * np.exp(xv)))
    # Static length: the rows are unrolled; same answer.
    y = T.tensor("float64", shape=(3,), name="y")
    g = graphc.function([y], jacobian(T.sin(y), y), backend=backend)
    yv = U(3)
    assert_close(g(yv), np.diag(np.cos(yv)))


def test_jacobian_of_matrix_vector_product_and_list(backend):
    x = T.dvector("x")
    W = T.dmatrix("W")
    y = T.dot(W, x)
    Jx, JW = jacobian(y, [x, W])
    f = graphc.function([x, W], [Jx, JW], backend=backend)
    xv, Wv = U(3), U(2, 3)
    jx, jw = f(xv, Wv)
    assert_close(jx, Wv)
    expected = np.zeros((2, 2, 3))
    for i in range(2):
        expected[i, i] = xv
    assert_close(jw, expected)


def test_grad_of_logistic_regression_cost_matches_numpy(backend):
    X = T.dmatrix("X")
    y = T.dvector("y")
    w = graphc.shared(U(3), name="w")
    b = graphc.shared(np.array(0.3), name="b")
    p = T.nnet.sigmoid(T.dot(X, w) + b)
    cost = T.nnet.binary_crossentropy(p, y).mean() + 0.01 * (w ** 2).sum()
    gw, gb = graphc.grad(cost, [w, b])
    f = graphc.function([X, y], [cost, gw, gb], backend=backend)
    Xv, yv = U(6, 3), (U(6) > 0).astype("float64")
    c, gwv, gbv = f(Xv, yv)
    wv, bv = w.get_value(), float(b.get_value())
    pv = 1 / (1 + np.exp(-(Xv @ wv + bv)))
    n = len(yv)
    assert_close(c, -np.mean(yv * np.log(pv) + (1 - yv) * np.log(1 - pv)) + 0.01 * (wv ** 2).sum())
    assert_close(gwv, Xv.T @ (pv - yv) / n + 0.02 * wv)
    assert_close(gbv, np.sum(pv - yv) / n)


def test_softmax_regression_gradient_matches_numpy(backend):
    X = T.dmatrix("X")
    y = T.ivector("y")
    W = T.dmatrix("W")
    p = T.nnet.softmax(T.dot(X, W))
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    f = graphc.function([X, y, W], graphc.grad(cost, W), backend=backend)
    Xv, Wv = U(5, 3), U(3, 4)
    yv = np.array([0, 3, 1, 1, 2], dtype="int32")
    logits = Xv @ Wv
    pv = np.exp(logits - logits.max(1, keepdims=True))
    pv /= pv.sum(1, keepdims=True)
    pv[np.arange(5), yv] -= 1
    assert_close(f(Xv, yv, Wv), Xv.T @ pv / 5)


def test_second_order_grad_of_grad(backend):
    x = T.dscalar("x")
    g = graphc.grad(x ** 3 + T.sin(x), x)
    g2 = graphc.grad(g, x)
    g3 = graphc.grad(g2, x)
    v = T.dvector("v")
    gv = graphc.grad((T.exp(v) * v).sum(), v)
    gg = graphc.grad(gv.sum(), v)
    f = graphc.function([x, v], [g, g2, g3, gg], backend=backend)
    a, b, c, d = f(0.7, np.array([0.1, -0.4]))
    assert_close(a, 3 * 0.7 ** 2 + np.cos(0.7))
    assert_close(b, 6 * 0.7 - np.sin(0.7))
    assert_close(c, 6 - np.cos(0.7))
    vv = np.array([0.1, -0.4])
    assert_close(d, np.exp(vv) * (vv + 2))


def test_grad_wrt_shared_and_intermediate_variables(backend):
    x = T.dvector("x")
    w = graphc.shared(np.array([1.0, -2.0]), name="w")
    h = x * w                      # an intermediate variable
    cost = (h ** 2).sum() + w.sum()
    gh, gw, gx = graphc.grad(cost, [h, w, x])
    single = graphc.grad(cost, w)
    assert isinstance(single, graphc.Variable)
    f = graphc.function([x], [gh, gw, gx, single], backend=backend)
    xv = np.array([0.5, 3.0])
    wv = w.get_value()
    a, b, c, d = f(xv)
    assert_close(a, 2 * xv * wv)
    assert_close(b, 2 * xv ** 2 * wv + 1)
    assert_close(c, 2 * xv * wv ** 2)
    assert_close(d, b)


def test_wrt_list_and_tuple_return_the_same_structure():
    x = T.dvector("x")
    y = T.dvector("y")
    cost = (x * y).sum()
    assert isinstance(graphc.grad(cost, [x, y]), list)
    assert isinstance(graphc.grad(cost, (x, y)), tuple) and len(graphc.grad(cost, (x, y))) == 2
    assert isinstance(jacobian(x * y, (x, y)), tuple)
    assert isinstance(hessian(cost, (x, y)), tuple)
    assert isinstance(graphc.grad(cost, x), graphc.Variable)
    assert T.grad is graphc.grad


def test_grad_errors():
    x = T.dvector("x")
    y = T.dvector("y")
    with pytest.raises(graphc.GraphcError, match="scalar"):
        graphc.grad(x * 2, x)
    with pytest.raises(graphc.GraphcError, match="y"):
        graphc.grad(x.sum(), y)
    with pytest.raises(graphc.GraphcError):
        graphc.grad(x.sum(), [x, y])
    i = T.ivector("i")
    with pytest.raises(graphc.GraphcError, match="int32"):
        graphc.grad((i * 2).sum() * 1.0, i)
    with pytest.raises(graphc.GraphcError):
        graphc.grad(T.sum(i), x)               # an integer cost
    with pytest.raises(graphc.GraphcError):
        graphc.grad(x.sum(), x, disconnected_inputs="sometimes")


def test_disconnected_inputs_ignore_and_warn(backend):
    x = T.dvector("x")
    y = T.dvector("y")
    cost = (x ** 2).sum()
    gy = graphc.grad(cost, y, disconnected_inputs="ignore")
    with pytest.warns(UserWarning, match="y"):
        gy2 = graphc.grad(cost, y, disconnected_inputs="warn")
    f = graphc.function([x, y], [gy, gy2], backend=backend, on_unused_input="ignore")
    a, b = f(np.ones(2), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a, np.zeros(3))
    np.testing.assert_array_equal(b, np.zeros(3))


def test_integer_paths_are_disconnected_not_wrong(backend):
    # Gradient through argmax / comparisons / integer casts is zero or disconnected.
    x = T.dvector("x")
    cost = (x * T.cast(T.argmax(x), "float64")).sum()
    f = graphc.function([x], graphc.grad(cost, x), backend=backend)
    xv = np.array([0.5, 2.0, 1.0])
    assert_close(f(xv), np.full(3, 1.0))


def test_gradient_shapers(backend):
    x = T.dvector("x")
    xv = np.array([0.5, -1.5, 2.0])
    g_zero = graphc.grad((zero_grad(x) * x).sum(), x)
    g_disc = graphc.grad((disconnected_grad(x) * x).sum(), x)
    g_clip = graphc.grad((grad_clip(x, -1.0, 1.0) * 5).sum() + (grad_clip(x, -1, 1) * -0.5).sum(),
                         x)
    g_scale = graphc.grad((grad_scale(x, 3.0) ** 2).sum(), x)
    outs = [zero_grad(x), disconnected_grad(x), grad_clip(x, -1, 1), grad_scale(x, 3.0),
            g_zero, g_disc, g_clip, g_scale]
    f = graphc.function([x], outs, backend=backend)
    r = f(xv)
    for k in range(4):
        assert_close(r[k], xv)                        # identity forward
    assert_close(r[4], xv)                            # only the second factor
    assert_close(r[5], xv)
    assert_close(r[6], np.full(3, 1.0 - 0.5))         # 5 clipped to 1, -0.5 kept
    assert_close(r[7], 3.0 * 2 * xv)
    with pytest.raises(graphc.GraphcError):
        graphc.grad(disconnected_grad(x).sum(), x)
    assert_close(graphc.function([x], graphc.grad(zero_grad(x).sum(), x), backend=backend)(xv),
                 np.zeros(3))
    with pytest.raises(graphc.GraphcError):
        grad_clip(x, 1.0, -1.0)


def test_consider_constant(backend):
    x = T.dvector("x")
    y = x * 2
    cost = (y * x).sum()
    g = graphc.grad(cost, x, consider_constant=[y])
    f = graphc.function([x], g, backend=backend)
    xv = np.array([1.0, 3.0])
    assert_close(f(xv), 2 * xv)


def test_known_grads(backend):
    x = T.dvector("x")
    h = T.tanh(x)
    seed = T.dvector("seed")
    g = graphc.grad(None, x, known_grads={h: seed})
    f = graphc.function([x, seed], g, backend=backend)
    xv, sv = U(3), U(3)
    assert_close(f(xv, sv), sv * (1 - np.tanh(xv) ** 2))


def test_known_grads_replace_what_the_cost_sends(backend):
    # Theano: a variable in known_grads has exactly the given gradient, even when the
    # cost depends on it too.
    x, seed = T.dvector("x"), T.dvector("seed")
    y = T.exp(x)
    g = graphc.grad((y * 3).sum(), x, known_grads={y: seed})
    xv, sv = U(3), U(3)
    assert_close(graphc.function([x, seed], g, backend=backend)(xv, sv), sv * np.exp(xv))


def test_gradients_of_linear_costs_keep_their_inputs(backend):
    # Theano seeds with fill(cost, 1): grad(3 * x, x) is 3, and x stays an input of
    # the function that computes it (not an unused input).
    x, v = T.dscalar("x"), T.dvector("v")
    w = graphc.shared(np.array([1.0, -2.0, 0.5]), name="w")
    f = graphc.function([x, v], [T.grad(3 * x, x), T.grad(T.dot(v, w), v)], backend=backend)
    three, slope = f(2.0, U(3))
    assert_close(three, 3.0)
    assert_close(slope, w.get_value())
    # Its Hessian is zero, not an error (Theano's hessian differentiates the gradient
    # with disconnected_inputs="ignore").
    a = T.dvector("a")
    h = graphc.function([v, a], hessian(T.dot(v, a), v), backend=backend)
    np.testing.assert_array_equal(h(U(3), U(3)), np.zeros((3, 3)))


def test_grad_scale_by_a_symbolic_multiplier(backend):
    x, k = T.dvector("x"), T.dscalar("k")
    g = graphc.grad((grad_scale(x, k) ** 2).sum(), x)
    xv = U(3)
    assert_close(graphc.function([x, k], g, backend=backend)(xv, -0.5), -0.5 * 2 * xv)
    with pytest.raises(graphc.GraphcError, match="multiplier"):
        grad_scale(x, "two")
    with pytest.raises(graphc.GraphcError, match="scalar"):
        grad_scale(x, T.dvector("k2"))


def test_lop_and_rop_against_numpy(backend):
    A = T.dmatrix("A")
    x = T.dvector("x")
    v = T.dvector("v")
    u = T.dvector("u")
    y = T.tanh(T.dot(A, x))
    lop = Lop(y, x, v)
    rop = Rop(y, x, u)
    f = graphc.function([A, x, v, u], [lop, rop], backend=backend)
    Av, xv, vv, uv = U(2, 3), U(3), U(2), U(3)
    J = (1 - np.tanh(Av @ xv) ** 2)[:, None] * Av
    lo, ro = f(Av, xv, vv, uv)
    assert_close(lo, vv @ J)
    assert_close(ro, J @ uv)


def test_lop_and_rop_with_lists(backend):
    x = T.dvector("x")
    W = T.dmatrix("W")
    v, ux, uW = T.dvector("v"), T.dvector("ux"), T.dmatrix("uW")
    y = T.dot(W, x)
    gx, gW = Lop(y, [x, W], v)
    rop = Rop(y, [x, W], [ux, uW])
    f = graphc.function([x, W, v, ux, uW], [gx, gW, rop], backend=backend)
    xv, Wv, vv, uxv, uWv = U(3), U(2, 3), U(2), U(3), U(2, 3)
    a, b, c = f(xv, Wv, vv, uxv, uWv)
    assert_close(a, Wv.T @ vv)
    assert_close(b, np.outer(vv, xv))
    assert_close(c, Wv @ uxv + uWv @ xv)


def test_max_with_ties_gives_gradient_to_every_maximum(backend):
    x = T.dvector("x")
    m = T.dmatrix("m")
    f = graphc.function([x, m], [graphc.grad(T.max(x), x),
                                 graphc.grad(T.max(m, axis=1).sum(), m),
                                 graphc.grad(T.min(x), x)], backend=backend)
    xv = np.array([1.0, 3.0, 3.0, -1.0, -1.0])
    mv = np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]])
    gx, gm, gmin = f(xv, mv)
    assert_close(gx, (xv == xv.max()).astype(float))
    assert_close(gm, (mv == mv.max(1, keepdims=True)).astype(float))
    assert_close(gmin, (xv == xv.min()).astype(float))


def test_prod_gradient_with_zeros(backend):
    x = T.dvector("x")
    m = T.dmatrix("m")
    f = graphc.function([x, m], [graphc.grad(T.prod(x), x),
                                 graphc.grad(T.prod(m, axis=1).sum(), m)], backend=backend)

    def numpy_grad(v):
        return np.array([np.prod(np.delete(v, i)) for i in range(len(v))])

    for xv in (np.array([2.0, 0.0, 3.0]), np.array([0.0, 2.0, 0.0, 4.0]),
               np.array([2.0, -1.5, 3.0]), np.array([0.0])):
        mv = np.stack([xv, xv[::-1]])
        gx, gm = f(xv, mv)
        assert_close(gx, numpy_grad(xv))
        assert_close(gm, np.stack([numpy_grad(row) for row in mv]))


def test_gradient_of_float32_graph_is_float32(backend):
    x = T.fvector("x")
    g = graphc.grad((T.exp(x) * 0.5).sum(), x)
    assert g.dtype == "float32"
    f = graphc.function([x], g, backend=backend)
    xv = np.array([0.1, -0.3], dtype="float32")
    r = f(xv)
    assert r.dtype == "float32"
    assert_close(r, 0.5 * np.exp(xv.astype("float64")), "float32")


def test_gradient_through_run_time_broadcast_of_shared_row(backend):
    # b has static shape (?, ?) but value (1, 3): its gradient sums over the rows.
    b = graphc.shared(U(1, 3), name="b")
    x = T.dmatrix("x")
    g = graphc.grad(((x + b) ** 2).sum(), b)
    f = graphc.function([x], g, backend=backend)
    xv = U(4, 3)
    got = f(xv)
    assert got.shape == (1, 3)
    assert_close(got, (2 * (xv + b.get_value())).sum(0, keepdims=True))


def test_stable_gradient_of_log_softmax_xent_has_no_nan(backend):
    # Large logits: the gradient must stay finite (the Theano #3162 failure mode).
    x = T.dmatrix("x")
    y = T.ivector("y")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y).mean()
    f = graphc.function([x, y], graphc.grad(cost, x), backend=backend)
    xv = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    yv = np.array([2, 1], dtype="int32")
    got = f(xv, yv)
    sm = np.exp(xv - xv.max(1, keepdims=True))
    sm /= sm.sum(1, keepdims=True)
    sm[np.arange(2), yv] -= 1
    assert np.all(np.isfinite(got))
    assert_close(got, sm / 2)
