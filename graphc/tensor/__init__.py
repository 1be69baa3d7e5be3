"""``import graphc.tensor as T``: symbolic tensors and the functions over them."""
from graphc.tensor import variable as _variable
from graphc.tensor.basic import *  # noqa: F401,F403  (the public tensor API, see __all__)
from graphc.tensor import nnet  # noqa: F401
from graphc.tensor import random  # noqa: F401  (T.random.RandomStreams)
from graphc.tensor import extra_ops  # noqa: F401  (T.extra_ops.to_one_hot)
from graphc.tensor import nlinalg  # noqa: F401  (T.nlinalg.matrix_inverse, det, pinv)
from graphc.tensor import xlogx  # noqa: F401  (T.xlogx.xlogx, xlogy0)
from graphc.ops.extra import (  # noqa: F401  (Theano's T.sort, T.diag ... T.cumsum)
    argsort, bincount, cumprod, cumsum, diag, diagonal, diff, fill_diagonal,
    fill_diagonal_offset, horizontal_stack, roll, sort, specify_shape, stacklists, trace,
    tril, triu, unbroadcast, vertical_stack)
from graphc.graph import TensorType, Variable as TensorVariable  # noqa: F401

_variable.install()

