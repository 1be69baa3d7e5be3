"""Theano's ``theano.tensor.nlinalg``: ``matrix_inverse``, ``det``, ``pinv``,
``matrix_dot``, ``trace`` and ``diag`` (with ``extract_diag`` and ``alloc_diag``).

Examples
--------
>>> import numpy as np, graphc, graphc.tensor as T
>>> x = T.dmatrix("x")
>>> f = graphc.function([x], T.nlinalg.trace(T.nlinalg.matrix_inverse(x)), backend="python")
>>> float(f(np.diag([2.0, 4.0])))
0.75
"""
from graphc.ops.extra import diag, diagonal as extract_diag, trace  # noqa: F401
from graphc.ops.linalg import (  # noqa: F401
    Det, MatrixInverse, MatrixPinv, det, matrix_dot, matrix_inverse, pinv)


def alloc_diag(v):
    """The square matrix with the vector ``v`` on its diagonal (Theano's ``alloc_diag``).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> v = T.dvector("v")
    >>> graphc.function([v], T.nlinalg.alloc_diag(v), backend="python")([1.0, 2.0])
    array([[1., 0.],
           [0., 2.]])
    """
    return diag(v)


__all__ = ["matrix_inverse", "det", "pinv", "matrix_dot", "trace", "diag", "extract_diag",
           "alloc_diag", "MatrixInverse", "Det", "MatrixPinv"]
