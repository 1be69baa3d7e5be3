"""Convolution and pooling over images in NCHW layout.

:class:`Conv2d` is a correlation (Theano's ``conv2d`` with ``filter_flip=False``)
of ``(batch, channels, rows, cols)`` images with ``(out_channels, channels,
rows, cols)`` filters, with zero padding, strides and dilation. Its gradients
are ops of their own, as Theano's ``AbstractConv2d_gradInputs`` and
``AbstractConv2d_gradWeights``: :class:`Conv2dGradInputs` scatters the output
gradient back through the filters, :class:`Conv2dGradWeights` correlates the
input with it. The three are linear in each argument and adjoint to each other,
so their own gradients are built from the three again.

:class:`Pool2d` pools the last two axes (``max``, ``average_inc_pad``,
``average_exc_pad``) with Theano's rules for partial windows at the border;
:class:`Pool2dGrad` is its gradient. For the averages that gradient is linear
in ``gz`` and its own gradient is :class:`Pool2d` again; for max it is linear in
``gz`` and piecewise constant in ``x``, and its transpose in ``gz`` is
:class:`Pool2dGradGrad` (Theano's ``DownsampleFactorMaxGradGrad``), whose own
gradient is :class:`Pool2dGrad` again.

The NumPy references loop over the taps of the window (at most a few dozen for
the kernels a small convnet uses) and let ``tensordot`` (BLAS) do the
products, so they are fast enough to train on 8x8 digits with the python
backend.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from graphc.errors import GraphcTypeError, GraphcValueError, ShapeError
from graphc.graph import Node, Op, TensorType
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import shape as shape_ops

BORDER_MODES = ("valid", "full", "half")
POOL_MODES = ("max", "average_inc_pad", "average_exc_pad")


# ------------------------------------------------------------ arguments
def as_pair(value, what, context, minimum=0):
    """``(a, b)`` of Python ints from an int or a pair, each at least ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise GraphcValueError(f"{context}: {what} must be an int or a pair of ints, "
                               f"got {value!r}")
    if min(pair) < minimum:
        raise GraphcValueError(f"{context}: {what} must be at least {minimum}, got {value!r}")
    return pair


def normalize_border_mode(border_mode):
    """``"valid"``, ``"full"``, ``"half"`` or a pair of non-negative paddings."""
    if isinstance(border_mode, str):
        if border_mode not in BORDER_MODES:
            raise GraphcValueError(f"conv2d: border_mode must be one of {BORDER_MODES}, an "
                                   f"int or a pair of ints, got {border_mode!r}")
        return border_mode
    pad = as_pair(border_mode, "border_mode", "conv2d")
    # (0, 0) and "valid" are the same op: one spelling keeps merging simple.
    return "valid" if pad == (0, 0) else pad


def _shape_text(shape):
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"


# ---------------------------------------------------------------- lengths
def conv_padding(border_mode, kernel, dilation):
    """The zero padding on each side of one axis for a kernel of length ``kernel``."""
    if not isinstance(border_mode, str):
        return border_mode
    extent = (kernel - 1) * dilation + 1
    return {"valid": 0, "full": extent - 1, "half": extent // 2}[border_mode]


def conv_out_length(length, kernel, pad, stride, dilation):
    """Output length of a correlation along one axis; -1 if the kernel does not fit."""
    extent = (kernel - 1) * dilation + 1
    if length + 2 * pad < extent:
        return -1
    return (length + 2 * pad - extent) // stride + 1


def pool_out_length(length, ws, stride, pad, ignore_border):
    """Theano's pooled length along one axis (partial windows kept unless ignore_border)."""
    if length == 0:
        return 0
    padded = length + 2 * pad
    if ignore_border:
        return max((padded - ws) // stride + 1, 0)
    if stride >= ws:
        return (padded - 1) // stride + 1
    return max(0, (padded - 1 - ws) // stride + 1) + 1


# ------------------------------------------------------ NumPy kernels
def _pad_images(x, pads, extents, fill):
    """``x`` (..., H, W) inside a ``fill``-ed array of size ``extents`` at offset ``pads``."""
    (ph, pw), (eh, ew_) = pads, extents
    h, w = x.shape[-2:]
    if (ph, pw) == (0, 0) and (eh, ew_) == (h, w):
        return x
    out = np.full(x.shape[:-2] + (eh, ew_), fill, dtype=x.dtype)
    out[..., ph:ph + h, pw:pw + w] = x
    return out


def _tap(array, row, col, out_shape, stride):
    """The view of ``array`` (..., H, W) read by tap ``(row, col)`` of every window."""
    (oh, ow), (sh, sw) = out_shape, stride
    return array[..., row:row + (oh - 1) * sh + 1:sh, col:col + (ow - 1) * sw + 1:sw]


def _windows(xp, kernel, out_shape, stride, dilation):
    """A read-only view (N, C, KH, KW, OH, OW) of padded images ``xp``: im2col, uncopied."""
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_shape, stride, dilation
    return as_strided(xp, (n, c, kh, kw, oh, ow),
                      (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw), writeable=False)


class _ConvGeometry:
    """Paddings and output lengths of one correlation, checked against the arrays."""

    def __init__(self, op, image, kernel):
        self.kernel = kernel
        self.pad = tuple(conv_padding(op.border_mode if isinstance(op.border_mode, str)
                                      else op.border_mode[i], kernel[i],
                                      op.filter_dilation[i]) for i in range(2))
        self.out = tuple(conv_out_length(image[i], kernel[i], self.pad[i], op.subsample[i],
                                         op.filter_dilation[i]) for i in range(2))
        self.padded = tuple(image[i] + 2 * self.pad[i] for i in range(2))


def _check_4d(name, values, context):
    for what, value in zip(name, values):
        if np.ndim(value) != 4:
            raise ShapeError(f"{context}: {what} must be 4-d, got shape {np.shape(value)}")


# ------------------------------------------------------------ conv ops
class _ConvBase(Op):
    """What the three convolution ops share: their parameters and the shape checks."""

    __props__ = ("border_mode", "subsample", "filter_dilation")

    def __init__(self, border_mode="valid", subsample=(1, 1), filter_dilation=(1, 1)):
        self.border_mode = normalize_border_mode(border_mode)
        self.subsample = as_pair(subsample, "subsample", "conv2d", minimum=1)
        self.filter_dilation = as_pair(filter_dilation, "filter_dilation", "conv2d", minimum=1)

    def __str__(self):
        mode = self.border_mode if isinstance(self.border_mode, str) else \
            f"pad={self.border_mode}"
        extra = ""
        if self.subsample != (1, 1):
            extra += f", stride={self.subsample}"
        if self.filter_dilation != (1, 1):
            extra += f", dilation={self.filter_dilation}"
        return f"{type(self).__name__}{{{mode}{extra}}}"

    def geometry(self, image, kernel):
        return _ConvGeometry(self, image, kernel)

    def static_out(self, image, kernel, image_shape, kernel_shape):
        """Static output lengths (None where unknown); a ShapeError if one is negative."""
        result = []
        for i in range(2):
            if image[i] is None or kernel[i] is None:
                result.append(None)
                continue
            pad = conv_padding(self.border_mode if isinstance(self.border_mode, str)
                               else self.border_mode[i], kernel[i], self.filter_dilation[i])
            length = conv_out_length(image[i], kernel[i], pad, self.subsample[i],
                                     self.filter_dilation[i])
            if length < 0:
                raise ShapeError(f"{self}: input shape {_shape_text(image_shape)} is too small "
                                 f"for filters of shape {_shape_text(kernel_shape)} "
                                 f"(the dilated filter overflows the padded axis {i + 2})")
            result.append(length)
        return result

    def symbolic_out(self, image, kernel):
        """Output lengths as int64 expressions of the image and kernel lengths."""
        result = []
        for i in range(2):
            stride, dilation = self.subsample[i], self.filter_dilation[i]
            extent = ew.add(ew.mul(ew.sub(kernel[i], 1), dilation), 1)
            if isinstance(self.border_mode, str):
                pad = {"valid": basic.constant(0, "int64"), "full": ew.sub(extent, 1),
                       "half": ew.floor_div(extent, 2)}[self.border_mode]
            else:
                pad = basic.constant(self.border_mode[i], "int64")
            padded = ew.add(image[i], ew.mul(pad, 2))
            result.append(ew.add(ew.floor_div(ew.sub(padded, extent), stride), 1))
        return result


def _float_operands(*values):
    """Variables of one floating dtype (integers become floatX, as Theano's conv)."""
    variables = [ew.as_float(basic.as_variable(v)) for v in values]
    dtype = np.result_type(*[v.dtype for v in variables]).name
    return [ew.cast(v, dtype) for v in variables]


class Conv2d(_ConvBase):
    """Correlate NCHW ``images`` with OIHW ``filters`` (no flip, as Theano's filter_flip=False).

    ``out[n, o, y, x] = sum_{c, i, j} pad(images)[n, c, y * sh + i * dh, x * sw + j * dw]
    * filters[o, c, i, j]``.
    """

    def make_node(self, images, filters):
        images, filters = _float_operands(images, filters)
        if images.ndim != 4 or filters.ndim != 4:
            raise GraphcTypeError(f"{self}: images and filters must be 4-d (NCHW and OIHW), "
                                  f"got {images.type} and {filters.type}")
        ishape, kshape = images.type.shape, filters.type.shape
        if None not in (ishape[1], kshape[1]) and ishape[1] != kshape[1]:
            raise ShapeError(f"{self}: images of shape {_shape_text(ishape)} have "
                             f"{ishape[1]} channels but filters of shape "
                             f"{_shape_text(kshape)} expect {kshape[1]}")
        rows, cols = self.static_out(ishape[2:], kshape[2:], ishape, kshape)
        out = TensorType(images.dtype, (ishape[0], kshape[0], rows, cols))
        return Node(self, [images, filters], [out])

    def perform(self, node, inputs):
        x, w = inputs
        _check_4d(("images", "filters"), inputs, str(self))
        if x.shape[1] != w.shape[1]:
            raise ShapeError(f"{self}: images of shape {x.shape} have {x.shape[1]} channels "
                             f"but filters of shape {w.shape} expect {w.shape[1]}")
        geo = self.geometry(x.shape[2:], w.shape[2:])
        if min(geo.out) < 0:
            raise ShapeError(f"{self}: images of shape {x.shape} are too small for filters "
                             f"of shape {w.shape}")
        dtype = node.outputs[0].dtype
        out_shape = (x.shape[0], w.shape[0]) + geo.out
        if 0 in out_shape or w.shape[1] == 0:
            return [np.zeros(out_shape, dtype=dtype)]
        xp = _pad_images(x, geo.pad, geo.padded, 0)
        cols = _windows(xp, w.shape[2:], geo.out, self.subsample, self.filter_dilation)
        # (N, C, KH, KW, OH, OW) . (O, C, KH, KW) -> (N, OH, OW, O)
        out = np.tensordot(cols, w, axes=([1, 2, 3], [1, 2, 3]))
        return [np.ascontiguousarray(out.transpose(0, 3, 1, 2), dtype=dtype)]

    def infer_shape(self, node, input_shapes):
        ishape, kshape = input_shapes
        rows, cols = self.symbolic_out(ishape[2:], kshape[2:])
        return [(ishape[0], kshape[0], rows, cols)]

    def grad(self, inputs, outputs, output_grads):
        (x, w), (gz,) = inputs, output_grads
        params = (self.border_mode, self.subsample, self.filter_dilation)
        x_dims, w_dims = shape_ops.shape_list(x), shape_ops.shape_list(w)
        gx = Conv2dGradInputs(*params)(w, gz, x_dims[2], x_dims[3])
        gw = Conv2dGradWeights(*params)(x, gz, w_dims[2], w_dims[3])
        return [gx, gw]


def _check_grad_shapes(op, what, image, kernel, gz):
    """The output gradient must have the shape the forward correlation gives."""
    geo = op.geometry(image, kernel)
    if min(geo.out) < 0 or tuple(gz.shape[2:]) != geo.out:
        raise ShapeError(f"{op}: output gradient of shape {gz.shape} does not fit {what} "
                         f"(expected spatial shape {geo.out})")
    return geo


def _length_input(value, context):
    value = basic.as_variable(value, dtype="int64" if basic.is_weak(value) else None)
    if value.ndim != 0 or np.dtype(value.dtype).kind not in "iu":
        raise GraphcTypeError(f"{context}: a length must be an integer scalar, got {value.type}")
    return ew.cast(value, "int64")


class Conv2dGradInputs(_ConvBase):
    """Gradient of :class:`Conv2d` with respect to its images.

    Inputs: ``filters`` (O, C, KH, KW), the output gradient ``gz`` (N, O, OH, OW),
    and the image lengths ``rows``, ``cols`` (a strided correlation cannot tell
    them from ``gz``). Output: (N, C, rows, cols).
    """

    def make_node(self, filters, gz, rows, cols):
        filters, gz = _float_operands(filters, gz)
        rows, cols = _length_input(rows, str(self)), _length_input(cols, str(self))
        if filters.ndim != 4 or gz.ndim != 4:
            raise GraphcTypeError(f"{self}: filters and output gradient must be 4-d, got "
                                  f"{filters.type} and {gz.type}")
        static = (gz.type.shape[0], filters.type.shape[1], shape_ops.static_value(rows),
                  shape_ops.static_value(cols))
        return Node(self, [filters, gz, rows, cols], [TensorType(gz.dtype, static)])

    def perform(self, node, inputs):
        w, gz, rows, cols = inputs
        _check_4d(("filters", "output gradient"), (w, gz), str(self))
        image = (int(rows), int(cols))
        if gz.shape[1] != w.shape[0]:
            raise ShapeError(f"{self}: output gradient of shape {gz.shape} has {gz.shape[1]} "
                             f"channels but filters of shape {w.shape} make {w.shape[0]}")
        geo = _check_grad_shapes(self, f"images of size {image} and filters of shape "
                                 f"{w.shape}", image, w.shape[2:], gz)
        dtype = node.outputs[0].dtype
        n, c = gz.shape[0], w.shape[1]
        (kh, kw), (dh, dw) = w.shape[2:], self.filter_dilation
        gxp = np.zeros((n, c) + geo.padded, dtype=np.result_type(w, gz))
        if gz.size and w.size:
            # (N, O, OH, OW) . (O, C, KH, KW) -> (N, OH, OW, C, KH, KW), then each tap
            # adds its slice back where the forward pass read it.
            gcols = np.tensordot(gz, w, axes=([1], [0]))
            for i in range(kh):
                for j in range(kw):
                    view = _tap(gxp, i * dh, j * dw, geo.out, self.subsample)
                    view += gcols[..., i, j].transpose(0, 3, 1, 2)
        (ph, pw) = geo.pad
        gx = gxp[:, :, ph:ph + image[0], pw:pw + image[1]]
        return [np.ascontiguousarray(gx, dtype=dtype)]

    def infer_shape(self, node, input_shapes):
        wshape, gshape = input_shapes[:2]
        return [(gshape[0], wshape[1], node.inputs[2], node.inputs[3])]

    def grad(self, inputs, outputs, output_grads):
        # <G, gradinputs(w, gz)> = <conv(G, w), gz>: linear in w and in gz.
        (w, gz, rows, cols), (g,) = inputs, output_grads
        params = (self.border_mode, self.subsample, self.filter_dilation)
        w_dims = shape_ops.shape_list(w)
        gw = Conv2dGradWeights(*params)(g, gz, w_dims[2], w_dims[3])
        ggz = Conv2d(*params)(g, w)
        return [gw, ggz, None, None]


class Conv2dGradWeights(_ConvBase):
    """Gradient of :class:`Conv2d` with respect to its filters.

    Inputs: ``images`` (N, C, H, W), the output gradient ``gz`` (N, O, OH, OW) and
    the filter lengths ``rows``, ``cols``. Output: (O, C, rows, cols).
    """

    def make_node(self, images, gz, rows, cols):
        images, gz = _float_operands(images, gz)
        rows, cols = _length_input(rows, str(self)), _length_input(cols, str(self))
        if images.ndim != 4 or gz.ndim != 4:
            raise GraphcTypeError(f"{self}: images and output gradient must be 4-d, got "
                                  f"{images.type} and {gz.type}")
        static = (gz.type.shape[1], images.type.shape[1], shape_ops.static_value(rows),
                  shape_ops.static_value(cols))
        return Node(self, [images, gz, rows, cols], [TensorType(gz.dtype, static)])

    def perform(self, node, inputs):
        x, gz, rows, cols = inputs
        _check_4d(("images", "output gradient"), (x, gz), str(self))
        kernel = (int(rows), int(cols))
        if gz.shape[0] != x.shape[0]:
            raise ShapeError(f"{self}: output gradient of shape {gz.shape} and images of "
                             f"shape {x.shape} differ in batch size")
        geo = _check_grad_shapes(self, f"images of shape {x.shape} and filters of size "
                                 f"{kernel}", x.shape[2:], kernel, gz)
        dtype = node.outputs[0].dtype
        out_shape = (gz.shape[1], x.shape[1]) + kernel
        if gz.size == 0 or x.shape[1] == 0 or 0 in kernel:
            return [np.zeros(out_shape, dtype=dtype)]
        xp = _pad_images(x, geo.pad, geo.padded, 0)
        windows = _windows(xp, kernel, geo.out, self.subsample, self.filter_dilation)
        # (N, O, OH, OW) . (N, C, KH, KW, OH, OW) -> (O, C, KH, KW)
        gw = np.tensordot(gz, windows, axes=([0, 2, 3], [0, 4, 5]))
        return [np.ascontiguousarray(gw, dtype=dtype)]

    def infer_shape(self, node, input_shapes):
        xshape, gshape = input_shapes[:2]
        return [(gshape[1], xshape[1], node.inputs[2], node.inputs[3])]

    def grad(self, inputs, outputs, output_grads):
        # <G, gradweights(x, gz)> = <conv(x, G), gz>: linear in x and in gz.
        (x, gz, rows, cols), (g,) = inputs, output_grads
        params = (self.border_mode, self.subsample, self.filter_dilation)
        x_dims = shape_ops.shape_list(x)
        gx = Conv2dGradInputs(*params)(g, gz, x_dims[2], x_dims[3])
        ggz = Conv2d(*params)(x, g)
        return [gx, ggz, None, None]


# ------------------------------------------------------------- pooling
class _PoolBase(Op):
    """Parameters and window geometry shared by the pooling ops."""

    __props__ = ("ws", "ignore_border", "stride", "pad", "mode")

    def __init__(self, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
        self.ws = as_pair(ws, "ws", "pool_2d", minimum=1)
        self.ignore_border = bool(ignore_border)
        self.stride = self.ws if stride is None else as_pair(stride, "stride", "pool_2d",
                                                             minimum=1)
        self.pad = as_pair(pad, "pad", "pool_2d")
        if mode not in POOL_MODES:
            raise GraphcValueError(f"pool_2d: mode must be one of {POOL_MODES}, got {mode!r}")
        self.mode = mode
        if self.pad != (0, 0) and not self.ignore_border:
            raise GraphcValueError("pool_2d: padding works only with ignore_border=True")
        if self.pad[0] >= self.ws[0] or self.pad[1] >= self.ws[1]:
            # A window made only of padding has no maximum and no exc_pad average.
            raise GraphcValueError(f"pool_2d: pad {self.pad} must be smaller than the "
                                   f"window {self.ws}")

    def __str__(self):
        text = f"{type(self).__name__}{{{self.mode}, ws={self.ws}"
        if self.stride != self.ws:
            text += f", stride={self.stride}"
        if self.pad != (0, 0):
            text += f", pad={self.pad}"
        if not self.ignore_border:
            text += ", ignore_border=False"
        return text + "}"

    def out_lengths(self, image):
        return tuple(pool_out_length(image[i], self.ws[i], self.stride[i], self.pad[i],
                                     self.ignore_border) for i in range(2))

    def extents(self, image, out):
        """Size of the padded array every window fits in (partial windows included)."""
        return tuple(max(image[i] + 2 * self.pad[i], (out[i] - 1) * self.stride[i] + self.ws[i])
                     for i in range(2))

    def fill(self, dtype):
        """The padding value: never the maximum, nothing to an average."""
        if self.mode != "max":
            return 0
        dtype = np.dtype(dtype)
        if dtype.kind == "f":
            return -np.inf
        if dtype.kind == "b":
            return False
        return np.iinfo(dtype).min

    def divisors(self, image, out):
        """The (OH, OW) counts each average divides by (Theano's rule for each mode)."""
        counts = []
        for i in range(2):
            starts = np.arange(out[i]) * self.stride[i]
            ends = np.minimum(starts + self.ws[i], image[i] + 2 * self.pad[i])
            if self.mode == "average_exc_pad":
                starts = np.maximum(starts, self.pad[i])
                ends = np.minimum(ends, image[i] + self.pad[i])
            counts.append(ends - starts)
        return np.outer(counts[0], counts[1])

    def taps(self):
        return [(i, j) for i in range(self.ws[0]) for j in range(self.ws[1])]


class Pool2d(_PoolBase):
    """Pool the last two axes over ``ws`` windows (Theano's ``Pool``).

    ``max`` ignores the padding; ``average_inc_pad`` counts it in the divisor,
    ``average_exc_pad`` does not. With ``ignore_border=False`` partial windows at
    the bottom and right edges are kept (and averaged over what they cover).
    """

    def make_node(self, x):
        x = basic.as_variable(x)
        if self.mode != "max":
            x = ew.as_float(x)
        if x.ndim < 2:
            raise GraphcTypeError(f"{self}: the input needs at least 2 axes, got {x.type}")
        lead, image = x.type.shape[:-2], x.type.shape[-2:]
        out = tuple(None if n is None else pool_out_length(
            n, self.ws[i], self.stride[i], self.pad[i], self.ignore_border)
            for i, n in enumerate(image))
        return Node(self, [x], [TensorType(x.dtype, lead + out)])

    def perform(self, node, inputs):
        (x,) = inputs
        if x.ndim != node.inputs[0].ndim:
            raise ShapeError(f"{self}: input of shape {x.shape}, expected ndim "
                             f"{node.inputs[0].ndim}")
        image = x.shape[-2:]
        out = self.out_lengths(image)
        result_shape = x.shape[:-2] + out
        if 0 in result_shape:
            return [np.zeros(result_shape, dtype=x.dtype)]
        xp = _pad_images(x, self.pad, self.extents(image, out), self.fill(x.dtype))
        if self.mode == "max":
            result = _tap(xp, 0, 0, out, self.stride).copy()
            for i, j in self.taps()[1:]:
                np.maximum(result, _tap(xp, i, j, out, self.stride), out=result)
            return [result]
        total = np.zeros(result_shape, dtype=np.result_type(x.dtype, np.float64))
        for i, j in self.taps():
            total += _tap(xp, i, j, out, self.stride)
        return [(total / self.divisors(image, out)).astype(x.dtype)]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        dims = []
        for i, length in enumerate(shape[-2:]):
            ws, stride, pad = self.ws[i], self.stride[i], self.pad[i]
            padded = ew.add(length, 2 * pad)
            if self.ignore_border:
                dim = ew.maximum(ew.add(ew.floor_div(ew.sub(padded, ws), stride), 1), 0)
            elif stride >= ws:
                dim = ew.add(ew.floor_div(ew.sub(padded, 1), stride), 1)
            else:
                steps = ew.add(ew.floor_div(ew.sub(padded, 1 + ws), stride), 1)
                dim = ew.add(ew.maximum(steps, 0), 1)
            # An empty axis pools to an empty axis.
            dims.append(ew.switch(ew.eq(length, 0), basic.constant(0, "int64"), dim))
        return [tuple(shape[:-2]) + tuple(dims)]

    def grad(self, inputs, outputs, output_grads):
        (x,), (out,), (gz,) = inputs, outputs, output_grads
        if np.dtype(x.dtype).kind != "f":
            return [None]
        params = (self.ws, self.ignore_border, self.stride, self.pad, self.mode)
        if self.mode == "max":
            return [Pool2dGrad(*params)(x, gz, out)]
        return [Pool2dGrad(*params)(x, gz)]


class Pool2dGrad(_PoolBase):
    """Gradient of :class:`Pool2d`: inputs ``x``, ``gz`` and, for max, the pooled ``out``.

    Max pooling gives the gradient to every position of a window equal to its
    maximum (Theano's ``MaxPoolGrad``); the averages spread it evenly with the
    divisor the forward pass used.
    """

    def make_node(self, x, gz, out=None):
        x, gz = basic.as_variable(x), basic.as_variable(gz)
        if (out is None) != (self.mode != "max"):
            raise GraphcTypeError(f"{self}: the pooled output is an input for max "
                                  "pooling only")
        inputs = [x, gz] if out is None else [x, gz, basic.as_variable(out)]
        if any(v.ndim != x.ndim for v in inputs) or x.ndim < 2:
            raise GraphcTypeError(f"{self}: inputs of types {[v.type for v in inputs]} must "
                                  "share an ndim of at least 2")
        return Node(self, inputs, [x.type])

    def perform(self, node, inputs):
        x, gz = inputs[:2]
        image = x.shape[-2:]
        out = self.out_lengths(image)
        if tuple(gz.shape) != x.shape[:-2] + out:
            raise ShapeError(f"{self}: output gradient of shape {gz.shape} does not fit the "
                             f"pooling of an input of shape {x.shape}")
        extents = self.extents(image, out)
        grad_dtype = np.result_type(x.dtype, gz.dtype)
        gxp = np.zeros(x.shape[:-2] + extents, dtype=grad_dtype)
        if gz.size:
            if self.mode == "max":
                maxout = inputs[2]
                xp = _pad_images(x, self.pad, extents, self.fill(x.dtype))
                for i, j in self.taps():
                    hit = _tap(xp, i, j, out, self.stride) == maxout
                    _tap(gxp, i, j, out, self.stride)[...] += np.where(hit, gz, 0)
            else:
                share = gz / self.divisors(image, out)
                for i, j in self.taps():
                    _tap(gxp, i, j, out, self.stride)[...] += share
        (ph, pw) = self.pad
        gx = gxp[..., ph:ph + image[0], pw:pw + image[1]]
        return [np.ascontiguousarray(gx, dtype=x.dtype)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        (g,) = output_grads
        params = (self.ws, self.ignore_border, self.stride, self.pad, self.mode)
        if self.mode == "max":
            # Linear in gz; which elements are maxima changes only by jumps, so the
            # derivative in x and out is zero (zeros, not disconnected: the values
            # do depend on them, as an elementwise piecewise op's).
            x, gz, out = inputs
            return [ew.zeros_like(x), Pool2dGradGrad(*params)(x, g, out), ew.zeros_like(out)]
        # The average's gradient is linear in gz and does not depend on x's values.
        return [None, Pool2d(*params)(g)]


class Pool2dGradGrad(_PoolBase):
    """The transpose in ``gz`` of max :class:`Pool2dGrad`: inputs ``x``, ``ggx``, ``out``.

    ``ggx`` has the shape of ``x``; each window of the result is the sum of
    ``ggx`` over the window's elements equal to its maximum ``out`` (the
    elements :class:`Pool2dGrad` gives that window's ``gz`` to, ties included),
    so ``<Pool2dGradGrad(x, ggx, out), gz> = <ggx, Pool2dGrad(x, gz, out)>``.
    Theano's ``DownsampleFactorMaxGradGrad``.
    """

    def __init__(self, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
        if mode != "max":
            raise GraphcValueError(f"Pool2dGradGrad: max pooling only, got mode {mode!r} "
                                   "(the averages' gradients are Pool2d again)")
        super().__init__(ws, ignore_border, stride, pad, mode)

    def make_node(self, x, ggx, out):
        inputs = [basic.as_variable(v) for v in (x, ggx, out)]
        x, out = inputs[0], inputs[2]
        if any(v.ndim != x.ndim for v in inputs) or x.ndim < 2:
            raise GraphcTypeError(f"{self}: inputs of types {[v.type for v in inputs]} must "
                                  "share an ndim of at least 2")
        return Node(self, inputs, [TensorType(x.dtype, out.type.shape)])

    def perform(self, node, inputs):
        x, ggx, maxout = inputs
        image = x.shape[-2:]
        out = self.out_lengths(image)
        if ggx.shape != x.shape or maxout.shape != x.shape[:-2] + out:
            raise ShapeError(f"{self}: gradient of shape {ggx.shape} and pooled output of "
                             f"shape {maxout.shape} do not fit the pooling of an input of "
                             f"shape {x.shape}")
        extents = self.extents(image, out)
        ggz = np.zeros(maxout.shape, dtype=np.result_type(x.dtype, ggx.dtype))
        if ggz.size:
            # Pool2dGrad's loop with the arrows reversed: the same taps, the same hits.
            xp = _pad_images(x, self.pad, extents, self.fill(x.dtype))
            ggxp = _pad_images(ggx, self.pad, extents, 0)
            for i, j in self.taps():
                hit = _tap(xp, i, j, out, self.stride) == maxout
                ggz += np.where(hit, _tap(ggxp, i, j, out, self.stride), 0)
        return [np.asarray(ggz, dtype=node.outputs[0].dtype)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[2]]

    def grad(self, inputs, outputs, output_grads):
        # Linear in ggx, whose transpose is Pool2dGrad; piecewise constant in x and out.
        (x, ggx, out), (g,) = inputs, output_grads
        params = (self.ws, self.ignore_border, self.stride, self.pad, self.mode)
        return [ew.zeros_like(x), Pool2dGrad(*params)(x, g, out), ew.zeros_like(out)]


# ------------------------------------------------------------- builders
def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid",
           subsample=(1, 1), filter_flip=False, image_shape=None, filter_dilation=(1, 1),
           num_groups=1, unshared=False, **kwargs):
    """2-d correlation of NCHW images with OIHW filters (Theano's ``T.nnet.conv2d``).

    Parameters
    ----------
    input : 4-d tensor (batch, channels, rows, cols)
    filters : 4-d tensor (out channels, channels, filter rows, filter cols)
    input_shape, filter_shape : tuple of (int or None), optional
        Theano's shape hints (``image_shape`` is the older name of the first);
        checked against the static shapes.
    border_mode : {"valid", "full", "half"}, int or (int, int)
        ``"valid"``: no padding; ``"full"``: every overlap; ``"half"``: pad by half
        the (dilated) filter, which keeps the size for odd filters; an int or a
        pair: that many zeros on each side.
    subsample : int or (int, int)
        The stride.
    filter_flip : bool
        False (graphc's default): a correlation. True: the filters are flipped,
        a true convolution (Theano's default).
    filter_dilation : int or (int, int)
        Spacing between filter taps.

    Returns
    -------
    4-d tensor (batch, out channels, out rows, out cols)

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x, w = T.dtensor4("x"), T.dtensor4("w")
    >>> f = graphc.function([x, w], T.nnet.conv2d(x, w, border_mode="half"), backend="python")
    >>> f(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)))[0, 0]
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]])
    """
    if kwargs:
        raise GraphcTypeError(f"conv2d: unexpected keyword arguments {sorted(kwargs)}")
    if num_groups != 1 or unshared:
        raise GraphcValueError("conv2d: grouped (num_groups > 1) and unshared convolutions "
                               "are not supported")
    op = Conv2d(border_mode, subsample, filter_dilation)
    images, kernels = _float_operands(input, filters)
    if image_shape is not None:
        input_shape = image_shape if input_shape is None else input_shape
    _check_hint(input_shape, images, "input_shape", op)
    _check_hint(filter_shape, kernels, "filter_shape", op)
    if filter_flip:
        if kernels.ndim != 4:
            raise GraphcTypeError(f"{op}: filters must be 4-d (OIHW), got {kernels.type}")
        kernels = kernels[:, :, ::-1, ::-1]
    return op(images, kernels)


def _check_hint(hint, var, what, op):
    if hint is None:
        return
    hint = tuple(hint)
    if len(hint) != var.ndim or len(hint) != 4:
        raise ShapeError(f"{op}: {what} {hint} must have 4 entries for {var.type}")
    for given, known in zip(hint, var.type.shape):
        if given is not None and known is not None and int(given) != known:
            raise ShapeError(f"{op}: {what} {hint} contradicts the static shape "
                             f"{_shape_text(var.type.shape)}")


def pool_2d(input, ws=None, ignore_border=True, stride=None, pad=(0, 0), mode="max",
            ds=None, st=None, padding=None):
    """Pool the last two axes of ``input`` (Theano's ``pool.pool_2d``).

    Parameters
    ----------
    input : tensor with at least 2 axes (usually NCHW)
    ws : int or (int, int)
        The window (``ds`` is Theano's older name).
    ignore_border : bool
        True (default): only whole windows; False: partial windows at the bottom
        and right edges are kept.
    stride : (int, int), optional
        Defaults to ``ws`` (``st`` is the older name).
    pad : (int, int)
        Zero padding on each side, smaller than the window; needs
        ``ignore_border=True`` (``padding`` is the older name).
    mode : {"max", "average_inc_pad", "average_exc_pad"}
        The averages count the padding in the divisor (inc) or not (exc).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dmatrix("x")
    >>> f = graphc.function([x], T.nnet.pool_2d(x, (2, 2)), backend="python")
    >>> f(np.arange(16.0).reshape(4, 4))
    array([[ 5.,  7.],
           [13., 15.]])
    """
    if ds is not None:
        if ws is not None:
            raise GraphcTypeError("pool_2d: give ws or its old name ds, not both")
        ws = ds
    if ws is None:
        raise GraphcTypeError("pool_2d: the window ws is required")
    if st is not None:
        if stride is not None:
            raise GraphcTypeError("pool_2d: give stride or its old name st, not both")
        stride = st
    if padding is not None:
        pad = padding
    if ignore_border is None:
        ignore_border = True
    return Pool2d(ws, ignore_border, stride, pad, mode)(input)

