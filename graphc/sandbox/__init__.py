"""Theano's ``theano.sandbox`` paths that ported code imports."""
