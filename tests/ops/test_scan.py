"""Theano's scan (graphc/ops/scan.py): loops against NumPy in float64, gradients against
the same loop unrolled by hand and against finite differences, and the errors.

The value tests compile one graph per backend holding many loops (a numba compile costs
about a second); under numba, Scan runs its Python perform in object mode, by design,
so a FallbackWarning would be a regression.
"""
import pickle

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc.errors import GraphcError, GraphcTypeError, GraphcValueError, ShapeError
from graphc.ops.elemwise import is_elemwise
from graphc.ops.scan import Scan
from conftest import assert_close

pytestmark = pytest.mark.filterwarnings(
    "error::graphc.backends.numba.fallback.FallbackWarning")

R = np.random.default_rng(11)


def _scan_nodes(f):
    return [node for node in f.fgraph.toposort() if isinstance(node.op, Scan)]


def _f64(value):
    return T.constant(value, dtype="float64")


# ---------------------------------------------------------------- values
def test_loops_against_numpy(backend):
    x, A, c = T.dvector("x"), T.dvector("A"), T.dvector("c")
    z, k = T.dscalar("z"), T.lscalar("k")
    x32 = T.fvector("x32")
    outputs = {}
    outputs["cumsum"] = graphc.scan(lambda v, acc: acc + v, sequences=x,
                                    outputs_info=_f64(0.0))[0]
    powers, _ = graphc.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                            non_sequences=A, n_steps=k)
    outputs["power"] = powers[-1]
    outputs["fibonacci"] = graphc.scan(
        lambda a, b: a + b, n_steps=10,
        outputs_info={"initial": np.array([0, 1]), "taps": [-2, -1]})[0]
    outputs["diff"] = graphc.scan(lambda prev, cur: cur - prev,
                                  sequences={"input": x, "taps": [-1, 0]})[0]
    outputs["backwards"] = graphc.scan(lambda v, acc: acc + v, sequences=x,
                                       outputs_info=_f64(0.0), go_backwards=True)[0]
    outputs["laplacian_backwards"] = graphc.scan(
        lambda prev, cur, nxt: prev - 2 * cur + nxt,
        sequences={"input": x, "taps": [-1, 0, 1]}, go_backwards=True)[0]
    outputs["n_steps_bound"] = graphc.scan(lambda v: 2 * v, sequences=x, n_steps=k)[0]
    outputs["map"] = graphc.map(lambda v, a: v * a, sequences=x, non_sequences=z)[0]
    outputs["reduce"] = graphc.reduce(lambda v, acc: acc + v ** 2, x, _f64(0.0))[0]
    outputs["foldl"] = graphc.foldl(lambda v, acc: 10 * acc + v, x, 0.0)[0]
    outputs["foldr"] = graphc.foldr(lambda v, acc: 10 * acc + v, x, 0.0)[0]
    # The Theano tutorial's polynomial: coefficients and exponents as two sequences.
    terms, _ = graphc.scan(lambda coefficient, power, free: coefficient * free ** power,
                           sequences=[c, T.arange(10000)], non_sequences=z)
    outputs["polynomial"] = terms.sum()
    # An output not fed back beside a state: [acc_t, acc_{t-1} * v_t].
    both, _ = graphc.scan(lambda v, acc: [acc + v, acc * v], sequences=x,
                          outputs_info=[_f64(1.0), None])
    outputs["state"], outputs["not_fed_back"] = both
    outputs["float32"] = graphc.scan(lambda v, acc: acc * 0.5 + v, sequences=x32,
                                     outputs_info=T.zeros_like(x32[0]))[0]
    f = graphc.function([x, A, c, z, k, x32], list(outputs.values()), backend=backend)
    xv, Av, cv = R.normal(size=6), R.normal(size=3), R.normal(size=4)
    zv, kv, x32v = 1.7, 4, R.normal(size=5).astype("float32")
    got = dict(zip(outputs, f(xv, Av, cv, zv, kv, x32v)))

    acc, halves = 0.0, []
    for v in x32v.astype("float64"):
        acc = acc * 0.5 + v
        halves.append(acc)
    fib = [0, 1]
    for _ in range(10):
        fib.append(fib[-1] + fib[-2])
    expected = {
        "cumsum": np.cumsum(xv), "power": Av ** kv, "fibonacci": np.array(fib[2:]),
        "diff": np.diff(xv), "backwards": np.cumsum(xv[::-1]),
        "laplacian_backwards": (xv[:-2] - 2 * xv[1:-1] + xv[2:])[::-1],
        "n_steps_bound": 2 * xv[:kv], "map": xv * zv, "reduce": np.sum(xv ** 2),
        "foldl": np.polyval(xv, 10.0), "foldr": np.polyval(xv[::-1], 10.0),
        "polynomial": np.sum(cv * zv ** np.arange(4)),
        "state": 1 + np.cumsum(xv),
        "not_fed_back": np.concatenate([[1.0], 1 + np.cumsum(xv)[:-1]]) * xv,
        "float32": np.array(halves),
    }
    for key, want in expected.items():
        assert np.shape(got[key]) == np.shape(want), key
        assert_close(got[key], want)
    assert got["fibonacci"].dtype == np.int64
    assert got["float32"].dtype == np.float32
    assert got["foldl"].dtype == np.float64    # the Python 0.0 took the output's dtype


def _rnn_step(x_t, h_prev, W, U, b):
    return T.tanh(T.dot(x_t, W) + T.dot(h_prev, U) + b)


def _rnn_values(steps=5, batch=3, n=4):
    return [R.normal(size=(steps, batch, n)), 0.5 * R.normal(size=(n, n)),
            0.5 * R.normal(size=(n, n)), R.normal(size=n), R.normal(size=(batch, n))]


def test_rnn_against_numpy_and_unrolled(backend):
    X, W, U = T.dtensor3("X"), T.dmatrix("W"), T.dmatrix("U")
    b, h0 = T.dvector("b"), T.dmatrix("h0")
    params = [W, U, b, h0, X]
    h, updates = graphc.scan(_rnn_step, sequences=X, outputs_info=h0,
                             non_sequences=[W, U, b], name="rnn")
    assert updates == {}

    def cost(states):
        return (states ** 2).sum() + 3 * states[-1].sum()

    grads = graphc.grad(cost(h), params)
    f = graphc.function([X, W, U, b, h0], [h] + grads, backend=backend)
    values = _rnn_values()
    got = f(*values)

    # The same computation as a Python loop, in NumPy and as a graph.
    Xv, Wv, Uv, bv, hv = values
    states = []
    for x_t in Xv:
        hv = np.tanh(x_t @ Wv + hv @ Uv + bv)
        states.append(hv)
    assert_close(got[0], np.array(states))
    unrolled, h_t = [], h0
    for t in range(len(Xv)):
        h_t = _rnn_step(X[t], h_t, W, U, b)
        unrolled.append(h_t)
    by_hand = graphc.grad(cost(T.stack(unrolled)), params)
    want = graphc.function([X, W, U, b, h0], by_hand, backend="python")(*values)
    for name, g, w in zip("W U b h0 X".split(), got[1:], want):
        assert g.shape == w.shape, name
        assert_close(g, w)


def test_rnn_gradient_finite_differences():
    values = _rnn_values(steps=4, batch=2, n=3)

    def rnn(X, W, U, b, h0):
        return graphc.scan(_rnn_step, sequences=X, outputs_info=h0, non_sequences=[W, U, b])[0]

    graphc.verify_grad(rnn, values, n_tests=1)


def test_taps_gradients_finite_differences():
    def taps(x, init, w):
        # A state read at t-1 and t-3, a sequence read at t-1 and t+1, backwards.
        out, _ = graphc.scan(lambda prev, nxt, a, c, w: T.tanh(w * a + c * nxt + prev),
                             sequences={"input": x, "taps": [-1, 1]},
                             outputs_info={"initial": init, "taps": [-1, -3]},
                             non_sequences=w, go_backwards=True)
        return out

    graphc.verify_grad(taps, [R.normal(size=(7, 2)), R.normal(size=(4, 2)),
                              R.normal(size=2)], n_tests=1)

    def reduced(x, init):
        return graphc.foldr(lambda v, acc: acc * T.sin(v) + v ** 2, x, init)[0]

    graphc.verify_grad(reduced, [R.normal(size=5), np.array(0.3)], n_tests=1)


def test_implicit_shared_variable_and_updates(backend):
    W = graphc.shared(0.5 * R.normal(size=(3, 3)), name="W")
    count = graphc.shared(np.int64(0), name="count")
    X, h0 = T.dmatrix("X"), T.dvector("h0")

    def step(x_t, h):
        # W and count are not passed to fn: they are implicit inputs of the loop.
        return T.tanh(x_t + T.dot(h, 2 * W)), {count: count + 1}

    h, updates = graphc.scan(step, sequences=X, outputs_info=h0)
    assert list(updates) == [count]
    # 2 * W does not change between steps: it is computed once, outside the loop.
    (node,) = [n for n in graphc.graph.toposort([h]) if isinstance(n.op, Scan)]
    assert not any(is_elemwise(out, "mul") for n in node.op.inner.toposort()
                   for out in n.outputs)
    assert any(is_elemwise(v, "mul") and W in v.owner.inputs for v in node.inputs)
    gW = graphc.grad((h ** 2).sum(), W)
    f = graphc.function([X, h0], [h, gW], updates=updates, backend=backend)
    values = [R.normal(size=(4, 3)), R.normal(size=3)]
    got_h, got_gW = f(*values)
    assert int(count.get_value()) == 4
    f(*values)
    assert int(count.get_value()) == 8

    unrolled, h_t = [], h0
    for t in range(4):
        h_t = T.tanh(X[t] + T.dot(h_t, 2 * W))
        unrolled.append(h_t)
    by_hand = T.stack(unrolled)
    want_h, want_gW = graphc.function(
        [X, h0], [by_hand, graphc.grad((by_hand ** 2).sum(), W)], backend="python")(*values)
    assert_close(got_h, want_h)
    assert_close(got_gW, want_gW)


def test_updated_shared_variable_is_read_at_each_step():
    total = graphc.shared(np.float64(1.0), name="total")
    v = T.dvector("v")
    seen, updates = graphc.scan(lambda x_t: (total * 1.0, {total: total + x_t}), sequences=v)
    f = graphc.function([v], seen, updates=updates, backend="python")
    np.testing.assert_allclose(f([1.0, 2.0, 3.0]), [1.0, 2.0, 4.0])
    assert float(total.get_value()) == 7.0


def test_truncated_gradient_is_the_unrolled_loop_cut_before_the_last_steps():
    X, W, h0 = T.dmatrix("X"), T.dmatrix("W"), T.dvector("h0")

    def step(x_t, h, W):
        return T.tanh(x_t + T.dot(h, W))

    h, _ = graphc.scan(step, sequences=X, outputs_info=h0, non_sequences=W,
                       truncate_gradient=2)
    grads = graphc.grad(h[-1].sum(), [X, W, h0])
    h_t = h0
    for t in range(6):
        if t == 4:
            h_t = graphc.gradient.disconnected_grad(h_t)
        h_t = step(X[t], h_t, W)
    by_hand = graphc.grad(h_t.sum(), [X, W])
    values = [R.normal(size=(6, 3)), R.normal(size=(3, 3)), R.normal(size=3)]
    gX, gW, gh0, want_X, want_W = graphc.function(
        [X, W, h0], grads + by_hand, backend="python")(*values)
    assert_close(gX, want_X)
    assert not gX[:4].any()
    assert_close(gW, want_W)
    assert not gh0.any()


def test_zero_steps():
    X, h0, k = T.dmatrix("X"), T.dvector("h0"), T.lscalar("k")

    def step(x_t, h):
        return T.tanh(x_t + h), 2 * x_t

    (h, doubled), _ = graphc.scan(step, sequences=X[:k], outputs_info=[h0, None])
    last, _ = graphc.reduce(lambda x_t, h: T.tanh(x_t + h), X[:k], h0)
    grads = graphc.grad(h.sum() + doubled.sum() + last.sum(), [X, h0])
    f = graphc.function([X, h0, k], [h, doubled, last] + grads, backend="python")
    Xv, h0v = R.normal(size=(5, 3)), R.normal(size=3)
    h_v, doubled_v, last_v, gX, gh0 = f(Xv, h0v, 0)
    assert h_v.shape == (0, 3) and doubled_v.shape == (0, 3)
    assert_close(last_v, h0v)          # a fold over nothing is its initial value
    assert not gX.any()
    assert_close(gh0, np.ones(3))
    assert f(Xv, h0v, 2)[0].shape == (2, 3)


def test_second_order_and_nested_loops():
    def cumulative(x):
        return graphc.scan(lambda v, acc: acc * T.sin(v) + v ** 2, sequences=x,
                           outputs_info=_f64(1.0))[0]

    graphc.verify_grad(lambda x: graphc.grad((cumulative(x) ** 2).sum(), x),
                       [R.normal(size=4)], n_tests=1)

    def nested(M):
        def row_step(row, acc):
            inner, _ = graphc.scan(lambda v, a: 0.5 * a + T.sin(v), sequences=row,
                                   outputs_info=acc)
            return inner[-1]

        return graphc.scan(row_step, sequences=M, outputs_info=T.zeros_like(M[0, 0]))[0]

    graphc.verify_grad(nested, [R.normal(size=(3, 4))], n_tests=1)


def test_random_draws_are_fresh_at_each_step():
    streams = T.random.RandomStreams(3)
    draws, _ = graphc.scan(lambda: streams.uniform((4,)), n_steps=3)
    values = graphc.function([], draws, backend="python")()
    assert values.shape == (3, 4) and len(np.unique(values[:, 0])) == 3


# ------------------------------------------------------------- the graph
def test_scan_is_not_folded_merged_or_run_for_its_shape():
    x = T.dvector("x")
    # All inputs constant: still computed when called, never at compile time.
    doubling, _ = graphc.scan(lambda a: 2 * a, outputs_info=_f64(1.0), n_steps=3)
    f = graphc.function([], doubling, backend="python")
    assert len(_scan_nodes(f)) == 1
    np.testing.assert_allclose(f(), [2.0, 4.0, 8.0])
    # Two loops over the same input stay two loops.
    a, _ = graphc.scan(lambda v: v + 1, sequences=x)
    b, _ = graphc.scan(lambda v: v * 2, sequences=x)
    f = graphc.function([x], [a, b], backend="python")
    assert len(_scan_nodes(f)) == 2
    np.testing.assert_allclose(f([1.0, 2.0])[1], [2.0, 4.0])
    # The length of a loop's output is known without running it (infer_shape).
    squares, _ = graphc.map(lambda v: v ** 2, sequences=x)
    f = graphc.function([x], squares.shape[0], backend="python")
    assert not _scan_nodes(f)
    assert int(f([1.0, 2.0, 3.0])) == 3


def test_debugprint_and_pickle():
    x = T.dvector("x")
    h, _ = graphc.scan(lambda v, acc: acc + T.exp(v), sequences=x,
                       outputs_info=T.zeros_like(x[0]), name="running")
    text = graphc.debugprint(h, file="str")
    assert "Scan{running}" in text and "Inner graphs:" in text
    assert text.count("Elemwise{exp}") == 1 and "x[t]" in text
    f = graphc.function([x], [h, graphc.grad(h.sum(), x)], backend="python")
    again = pickle.loads(pickle.dumps(f))
    for got, want in zip(again([0.0, 1.0]), f([0.0, 1.0])):
        assert_close(got, want)


# ------------------------------------------------------------------ errors
def test_errors_when_building():
    X, h0, h0_32 = T.dmatrix("X"), T.dvector("h0"), T.fvector("h0_32")
    with pytest.raises(GraphcTypeError, match=r"output 0 of fn has dtype float64.*"
                                              r"outputs_info\[0\] \('h0_32'\) has dtype float32"):
        graphc.scan(lambda x_t, h: h + x_t, sequences=X, outputs_info=h0_32)
    with pytest.raises(GraphcTypeError, match=r"output 0 of fn has ndim 2.*has ndim 1"):
        graphc.scan(lambda x_t, h: h + x_t, sequences=T.dtensor3(), outputs_info=h0)
    with pytest.raises(ShapeError, match=r"shape \(3,\).*shape \(4,\)"):
        graphc.scan(lambda h: T.zeros((3,), dtype="float64"), n_steps=2,
                    outputs_info=T.zeros((4,), dtype="float64"))
    with pytest.raises(GraphcValueError, match="returned 2 output"):
        graphc.scan(lambda x_t, h: [h + x_t, h], sequences=X, outputs_info=h0)
    with pytest.raises(GraphcValueError, match="no sequences and no n_steps"):
        graphc.scan(lambda h: h, outputs_info=h0)
    with pytest.raises(GraphcValueError, match="go_backwards"):
        graphc.scan(lambda h: h, outputs_info=h0, n_steps=-1)
    with pytest.raises(GraphcValueError, match="negative"):
        graphc.scan(lambda h: h, outputs_info={"initial": X, "taps": [1]}, n_steps=2)
    with pytest.raises(GraphcTypeError, match="leading axis"):
        graphc.scan(lambda a, b: a + b, outputs_info={"initial": T.dscalar(), "taps": [-2, -1]},
                    n_steps=2)
    with pytest.raises(GraphcTypeError, match="scalar"):
        graphc.scan(lambda v: v, sequences=T.dscalar("s"))
    W = graphc.shared(np.ones(3), name="W")
    with pytest.raises(GraphcValueError, match="strict.*'W'"):
        graphc.scan(lambda h: h * W, outputs_info=h0, n_steps=2, strict=True)
    assert graphc.scan(lambda h, W: h * W, outputs_info=h0, n_steps=2, strict=True,
                       non_sequences=W)[0].ndim == 2


def test_errors_when_running():
    h0, k = T.dvector("h0"), T.lscalar("k")
    # The state grows by one element a step: it must keep its initial shape.
    grows, _ = graphc.scan(lambda h: T.concatenate([h, h[:1]]), outputs_info=h0, n_steps=2)
    with pytest.raises(ShapeError, match=r"step 0.*shape \(3,\).*shape \(2,\)"):
        graphc.function([h0], grows, backend="python")([1.0, 2.0])
    steps, _ = graphc.scan(lambda h: h * 2, outputs_info=h0, n_steps=k)
    with pytest.raises(GraphcValueError, match="-1"):
        graphc.function([h0, k], steps, backend="python")([1.0], -1)
    # An error inside the loop names the step and where fn built the failing node.
    M = T.dmatrix("M")
    bad, _ = graphc.scan(lambda v, h: h + T.dot(v, h), sequences=M, outputs_info=h0)
    with pytest.raises(GraphcError, match=r"step 0 of 2.*test_scan.py"):
        graphc.function([M, h0], bad, backend="python")(np.ones((2, 3)), [1.0, 2.0])


# ------------------------------------------------------------ while loops (until)
def _run_until(values, theta, limit):
    """The reference: acc += x_t * theta until acc > limit; rows of (acc, acc**2)."""
    acc, rows = 0.0, []
    for v in values:
        acc += v * theta
        rows.append(acc)
        if acc > limit:
            break
    rows = np.array(rows)
    return rows, rows ** 2


def test_until_stops_after_the_first_true_step(backend):
    from graphc.scan_module import until
    x, theta, limit = T.dvector("x"), T.dscalar("theta"), T.dscalar("limit")

    def step(x_t, acc):
        new = acc + x_t * theta
        return [new, new ** 2], until(new > limit)
    (acc, sq), _ = graphc.scan(step, sequences=x, outputs_info=[_f64(0.0), None])
    # A reduce over the same loop keeps the last state only; a shared variable
    # updated by the loop takes its value after the last step run.
    count = graphc.shared(np.int64(0), name="count")
    last, updates = graphc.reduce(
        lambda x_t, acc: (acc + x_t * theta, {count: count + 1}, until(acc + x_t * theta > limit)),
        sequences=x, outputs_info=_f64(0.0))
    cost = sq.sum() + acc[-1]
    f = graphc.function([x, theta, limit], [acc, sq, acc.shape[0], last, cost,
                                            graphc.grad(cost, theta)],
                        updates=updates, backend=backend)
    values = R.uniform(0.5, 1.5, 12)
    for theta_value, limit_value in [(1.0, 3.0), (0.5, 2.0), (1.0, 100.0), (-1.0, 0.0)]:
        count.set_value(np.int64(0))
        got_acc, got_sq, got_len, got_last, got_cost, got_grad = f(values, theta_value,
                                                                   limit_value)
        rows, squares = _run_until(values, theta_value, limit_value)
        assert_close(got_acc, rows)
        assert_close(got_sq, squares)
        assert got_len == len(rows) == count.get_value()
        assert_close(got_last, rows[-1])
        # The gradient of the steps run (the stopping step does not move for small eps).
        eps = 1e-6
        numeric = [(_run_until(values, theta_value + s, limit_value)) for s in (eps, -eps)]
        numeric = [sq_.sum() + rows_[-1] for rows_, sq_ in numeric]
        assert_close(got_cost, squares.sum() + rows[-1])
        np.testing.assert_allclose(got_grad, (numeric[0] - numeric[1]) / (2 * eps), rtol=1e-6)


def test_until_with_n_steps_only_and_its_forms():
    from graphc.scan_module import until
    # Theano's collatz-style loop: n_steps is the bound, fn returns (output, until).
    p0 = T.lscalar("p0")
    powers, _ = graphc.scan(lambda p: (2 * p, until(2 * p > 100)), outputs_info=p0,
                            n_steps=1000)
    f = graphc.function([p0], powers, backend="python")
    np.testing.assert_array_equal(f(1), [2, 4, 8, 16, 32, 64, 128])
    np.testing.assert_array_equal(f(1000), [2000])
    bounded, _ = graphc.scan(lambda p: (2 * p, until(2 * p > 100)), outputs_info=p0, n_steps=3)
    np.testing.assert_array_equal(graphc.function([p0], bounded, backend="python")(1), [2, 4, 8])
    # An integer condition means "nonzero"; the node says it is a while loop.
    h0 = T.dvector("h0")
    halves, _ = graphc.scan(lambda h: [h / 2, until(T.cast(h[0] / 2 < 1, "int8"))],
                            outputs_info=h0, n_steps=50)
    g = graphc.function([h0], halves, backend="python")
    np.testing.assert_array_equal(g([8.0, 1.0]), [[4.0, 0.5], [2.0, 0.25], [1.0, 0.125],
                                                  [0.5, 0.0625]])
    assert "Scan(while)" in graphc.debugprint(g, file="str")
    with pytest.raises(GraphcValueError, match="2 stopping conditions"):
        graphc.scan(lambda h: [h, until(h[0] > 0), until(h[1] > 0)], outputs_info=h0,
                    n_steps=2)
    with pytest.raises(GraphcTypeError, match="until.*scalar"):
        graphc.scan(lambda h: [h, until(h > 0)], outputs_info=h0, n_steps=2)


def test_non_sequences_reach_fn_as_themselves(backend):
    # Theano's docs compute a Jacobian with scan, differentiating inside fn with
    # respect to a non-sequence; and fn may update a shared non-sequence.
    x = T.dvector("x")
    y = x ** 2
    J, _ = graphc.scan(lambda i, y, x: graphc.grad(y[i], x), sequences=T.arange(y.shape[0]),
                       non_sequences=[y, x])
    xv = np.array([4.0, -1.5, 2.0])
    assert_close(graphc.function([x], J, backend=backend)(xv), np.diag(2 * xv))
    W = graphc.shared(np.float64(0.5), name="W")
    _, updates = graphc.scan(lambda W: {W: W * 2 + 1}, non_sequences=[W], n_steps=3)
    graphc.function([], [], updates=updates, backend=backend)()
    assert W.get_value() == ((0.5 * 2 + 1) * 2 + 1) * 2 + 1
    # strict=True counts an expression given as a non-sequence as given.
    doubled, _ = graphc.scan(lambda h, y: h + y, outputs_info=_f64(0.0), non_sequences=[y.sum()],
                             n_steps=2, strict=True)
    assert_close(graphc.function([x], doubled, backend=backend)(xv), [(xv ** 2).sum(),
                                                                      2 * (xv ** 2).sum()])
