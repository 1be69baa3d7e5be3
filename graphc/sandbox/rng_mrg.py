"""Theano's ``MRG_RandomStreams``: graphc has one kind of random stream.

The samples differ from Theano's MRG generator; the interface
(``uniform``, ``normal``, ``binomial``, ``seed``) is the same.
"""
from graphc.tensor.random import RandomStreams as MRG_RandomStreams

__all__ = ["MRG_RandomStreams"]
