"""NumPy references of the special functions among the elementwise scalars.

``math`` has ``erfc``, ``lgamma`` and ``gamma`` but raises where IEEE gives a value
(``lgamma(0)`` is ``inf``, ``gamma(-1)`` is NaN); :func:`_ieee` maps them over arrays
with those values instead. ``erfinv``, ``erfcinv`` and ``psi`` are not in ``math``
or NumPy: they are computed here, vectorized, to about one ulp of float64 (checked
against mpmath and scipy in ``tests/ops/test_special.py``). The numba backend has
scalar versions of the same algorithms (``graphc/backends/numba/special.py``); these
are the reference it is compared with.

Every function takes and returns float64 arrays; the elementwise op casts the result
to its output dtype.
"""
import math

import numpy as np


def _ieee(fn, on_error):
    """``fn`` (a one-argument ``math`` function) mapped over an array; where it
    raises ValueError or OverflowError the element is ``on_error(x)``."""
    def scalar(x):
        try:
            return fn(x)
        except (ValueError, OverflowError):
            return on_error(x)
    ufunc = np.frompyfunc(scalar, 1, 1)

    def mapped(x):
        return np.asarray(ufunc(np.asarray(x, dtype=np.float64)), dtype=np.float64)
    mapped.__name__ = fn.__name__
    return mapped


def _gamma_pole(x):
    # math.gamma raises at the poles and on overflow. C's tgamma (and scipy) give
    # +-inf at +-0 and where the result overflows (near 0 or for x > 171.6, with the
    # sign of x), and NaN at the negative integers and -inf (no limit there).
    if x < 0 and (math.isinf(x) or x == math.floor(x)):
        return math.nan
    return math.copysign(math.inf, x)


erfc = _ieee(math.erfc, None)                   # never raises
gammaln = _ieee(math.lgamma, lambda x: math.inf)    # log|gamma| at its poles: inf
gamma = _ieee(math.gamma, _gamma_pole)

_erf_array = _ieee(math.erf, None)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LOG_SQRT_PI = 0.5 * math.log(math.pi)

# Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single
# precision: erfinv(x) ~ x * p(w) with w = -log((1 - x)(1 + x)), two ranges of w.
# Good to ~4e-7 where it was fitted (w < 16, |x| < 1 - 6e-8); Halley steps refine it.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _giles(x, w):
    """Giles' first guess of erfinv(x), given w = -log((1 - x)(1 + x))."""
    central = np.polyval(_GILES_CENTRAL, w - 2.5)
    tail = np.polyval(_GILES_TAIL, np.sqrt(w) - 3.0)
    return x * np.where(w < 5.0, central, tail)


def _halley(x, residual):
    """Two Halley steps on ``erf(x) = target`` given ``residual(x) = erf(x) - target``.

    With f = erf(x) - target, f'' = -2x f', so Halley's step is u / (1 + x u), u = f/f'.
    From Giles' guess (relative error ~4e-7) one step reaches float64 rounding; the
    second covers the far tail where the first guess is cruder.
    """
    for _ in range(2):
        slope = _TWO_OVER_SQRT_PI * np.exp(-x * x)
        u = np.where(slope > 0, residual(x) / np.where(slope > 0, slope, 1.0), 0.0)
        x = x - u / (1.0 + x * u)
    return x


def _erfinv_central(a):
    """erfinv(a) for 0 <= a <= 0.5 (where erf(x) - a loses nothing)."""
    x = _giles(a, -np.log1p(-a * a))
    return _halley(x, lambda x: _erf_array(x) - a)


def _erfcinv_tail(q):
    """erfcinv(q) for 0 < q <= 0.5, from erfc itself: 1 - q would lose q's digits."""
    w = -np.log(q * (2.0 - q))
    # Beyond Giles' range (q < ~6e-8), the asymptotic erfc(x) ~ exp(-x^2) / (x sqrt(pi))
    # (1 - 1 / (2 x^2)) solved by fixed point iteration is the better guess.
    level = -np.log(q) - _LOG_SQRT_PI
    far = np.sqrt(level)
    far = np.sqrt(level - np.log(far))
    far = np.sqrt(level - np.log(far) + np.log1p(-0.5 / (far * far)))
    x = np.where(w < 16.0, _giles(1.0 - q, w), far)
    # erf(x) - a == (1 - a) - erfc(x) == q - erfc(x), up to sign: erfc(x) - q.
    return _halley(x, lambda x: q - erfc(x))


def erfinv(y):
    """Inverse error function: erfinv(+-1) = +-inf, NaN outside [-1, 1]."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        a = np.abs(y)
        inside = a < 1.0
        central = np.where(inside & (a <= 0.5), a, 0.0)
        tail = np.where(inside & (a > 0.5), 1.0 - a, 0.5)    # 1 - a is exact here
        x = np.where(a <= 0.5, _erfinv_central(central), _erfcinv_tail(tail))
        x = np.where(inside, x, np.where(a == 1.0, np.inf, np.nan))
        return np.copysign(x, y)


def erfcinv(y):
    """Inverse complementary error function: erfcinv(0) = inf, erfcinv(2) = -inf,
    NaN outside [0, 2]."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        inside = (y > 0.0) & (y < 2.0)
        # Three pieces, each argument exact: y < 0.5 directly from erfc; around 1
        # erfinv(1 - y); above 1.5 the reflection erfcinv(y) = -erfcinv(2 - y).
        low = np.where(inside & (y < 0.5), y, 0.5)
        mid = np.where(inside & (y >= 0.5) & (y <= 1.5), 1.0 - y, 0.0)
        high = np.where(inside & (y > 1.5), 2.0 - y, 0.5)
        x = np.where(y < 0.5, _erfcinv_tail(low),
                     np.where(y <= 1.5, np.copysign(_erfinv_central(np.abs(mid)), mid),
                              -_erfcinv_tail(high)))
        edge = np.where(y == 0.0, np.inf, np.where(y == 2.0, -np.inf, np.nan))
        return np.where(inside, x, edge)


# psi(x) ~ log(x) - 1/(2x) - sum_k B_2k / (2k x^2k): the coefficients B_2k / 2k.
_PSI_ASYMPTOTIC = (1.0 / 12, -1.0 / 120, 1.0 / 252, -1.0 / 240, 1.0 / 132, -691.0 / 32760,
                   1.0 / 12)
_PSI_SHIFT = 10.0    # recur up to x >= 10, where seven terms reach float64 rounding


def psi(x):
    """Digamma, the derivative of gammaln: psi(+-0) = -+inf, NaN at the negative
    integers and -inf, psi(inf) = inf (as scipy.special.psi)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        nearest = np.floor(x + 0.5)
        reflect = x < 0.0
        # psi(x) = psi(1 - x) - pi / tan(pi x); x - nearest is exact and has the same
        # tangent, so the poles are resolved without cancellation.
        result = np.where(reflect, -np.pi / np.tan(np.pi * (x - nearest)), 0.0)
        z = np.where(reflect, 1.0 - x, x)
        # psi(z) = psi(z + 1) - 1 / z, until z is large enough for the series (z > 0
        # here, so ten steps always reach it).
        for _ in range(int(_PSI_SHIFT)):
            small = z < _PSI_SHIFT
            result = result - np.where(small, 1.0 / z, 0.0)
            z = np.where(small, z + 1.0, z)
        inv2 = 1.0 / (z * z)
        series = sum(c * inv2 ** (k + 1) for k, c in enumerate(_PSI_ASYMPTOTIC))
        result = result + np.log(z) - 0.5 / z - series
        result = np.where(x == np.inf, np.inf, result)
        pole = (x <= 0.0) & (x == nearest)
        at_pole = np.where(x == 0.0, -np.copysign(np.inf, x), np.nan)
        return np.where(pole, at_pole, result)


def round_half_away_from_zero(x):
    """Round to the nearest integer, ties away from zero (C's ``round``).

    ``floor(x + 0.5)`` would be wrong for 0.49999999999999994 (x + 0.5 rounds to 1);
    ``x - trunc(x)`` is exact.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        return x
    with np.errstate(invalid="ignore"):
        t = np.trunc(x)
        return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t).astype(x.dtype)
