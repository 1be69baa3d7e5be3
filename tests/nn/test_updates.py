"""Update rules: two steps against NumPy implementations of Lasagne's formulas."""
import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc.nn import updates as U

from conftest import assert_close

# The loss sum(c * w ** 2) / 2 has gradient c * w: easy to follow in NumPy.
COEFF = np.array([0.5, 1.0, 2.0, -1.5])
START = np.array([1.0, -2.0, 0.5, 3.0])


def _grad(w):
    return COEFF * w


def _reference(rule, steps, **kw):
    w = START.copy()
    state = {}
    for t in range(1, steps + 1):
        g = _grad(w)
        if rule == "sgd":
            w = w - kw["learning_rate"] * g
        elif rule == "momentum":
            v = state.get("v", 0.0)
            new = w - kw["learning_rate"] * g
            x = kw["momentum"] * v + new
            state["v"] = x - w
            w = x
        elif rule == "nesterov_momentum":
            v = state.get("v", 0.0)
            new = w - kw["learning_rate"] * g
            x = kw["momentum"] * v + new - w
            state["v"] = x
            w = kw["momentum"] * x + new
        elif rule == "adagrad":
            accu = state.get("accu", 0.0) + g ** 2
            state["accu"] = accu
            w = w - kw["learning_rate"] * g / np.sqrt(accu + kw["epsilon"])
        elif rule == "rmsprop":
            accu = kw["rho"] * state.get("accu", 0.0) + (1 - kw["rho"]) * g ** 2
            state["accu"] = accu
            w = w - kw["learning_rate"] * g / np.sqrt(accu + kw["epsilon"])
        elif rule == "adadelta":
            rho, eps = kw["rho"], kw["epsilon"]
            accu = rho * state.get("accu", 0.0) + (1 - rho) * g ** 2
            delta = state.get("delta", 0.0)
            update = g * np.sqrt(delta + eps) / np.sqrt(accu + eps)
            w = w - kw["learning_rate"] * update
            state["accu"], state["delta"] = accu, rho * delta + (1 - rho) * update ** 2
        elif rule == "adam":
            b1, b2 = kw["beta1"], kw["beta2"]
            a_t = kw["learning_rate"] * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            m = b1 * state.get("m", 0.0) + (1 - b1) * g
            v = b2 * state.get("v", 0.0) + (1 - b2) * g ** 2
            state["m"], state["v"] = m, v
            w = w - a_t * m / (np.sqrt(v) + kw["epsilon"])
        elif rule == "adamax":
            b1, b2 = kw["beta1"], kw["beta2"]
            a_t = kw["learning_rate"] / (1 - b1 ** t)
            m = b1 * state.get("m", 0.0) + (1 - b1) * g
            u = np.maximum(b2 * state.get("u", 0.0), np.abs(g))
            state["m"], state["u"] = m, u
            w = w - a_t * m / (u + kw["epsilon"])
    return w


# Lasagne's defaults, written out: the reference uses them too.
RULES = {
    "sgd": {"learning_rate": 0.1},
    "momentum": {"learning_rate": 0.1, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 0.1, "momentum": 0.9},
    "adagrad": {"learning_rate": 1.0, "epsilon": 1e-6},
    "rmsprop": {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6},
    "adadelta": {"learning_rate": 1.0, "rho": 0.95, "epsilon": 1e-6},
    "adam": {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adamax": {"learning_rate": 0.002, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
# The rules whose learning rate has no default in Lasagne.
NEEDS_RATE = {"sgd", "momentum", "nesterov_momentum"}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_matches_lasagne_formula(backend, rule):
    w = graphc.shared(START.copy(), name="w")
    loss = 0.5 * T.sum(COEFF * w ** 2)
    kwargs = {"learning_rate": RULES[rule]["learning_rate"]} if rule in NEEDS_RATE else {}
    updates = getattr(U, rule)(loss, [w], **kwargs)
    assert list(updates)[0] is w or w in updates
    step = graphc.function([], loss, updates=updates, backend=backend)
    # Adam's step count is a floatX shared variable, as in Lasagne: its bias
    # correction is computed in floatX.
    dtype = graphc.config.floatX if rule in ("adam", "adamax") else "float64"
    for steps in (1, 2):
        step()
        assert_close(w.get_value(), _reference(rule, steps, **RULES[rule]), dtype=dtype)


@pytest.mark.parametrize("rule", ["momentum", "adam", "rmsprop"])
def test_updates_keep_float32_with_float64_rate(rule):
    w = graphc.shared(START.astype("float32"))
    rate = graphc.shared(np.float64(0.01))
    updates = getattr(U, rule)(T.sum(w ** 2), [w], learning_rate=rate)
    for var, expr in updates.items():
        assert expr.dtype == var.dtype
    graphc.function([], [], updates=updates, backend="python")()
    assert w.get_value().dtype == np.float32


def test_gradients_given_as_list_and_errors():
    w = graphc.shared(START.copy())
    g = T.dvector("g")
    updates = U.sgd([g], [w], learning_rate=0.5)
    graphc.function([g], [], updates=updates, backend="python")(np.ones(4))
    assert_close(w.get_value(), START - 0.5)
    with pytest.raises(ValueError):
        U.sgd([g, g], [w], 0.1)
    with pytest.raises(ValueError):
        U.sgd(T.sum(w * 2), [w * 2], 0.1)


def test_apply_momentum_on_subset():
    a = graphc.shared(np.array([1.0]))
    b = graphc.shared(np.array([1.0]))
    updates = U.apply_momentum(U.sgd(T.sum(a + b), [a, b], 0.1), params=[a])
    assert len(updates) == 3


def test_total_norm_constraint(backend, rng):
    a, b = T.dvector("a"), T.dmatrix("b")
    va, vb = rng.normal(size=3), rng.normal(size=(2, 2))
    norm = np.sqrt((va ** 2).sum() + (vb ** 2).sum())
    scaled, total = U.total_norm_constraint([a, b], max_norm=0.5 * norm, return_norm=True)
    loose = U.total_norm_constraint([a, b], max_norm=2 * norm)
    f = graphc.function([a, b], scaled + [total] + loose, backend=backend)
    sa, sb, n, la, lb = f(va, vb)
    assert_close(n, norm)
    factor = 0.5 * norm / (1e-7 + norm)
    assert_close(sa, va * factor)
    assert_close(sb, vb * factor)
    # Below the bound, the tensors are (almost) unchanged: norm / (eps + norm).
    assert_close(la, va * norm / (1e-7 + norm))
    assert_close(lb, vb * norm / (1e-7 + norm))


def test_norm_constraint():
    W = np.array([[3.0, 0.1], [4.0, 0.2]])
    f = graphc.function([], U.norm_constraint(graphc.shared(W), 1.0), backend="python")
    out = f()
    norms = np.sqrt((W ** 2).sum(axis=0))
    expected = W * (np.minimum(norms, 1.0) / (1e-7 + norms))
    assert_close(out, expected)
    conv = graphc.shared(np.ones((2, 3, 2, 2)))
    f = graphc.function([], U.norm_constraint(conv, 2.0), backend="python")
    np.testing.assert_allclose(np.sqrt((f() ** 2).sum(axis=(1, 2, 3))), 2.0, rtol=1e-6)
    with pytest.raises(ValueError):
        U.norm_constraint(graphc.shared(np.ones(3)), 1.0)
