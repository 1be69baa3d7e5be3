"""Theano and Lasagne spellings that ported code uses, against NumPy references."""
import warnings

import numpy as np
import pytest

import graphc
import graphc.nn as lasagne
import graphc.tensor as T
from graphc.errors import GraphcError, GraphcTypeError, GraphcValueError, ShapeError
from graphc.ifelse import ifelse
from graphc.tensor.extra_ops import to_one_hot


def test_reductions_take_dtype_and_acc_dtype(backend):
    # Lasagne's mnist.py: T.mean(T.eq(T.argmax(p, axis=1), t), dtype=floatX).
    p, t = T.fmatrix("p"), T.ivector("t")
    b = T.bvector("b")
    acc = T.mean(T.eq(T.argmax(p, axis=1), t), dtype=graphc.config.floatX)
    total = T.sum(b, acc_dtype="int64")
    product = b.prod(dtype="float64")
    spread = T.var(p, axis=0, corrected=True)
    f = graphc.function([p, t, b], [acc, total, product, spread, p.std(ddof=1)],
                        backend=backend)
    pv = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], "float32")
    bv = np.array([100, 100, 3], "int8")
    got = f(pv, np.array([1, 1, 1], "int32"), bv)
    assert got[0].dtype == graphc.config.floatX and np.isclose(got[0], 2 / 3)
    assert got[1].dtype == np.int64 and got[1] == 203   # no int8 wraparound
    assert got[2].dtype == np.float64 and got[2] == 30000.0
    np.testing.assert_allclose(got[3], pv.astype("float64").var(axis=0), rtol=1e-6)
    np.testing.assert_allclose(got[4], pv.astype("float64").std(ddof=1), rtol=1e-6)


def test_shape_unpacks_and_stack_takes_separate_arguments(backend):
    x, t4 = T.dmatrix("x"), T.tensor4("t4")
    n, m = x.shape
    b, c, h, w = t4.shape
    f = graphc.function([x, t4], [n * m, T.stack(n, m), T.stack([b, c, h, w])],
                        backend=backend)
    area, pair, four = f(np.ones((2, 3)), np.ones((1, 2, 3, 4), "float32"))
    assert area == 6 and list(pair) == [2, 3] and list(four) == [1, 2, 3, 4]
    with pytest.raises(GraphcTypeError, match="only known when called"):
        a, b = T.dvector("v")


def test_broadcastable_patterns_mean_what_they_meant_in_theano(backend):
    # T.tensor(dtype, broadcastable): False is "any length", not a length of 0.
    v = T.tensor("float64", (False, False), name="v")
    row = T.TensorType("float64", (True, False))("row")
    col = T.tensor("float64", broadcastable=(False, True))
    assert v.type.shape == (None, None) and row.broadcastable == (True, False)
    assert col.type == T.TensorType("float64", broadcastable=(False, True))
    f = graphc.function([v, row, col], v * 2 + row + col, backend=backend)
    vv = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(f(vv, np.ones((1, 3)), np.ones((2, 1))), vv * 2 + 2)
    with pytest.raises(ShapeError):
        f(vv, np.ones((2, 3)), np.ones((2, 1)))


def test_shared_takes_broadcastable_and_strict():
    # Lasagne's updates: theano.shared(np.zeros(shape), broadcastable=param.broadcastable).
    param = graphc.shared(np.zeros((1, 3), "float32"), broadcastable=(True, False))
    velocity = graphc.shared(np.zeros((1, 3), "float32"), broadcastable=param.broadcastable)
    assert velocity.broadcastable == (True, False) and velocity.type.shape == (1, None)
    assert graphc.shared(0.5, strict=True).dtype == "float64"
    assert graphc.shared(0.5).dtype == graphc.config.floatX


def test_symbolic_counts_for_tile_repeat_and_reshape(backend):
    v, i, m, sh = T.dvector("v"), T.lscalar("i"), T.dmatrix("m"), T.lvector("sh")
    outs = [T.tile(v, (i,)), T.tile(v, 3), T.tile(m, (2, i)), T.tile(m, (i, 1, 2)),
            T.repeat(v, i), m.repeat(i, axis=1), m.reshape(sh, ndim=2)]
    f = graphc.function([v, i, m, sh], outs, backend=backend)
    vv, mv = np.arange(3.0), np.arange(6.0).reshape(2, 3)
    want = [np.tile(vv, 2), np.tile(vv, 3), np.tile(mv, (2, 2)), np.tile(mv, (2, 1, 2)),
            np.repeat(vv, 2), np.repeat(mv, 2, axis=1), mv.reshape(3, 2)]
    for got, expected in zip(f(vv, 2, mv, np.array([3, 2])), want):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ShapeError, match="3 entries.*expects 2"):
        f(vv, 2, mv, np.array([3, 2, 1]))
    # The gradient flows through the symbolic forms: d/dv (2 sum v)^2 = 8 sum v.
    cost = T.tile(v, (i,)).sum() * T.repeat(v, i).sum()
    g = graphc.function([v, i], graphc.grad(cost, v), backend=backend)
    np.testing.assert_allclose(g(vv, 2), np.full(3, 8 * vv.sum()))
    with pytest.raises(GraphcTypeError, match="vector of counts"):
        T.repeat(v, T.lmatrix())


def test_theano_aliases(backend, rng):
    x, y = T.dmatrix("x"), T.ivector("y")
    top, where = T.max_and_argmax(x, axis=1)
    outs = [T.abs_(x), T.shape_padleft(y).shape, T.shape_padright(x, 2).shape,
            T.shape_padaxis(y, 1).shape, top, where, T.iround(x * 3), T.eye(3, 4, k=1),
            to_one_hot(y, 4), T.nnet.crossentropy_categorical_1hot(T.nnet.softmax(x), y),
            ifelse(T.lt(x.sum(), 0), x, -x), T.arange(0, 1, 0.25)]
    f = graphc.function([x, y], outs, backend=backend)
    xv = rng.normal(size=(2, 4))
    yv = np.array([3, 0], "int32")
    got = f(xv, yv)
    e = np.exp(xv - xv.max(axis=1, keepdims=True))
    soft = e / e.sum(axis=1, keepdims=True)
    want = [np.abs(xv), [1, 2], [2, 4, 1, 1], [2, 1], xv.max(axis=1), xv.argmax(axis=1),
            np.round(xv * 3), np.eye(3, 4, k=1), np.eye(4)[yv], -np.log(soft[[0, 1], yv]),
            xv if xv.sum() < 0 else -xv, np.arange(0, 1, 0.25)]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert got[6].dtype == np.int64 and got[-1].dtype == graphc.config.floatX
    r = T.dmatrix("r")
    row = T.addbroadcast(r, 0)
    assert row.broadcastable == (True, False)
    h = graphc.function([r], row * 2, backend=backend)
    np.testing.assert_array_equal(h(np.ones((1, 3))), np.full((1, 3), 2.0))
    with pytest.raises(ShapeError):
        h(np.ones((2, 3)))


def test_numpy_spellings_take_identity_like_second_and_bitwise(backend, rng):
    a, i, m = T.dmatrix("a"), T.lvector("i"), T.imatrix("m")
    f = graphc.function([a, i, m], [T.take(a, i), T.take(a, i, axis=-1), T.identity_like(a),
                                    T.second(a, 3.0), T.bitwise_and(m, 6), T.bitwise_or(m, 1),
                                    T.bitwise_xor(m, 3)], backend=backend)
    av, iv = rng.normal(size=(2, 3)), np.array([2, 0, 2])
    mv = np.arange(-2, 4, dtype="int32").reshape(2, 3)
    want = [np.take(av, iv), np.take(av, iv, axis=-1), np.eye(2, 3), np.full((2, 3), 3.0),
            mv & 6, mv | 1, mv ^ 3]
    for got, expected in zip(f(av, iv, mv), want):
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype


def test_booleans_refuse_minus_as_numpy_does():
    flags = T.ivector("a") > 0
    with pytest.raises(GraphcTypeError, match="~"):
        -flags
    with pytest.raises(GraphcTypeError, match=r"\^"):
        flags - (T.ivector("b") > 1)
    assert (flags - 1).dtype == "int64"     # booleans with a number are fine


def test_out_of_range_python_ints_are_graphc_errors():
    with pytest.raises(GraphcTypeError, match="300 does not fit int8"):
        T.bvector("b") * 300


def test_lasagne_layer_errors_are_graphc_errors():
    l_in = lasagne.layers.InputLayer((None, 5))
    with pytest.raises(GraphcValueError):
        lasagne.layers.DenseLayer(l_in, 3, W=np.ones((4, 3), "float32"))
    with pytest.raises(GraphcValueError):
        lasagne.layers.DenseLayer(l_in, 0)
    with pytest.raises(GraphcValueError):
        lasagne.layers.InputLayer((None, 4), input_var=T.tensor3())
    with pytest.raises(GraphcValueError):
        lasagne.layers.Conv2DLayer(l_in, 2, 3)
    net = lasagne.layers.DenseLayer(l_in, 3)
    with pytest.raises(ValueError):      # still a ValueError, as Lasagne's
        lasagne.layers.set_all_param_values(net, [np.ones((5, 3), "float32")])
    with pytest.raises(GraphcError):
        lasagne.layers.set_all_param_values(net, [np.ones((4, 3), "float32"),
                                                  np.ones(3, "float32")])


# ------------------------------------------------------------------ theano.clone
def test_clone_replaces_inputs_and_intermediates(backend):
    x, z = T.dscalars("x", "z")
    h = x * 2
    h.name = "h"
    y = h + 1
    by_input = graphc.clone(y, replace={x: z})
    (by_middle,) = graphc.clone([y], replace=[(h, z)])        # pairs, a list back
    both = graphc.clone_replace(y, replace={x: z, h: np.float64(10.0)})   # h's wins
    copy = graphc.clone(y)
    assert copy is not y and copy.owner is not y.owner and copy.owner.inputs[0].name == "h"
    assert graphc.clone_replace is graphc.clone
    fresh = graphc.clone(y, share_inputs=False)
    assert x not in graphc.graph.graph_inputs([fresh])
    with pytest.raises(GraphcTypeError, match="strict=False"):
        graphc.clone(y, replace={x: T.iscalar("i")})
    loose = graphc.clone(y, replace={x: T.iscalar("i")}, strict=False)
    assert loose.dtype == "float64"
    f = graphc.function([x, z], [y, by_input, by_middle, both, copy], backend=backend)
    assert [float(v) for v in f(1.0, 3.0)] == [3.0, 7.0, 4.0, 11.0, 3.0]
    # An alias of a shared variable reads the same storage.
    s = graphc.shared(np.float64(2.0), name="s")
    assert float(graphc.clone(s * 3, share_inputs=False).eval()) == 6.0


# ------------------------------------------------------------- In, Param, Out
def test_in_defaults_and_keywords(backend):
    x, y, w = T.dscalars("x", "y", "w")
    f = graphc.function([x, graphc.In(y, value=1.5), graphc.Param(w, name="scale", value=2.0)],
                        [graphc.Out(x + y, borrow=True), x * w], backend=backend)
    assert [float(v) for v in f(2.0)] == [3.5, 4.0]
    assert [float(v) for v in f(2.0, 0.5)] == [2.5, 4.0]
    assert [float(v) for v in f(x=2.0, y=4.0, scale=3.0)] == [6.0, 6.0]
    assert [float(v) for v in f(2.0, scale=0.5)] == [3.5, 1.0]
    with pytest.raises(GraphcTypeError, match=r"missing input 0 \('x'"):
        f(y=1.0)
    with pytest.raises(GraphcTypeError, match="no input named 'w'"):
        f(1.0, w=1.0)        # a named In answers to its own name
    with pytest.raises(GraphcTypeError, match="default value: input 1"):
        graphc.function([x, graphc.In(T.dvector("v"), value=1.0)], x, on_unused_input="ignore")
    # An implicit input is not positional: its default, or a keyword.
    k = T.dscalar("k")
    g = graphc.function([graphc.In(k, value=3.0, implicit=True), x], x * k, backend=backend)
    assert float(g(2.0)) == 6.0 and float(g(2.0, k=1.0)) == 2.0
    with pytest.raises(GraphcTypeError, match="takes 1 inputs"):
        g(2.0, 1.0)


# ------------------------------------------------------------------ mode=
def test_mode_strings_and_objects(backend):
    import graphc.compile.mode
    from graphc.compile.mode import get_mode

    x = T.dvector("x")
    e = T.log(1 + T.exp(x)) * 2
    want = 2 * np.log(2.0)

    def ops(f):
        return [type(n.op).__name__ for n in f.fgraph.toposort()]

    fast = graphc.function([x], e, mode="FAST_RUN", backend=backend)
    compile_only = graphc.function([x], e, mode="FAST_COMPILE", backend=backend)
    mode = graphc.Mode(optimizer="fast_run").excluding("local_elemwise_fusion", "gpu")
    unfused = graphc.function([x], e, mode=mode, backend=backend)
    for f in (fast, compile_only, unfused):
        np.testing.assert_allclose(f([0.0]), [want])
    assert ops(fast) == ["Elemwise"] and len(ops(compile_only)) == 4
    assert [str(n.op) for n in unfused.fgraph.toposort()][0] == "softplus"
    # Modes are values: including/excluding give new ones.
    base = graphc.compile.mode.get_default_mode()
    assert base.settings()["excluding"] == () and mode.settings()["excluding"] == ("fusion",)
    assert get_mode("FAST_COMPILE").including("fast_run").optimizer == "fast_run"
    assert get_mode("DebugMode").optimizer is None and get_mode(mode) is mode
    assert graphc.Mode(linker="py").settings()["backend"] == "python"
    with pytest.raises(GraphcValueError, match="FAST_RUN"):
        graphc.function([x], e, mode="FAST")
    with pytest.raises(GraphcValueError, match="no rewrite 'nope'"):
        base.including("nope")
    with pytest.raises(GraphcValueError, match="unknown linker"):
        graphc.Mode(linker="gpu")


# ------------------------------------------------------------- printing.Print
def test_print_prints_at_every_run(backend, capsys):
    from graphc.backends.numba.fallback import FallbackWarning
    from graphc.printing import Print

    x = T.dvector("x")
    shown = Print("doubled", attrs=("shape", "__str__"))(x * 2)
    const = Print("const")(T.constant(np.array([1.0, 2.0])))
    cost = (shown * shown).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        f = graphc.function([x], [shown + const, graphc.grad(cost, x)], backend=backend)
        out, gx = f(np.array([1.0, 3.0]))
        f(np.array([0.5, 0.5]))
    np.testing.assert_array_equal(out, [3.0, 8.0])
    np.testing.assert_array_equal(gx, 8 * np.array([1.0, 3.0]))   # passes through
    lines = capsys.readouterr().out.splitlines()
    assert lines.count("const __str__ = [1. 2.]") == 2      # never constant-folded
    assert "doubled shape = (2,)" in lines and "doubled __str__ = [2. 6.]" in lines
    assert "doubled __str__ = [1. 1.]" in lines
    assert sum("doubled" in line for line in lines) == 4     # the gradient prints nothing


# --------------------------------------------------------------- printing.pp
def test_pp_writes_infix_expressions():
    x, y = T.dvectors("x", "y")
    m = T.dmatrix("m")
    assert graphc.pp((x + y) * 2) == "((x + y) * TensorConstant{2.0})"
    assert graphc.printing.pp(-T.exp(x) / y) == "(-exp(x) / y)"
    assert graphc.pp(T.dot(m.T, x)[1:3]) == "(m.T \\dot x)[1:3]"
    text = graphc.pp(T.nnet.softmax(m).sum(axis=1))
    assert isinstance(text, str) and "Softmax" in text and "m" in text
    assert graphc.pp([x, y]) == "x\ny"


# ------------------------------------------------------------- tensor.nlinalg
def test_nlinalg_matches_numpy_with_gradients(backend, rng):
    from graphc.backends.numba.fallback import FallbackWarning
    from graphc.tensor import nlinalg

    a = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    r = rng.normal(size=(4, 3))
    g, c = rng.normal(size=(3, 3)), rng.normal(size=(3, 4))
    X, R = T.dmatrices("X", "R")
    inv, det, pinv = nlinalg.matrix_inverse(X), nlinalg.det(X), nlinalg.pinv(R)
    cost = (inv * g).sum() + det + (pinv * c).sum()
    outs = [inv, det, pinv, nlinalg.trace(X), nlinalg.diag(X), graphc.dot(X, R.T),
            *graphc.grad(cost, [X, R])]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        f = graphc.function([X, R], outs, backend=backend)
        got = f(a, r)
    ai, rp = np.linalg.inv(a), np.linalg.pinv(r)
    # Gradients: -inv^T G inv^T + det inv^T for X; Golub-Pereyra's formula for R.
    gx = -ai.T @ g @ ai.T + np.linalg.det(a) * ai.T
    gr = (-rp.T @ c @ rp.T + (np.eye(4) - r @ rp) @ c.T @ rp @ rp.T
          + rp.T @ rp @ c.T @ (np.eye(3) - rp @ r))
    want = [ai, np.linalg.det(a), rp, np.trace(a), np.diag(a), a @ r.T, gx, gr]
    for value, expected in zip(got, want):
        np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-12)
    assert nlinalg.matrix_inverse(T.imatrix()).dtype == graphc.config.floatX
    with pytest.raises(ShapeError, match="square"):
        nlinalg.det(T.tensor("float64", (2, 3)))
    with pytest.raises(GraphcValueError, match="singular"):
        f(np.ones((3, 3)), r)
    with pytest.raises(ShapeError, match=r"square matrix, got shape \(3, 2\)"):
        f(np.ones((3, 2)), r)
    if backend == "python":     # finite differences (float64, the reference backend)
        for fn, point in [(nlinalg.matrix_inverse, a), (nlinalg.det, a), (nlinalg.pinv, r)]:
            graphc.verify_grad(fn, [point], rng=rng)


def test_ifelse_returns_the_chosen_branch_as_it_is(backend):
    # Theano's IfElse does not broadcast: the branches may differ in shape.
    c, a, b = T.iscalar("c"), T.fvector("a"), T.fvector("b")
    s = T.dscalar("s")
    outs = [ifelse(T.gt(c, 0), a, b), ifelse(c, s, 2.0), ifelse(c, a, 0.0)]
    outs += ifelse(T.lt(c, 0), [a, s], [b, s * 2])
    f = graphc.function([c, a, b, s], outs, backend=backend)
    av, bv = np.ones(1, "float32"), np.arange(4, dtype="float32")
    taken = f(1, av, bv, 3.0)
    assert [np.shape(v) for v in taken] == [(1,), (), (1,), (4,), ()]
    np.testing.assert_array_equal(taken[0], av)
    other = f(0, av, bv, 3.0)
    np.testing.assert_array_equal(other[0], bv)
    np.testing.assert_array_equal(other[2], [0.0])
    assert float(other[1]) == 2.0 and float(other[4]) == 6.0
    # The gradient flows to the branch taken only.
    x = T.dvector("x")
    g = graphc.function([c, x], graphc.grad(ifelse(c, (x ** 2).sum(), x.sum()), x),
                        backend=backend)
    np.testing.assert_array_equal(g(1, [1.0, 2.0]), [2.0, 4.0])
    np.testing.assert_array_equal(g(0, [1.0, 2.0]), [1.0, 1.0])
    with pytest.raises(graphc.GraphcError, match="same ndim"):
        ifelse(c, a, T.fmatrix())


def test_xlogx_and_xlogy0_are_zero_at_zero(backend):
    x, y = T.dvectors("x", "y")
    outs = [T.xlogx.xlogx(x), T.xlogx.xlogy0(x, y), graphc.grad(T.xlogx.xlogx(x).sum(), x),
            graphc.grad(T.xlogx.xlogy0(x, y).sum(), y)]
    f = graphc.function([x, y], outs, backend=backend)
    xv, yv = np.array([0.0, 0.5, 2.0]), np.array([0.0, 3.0, 0.5])
    value, value_y, slope, slope_y = f(xv, yv)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(value, np.where(xv == 0, 0, xv * np.log(xv)), rtol=1e-12)
        np.testing.assert_allclose(value_y, np.where(xv == 0, 0, xv * np.log(yv)), rtol=1e-12)
    np.testing.assert_allclose(slope, [0.0, np.log(0.5) + 1, np.log(2.0) + 1], rtol=1e-12)
    np.testing.assert_allclose(slope_y, [0.0, 0.5 / 3.0, 2.0 / 0.5], rtol=1e-12)

