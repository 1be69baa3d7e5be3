"""Second derivatives through pool_2d: Rop, grad of grad, Hessian-vector products.

Max pooling's gradient :class:`Pool2dGrad` is linear in the output gradient and
piecewise constant in the input; its gradient in the output gradient is
:class:`Pool2dGradGrad`, which must be exactly its transpose (ties included).
The averages' gradients are linear and their gradients are ``Pool2d`` again.
"""
import warnings

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc.errors import GraphcError, GraphcValueError
from graphc.ops.conv import Pool2dGrad, Pool2dGradGrad

CASES = [
    dict(ws=(2, 2)),
    dict(ws=(3, 3), stride=(2, 2), pad=(1, 1)),
    dict(ws=(2, 2), ignore_border=False),                     # odd sizes: partial windows
    dict(ws=(3, 2), stride=(1, 2), ignore_border=False),      # overlapping windows
]
# The tests that compile large graphs (a numba compilation costs seconds when
# the cache is cold) take the first three only.
BASIC = range(3)
IMAGE = (2, 2, 7, 5)


def _compile(inputs, outputs, backend):
    # A numba function must not fall back to a node's Python perform.
    with warnings.catch_warnings():
        if backend == "numba":
            from graphc.backends.numba.fallback import FallbackWarning
            warnings.simplefilter("error", FallbackWarning)
        return graphc.function(inputs, outputs, backend=backend, on_unused_input="ignore")


def _distinct(shape, seed):
    """Well separated values (gaps of 0.1): no ties, no maximum moves under eps."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 3.0


def _pooled_shape(kwargs, shape):
    x = T.dtensor4("x")
    f = graphc.function([x], T.nnet.pool_2d(x, **kwargs).shape, backend="python")
    return tuple(f(np.zeros(shape)))


# ------------------------------------------------------------------ Rop
ROP_CASES = [(case, "max") for case in range(len(CASES))] + [
    (1, "average_inc_pad"), (2, "average_inc_pad"), (1, "average_exc_pad"),
    (3, "average_exc_pad")]


@pytest.mark.parametrize("case, mode", ROP_CASES)
def test_rop_matches_finite_differences(backend, case, mode):
    # J v = (f(x + eps v) - f(x - eps v)) / (2 eps): exact for a piecewise linear f
    # away from its kinks.
    x, v = T.dtensor4("x"), T.dtensor4("v")
    y = T.nnet.pool_2d(x, mode=mode, **CASES[case])
    f = _compile([x, v], [y, graphc.Rop(y, x, v)], backend)
    xv = _distinct(IMAGE, case)
    vv = np.random.default_rng(case).normal(size=IMAGE)
    eps = 1e-6
    numeric = (f(xv + eps * vv, vv)[0] - f(xv - eps * vv, vv)[0]) / (2 * eps)
    got = f(xv, vv)[1]
    assert got.shape == numeric.shape
    np.testing.assert_allclose(got, numeric, rtol=1e-7, atol=1e-8)


def test_rop_example_from_the_report():
    x, v = T.dtensor4(), T.dtensor4()
    jv = graphc.Rop(T.nnet.pool_2d(x, (2, 2)), x, v)
    xv = np.arange(16.0).reshape(1, 1, 4, 4)
    vv = np.arange(16.0).reshape(1, 1, 4, 4) * 10
    got = graphc.function([x, v], jv, backend="python")(xv, vv)
    np.testing.assert_array_equal(got, [[[[50.0, 70.0], [130.0, 150.0]]]])


# --------------------------------------------------------- grad of grad
@pytest.mark.parametrize("case", BASIC)
def test_grad_of_max_pool_grad_and_of_rop(backend, case):
    # In x: d/dx <grad(cost, x), c> goes through Pool2dGrad's gradient
    # (Pool2dGradGrad in gz, zeros in x and in the pooled output).
    # In v: Rop(pool, x, v) = Pool2dGradGrad(x, v, out) is linear in v, and its
    # gradient is Pool2dGrad (in x it is locally constant: zero).
    rng = np.random.default_rng(10 + case)
    c, e = rng.normal(size=IMAGE), rng.normal(size=_pooled_shape(CASES[case], IMAGE))
    a = rng.normal(size=e.shape)

    def second_order_terms(x, v):
        y = T.nnet.pool_2d(x, **CASES[case])
        first = (graphc.grad((T.tanh(y) * a).sum(), x) * c).sum()
        return first + (graphc.Rop(y, x, v) * e).sum()

    graphc.verify_grad(second_order_terms, [_distinct(IMAGE, case) * 0.3,
                                            rng.normal(size=IMAGE)],
                       n_tests=1, rng=rng, backend=backend)


def test_second_derivative_of_max_pool_alone_is_zero(backend):
    # Piecewise linear: the gradient of its gradient is zeros (as Theano's
    # MaxPoolGrad.grad), not a disconnected input.
    x = T.dtensor4("x")
    c = np.random.default_rng(8).normal(size=IMAGE)
    g = graphc.grad(T.nnet.pool_2d(x, (3, 3), stride=(2, 2), pad=(1, 1)).sum(), x)
    gg = graphc.grad((g * c).sum(), x)
    got = _compile([x], gg, backend)(_distinct(IMAGE, 0))
    np.testing.assert_array_equal(got, np.zeros(IMAGE))


# ------------------------------------------------- Hessian-vector product
@pytest.mark.parametrize("case, mode", [(case, "max") for case in BASIC] + [
    (1, "average_exc_pad")])
def test_hessian_vector_product_of_conv_pool_net(backend, case, mode):
    # conv -> tanh -> pool -> dense -> softplus; H v by double backprop against
    # (g(p + eps v) - g(p - eps v)) / (2 eps), for the images and the filters.
    rng = np.random.default_rng(30 + case)
    x, w, d = T.dtensor4("x"), T.dtensor4("w"), T.dmatrix("d")
    h = T.nnet.pool_2d(T.tanh(T.nnet.conv2d(x, w, border_mode="half")), mode=mode,
                       **CASES[case])
    cost = T.nnet.softplus(T.dot(h.flatten(2), d)).sum()
    params, directions = [x, w], [T.dtensor4("vx"), T.dtensor4("vw")]
    grads = graphc.grad(cost, params)
    hv = graphc.grad(sum((g * v).sum() for g, v in zip(grads, directions)), params)
    f = _compile(params + [d] + directions, grads + hv, backend)
    xv, wv = rng.normal(size=IMAGE), rng.normal(size=(3, 2, 3, 3)) * 0.5
    pooled = _pooled_shape(CASES[case], (2, 3) + IMAGE[2:])
    dv = rng.normal(size=(int(np.prod(pooled[1:])), 2))
    vx, vw = rng.normal(size=xv.shape), rng.normal(size=wv.shape)
    eps = 1e-6
    plus = f(xv + eps * vx, wv + eps * vw, dv, vx, vw)[:2]
    minus = f(xv - eps * vx, wv - eps * vw, dv, vx, vw)[:2]
    got = f(xv, wv, dv, vx, vw)[2:]
    for k in range(2):
        numeric = (plus[k] - minus[k]) / (2 * eps)
        assert np.abs(numeric).max() > 1e-2    # a curvature worth checking
        np.testing.assert_allclose(got[k], numeric, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------- exact transpose
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_grad_grad_is_the_transpose_of_pool_grad_with_ties(backend, dtype):
    # <Pool2dGradGrad(x, ggx, out), gz> = <ggx, Pool2dGrad(x, gz, out)>, with ties
    # (every maximum of a window counts), zeros of either sign and a NaN; and the
    # same values as the reference to the last bit.
    rng = np.random.default_rng(40)
    x, ggx = T.tensor4("x", dtype=dtype), T.tensor4("ggx", dtype=dtype)
    gzs = [T.tensor4(f"gz{case}", dtype=dtype) for case in range(len(CASES))]
    outputs = []
    for kwargs, gz in zip(CASES, gzs):
        params = (kwargs["ws"], kwargs.get("ignore_border", True), kwargs.get("stride"),
                  kwargs.get("pad", (0, 0)))
        out = T.nnet.pool_2d(x, *params)
        outputs += [Pool2dGrad(*params)(x, gz, out), Pool2dGradGrad(*params)(x, ggx, out)]
    xv = np.round(rng.normal(size=IMAGE), 0).astype(dtype)
    xv[0, 0, 0, :2] = [0.0, -0.0]
    xv[1, 1, 3, 3] = np.nan
    ggxv = rng.normal(size=IMAGE).astype(dtype)
    gzvs = [rng.normal(size=_pooled_shape(kwargs, IMAGE)).astype(dtype) for kwargs in CASES]
    got = _compile([x, ggx] + gzs, outputs, backend)(xv, ggxv, *gzvs)
    want = _compile([x, ggx] + gzs, outputs, "python")(xv, ggxv, *gzvs)
    for case, gzv in enumerate(gzvs):
        gx, ggz = got[2 * case], got[2 * case + 1]
        assert ggz.dtype == dtype and ggz.shape == gzv.shape
        lhs = np.sum(ggz.astype("float64") * gzv)
        rhs = np.sum(ggxv.astype("float64") * gx)
        np.testing.assert_allclose(lhs, rhs, rtol=1e-5 if dtype == "float32" else 1e-12,
                                   err_msg=f"case {CASES[case]}")
        np.testing.assert_array_equal(ggz, want[2 * case + 1])


def test_grad_grad_other_ranks_and_static_shape(backend):
    m = T.dmatrix("m")
    t = T.tensor("float32", shape=(None, None, None))
    s = T.tensor("float64", shape=(3, 7, 5))
    vm, vt, vs = T.dmatrix("vm"), T.tensor("float32", shape=(None,) * 3), T.dtensor3("vs")
    kw = dict(ws=(3, 2), stride=(2, 1), ignore_border=False)
    outs = [graphc.Rop(T.nnet.pool_2d(m, **kw), m, vm),
            graphc.Rop(T.nnet.pool_2d(t, (2, 3)), t, vt),
            graphc.Rop(T.nnet.pool_2d(s, (3, 3), stride=(2, 2), pad=(1, 1)), s, vs)]
    assert outs[2].type.shape == (3, 4, 3)
    rng = np.random.default_rng(5)
    values = [rng.normal(size=(5, 7)), rng.normal(size=(2, 4, 7)).astype("float32"),
              rng.normal(size=(3, 7, 5))]
    values += [rng.normal(size=v.shape).astype(v.dtype) for v in values]
    inputs = [m, t, s, vm, vt, vs]
    got = _compile(inputs, outs + [o.shape for o in outs], backend)(*values)
    want = _compile(inputs, outs, "python")(*values)
    for g, e, shape in zip(got, want, got[3:]):
        assert g.dtype == e.dtype and g.shape == e.shape == tuple(shape)
        np.testing.assert_array_equal(g, e)


def test_grad_grad_errors(backend):
    with pytest.raises(GraphcValueError, match="max pooling only"):
        Pool2dGradGrad((2, 2), mode="average_inc_pad")
    x, ggx, out = T.dtensor4("x"), T.dtensor4("ggx"), T.dtensor4("out")
    f = _compile([x, ggx, out], Pool2dGradGrad((2, 2))(x, ggx, out), backend)
    xv = np.zeros((1, 1, 4, 4))
    with pytest.raises(GraphcError, match="do not fit"):
        f(xv, np.zeros((1, 1, 4, 3)), np.zeros((1, 1, 2, 2)))
    with pytest.raises(GraphcError, match="do not fit"):
        f(xv, xv, np.zeros((1, 1, 3, 2)))
