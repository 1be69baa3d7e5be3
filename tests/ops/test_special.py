"""Special functions, rounding modes and Theano's comparison helpers.

Values are compared with float64 references that do not share the implementation:
the ``math`` module where it has the function, bisection on ``math.erf``/``erfc``
for the inverse error functions, and central differences of ``math.lgamma`` for
psi; scipy.special, when it is installed, checks the far tails to float64 accuracy.
Each test builds one graph with many outputs, so the numba backend compiles a few
modules rather than one per function.
"""
import math

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc import config
from conftest import assert_close, tolerance

inf, nan = math.inf, math.nan


# ------------------------------------------------------------- references
def _vectorize(scalar):
    """A float64 reference over arrays from a scalar function of a Python float."""
    return np.vectorize(lambda v: scalar(float(v)), otypes=[np.float64])


def _bisect(increasing, target, lo, hi):
    """The x in [lo, hi] where ``increasing(x)`` crosses ``target``, to the last bit."""
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return mid
        if increasing(mid) < target:
            lo = mid
        else:
            hi = mid


def _erfinv(y):
    if y < 0:
        return -_erfinv(-y)
    if y <= 0.5:
        return _bisect(math.erf, y, 0.0, 1.0)
    # erf(x) = y  <=>  erfc(x) = 1 - y, exact here, and erfc keeps the tail's digits.
    return _bisect(lambda x: -math.erfc(x), -(1.0 - y), 0.0, 30.0)


def _erfcinv(q):
    if q > 1:
        return -_erfcinv(2.0 - q)
    return _bisect(lambda x: -math.erfc(x), -q, 0.0, 30.0)


def _psi(x):
    """d/dx log|gamma(x)| by a five-point central difference, the step well inside
    the distance to the nearest pole and in scale with x (truncation ~h^4, rounding
    ~eps |lgamma| / h: ~1e-11 relative)."""
    h = 1e-3 * (x if x > 0 else min(1.0, abs(x - round(x))))
    f = math.lgamma
    return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)


def _domain(fn):
    """NaN where ``fn`` raises ValueError (outside its domain), as NumPy returns."""
    def safe(x):
        try:
            return fn(x)
        except ValueError:
            return nan
    return safe


# name -> (build, float64 reference of the interior, random domain, extra interior
# points, edges: (inputs, exact IEEE results) that hold in float32 and float64)
UNARY = {
    "erfc": (T.erfc, _vectorize(math.erfc), (-5, 9), [0.0, 1e-30, -1e-30],
             ([0.0, -0.0, inf, -inf, nan, 30.0, -30.0], [1, 1, 0, 2, nan, 0, 2])),
    "erfinv": (T.erfinv, _vectorize(_erfinv), (-1, 1), [1e-30, -1e-30, 0.999999, -0.9999],
               ([1.0, -1.0, 0.0, 1.5, -1.5, inf, -inf, nan], [inf, -inf, 0, nan, nan, nan,
                                                               nan, nan])),
    "erfcinv": (T.erfcinv, _vectorize(_erfcinv), (0, 2), [1e-30, 1e-10, 1.999, 1.0],
                ([0.0, 2.0, 1.0, -0.1, 2.1, inf, -inf, nan], [inf, -inf, 0, nan, nan, nan,
                                                               nan, nan])),
    "gammaln": (T.gammaln, _vectorize(math.lgamma), (-8, 30), [1e-30, 1e20, -3.5, 2.5],
                ([0.0, -0.0, -1.0, -7.0, 1.0, 2.0, inf, -inf, nan],
                 [inf, inf, inf, inf, 0, 0, inf, inf, nan])),
    "gamma": (T.gamma, _vectorize(math.gamma), (-5, 30), [0.5, -0.5, 1e-3, -4.99],
              ([0.0, -0.0, -1.0, -3.0, 1.0, 3.0, 200.0, inf, -inf, nan],
               [inf, -inf, nan, nan, 1, 2, inf, inf, nan, nan])),
    "psi": (T.psi, _vectorize(_psi), (-8, 25), [0.5, -0.5, 1e-3, 1e6, -7.25],
            ([0.0, -0.0, -1.0, -6.0, inf, -inf, nan], [-inf, inf, nan, nan, inf, nan, nan])),
    "arcsinh": (T.arcsinh, _vectorize(math.asinh), (-10, 10), [1e-30, 1e30],
                ([0.0, inf, -inf, nan], [0, inf, -inf, nan])),
    "arccosh": (T.arccosh, _vectorize(_domain(math.acosh)), (1, 10), [1e30, 1.0 + 1e-6],
                ([1.0, 0.5, -1.0, inf, -inf, nan], [0, nan, nan, inf, nan, nan])),
    "arctanh": (T.arctanh, _vectorize(_domain(math.atanh)), (-0.99, 0.99), [1e-30, 0.5],
                ([0.0, 1.0, -1.0, 1.5, inf, nan], [0, inf, -inf, nan, nan, nan])),
    "deg2rad": (T.deg2rad, np.deg2rad, (-720, 720), [180.0, -90.0],
                ([0.0, inf, -inf, nan], [0, inf, -inf, nan])),
    "rad2deg": (T.rad2deg, np.rad2deg, (-7, 7), [math.pi],
                ([0.0, inf, -inf, nan], [0, inf, -inf, nan])),
    "trunc": (T.trunc, np.trunc, (-5, 5), [],
              ([0.5, -0.5, 1.5, -2.7, 3.0, inf, -inf, nan], [0, 0, 1, -2, 3, inf, -inf, nan])),
    "round_half_away_from_zero": (
        T.round_half_away_from_zero, _vectorize(lambda v: math.copysign(
            math.floor(abs(v) + 0.5), v)), (-5, 5), [],
        ([0.5, -0.5, 1.5, -2.5, 2.5, 0.4, -0.6, inf, -inf, nan],
         [1, -1, 2, -3, 3, 0, -1, inf, -inf, nan])),
    "round_half_to_even": (
        T.round_half_to_even, np.round, (-5, 5), [],
        ([0.5, -0.5, 1.5, -2.5, 2.5, inf, nan], [0, 0, 2, -2, 2, inf, nan])),
    # x / (1 + |x|), Theano's formula: +-inf gives inf / inf = NaN there, as in Theano.
    "softsign": (T.nnet.softsign, lambda v: v / (1 + np.abs(v)), (-10, 10), [1e30],
                 ([0.0, 1.0, -3.0, nan], [0, 0.5, -0.75, nan])),
}

# Five-point differences of lgamma are good to ~1e-10, not to float64's 1e-12.
REFERENCE_TOLERANCE = {"psi": (1e-9, 1e-9)}


# ------------------------------------------------------------------ values
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_functions_match_references_and_ieee_edges(backend, rng, dtype):
    names = sorted(UNARY)
    xs = [T.tensor(dtype, shape=(None,), name=n) for n in names]
    f = graphc.function(xs, [UNARY[n][0](x) for n, x in zip(names, xs)], backend=backend)
    interiors, values = [], []
    for name in names:
        _, _, domain, extra, (edges, _) = UNARY[name]
        interior = np.concatenate([rng.uniform(*domain, size=40), extra]).astype(dtype)
        interiors.append(interior)
        values.append(np.concatenate([interior, np.array(edges, dtype=dtype)]))
    for name, interior, result in zip(names, interiors, f(*values)):
        build, reference, _, _, (edges, expected) = UNARY[name]
        assert result.dtype == dtype, name
        n = len(interior)
        want = reference(interior.astype("float64"))
        rtol, atol = tolerance(dtype)
        if dtype == "float64":
            rtol, atol = REFERENCE_TOLERANCE.get(name, (rtol, atol))
        np.testing.assert_allclose(result[:n], want, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=name)
        np.testing.assert_array_equal(result[n:], np.array(expected, dtype=dtype),
                                      err_msg=f"{name} at {edges}")


def _assert_round_trip(back, target, x):
    """``back`` (erf or erfc of ``x``) is ``target`` up to the rounding of ``x``, which
    erfc magnifies by 2 x^2 in relative terms (its logarithmic slope)."""
    allowed = 1e-15 * (4 + 2 * x * x)
    assert np.all(np.abs(back - target) <= allowed * np.abs(target)), \
        np.max(np.abs(back / target - 1) / allowed)


def test_inverse_error_functions_invert_erf_and_erfc(backend):
    # The round trip through math.erf/erfc, over many magnitudes of the argument.
    y = np.concatenate([-np.geomspace(1e-300, 1.0 - 1e-15, 60),
                        np.geomspace(1e-300, 1.0 - 1e-15, 60)])
    q = np.concatenate([np.geomspace(1e-300, 1.0, 60), 2.0 - np.geomspace(1e-15, 1.0, 30)])
    a, b = T.dvector("a"), T.dvector("b")
    f = graphc.function([a, b], [T.erfinv(a), T.erfcinv(b)], backend=backend)
    x, z = f(y, q)
    tail = np.abs(y) > 0.5
    erf, erfc = np.vectorize(math.erf), np.vectorize(math.erfc)
    _assert_round_trip(erf(x[~tail]), y[~tail], x[~tail])
    _assert_round_trip(erfc(np.abs(x[tail])), 1.0 - np.abs(y[tail]), x[tail])
    _assert_round_trip(erfc(z), q, z)


def test_against_scipy_in_the_tails(backend, rng):
    special = pytest.importorskip("scipy.special")
    # arguments where the references above are weak or slow: far tails, huge values
    cases = {
        "erfinv": np.concatenate([rng.uniform(-1, 1, 200), 1.0 - np.geomspace(1e-16, 0.5, 50),
                                  np.geomspace(1e-300, 0.5, 20)]),
        "erfcinv": np.concatenate([rng.uniform(0, 2, 200), np.geomspace(1e-300, 0.5, 80),
                                   2.0 - np.geomspace(1e-16, 0.5, 30)]),
        "erfc": rng.uniform(-6, 26, 200),    # (scipy flushes what is subnormal beyond)
        "gammaln": np.concatenate([rng.uniform(-50, 50, 200), np.geomspace(1e-300, 1e300, 50)]),
        "gamma": np.concatenate([rng.uniform(-30, 171, 200), np.geomspace(1e-300, 1, 20)]),
        "psi": np.concatenate([rng.uniform(-30, 30, 200), np.geomspace(1e-300, 1e300, 50),
                               -np.geomspace(1e-300, 1e10, 50) - 0.25]),
    }
    names = sorted(cases)
    xs = [T.dvector(n) for n in names]
    f = graphc.function(xs, [getattr(T, n)(x) for n, x in zip(names, xs)], backend=backend)
    # scipy's own psi is good to ~2e-12 (against mpmath), ours to ~4e-14; near their
    # zeros, gammaln and psi are compared in absolute terms.
    tolerances = {"psi": (5e-12, 1e-14), "gammaln": (1e-13, 1e-14)}
    for name, result in zip(names, f(*[cases[n] for n in names])):
        expected = getattr(special, name)(cases[name])
        rtol, atol = tolerances.get(name, (1e-13, 0))
        np.testing.assert_allclose(result, expected, rtol=rtol, atol=atol, err_msg=name)


def test_dtypes_of_integer_inputs(backend):
    i = T.ivector("i")
    floats = [T.erfc(i), T.erfinv(i), T.erfcinv(i), T.gammaln(i), T.gamma(i), T.psi(i),
              T.arcsinh(i), T.arccosh(i), T.arctanh(i), T.deg2rad(i), T.rad2deg(i),
              T.nnet.softsign(i)]
    kept = [T.trunc(i), T.round_half_away_from_zero(i), T.round(i, "half_away_from_zero"),
            T.round_half_to_even(i)]
    assert {e.dtype for e in floats} == {config.floatX}
    assert {e.dtype for e in kept} == {"int32"}
    f = graphc.function([i], floats + kept, backend=backend)
    iv = np.array([1, 2, 5], dtype="int32")
    results = f(iv)
    assert_close(results[3], [0.0, 0.0, math.lgamma(5)], config.floatX)
    assert_close(results[4], [1.0, 1.0, 24.0], config.floatX)
    assert_close(results[9], np.deg2rad(iv), config.floatX)
    for got in results[len(floats):]:
        assert got.dtype == "int32"
        np.testing.assert_array_equal(got, iv)


def test_fused_chain_of_special_functions(backend, rng):
    # erfinv(erf(x)) == x, gamma = exp(gammaln) on x > 0, and a psi recurrence, all in
    # one fused loop on numba.
    x = T.dvector("x")
    roundtrip = T.erfinv(T.erf(x * 0.5)) * 2
    gammas = T.exp(T.gammaln(x + 1)) - T.gamma(x + 1)
    recurrence = T.psi(x + 1) - T.psi(x) - 1 / x
    f = graphc.function([x], [roundtrip, gammas, recurrence], backend=backend)
    xv = rng.uniform(0.1, 3, size=50)
    got = f(xv)
    assert_close(got[0], xv)
    np.testing.assert_allclose(got[1], 0, atol=1e-12 * np.vectorize(math.gamma)(xv + 1).max())
    np.testing.assert_allclose(got[2], 0, atol=1e-13)
    if backend == "numba":
        scalars = [str(node.op) for node in f.fgraph.toposort()]
        assert any("composite" in s and "erfinv" in s for s in scalars), scalars


# ------------------------------------------------------------- gradients
def test_gradients_by_finite_differences(rng):
    # verify_grad on the reference backend; the next test checks each backend's values.
    def fun(a, b, c, d, e):
        return T.concatenate([
            T.erfc(a), T.erfinv(b), T.erfcinv(c), T.gammaln(d), T.gamma(d), T.arcsinh(a),
            T.arccosh(e), T.arctanh(b), T.deg2rad(a), T.rad2deg(a), T.nnet.softsign(a),
            T.largest(a, b, c), T.smallest(a, b, c),
        ])
    points = [rng.uniform(-2, 2, 4), rng.uniform(-0.9, 0.9, 4), rng.uniform(0.1, 1.9, 4),
              np.concatenate([rng.uniform(0.2, 6, 3), [-2.5]]), rng.uniform(1.2, 4, 4)]
    graphc.verify_grad(fun, points, rng=rng)


def test_gradients_match_the_derivatives(backend, rng):
    names = ["erfc", "erfinv", "erfcinv", "gammaln", "gamma", "arcsinh", "arccosh",
             "arctanh", "softsign"]
    domains = {"erfinv": (-0.95, 0.95), "erfcinv": (0.05, 1.95), "gammaln": (-3.5, 6),
               "gamma": (0.2, 6), "arccosh": (1.1, 4), "arctanh": (-0.9, 0.9)}
    xs = [T.dvector(n) for n in names]
    cost = sum(UNARY[n][0](x).sum() for n, x in zip(names, xs))
    f = graphc.function(xs, graphc.grad(cost, xs), backend=backend)
    values = [rng.uniform(*domains.get(n, (-3, 3)), size=6) for n in names]
    psi = _vectorize(_psi)
    derivatives = {
        "erfc": lambda v: -2 / math.sqrt(math.pi) * np.exp(-v * v),
        "erfinv": lambda v: math.sqrt(math.pi) / 2 * np.exp(_vectorize(_erfinv)(v) ** 2),
        "erfcinv": lambda v: -math.sqrt(math.pi) / 2 * np.exp(_vectorize(_erfcinv)(v) ** 2),
        "gammaln": psi,
        "gamma": lambda v: _vectorize(math.gamma)(v) * psi(v),
        "arcsinh": lambda v: 1 / np.sqrt(v * v + 1),
        "arccosh": lambda v: 1 / np.sqrt(v * v - 1),
        "arctanh": lambda v: 1 / (1 - v * v),
        "softsign": lambda v: 1 / (1 + np.abs(v)) ** 2,
    }
    for name, value, got in zip(names, values, f(*values)):
        np.testing.assert_allclose(got, derivatives[name](value), rtol=1e-9, err_msg=name)


def test_psi_has_no_gradient_but_gammaln_has_psi():
    x = T.dvector("x")
    g = graphc.grad(T.gammaln(x).sum(), x)
    xv = np.array([0.3, 1.0, 4.5, -1.5])
    np.testing.assert_allclose(graphc.function([x], g, backend="python")(xv),
                               [_psi(v) for v in xv], rtol=1e-9)
    with pytest.raises(graphc.GraphcError, match="psi"):
        graphc.grad(T.psi(x).sum(), x)
    with pytest.raises(graphc.GraphcError, match="trigamma"):
        graphc.grad(g.sum(), x)


# --------------------------------------------- comparisons and selection
def test_isclose_allclose_largest_smallest(backend):
    a, b, c = T.dvectors("a", "b", "c")
    m = T.dmatrix("m")
    outs = [T.isclose(a, b), T.isclose(a, b, equal_nan=True), T.isclose(a, b, rtol=0.2),
            T.isclose(a, b, atol=0.5, rtol=0), T.allclose(a, a), T.allclose(a, b),
            T.allclose(a, b, equal_nan=True, rtol=1), T.isclose(m, b),
            T.largest(a, b, c), T.smallest(a, b, c), T.largest(m, c), T.smallest(b)]
    f = graphc.function([a, b, c, m], outs, backend=backend, on_unused_input="ignore")
    av = np.array([1.0, 1.0, inf, inf, -inf, nan, nan, 0.0, 1e-9, 5.0])
    bv = np.array([1.0 + 1e-9, 1.1, inf, -inf, 5.0, nan, 1.0, 1e-9, 0.0, inf])
    cv = np.array([3.0, -1.0, 0.0, 7.0, 1.0, 2.0, 0.0, nan, 1.0, 2.0])
    mv = np.stack([av, bv[::-1]])
    results = f(av, bv, cv, mv)
    expected = [np.isclose(av, bv), np.isclose(av, bv, equal_nan=True),
                np.isclose(av, bv, rtol=0.2), np.isclose(av, bv, atol=0.5, rtol=0),
                np.allclose(av, av), np.allclose(av, bv),
                np.allclose(av, bv, equal_nan=True, rtol=1), np.isclose(mv, bv),
                np.maximum(np.maximum(av, bv), cv), np.minimum(np.minimum(av, bv), cv),
                np.maximum(mv, cv), bv]
    for k, (got, want) in enumerate(zip(results, expected)):
        assert np.shape(got) == np.shape(want), k
        np.testing.assert_array_equal(got, want, err_msg=str(k))
    assert results[0].dtype == "bool" and results[4].dtype == "bool"


def test_isclose_of_integers_and_mixed_dtypes(backend):
    i, j = T.ivectors("i", "j")
    x = T.fvector("x")
    f = graphc.function([i, j, x], [T.isclose(i, j), T.isclose(i, x, atol=0.1),
                                    T.largest(i, j), T.smallest(i, x)], backend=backend)
    iv = np.array([1, 2, 100000, -3], dtype="int32")
    jv = np.array([1, 3, 100001, -3], dtype="int32")
    xv = np.array([1.05, 2.5, 1e5, -3.2], dtype="float32")
    close_ij, close_ix, big, small = f(iv, jv, xv)
    np.testing.assert_array_equal(close_ij, np.isclose(iv, jv))
    np.testing.assert_array_equal(close_ix, np.isclose(iv, xv, atol=0.1))
    assert big.dtype == "int32" and small.dtype == "float64"
    np.testing.assert_array_equal(big, np.maximum(iv, jv))
    np.testing.assert_array_equal(small, np.minimum(iv, xv))


def test_largest_needs_an_argument():
    with pytest.raises(graphc.GraphcError):
        T.largest()


# ----------------------------------------------------- rounding and aliases
def test_round_modes_and_iround(backend):
    x = T.dvector("x")
    f = graphc.function([x], [T.round(x), T.round(x, mode="half_to_even"),
                              T.round(x, mode="half_away_from_zero"),
                              T.iround(x, mode="half_away_from_zero"), T.iround(x)],
                        backend=backend)
    v = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, -0.49999999999999994,
                  4503599627370495.5, 2.4, -2.6, -0.0])
    even, even2, away, iaway, ieven = f(v)
    away_expected = [-3, -2, -1, 1, 2, 3, 0, -0.0, 4503599627370496.0, 2, -3, -0.0]
    np.testing.assert_array_equal(even, np.round(v))
    np.testing.assert_array_equal(even2, np.round(v))
    np.testing.assert_array_equal(away, away_expected)
    assert iaway.dtype == "int64" and ieven.dtype == "int64"
    np.testing.assert_array_equal(iaway, np.array(away_expected, dtype="int64"))
    np.testing.assert_array_equal(ieven, np.round(v).astype("int64"))
    with pytest.raises(graphc.GraphcError, match="mode"):
        T.round(x, mode="half_up")


def test_theano_aliases():
    assert T.lgamma is T.gammaln
    assert T.power is T.pow
    assert T.nnet.logsoftmax is T.nnet.log_softmax
    assert T.int_div is T.floor_div
    for name in ["true_div", "mod", "tan", "erf"]:
        assert callable(getattr(T, name)), name
    x, y = T.dvectors("x", "y")
    assert str(T.power(x, y).owner.op) == str((x ** y).owner.op)
