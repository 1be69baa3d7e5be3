"""Theano's ``theano.scan_module`` path: ``scan`` and its stopping condition ``until``.

>>> from graphc.scan_module import scan, until
"""
from graphc.ops.scan import foldl, foldr, map, reduce, scan, until

__all__ = ["scan", "until", "map", "reduce", "foldl", "foldr"]
