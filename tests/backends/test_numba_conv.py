"""The numba kernels of conv2d and pool_2d (and their gradients) agree with the python backend."""
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import graphc  # noqa: E402
import graphc.tensor as T  # noqa: E402
from graphc.backends.numba.fallback import FallbackWarning  # noqa: E402
from graphc.errors import GraphcError  # noqa: E402
from graphc.ops.conv import Conv2dGradInputs, Conv2dGradWeights  # noqa: E402

CONV_CASES = [
    # (image shape, filter shape, keyword arguments)
    ((2, 3, 9, 8), (4, 3, 3, 2), {}),
    ((2, 3, 9, 8), (4, 3, 3, 3), {"border_mode": "full"}),
    ((2, 3, 9, 8), (4, 3, 3, 3), {"border_mode": "half"}),
    ((2, 3, 9, 8), (4, 3, 2, 4), {"border_mode": "half"}),
    ((2, 2, 9, 8), (3, 2, 3, 3), {"border_mode": (1, 2), "subsample": (2, 3)}),
    ((2, 2, 11, 10), (3, 2, 3, 2), {"filter_dilation": (2, 3)}),
    ((1, 2, 11, 10), (3, 2, 3, 3), {"border_mode": "full", "subsample": 2,
                                    "filter_dilation": 2}),
    ((2, 1, 7, 7), (2, 1, 5, 5), {"border_mode": "half", "subsample": (3, 1)}),
    ((3, 1, 6, 6), (1, 1, 6, 6), {}),                     # the filter covers the image
    ((2, 2, 3, 3), (2, 2, 5, 5), {"border_mode": 2}),     # filter larger than the image
    ((0, 2, 5, 5), (3, 2, 3, 3), {}),                     # empty batch
    # More images than one BLAS chunk holds (conv.CHUNK): a last, partial chunk.
    ((11, 16, 34, 34), (2, 16, 3, 3), {"border_mode": "half"}),
]


def _compile(inputs, outputs, backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        return graphc.function(inputs, outputs, backend=backend, on_unused_input="ignore")


def _agree(inputs, outputs, values, rtol):
    got = _compile(inputs, outputs, "numba")(*values)
    want = _compile(inputs, outputs, "python")(*values)
    for g, e in zip(got, want):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv2d_and_gradients_agree(case, dtype, rng):
    ishape, wshape, kwargs = CONV_CASES[case]
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    y = T.nnet.conv2d(x, w, **kwargs)
    g = T.tensor4("g", dtype=dtype)
    cost = (y * g).sum()
    gx, gw = graphc.grad(cost, [x, w])
    xv = rng.normal(size=ishape).astype(dtype)
    wv = rng.normal(size=wshape).astype(dtype)
    yshape = graphc.function([x, w], y.shape, backend="python")(xv, wv)
    gv = rng.normal(size=tuple(yshape)).astype(dtype)
    f = _compile([x, w, g], [y, gx, gw], "numba")
    kinds = {type(node.op) for node in f.fgraph.toposort()}
    assert {Conv2dGradInputs, Conv2dGradWeights} <= kinds
    _agree([x, w, g], [y, gx, gw], [xv, wv, gv], 1e-4 if dtype == "float32" else 1e-10)


def test_conv2d_non_contiguous_inputs_and_errors(rng):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    f = _compile([x, w], T.nnet.conv2d(x, w, border_mode="half"), "numba")
    xv = rng.normal(size=(2, 3, 8, 9)).transpose(0, 1, 3, 2)
    wv = rng.normal(size=(4, 3, 3, 3))[:, :, ::-1]
    want = _compile([x, w], T.nnet.conv2d(x, w, border_mode="half"), "python")(xv, wv)
    np.testing.assert_allclose(f(xv, wv), want, rtol=1e-12)
    with pytest.raises(GraphcError, match="channels"):
        f(rng.normal(size=(2, 2, 8, 8)), rng.normal(size=(4, 3, 3, 3)))
    g = _compile([x, w], T.nnet.conv2d(x, w), "numba")
    with pytest.raises(GraphcError, match="too small"):
        g(rng.normal(size=(1, 1, 2, 2)), rng.normal(size=(1, 1, 3, 3)))


POOL_CASES = [
    {"ws": (2, 2)},
    {"ws": (3, 2), "ignore_border": False},
    {"ws": (2, 3), "stride": (1, 2), "ignore_border": False},
    {"ws": (3, 3), "stride": (2, 2), "pad": (1, 2)},
    {"ws": (2, 2), "mode": "average_inc_pad"},
    {"ws": (3, 2), "ignore_border": False, "mode": "average_inc_pad"},
    {"ws": (3, 3), "stride": (2, 1), "pad": (1, 1), "mode": "average_inc_pad"},
    {"ws": (3, 3), "stride": (2, 1), "pad": (2, 1), "mode": "average_exc_pad"},
    {"ws": (2, 3), "stride": (3, 1), "ignore_border": False, "mode": "average_exc_pad"},
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", range(len(POOL_CASES)))
def test_pool_and_gradient_agree(case, dtype, rng):
    kwargs = POOL_CASES[case]
    x = T.tensor4("x", dtype=dtype)
    y = T.nnet.pool_2d(x, **kwargs)
    g = T.tensor4("g", dtype=dtype)
    gx = graphc.grad((y * g).sum(), x)
    # Rounded values make ties, which max pooling must give to every maximum.
    xv = np.round(rng.normal(size=(2, 3, 7, 8)), 1).astype(dtype)
    yshape = graphc.function([x], y.shape, backend="python")(xv)
    gv = rng.normal(size=tuple(yshape)).astype(dtype)
    _agree([x, g], [y, gx], [xv, gv], 1e-5 if dtype == "float32" else 1e-12)


def test_pool_other_ranks_dtypes_and_nan(rng):
    m = T.dmatrix("m")
    t = T.tensor("int32", shape=(None, None, None))
    y = T.tensor("float64", shape=(None,) * 5)
    outs = [T.nnet.pool_2d(m, (2, 2), ignore_border=False), T.nnet.pool_2d(t, (2, 3)),
            T.nnet.pool_2d(y, (3, 2), mode="average_exc_pad", pad=(1, 1))]
    mv = rng.normal(size=(5, 7))
    mv[0, 0] = np.nan
    tv = rng.integers(-50, 50, size=(3, 6, 7)).astype("int32")
    yv = rng.normal(size=(2, 1, 3, 5, 4))
    _agree([m, t, y], outs, [mv, tv, yv], 1e-12)


def test_lenet_step_has_no_fallback(rng):
    x, labels = T.ftensor4("x"), T.ivector("labels")
    w1 = graphc.shared((rng.normal(size=(4, 1, 5, 5)) * 0.1).astype("float32"))
    w2 = graphc.shared((rng.normal(size=(6, 4, 3, 3)) * 0.1).astype("float32"))
    v = graphc.shared((rng.normal(size=(6 * 2 * 2, 10)) * 0.1).astype("float32"))
    h = T.nnet.pool_2d(T.maximum(T.nnet.conv2d(x, w1), 0), (2, 2))
    h = T.nnet.pool_2d(T.maximum(T.nnet.conv2d(h, w2, border_mode="half"), 0), (2, 2))
    p = T.nnet.softmax(T.dot(h.flatten(2), v))
    cost = T.nnet.categorical_crossentropy(p, labels).mean()
    grads = graphc.grad(cost, [w1, w2, v])
    xv = rng.normal(size=(8, 1, 14, 14)).astype("float32")
    yv = rng.integers(0, 10, size=8).astype("int32")
    _agree([x, labels], [cost] + grads, [xv, yv], 1e-4)


@pytest.mark.parametrize("shape", [(2, 3, 8, 6), (2, 3, 7, 9)])
@pytest.mark.parametrize("ignore_border", [True, False])
def test_max_pool_2x2_is_exact_with_nans_zeros_and_ties(shape, ignore_border, rng):
    # 2x2 windows with stride 2 take the fast loops when they tile (part of) the
    # image; the values and the gradient must equal the reference's exactly.
    x, g = T.ftensor4("x"), T.ftensor4("g")
    y = T.nnet.pool_2d(x, (2, 2), ignore_border=ignore_border)
    gx = graphc.grad((y * g).sum(), x)
    xv = np.round(rng.normal(size=shape), 0).astype("float32")
    xv[0, 0, 0, :2] = [0.0, -0.0]          # equal maxima of either sign
    xv[0, 1, 2, 3] = np.nan                # a NaN wins its window
    xv[1, 2, :2, :2] = 1.0                 # a four-way tie
    yshape = graphc.function([x], y.shape, backend="python")(xv)
    gv = rng.normal(size=tuple(yshape)).astype("float32")
    got = _compile([x, g], [y, gx], "numba")(xv, gv)
    want = _compile([x, g], [y, gx], "python")(xv, gv)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
