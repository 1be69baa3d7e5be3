"""Datasets for the tutorials and tests: digits shipped with scikit-learn, MNIST
from IDX files the user gives, and a minibatch iterator.

Nothing here downloads: the digits come from the scikit-learn package itself.
"""
import gzip
import os
import struct
import zlib

import numpy as np

from graphc.errors import GraphcError, GraphcValueError


def _resample(images, size):
    """Bilinear resampling of (N, h, w) images to (N, size, size)."""
    n, h, w = images.shape
    if (h, w) == (size, size):
        return images
    # Sample at pixel centres, as image libraries do.
    rows = np.clip((np.arange(size) + 0.5) * h / size - 0.5, 0, h - 1)
    cols = np.clip((np.arange(size) + 0.5) * w / size - 0.5, 0, w - 1)
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    r1, c1 = np.minimum(r0 + 1, h - 1), np.minimum(c0 + 1, w - 1)
    fr, fc = (rows - r0)[None, :, None], (cols - c0)[None, None, :]
    top = images[:, r0][:, :, c0] * (1 - fc) + images[:, r0][:, :, c1] * fc
    bottom = images[:, r1][:, :, c0] * (1 - fc) + images[:, r1][:, :, c1] * fc
    return top * (1 - fr) + bottom * fr


def _split(X, y, fractions, rng):
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    n_train = int(round(fractions[0] * len(X)))
    n_valid = int(round(fractions[1] * len(X)))
    cuts = [0, n_train, n_train + n_valid, len(X)]
    return tuple((X[a:b], y[a:b]) for a, b in zip(cuts, cuts[1:]))


def load_digits(image_size=8, flatten=True, seed=0):
    """The 8x8 handwritten digits of scikit-learn, split into train/valid/test.

    Parameters
    ----------
    image_size : int
        Side of the returned images; other than 8, images are resampled bilinearly.
    flatten : bool
        Rows of ``image_size**2`` pixels if True, else arrays of shape (N, 1, H, W).
    seed : int
        Seed of the shuffle before the 60/20/20 split.

    Returns
    -------
    tuple of three (X, y) pairs
        float32 pixels in [0, 1] and int32 labels: train, valid, test.

    Examples
    --------
    >>> from graphc.datasets import load_digits
    >>> (X, y), valid, test = load_digits()
    >>> X.shape[1], X.dtype, y.dtype
    (64, dtype('float32'), dtype('int32'))
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise GraphcError("load_digits needs scikit-learn (pip install scikit-learn); "
                          "the digits ship inside that package") from None
    if image_size < 1:
        raise GraphcValueError(f"image_size must be positive, got {image_size}")
    data = sklearn_digits()
    images = _resample(data.images.astype("float64") / 16.0, image_size)
    images = np.clip(images, 0.0, 1.0).astype("float32")
    labels = data.target.astype("int32")
    X = images.reshape(len(images), -1) if flatten else images[:, None, :, :]
    # C-contiguous, as arrays fed to a compiled function best are (the resampling's
    # fancy indexing keeps a transposed layout).
    return _split(np.ascontiguousarray(X), labels, (0.6, 0.2), np.random.default_rng(seed))


def _read_idx(path, ndim_wanted):
    """The array of an unsigned-byte IDX file of ``ndim_wanted`` axes."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error) as error:   # gzip's errors for a broken .gz
        raise GraphcValueError(f"{path}: cannot be read ({error})") from None
    if len(data) < 4:
        raise GraphcValueError(f"{path}: too short to be an IDX file")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise GraphcValueError(f"{path}: not an unsigned-byte IDX file (magic {data[:4]!r})")
    if ndim != ndim_wanted:
        raise GraphcValueError(f"{path}: an IDX file of {ndim} axes where {ndim_wanted} "
                               "are expected (images have 3, labels 1)")
    if len(data) < 4 + 4 * ndim:
        raise GraphcValueError(f"{path}: the header is cut short ({len(data)} bytes)")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise GraphcValueError(f"{path}: header says {shape} but holds {body.size} bytes")
    return body.reshape(shape)


def _find(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise GraphcValueError(f"no {stem}[.gz] in {folder}")


def load_mnist(path, flatten=True, n_valid=None):
    """MNIST from the standard IDX files in folder ``path`` (gzipped or not).

    Parameters
    ----------
    path : str or path
        The folder holding ``train-images-idx3-ubyte[.gz]``, ``train-labels...``,
        ``t10k-images...`` and ``t10k-labels...`` (``.idx3-ubyte`` spellings too).
    flatten : bool
        Rows of 784 pixels, or N x 1 x 28 x 28 images.
    n_valid : int, optional
        How many of the training file's last images make the validation set:
        10000 by default (Lasagne's split of the 60000), a sixth of a smaller file.

    Returns
    -------
    (X_train, y_train), (X_valid, y_valid), (X_test, y_test)
        float32 pixels in [0, 1] and int32 labels.
    """
    parts = {}
    for split, stem in (("train", "train"), ("test", "t10k")):
        images = _read_idx(_find(path, f"{stem}-images-idx3-ubyte"), 3)
        labels = _read_idx(_find(path, f"{stem}-labels-idx1-ubyte"), 1).astype("int32")
        if len(images) != len(labels):
            raise GraphcValueError(f"load_mnist: the {stem} files hold {len(images)} images "
                                   f"but {len(labels)} labels")
        X = images.astype("float32") / 255.0
        X = X.reshape(len(X), -1) if flatten else X[:, None, :, :]
        parts[split] = (X, labels)
    X, y = parts["train"]
    if n_valid is None:
        n_valid = min(10000, len(X) // 6)
    if not 0 <= n_valid < len(X):
        raise GraphcValueError(f"load_mnist: n_valid={n_valid} must leave training images "
                               f"out of the {len(X)} in the training file")
    cut = len(X) - n_valid
    return (X[:cut], y[:cut]), (X[cut:], y[cut:]), parts["test"]


def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None):
    """Yield ``(X_batch, y_batch)`` pairs of ``batch_size`` rows (the last partial
    batch is dropped, as in Lasagne's examples)."""
    if len(X) != len(y):
        raise GraphcValueError(f"iterate_minibatches: {len(X)} inputs but {len(y)} targets")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
            batch_size < 1):
        raise GraphcValueError(f"iterate_minibatches: batch_size must be a positive "
                               f"integer, got {batch_size!r}")
    indices = np.arange(len(X))
    if shuffle:
        # A Generator, a legacy RandomState, or a seed (None: a fresh one).
        if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
            rng = np.random.default_rng(rng)
        rng.shuffle(indices)
    for start in range(0, len(X) - batch_size + 1, batch_size):
        batch = indices[start:start + batch_size]
        yield X[batch], y[batch]
