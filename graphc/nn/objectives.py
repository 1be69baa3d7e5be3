"""Losses and metrics (Lasagne's ``lasagne.objectives``).

Each function returns an elementwise or per-example expression; reduce it to
a scalar with :func:`aggregate` (or ``.mean()``) before taking gradients.
"""
import graphc.tensor as T
from graphc.errors import GraphcTypeError, GraphcValueError
from graphc.nn.utils import as_theano_expression

__all__ = ["binary_crossentropy", "categorical_crossentropy", "squared_error", "aggregate",
           "binary_hinge_loss", "multiclass_hinge_loss", "binary_accuracy",
           "categorical_accuracy"]


def align_targets(predictions, targets):
    """A vector of targets becomes a column when ``predictions`` is a column
    (the output of a one-unit layer), as Lasagne does."""
    if (getattr(predictions, "broadcastable", None) == (False, True)
            and getattr(targets, "ndim", None) == 1):
        targets = as_theano_expression(targets).dimshuffle(0, "x")
    return predictions, targets


def binary_crossentropy(predictions, targets):
    """``-t log(p) - (1 - t) log(1 - p)`` elementwise; predictions in (0, 1).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.objectives import binary_crossentropy
    >>> p, t = T.dvector("p"), T.dvector("t")
    >>> f = graphc.function([p, t], binary_crossentropy(p, t), backend="python")
    >>> f([0.5], [1.0]).round(4)
    array([0.6931])
    """
    predictions, targets = align_targets(predictions, targets)
    return T.nnet.binary_crossentropy(predictions, targets)


def categorical_crossentropy(predictions, targets):
    """``-sum(t * log(p))`` per row; ``targets`` are integer labels or rows of
    probabilities (one-hot).

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.objectives import categorical_crossentropy
    >>> p, y = T.dmatrix("p"), T.ivector("y")
    >>> f = graphc.function([p, y], categorical_crossentropy(p, y), backend="python")
    >>> f([[0.5, 0.5], [0.9, 0.1]], [0, 0]).round(4)
    array([0.6931, 0.1054])
    """
    return T.nnet.categorical_crossentropy(predictions, targets)


def squared_error(a, b):
    """``(a - b) ** 2`` elementwise.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.objectives import squared_error
    >>> a, b = T.dvector("a"), T.dvector("b")
    >>> graphc.function([a, b], squared_error(a, b), backend="python")([1.0], [3.0])
    array([4.])
    """
    a, b = align_targets(a, b)
    return T.sqr(a - b)


def aggregate(loss, weights=None, mode="mean"):
    """Reduce an elementwise loss to a scalar.

    Parameters
    ----------
    loss : Variable
    weights : Variable or array, optional
        Multiplies ``loss`` elementwise (broadcasting).
    mode : {"mean", "sum", "normalized_sum"}
        ``"normalized_sum"`` is ``sum(loss * weights) / sum(weights)``.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.objectives import aggregate
    >>> l = T.dvector("l")
    >>> float(graphc.function([l], aggregate(l, mode="sum"), backend="python")([1.0, 2.0]))
    3.0
    """
    if weights is not None:
        loss = loss * weights
    if mode == "mean":
        return loss.mean()
    if mode == "sum":
        return loss.sum()
    if mode == "normalized_sum":
        if weights is None:
            raise GraphcValueError("require weights for mode='normalized_sum'")
        return loss.sum() / as_theano_expression(weights).sum()
    raise GraphcValueError(f"mode must be 'mean', 'sum' or 'normalized_sum', got {mode!r}")


def binary_hinge_loss(predictions, targets, delta=1, log_odds=True, binary=True):
    """``max(0, delta - t * p)`` with targets in {-1, 1} (or {0, 1} if ``binary``).

    ``log_odds=False`` reads predictions as probabilities and converts them to
    log-odds first.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.objectives import binary_hinge_loss
    >>> p, t = T.dvector("p"), T.dvector("t")
    >>> f = graphc.function([p, t], binary_hinge_loss(p, t), backend="python")
    >>> f([0.5, 2.0], [1.0, 1.0])
    array([0.5, 0. ])
    """
    if not log_odds:
        predictions = T.log(predictions / (1 - predictions))
    if binary:
        targets = 2 * targets - 1
    predictions, targets = align_targets(predictions, targets)
    return T.nnet.relu(delta - predictions * targets)


def _one_hot_like(targets, predictions):
    # Integer labels -> a boolean mask of the target class along the last axis.
    classes = T.arange(predictions.shape[-1])
    column = targets.dimshuffle(*range(targets.ndim), "x")
    return T.eq(column, classes)


def multiclass_hinge_loss(predictions, targets, delta=1):
    """``max(0, max_{j != t} p_j - p_t + delta)`` per row; integer or one-hot targets.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.objectives import multiclass_hinge_loss
    >>> p, y = T.dmatrix("p"), T.ivector("y")
    >>> f = graphc.function([p, y], multiclass_hinge_loss(p, y), backend="python")
    >>> f([[2.0, 0.5, 1.5]], [0])
    array([0.5])
    """
    if targets.ndim == predictions.ndim - 1:
        mask = _one_hot_like(targets, predictions)
    elif targets.ndim == predictions.ndim:
        mask = T.gt(targets, 0)
    else:
        raise GraphcTypeError("rank mismatch between targets and predictions")
    corrects = T.sum(T.switch(mask, predictions, 0), axis=-1)
    rest = T.max(T.switch(mask, -float("inf"), predictions), axis=-1)
    return T.nnet.relu(rest - corrects + delta)


def binary_accuracy(predictions, targets, threshold=0.5):
    """1 where ``predictions >= threshold`` agrees with the 0/1 targets, else 0.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.objectives import binary_accuracy
    >>> p, t = T.dvector("p"), T.dvector("t")
    >>> f = graphc.function([p, t], binary_accuracy(p, t), backend="python")
    >>> f([0.7, 0.2], [1.0, 1.0]).tolist()
    [True, False]
    """
    predictions, targets = align_targets(predictions, targets)
    predictions = T.ge(predictions, threshold)
    return T.eq(predictions, targets)


def categorical_accuracy(predictions, targets, top_k=1):
    """1 where the target class is the predicted one (among the ``top_k``), else 0.

    ``targets`` are integer labels or one-hot rows. Use ``.mean()`` for the
    accuracy of a batch.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> from graphc.nn.objectives import categorical_accuracy
    >>> p, y = T.dmatrix("p"), T.ivector("y")
    >>> f = graphc.function([p, y], categorical_accuracy(p, y).mean(), backend="python")
    >>> float(f([[0.9, 0.1], [0.8, 0.2]], [0, 1]))
    0.5
    """
    if targets.ndim == predictions.ndim:
        targets = T.argmax(targets, axis=-1)
    elif targets.ndim != predictions.ndim - 1:
        raise GraphcTypeError("rank mismatch between targets and predictions")
    if top_k == 1:
        top = T.argmax(predictions, axis=-1)
        return T.eq(top, targets)
    # Lasagne takes the last k of a stable argsort: the target is among them when
    # fewer than k classes come after it, those scoring higher and those tied with it
    # at a larger index. Counting them gives the same answer without a sort.
    target_score = T.sum(T.switch(_one_hot_like(targets, predictions), predictions, 0),
                         axis=-1, keepdims=True)
    classes = T.arange(predictions.shape[-1])
    column = targets.dimshuffle(*range(targets.ndim), "x")
    after = T.or_(T.gt(predictions, target_score),
                  T.and_(T.eq(predictions, target_score), T.gt(classes, column)))
    return T.lt(T.sum(after, axis=-1), top_k)

