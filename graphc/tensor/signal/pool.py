"""Theano's ``theano.tensor.signal.pool``: pooling lives in ``graphc.tensor.nnet``."""
from graphc.tensor.nnet import pool_2d

__all__ = ["pool_2d"]
