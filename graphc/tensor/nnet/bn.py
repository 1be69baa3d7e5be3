"""Theano's ``T.nnet.bn``: batch normalization, with the batch's statistics or given ones.

``batch_normalization_train`` normalizes with the mean and variance over ``axes``
and can update running averages; ``batch_normalization_test`` uses given ones.
Both are plain elementwise and reduction graphs, so they fuse and differentiate
like any other expression.
"""
from graphc.errors import GraphcTypeError, GraphcValueError
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import reduction
from graphc.ops import shape as shape_ops
from graphc.tensor.nnet import batch_normalization

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def _axes(axes, ndim, caller):
    """Theano's ``axes``: ``"per-activation"`` (0), ``"spatial"`` (0 and 2...) or a tuple."""
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, ndim))
    if isinstance(axes, str):
        raise GraphcValueError(f"{caller}: axes must be 'per-activation', 'spatial' or a "
                               f"tuple of ints, got {axes!r}")
    axes = tuple(sorted(int(a) + ndim if int(a) < 0 else int(a) for a in axes))
    if any(not 0 <= a < ndim for a in axes):
        raise GraphcValueError(f"{caller}: axes {axes} out of range for {ndim} dimensions")
    return axes


def _params(caller, x, axes, **params):
    """The parameters as variables of ``x``'s ndim (a vector for the one kept axis is
    laid out along it, as Lasagne passes gamma and beta)."""
    kept = [a for a in range(x.ndim) if a not in axes]
    out = []
    for name, value in params.items():
        var = basic.as_operands(x, value)[1]
        if var.ndim == len(kept) and var.ndim < x.ndim:
            pattern = ["x"] * x.ndim
            for i, a in enumerate(kept):
                pattern[a] = i
            var = shape_ops.dimshuffle(var, pattern)
        if var.ndim not in (0, x.ndim):
            raise GraphcTypeError(f"{caller}: {name} has {var.ndim} dimensions; inputs have "
                                  f"{x.ndim} (give {name} the inputs' ndim, broadcastable "
                                  f"over axes {axes})")
        out.append(var)
    return out


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None,
                              running_var=None):
    """Normalize with the batch's statistics over ``axes`` (Theano's signature).

    Returns
    -------
    out, mean, invstd : Variable
        ``(inputs - mean) * invstd * gamma + beta``, with ``mean`` and
        ``invstd = 1 / sqrt(var + epsilon)`` keeping the inputs' ndim.
    new_running_mean, new_running_var : Variable
        Only when ``running_mean`` and ``running_var`` are given:
        ``running * (1 - factor) + batch * factor``, the variance unbiased
        (times ``m / (m - 1)`` for ``m`` values per statistic).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.nnet import bn
    >>> x = T.dmatrix("x")
    >>> out, mean, invstd = bn.batch_normalization_train(x, 1.0, 0.0, epsilon=0.0)
    >>> graphc.function([x], out, backend="python")(np.array([[0.0], [2.0]]))
    array([[-1.],
           [ 1.]])
    """
    x = basic.as_variable(inputs)
    axes = _axes(axes, x.ndim, "batch_normalization_train")
    gamma, beta = _params("batch_normalization_train", x, axes, gamma=gamma, beta=beta)
    mean = reduction.mean(x, axis=axes, keepdims=True)
    var = reduction.var(x, axis=axes, keepdims=True)
    invstd = ew.true_div(basic.constant(1, x.dtype), ew.sqrt(ew.add(var, epsilon)))
    out = ew.add(ew.mul(ew.mul(ew.sub(x, mean), invstd), gamma), beta)
    if (running_mean is None) != (running_var is None):
        raise GraphcValueError("batch_normalization_train: give both running_mean and "
                               "running_var, or neither")
    if running_mean is None:
        return out, mean, invstd
    running_mean, running_var = _params("batch_normalization_train", x, axes,
                                        running_mean=running_mean, running_var=running_var)
    factor = basic.as_operands(x, running_average_factor)[1]
    keep = ew.sub(basic.constant(1, x.dtype), factor)
    count = shape_ops.shape_list(x)[axes[0]]
    for a in axes[1:]:
        count = ew.mul(count, shape_ops.shape_list(x)[a])
    count = ew.cast(count, x.dtype)
    unbiased = ew.mul(var, ew.true_div(count, ew.sub(count, basic.constant(1, x.dtype))))
    new_mean = ew.add(ew.mul(running_mean, keep), ew.mul(mean, factor))
    new_var = ew.add(ew.mul(running_var, keep), ew.mul(unbiased, factor))
    return out, mean, invstd, new_mean, new_var


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation",
                             epsilon=1e-4):
    """Normalize with given statistics: ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta``.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.nnet import bn
    >>> x = T.dmatrix("x")
    >>> y = bn.batch_normalization_test(x, 2.0, 1.0, 1.0, 4.0, epsilon=0.0)
    >>> graphc.function([x], y, backend="python")(np.array([[1.0], [3.0]]))
    array([[1.],
           [3.]])
    """
    x = basic.as_variable(inputs)
    axes = _axes(axes, x.ndim, "batch_normalization_test")
    gamma, beta, mean, var = _params("batch_normalization_test", x, axes, gamma=gamma,
                                     beta=beta, mean=mean, var=var)
    scale = ew.true_div(gamma, ew.sqrt(ew.add(var, epsilon)))
    return ew.add(ew.mul(ew.sub(x, mean), scale), beta)
