"""``pool.pool_2d`` where Theano code imports it (``theano.tensor.signal.pool``).

The same function as ``T.nnet.pool_2d``; see there.

Examples
--------
>>> import numpy as np, graphc, graphc.tensor as T
>>> from graphc.tensor.signal import pool
>>> x = T.ftensor4("x")
>>> f = graphc.function([x], pool.pool_2d(x, ws=(2, 2)), backend="python")
>>> f(np.arange(16, dtype="float32").reshape(1, 1, 4, 4))[0, 0]
array([[ 5.,  7.],
       [13., 15.]], dtype=float32)
"""
from graphc.ops.conv import pool_2d

__all__ = ["pool_2d"]
