"""Theano's ``theano.tensor.signal`` path, so ``from ...signal.pool import pool_2d`` ports."""
