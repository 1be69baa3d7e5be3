"""Vectorizable elementary functions for the generated loops.

Numba from PyPI has no vector math library: a loop calling ``math.exp`` runs
scalar libm, about 9x slower than NumPy. The float32 functions here are written
with no calls (Cephes-style: clamp, range reduction, polynomial, power of two
built from exponent bits through a bitcast intrinsic), so LLVM vectorizes the
loop they are inlined into. Every branch is written as a select on values
computed for all lanes, and the special values (NaN, +-inf, overflow,
underflow, denormals, -0.0) are patched in at the end with selects too, so the
clamps that make a polynomial safe never turn an inf or a NaN into a number.
Where the loop runs on AVX-512, a power of two is applied by ``ldexp`` (one
``vscalefps``) and a division of finite numbers by a reciprocal estimate
(``vrcp14ps`` and a Newton step); the loops ask LLVM for 512-bit vectors
(``loops.k_wide_vectors``).

float64 uses libm (``math.*``): accurate to the last bit, but scalar. Fast
float64 versions are future work; the accuracy tests in
``tests/backends/test_fastmath.py`` cover both dtypes.

The generated code calls ``<name>32`` or ``<name>64`` directly (the lowering
knows the dtype); :data:`KERNELS` lists them. ``fexp`` and ``flog`` pick by
dtype at typing time, for the hand-written kernels of ``nnet.py``.
"""
import math

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

F32 = np.float32
# Fused multiply-add in the polynomials: one rounding instead of two (as accurate or
# more), and about 30% faster on 1e6 exps here. Only contraction: no other
# fast-math assumption, so NaN and inf still take the IEEE paths written below.
_FMA = {"contract"}
# numpy's error model: a float division by zero gives inf instead of raising. With
# Python's, every division carries a branch that raises ZeroDivisionError, and
# whether LLVM still vectorizes the loop depends on its inlining: one unrelated
# edit to this file turned the 10-op chain's tanh scalar (0.57 -> 9.6 ms per 1e6).
_fast = njit(cache=True, fastmath=_FMA, error_model="numpy")


# -------------------------------------------------------------- bit casts
@intrinsic
def _i32_as_f32(typingctx, x):
    """The float32 whose bits are the int32 ``x`` (one bitcast instruction)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@intrinsic
def _f32_as_i32(typingctx, x):
    """The int32 holding the bits of the float32 ``x``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def _ldexp32(typingctx, y, n):
    """``y * 2**n`` rounded once (``llvm.ldexp``): inf past the largest float32, the
    denormals and 0 below the smallest normal, NaN for NaN."""
    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.FloatType(), [ir.FloatType(), ir.IntType(32)])
        ldexp = cgutils.get_or_insert_function(builder.module, fnty, "llvm.ldexp.f32.i32")
        return builder.call(ldexp, args)
    return types.float32(types.float32, types.int32), codegen


# Whether numba compiles for AVX-512 (its features, as numba's codegen reads them).
# There a vectorized ldexp is one ``vscalefps``, which makes the overflow and the
# denormals right by itself (exp 0.61 -> 0.44 ns per element here); elsewhere LLVM
# would call libm's ldexpf per element, so exp builds the power of two from
# exponent bits instead (:func:`exp_bits32`); and divisions of finite numbers are
# reciprocal estimates (:func:`_div_estimate`). numba's cache keys code by these
# features, so a kernel cached on one kind of processor is not loaded on another.
AVX512 = "+avx512f" in (config.CPU_FEATURES or llvm.get_host_cpu_features().flatten())


@intrinsic
def maxnum(typingctx, a, b):
    """``llvm.maxnum``: the larger of two floats, and the other one where one is NaN.

    A loop reducing with it vectorizes (a ``v if v > m else m`` select does not,
    because of its NaN ordering). Only for shifts where NaN propagates anyway
    (the max subtracted before ``exp`` in softmax: a NaN reaches the sum).
    """
    if a != b or not isinstance(a, types.Float):
        return None

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(args[0].type, [args[0].type, args[0].type])
        name = f"llvm.maxnum.f{a.bitwidth}"
        return builder.call(cgutils.get_or_insert_function(builder.module, fnty, name), args)
    return a(a, a), codegen


# ----------------------------------------------------------- float32 kernels
@njit(cache=True, fastmath={"contract", "arcp", "ninf"}, error_model="numpy")
def _div_estimate(a, b):
    """``a / b`` for a finite ``b`` (NaN allowed), as a reciprocal estimate.

    A vector division is slow (zmm ``vdivps``: one per ~16 cycles on Intel, where
    ``tanh`` spent a third of its time in it). With ``arcp`` and ``ninf`` LLVM
    lowers it to ``vrcp14ps`` and one Newton step (FMAs): about 1 ulp, and the
    kernels' error bounds still hold (tested). ``ninf`` makes an infinite operand
    undefined, so the callers clamp first; the flags are on this function only,
    so the IEEE paths of the callers keep their meaning.
    """
    return a / b


@njit(cache=True, error_model="numpy")
def _div_exact(a, b):
    return a / b


# Without AVX-512 the estimate is ``vrcpps``'s 12 bits, which one Newton step takes
# to about 22: too few for the kernels' error bounds, so those divide.
_div_finite = _div_estimate if AVX512 else _div_exact


_LOG2E = F32(1.44269504088896341)
_LN2_HI = F32(0.693359375)
_LN2_LO = F32(-2.12194440e-4)
_EXP_HI = F32(88.72283935546875)      # above: exp overflows float32
_EXP_LO = F32(-103.97208)             # below: exp underflows to 0 (past the denormals)
_EXP_P = (F32(1.9875691500e-4), F32(1.3981999507e-3), F32(8.3334519073e-3),
          F32(4.1665795894e-2), F32(1.6666665459e-1), F32(5.0000001201e-1))
_HALF = F32(0.5)
_ONE = F32(1.0)
_TWO = F32(2.0)
_ZERO = F32(0.0)
_INF = F32(np.inf)
_NAN = F32(np.nan)


@_fast
def _exp_split32(x):
    """``(y, z)`` with ``exp(x) = y * 2**z``: z the nearest integer to x / ln 2 (as a
    float), y = exp(r) for the remainder r in [-ln2/2, ln2/2] (Cephes expf's
    polynomial), for finite x within [_EXP_LO, _EXP_HI]."""
    z = np.floor(x * _LOG2E + _HALF)
    r = x - z * _LN2_HI
    r = r - z * _LN2_LO
    p = _EXP_P[0]
    p = p * r + _EXP_P[1]
    p = p * r + _EXP_P[2]
    p = p * r + _EXP_P[3]
    p = p * r + _EXP_P[4]
    p = p * r + _EXP_P[5]
    return p * (r * r) + r + _ONE, z


# Clamps of exp's argument for the ldexp form: past them the result is inf or 0
# whatever the polynomial gives, and the exponent stays well inside int32.
_EXP_CLAMP_HI = F32(90.0)
_EXP_CLAMP_LO = F32(-110.0)


@_fast
def exp_scalef32(x):
    """float32 exp: Cephes expf, its power of two applied by ldexp, which rounds
    overflow to inf and the denormal range right by itself (for AVX-512)."""
    y, z = _exp_split32(min(max(x, _EXP_CLAMP_LO), _EXP_CLAMP_HI))
    y = _ldexp32(y, np.int32(z))
    return x if x != x else y


@_fast
def exp_bits32(x):
    """float32 exp: Cephes expf with the power of two built from exponent bits and
    split in two factors, so that results in the denormal range come out right
    instead of flushing to zero; overflow and underflow patched in by selects."""
    y, z = _exp_split32(min(max(x, _EXP_LO), _EXP_HI))
    n = np.int32(z)
    n1 = np.int32(n >> 1)
    n2 = np.int32(n - n1)
    y = y * _i32_as_f32(np.int32((n1 + 127) << 23))
    y = y * _i32_as_f32(np.int32((n2 + 127) << 23))
    y = _INF if x > _EXP_HI else y
    y = _ZERO if x < _EXP_LO else y
    return x if x != x else y


# The same results (tested); the first is faster where ldexp is one instruction.
exp32 = exp_scalef32 if AVX512 else exp_bits32


_SQRTH = F32(0.70710678118654752440)
_LOG_P = (F32(7.0376836292e-2), F32(-1.1514610310e-1), F32(1.1676998740e-1),
          F32(-1.2420140846e-1), F32(1.4249322787e-1), F32(-1.6668057665e-1),
          F32(2.0000714765e-1), F32(-2.4999993993e-1), F32(3.3333331174e-1))
_FLT_MIN = F32(1.17549435e-38)
_TWO23 = F32(8388608.0)


@_fast
def _log_poly32(x):
    """``log(1 + x) - x + x*x/2`` for x in [sqrt(1/2) - 1, sqrt(2) - 1] (Cephes)."""
    p = _LOG_P[0]
    p = p * x + _LOG_P[1]
    p = p * x + _LOG_P[2]
    p = p * x + _LOG_P[3]
    p = p * x + _LOG_P[4]
    p = p * x + _LOG_P[5]
    p = p * x + _LOG_P[6]
    p = p * x + _LOG_P[7]
    p = p * x + _LOG_P[8]
    return p * x * (x * x)


_SQRTH_BITS = np.int32(0x3F3504F3)   # the bits of sqrt(1/2)


@_fast
def _log_split32(x):
    """``(f, e)`` with ``x = 2**e * (1 + f)`` and f in [sqrt(1/2) - 1, sqrt(2) - 1),
    for normal x > 0.

    Subtracting the bits of sqrt(1/2) first puts the mantissa's wrap-around at
    sqrt(1/2) rather than at 1, so one shift gives the exponent and no compare
    or select is needed (log1p 0.59 -> 0.47 ns per element here).
    """
    u = np.int32(_f32_as_i32(x) - _SQRTH_BITS)
    e = np.int32(u >> 23)
    m = _i32_as_f32(np.int32((u & 0x007FFFFF) + _SQRTH_BITS))
    return m - _ONE, F32(e)


@_fast
def _log_reduced32(f, e):
    """``log(2**e * (1 + f))`` from the pair :func:`_log_split32` returns (Cephes)."""
    y = _log_poly32(f) + e * _LN2_LO - _HALF * (f * f)
    return f + y + e * _LN2_HI


@_fast
def _log_special32(x, y):
    """``y`` where ``log(x)`` is finite, else the IEEE value (x < 0, 0, inf, NaN).

    ``x >= 0`` is false for a NaN as for a negative x: one select gives both NaN.
    """
    y = y if x >= _ZERO else _NAN
    y = -_INF if x == _ZERO else y
    return _INF if x == _INF else y


@_fast
def log32(x):
    """float32 log: Cephes logf."""
    tiny = x < _FLT_MIN                    # denormal: scaled by 2**23 first
    f, e = _log_split32(x * _TWO23 if tiny else x)
    e = e - F32(23) if tiny else e
    return _log_special32(x, _log_reduced32(f, e))


_TANH_P = (F32(-5.70498872745e-3), F32(2.06390887954e-2), F32(-5.37397155531e-2),
          F32(1.33314422036e-1), F32(-3.33332819422e-1))
_TANH_SMALL = F32(0.625)
_TANH_ONE = F32(10.0)     # from here on tanh rounds to +-1 in float32


@_fast
def tanh32(x):
    """float32 tanh: odd polynomial below 0.625 (Cephes tanhf), else 1 - 2/(exp(2|x|)+1).

    The exp is not :func:`exp32`: its argument lies in [1.25, 20], so it needs
    none of exp32's overflow, denormal and NaN selects and one power of two
    instead of two (0.56 -> 0.48 ns per element here).

    Both forms are computed for ``|x|`` and the sign put back by one ``copysign``,
    which also keeps -0.0; a NaN takes the polynomial's side of the select (its
    comparison is false), which gives NaN. Three selects fewer than patching the
    sign, -0.0 and NaN in one by one, same bits.
    """
    a = abs(x)
    z = a * a
    p = _TANH_P[0]
    p = p * z + _TANH_P[1]
    p = p * z + _TANH_P[2]
    p = p * z + _TANH_P[3]
    p = p * z + _TANH_P[4]
    small = p * z * a + a
    t = min(a, _TANH_ONE)
    e, n = _exp_split32(t + t)
    e = e * _i32_as_f32(np.int32((np.int32(n) + 127) << 23))
    big = _ONE - _div_finite(_TWO, e + _ONE)
    y = big if a >= _TANH_SMALL else small
    return np.copysign(y, x)


@_fast
def sigmoid32(x):
    """float32 logistic from ``e = exp(-|x|)``: no overflow, full accuracy for x << 0."""
    e = exp32(-abs(x))                     # in [0, 1]: the division is of finite numbers
    d = _ONE + e
    t = _div_finite(_ONE, d)
    # One correction from the residual 1 - d * t (exact with an FMA): the estimate
    # alone gave sigmoid(0) = 0.49999997 and sigmoid(100) one ulp below 1, so that
    # log(1 - sigmoid(100)) was finite where NumPy's is -inf.
    t = t + (_ONE - d * t) * t
    return t if x >= _ZERO else e * t


@_fast
def log1p32(x):
    """float32 log1p: Cephes log1pf, with one polynomial for both of its paths.

    Near 0 (``1 + x`` in [sqrt(1/2), sqrt(2)]) the logf polynomial takes x itself,
    which keeps the bits ``1 + x`` rounds away; elsewhere it takes the reduced
    ``1 + x``, which is exact or within half an ulp of a result at least 0.34 in
    size. Selecting the argument, rather than evaluating logf as well, halves the
    work per element (0.81 -> 0.63 ms for 1e6 here).
    """
    z = _ONE + x
    near = (z > _SQRTH) & (z < F32(1.41421356237309504880))
    f, e = _log_split32(z)                 # 1 + x is never denormal: 0 or >= 2**-24
    f = x if near else f
    e = _ZERO if near else e
    y = _log_reduced32(f, e)
    y = np.copysign(y, x)                  # log1p(x) has x's sign; keeps -0.0 (one op)
    return _log_special32(z, y)


_SQRT2M1 = F32(0.41421356237309504880)


@_fast
def softplus32(x):
    """float32 ``log(1 + exp(x))`` as ``max(x, 0) + log1p(exp(-|x|))``.

    The log1p is of ``t = exp(-|x|)`` in [0, 1], which needs no special cases:
    near 0 (t below sqrt(2) - 1) the logf polynomial takes t itself, and above
    it ``1 + t`` is in [sqrt(2), 2], so ``log(1 + t) = ln 2 + log((1 + t) / 2)``
    with ``(1 + t) / 2 - 1`` exact. A call to :func:`log1p32` instead made the
    function too big for LLVM to inline into a loop, which then ran scalar.
    """
    t = exp32(-abs(x))
    near = t < _SQRT2M1
    f = t if near else (_ONE + t) * _HALF - _ONE
    y = max(x, _ZERO) + _log_reduced32(f, _ZERO if near else _ONE)
    return y if x == x else x


_EXPM1_C = tuple(F32(1.0 / math.factorial(k)) for k in range(9, 1, -1))


@_fast
def expm132(x):
    """float32 expm1: Taylor polynomial for |x| < 0.5, exp(x) - 1 elsewhere."""
    p = _EXPM1_C[0]
    p = p * x + _EXPM1_C[1]
    p = p * x + _EXPM1_C[2]
    p = p * x + _EXPM1_C[3]
    p = p * x + _EXPM1_C[4]
    p = p * x + _EXPM1_C[5]
    p = p * x + _EXPM1_C[6]
    p = p * x + _EXPM1_C[7]
    small = p * (x * x) + x
    small = x if x == _ZERO else small     # keeps the sign of -0.0
    big = exp32(x) - _ONE
    return small if abs(x) < _HALF else big


_ERF_T = (F32(7.853861353153693e-5), F32(-8.010193625184903e-4), F32(5.188327685732524e-3),
          F32(-2.685381193529856e-2), F32(1.128358514861418e-1), F32(-3.761262582423300e-1),
          F32(1.128379165726710e+0))
# Numerical Recipes' erfc: fractional error below 1.2e-7 for x >= 0.
_ERFC_C = (F32(0.17087277), F32(-0.82215223), F32(1.48851587), F32(-1.13520398),
           F32(0.27886807), F32(-0.18628806), F32(0.09678418), F32(0.37409196),
           F32(1.00002368), F32(-1.26551223))


_ERF_ONE = F32(8.0)


@_fast
def erf32(x):
    """float32 erf: ``x * T(x*x)`` for |x| < 1 (Cephes erff), ``1 - erfc(|x|)`` beyond."""
    z = x * x
    p = _ERF_T[0]
    p = p * z + _ERF_T[1]
    p = p * z + _ERF_T[2]
    p = p * z + _ERF_T[3]
    p = p * z + _ERF_T[4]
    p = p * z + _ERF_T[5]
    p = p * z + _ERF_T[6]
    small = x * p
    a = abs(x)
    # Clamped for _div_finite (erf rounds to +-1 from 4 on): no infinite divisor.
    t = _div_finite(_ONE, _ONE + _HALF * min(a, _ERF_ONE))
    q = _ERFC_C[0]
    q = q * t + _ERFC_C[1]
    q = q * t + _ERFC_C[2]
    q = q * t + _ERFC_C[3]
    q = q * t + _ERFC_C[4]
    q = q * t + _ERFC_C[5]
    q = q * t + _ERFC_C[6]
    q = q * t + _ERFC_C[7]
    q = q * t + _ERFC_C[8]
    q = q * t + _ERFC_C[9]
    big = _ONE - t * exp32(q - z)
    big = -big if x < _ZERO else big
    return small if a < _ONE else big


# ----------------------------------------------------------- float64 (libm)
@njit(cache=True)
def sigmoid64(x):
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


@njit(cache=True)
def softplus64(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x))) if x == x else x


@njit(cache=True)
def exp64(x):
    return math.exp(x)


@njit(cache=True)
def log64(x):
    if x < 0.0:
        return np.nan
    if x == 0.0:
        return -np.inf
    return math.log(x)


@njit(cache=True)
def log1p64(x):
    if x < -1.0:
        return np.nan
    if x == -1.0:
        return -np.inf
    return math.log1p(x)


@njit(cache=True)
def tanh64(x):
    return math.tanh(x)


@njit(cache=True)
def expm164(x):
    return math.expm1(x)


@njit(cache=True)
def erf64(x):
    return math.erf(x)


# --------------------------------------------------------------- dispatch
def _dispatcher(name, fast32, libm64):
    """A stub ``name(x)`` whose numba overload picks the kernel by dtype."""
    def stub(x):
        raise NotImplementedError(f"{name} runs only inside numba-compiled code")
    stub.__name__ = name

    @overload(stub)
    def _typed(x):
        if x == types.float32:
            return lambda x: fast32(x)
        if x == types.float64:
            return lambda x: libm64(x)
        return None
    return stub


# name -> (float32 kernel, float64 kernel): the table the tests walk.
KERNELS = {
    "exp": (exp32, exp64),
    "log": (log32, log64),
    "tanh": (tanh32, tanh64),
    "sigmoid": (sigmoid32, sigmoid64),
    "softplus": (softplus32, softplus64),
    "log1p": (log1p32, log1p64),
    "expm1": (expm132, expm164),
    "erf": (erf32, erf64),
}

fexp = _dispatcher("fexp", exp32, exp64)
flog = _dispatcher("flog", log32, log64)
