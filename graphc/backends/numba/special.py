"""Scalar kernels of the special functions (``graphc/ops/special.py`` has the references).

Each takes one float (float32 or float64) and computes in float64, as the reference
does (it maps ``math`` functions over float64); the generated code converts the
result to the output dtype. ``math.erfc``, ``lgamma`` and ``gamma`` compile in
nopython mode and give IEEE values where Python's raise; ``erfinv``, ``erfcinv``
and ``psi`` are written here, with the algorithms of the reference.

The kernels use NumPy's error model: a division by zero gives inf, never an
exception (loops over floats run as C callbacks, which cannot raise).
"""
import math

import numpy as np
from numba import njit

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LOG_SQRT_PI = 0.5 * math.log(math.pi)


def _kernel(fn):
    return njit(cache=True, error_model="numpy")(fn)


@_kernel
def k_erfc(x):
    return math.erfc(np.float64(x))


@_kernel
def k_gammaln(x):
    return math.lgamma(np.float64(x))


@_kernel
def k_gamma(x):
    return math.gamma(np.float64(x))


@_kernel
def k_round_away(x):
    """Round half away from zero; ``x - trunc(x)`` is exact, ``x + 0.5`` is not."""
    t = np.floor(x) if x >= 0 else np.ceil(x)
    if abs(x - t) >= 0.5:
        t += np.copysign(1.0, x)
    return t


# ------------------------------------------------------------ inverse erf
@_kernel
def _giles(x, w):
    """Giles' single precision erfinv(x), w = -log((1 - x)(1 + x)) (ops/special.py)."""
    if w < 5.0:
        w = w - 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
    return p * x


@_kernel
def _erfinv_central(a):
    """erfinv(a), 0 <= a <= 0.5: Giles' guess and two Halley steps on erf(x) = a."""
    x = _giles(a, -math.log1p(-a * a))
    for _ in range(2):
        # f = erf(x) - a has f'' = -2x f': Halley's step is u / (1 + x u), u = f / f'.
        u = (math.erf(x) - a) / (_TWO_OVER_SQRT_PI * math.exp(-x * x))
        x = x - u / (1.0 + x * u)
    return x


@_kernel
def _erfcinv_tail(q):
    """erfcinv(q), 0 < q <= 0.5, refined on erfc(x) = q (1 - q would lose q)."""
    w = -math.log(q * (2.0 - q))
    if w < 16.0:
        x = _giles(1.0 - q, w)
    else:
        # Beyond Giles' range: erfc(x) ~ exp(-x^2) / (x sqrt(pi)) (1 - 1 / (2 x^2)).
        level = -math.log(q) - _LOG_SQRT_PI
        x = math.sqrt(level)
        x = math.sqrt(level - math.log(x))
        x = math.sqrt(level - math.log(x) + math.log1p(-0.5 / (x * x)))
    for _ in range(2):
        slope = _TWO_OVER_SQRT_PI * math.exp(-x * x)
        if slope == 0.0:
            break
        u = (q - math.erfc(x)) / slope
        x = x - u / (1.0 + x * u)
    return x


@_kernel
def k_erfinv(y):
    y = np.float64(y)
    a = abs(y)
    if not a < 1.0:
        return np.copysign(np.inf, y) if a == 1.0 else np.nan
    x = _erfinv_central(a) if a <= 0.5 else _erfcinv_tail(1.0 - a)
    return np.copysign(x, y)


@_kernel
def k_erfcinv(y):
    y = np.float64(y)
    if not 0.0 < y < 2.0:
        if y == 0.0:
            return np.inf
        return -np.inf if y == 2.0 else np.nan
    if y < 0.5:
        return _erfcinv_tail(y)
    if y <= 1.5:
        d = 1.0 - y      # exact
        return np.copysign(_erfinv_central(abs(d)), d)
    return -_erfcinv_tail(2.0 - y)


# ------------------------------------------------------------------ digamma
@_kernel
def k_psi(x):
    """Digamma by reflection, recurrence to x >= 10 and the asymptotic series."""
    x = np.float64(x)
    if x != x or x == np.inf:
        return x
    result = 0.0
    if x < 0.0 or x == 0.0:
        nearest = np.floor(x + 0.5)
        if x == nearest:     # a pole: +-0 give -+inf, the negative integers NaN
            return -np.copysign(np.inf, x) if x == 0.0 else np.nan
        # psi(x) = psi(1 - x) - pi / tan(pi x); x - nearest is exact, same tangent.
        result = -np.pi / math.tan(np.pi * (x - nearest))
        x = 1.0 - x
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    z = 1.0 / (x * x)
    series = z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (
        1.0 / 132 - z * (691.0 / 32760 - z / 12.0))))))
    return result + math.log(x) - 0.5 / x - series
