"""Convolution and pooling (``graphc.ops.conv``) as a few generic cached kernels.

The generated graph function calls one kernel per node (``k_conv2d``,
``k_conv2d_grad_inputs``, ``k_conv2d_grad_weights``, ``k_pool2d``,
``k_pool2d_grad``, ``k_pool2d_grad_grad``) with the op's parameters as integer
arguments, so every graph shares the same machine code (one compilation per
dtype, stored on disk) and the generated glue stays a few lines long.

Correlations are im2col + BLAS over chunks of images: the columns of a chunk
``cols (K = C * KH * KW, B * P)`` (``P = OH * OW``, ``B`` images, about 2 MB: see
``CHUNK``) are still in cache when one product reads them, and a product over
``B * P`` columns is large enough for BLAS to run well:

- forward: ``res (O, B * P) = W (O, K) @ cols``, then each image's block is copied
  to ``out[n] (O, P)``;
- gradient of the weights: ``gW (O, K) += gzt (O, B * P) @ cols.T``, with ``gzt``
  the chunk's output gradient laid out as columns;
- gradient of the images: ``gcols (K, B * P) = W.T @ gzt``, then col2im adds each
  column back where the forward pass read it.

The copies (im2col, col2im, the layouts) index flat views with unsigned indices,
so that numba emits no negative-index wraparound and LLVM vectorizes them; the
products see C- or F-contiguous operands only (no "non-contiguous" slow path).

Padding is never materialized: im2col writes zeros where a tap falls outside
the image, col2im skips those taps. Pooling is a direct loop over the windows
clipped to the image, which is what the reference's padding with ``-inf`` (max)
or zeros (averages) amounts to. Semantics (border modes, strides, dilations,
Theano's partial windows and divisors) follow the ``perform`` methods in
``graphc.ops.conv`` exactly; the kernels raise a plain ``ValueError`` on a shape
the reference rejects, and the backend's wrapper then lets the reference name
the error. Dtypes other than float32/float64 (and, for max pooling, integers) are
left to the object-mode fallback.
"""
import numpy as np
from numba import njit

from graphc.ops.conv import (Conv2d, Conv2dGradInputs, Conv2dGradWeights, Pool2d, Pool2dGrad,
                             Pool2dGradGrad, pool_out_length)
from graphc.backends.numba import fallback
from graphc.backends.numba.linalg import k_matmul
from graphc.backends.numba.nnet import zero_of

_BORDER_CODES = {"valid": 1, "full": 2, "half": 3}
_POOL_CODES = {"max": 0, "average_inc_pad": 1, "average_exc_pad": 2}
_FLOATS = ("float32", "float64")


# ------------------------------------------------------------ geometry
@njit(cache=True)
def _conv_pad(mode, pad, kernel, dilation):
    """Padding of one axis: ``mode`` 0 = explicit ``pad``, 1 valid, 2 full, 3 half."""
    extent = (kernel - 1) * dilation + 1
    if mode == 0:
        return pad
    if mode == 1:
        return 0
    if mode == 2:
        return extent - 1
    return extent // 2


@njit(cache=True)
def _conv_out(length, kernel, pad, stride, dilation):
    """As ``graphc.ops.conv.conv_out_length``: -1 when the kernel does not fit."""
    extent = (kernel - 1) * dilation + 1
    if length + 2 * pad < extent:
        return -1
    return (length + 2 * pad - extent) // stride + 1


@njit(cache=True)
def _valid_range(length, out, offset, stride):
    """``[lo, hi)``: the outputs whose tap ``o * stride + offset`` lies in ``[0, length)``."""
    lo = 0
    if offset < 0:
        lo = min(out, (-offset + stride - 1) // stride)
    hi = min(out, max(0, (length - 1 - offset) // stride + 1))
    return lo, max(lo, hi)


# ------------------------------------------------------- im2col / col2im
@njit(cache=True)
def _inside(lo, hi, OW, top, OH, sh, sw, H):
    """True when every tap of one filter position lies in the image (all of a valid
    convolution's, the interior ones of a padded one) and rows are contiguous: then
    im2col and col2im copy without per-row tests, 2.3x faster on LeNet's second
    layer, whose rows of 8 are too short for the tests to pay."""
    return sw == 1 and lo == 0 and hi == OW and top >= 0 and (OH - 1) * sh + top < H


# im2col and col2im index flat views with unsigned indices: numba then emits no
# negative-index wraparound, and the inner copies vectorize (5x faster on LeNet's
# first layer). Every index is non-negative by construction of ``_valid_range``.
@njit(cache=True, error_model="numpy")
def _im2col(x, n, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, cols, base):
    """Columns of image ``n`` of ``x`` into ``cols[:, base:base + OH * OW]``."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    xf, cf, ncol = x.reshape(-1), cols.reshape(-1), cols.shape[1]
    for c in range(C):
        xb = (n * C + c) * H * W
        for i in range(KH):
            for j in range(KW):
                r = (c * KH + i) * KW + j
                off = j * dw - pw
                lo, hi = _valid_range(W, OW, off, sw)
                top = i * dh - ph
                if _inside(lo, hi, OW, top, OH, sh, sw, H):
                    src, q = xb + top * W + off, r * ncol + base
                    for oy in range(OH):
                        s, d = src + oy * sh * W, q + oy * OW
                        for ox in range(OW):
                            cf[np.uint64(d + ox)] = xf[np.uint64(s + ox)]
                    continue
                for oy in range(OH):
                    iy = oy * sh + top
                    q = r * ncol + base + oy * OW
                    if iy < 0 or iy >= H:
                        for ox in range(OW):
                            cf[np.uint64(q + ox)] = 0
                        continue
                    for ox in range(lo):
                        cf[np.uint64(q + ox)] = 0
                    src = xb + iy * W + off
                    if sw == 1:    # the common case: a contiguous copy
                        for ox in range(lo, hi):
                            cf[np.uint64(q + ox)] = xf[np.uint64(src + ox)]
                    else:
                        for ox in range(lo, hi):
                            cf[np.uint64(q + ox)] = xf[np.uint64(src + ox * sw)]
                    for ox in range(hi, OW):
                        cf[np.uint64(q + ox)] = 0


@njit(cache=True, error_model="numpy")
def _col2im(cols, n, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, gx, base):
    """Add ``cols[:, base:base + OH * OW]`` back into image ``n`` of ``gx`` (im2col's
    adjoint).

    The tap geometry (``r``, ``off``, ``lo``, ``hi``, ``top``) is written as in
    :func:`_im2col`: a shared helper returning it made both copies 25% slower here.
    """
    C, H, W = gx.shape[1], gx.shape[2], gx.shape[3]
    gf, cf, ncol = gx.reshape(-1), cols.reshape(-1), cols.shape[1]
    for c in range(C):
        gb = (n * C + c) * H * W
        for i in range(KH):
            for j in range(KW):
                r = (c * KH + i) * KW + j
                off = j * dw - pw
                lo, hi = _valid_range(W, OW, off, sw)
                top = i * dh - ph
                if _inside(lo, hi, OW, top, OH, sh, sw, H):
                    dst, q = gb + top * W + off, r * ncol + base
                    for oy in range(OH):
                        d, s = dst + oy * sh * W, q + oy * OW
                        for ox in range(OW):
                            gf[np.uint64(d + ox)] += cf[np.uint64(s + ox)]
                    continue
                for oy in range(OH):
                    iy = oy * sh + top
                    if iy < 0 or iy >= H:
                        continue
                    q = r * ncol + base + oy * OW
                    dst = gb + iy * W + off
                    if sw == 1:
                        for ox in range(lo, hi):
                            gf[np.uint64(dst + ox)] += cf[np.uint64(q + ox)]
                    else:
                        for ox in range(lo, hi):
                            gf[np.uint64(dst + ox * sw)] += cf[np.uint64(q + ox)]


# Images per BLAS call: as many as keep the columns of a chunk near CHUNK elements
# (about 2 MB of float32, in L2/L3), so that each product is large enough for BLAS
# to run well (and on both cores) while im2col's output is still in cache when
# the product reads it. Fewer, larger products also mean fewer thread wake-ups,
# which matters when the two cores are shared with other processes.
CHUNK = 1 << 19


@njit(cache=True)
def _chunk(N, K, P):
    return max(1, min(N, CHUNK // max(1, K * P)))


@njit(cache=True, error_model="numpy")
def k_conv2d(x, w, mode, ph, pw, sh, sw, dh, dw):
    """:class:`~graphc.ops.conv.Conv2d` of C-contiguous ``x`` (N, C, H, W), ``w`` (O, C, KH, KW)."""
    N, C, H, W = x.shape
    O, KH, KW = w.shape[0], w.shape[2], w.shape[3]
    if w.shape[1] != C:
        raise ValueError("graphc: images and filters differ in channels")
    ph = _conv_pad(mode, ph, KH, dh)
    pw = _conv_pad(mode, pw, KW, dw)
    OH = _conv_out(H, KH, ph, sh, dh)
    OW = _conv_out(W, KW, pw, sw, dw)
    if OH < 0 or OW < 0:
        raise ValueError("graphc: images too small for the filters")
    K, P = C * KH * KW, OH * OW
    if N * O * P == 0 or K == 0:
        return np.zeros((N, O, OH, OW), x.dtype)
    out = np.empty((N, O, P), x.dtype)
    w2 = w.reshape(O, K)
    B = _chunk(N, K, P)
    cols = np.empty((K, B * P), x.dtype)
    res = np.empty((O, B * P), x.dtype)
    for n0 in range(0, N, B):
        nb = min(B, N - n0)
        if nb < B:    # the last, smaller chunk: buffers of its exact size
            cols = np.empty((K, nb * P), x.dtype)
            res = np.empty((O, nb * P), x.dtype)
        for k in range(nb):
            _im2col(x, n0 + k, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, cols, k * P)
        k_matmul(w2, cols, res)
        _columns_to_images(res, n0, nb, out)
    return out.reshape(N, O, OH, OW)


@njit(cache=True, error_model="numpy")
def _gz_columns(gz, n0, nb, gzt):
    """``gz[n0:n0 + nb]`` (N, O, OH, OW) laid out as ``gzt`` (O, nb * P)."""
    O, P = gz.shape[1], gz.shape[2] * gz.shape[3]
    gf, tf = gz.reshape(-1), gzt.reshape(-1)
    for k in range(nb):
        for o in range(O):
            src, dst = ((n0 + k) * O + o) * P, (o * nb + k) * P
            for p in range(P):
                tf[np.uint64(dst + p)] = gf[np.uint64(src + p)]


@njit(cache=True, error_model="numpy")
def _columns_to_images(res, n0, nb, out):
    """``res`` (O, nb * P) into images ``n0:n0 + nb`` of ``out`` (N, O, P)."""
    O, P = out.shape[1], out.shape[2]
    rf, of = res.reshape(-1), out.reshape(-1)
    for k in range(nb):
        for o in range(O):
            src, dst = (o * nb + k) * P, ((n0 + k) * O + o) * P
            for p in range(P):
                of[np.uint64(dst + p)] = rf[np.uint64(src + p)]


@njit(cache=True, error_model="numpy")
def k_conv2d_grad_inputs(w, gz, rows, cols_, mode, ph, pw, sh, sw, dh, dw):
    """:class:`~graphc.ops.conv.Conv2dGradInputs`: (N, C, rows, cols_) images' gradient."""
    N, O, OH, OW = gz.shape
    C, KH, KW = w.shape[1], w.shape[2], w.shape[3]
    if w.shape[0] != O:
        raise ValueError("graphc: output gradient and filters differ in channels")
    ph = _conv_pad(mode, ph, KH, dh)
    pw = _conv_pad(mode, pw, KW, dw)
    eh = _conv_out(rows, KH, ph, sh, dh)
    ew = _conv_out(cols_, KW, pw, sw, dw)
    if eh < 0 or ew < 0 or eh != OH or ew != OW:
        raise ValueError("graphc: output gradient does not fit the images and filters")
    gx = np.zeros((N, C, rows, cols_), gz.dtype)
    K, P = C * KH * KW, OH * OW
    if gz.size == 0 or w.size == 0:
        return gx
    wt = w.reshape(O, K).T            # F-contiguous: BLAS reads it with a transpose flag
    B = _chunk(N, K, P)
    gzt = np.empty((O, B * P), gz.dtype)
    gcols = np.empty((K, B * P), gz.dtype)
    for n0 in range(0, N, B):
        nb = min(B, N - n0)
        if nb < B:
            gzt = np.empty((O, nb * P), gz.dtype)
            gcols = np.empty((K, nb * P), gz.dtype)
        _gz_columns(gz, n0, nb, gzt)
        k_matmul(wt, gzt, gcols)
        for k in range(nb):
            _col2im(gcols, n0 + k, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, gx, k * P)
    return gx


@njit(cache=True, error_model="numpy")
def k_conv2d_grad_weights(x, gz, KH, KW, mode, ph, pw, sh, sw, dh, dw):
    """:class:`~graphc.ops.conv.Conv2dGradWeights`: (O, C, KH, KW) filters' gradient."""
    N, C, H, W = x.shape
    O, OH, OW = gz.shape[1], gz.shape[2], gz.shape[3]
    if gz.shape[0] != N:
        raise ValueError("graphc: output gradient and images differ in batch size")
    ph = _conv_pad(mode, ph, KH, dh)
    pw = _conv_pad(mode, pw, KW, dw)
    eh = _conv_out(H, KH, ph, sh, dh)
    ew = _conv_out(W, KW, pw, sw, dw)
    if eh < 0 or ew < 0 or eh != OH or ew != OW:
        raise ValueError("graphc: output gradient does not fit the images and filters")
    K, P = C * KH * KW, OH * OW
    gw = np.zeros((O, K), gz.dtype)
    if gz.size == 0 or K == 0:
        return gw.reshape(O, C, KH, KW)
    B = _chunk(N, K, P)
    cols = np.empty((K, B * P), x.dtype)
    gzt = np.empty((O, B * P), gz.dtype)
    part = np.empty((O, K), gz.dtype)
    for n0 in range(0, N, B):
        nb = min(B, N - n0)
        if nb < B:
            cols = np.empty((K, nb * P), x.dtype)
            gzt = np.empty((O, nb * P), gz.dtype)
        for k in range(nb):
            _im2col(x, n0 + k, KH, KW, OH, OW, ph, pw, sh, sw, dh, dw, cols, k * P)
        _gz_columns(gz, n0, nb, gzt)
        k_matmul(gzt, cols.T, part)
        gw += part
    return gw.reshape(O, C, KH, KW)


# The pooled length is the op's own rule, compiled (one definition for both backends).
_pool_out = njit(cache=True)(pool_out_length)


# Max pooling over 2x2 windows with stride 2 and no padding (LeNet's, VGG's): each
# window written out, four loads and three selects, so that LLVM vectorizes the
# loop over a row's windows. 8x faster than the general loop (0.92 -> 0.11 ms on
# LeNet's first layer here); the result is the general loop's, NaNs included
# (the maximum is taken in its order, so even the sign of a zero maximum agrees).
@njit(cache=True, error_model="numpy")
def _max_pool_2x2(xf, of, B, H, W, OH, OW):
    for b in range(B):
        for oy in range(OH):
            top = np.uint64((b * H + 2 * oy) * W)
            bottom = top + np.uint64(W)
            dst = np.uint64((b * OH + oy) * OW)
            for ox in range(OW):
                left = np.uint64(2 * ox)
                m = xf[top + left]
                v = xf[top + left + np.uint64(1)]
                m = v if v > m or v != v else m
                v = xf[bottom + left]
                m = v if v > m or v != v else m
                v = xf[bottom + left + np.uint64(1)]
                m = v if v > m or v != v else m
                of[dst + np.uint64(ox)] = m


@njit(cache=True, error_model="numpy")
def _max_pool_2x2_grad(xf, zf, mf, gf, B, H, W, OH, OW):
    """The gradient of :func:`_max_pool_2x2`: windows do not overlap, so each
    element is written once (the general loop adds)."""
    for b in range(B):
        for oy in range(OH):
            top = np.uint64((b * H + 2 * oy) * W)
            bottom = top + np.uint64(W)
            at = np.uint64((b * OH + oy) * OW)
            for ox in range(OW):
                g, m = zf[at + np.uint64(ox)], mf[at + np.uint64(ox)]
                zero = zero_of(gf)
                i, j = top + np.uint64(2 * ox), bottom + np.uint64(2 * ox)
                gf[i] = g if xf[i] == m else zero
                gf[i + np.uint64(1)] = g if xf[i + np.uint64(1)] == m else zero
                gf[j] = g if xf[j] == m else zero
                gf[j + np.uint64(1)] = g if xf[j + np.uint64(1)] == m else zero


@njit(cache=True)
def _pool_2x2(mode, wh, ww, sh, sw, ph, pw, H, W, OH, OW):
    """True when the 2x2 max-pooling loops apply: every window inside the image."""
    return (mode == 0 and wh == 2 and ww == 2 and sh == 2 and sw == 2 and ph == 0
            and pw == 0 and 2 * OH <= H and 2 * OW <= W)


@njit(cache=True, error_model="numpy")
def k_pool2d(x, mode, wh, ww, sh, sw, ph, pw, ignore_border):
    """:class:`~graphc.ops.conv.Pool2d` of ``x`` (B, H, W); ``mode`` as ``_POOL_CODES``.

    Every window holds at least one image element (the pad is smaller than the
    window), so max pooling over the clipped window equals the reference's max over
    ``-inf`` padding; the averages sum the clipped window in float64 and divide by
    Theano's count (``inc_pad``: the window clipped to the padded image only).
    """
    B, H, W = x.shape
    OH = _pool_out(H, wh, sh, ph, ignore_border)
    OW = _pool_out(W, ww, sw, pw, ignore_border)
    out = np.empty((B, OH, OW), x.dtype)
    # Flat views and unsigned indices: no wraparound checks in the window loops.
    xf, of = x.reshape(-1), out.reshape(-1)
    if _pool_2x2(mode, wh, ww, sh, sw, ph, pw, H, W, OH, OW):
        _max_pool_2x2(xf, of, B, H, W, OH, OW)
        return out
    for b in range(B):
        for oy in range(OH):
            y0 = oy * sh - ph
            ylo, yhi = max(y0, 0), min(y0 + wh, H)
            for ox in range(OW):
                x0 = ox * sw - pw
                xlo, xhi = max(x0, 0), min(x0 + ww, W)
                dst = np.uint64((b * OH + oy) * OW + ox)
                if mode == 0:
                    m = xf[np.uint64((b * H + ylo) * W + xlo)]
                    for iy in range(ylo, yhi):
                        row = (b * H + iy) * W
                        for ix in range(xlo, xhi):
                            v = xf[np.uint64(row + ix)]
                            if v > m or v != v:    # a NaN wins, as np.maximum
                                m = v
                    of[dst] = m
                else:
                    total = 0.0
                    for iy in range(ylo, yhi):
                        row = (b * H + iy) * W
                        for ix in range(xlo, xhi):
                            total += xf[np.uint64(row + ix)]
                    of[dst] = total / _pool_count(mode, y0, x0, ylo, yhi, xlo, xhi,
                                                  wh, ww, ph, pw, H, W)
    return out


@njit(cache=True)
def _pool_count(mode, y0, x0, ylo, yhi, xlo, xhi, wh, ww, ph, pw, H, W):
    """The divisor of one average window (``graphc.ops.conv._PoolBase.divisors``)."""
    if mode == 2:    # exc_pad: the window clipped to the image
        return (yhi - ylo) * (xhi - xlo)
    # inc_pad: clipped to the padded image (partial windows at the far edge count less)
    return (min(y0 + wh, H + ph) - y0) * (min(x0 + ww, W + pw) - x0)


@njit(cache=True, error_model="numpy")
def k_pool2d_grad(x, gz, maxout, mode, wh, ww, sh, sw, ph, pw, ignore_border):
    """:class:`~graphc.ops.conv.Pool2dGrad` over (B, H, W); ``maxout`` is read for max only.

    Max gives ``gz`` to every element of a window equal to the window's maximum
    (Theano's rule; a NaN equals nothing); the averages spread ``gz / count``.
    """
    B, H, W = x.shape
    OH = _pool_out(H, wh, sh, ph, ignore_border)
    OW = _pool_out(W, ww, sw, pw, ignore_border)
    if gz.shape[0] != B or gz.shape[1] != OH or gz.shape[2] != OW:
        raise ValueError("graphc: output gradient does not fit the pooling")
    if mode == 0 and maxout.shape != gz.shape:
        raise ValueError("graphc: pooled output does not fit the pooling")
    xf, zf, mf = x.reshape(-1), gz.reshape(-1), maxout.reshape(-1)
    if _pool_2x2(mode, wh, ww, sh, sw, ph, pw, H, W, OH, OW):
        # Every element is written when the windows tile the image exactly.
        tiled = 2 * OH == H and 2 * OW == W
        gx = np.empty((B, H, W), x.dtype) if tiled else np.zeros((B, H, W), x.dtype)
        _max_pool_2x2_grad(xf, zf, mf, gx.reshape(-1), B, H, W, OH, OW)
        return gx
    gx = np.zeros((B, H, W), x.dtype)
    gf = gx.reshape(-1)
    for b in range(B):
        for oy in range(OH):
            y0 = oy * sh - ph
            ylo, yhi = max(y0, 0), min(y0 + wh, H)
            for ox in range(OW):
                x0 = ox * sw - pw
                xlo, xhi = max(x0, 0), min(x0 + ww, W)
                at = np.uint64((b * OH + oy) * OW + ox)
                g = zf[at]
                if mode == 0:
                    m = mf[at]
                    for iy in range(ylo, yhi):
                        row = (b * H + iy) * W
                        for ix in range(xlo, xhi):
                            # A select, not a branch: which element is the maximum is
                            # random, and mispredicted branches cost more than the adds.
                            gf[np.uint64(row + ix)] += g if xf[np.uint64(row + ix)] == m \
                                else zero_of(gf)
                else:
                    share = g / _pool_count(mode, y0, x0, ylo, yhi, xlo, xhi,
                                            wh, ww, ph, pw, H, W)
                    for iy in range(ylo, yhi):
                        row = (b * H + iy) * W
                        for ix in range(xlo, xhi):
                            gf[np.uint64(row + ix)] += share
    return gx


@njit(cache=True, error_model="numpy")
def k_pool2d_grad_grad(x, ggx, maxout, wh, ww, sh, sw, ph, pw, ignore_border):
    """:class:`~graphc.ops.conv.Pool2dGradGrad` over (B, H, W): (B, OH, OW).

    Each window sums ``ggx`` over its elements equal to its maximum, the elements
    :func:`k_pool2d_grad` gives the window's gradient to (the same test, so the
    two are exact transposes, ties included; a NaN equals nothing).
    """
    B, H, W = x.shape
    OH = _pool_out(H, wh, sh, ph, ignore_border)
    OW = _pool_out(W, ww, sw, pw, ignore_border)
    if ggx.shape != x.shape:
        raise ValueError("graphc: gradient does not fit the pooled input")
    if maxout.shape[0] != B or maxout.shape[1] != OH or maxout.shape[2] != OW:
        raise ValueError("graphc: pooled output does not fit the pooling")
    ggz = np.empty((B, OH, OW), x.dtype)
    xf, gf, mf, of = x.reshape(-1), ggx.reshape(-1), maxout.reshape(-1), ggz.reshape(-1)
    for b in range(B):
        for oy in range(OH):
            y0 = oy * sh - ph
            ylo, yhi = max(y0, 0), min(y0 + wh, H)
            for ox in range(OW):
                x0 = ox * sw - pw
                xlo, xhi = max(x0, 0), min(x0 + ww, W)
                at = np.uint64((b * OH + oy) * OW + ox)
                m = mf[at]
                total = zero_of(of)
                for iy in range(ylo, yhi):
                    row = (b * H + iy) * W
                    for ix in range(xlo, xhi):
                        k = np.uint64(row + ix)
                        total += gf[k] if xf[k] == m else zero_of(of)
                of[at] = total
    return ggz


# ------------------------------------------------------------ lowering
def _conv_params(op):
    """``mode, ph, pw, sh, sw, dh, dw`` as source text for the kernels."""
    if isinstance(op.border_mode, str):
        mode, pad = _BORDER_CODES[op.border_mode], (0, 0)
    else:
        mode, pad = 0, op.border_mode
    values = (mode,) + tuple(pad) + tuple(op.subsample) + tuple(op.filter_dilation)
    return ", ".join(str(int(v)) for v in values)


def _floats(*variables):
    return all(v.dtype in _FLOATS for v in variables) and \
        len({v.dtype for v in variables}) == 1


def lower_conv2d(ctx, node):
    (x, w), (out,) = node.inputs, node.outputs
    if not _floats(x, w, out):
        return fallback.lower_fallback(ctx, node)
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_conv2d(k_contig({ctx.get(x)}), k_contig({ctx.get(w)}), "
             f"{_conv_params(node.op)})")
    ctx.bind(out, name)


def lower_conv2d_grad_inputs(ctx, node):
    (w, gz, rows, cols), (out,) = node.inputs, node.outputs
    if not _floats(w, gz, out):
        return fallback.lower_fallback(ctx, node)
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_conv2d_grad_inputs(k_contig({ctx.get(w)}), k_contig({ctx.get(gz)}), "
             f"np.int64({ctx.scalar(rows)}), np.int64({ctx.scalar(cols)}), "
             f"{_conv_params(node.op)})")
    ctx.bind(out, name)


def lower_conv2d_grad_weights(ctx, node):
    (x, gz, rows, cols), (out,) = node.inputs, node.outputs
    if not _floats(x, gz, out):
        return fallback.lower_fallback(ctx, node)
    name = ctx.tmp("v")
    ctx.line(f"{name} = k_conv2d_grad_weights(k_contig({ctx.get(x)}), "
             f"k_contig({ctx.get(gz)}), np.int64({ctx.scalar(rows)}), "
             f"np.int64({ctx.scalar(cols)}), {_conv_params(node.op)})")
    ctx.bind(out, name)


def _window_params(op):
    """``wh, ww, sh, sw, ph, pw, ignore_border`` as source text for the kernels."""
    values = op.ws + op.stride + op.pad
    return ", ".join(str(int(v)) for v in values) + f", {bool(op.ignore_border)}"


def _pool_params(op):
    """``mode`` (a ``_POOL_CODES`` code), then :func:`_window_params`."""
    return f"{_POOL_CODES[op.mode]}, {_window_params(op)}"


def _as3(ctx, var):
    """``var`` (ndim >= 2) as a C-contiguous (B, H, W) array expression."""
    name = ctx.get(var)
    lead = " * ".join(f"{name}.shape[{k}]" for k in range(var.ndim - 2)) or "1"
    return (f"k_reshape({name}, (np.int64({lead}), {name}.shape[{var.ndim - 2}], "
            f"{name}.shape[{var.ndim - 1}]))")


def _poolable(op, *variables):
    dtype = variables[0].dtype
    if any(v.dtype != dtype for v in variables):
        return False
    if op.mode == "max":    # integers too (numba's float16 and bool arithmetic: no)
        return dtype in _FLOATS or np.dtype(dtype).kind in "iu"
    return dtype in _FLOATS


def lower_pool2d(ctx, node):
    (x,), (out,) = node.inputs, node.outputs
    if not _poolable(node.op, x, out):
        return fallback.lower_fallback(ctx, node)
    o3, name = ctx.tmp("o"), ctx.tmp("v")
    ctx.line(f"{o3} = k_pool2d({_as3(ctx, x)}, {_pool_params(node.op)})")
    xname = ctx.get(x)
    lead = "".join(f"{xname}.shape[{k}], " for k in range(x.ndim - 2))
    ctx.line(f"{name} = k_reshape({o3}, ({lead}{o3}.shape[1], {o3}.shape[2]))")
    ctx.bind(out, name)


def lower_pool2d_grad(ctx, node):
    (out,) = node.outputs
    x, gz = node.inputs[:2]
    if not _floats(*node.inputs, out):
        return fallback.lower_fallback(ctx, node)
    maxout = _as3(ctx, node.inputs[2]) if node.op.mode == "max" else _as3(ctx, gz)
    g3, name = ctx.tmp("o"), ctx.tmp("v")
    ctx.line(f"{g3} = k_pool2d_grad({_as3(ctx, x)}, {_as3(ctx, gz)}, {maxout}, "
             f"{_pool_params(node.op)})")
    ctx.line(f"{name} = k_reshape({g3}, {ctx.get(x)}.shape)")
    ctx.bind(out, name)


def lower_pool2d_grad_grad(ctx, node):
    (x, ggx, maxout), (out,) = node.inputs, node.outputs
    if not _floats(x, ggx, maxout, out):
        return fallback.lower_fallback(ctx, node)
    o3, name = ctx.tmp("o"), ctx.tmp("v")
    ctx.line(f"{o3} = k_pool2d_grad_grad({_as3(ctx, x)}, {_as3(ctx, ggx)}, "
             f"{_as3(ctx, maxout)}, {_window_params(node.op)})")
    ctx.line(f"{name} = k_reshape({o3}, {ctx.get(maxout)}.shape)")
    ctx.bind(out, name)


LOWERINGS = {
    Conv2d: lower_conv2d,
    Conv2dGradInputs: lower_conv2d_grad_inputs,
    Conv2dGradWeights: lower_conv2d_grad_weights,
    Pool2d: lower_pool2d,
    Pool2dGrad: lower_pool2d_grad,
    Pool2dGradGrad: lower_pool2d_grad_grad,
}
