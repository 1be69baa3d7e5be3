"""Initial values of parameters (Lasagne's ``lasagne.init``).

An initializer is called with a shape and returns a NumPy array of
``config.floatX``. Fans follow Lasagne: a dense weight ``(n_in, n_out)`` has
fan-in ``shape[0]`` and fan-out ``shape[1]``; a convolution weight
``(n_out, n_in, h, w)`` multiplies both by the receptive field ``h * w``.
Random draws come from :func:`graphc.nn.random.get_rng`.
"""
import numpy as np

from graphc.nn.random import get_rng
from graphc.nn.utils import floatX

__all__ = ["Initializer", "Constant", "Normal", "Uniform", "Glorot", "GlorotNormal",
           "GlorotUniform", "He", "HeNormal", "HeUniform", "Orthogonal", "Sparse"]


def _gain(gain):
    # Lasagne's shorthand: the gain that keeps the variance through a rectifier.
    return np.sqrt(2) if gain == "relu" else gain


class Initializer:
    """Base class: subclasses implement :meth:`sample`.

    Examples
    --------
    >>> from graphc.nn.init import Initializer
    >>> class Ones(Initializer):
    ...     def sample(self, shape):
    ...         return np.ones(shape, dtype="float32")
    >>> Ones()((2,)).tolist()
    [1.0, 1.0]
    """

    def __call__(self, shape):
        return self.sample(shape)

    def sample(self, shape):
        """An array of ``shape`` with the initial values."""
        raise NotImplementedError


class Constant(Initializer):
    """Every entry ``val``.

    Examples
    --------
    >>> from graphc.nn.init import Constant
    >>> Constant(0.5)((2,)).tolist()
    [0.5, 0.5]
    """

    def __init__(self, val=0.0):
        self.val = val

    def sample(self, shape):
        return floatX(np.ones(shape) * self.val)


class Normal(Initializer):
    """Samples of a normal distribution of mean ``mean`` and deviation ``std``.

    Examples
    --------
    >>> from graphc.nn.init import Normal
    >>> Normal(std=0.1)((3, 4)).shape
    (3, 4)
    """

    def __init__(self, std=0.01, mean=0.0):
        self.std = std
        self.mean = mean

    def sample(self, shape):
        return floatX(get_rng().normal(self.mean, self.std, size=shape))


class Uniform(Initializer):
    """Samples of a uniform distribution.

    Parameters
    ----------
    range : float or (float, float)
        ``(-range, range)``, or the given ``(low, high)``.
    std : float, optional
        If given, the range is centred on ``mean`` with this standard deviation
        (half-width ``sqrt(3) * std``) and ``range`` is ignored.
    mean : float

    Examples
    --------
    >>> from graphc.nn.init import Uniform
    >>> bool(Uniform(range=(0, 1))((2, 2)).min() >= 0)
    True
    """

    def __init__(self, range=0.01, std=None, mean=0.0):
        if std is not None:
            a = mean - np.sqrt(3) * std
            b = mean + np.sqrt(3) * std
        else:
            try:
                a, b = range
            except TypeError:
                a, b = -range, range
        self.range = (a, b)

    def sample(self, shape):
        return floatX(get_rng().uniform(low=self.range[0], high=self.range[1], size=shape))


class Glorot(Initializer):
    """Glorot/Xavier: ``std = gain * sqrt(2 / ((fan_in + fan_out) * receptive_field))``
    with the distribution of ``initializer`` (a class taking ``std=``).

    ``c01b=True`` reads convolution weights in cuda-convnet's layout
    ``(channels, rows, cols, filters)``.
    """

    def __init__(self, initializer, gain=1.0, c01b=False):
        self.initializer = initializer
        self.gain = _gain(gain)
        self.c01b = c01b

    def sample(self, shape):
        if self.c01b:
            if len(shape) != 4:
                raise RuntimeError("If c01b is True, only shapes of length 4 are accepted")
            n1, n2 = shape[0], shape[3]
            receptive_field_size = shape[1] * shape[2]
        else:
            if len(shape) < 2:
                raise RuntimeError("This initializer only works with shapes of length >= 2")
            n1, n2 = shape[:2]
            receptive_field_size = np.prod(shape[2:])
        std = self.gain * np.sqrt(2.0 / ((n1 + n2) * receptive_field_size))
        return self.initializer(std=std).sample(shape)


class GlorotNormal(Glorot):
    """Glorot with a normal distribution.

    Examples
    --------
    >>> from graphc.nn.init import GlorotNormal
    >>> GlorotNormal()((100, 50)).dtype
    dtype('float32')
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Normal, gain, c01b)


class GlorotUniform(Glorot):
    """Glorot with a uniform distribution: ``U(-a, a)``, ``a = sqrt(3) * std``.

    Examples
    --------
    >>> from graphc.nn.init import GlorotUniform
    >>> W = GlorotUniform()((100, 50))
    >>> bool(abs(W).max() <= np.sqrt(6.0 / 150))
    True
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Uniform, gain, c01b)


class He(Initializer):
    """He/Kaiming: ``std = gain * sqrt(1 / fan_in)``; the fan-in of a dense weight is
    ``shape[0]``, of a convolution weight ``prod(shape[1:])``."""

    def __init__(self, initializer, gain=1.0, c01b=False):
        self.initializer = initializer
        self.gain = _gain(gain)
        self.c01b = c01b

    def sample(self, shape):
        if self.c01b:
            if len(shape) != 4:
                raise RuntimeError("If c01b is True, only shapes of length 4 are accepted")
            fan_in = np.prod(shape[:3])
        elif len(shape) == 2:
            fan_in = shape[0]
        elif len(shape) > 2:
            fan_in = np.prod(shape[1:])
        else:
            raise RuntimeError("This initializer only works with shapes of length >= 2")
        std = self.gain * np.sqrt(1.0 / fan_in)
        return self.initializer(std=std).sample(shape)


class HeNormal(He):
    """He with a normal distribution.

    Examples
    --------
    >>> from graphc.nn.init import HeNormal
    >>> HeNormal(gain="relu")((8, 3, 3, 3)).shape
    (8, 3, 3, 3)
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Normal, gain, c01b)


class HeUniform(He):
    """He with a uniform distribution.

    Examples
    --------
    >>> from graphc.nn.init import HeUniform
    >>> HeUniform()((4, 5)).shape
    (4, 5)
    """

    def __init__(self, gain=1.0, c01b=False):
        super().__init__(Uniform, gain, c01b)


class Sparse(Initializer):
    """Each column has ``sparsity * shape[0]`` nonzero entries drawn from
    ``N(0, std)`` (2-d shapes only)."""

    def __init__(self, sparsity=0.1, std=0.01):
        self.sparsity = sparsity
        self.std = std

    def sample(self, shape):
        if len(shape) != 2:
            raise RuntimeError("sparse initializer only works with shapes of length 2")
        w = floatX(np.zeros(shape))
        n_inputs, n_outputs = shape
        size = int(self.sparsity * n_inputs)
        for k in range(n_outputs):
            indices = np.arange(n_inputs)
            get_rng().shuffle(indices)
            indices = indices[:size]
            values = floatX(get_rng().normal(0.0, self.std, size=size))
            w[indices, k] = values
        return w


class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix: the weight reshaped to
    ``(shape[0], prod(shape[1:]))`` has orthonormal rows or columns.

    Examples
    --------
    >>> from graphc.nn.init import Orthogonal
    >>> Q = Orthogonal()((5, 5)).astype("float64")
    >>> bool(np.allclose(Q @ Q.T, np.eye(5), atol=1e-5))
    True
    """

    def __init__(self, gain=1.0):
        self.gain = _gain(gain)

    def sample(self, shape):
        if len(shape) < 2:
            raise RuntimeError("Only shapes of length 2 or more are supported.")
        flat_shape = (shape[0], int(np.prod(shape[1:])))
        a = get_rng().normal(0.0, 1.0, flat_shape)
        u, _, v = np.linalg.svd(a, full_matrices=False)
        # u or v has the flat shape, depending on which side is longer.
        q = u if u.shape == flat_shape else v
        q = q.reshape(shape)
        return floatX(self.gain * q)
