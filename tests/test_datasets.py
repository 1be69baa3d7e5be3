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


def _mnist_folder(folder, rng, train_labels=30, swap=False):
    files = {"train-images-idx3-ubyte": rng.integers(0, 256, size=(30, 28, 28)),
             "train-labels-idx1-ubyte": rng.integers(0, 10, size=train_labels),
             "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(7, 28, 28)),
             "t10k-labels-idx1-ubyte": rng.integers(0, 10, size=7)}
    if swap:
        files["t10k-images-idx3-ubyte"], files["t10k-labels-idx1-ubyte"] = (
            files["t10k-labels-idx1-ubyte"], files["t10k-images-idx3-ubyte"])
    for name, array in files.items():
        _write_idx(str(folder / name), array, False)
    return str(folder / "train-images-idx3-ubyte")


def test_load_mnist_names_the_file_of_each_defect(tmp_path, rng):
    # Each broken folder gives a GraphcError naming what is wrong, never a raw
    # struct, gzip or index error, and never a silently misaligned split.
    images = _mnist_folder(tmp_path, rng, train_labels=28)
    with pytest.raises(GraphcError, match="30 images but 28 labels"):
        load_mnist(str(tmp_path))
    _mnist_folder(tmp_path, rng, swap=True)
    with pytest.raises(GraphcError, match="t10k-images.*1 axes where 3"):
        load_mnist(str(tmp_path))
    _mnist_folder(tmp_path, rng)
    with open(images, "rb") as handle:
        data = handle.read()
    with open(images, "wb") as handle:
        handle.write(data[:6])
    with pytest.raises(GraphcError, match="train-images.*cut short"):
        load_mnist(str(tmp_path))
    gz_path = images + ".gz"
    (tmp_path / "train-images-idx3-ubyte").unlink()
    with open(gz_path, "wb") as handle:
        handle.write(gzip.compress(data)[:len(data) // 20])
    with pytest.raises(GraphcError, match="train-images-idx3-ubyte.gz: cannot be read"):
        load_mnist(str(tmp_path))
    with open(gz_path, "wb") as handle:
        handle.write(b"not gzip" * 10)
    with pytest.raises(GraphcError, match="cannot be read"):
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
    for bad in (0, -5, 2.5, True):
        with pytest.raises(GraphcError, match="batch_size must be a positive integer"):
            list(iterate_minibatches(X, y, bad))
