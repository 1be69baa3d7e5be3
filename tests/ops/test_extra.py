"""Theano's extra ops: cumsum/cumprod, diff, sort/argsort, diag/diagonal/trace,
tril/triu, roll, fill_diagonal, horizontal/vertical_stack, stacklists, specify_shape,
unbroadcast, bincount and unique; against NumPy in float64.

Each value test compiles one graph per backend holding every case (the numba backend
compiles a graph in about a second), with a FallbackWarning an error: every op here has
a numba lowering.
"""
import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc.errors import GraphcError, GraphcTypeError, GraphcValueError, ShapeError
from graphc.ops.extra import ArgSort
from graphc.tensor import extra_ops
from conftest import assert_close

pytestmark = pytest.mark.filterwarnings(
    "error::graphc.backends.numba.fallback.FallbackWarning")


def _check(got, want, dtypes=None):
    """Compare each output with its float64 NumPy reference (shape, dtype, values)."""
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        b = np.asarray(b)
        assert np.shape(a) == b.shape, (k, np.shape(a), b.shape)
        if dtypes is not None and dtypes[k] is not None:
            assert np.asarray(a).dtype == dtypes[k], (k, np.asarray(a).dtype, dtypes[k])
        if b.dtype.kind in "fc":
            assert_close(a, b, dtype=np.asarray(a).dtype)
        else:
            np.testing.assert_array_equal(a, b, err_msg=str(k))


# ---------------------------------------------------------------- values
def test_cumsum_cumprod(backend, rng):
    f32, f64 = T.ftensor3("f32"), T.dtensor3("f64")
    i8, fb = T.bmatrix("i8"), T.bvector("flags")
    flags = fb > 0
    outs, want, dtypes = [], [], []
    f32v = rng.uniform(0.5, 1.5, size=(2, 3, 4)).astype("float32")
    f64v = rng.normal(size=(2, 3, 4))
    i8v = rng.integers(-100, 100, size=(3, 5)).astype("int8")
    flagsv = np.array([1, 0, 1, 1, 0], "int8")
    for x, xv in ((f32, f32v), (f64, f64v)):
        ref = xv.astype("float64")
        for axis in (None, 0, 1, -1):
            outs += [T.cumsum(x, axis), T.cumprod(x, axis)]
            want += [np.cumsum(ref, axis), np.cumprod(ref, axis)]
            dtypes += [x.dtype] * 2
    # Small integers and booleans accumulate in int64, as NumPy's (no int8 wraparound).
    outs += [T.cumsum(i8, 1), T.cumprod(i8, -2), extra_ops.cumsum(flags), f64.cumsum(1),
             f64.cumprod()]
    want += [np.cumsum(i8v.astype("int64"), 1), np.cumprod(i8v.astype("int64"), 0),
             np.cumsum(flagsv > 0), np.cumsum(f64v, 1), np.cumprod(f64v)]
    dtypes += ["int64", "int64", "int64", "float64", "float64"]
    f = graphc.function([f32, f64, i8, fb], outs, backend=backend)
    _check(f(f32v, f64v, i8v, flagsv), want, dtypes)
    # Leading negative zeros stay negative, as NumPy's sums from the first element.
    m = T.dmatrix("m")
    g = graphc.function([m], [T.cumsum(m, 0), T.cumsum(m, 1)], backend=backend)
    zeros = np.array([[-0.0, -0.0], [-0.0, 1.0]])
    for got, axis in zip(g(zeros), (0, 1)):
        np.testing.assert_array_equal(np.signbit(got), np.signbit(np.cumsum(zeros, axis)))


def test_diff(backend, rng):
    x, v, w = T.dmatrix("x"), T.ivector("v"), T.ivector("w")
    flags = w > 0
    y = T.fmatrix("y")
    xv, yv = rng.normal(size=(4, 5)), rng.normal(size=(3, 4)).astype("float32")
    vv = np.array([1, 4, 9, 16, 25], "int32")
    wv = np.array([1, 1, 0, 1], "int32")
    outs = [T.diff(x), T.diff(x, 2), T.diff(x, 1, 0), T.diff(x, 3, axis=-2), T.diff(x, 0),
            T.diff(x, 6), extra_ops.diff(v, 2), extra_ops.diff(flags), T.diff(y, axis=0)]
    want = [np.diff(xv), np.diff(xv, 2), np.diff(xv, 1, 0), np.diff(xv, 3, axis=-2), xv,
            np.diff(xv, 6), np.diff(vv, 2), np.diff(wv > 0), np.diff(yv.astype("float64"), axis=0)]
    dtypes = [None] * 6 + ["int32", "bool", "float32"]
    f = graphc.function([x, v, w, y], outs, backend=backend)
    _check(f(xv, vv, wv, yv), want, dtypes)


def test_sort_argsort(backend, rng):
    t3, m32, iv = T.dtensor3("t3"), T.fmatrix("m32"), T.ivector("iv")
    t3v = rng.normal(size=(2, 3, 4))
    # Ties and NaNs: a stable sort keeps ties in order and puts NaNs last, as NumPy's.
    m32v = np.array([[3, 1, np.nan, 1, 0], [2, 2, -1, np.nan, 2], [0, -0.0, 5, 5, 1]],
                    "float32")
    ivv = np.array([5, -3, 5, 0, 2, -3], "int32")
    outs, want = [], []
    for axis in (-1, 0, 1, None):
        outs += [T.sort(t3, axis), T.argsort(t3, axis)]
        want += [np.sort(t3v, axis), np.argsort(t3v, axis, kind="stable")]
    for axis in (0, 1, None):
        outs += [T.sort(m32, axis), T.argsort(m32, axis, kind="mergesort")]
        want += [np.sort(m32v, axis), np.argsort(m32v, axis, kind="stable")]
    outs += [T.sort(iv), T.argsort(iv), m32.sort(), m32.argsort(axis=0)]
    want += [np.sort(ivv), np.argsort(ivv, kind="stable"), np.sort(m32v),
             np.argsort(m32v, 0, kind="stable")]
    dtypes = ["float64", "int64"] * 4 + ["float32", "int64"] * 3 + \
        ["int32", "int64", "float32", "int64"]
    f = graphc.function([t3, m32, iv], outs, backend=backend)
    _check(f(t3v, m32v, ivv), want, dtypes)


def test_diag_diagonal_trace_fill_diagonal(backend, rng):
    v, m, t3 = T.dvector("v"), T.dmatrix("m"), T.dtensor3("t3")
    wide, im = T.fmatrix("wide"), T.imatrix("im")
    vv, mv, t3v = rng.normal(size=3), rng.normal(size=(4, 3)), rng.normal(size=(2, 3, 4))
    widev = rng.normal(size=(2, 5)).astype("float32")
    imv = np.arange(12, dtype="int32").reshape(3, 4)
    outs = [T.diag(v), T.diag(v, 1), T.diag(v, -2), T.diag(m), T.diag(m, 1), T.diag(m, -2),
            T.diagonal(t3), T.diagonal(t3, 1, 1, 2), T.diagonal(t3, -1, -1, 0),
            T.diagonal(wide, 2), m.diagonal(-1), T.trace(m), T.trace(t3, 0, 1, 2),
            T.trace(im), m.trace(), T.fill_diagonal(m, 7.0), T.fill_diagonal(wide, -1.5),
            T.fill_diagonal(im, 9), extra_ops.fill_diagonal_offset(m, v.sum(), -1),
            extra_ops.fill_diagonal_offset(wide, 2.0, 3), T.fill_diagonal(m, v[0])]

    def filled(a, value, offset=0):
        a = a.astype("float64") if a.dtype.kind == "f" else a.copy()
        w = a[:, offset:] if offset >= 0 else a[-offset:]
        np.fill_diagonal(w, value)
        return a

    want = [np.diag(vv), np.diag(vv, 1), np.diag(vv, -2), np.diag(mv), np.diag(mv, 1),
            np.diag(mv, -2), np.diagonal(t3v), np.diagonal(t3v, 1, 1, 2),
            np.diagonal(t3v, -1, -1, 0), np.diagonal(widev.astype("float64"), 2),
            np.diagonal(mv, -1), np.trace(mv), np.trace(t3v, 0, 1, 2), np.trace(imv),
            np.trace(mv), filled(mv, 7.0), filled(widev, -1.5), filled(imv, 9),
            filled(mv, vv.sum(), -1), filled(widev, 2.0, 3), filled(mv, vv[0])]
    dtypes = [None] * 9 + ["float32", None, None, None, "int64", None, None, "float32",
                           "int32", None, "float32", None]
    f = graphc.function([v, m, t3, wide, im], outs, backend=backend)
    _check(f(vv, mv, t3v, widev, imv), want, dtypes)
    assert T.diag(T.tensor("float64", shape=(3,))).type.shape == (3, 3)
    assert T.diag(T.tensor("float64", shape=(3, 5)), 1).type.shape == (3,)


def test_tril_triu(backend, rng):
    m, t3, im, k = T.dmatrix("m"), T.ftensor3("t3"), T.imatrix("im"), T.lscalar("k")
    mv = rng.normal(size=(4, 3))
    mv[0, 2], mv[1, 2] = np.nan, np.inf     # above the diagonal: NumPy gives 0, not NaN
    t3v = rng.normal(size=(2, 3, 5)).astype("float32")
    imv = np.arange(12, dtype="int32").reshape(3, 4)
    outs = [T.tril(m), T.triu(m), T.tril(m, 1), T.triu(m, -1), T.tril(m, -5), T.triu(m, k),
            T.tril(t3, 2), T.triu(t3), T.tril(im, -1), T.triu(im, k)]
    want = [np.tril(mv), np.triu(mv), np.tril(mv, 1), np.triu(mv, -1), np.tril(mv, -5),
            np.triu(mv, -2), np.tril(t3v, 2), np.triu(t3v), np.tril(imv, -1),
            np.triu(imv, -2)]
    dtypes = [None] * 6 + ["float32", "float32", "int32", "int32"]
    f = graphc.function([m, t3, im, k], outs, backend=backend)
    _check(f(mv, t3v, imv, -2), want, dtypes)


def test_roll(backend, rng):
    x, v, s = T.dtensor3("x"), T.ivector("v"), T.lscalar("s")
    fixed = T.tensor("float32", shape=(3, 4), name="fixed")
    xv, vv = rng.normal(size=(2, 3, 4)), np.arange(5, dtype="int32")
    fixedv = rng.normal(size=(3, 4)).astype("float32")
    outs = [T.roll(x, 1), T.roll(x, -2, 0), T.roll(x, 7, -1), T.roll(x, s, 1), T.roll(x, s),
            T.roll(v, s), T.roll(v, -1), T.roll(x, (1, -1), (0, 2)), T.roll(fixed, 5, 1),
            T.roll(fixed, -4, 1), T.roll(fixed, 2)]
    want = [np.roll(xv, 1), np.roll(xv, -2, 0), np.roll(xv, 7, -1), np.roll(xv, -4, 1),
            np.roll(xv, -4), np.roll(vv, -4), np.roll(vv, -1), np.roll(xv, (1, -1), (0, 2)),
            np.roll(fixedv, 5, 1), fixedv, np.roll(fixedv, 2)]
    dtypes = [None] * 5 + ["int32", "int32", None, "float32", "float32", "float32"]
    f = graphc.function([x, v, s, fixed], outs, backend=backend)
    _check(f(xv, vv, -4, fixedv), want, dtypes)


def test_stacks_and_stacklists(backend, rng):
    a, b, c = T.dmatrices("a", "b", "c")
    p, q = T.dscalars("p", "q")
    av, bv, cv = rng.normal(size=(2, 3)), rng.normal(size=(2, 1)), rng.normal(size=(4, 3))
    outs = [T.horizontal_stack(a, b, a), T.vertical_stack(a, c), T.stacklists([p, q, p]),
            T.stacklists([[p, q], [q, 2.0]]), T.stacklists([a, a])]
    want = [np.hstack([av, bv, av]), np.vstack([av, cv]), [1.5, -2.0, 1.5],
            [[1.5, -2.0], [-2.0, 2.0]], np.stack([av, av])]
    f = graphc.function([a, b, c, p, q], outs, backend=backend)
    _check(f(av, bv, cv, 1.5, -2.0), want)


def test_specify_shape_and_unbroadcast(backend, rng):
    x, n = T.dmatrix("x"), T.lscalar("n")
    y = T.specify_shape(x, (2, n))
    z = T.specify_shape(x, T.as_tensor_variable(np.array([2, 3])))
    assert y.type.shape == (2, None) and z.type.shape == (2, 3)
    assert T.specify_shape(x, (None, None)) is x
    row = T.tensor("float64", shape=(1, None), name="row")
    loose = T.unbroadcast(row, 0)
    assert loose.broadcastable == (False, False)
    assert T.unbroadcast(x, 0, 1) is x            # nothing to forget
    f = graphc.function([x, n, row], [y, z.sum(axis=0), y.shape[0] * 10, loose * 2],
                        backend=backend)
    xv, rowv = rng.normal(size=(2, 3)), rng.normal(size=(1, 3))
    got = f(xv, 3, rowv)
    _check(got, [xv, xv.sum(axis=0), 20, rowv * 2])
    # An identity op, yet the caller's array is never handed back.
    assert not np.shares_memory(got[0], xv)
    with pytest.raises(ShapeError, match=r"expected shape \(2, 4\), got \(2, 3\)"):
        f(xv, 4, rowv)
    with pytest.raises(GraphcError, match=r"expected shape \(2, 3\), got \(3, 3\)"):
        f(rng.normal(size=(3, 3)), 3, rowv)


def test_bincount_unique(backend):
    x, w, w32, n = T.lvector("x"), T.dvector("w"), T.fvector("w32"), T.lscalar("n")
    small = T.ivector("small")
    xv = np.array([3, 1, 1, 0, 7, 3, 1])
    wv = np.linspace(-1.0, 2.0, 7)
    w32v = wv.astype("float32")
    smallv = np.array([2, 2, 0], "int32")
    outs = [extra_ops.bincount(x), extra_ops.bincount(x, minlength=10),
            extra_ops.bincount(x, w), extra_ops.bincount(x, w32, minlength=n),
            extra_ops.bincount(small, minlength=2), T.bincount(small, minlength=n)]
    want = [np.bincount(xv), np.bincount(xv, minlength=10), np.bincount(xv, wv),
            np.bincount(xv, w32v, minlength=9), np.bincount(smallv, minlength=2),
            np.bincount(smallv, minlength=9)]
    dtypes = ["int64", "int64", "float64", "float32", "int64", "int64"]
    grid, flt = T.imatrix("grid"), T.dvector("flt")
    gridv = np.array([[3, 1, 3], [0, 1, 5]], "int32")
    fltv = np.array([2.0, np.nan, -1.0, 2.0, np.nan, 0.5])
    outs += [extra_ops.unique(grid), *extra_ops.unique(grid, True, True, True),
             *extra_ops.unique(flt, return_counts=True), extra_ops.unique(flt, False, True)[1]]
    u = np.unique(gridv, True, True, True)
    want += [u[0], u[0], u[1], u[2].reshape(-1), u[3],
             *np.unique(fltv, return_counts=True), np.unique(fltv, return_inverse=True)[1]]
    dtypes += ["int32", "int32", "int64", "int64", "int64", "float64", "int64", "int64"]
    f = graphc.function([x, w, w32, n, small, grid, flt], outs, backend=backend)
    _check(f(xv, wv, w32v, 9, smallv, gridv, fltv), want, dtypes)
    with pytest.raises(GraphcError, match="negative"):
        f(np.array([1, -1]), wv[:2], w32v[:2], 0, smallv, gridv, fltv)


# ------------------------------------------------------------- gradients
def U(*shape, lo=-1.0, hi=1.0, seed=0):
    return np.random.default_rng(seed + len(shape)).uniform(lo, hi, size=shape)


def _away_from_zero(*shape):
    values = U(*shape, lo=0.5, hi=1.5)
    return values * np.where(U(*shape, seed=7) > 0, 1.0, -1.0)


GRADIENTS = {
    "cumsum_flat": (lambda x: T.cumsum(x), [U(2, 3)]),
    "cumsum_axis": (lambda x: T.cumsum(x, axis=-2) * T.cumsum(x, axis=2), [U(2, 3, 2)]),
    "cumprod_axis": (lambda x: T.cumprod(x, axis=0), [_away_from_zero(3, 2)]),
    "cumprod_flat": (lambda x: T.cumprod(x) ** 2, [_away_from_zero(2, 2)]),
    "diff": (lambda x: T.diff(x, 2, axis=0) ** 2 + T.diff(x).sum(), [U(4, 3)]),
    "sort_last": (lambda x: T.sort(x) * np.arange(4.0), [U(3, 4)]),
    "sort_middle": (lambda x: T.sort(x, axis=1) * np.arange(3.0)[:, None], [U(2, 3, 2)]),
    "sort_flat": (lambda x: T.sort(x, axis=None) * np.arange(6.0), [U(2, 3)]),
    "diag_vector": (lambda v: T.diag(v, 1).sum(axis=0) * T.diag(v ** 2, -1).sum(axis=1),
                    [U(3)]),
    "diag_matrix": (lambda m: T.diag(m, -1), [U(3, 4)]),
    "diagonal": (lambda t: T.diagonal(t, 1, 2, 0), [U(3, 2, 4)]),
    "trace": (lambda m: T.trace(m) * T.trace(m ** 2, 1), [U(3, 3)]),
    "tril_triu": (lambda m: T.tril(m, -1) * 3 + T.triu(m ** 2, 1), [U(3, 4)]),
    "roll": (lambda x: T.roll(x, -1) * np.arange(6.0).reshape(2, 3) + T.roll(x, 4, 1),
             [U(2, 3)]),
    "fill_diagonal": (lambda m, s: T.fill_diagonal(m, s) ** 2
                      + extra_ops.fill_diagonal_offset(m, s * 3, 1), [U(3, 4), U()]),
    "stacks": (lambda a, b: T.horizontal_stack(a, b) * T.vertical_stack(b, a).T,
               [U(2, 2), U(2, 2, seed=3)]),
    "stacklists": (lambda a, b: T.stacklists([[a, b], [b * a, a]]), [U(), U(seed=5)]),
    "specify_shape": (lambda x: T.specify_shape(x, (2, None)) ** 2, [U(2, 3)]),
    "unbroadcast": (lambda v: T.unbroadcast(T.shape_padleft(v), 0) * v, [U(3)]),
    "bincount_weights": (lambda w: extra_ops.bincount(np.array([0, 2, 2, 5, 1, 2]), w ** 2,
                                                      minlength=8), [U(6)]),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradients(name):
    fun, points = GRADIENTS[name]
    graphc.verify_grad(fun, points, rng=np.random.default_rng(0))


def test_gradients_on_the_backend(backend, rng):
    # One graph through most of the new ops and their gradient rules.
    def fun(m, v):
        rolled = T.roll(T.cumsum(m, axis=1), 1, 0)
        sorted_ = T.sort(T.tril(m) + T.diag(v, 1)[:3] * 2, axis=0)
        return (T.fill_diagonal(rolled * sorted_, T.trace(m[:, :3]))
                + T.cumprod(m * 0.5 + 2, axis=-1) + T.diff(m, axis=0).sum())
    graphc.verify_grad(fun, [U(3, 4), U(3, seed=2)], rng=rng, backend=backend)


def test_argsort_passes_no_gradient(backend):
    x = T.dvector("x")
    assert ArgSort(0).grad([x], [ArgSort(0)(x)], [None]) == [None]
    g = graphc.grad((x * T.argsort(x)).sum(), x)
    f = graphc.function([x], g, backend=backend)
    np.testing.assert_array_equal(f(np.array([0.5, -1.0, 2.0])), [1.0, 0.0, 2.0])


# -------------------------------------------------------- build-time errors
@pytest.mark.parametrize("build, error, match", [
    (lambda: T.tril(T.dvector()), GraphcTypeError, r"tril: needs at least 2 .*\(\?,\)"),
    (lambda: T.triu(T.dscalar()), GraphcTypeError, "triu: needs at least 2"),
    (lambda: T.cumsum(T.dmatrix(), axis=2), GraphcValueError, "cumsum: axis 2 .* ndim 2"),
    (lambda: T.cumprod(T.dvector(), axis=-2), GraphcValueError, "cumprod: axis -2"),
    (lambda: T.sort(T.dmatrix(), axis=3), GraphcValueError, "sort: axis 3 .* ndim 2"),
    (lambda: T.argsort(T.dscalar()), GraphcValueError, "argsort: axis -1 .* ndim 0"),
    (lambda: T.sort(T.dvector(), order="f"), GraphcValueError, "order"),
    (lambda: T.diff(T.dscalar()), GraphcTypeError, "diff: needs at least 1"),
    (lambda: T.diff(T.dmatrix(), axis=2), GraphcValueError, "diff: axis 2"),
    (lambda: T.diff(T.dvector(), n=-1), GraphcValueError, "diff: order"),
    (lambda: T.diag(T.dtensor3()), GraphcTypeError, "diag: expects a vector or a matrix"),
    (lambda: T.diagonal(T.dvector()), GraphcTypeError, "diagonal: needs at least 2"),
    (lambda: T.diagonal(T.dmatrix(), 0, 1, -1), GraphcValueError, "same axis 1"),
    (lambda: T.trace(T.dmatrix(), axis2=2), GraphcValueError, "trace: axis 2"),
    (lambda: T.fill_diagonal(T.dvector(), 1.0), GraphcTypeError, "fill_diagonal: a must"),
    (lambda: T.fill_diagonal(T.dmatrix(), T.dvector()), GraphcTypeError, "val must be a"),
    (lambda: T.fill_diagonal(T.imatrix(), 1.5), GraphcTypeError, "values into a int32"),
    (lambda: T.roll(T.dmatrix(), 1, 2), GraphcValueError, "roll: axis 2"),
    (lambda: T.roll(T.dvector(), T.dscalar()), GraphcTypeError, "shift must be an integer"),
    (lambda: T.horizontal_stack(T.dmatrix(), T.dvector()), GraphcTypeError,
     "horizontal_stack: expects matrices"),
    (lambda: T.vertical_stack(T.dtensor3()), GraphcTypeError, "vertical_stack"),
    (lambda: T.specify_shape(T.dmatrix(), (2,)), GraphcTypeError, "1 lengths for"),
    (lambda: T.specify_shape(T.tensor("float64", shape=(3,)), (4,)), ShapeError,
     "expected length 4 on axis 0"),
    (lambda: T.unbroadcast(T.dmatrix(), 2), GraphcValueError, "unbroadcast: axis 2"),
    (lambda: T.bincount(T.dvector()), GraphcTypeError, "bincount: x must be an integer"),
    (lambda: T.bincount(T.lmatrix()), GraphcTypeError, "bincount: x must be an integer"),
    (lambda: T.bincount(T.tensor("int64", shape=(3,)), T.tensor("float64", shape=(4,))),
     ShapeError, "differ in length"),
    (lambda: extra_ops.unique(T.dmatrix(), axis=0), GraphcValueError, "axis=None"),
])
def test_bad_input_raises_at_build_time(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_exports():
    for name in ["cumsum", "cumprod", "diff", "bincount", "unique", "fill_diagonal",
                 "fill_diagonal_offset", "to_one_hot", "repeat"]:
        assert callable(getattr(extra_ops, name)), name
    for name in ["sort", "argsort", "diag", "diagonal", "trace", "tril", "triu", "roll",
                 "fill_diagonal", "horizontal_stack", "vertical_stack", "stacklists",
                 "specify_shape", "unbroadcast", "cumsum", "cumprod", "bincount", "diff"]:
        assert callable(getattr(T, name)), name
