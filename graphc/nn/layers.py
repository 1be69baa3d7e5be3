"""Layers (Lasagne's ``lasagne.layers``): a network is a graph of layer objects.

A layer knows its input layer (or input shape), owns its parameters (shared
variables, each with a set of tags such as ``"trainable"`` and
``"regularizable"``), computes its output shape from its input shape and its
output expression from its input expression. :func:`get_output` walks the
layers in order and builds the expression of the whole network.

Examples
--------
>>> import graphc, graphc.tensor as T
>>> import graphc.nn as lasagne
>>> l_in = lasagne.layers.InputLayer((None, 4))
>>> l_out = lasagne.layers.DenseLayer(l_in, 3, nonlinearity=lasagne.nonlinearities.softmax)
>>> lasagne.layers.get_output_shape(l_out)
(None, 3)
>>> [p.name for p in lasagne.layers.get_all_params(l_out, trainable=True)]
['W', 'b']
"""
from collections import OrderedDict, deque
from difflib import get_close_matches
import inspect
import warnings

import numpy as np

import graphc
import graphc.tensor as T
from graphc.errors import GraphcTypeError, GraphcValueError
from graphc.tensor.random import RandomStreams
from graphc.nn import init, nonlinearities
from graphc.nn.random import get_rng
from graphc.nn.utils import as_theano_expression, as_tuple, collect_shared_vars, \
    create_param, is_variable, unique

__all__ = [
    "Layer", "MergeLayer", "InputLayer", "DenseLayer", "NonlinearityLayer", "BiasLayer",
    "Conv2DLayer", "Pool2DLayer", "MaxPool2DLayer", "GlobalPoolLayer", "DropoutLayer",
    "dropout", "FlattenLayer", "flatten", "ReshapeLayer", "reshape", "DimshuffleLayer",
    "dimshuffle", "BatchNormLayer", "batch_norm", "ConcatLayer", "concat",
    "ElemwiseMergeLayer", "ElemwiseSumLayer", "get_output", "get_output_shape",
    "get_all_layers", "get_all_params", "count_params", "get_all_param_values",
    "set_all_param_values", "conv_output_length", "pool_output_length",
]


# ========================================================================= base
class Layer:
    """Base class of the layers with one input.

    Parameters
    ----------
    incoming : Layer or tuple
        The layer feeding this one, or the shape of its input (then
        :func:`get_output` needs an input expression for it).
    name : str, optional
        Also prefixes the names of the layer's parameters (``"name.W"``).

    Attributes
    ----------
    input_layer : Layer or None
    input_shape : tuple of (int or None)
    params : OrderedDict
        ``{parameter: set of tags}``.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> class Double(lasagne.layers.Layer):
    ...     def get_output_for(self, input, **kwargs):
    ...         return 2 * input
    >>> Double(lasagne.layers.InputLayer((None, 3))).output_shape
    (None, 3)
    """

    def __init__(self, incoming, name=None):
        if isinstance(incoming, tuple):
            self.input_shape = incoming
            self.input_layer = None
        else:
            self.input_shape = incoming.output_shape
            self.input_layer = incoming
        self.name = name
        self.params = OrderedDict()
        # Extra keyword arguments of get_output_for that get_output should accept.
        self.get_output_kwargs = []
        if any(d is not None and d <= 0 for d in self.input_shape):
            raise GraphcValueError(f"cannot create {type(self).__name__} with a non-positive "
                             f"input_shape dimension: input_shape={self.input_shape!r}, "
                             f"name={self.name!r}")

    @property
    def output_shape(self):
        shape = self.get_output_shape_for(self.input_shape)
        if any(is_variable(s) for s in shape):
            raise GraphcValueError(f"{type(self).__name__}.get_output_shape_for() returned a "
                             f"symbolic shape {shape!r}; shapes are tuples of ints and "
                             "None for the lengths known only when called")
        return shape

    def get_params(self, unwrap_shared=True, **tags):
        """The layer's parameters, optionally filtered by tags.

        ``trainable=True`` keeps the parameters tagged trainable;
        ``regularizable=False`` drops those tagged regularizable. With
        ``unwrap_shared``, parameters given as expressions are replaced by the
        shared variables they depend on.
        """
        result = list(self.params.keys())
        only = {tag for tag, value in tags.items() if value}
        if only:
            result = [param for param in result if not (only - self.params[param])]
        exclude = {tag for tag, value in tags.items() if not value}
        if exclude:
            result = [param for param in result if not (self.params[param] & exclude)]
        if unwrap_shared:
            return collect_shared_vars(result)
        return result

    def get_output_shape_for(self, input_shape):
        """The output shape for ``input_shape`` (the input's, by default)."""
        return input_shape

    def get_output_for(self, input, **kwargs):
        """The symbolic output for the symbolic ``input``."""
        raise NotImplementedError

    def add_param(self, spec, shape, name=None, **tags):
        """Create a parameter and register it with ``tags``.

        Parameters
        ----------
        spec : initializer, numpy.ndarray or Variable
            How to make it: an initializer called with ``shape``, an array of
            ``shape`` stored in a new shared variable, or a variable (a shared
            variable or an expression) used as it is.
        shape : tuple of int
        name : str, optional
            Prefixed with the layer's name, if it has one.
        **tags
            ``trainable`` and ``regularizable`` default to True.
        """
        if name is not None and self.name is not None:
            name = f"{self.name}.{name}"
        param = create_param(spec, shape, name)
        tags["trainable"] = tags.get("trainable", True)
        tags["regularizable"] = tags.get("regularizable", True)
        self.params[param] = {tag for tag, value in tags.items() if value}
        return param


class MergeLayer(Layer):
    """Base class of the layers with several inputs (``input_layers``, ``input_shapes``)."""

    def __init__(self, incomings, name=None):
        self.input_shapes = [incoming if isinstance(incoming, tuple) else incoming.output_shape
                             for incoming in incomings]
        self.input_layers = [None if isinstance(incoming, tuple) else incoming
                             for incoming in incomings]
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []

    @property
    def output_shape(self):
        shape = self.get_output_shape_for(self.input_shapes)
        if any(is_variable(s) for s in shape):
            raise GraphcValueError(f"{type(self).__name__}.get_output_shape_for() returned a "
                             f"symbolic shape {shape!r}")
        return shape

    def get_output_shape_for(self, input_shapes):
        raise NotImplementedError

    def get_output_for(self, inputs, **kwargs):
        raise NotImplementedError


# ======================================================================== input
class InputLayer(Layer):
    """The entry point of a network: holds the symbolic input variable.

    Parameters
    ----------
    shape : tuple of (int or None)
        ``None`` for the lengths known only when called (usually the batch).
    input_var : Variable, optional
        By default a new ``config.floatX`` tensor of ``len(shape)`` axes.
    name : str, optional

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 1, 8, 8))
    >>> l_in.input_var.ndim, l_in.output_shape
    (4, (None, 1, 8, 8))
    """

    def __init__(self, shape, input_var=None, name=None, **kwargs):
        self.shape = tuple(shape)
        if any(d is not None and d <= 0 for d in self.shape):
            raise GraphcValueError(f"cannot create InputLayer with a non-positive shape: "
                             f"{self.shape!r}")
        ndim = len(self.shape)
        if input_var is None:
            # As Theano's: only the axes of length 1 are fixed (they broadcast);
            # the others accept any length when called.
            static = tuple(1 if s == 1 else None for s in self.shape)
            var_name = f"{name}.input" if name is not None else "input"
            input_var = T.tensor(graphc.config.floatX, shape=static, name=var_name)
        elif input_var.ndim != ndim:
            raise GraphcValueError(f"shape has {ndim} dimensions, but variable has "
                             f"{input_var.ndim}")
        self.input_var = input_var
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []
        self.input_layer = None
        self.input_shape = self.shape

    @property
    def output_shape(self):
        return self.shape


# ======================================================================== dense
class DenseLayer(Layer):
    """A fully connected layer: ``nonlinearity(dot(input, W) + b)``.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
    W : initializer, array or Variable
        Shape ``(num_inputs, num_units)``, ``num_inputs`` the product of the
        trailing input axes.
    b : initializer, array, Variable or None
        Shape ``(num_units,)``; None for no bias.
    nonlinearity : callable or None
        None means linear.
    num_leading_axes : int
        How many leading axes are kept (the rest are flattened into the dot
        product); negative counts from the end.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 1, 8, 8))
    >>> l = lasagne.layers.DenseLayer(l_in, num_units=10)
    >>> l.W.get_value().shape, l.output_shape
    ((64, 10), (None, 10))
    """

    def __init__(self, incoming, num_units, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, num_leading_axes=1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        self.num_units = num_units
        if num_leading_axes >= len(self.input_shape):
            raise GraphcValueError(f"got num_leading_axes={num_leading_axes} for a "
                             f"{len(self.input_shape)}-dimensional input, leaving no "
                             "trailing axes for the dot product")
        if num_leading_axes < -len(self.input_shape):
            raise GraphcValueError(f"got num_leading_axes={num_leading_axes} for a "
                             f"{len(self.input_shape)}-dimensional input, requesting more "
                             "trailing axes than there are input dimensions")
        self.num_leading_axes = num_leading_axes
        if any(s is None for s in self.input_shape[num_leading_axes:]):
            raise GraphcValueError(f"a DenseLayer requires a fixed input shape (except for the "
                             f"leading axes); got {self.input_shape!r} for "
                             f"num_leading_axes={num_leading_axes}")
        num_inputs = int(np.prod(self.input_shape[num_leading_axes:]))
        self.W = self.add_param(W, (num_inputs, num_units), name="W")
        if b is None:
            self.b = None
        else:
            self.b = self.add_param(b, (num_units,), name="b", regularizable=False)

    def get_output_shape_for(self, input_shape):
        return input_shape[:self.num_leading_axes] + (self.num_units,)

    def get_output_for(self, input, **kwargs):
        num_leading_axes = self.num_leading_axes
        if num_leading_axes < 0:
            num_leading_axes += input.ndim
        if input.ndim > num_leading_axes + 1:
            # Flatten the trailing axes into one: (n + 1) axes for n leading ones.
            input = input.flatten(num_leading_axes + 1)
        activation = T.dot(input, self.W)
        if self.b is not None:
            activation = activation + self.b
        return self.nonlinearity(activation)


class NonlinearityLayer(Layer):
    """Applies ``nonlinearity`` elementwise.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 5))
    >>> lasagne.layers.NonlinearityLayer(l_in, lasagne.nonlinearities.tanh).output_shape
    (None, 5)
    """

    def __init__(self, incoming, nonlinearity=nonlinearities.rectify, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity

    def get_output_for(self, input, **kwargs):
        return self.nonlinearity(input)


class BiasLayer(Layer):
    """Adds a bias; ``shared_axes`` (default: all but the second) share one value.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 3, 4, 4))
    >>> lasagne.layers.BiasLayer(l_in).b.get_value().shape
    (3,)
    """

    def __init__(self, incoming, b=init.Constant(0), shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        if shared_axes == "auto":
            shared_axes = (0,) + tuple(range(2, len(self.input_shape)))
        elif isinstance(shared_axes, int):
            shared_axes = (shared_axes,)
        self.shared_axes = shared_axes
        if b is None:
            self.b = None
        else:
            shape = [size for axis, size in enumerate(self.input_shape)
                     if axis not in self.shared_axes]
            if any(size is None for size in shape):
                raise GraphcValueError("BiasLayer needs specified input sizes for all axes that "
                                 "biases are not shared over")
            self.b = self.add_param(b, shape, "b", regularizable=False)

    def get_output_for(self, input, **kwargs):
        if self.b is None:
            return input
        return input + self.b.dimshuffle(_broadcast_pattern(input.ndim, self.shared_axes))


def _broadcast_pattern(ndim, broadcast_axes):
    """A dimshuffle pattern placing a parameter's axes where ``broadcast_axes`` are not."""
    param_axes = iter(range(ndim - len(broadcast_axes)))
    return ["x" if axis in broadcast_axes else next(param_axes) for axis in range(ndim)]


# ================================================================= convolution
def conv_output_length(input_length, filter_size, stride, pad=0):
    """Output length of a convolution along one axis (None if the input's is None).

    ``pad`` is an int, ``"valid"`` (0), ``"full"`` (``filter_size - 1``) or
    ``"same"`` (the input length, before the stride).

    Examples
    --------
    >>> from graphc.nn.layers import conv_output_length
    >>> conv_output_length(16, 3, 1, "same"), conv_output_length(16, 3, 2, 0)
    (16, 7)
    """
    if input_length is None:
        return None
    if pad == "valid":
        output_length = input_length - filter_size + 1
    elif pad == "full":
        output_length = input_length + filter_size - 1
    elif pad == "same":
        output_length = input_length
    elif isinstance(pad, (int, np.integer)):
        output_length = input_length + 2 * pad - filter_size + 1
    else:
        raise GraphcValueError(f"invalid pad: {pad!r}")
    # ceil(output_length / stride) in integers
    return (output_length + stride - 1) // stride


class Conv2DLayer(Layer):
    """2-D convolution of NCHW input with ``num_filters`` filters.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, rows, cols)``.
    num_filters : int
    filter_size : int or (int, int)
    stride : int or (int, int)
    pad : int, (int, int), "valid", "full" or "same"
        Zero padding: ``"valid"`` is 0, ``"full"`` is ``filter_size - 1``,
        ``"same"`` (odd filter sizes) keeps the input size at stride 1.
    untie_biases : bool
        One bias per filter and output position (shape
        ``(num_filters, out_rows, out_cols)``) instead of one per filter.
    W : initializer, array or Variable
        Shape ``(num_filters, channels, filter_rows, filter_cols)``.
    b : initializer, array, Variable or None
    nonlinearity : callable or None
    flip_filters : bool
        True (Lasagne's default) flips the filters: a true convolution; False
        computes a correlation (the filters of a model trained with cuDNN-style
        correlation).

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 1, 16, 16))
    >>> l = lasagne.layers.Conv2DLayer(l_in, num_filters=8, filter_size=3, pad="same")
    >>> l.W.get_value().shape, l.output_shape
    ((8, 1, 3, 3), (None, 8, 16, 16))
    """

    def __init__(self, incoming, num_filters, filter_size, stride=1, pad=0,
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=True, convolution=None,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = nonlinearities.identity if nonlinearity is None else nonlinearity
        if len(self.input_shape) != 4:
            raise GraphcValueError(f"tried to create a 2D convolution layer with input shape "
                             f"{self.input_shape!r}; expected 4 input dimensions "
                             "(batchsize, channels, 2 spatial dimensions)")
        self.n = 2
        self.num_filters = num_filters
        self.filter_size = as_tuple(filter_size, 2, (int, np.integer))
        self.flip_filters = flip_filters
        self.stride = as_tuple(stride, 2, (int, np.integer))
        self.untie_biases = untie_biases
        if pad == "same" and any(s % 2 == 0 for s in self.filter_size):
            raise NotImplementedError("'same' padding requires odd filter sizes")
        if pad == "valid":
            self.pad = (0, 0)
        elif pad in ("full", "same"):
            self.pad = pad
        else:
            self.pad = as_tuple(pad, 2, (int, np.integer))
        self.convolution = convolution
        self.W = self.add_param(W, self.get_W_shape(), name="W")
        if b is None:
            self.b = None
        else:
            if untie_biases:
                biases_shape = (num_filters,) + self.output_shape[2:]
            else:
                biases_shape = (num_filters,)
            self.b = self.add_param(b, biases_shape, name="b", regularizable=False)

    def get_W_shape(self):
        """The shape of the weights: ``(num_filters, channels, rows, cols)``."""
        return (self.num_filters, self.input_shape[1]) + self.filter_size

    def get_output_shape_for(self, input_shape):
        pad = self.pad if isinstance(self.pad, tuple) else (self.pad,) * self.n
        return (input_shape[0], self.num_filters) + tuple(
            conv_output_length(length, size, stride, p)
            for length, size, stride, p in zip(input_shape[2:], self.filter_size,
                                               self.stride, pad))

    def convolve(self, input, **kwargs):
        # Lasagne's "same" is Theano's "half"; "full" and ints pass through.
        border_mode = "half" if self.pad == "same" else self.pad
        convolution = self.convolution or T.nnet.conv2d
        return convolution(input, self.W, border_mode=border_mode, subsample=self.stride,
                           filter_flip=self.flip_filters)

    def get_output_for(self, input, **kwargs):
        conved = self.convolve(input, **kwargs)
        if self.b is None:
            activation = conved
        elif self.untie_biases:
            activation = conved + self.b.dimshuffle("x", 0, 1, 2)
        else:
            activation = conved + self.b.dimshuffle("x", 0, "x", "x")
        return self.nonlinearity(activation)


# ===================================================================== pooling
def pool_output_length(input_length, pool_size, stride, pad, ignore_border):
    """Output length of pooling along one axis (Theano's rule).

    Examples
    --------
    >>> from graphc.nn.layers import pool_output_length
    >>> pool_output_length(7, 2, 2, 0, True), pool_output_length(7, 2, 2, 0, False)
    (3, 4)
    """
    if input_length is None or pool_size is None:
        return None
    if ignore_border:
        output_length = input_length + 2 * pad - pool_size + 1
        return (output_length + stride - 1) // stride
    if pad != 0:
        raise GraphcValueError("padding needs ignore_border=True")
    if stride >= pool_size:
        return (input_length + stride - 1) // stride
    return max(0, (input_length - pool_size + stride - 1) // stride) + 1


class Pool2DLayer(Layer):
    """2-D pooling over the last two axes.

    Parameters
    ----------
    incoming : Layer or tuple
    pool_size : int or (int, int)
    stride : int, (int, int) or None
        None: the pool size (non-overlapping windows).
    pad : int or (int, int)
    ignore_border : bool
        False also pools the partial windows at the end (needs ``pad=0``).
    mode : {"max", "average_inc_pad", "average_exc_pad"}
        Average including or excluding the padding in the count.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 8, 16, 16))
    >>> lasagne.layers.Pool2DLayer(l_in, 2, mode="average_inc_pad").output_shape
    (None, 8, 8, 8)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0), ignore_border=True,
                 mode="max", **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_size = as_tuple(pool_size, 2)
        if len(self.input_shape) != 4:
            raise GraphcValueError(f"tried to create a 2D pooling layer with input shape "
                             f"{self.input_shape!r}; expected 4 input dimensions "
                             "(batchsize, channels, 2 spatial dimensions)")
        self.stride = self.pool_size if stride is None else as_tuple(stride, 2)
        self.pad = as_tuple(pad, 2)
        self.ignore_border = ignore_border
        if mode not in ("max", "average_inc_pad", "average_exc_pad"):
            raise GraphcValueError(f"mode must be 'max', 'average_inc_pad' or 'average_exc_pad', "
                             f"got {mode!r}")
        self.mode = mode

    def get_output_shape_for(self, input_shape):
        output_shape = list(input_shape)
        for axis in (0, 1):
            output_shape[2 + axis] = pool_output_length(
                input_shape[2 + axis], pool_size=self.pool_size[axis],
                stride=self.stride[axis], pad=self.pad[axis],
                ignore_border=self.ignore_border)
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        return T.nnet.pool_2d(input, ws=self.pool_size, ignore_border=self.ignore_border,
                              stride=self.stride, pad=self.pad, mode=self.mode)


class MaxPool2DLayer(Pool2DLayer):
    """2-D max pooling (a :class:`Pool2DLayer` with ``mode="max"``).

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 8, 15, 15))
    >>> lasagne.layers.MaxPool2DLayer(l_in, pool_size=2).output_shape
    (None, 8, 7, 7)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0), ignore_border=True,
                 **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


class GlobalPoolLayer(Layer):
    """Pools each channel over all trailing axes with ``pool_function`` (mean).

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 8, 4, 4))
    >>> lasagne.layers.GlobalPoolLayer(l_in).output_shape
    (None, 8)
    """

    def __init__(self, incoming, pool_function=T.mean, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_function = pool_function

    def get_output_shape_for(self, input_shape):
        return input_shape[:2]

    def get_output_for(self, input, **kwargs):
        return self.pool_function(input.flatten(3), axis=2)


# ==================================================================== dropout
class DropoutLayer(Layer):
    """Zeroes each input with probability ``p`` while training.

    Parameters
    ----------
    incoming : Layer or tuple
    p : float
        The probability of dropping an input.
    rescale : bool
        Divide the kept inputs by ``1 - p`` so the expected output is the input.
    shared_axes : tuple of int
        Axes along which one mask value is shared (e.g. ``(2, 3)`` drops whole
        feature maps).

    Notes
    -----
    With ``get_output(..., deterministic=True)`` the layer is the identity. The
    mask comes from a :class:`graphc.tensor.random.RandomStreams` seeded from
    :func:`graphc.nn.random.get_rng` when the layer is built.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 100))
    >>> l_drop = lasagne.layers.DropoutLayer(l_in, p=0.5)
    >>> lasagne.layers.get_output(l_drop, deterministic=True) is l_in.input_var
    True
    """

    def __init__(self, incoming, p=0.5, rescale=True, shared_axes=(), **kwargs):
        super().__init__(incoming, **kwargs)
        self._srng = RandomStreams(get_rng().randint(1, 2147462579))
        self.p = p
        self.rescale = rescale
        self.shared_axes = tuple(shared_axes)

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or (not is_variable(self.p) and self.p == 0):
            return input
        retain_prob = 1 - self.p
        if self.rescale:
            input = input / retain_prob
        # A static mask shape where the input shape is known, else a symbolic one.
        mask_shape = self.input_shape
        if any(s is None for s in mask_shape):
            mask_shape = tuple(input.shape[axis] if s is None else s
                               for axis, s in enumerate(mask_shape))
        if self.shared_axes:
            shared_axes = tuple(a if a >= 0 else a + input.ndim for a in self.shared_axes)
            mask_shape = tuple(1 if a in shared_axes else s for a, s in enumerate(mask_shape))
        mask = self._srng.binomial(mask_shape, p=retain_prob, dtype=input.dtype)
        # A mask axis of length 1 broadcasts over the input when called.
        return input * mask


dropout = DropoutLayer


# ====================================================================== shapes
class FlattenLayer(Layer):
    """Keeps the first ``outdim - 1`` axes and flattens the rest into one.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 8, 4, 4))
    >>> lasagne.layers.FlattenLayer(l_in).output_shape
    (None, 128)
    """

    def __init__(self, incoming, outdim=2, **kwargs):
        super().__init__(incoming, **kwargs)
        if outdim < 1:
            raise GraphcValueError(f"outdim must be > 0, got {outdim}")
        self.outdim = outdim

    def get_output_shape_for(self, input_shape):
        to_flatten = input_shape[self.outdim - 1:]
        if any(s is None for s in to_flatten):
            flattened = None
        else:
            flattened = int(np.prod(to_flatten))
        return input_shape[:self.outdim - 1] + (flattened,)

    def get_output_for(self, input, **kwargs):
        return input.flatten(self.outdim)


flatten = FlattenLayer


class ReshapeLayer(Layer):
    """Reshapes the input to ``shape``.

    Parameters
    ----------
    shape : tuple
        Entries are ints, ``-1`` (at most one: inferred from the size), ``[i]``
        (the length of input axis ``i``) or symbolic scalars.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 64))
    >>> lasagne.layers.ReshapeLayer(l_in, ([0], 1, 8, -1)).output_shape
    (None, 1, 8, 8)
    """

    def __init__(self, incoming, shape, **kwargs):
        super().__init__(incoming, **kwargs)
        shape = tuple(shape)
        for s in shape:
            if isinstance(s, (int, np.integer)):
                if s == 0 or s < -1:
                    raise GraphcValueError("`shape` integers must be positive or -1")
            elif isinstance(s, list):
                if len(s) != 1 or not isinstance(s[0], int) or s[0] < 0:
                    raise GraphcValueError("`shape` input references must be single-element "
                                     "lists of int >= 0")
            elif is_variable(s):
                if s.ndim != 0:
                    raise GraphcValueError(f"a symbolic variable in a shape specification must "
                                     f"be a scalar, but had {s.ndim} dimensions")
            else:
                raise GraphcValueError("`shape` must be a tuple of int and/or [int]")
        if sum(1 for s in shape if isinstance(s, (int, np.integer)) and s == -1) > 1:
            raise GraphcValueError("`shape` cannot contain multiple -1")
        self.shape = shape
        # Compute the output shape once now: a size mismatch fails here.
        self.get_output_shape_for(self.input_shape)

    def get_output_shape_for(self, input_shape, **kwargs):
        output_shape = list(self.shape)
        # Replace [i] by the input length; an unknown length copied 1:1 is masked
        # out of the -1 inference (it cancels from both sizes).
        masked_input_shape = list(input_shape)
        masked_output_shape = list(output_shape)
        for dim, o in enumerate(output_shape):
            if isinstance(o, list):
                if o[0] >= len(input_shape):
                    raise GraphcValueError(f"specification contains [{o[0]}], but input shape "
                                     f"has {len(input_shape)} dimensions only")
                output_shape[dim] = input_shape[o[0]]
                masked_output_shape[dim] = input_shape[o[0]]
                if input_shape[o[0]] is None and masked_input_shape[o[0]] is None:
                    masked_input_shape[o[0]] = 1
                    masked_output_shape[dim] = 1
        # Symbolic entries are known only when called.
        for dim, o in enumerate(output_shape):
            if is_variable(o):
                output_shape[dim] = None
                masked_output_shape[dim] = None
        input_size = (None if any(x is None for x in masked_input_shape)
                      else int(np.prod(masked_input_shape)))
        output_size = (None if any(x is None for x in masked_output_shape)
                       else int(np.prod(masked_output_shape)))
        minus_one = [dim for dim, o in enumerate(output_shape)
                     if isinstance(o, (int, np.integer)) and o == -1]
        if minus_one:
            dim = minus_one[0]
            if input_size is None or output_size is None:
                output_shape[dim] = None
                output_size = None
            else:
                output_size *= -1
                output_shape[dim] = input_size // output_size
                output_size *= output_shape[dim]
        if input_size is not None and output_size is not None and input_size != output_size:
            raise GraphcValueError(f"{input_shape} cannot be reshaped to specification "
                             f"{self.shape}: the total size mismatches")
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        output_shape = list(self.shape)
        for dim, o in enumerate(output_shape):
            if isinstance(o, list):
                output_shape[dim] = input.shape[o[0]]
        return input.reshape(tuple(output_shape))


reshape = ReshapeLayer


class DimshuffleLayer(Layer):
    """Reorders axes with a Theano dimshuffle ``pattern`` (``'x'`` adds an axis).

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 3, 5))
    >>> lasagne.layers.DimshuffleLayer(l_in, (0, 2, "x", 1)).output_shape
    (None, 5, 1, 3)
    """

    def __init__(self, incoming, pattern, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pattern = tuple(pattern)

    def get_output_shape_for(self, input_shape):
        used = set()
        output_shape = []
        for p in self.pattern:
            if p == "x":
                output_shape.append(1)
            else:
                if p >= len(input_shape):
                    raise GraphcValueError(f"pattern uses axis {p} of a {len(input_shape)}-d input")
                output_shape.append(input_shape[p])
                used.add(p)
        for axis, length in enumerate(input_shape):
            if axis not in used and length != 1:
                raise GraphcValueError(f"pattern drops axis {axis} of length {length}; only "
                                 "axes of length 1 may be dropped")
        return tuple(output_shape)

    def get_output_for(self, input, **kwargs):
        return input.dimshuffle(self.pattern)


dimshuffle = DimshuffleLayer


# ==================================================================== merging
class ConcatLayer(MergeLayer):
    """Concatenates the inputs along ``axis``.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> a = lasagne.layers.InputLayer((None, 3))
    >>> b = lasagne.layers.InputLayer((None, 4))
    >>> lasagne.layers.ConcatLayer([a, b]).output_shape
    (None, 7)
    """

    def __init__(self, incomings, axis=1, **kwargs):
        super().__init__(incomings, **kwargs)
        self.axis = axis

    def get_output_shape_for(self, input_shapes):
        ndim = len(input_shapes[0])
        axis = self.axis % ndim
        output_shape = []
        for dim in range(ndim):
            lengths = [shape[dim] for shape in input_shapes]
            if dim == axis:
                output_shape.append(None if any(n is None for n in lengths) else sum(lengths))
            else:
                known = {n for n in lengths if n is not None}
                if len(known) > 1:
                    raise GraphcValueError(f"mismatch: input shapes must agree except on axis "
                                     f"{self.axis}, got {input_shapes}")
                output_shape.append(known.pop() if known else None)
        return tuple(output_shape)

    def get_output_for(self, inputs, **kwargs):
        return T.concatenate(inputs, axis=self.axis)


concat = ConcatLayer


class ElemwiseMergeLayer(MergeLayer):
    """Combines the inputs elementwise with ``merge_function`` (e.g. ``T.maximum``)."""

    def __init__(self, incomings, merge_function, **kwargs):
        super().__init__(incomings, **kwargs)
        self.merge_function = merge_function

    def get_output_shape_for(self, input_shapes):
        output_shape = []
        for lengths in zip(*input_shapes):
            known = {n for n in lengths if n is not None}
            if len(known) > 1:
                raise GraphcValueError(f"mismatch: input shapes must be the same, got "
                                 f"{input_shapes}")
            output_shape.append(known.pop() if known else None)
        return tuple(output_shape)

    def get_output_for(self, inputs, **kwargs):
        output = inputs[0]
        for input in inputs[1:]:
            output = self.merge_function(output, input)
        return output


class ElemwiseSumLayer(ElemwiseMergeLayer):
    """The weighted sum ``sum(c * input)`` of the inputs.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> a = lasagne.layers.InputLayer((None, 3))
    >>> lasagne.layers.ElemwiseSumLayer([a, a], coeffs=[1, -1]).output_shape
    (None, 3)
    """

    def __init__(self, incomings, coeffs=1, **kwargs):
        super().__init__(incomings, T.add, **kwargs)
        if isinstance(coeffs, list):
            if len(coeffs) != len(incomings):
                raise GraphcValueError(f"mismatch: got {len(coeffs)} coeffs for "
                                 f"{len(incomings)} incomings")
        else:
            coeffs = [coeffs] * len(incomings)
        self.coeffs = coeffs

    def get_output_for(self, inputs, **kwargs):
        inputs = [input * coeff if coeff != 1 else input
                  for coeff, input in zip(self.coeffs, inputs)]
        return super().get_output_for(inputs, **kwargs)


# ========================================================== batch normalization
class BatchNormLayer(Layer):
    """Batch normalization (Ioffe and Szegedy, 2015).

    ``y = (x - mean) * inv_std * gamma + beta`` per feature. While training,
    ``mean`` and ``inv_std = 1 / sqrt(var + epsilon)`` are the statistics of the
    batch over ``axes``; with ``deterministic=True`` they are the running
    averages stored in the layer.

    Parameters
    ----------
    incoming : Layer or tuple
    axes : "auto", int or tuple of int
        The axes normalized over; "auto" is all but the second (the features
        of a dense layer, the channels of a convolution).
    epsilon : float
    alpha : float
        Weight of the new batch in the running averages:
        ``running = (1 - alpha) * running + alpha * batch``.
    beta, gamma : initializer, array, Variable or None
        Trainable shift and scale; None leaves them out.
    mean, inv_std : initializer, array or Variable
        The running averages (tagged neither trainable nor regularizable).

    Notes
    -----
    The running averages are updated by any function compiled from a training
    output (``deterministic=False``): :func:`get_output` gives aliases of
    ``mean`` and ``inv_std`` a ``default_update``, which ``graphc.function``
    applies as Theano does. Functions compiled from deterministic outputs leave
    them alone. ``batch_norm_use_averages`` and ``batch_norm_update_averages``
    (keywords of :func:`get_output`) override either choice.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 8, 4, 4))
    >>> bn = lasagne.layers.BatchNormLayer(l_in)
    >>> [p.name for p in bn.get_params()]
    ['beta', 'gamma', 'mean', 'inv_std']
    >>> [p.name for p in bn.get_params(trainable=True)]
    ['beta', 'gamma']
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, alpha=0.1, beta=init.Constant(0),
                 gamma=init.Constant(1), mean=init.Constant(0), inv_std=init.Constant(1),
                 **kwargs):
        super().__init__(incoming, **kwargs)
        if axes == "auto":
            axes = (0,) + tuple(range(2, len(self.input_shape)))
        elif isinstance(axes, int):
            axes = (axes,)
        self.axes = tuple(axes)
        self.epsilon = epsilon
        self.alpha = alpha
        shape = [size for axis, size in enumerate(self.input_shape) if axis not in self.axes]
        if any(size is None for size in shape):
            raise GraphcValueError("BatchNormLayer needs specified input sizes for all axes not "
                             "normalized over")
        if beta is None:
            self.beta = None
        else:
            self.beta = self.add_param(beta, shape, "beta", trainable=True,
                                       regularizable=False)
        if gamma is None:
            self.gamma = None
        else:
            self.gamma = self.add_param(gamma, shape, "gamma", trainable=True,
                                        regularizable=True)
        self.mean = self.add_param(mean, shape, "mean", trainable=False, regularizable=False)
        self.inv_std = self.add_param(inv_std, shape, "inv_std", trainable=False,
                                      regularizable=False)
        self.get_output_kwargs = ["batch_norm_use_averages", "batch_norm_update_averages"]

    def get_output_for(self, input, deterministic=False, batch_norm_use_averages=None,
                       batch_norm_update_averages=None, **kwargs):
        input_mean = input.mean(self.axes)
        input_inv_std = T.inv(T.sqrt(input.var(self.axes) + self.epsilon))
        use_averages = (deterministic if batch_norm_use_averages is None
                        else batch_norm_use_averages)
        if use_averages:
            mean, inv_std = self.mean, self.inv_std
        else:
            mean, inv_std = input_mean, input_inv_std
        update_averages = (not deterministic if batch_norm_update_averages is None
                           else batch_norm_update_averages)
        if update_averages:
            if not hasattr(self.mean, "alias") or not hasattr(self.inv_std, "alias"):
                raise GraphcTypeError("BatchNormLayer can update its running averages only when "
                                "mean and inv_std are shared variables")
            # Aliases share the storage of the running averages and carry the
            # default updates, so only graphs built from this output update them.
            running_mean = self.mean.alias()
            running_inv_std = self.inv_std.alias()
            running_mean.default_update = _keep_dtype(
                (1 - self.alpha) * running_mean + self.alpha * input_mean, self.mean)
            running_inv_std.default_update = _keep_dtype(
                (1 - self.alpha) * running_inv_std + self.alpha * input_inv_std,
                self.inv_std)
            # In the graph without changing its value (x * 0 is not folded away).
            mean = mean + 0 * running_mean
            inv_std = inv_std + 0 * running_inv_std
        pattern = _broadcast_pattern(input.ndim, self.axes)
        beta = 0 if self.beta is None else self.beta.dimshuffle(pattern)
        gamma = 1 if self.gamma is None else self.gamma.dimshuffle(pattern)
        mean = mean.dimshuffle(pattern)
        inv_std = inv_std.dimshuffle(pattern)
        return (input - mean) * (gamma * inv_std) + beta


def _keep_dtype(expr, like):
    return expr if expr.dtype == like.dtype else T.cast(expr, like.dtype)


def batch_norm(layer, **kwargs):
    """Insert batch normalization after ``layer``'s affine part.

    Removes ``layer``'s bias (batch normalization's ``beta`` replaces it) and
    nonlinearity, adds a :class:`BatchNormLayer` (``kwargs`` go to it) and, if
    the layer had one, a :class:`NonlinearityLayer`; returns the last layer.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 10))
    >>> l = lasagne.layers.batch_norm(lasagne.layers.DenseLayer(l_in, 5))
    >>> type(l).__name__, type(l.input_layer).__name__
    ('NonlinearityLayer', 'BatchNormLayer')
    """
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    bn_name = kwargs.pop("name", None) or (layer.name and layer.name + "_bn")
    layer = BatchNormLayer(layer, name=bn_name, **kwargs)
    if nonlinearity is not None:
        nonlin_name = bn_name and bn_name + "_nonlin"
        layer = NonlinearityLayer(layer, nonlinearity, name=nonlin_name)
    return layer


# ================================================================== helpers
def get_all_layers(layer, treat_as_input=None):
    """Every layer ``layer`` (one or a list) depends on, inputs first.

    Parameters
    ----------
    layer : Layer or list of Layer
    treat_as_input : iterable of Layer, optional
        Layers whose own inputs are not followed.

    Returns
    -------
    list of Layer
        In topological order: a layer comes after all of its inputs.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 4))
    >>> l1 = lasagne.layers.DenseLayer(l_in, 3)
    >>> lasagne.layers.get_all_layers(l1) == [l_in, l1]
    True
    """
    try:
        queue = deque(layer)
    except TypeError:
        queue = deque([layer])
    seen = set()
    done = set()
    result = []
    if treat_as_input is not None:
        seen.update(treat_as_input)
    # Depth first with an explicit stack: a layer is emitted after its inputs
    # (or when a cycle brings it back), and deep networks do not recurse.
    while queue:
        layer = queue[0]
        if layer is None:
            queue.popleft()
        elif layer not in seen:
            seen.add(layer)
            if hasattr(layer, "input_layers"):
                queue.extendleft(reversed(layer.input_layers))
            elif hasattr(layer, "input_layer"):
                queue.appendleft(layer.input_layer)
        else:
            queue.popleft()
            if layer not in done:
                result.append(layer)
                done.add(layer)
    return result


def _accepted_kwargs(layer):
    try:
        signature = inspect.signature(layer.get_output_for)
    except (TypeError, ValueError):
        return set()
    return {name for name, parameter in signature.parameters.items()
            if parameter.default is not inspect.Parameter.empty}


def get_output(layer_or_layers, inputs=None, **kwargs):
    """The symbolic output of a layer (or a list of layers) of a network.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    inputs : Variable, array, or dict, optional
        An expression for the network's single input layer, or
        ``{layer: expression}`` (any layer, whose inputs are then not followed).
        By default each :class:`InputLayer`'s ``input_var``.
    **kwargs
        Passed to every layer's ``get_output_for``; ``deterministic=True``
        turns off dropout and uses batch normalization's running averages.

    Returns
    -------
    Variable or list of Variable

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 2))
    >>> l_out = lasagne.layers.DenseLayer(l_in, 1, W=np.ones((2, 1), "float32"),
    ...                                   nonlinearity=None)
    >>> y = lasagne.layers.get_output(l_out)
    >>> f = graphc.function([l_in.input_var], y, backend="python")
    >>> f(np.array([[1, 2]], "float32"))
    array([[3.]], dtype=float32)
    """
    accepted = {"deterministic"}
    treat_as_input = list(inputs.keys()) if isinstance(inputs, dict) else []
    all_layers = get_all_layers(layer_or_layers, treat_as_input)
    all_outputs = {layer: layer.input_var for layer in all_layers
                   if isinstance(layer, InputLayer) and layer not in treat_as_input}
    if isinstance(inputs, dict):
        all_outputs.update((layer, as_theano_expression(expr))
                           for layer, expr in inputs.items())
    elif inputs is not None:
        if len(all_outputs) > 1:
            raise GraphcValueError("get_output() was called with a single input expression on a "
                             "network with multiple input layers; give a dictionary "
                             "{input layer: expression} instead")
        for input_layer in all_outputs:
            all_outputs[input_layer] = as_theano_expression(inputs)
    for layer in all_layers:
        if layer in all_outputs:
            continue
        try:
            if isinstance(layer, MergeLayer):
                layer_inputs = [all_outputs[input_layer]
                                for input_layer in layer.input_layers]
            else:
                layer_inputs = all_outputs[layer.input_layer]
        except KeyError:
            raise GraphcValueError(f"get_output() was called without an input expression for "
                             f"the free-floating layer {layer!r}; give a dictionary "
                             "mapping it to an input expression") from None
        all_outputs[layer] = layer.get_output_for(layer_inputs, **kwargs)
        accepted |= _accepted_kwargs(layer)
        accepted |= set(layer.get_output_kwargs)
    unused = set(kwargs) - accepted
    if unused:
        suggestions = []
        for kwarg in sorted(unused):
            close = get_close_matches(kwarg, accepted)
            suggestions.append(f"{kwarg} (perhaps you meant {close[0]})" if close else kwarg)
        warnings.warn("get_output() was called with unused kwargs:\n\t"
                      + "\n\t".join(suggestions), stacklevel=2)
    if isinstance(layer_or_layers, (list, tuple)):
        return [all_outputs[layer] for layer in layer_or_layers]
    return all_outputs[layer_or_layers]


def get_output_shape(layer_or_layers, input_shapes=None):
    """The output shape of a layer (or a list), optionally for other input shapes.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    input_shapes : tuple or dict, optional
        A shape for the single input layer, or ``{layer: shape}``.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 1, 8, 8))
    >>> l_conv = lasagne.layers.Conv2DLayer(l_in, 4, 3)
    >>> lasagne.layers.get_output_shape(l_conv, (10, 1, 12, 12))
    (10, 4, 10, 10)
    """
    if input_shapes is None or input_shapes == {}:
        if isinstance(layer_or_layers, (list, tuple)):
            return [layer.output_shape for layer in layer_or_layers]
        return layer_or_layers.output_shape
    treat_as_input = list(input_shapes.keys()) if isinstance(input_shapes, dict) else []
    all_layers = get_all_layers(layer_or_layers, treat_as_input)
    all_shapes = {layer: layer.shape for layer in all_layers
                  if isinstance(layer, InputLayer) and layer not in treat_as_input}
    if isinstance(input_shapes, dict):
        all_shapes.update(input_shapes)
    else:
        if len(all_shapes) > 1:
            raise GraphcValueError("get_output_shape() was called with a single input shape on a "
                             "network with multiple input layers; give a dictionary "
                             "{input layer: shape} instead")
        for input_layer in all_shapes:
            all_shapes[input_layer] = tuple(input_shapes)
    for layer in all_layers:
        if layer in all_shapes:
            continue
        if isinstance(layer, MergeLayer):
            shapes = [all_shapes[input_layer] for input_layer in layer.input_layers]
        else:
            shapes = all_shapes[layer.input_layer]
        all_shapes[layer] = layer.get_output_shape_for(shapes)
    if isinstance(layer_or_layers, (list, tuple)):
        return [all_shapes[layer] for layer in layer_or_layers]
    return all_shapes[layer_or_layers]


def get_all_params(layer, unwrap_shared=True, trainable=None, regularizable=None, **tags):
    """The parameters of every layer ``layer`` depends on, each once, inputs first.

    Parameters
    ----------
    layer : Layer or list of Layer
    unwrap_shared : bool
        Replace parameters given as expressions by their shared variables.
    trainable, regularizable : bool, optional
        True keeps only parameters with the tag, False only those without it.
    **tags
        Other tags, the same way.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 4))
    >>> l1 = lasagne.layers.DenseLayer(l_in, 3, name="hidden")
    >>> [p.name for p in lasagne.layers.get_all_params(l1, regularizable=True)]
    ['hidden.W']
    """
    if trainable is not None:
        tags["trainable"] = trainable
    if regularizable is not None:
        tags["regularizable"] = regularizable
    params = []
    for each in get_all_layers(layer):
        params.extend(each.get_params(unwrap_shared=unwrap_shared, **tags))
    return unique(params)


def count_params(layer, **tags):
    """The number of scalar parameters of the network (filtered by tags).

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 4))
    >>> lasagne.layers.count_params(lasagne.layers.DenseLayer(l_in, 3))
    15
    """
    params = get_all_params(layer, **tags)
    return int(sum(np.prod(p.get_value(borrow=True).shape) for p in params))


def get_all_param_values(layer, **tags):
    """The values (NumPy arrays) of :func:`get_all_params`, in its order.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 4))
    >>> [v.shape for v in lasagne.layers.get_all_param_values(
    ...     lasagne.layers.DenseLayer(l_in, 3))]
    [(4, 3), (3,)]
    """
    return [p.get_value() for p in get_all_params(layer, **tags)]


def set_all_param_values(layer, values, **tags):
    """Set the parameters of :func:`get_all_params` from a list of arrays.

    Raises
    ------
    ValueError
        If the number of values or a shape does not match.

    Examples
    --------
    >>> import graphc.nn as lasagne
    >>> l_in = lasagne.layers.InputLayer((None, 4))
    >>> l1 = lasagne.layers.DenseLayer(l_in, 3)
    >>> lasagne.layers.set_all_param_values(l1, [np.ones((4, 3)), np.zeros(3)])
    >>> float(l1.W.get_value().sum())
    12.0
    """
    params = get_all_params(layer, **tags)
    if len(params) != len(values):
        raise GraphcValueError(f"mismatch: got {len(values)} values to set {len(params)} "
                         "parameters")
    for position, (p, v) in enumerate(zip(params, values)):
        shape = p.get_value(borrow=True).shape
        if shape != np.shape(v):
            raise GraphcValueError(f"mismatch: parameter {position} ({p.name}) has shape "
                             f"{shape} but the value to set has shape {np.shape(v)}")
    for p, v in zip(params, values):
        p.set_value(v)
