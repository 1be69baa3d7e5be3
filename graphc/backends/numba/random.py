"""Random draws (:class:`graphc.ops.random.RandomDraw`) sampled in compiled code.

Design
------
The op's state is a NumPy ``Generator`` held by its :class:`RandomState`; that
generator stays the single source of randomness, so every property the python
backend has follows without extra machinery: ``RandomStreams.seed(s)`` (which
replaces the generators) makes the draws repeat, a pickled function carries its
generators' states, and two functions sharing a draw advance one stream.

At each call the compiled function takes, for each draw node, ONE fresh 64-bit
key from that generator (a short ``numba.objmode`` block: a few microseconds,
where the object-mode fallback would run the whole ``perform``). The samples are
then a pure function of ``(key, element index)`` computed in the compiled loop:
element ``i`` starts from the SplitMix64 word ``z_i = mix(key + (i + 1) * golden)``
and, when it needs more than one word (normal, binomial, rejection in integers),
continues the SplitMix64 sequence seeded by ``z_i``. SplitMix64 passes BigCrush;
it touches no global state (numba's own ``np.random`` state is left alone), and it
vectorizes. Fresh keys give fresh samples at every call; one node read twice in a
graph is one sample.

The samples follow the same distributions as the python backend but are not the
same numbers (tests compare statistics):

- ``uniform``: 24 (float32) or 53 (float64) random bits scaled to ``[0, 1)``, then
  ``low + (high - low) * u`` in the output dtype, as ``perform``;
- ``normal``: Box-Muller (the cosine half) from two words;
- ``binomial``: Bernoulli by one comparison for ``n == 1`` (dropout masks);
  otherwise counting geometric waiting times on the smaller of ``p`` and ``1 - p``,
  exact, ``O(n * min(p, 1 - p))`` work per element;
- ``random_integers``: ``[low, high]`` by rejection (no modulo bias).

Invalid parameters (``n < 0``, ``p`` outside ``[0, 1]`` or NaN, ``low > high``,
a negative size, parameters that do not broadcast) raise a plain ``ValueError``;
the backend's wrapper then lets the python reference raise its own error. Output
dtypes other than float32/float64 for the continuous draws (float16) and other
than integers/float32/float64 for the discrete ones run through the fallback.
"""
import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from graphc.ops.random import RandomDraw
from graphc.backends.numba import fallback
from graphc.backends.numba.lower import np_dtype

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_PI = 2.0 * math.pi


@njit(cache=True)
def _mix(z):
    """The SplitMix64 output function (a bijection of uint64 with full avalanche)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _word(key, i):
    """The first random word of element ``i`` (the i-th SplitMix64 output of ``key``)."""
    return _mix(key + np.uint64(i + 1) * _GOLDEN)


@njit(cache=True)
def _next(seed, j):
    """Word ``j >= 1`` of the sequence that continues from ``seed``."""
    return _mix(seed + np.uint64(j) * _GOLDEN)


@njit(cache=True)
def _open01(z):
    """A float64 in ``(0, 1]`` from the 53 high bits of ``z`` (never 0: safe for log)."""
    return ((z >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740992.0)


def _unit(z, out):
    raise NotImplementedError


@overload(_unit)
def _unit_impl(z, out):
    """A uniform in ``[0, 1)`` of ``out``'s dtype, with that dtype's full precision."""
    if out.dtype == types.float32:
        return lambda z, out: np.float32(z >> np.uint64(40)) * np.float32(5.9604645e-08)
    return lambda z, out: (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def k_draw_check(shape):
    """The element count of a draw of ``shape`` (a tuple), or a ValueError if negative."""
    n = 1
    for s in shape:
        if s < 0:
            raise ValueError("graphc: negative size of a random draw")
        n *= s
    return n


@njit(cache=True, error_model="numpy")
def k_rand_uniform(key, low, high, out):
    for i in range(out.size):
        u = _unit(_word(key, i), out)
        out[i] = low[i] + (high[i] - low[i]) * u


@njit(cache=True, error_model="numpy")
def k_rand_normal(key, avg, std, out):
    for i in range(out.size):
        z = _word(key, i)
        r = np.sqrt(-2.0 * np.log(_open01(z)))
        u = (_next(z, 1) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
        out[i] = avg[i] + std[i] * (r * np.cos(_TWO_PI * u))


@njit(cache=True)
def _binomial(z, n, p):
    if n == 0 or p == 0.0:
        return 0
    if p == 1.0:
        return n
    if n == 1:    # Bernoulli: one comparison
        return 1 if (z >> np.uint64(11)) * (1.0 / 9007199254740992.0) < p else 0
    q = p if p <= 0.5 else 1.0 - p
    lq = np.log1p(-q)
    # Successes are counted by geometric waiting times: G = floor(log(U) / log(1 - q)) + 1
    # trials to the next success, U in (0, 1]; expected n * q + 1 iterations.
    x = 0
    trials = 0.0
    j = 0
    while True:
        u = _open01(z) if j == 0 else _open01(_next(z, j))
        j += 1
        trials += np.floor(np.log(u) / lq) + 1.0
        if trials > n:
            break
        x += 1
    return x if p <= 0.5 else n - x


@njit(cache=True, error_model="numpy")
def k_rand_binomial(key, n, p, out):
    for i in range(out.size):
        if n[i] < 0 or not (p[i] >= 0.0 and p[i] <= 1.0):
            raise ValueError("graphc: binomial needs n >= 0 and 0 <= p <= 1")
    for i in range(out.size):
        out[i] = _binomial(_word(key, i), n[i], p[i])


@njit(cache=True, error_model="numpy")
def k_rand_integers(key, low, high, out):
    for i in range(out.size):
        if low[i] > high[i]:
            raise ValueError("graphc: random_integers needs low <= high")
    top = np.uint64(0xFFFFFFFFFFFFFFFF)
    for i in range(out.size):
        z = _word(key, i)
        span = np.uint64(high[i]) - np.uint64(low[i])     # wraps correctly in uint64
        if span == top:
            v = z
        else:
            m = span + np.uint64(1)
            threshold = (np.uint64(0) - m) % m     # 2**64 mod m: reject below it
            j = 0
            while z < threshold:
                j += 1
                z = _next(z, j)
            v = z % m
        out[i] = low[i] + np.int64(v)


def draw_key(token, position):
    """Called from object mode: a fresh uint64 key from the draw's generator."""
    node = fallback._REGISTRY[token][position]
    return int(node.op.state.generator.integers(0, 2 ** 64, dtype=np.uint64))


k_draw_key = draw_key

_KERNELS = {"uniform": "k_rand_uniform", "normal": "k_rand_normal",
            "binomial": "k_rand_binomial", "random_integers": "k_rand_integers"}


def _supported(op):
    kind = np.dtype(op.dtype).kind
    if op.dist in ("uniform", "normal"):
        return op.dtype in ("float32", "float64")
    return kind in "iu" or op.dtype in ("float32", "float64")


def lower_random_draw(ctx, node):
    """Key from the generator (object mode), then the compiled sampling loop."""
    op = node.op
    if not _supported(op):
        return fallback.lower_fallback(ctx, node)
    size, *params = node.inputs
    (out,) = node.outputs
    # The node is found at run time through the fallback registry (by token and
    # position), without being a fallback: no warning, only its generator is used.
    position = len(ctx.fallbacks)
    ctx.fallbacks.append(node)
    key = ctx.tmp("key")
    ctx.line(f"with numba.objmode({key}='uint64'):")
    ctx.indent += 1
    ctx.line(f"{key} = k_draw_key(token, {position})")
    ctx.indent -= 1
    shape = ctx.tmp("shp")
    ctx.line(f"{shape} = {ctx.shape_tuple(ctx.vector_items(size))}")
    count = ctx.tmp("n")
    ctx.line(f"{count} = k_draw_check({shape})" if out.ndim else f"{count} = 1")
    # A 0-d draw is drawn as one element; its parameters broadcast to (1,).
    flat_shape = shape if out.ndim else "(np.int64(1),)"
    flats = []
    for p in params:
        flat = ctx.tmp("f")
        ctx.line(f"{flat} = k_flat({ctx.array(p)}, {flat_shape})")
        flats.append(flat)
    buffer = ctx.tmp("o")
    ctx.line(f"{buffer} = np.empty({count}, {np_dtype(out.dtype)})")
    ctx.line(f"{_KERNELS[op.dist]}({key}, {', '.join(flats)}, {buffer})")
    name = ctx.tmp("v")
    if out.ndim:
        ctx.line(f"{name} = k_reshape({buffer}, {shape})")
    else:
        ctx.line(f"{name} = {buffer}[0]")
    ctx.bind(out, name)


LOWERINGS = {RandomDraw: lower_random_draw}
