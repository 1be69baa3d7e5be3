"""Theano's ``theano.tensor.signal`` path: ``from graphc.tensor.signal import pool``."""
