"""Shared fixtures: every value test runs on each backend through ``backend``.

The python backend is the oracle; ``compare`` compiles a graph on the backend
under test and on python and checks both against an independent NumPy float64
reference.
"""
import importlib.util
import os

import numpy as np
import pytest

import graphc

# The suite checks the graph's well-formedness after every rewrite pass
# (as GRAPHC_FLAGS=check_passes=1 does).
graphc.config.check_passes = True

BACKENDS = ["python"]
if importlib.util.find_spec("numba") is not None and os.path.exists(
        os.path.join(os.path.dirname(graphc.__file__), "backends", "numba", "__init__.py")):
    BACKENDS.append("numba")


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The name of a backend; tests compile with ``backend=backend``."""
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def tolerance(dtype):
    """rtol/atol for comparing a result of ``dtype`` against float64."""
    return {"float32": (2e-5, 1e-6), "float16": (1e-2, 1e-3)}.get(str(dtype), (1e-10, 1e-12))


def assert_close(actual, expected, dtype=None):
    actual = np.asarray(actual)
    rtol, atol = tolerance(dtype or actual.dtype)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
