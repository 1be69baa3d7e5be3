"""graphc.datasets: the digits, MNIST's IDX files, minibatches."""
import gzip
import struct

import numpy as np
import pytest

from graphc.datasets import iterate_minibatches, load_digits, load_mnist
from graphc.errors import GraphcError


@pytest.mark.parametrize("image_size, flatten", [(8, True), (16, False)])
def test_load_digits_splits_and_layout(image_size, flatten):
    pytest.importorskip("sklearn")
    parts = load_digits(image_size=image_size, flatten=flatten)
    sizes = [len(X) for X, _ in parts]
    assert sum(sizes) == 1797 and sizes[0] == round(0.6 * 1797)
    for X, y in parts:
        shape = (image_size ** 2,) if flatten else (1, image_size, image_size)
        assert X.shape[1:] == shape and X.dtype == np.float32 and y.dtype == np.int32
        # C-contiguous: a strided array would cost a copy at every call.
        assert X.flags.c_contiguous
        assert 0.0 <= X.min() and X.max() <= 1.0 and set(np.unique(y)) <= set(range(10))


def _write_idx(path, array, compress):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(
        ">" + "I" * array.ndim, *array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_reads_idx_files(tmp_path, compress, rng):
    images = rng.integers(0, 256, size=(30, 28, 28))
    labels = rng.integers(0, 10, size=30)
    tests = rng.integers(0, 256, size=(7, 28, 28))
    suffix = ".gz" if compress else ""
    _write_idx(str(tmp_path / f"train-images-idx3-ubyte{suffix}"), images, compress)
    _write_idx(str(tmp_path / f"train-labels-idx1-ubyte{suffix}"), labels, compress)
    _write_idx(str(tmp_path / f"t10k-images-idx3-ubyte{suffix}"), tests, compress)
    _write_idx(str(tmp_path / f"t10k-labels-idx1-ubyte{suffix}"), labels[:7], compress)
    (X, y), (Xv, yv), (Xt, yt) = load_mnist(str(tmp_path), n_valid=10)
    assert X.shape == (20, 784) and Xv.shape == (10, 784) and Xt.shape == (7, 784)
    np.testing.assert_allclose(X[3], images[3].reshape(-1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(yv, labels[20:])
    assert X.dtype == np.float32 and y.dtype == np.int32
    (X4, _), _, _ = load_mnist(str(tmp_path), flatten=False, n_valid=10)
    assert X4.shape == (20, 1, 28, 28)
    # The default keeps 10000 images of 60000 for validation, a sixth of a smaller file.
    (X, _), (Xv, _), _ = load_mnist(str(tmp_path))
    assert X.shape == (25, 784) and Xv.shape == (5, 784)
    with pytest.raises(GraphcError, match="n_valid=30.*30"):
        load_mnist(str(tmp_path), n_valid=30)


def test_load_mnist_names_a_missing_file(tmp_path):
    with pytest.raises(GraphcError, match="train-images"):
        load_mnist(str(tmp_path))


def test_iterate_minibatches_order_seed_and_errors():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    batches = list(iterate_minibatches(X, y, 4, shuffle=False))
    assert len(batches) == 2     # the last partial batch is dropped
    np.testing.assert_array_equal(batches[1][1], [4, 5, 6, 7])
    np.testing.assert_array_equal(batches[1][0], X[4:8])
    # A seed gives the same batches each time; each batch keeps its pairs together.
    first = [b for _, b in iterate_minibatches(X, y, 5, rng=3)]
    again = [b for _, b in iterate_minibatches(X, y, 5, rng=np.random.default_rng(3))]
    np.testing.assert_array_equal(first, again)
    assert sorted(np.concatenate(first)) == list(range(10))
    for xb, yb in iterate_minibatches(X, y, 5, rng=np.random.RandomState(0)):
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)
    with pytest.raises(GraphcError, match="10 inputs but 9 targets"):
        list(iterate_minibatches(X, y[:9], 4))
