"""Theano's ``theano.tensor.shared_randomstreams`` path for ``RandomStreams``."""
from graphc.tensor.random import RandomStreams

__all__ = ["RandomStreams"]
