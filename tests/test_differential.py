"""Differential testing: random expression graphs evaluated by graphc and by NumPy.

A seeded generator builds random trees of elementwise ops, reductions, dots,
dimshuffles and indexing over a few inputs of random, broadcast-compatible shapes
(axes of length 1 are usually left unknown until the call, so broadcasting is
decided at run time). The same random choices build the graphc expression and
compute the NumPy float64 reference, so the reference is independent of graphc.

Graphs of SEEDS_PER_CHUNK seeds are compiled together into one function with one
output per seed: the numba backend then compiles a few modules instead of hundreds,
while every seed still is its own graph (its own inputs and output).
"""
import numpy as np
import pytest

import graphc
import graphc.tensor as T
from conftest import BACKENDS

N_SEEDS = 240
SEEDS_PER_CHUNK = 20
CHUNKS = list(range(N_SEEDS // SEEDS_PER_CHUNK))
MODES = [None, "fast_compile", "fast_run"]


def _softplus(x):
    return np.logaddexp(0, x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


# name -> (graphc function, NumPy function); all defined on every real number.
UNARY = {
    "tanh": (T.tanh, np.tanh),
    "sin": (T.sin, np.sin),
    "cos": (T.cos, np.cos),
    "sigmoid": (T.nnet.sigmoid, _sigmoid),
    "softplus": (T.nnet.softplus, _softplus),
    "abs": (abs, np.abs),
    "neg": (lambda x: -x, np.negative),
    "exp_tanh": (lambda x: T.exp(T.tanh(x)), lambda x: np.exp(np.tanh(x))),
    "log1p_sqr": (lambda x: T.log1p(x ** 2), lambda x: np.log1p(x ** 2)),
    "log_of_1_plus_exp": (lambda x: T.log(1 + T.exp(T.tanh(x))),
                          lambda x: np.log(1 + np.exp(np.tanh(x)))),
    "sqrt_abs": (lambda x: T.sqrt(abs(x) + 1), lambda x: np.sqrt(np.abs(x) + 1)),
    "arctan": (T.arctan, np.arctan),
    "sqr_clip": (lambda x: T.sqr(T.clip(x, -3.0, 3.0)), lambda x: np.clip(x, -3, 3) ** 2),
    "relu": (T.nnet.relu, lambda x: np.maximum(x, 0)),
    "scale": (lambda x: x * 0.5 + 1, lambda x: x * 0.5 + 1),
    "rsub": (lambda x: 2.0 - x, lambda x: 2.0 - x),
    "floor_mix": (lambda x: x - T.floor(x), lambda x: x - np.floor(x)),
    "pow3": (lambda x: T.tanh(x) ** 3, lambda x: np.tanh(x) ** 3),
}

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "maximum": (T.maximum, np.maximum),
    "minimum": (T.minimum, np.minimum),
    "div": (lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b)),
    "switch": (lambda a, b: T.switch(a > b, a, b * 2), lambda a, b: np.where(a > b, a, b * 2)),
    "mean2": (lambda a, b: (a + b) / 2, lambda a, b: (a + b) / 2),
}

REDUCE = {
    "sum": (T.sum, np.sum),
    "mean": (T.mean, np.mean),
    "max": (T.max, np.max),
    "min": (T.min, np.min),
    "prod": (T.prod, np.prod),
    "var": (T.var, np.var),
    "logsumexp": (T.logsumexp, _logsumexp),
}


class Generator:
    """Builds one random graph and its NumPy reference from a seed."""

    def __init__(self, seed):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.leaves = []          # (variable, value)
        self.inputs = []          # (variable, value) of the graph inputs
        self._make_inputs()

    def _make_inputs(self):
        rng = self.rng
        ndim = int(rng.choice([0, 1, 2, 2, 3]))
        full = [int(rng.integers(1, 5)) for _ in range(ndim)]
        for k in range(int(rng.integers(1, 4))):
            nd = int(rng.integers(0, ndim + 1))
            shape = tuple(1 if rng.random() < 0.3 else d for d in full[ndim - nd:])
            # Mostly unknown static shapes: broadcasting is decided at call time.
            static = shape if rng.random() < 0.3 else (None,) * nd
            var = T.tensor("float64", shape=static, name=f"s{self.seed}_x{k}")
            value = rng.uniform(-2, 2, size=shape)
            self.inputs.append((var, value))
            self.leaves.append((var, value))

    def leaf(self):
        return self.leaves[int(self.rng.integers(len(self.leaves)))]

    def build(self, depth):
        rng = self.rng
        if depth == 0 or rng.random() < 0.15:
            return self.leaf()
        kind = rng.choice(["unary", "binary", "binary", "reduce", "dot", "shuffle", "index",
                           "weak"])
        a = self.build(depth - 1)
        return getattr(self, "_" + kind)(a, depth)

    # Each builder takes a (variable, value) pair and returns a new one.
    def _unary(self, a, depth):
        name = self.rng.choice(sorted(UNARY))
        sym, ref = UNARY[name]
        return sym(a[0]), ref(a[1])

    def _weak(self, a, depth):
        c = float(np.round(self.rng.uniform(-2, 2), 2))
        op = self.rng.choice(["add", "mul", "rsub"])
        if op == "add":
            return a[0] + c, a[1] + c
        if op == "mul":
            return a[0] * c, a[1] * c
        return c - a[0], c - a[1]

    def _binary(self, a, depth):
        b = self.build(depth - 1)
        try:
            np.broadcast_shapes(np.shape(a[1]), np.shape(b[1]))
        except ValueError:
            b = (T.mean(b[0]), np.mean(b[1]))     # not broadcastable: use a scalar
        name = self.rng.choice(sorted(BINARY))
        sym, ref = BINARY[name]
        if self.rng.random() < 0.5:
            a, b = b, a
        return sym(a[0], b[0]), ref(a[1], b[1])

    def _reduce(self, a, depth):
        var, value = a
        if value.ndim == 0:
            return self._unary(a, depth)
        name = self.rng.choice(sorted(REDUCE))
        sym, ref = REDUCE[name]
        keepdims = bool(self.rng.random() < 0.4)
        choice = self.rng.random()
        if choice < 0.3:
            axis = None
        elif choice < 0.8 or value.ndim == 1:
            axis = int(self.rng.integers(-value.ndim, value.ndim))
        else:
            axis = tuple(int(i) for i in self.rng.choice(value.ndim, 2, replace=False))
        if name == "prod":
            var, value = T.tanh(var) + 1, np.tanh(value) + 1   # keep products moderate
        return sym(var, axis=axis, keepdims=keepdims), ref(value, axis=axis, keepdims=keepdims)

    def _dot(self, a, depth):
        var, value = a
        if value.ndim == 0 or value.ndim > 2:
            return self._reduce(a, depth) if value.ndim else self._unary(a, depth)
        b = self.build(depth - 1)
        if b[1].ndim in (1, 2) and b[1].shape[0] == value.shape[-1]:
            return T.dot(var, b[0]), np.dot(value, b[1])
        if value.ndim == 2:
            return T.dot(var, var.T), value @ value.T
        return T.dot(var, var), np.dot(value, value)

    def _shuffle(self, a, depth):
        var, value = a
        if value.ndim >= 2 and self.rng.random() < 0.6:
            perm = [int(i) for i in self.rng.permutation(value.ndim)]
            return var.dimshuffle(*perm), np.transpose(value, perm)
        if value.ndim < 3:
            at = int(self.rng.integers(0, value.ndim + 1))
            pattern = list(range(value.ndim))
            pattern.insert(at, "x")
            return var.dimshuffle(*pattern), np.expand_dims(value, at)
        return var.T, value.T

    def _index(self, a, depth):
        var, value = a
        if value.ndim == 0:
            return self._unary(a, depth)
        n = value.shape[0]
        choice = self.rng.integers(4)
        if choice == 0:
            return var[::-1], value[::-1]
        if choice == 1 and n > 1:
            return var[1:], value[1:]
        if choice == 2:
            idx = self.rng.integers(-n, n, size=int(self.rng.integers(1, 4)))
            return var[idx], value[idx]
        return var[..., -1], value[..., -1]


def build_chunk(chunk):
    """Inputs, outputs and references for the seeds of one chunk."""
    inputs, values, outputs, expected, seeds = [], [], [], [], []
    for seed in range(chunk * SEEDS_PER_CHUNK, (chunk + 1) * SEEDS_PER_CHUNK):
        gen = Generator(seed)
        var, ref = gen.build(depth=int(gen.rng.integers(3, 7)))
        if var.owner is None:                 # a bare input: give it at least one op
            var, ref = gen._unary((var, ref), 1)
        for v, x in gen.inputs:
            inputs.append(v)
            values.append(x)
        outputs.append(var)
        expected.append(np.asarray(ref, dtype="float64"))
        seeds.append(seed)
    return inputs, values, outputs, expected, seeds


def check(results, expected, seeds, label):
    for got, want, seed in zip(results, expected, seeds):
        got = np.asarray(got)
        assert got.shape == want.shape, f"seed {seed} ({label}): shape {got.shape} != {want.shape}"
        scale = 1.0 + np.max(np.abs(want), initial=0.0)
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10 * scale,
                                   err_msg=f"seed {seed} ({label})")


@pytest.mark.parametrize("chunk", CHUNKS)
def test_random_graphs_match_numpy(backend, chunk):
    inputs, values, outputs, expected, seeds = build_chunk(chunk)
    f = graphc.function(inputs, outputs, backend=backend, on_unused_input="ignore")
    check(f(*values), expected, seeds, f"{backend}, fast_run")


def _mode_params():
    # Every chunk on the python backend; on compiling backends two chunks by default
    # (each mode is another compile), the rest when slow tests run.
    params = []
    for backend in BACKENDS:
        for chunk in CHUNKS:
            marks = () if backend == "python" or chunk < 2 else (pytest.mark.slow,)
            params.append(pytest.param(backend, chunk, marks=marks, id=f"{backend}-{chunk}"))
    return params


@pytest.mark.parametrize("backend_name, chunk", _mode_params())
def test_optimizer_modes_agree(backend_name, chunk):
    inputs, values, outputs, expected, seeds = build_chunk(chunk)
    for mode in MODES:
        f = graphc.function(inputs, outputs, backend=backend_name, optimizer=mode,
                            on_unused_input="ignore")
        check(f(*values), expected, seeds, f"{backend_name}, optimizer={mode}")


def test_generator_is_deterministic_and_varied():
    # The same seed gives the same graph; different seeds give different values.
    _, v1, _, e1, _ = build_chunk(0)
    _, v2, _, e2, _ = build_chunk(0)
    for a, b in zip(e1, e2):
        np.testing.assert_array_equal(a, b)
    shapes = {e.shape for e in e1}
    assert len(shapes) > 3
