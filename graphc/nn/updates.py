"""Update rules (Lasagne's ``lasagne.updates``).

Each rule takes a loss (or a list of gradients) and the parameters, and returns
an ``OrderedDict`` ``{shared variable: new value expression}`` to pass as
``graphc.function(..., updates=...)``. The state of a rule (velocities,
accumulators, the step count of Adam) lives in new shared variables shaped
like the parameters and initialised to zero. The formulas and defaults are
Lasagne's; every new value keeps its variable's dtype.

Examples
--------
>>> import graphc, graphc.tensor as T
>>> import graphc.nn as lasagne
>>> w = graphc.shared(np.array([1.0, 2.0]), name="w")
>>> x = T.dvector("x")
>>> loss = T.sum((w - x) ** 2)
>>> train = graphc.function([x], loss, updates=lasagne.updates.sgd(loss, [w], 0.25),
...                         backend="python")
>>> float(train([0.0, 0.0])), w.get_value().tolist()
(5.0, [0.5, 1.0])
"""
from collections import OrderedDict

import numpy as np

import graphc
import graphc.tensor as T
from graphc.errors import GraphcValueError
from graphc.nn.utils import floatX, is_shared

__all__ = ["sgd", "apply_momentum", "momentum", "apply_nesterov_momentum",
           "nesterov_momentum", "adagrad", "rmsprop", "adadelta", "adam", "adamax",
           "norm_constraint", "total_norm_constraint", "get_or_compute_grads"]


def get_or_compute_grads(loss_or_grads, params):
    """``loss_or_grads`` if it is a list of gradients, else ``graphc.grad`` of it.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import get_or_compute_grads
    >>> w = graphc.shared(np.array([3.0]))
    >>> [g.ndim for g in get_or_compute_grads((w ** 2).sum(), [w])]
    [1]
    """
    if any(not is_shared(p) for p in params):
        raise GraphcValueError("params must contain shared variables only; for parameters "
                         "given as expressions, graphc.nn.utils.collect_shared_vars() "
                         "finds the shared variables they depend on")
    if isinstance(loss_or_grads, list):
        if len(loss_or_grads) != len(params):
            raise GraphcValueError(f"got {len(loss_or_grads)} gradient expressions for "
                             f"{len(params)} parameters")
        return loss_or_grads
    return graphc.grad(loss_or_grads, params)


def _zeros_like(param):
    # The state keeps the parameter's broadcastable axes, as in Lasagne.
    value = param.get_value(borrow=True)
    return graphc.shared(np.zeros(value.shape, dtype=value.dtype),
                         broadcastable=param.broadcastable)


def _cast_like(expr, variable):
    # A symbolic learning rate or a float64 hyperparameter may upcast the
    # expression; an update must keep the variable's dtype.
    expr = T.as_tensor_variable(expr)
    return expr if expr.dtype == variable.dtype else T.cast(expr, variable.dtype)


def _cast_all(updates):
    return OrderedDict((var, _cast_like(expr, var)) for var, expr in updates.items())


def sgd(loss_or_grads, params, learning_rate):
    """Stochastic gradient descent: ``param - learning_rate * grad``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import sgd
    >>> w = graphc.shared(np.array([1.0]))
    >>> list(sgd((w ** 2).sum(), [w], 0.1)) == [w]
    True
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, grad in zip(params, grads):
        updates[param] = _cast_like(param - learning_rate * grad, param)
    return updates


def apply_momentum(updates, params=None, momentum=0.9):
    """Add classical momentum to ``updates``:
    ``velocity = momentum * velocity + updates[param] - param``,
    ``param = param + velocity``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import sgd, apply_momentum
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(apply_momentum(sgd((w ** 2).sum(), [w], 0.1)))
    2
    """
    if params is None:
        params = list(updates.keys())
    updates = OrderedDict(updates)
    for param in params:
        velocity = _zeros_like(param)
        x = momentum * velocity + updates[param]
        updates[velocity] = x - param
        updates[param] = x
    return _cast_all(updates)


def momentum(loss_or_grads, params, learning_rate, momentum=0.9):
    """SGD with classical momentum (:func:`sgd` then :func:`apply_momentum`).

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import momentum
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(momentum((w ** 2).sum(), [w], learning_rate=0.1))
    2
    """
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_momentum(updates, momentum=momentum)


def apply_nesterov_momentum(updates, params=None, momentum=0.9):
    """Add Nesterov momentum to ``updates`` (Lasagne's formulation):
    ``velocity = momentum * velocity + updates[param] - param``,
    ``param = param + momentum * velocity + updates[param] - param``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import sgd, apply_nesterov_momentum
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(apply_nesterov_momentum(sgd((w ** 2).sum(), [w], 0.1)))
    2
    """
    if params is None:
        params = list(updates.keys())
    updates = OrderedDict(updates)
    for param in params:
        velocity = _zeros_like(param)
        x = momentum * velocity + updates[param] - param
        updates[velocity] = x
        updates[param] = momentum * x + updates[param]
    return _cast_all(updates)


def nesterov_momentum(loss_or_grads, params, learning_rate, momentum=0.9):
    """SGD with Nesterov momentum (:func:`sgd` then :func:`apply_nesterov_momentum`).

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import nesterov_momentum
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(nesterov_momentum((w ** 2).sum(), [w], learning_rate=0.1))
    2
    """
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_nesterov_momentum(updates, momentum=momentum)


def adagrad(loss_or_grads, params, learning_rate=1.0, epsilon=1e-6):
    """Adagrad: ``accu = accu + grad ** 2``,
    ``param = param - learning_rate * grad / sqrt(accu + epsilon)``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import adagrad
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(adagrad((w ** 2).sum(), [w]))
    2
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, grad in zip(params, grads):
        accu = _zeros_like(param)
        accu_new = accu + grad ** 2
        updates[accu] = accu_new
        updates[param] = param - (learning_rate * grad / T.sqrt(accu_new + epsilon))
    return _cast_all(updates)


def rmsprop(loss_or_grads, params, learning_rate=1.0, rho=0.9, epsilon=1e-6):
    """RMSProp: ``accu = rho * accu + (1 - rho) * grad ** 2``,
    ``param = param - learning_rate * grad / sqrt(accu + epsilon)``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import rmsprop
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(rmsprop((w ** 2).sum(), [w], learning_rate=0.01))
    2
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, grad in zip(params, grads):
        accu = _zeros_like(param)
        accu_new = rho * accu + (1 - rho) * grad ** 2
        updates[accu] = accu_new
        updates[param] = param - (learning_rate * grad / T.sqrt(accu_new + epsilon))
    return _cast_all(updates)


def adadelta(loss_or_grads, params, learning_rate=1.0, rho=0.95, epsilon=1e-6):
    """Adadelta (Zeiler, 2012):
    ``accu = rho * accu + (1 - rho) * grad ** 2``,
    ``update = grad * sqrt(delta_accu + epsilon) / sqrt(accu + epsilon)``,
    ``param = param - learning_rate * update``,
    ``delta_accu = rho * delta_accu + (1 - rho) * update ** 2``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import adadelta
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(adadelta((w ** 2).sum(), [w]))
    3
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, grad in zip(params, grads):
        accu = _zeros_like(param)          # running average of squared gradients
        delta_accu = _zeros_like(param)    # running average of squared updates
        accu_new = rho * accu + (1 - rho) * grad ** 2
        updates[accu] = accu_new
        # The step uses the previous delta_accu.
        update = grad * T.sqrt(delta_accu + epsilon) / T.sqrt(accu_new + epsilon)
        updates[param] = param - learning_rate * update
        updates[delta_accu] = rho * delta_accu + (1 - rho) * update ** 2
    return _cast_all(updates)


def adam(loss_or_grads, params, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Adam (Kingma and Ba, 2014), with the bias correction folded into the step:
    ``t = t + 1``, ``a_t = learning_rate * sqrt(1 - beta2 ** t) / (1 - beta1 ** t)``,
    ``m = beta1 * m + (1 - beta1) * grad``, ``v = beta2 * v + (1 - beta2) * grad ** 2``,
    ``param = param - a_t * m / (sqrt(v) + epsilon)``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import adam
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(adam((w ** 2).sum(), [w]))  # param, m, v and the step count
    4
    """
    all_grads = get_or_compute_grads(loss_or_grads, params)
    t_prev = graphc.shared(floatX(0.0))
    updates = OrderedDict()
    t = t_prev + 1
    a_t = learning_rate * T.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    for param, g_t in zip(params, all_grads):
        m_prev = _zeros_like(param)
        v_prev = _zeros_like(param)
        m_t = beta1 * m_prev + (1 - beta1) * g_t
        v_t = beta2 * v_prev + (1 - beta2) * g_t ** 2
        step = a_t * m_t / (T.sqrt(v_t) + epsilon)
        updates[m_prev] = m_t
        updates[v_prev] = v_t
        updates[param] = param - step
    updates[t_prev] = t
    return _cast_all(updates)


def adamax(loss_or_grads, params, learning_rate=0.002, beta1=0.9, beta2=0.999,
           epsilon=1e-8):
    """Adamax (Kingma and Ba, 2014), Adam with the infinity norm:
    ``a_t = learning_rate / (1 - beta1 ** t)``,
    ``m = beta1 * m + (1 - beta1) * grad``, ``u = max(beta2 * u, |grad|)``,
    ``param = param - a_t * m / (u + epsilon)``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import adamax
    >>> w = graphc.shared(np.array([1.0]))
    >>> len(adamax((w ** 2).sum(), [w]))
    4
    """
    all_grads = get_or_compute_grads(loss_or_grads, params)
    t_prev = graphc.shared(floatX(0.0))
    updates = OrderedDict()
    t = t_prev + 1
    a_t = learning_rate / (1 - beta1 ** t)
    for param, g_t in zip(params, all_grads):
        m_prev = _zeros_like(param)
        u_prev = _zeros_like(param)
        m_t = beta1 * m_prev + (1 - beta1) * g_t
        u_t = T.maximum(beta2 * u_prev, abs(g_t))
        step = a_t * m_t / (u_t + epsilon)
        updates[m_prev] = m_t
        updates[u_prev] = u_t
        updates[param] = param - step
    updates[t_prev] = t
    return _cast_all(updates)


def norm_constraint(tensor_var, max_norm, norm_axes=None, epsilon=1e-7):
    """``tensor_var`` rescaled so that its norms are at most ``max_norm``.

    The norms are over ``norm_axes``; by default axis 0 for a dense weight
    (one norm per unit) and all but the first axis for a convolution weight
    (one norm per filter). Apply it to an update: ``updates[W] =
    norm_constraint(updates[W], 3.0)``.

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import norm_constraint
    >>> W = graphc.shared(np.array([[3.0], [4.0]]))
    >>> norm_constraint(W, 1.0).eval().round(3).tolist()
    [[0.6], [0.8]]
    """
    ndim = tensor_var.ndim
    if norm_axes is not None:
        sum_over = tuple(norm_axes)
    elif ndim == 2:
        sum_over = (0,)
    elif ndim in (3, 4, 5):
        sum_over = tuple(range(1, ndim))
    else:
        raise GraphcValueError(f"unsupported tensor dimensionality {ndim}; give norm_axes")
    norms = T.sqrt(T.sum(T.sqr(tensor_var), axis=sum_over, keepdims=True))
    target_norms = T.clip(norms, 0, max_norm)
    return _cast_like(tensor_var * (target_norms / (epsilon + norms)), tensor_var)


def total_norm_constraint(tensor_vars, max_norm, epsilon=1e-7, return_norm=False):
    """Rescale a list of tensors (usually gradients) together so that their joint
    L2 norm is at most ``max_norm`` (gradient clipping by global norm).

    Parameters
    ----------
    tensor_vars : list of Variable
    max_norm : float
    epsilon : float
        Added to the norm in the denominator.
    return_norm : bool
        Also return the norm before rescaling.

    Returns
    -------
    list of Variable, or (list of Variable, Variable)

    Examples
    --------
    >>> import graphc
    >>> from graphc.nn.updates import total_norm_constraint
    >>> a = graphc.shared(np.array([3.0]))
    >>> b = graphc.shared(np.array([4.0]))
    >>> scaled, norm = total_norm_constraint([a, b], 1.0, return_norm=True)
    >>> float(norm.eval()), scaled[0].eval().round(3).tolist()
    (5.0, [0.6])
    """
    norm = T.sqrt(sum(T.sum(tensor ** 2) for tensor in tensor_vars))
    target_norm = T.clip(norm, 0, max_norm)
    multiplier = target_norm / (epsilon + norm)
    scaled = [_cast_like(step * multiplier, step) for step in tensor_vars]
    if return_norm:
        return scaled, norm
    return scaled
