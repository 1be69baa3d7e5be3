"""Accuracy of the vectorizable math kernels, in ulps against float64, and IEEE cases."""
import math
import re

import numpy as np
import pytest
from numba import njit

from graphc.backends.numba.fastmath import KERNELS, exp_bits32, exp_scalef32


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


# name -> (float64 reference, worst float32 error allowed in ulps)
REFERENCE = {
    "exp": (np.exp, 2.0),
    "log": (np.log, 2.0),
    "tanh": (np.tanh, 2.0),
    "sigmoid": (lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                   np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))), 3.0),
    "softplus": (lambda x: np.logaddexp(0, x), 3.0),
    "log1p": (np.log1p, 3.0),
    "expm1": (np.expm1, 3.0),
    "erf": (_erf, 3.0),
}

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40,
                    1e-30, 88.7, 88.73, 89.0, 1000.0, -87.3, -103.0, -104.0, -1000.0,
                    1.0, -1.0, 0.5, -0.5, 0.625, -0.625, 1e-8, -1e-8, 3.4e38, -3.4e38])


def _apply(kernel, x):
    @njit(error_model="numpy")
    def loop(values, out):
        for i in range(values.size):
            out[i] = kernel(values[i])
    out = np.empty_like(x)
    loop(x, out)
    return out


def _inputs(dtype):
    rng = np.random.default_rng(0)
    if dtype == np.float32:
        # Random bit patterns cover the whole range, denormals and NaNs included.
        bits = rng.integers(0, 2 ** 32, 200_000, dtype=np.uint64).astype(np.uint32)
        spread = bits.view(np.float32)
    else:
        spread = rng.standard_cauchy(100_000) * 10.0 ** rng.integers(-10, 3, 100_000)
    dense = np.linspace(-20, 20, 20_001)
    return np.concatenate([spread, dense, SPECIAL]).astype(dtype)


def _ulps(got, exact, dtype):
    """Error of ``got`` in units of the last place of the correctly rounded result."""
    rounded = exact.astype(dtype)
    spacing = np.spacing(np.abs(rounded).astype(dtype)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_accuracy_and_ieee(name, dtype):
    kernel = KERNELS[name][0 if dtype == np.float32 else 1]
    reference, max_ulps = REFERENCE[name]
    x = _inputs(dtype)
    got = _apply(kernel, x)
    with np.errstate(all="ignore"):
        exact = reference(x.astype(np.float64))
        rounded = exact.astype(dtype)
    # NaN exactly where the reference has NaN; infinities exactly where it overflows.
    np.testing.assert_array_equal(np.isnan(got), np.isnan(rounded), err_msg=f"{name} NaN")
    infinite = np.isinf(rounded)
    np.testing.assert_array_equal(got[infinite], rounded[infinite], err_msg=f"{name} inf")
    finite = np.isfinite(rounded)
    assert np.all(np.isfinite(got[finite])), f"{name}: finite results became inf"
    ulps = _ulps(got[finite], exact[finite], dtype)
    worst = int(np.argmax(ulps))
    # float64 is compared with NumPy float64, itself within an ulp or so of exact.
    assert ulps[worst] <= max_ulps, (
        f"{name}({x[finite][worst]!r}) = {got[finite][worst]!r}, exact {exact[finite][worst]!r}:"
        f" {ulps[worst]:.2f} ulps")


@pytest.mark.parametrize("name", ["tanh", "log1p", "expm1", "erf"])
def test_odd_functions_keep_negative_zero(name):
    for kernel in KERNELS[name]:
        for dtype in (np.float32, np.float64):
            assert np.signbit(_apply(kernel, np.array([-0.0], dtype=dtype))[0]), name


def test_exp_reaches_the_denormals():
    exp32 = KERNELS["exp"][0]
    x = np.array([-100.0, -103.5], dtype=np.float32)
    denormals = _apply(exp32, x)
    assert np.all(denormals > 0) and np.all(denormals < np.finfo(np.float32).tiny)


def test_both_forms_of_exp32_give_the_same_bits():
    # exp32 is one of them, by the processor (fastmath.AVX512): the accuracy test
    # above checks that one, and this the other through it. On a processor without
    # AVX-512 the ldexp form runs libm's ldexpf per element: slow, still exact.
    x = _inputs(np.float32)
    np.testing.assert_array_equal(_apply(exp_scalef32, x), _apply(exp_bits32, x))


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_float32_loop_vectorizes(name):
    # The point of these kernels: a loop calling one runs as vector code. A branch
    # that raises (a division under Python's error model, say) can silently keep
    # LLVM from vectorizing it, which made tanh 17x slower once.
    kernel = KERNELS[name][0]

    @njit(error_model="numpy")
    def loop(values, out):
        for i in range(values.size):
            out[i] = kernel(values[i])
    x = np.linspace(-3, 3, 64).astype(np.float32)
    loop(x, np.empty_like(x))
    llvm_ir = loop.inspect_llvm(loop.signatures[0])
    assert re.search(r"<\d+ x float>", llvm_ir), f"the {name} loop is not vectorized"
