"""The random number generator of ``graphc.nn`` (Lasagne's ``lasagne.random``).

One NumPy ``RandomState`` draws the initial parameter values and the seeds of the
dropout streams, so seeding it makes a network's construction reproducible.
"""
import numpy as np

_rng = np.random.RandomState()


def get_rng():
    """The ``numpy.random.RandomState`` that initializers and dropout draw from.

    Examples
    --------
    >>> import numpy as np
    >>> import graphc.nn as lasagne
    >>> isinstance(lasagne.random.get_rng(), np.random.RandomState)
    True
    """
    return _rng


def set_rng(new_rng):
    """Replace the generator (a ``numpy.random.RandomState``).

    Examples
    --------
    >>> import numpy as np
    >>> import graphc.nn as lasagne
    >>> lasagne.random.set_rng(np.random.RandomState(42))
    >>> lasagne.random.get_rng().randint(10)
    6
    """
    global _rng
    _rng = new_rng
