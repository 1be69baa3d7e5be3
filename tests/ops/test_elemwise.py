"""Elementwise ops: values against NumPy float64, dtype rules, broadcasting, IEEE values.

Each test builds one graph with many outputs where it can, so that the numba
backend compiles a handful of modules rather than hundreds.
"""
import math

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc import config
from conftest import assert_close

# name -> (NumPy float64 reference, domain of the test points)
UNARY = {
    "exp": (np.exp, (-3, 3)),
    "log": (np.log, (0.1, 5)),
    "log1p": (np.log1p, (-0.9, 5)),
    "expm1": (np.expm1, (-3, 3)),
    "log2": (np.log2, (0.1, 5)),
    "log10": (np.log10, (0.1, 5)),
    "sqrt": (np.sqrt, (0.0, 5)),
    "sqr": (np.square, (-3, 3)),
    "abs": (np.abs, (-3, 3)),
    "sgn": (np.sign, (-3, 3)),
    "neg": (np.negative, (-3, 3)),
    "inv": (np.reciprocal, (0.5, 3)),
    "floor": (np.floor, (-3, 3)),
    "ceil": (np.ceil, (-3, 3)),
    "tanh": (np.tanh, (-3, 3)),
    "sinh": (np.sinh, (-3, 3)),
    "cosh": (np.cosh, (-3, 3)),
    "sin": (np.sin, (-3, 3)),
    "cos": (np.cos, (-3, 3)),
    "arcsin": (np.arcsin, (-0.99, 0.99)),
    "arccos": (np.arccos, (-0.99, 0.99)),
    "arctan": (np.arctan, (-3, 3)),
    "erf": (np.vectorize(math.erf), (-3, 3)),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-10, 10)),
    "softplus": (lambda x: np.log1p(np.exp(x)), (-10, 10)),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_functions_match_numpy(backend, rng, dtype):
    # One input per function (each with its own domain), one graph for all of them.
    names = sorted(UNARY)
    xs = [T.tensor(dtype, shape=(None, None), name=n) for n in names]
    outs = [getattr(T, n)(x) for n, x in zip(names, xs)]
    f = graphc.function(xs, outs, backend=backend)
    values = [rng.uniform(*UNARY[n][1], size=(3, 4)).astype(dtype) for n in names]
    for name, value, result in zip(names, values, f(*values)):
        assert result.dtype == dtype, name
        assert result.shape == (3, 4), name
        assert_close(result, UNARY[name][0](value.astype("float64")), dtype)


def test_round_is_half_to_even(backend):
    x = T.dvector("x")
    f = graphc.function([x], [T.round(x), T.floor(x), T.ceil(x)], backend=backend)
    v = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6])
    r, fl, ce = f(v)
    np.testing.assert_array_equal(r, np.round(v))
    np.testing.assert_array_equal(fl, np.floor(v))
    np.testing.assert_array_equal(ce, np.ceil(v))


def test_binary_functions_with_broadcasting(backend, rng):
    # (3, 1) against (4,): the NumPy result has shape (3, 4).
    a = T.dmatrix("a")
    b = T.dvector("b")
    outs = [a + b, a - b, a * b, a / b, a ** 2, T.maximum(a, b), T.minimum(a, b),
            T.pow(abs(a), b), 2 - a, 3 / b, b * a, T.add(a, b), T.sub(a, b), T.mul(a, b),
            T.true_div(a, b)]
    f = graphc.function([a, b], outs, backend=backend)
    av = rng.uniform(0.5, 2, size=(3, 1))
    bv = rng.uniform(-2, 2, size=4)
    expected = [av + bv, av - bv, av * bv, av / bv, av ** 2, np.maximum(av, bv),
                np.minimum(av, bv), np.abs(av) ** bv, 2 - av, 3 / bv, bv * av, av + bv,
                av - bv, av * bv, av / bv]
    for k, (got, want) in enumerate(zip(f(av, bv), expected)):
        assert np.shape(got) == np.shape(want), k
        assert_close(got, want)


def test_run_time_broadcast_of_shared_row(backend, rng):
    # The shared variable's static shape is (None, None); its value (1, n) must broadcast
    # at call time, as the NumPy array it holds would.
    row = rng.normal(size=(1, 4))
    s = graphc.shared(row, name="s")
    x = T.dmatrix("x")
    f = graphc.function([x], [x + s, s * x, (x - s).sum(axis=0)], backend=backend)
    xv = rng.normal(size=(3, 4))
    r1, r2, r3 = f(xv)
    assert_close(r1, xv + row)
    assert_close(r2, row * xv)
    assert_close(r3, (xv - row).sum(axis=0))
    # A (3, 1) input against a (1, 4) shared value: both stretch.
    col = rng.normal(size=(3, 1))
    assert_close(f(col)[0], col + row)


def test_run_time_broadcast_incompatible_shapes_raise(backend):
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = graphc.function([x, y], x + y, backend=backend)
    with pytest.raises(graphc.GraphcError, match=r"\(2, 3\).*\(2, 4\)|\(2, 4\).*\(2, 3\)"):
        f(np.zeros((2, 3)), np.zeros((2, 4)))


def test_integer_division_and_modulo_follow_python_signs(backend):
    a = T.ivector("a")
    b = T.ivector("b")
    f = graphc.function([a, b], [a // b, a % b, T.floor_div(a, b), T.mod(a, b)],
                        backend=backend)
    av = np.array([7, -7, 7, -7, 0, 5], dtype="int32")
    bv = np.array([2, 2, -2, -2, 3, -3], dtype="int32")
    q, r, q2, r2 = f(av, bv)
    assert q.dtype == "int32" and r.dtype == "int32"
    np.testing.assert_array_equal(q, [7 // 2, -7 // 2, 7 // -2, -7 // -2, 0, 5 // -3])
    np.testing.assert_array_equal(r, [7 % 2, -7 % 2, 7 % -2, -7 % -2, 0, 5 % -3])
    np.testing.assert_array_equal(q2, q)
    np.testing.assert_array_equal(r2, r)


def test_float_floor_division_and_modulo_signs(backend):
    a = T.dvector("a")
    b = T.dvector("b")
    f = graphc.function([a, b], [a // b, a % b], backend=backend)
    av = np.array([7.5, -7.5, 7.5, -7.5])
    bv = np.array([2.0, 2.0, -2.0, -2.0])
    q, r = f(av, bv)
    np.testing.assert_array_equal(q, np.floor_divide(av, bv))
    np.testing.assert_array_equal(r, np.mod(av, bv))


def test_true_division_of_integers_gives_floatX(backend):
    a = T.ivector("a")
    b = T.ivector("b")
    c = T.lvector("c")
    outs = [a / b, c / 2, a / 2, T.true_div(c, c)]
    for out in outs:
        assert out.dtype == config.floatX
    f = graphc.function([a, b, c], outs, backend=backend)
    av = np.array([1, -7, 3], dtype="int32")
    bv = np.array([2, 2, -4], dtype="int32")
    cv = np.array([5, 6, 7], dtype="int64")
    results = f(av, bv, cv)
    expected = [av / bv, cv / 2, av / 2, cv / cv]
    for got, want in zip(results, expected):
        assert got.dtype == config.floatX
        assert_close(got, want, config.floatX)


def test_weak_python_scalars_keep_the_tensor_dtype(backend):
    d, f32 = T.dvector("d"), T.fvector("f")
    i32, i64, b8 = T.ivector("i"), T.lvector("l"), T.bvector("b")
    cases = [
        (d * 0.1, "float64"), (0.1 * d, "float64"), (f32 * 0.1, "float32"),
        (f32 + 1, "float32"), (i32 * 1.5, config.floatX), (i32 * 2, "int32"),
        (2 * i32, "int32"), (i64 + 1, "int64"), (b8 + 1, "int8"), (i32 - 1.0, config.floatX),
        (f32 ** 2, "float32"), (d / 3, "float64"),
    ]
    for k, (expr, dtype) in enumerate(cases):
        assert expr.dtype == dtype, (k, expr.dtype, dtype)
    fn = graphc.function([d, f32, i32, i64, b8], [e for e, _ in cases], backend=backend)
    dv = np.array([1.0, 3.0])
    fv = np.array([1.0, 3.0], dtype="float32")
    iv = np.array([1, 3], dtype="int32")
    lv = np.array([1, 3], dtype="int64")
    bv = np.array([1, 3], dtype="int8")
    results = fn(dv, fv, iv, lv, bv)
    for got, (_, dtype) in zip(results, cases):
        assert got.dtype == dtype
    # 0.1 is exact in float64 with a float64 tensor (not rounded through float32).
    assert results[0][0] == 1.0 * 0.1 and results[0][1] == 3.0 * 0.1
    assert_close(results[2], fv.astype("float64") * np.float32(0.1), "float32")
    assert_close(results[4], iv * 1.5, config.floatX)
    np.testing.assert_array_equal(results[5], iv * 2)


def test_strong_numpy_scalars_and_tensors_promote_like_numpy():
    f32 = T.fvector()
    assert (f32 * T.dscalar()).dtype == "float64"
    assert (T.ivector() + T.lvector()).dtype == "int64"
    assert (T.ivector() * T.fvector()).dtype == "float64"   # NumPy: int32 * float32
    assert (T.bvector() + T.ivector()).dtype == "int32"
    assert (f32 * np.float64(2.0)).dtype == "float64"


def test_nan_and_inf_propagate_and_are_not_folded(backend):
    # x * 0, x - x and x / x must stay NaN for NaN/Inf inputs (no algebraic folding).
    x = T.dvector("x")
    for optimizer in ("fast_run", None):
        f = graphc.function([x], [x * 0, x - x, x / x, x + 1, T.exp(x), T.maximum(x, 0)],
                            backend=backend, optimizer=optimizer)
        v = np.array([np.nan, np.inf, -np.inf, 2.0])
        times0, minus, div, plus1, ex, mx = f(v)
        with np.errstate(all="ignore"):
            assert_close(times0, v * 0)
            assert_close(minus, v - v)
            assert_close(div, v / v)
            assert_close(plus1, v + 1)
            assert_close(ex, np.exp(v))
            assert_close(mx, np.maximum(v, 0))
        assert np.isnan(times0[:3]).all() and np.isnan(minus[:3]).all()
        assert np.isnan(div[:3]).all() and div[3] == 1.0


def test_comparisons_and_predicates(backend, rng):
    x = T.dvector("x")
    y = T.dvector("y")
    outs = [x < y, x <= y, x > y, x >= y, T.eq(x, y), T.neq(x, y), T.lt(x, y), T.le(x, y),
            T.gt(x, y), T.ge(x, y), T.isnan(x), T.isinf(x)]
    f = graphc.function([x, y], outs, backend=backend)
    xv = np.array([1.0, 2.0, 3.0, np.nan, np.inf, -np.inf])
    yv = np.array([2.0, 2.0, 1.0, 1.0, np.inf, 0.0])
    expected = [xv < yv, xv <= yv, xv > yv, xv >= yv, xv == yv, xv != yv, xv < yv, xv <= yv,
                xv > yv, xv >= yv, np.isnan(xv), np.isinf(xv)]
    for k, (got, want) in enumerate(zip(f(xv, yv), expected)):
        assert got.dtype == bool, k
        np.testing.assert_array_equal(got, want, err_msg=str(k))


def test_bitwise_operators_on_integers_and_booleans(backend):
    a = T.ivector("a")
    b = T.ivector("b")
    p = T.bvector("p")
    m = a > 0
    n = b > 0
    outs = [a & b, a | b, a ^ b, ~a, m & n, m | n, m ^ n, ~m, T.and_(a, b), T.or_(a, b),
            T.xor(a, b), T.invert(a), ~p]
    f = graphc.function([a, b, p], outs, backend=backend)
    av = np.array([0, 1, 6, -3], dtype="int32")
    bv = np.array([3, 1, -5, 2], dtype="int32")
    pv = np.array([0, 1, 2, -1], dtype="int8")
    mv, nv = av > 0, bv > 0
    expected = [av & bv, av | bv, av ^ bv, ~av, mv & nv, mv | nv, mv ^ nv, ~mv, av & bv,
                av | bv, av ^ bv, ~av, ~pv]
    for k, (got, want) in enumerate(zip(f(av, bv, pv), expected)):
        assert got.dtype == want.dtype, (k, got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want, err_msg=str(k))


def test_bitwise_on_floats_is_a_type_error():
    with pytest.raises(graphc.GraphcError):
        T.dvector() & T.dvector()
    with pytest.raises(graphc.GraphcError):
        ~T.fvector()


def test_all_python_operators(backend, rng):
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    v = T.dvector("v")
    outs = [x + y, x - y, x * y, x / y, x // y, x % y, x ** y, x @ y, -x, +x, abs(x),
            1 + x, 1 - x, 2 * x, 1 / y, 7 // y, 7 % y, 2 ** x, v @ x, x @ v]
    f = graphc.function([x, y, v], outs, backend=backend)
    xv = rng.uniform(0.5, 2, size=(3, 3))
    yv = rng.uniform(0.5, 2, size=(3, 3))
    vv = rng.normal(size=3)
    expected = [xv + yv, xv - yv, xv * yv, xv / yv, xv // yv, xv % yv, xv ** yv, xv @ yv,
                -xv, +xv, abs(xv), 1 + xv, 1 - xv, 2 * xv, 1 / yv, 7 // yv, 7 % yv, 2 ** xv,
                vv @ xv, xv @ vv]
    for k, (got, want) in enumerate(zip(f(xv, yv, vv), expected)):
        assert np.shape(got) == np.shape(want), k
        assert_close(got, want)


def test_numpy_array_on_the_left_uses_reflected_operators(backend):
    x = T.dvector("x")
    c = np.array([1.0, 2.0])
    out = c * x + c
    assert isinstance(out, graphc.Variable)
    f = graphc.function([x], [out, c - x], backend=backend)
    r, s = f(np.array([3.0, 4.0]))
    assert_close(r, c * [3.0, 4.0] + c)
    assert_close(s, c - [3.0, 4.0])


def test_clip_takes_the_dtype_of_its_bounds(backend):
    # As np.clip and Theano's upcast_out: float bounds make an integer tensor floatX
    # (clipping at 0.5 once gave 0, the bound cast to int32); weak bounds keep a float
    # tensor's dtype.
    i = T.ivector("i")
    f = T.fvector("f")
    lo = T.dscalar("lo")
    outs = [T.clip(i, 0.5, 2.5), i.clip(1, 2), T.clip(f, 0.1, 0.9), T.clip(f, lo, 2.0)]
    assert [o.dtype for o in outs] == [config.floatX, "int32", "float32", "float64"]
    fn = graphc.function([i, f, lo], outs, backend=backend)
    iv = np.array([0, 1, 2, 3], dtype="int32")
    results = fn(iv, iv.astype("float32"), 0.5)
    expected = [np.clip(iv, 0.5, 2.5), np.clip(iv, 1, 2), np.clip(iv, 0.1, 0.9),
                np.clip(iv, 0.5, 2.0)]
    for got, want, out in zip(results, expected, outs):
        assert got.dtype == out.dtype
        assert_close(got, want, out.dtype)


def test_switch_where_clip_and_cast(backend, rng):
    x = T.dvector("x")
    lo, hi = -0.5, 0.5
    outs = [T.switch(x > 0, x, -x), T.where(x > 0, 1.0, x), T.clip(x, lo, hi),
            x.clip(lo, hi), T.cast(x, "int32"), x.astype("float32"), T.cast(x > 0, "float64"),
            T.switch(x > 0, 1, 0)]
    f = graphc.function([x], outs, backend=backend)
    xv = np.array([-1.7, -0.2, 0.0, 0.3, 2.9])
    expected = [np.where(xv > 0, xv, -xv), np.where(xv > 0, 1.0, xv), np.clip(xv, lo, hi),
                np.clip(xv, lo, hi), xv.astype("int32"), xv.astype("float32"),
                (xv > 0).astype("float64"), np.where(xv > 0, 1, 0)]
    results = f(xv)
    for k, (got, want) in enumerate(zip(results, expected)):
        assert_close(got, want)
    assert results[4].dtype == "int32"
    assert results[5].dtype == "float32"


def test_switch_broadcasts_condition_and_branches(backend, rng):
    c = T.bvector("c")
    a = T.dmatrix("a")
    f = graphc.function([c, a], T.switch(c, a, 0.0), backend=backend)
    cv = np.array([1, 0, 1], dtype="int8")
    av = rng.normal(size=(2, 3))
    assert_close(f(cv, av), np.where(cv, av, 0.0))


def test_elementwise_on_empty_arrays(backend):
    x = T.dmatrix("x")
    y = T.dvector("y")
    f = graphc.function([x, y], [T.exp(x) + y, x * 2], backend=backend)
    a, b = f(np.zeros((0, 3)), np.zeros(3))
    assert a.shape == (0, 3) and b.shape == (0, 3)
    a, b = f(np.zeros((2, 0)), np.zeros(0))
    assert a.shape == (2, 0)


def test_constructors_have_the_documented_dtypes_and_ranks():
    prefixes = {"": config.floatX, "f": "float32", "d": "float64", "i": "int32",
                "l": "int64", "b": "int8"}
    shapes = {"scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None),
              "col": (None, 1), "tensor3": (None,) * 3, "tensor4": (None,) * 4,
              "tensor5": (None,) * 5}
    for prefix, dtype in prefixes.items():
        for kind, shape in shapes.items():
            var = getattr(T, prefix + kind)("v")
            assert var.dtype == dtype, prefix + kind
            assert var.type.shape == shape, prefix + kind
            assert var.name == "v"
    t = T.tensor("float64", shape=(None, 3))
    assert t.dtype == "float64" and t.ndim == 2 and t.type.shape == (None, 3)
    assert T.matrix(dtype="float64").dtype == "float64"


def test_row_and_col_broadcast_as_in_theano(backend):
    # Theano's T.row / T.col: a matrix with one axis of length 1, broadcast against
    # a matrix (a bias row, a column of weights); another length is refused.
    x, r, c = T.dmatrix("x"), T.drow("r"), T.dcol("c")
    f = graphc.function([x, r, c], x * r + c, backend=backend)
    xv = np.arange(6.0).reshape(2, 3)
    rv, cv = np.array([[1.0, 2.0, 3.0]]), np.array([[10.0], [20.0]])
    assert_close(f(xv, rv, cv), xv * rv + cv)
    with pytest.raises(graphc.GraphcError, match="r"):
        f(xv, xv, cv)


def test_static_shape_from_tensor_is_checked_at_call(backend):
    x = T.tensor("float64", shape=(None, 3), name="x")
    f = graphc.function([x], x * 2, backend=backend)
    assert_close(f(np.ones((2, 3))), np.full((2, 3), 2.0))
    with pytest.raises(graphc.GraphcError, match="x"):
        f(np.ones((2, 4)))


def test_constant_and_as_tensor_variable(backend):
    c = T.constant(np.array([1.0, 2.0]))
    assert c.dtype == "float64" and c.ndim == 1
    assert T.constant(3).dtype == "int64"
    assert T.constant(1.5).dtype == config.floatX
    v = T.as_tensor_variable([1, 2, 3])
    assert v.ndim == 1
    x = T.dvector("x")
    assert T.as_tensor_variable(x) is x
    f = graphc.function([x], x + c + v[:2], backend=backend)
    assert_close(f(np.array([10.0, 20.0])), [12.0, 24.0])


API_ELEMWISE = ["exp", "log", "log1p", "expm1", "log2", "log10", "sqrt", "sqr", "abs", "sgn",
                "neg", "inv", "floor", "ceil", "round", "tanh", "sinh", "cosh", "sin", "cos",
                "arcsin", "arccos", "arctan", "erf", "sigmoid", "softplus", "maximum",
                "minimum", "clip", "switch", "where", "eq", "neq", "lt", "le", "gt", "ge",
                "isnan", "isinf", "cast"]
API_OTHERS = ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "var", "std", "all",
              "any", "logsumexp", "dot", "matmul", "outer", "tensordot", "batched_dot",
              "reshape", "flatten", "dimshuffle", "transpose", "concatenate", "join", "stack",
              "squeeze", "expand_dims", "arange", "zeros", "ones", "zeros_like", "ones_like",
              "fill", "alloc", "shape", "tile", "repeat", "set_subtensor", "inc_subtensor",
              "grad", "constant", "as_tensor_variable", "tensor", "nnet"]


@pytest.mark.parametrize("name", API_ELEMWISE + API_OTHERS)
def test_every_api_name_exists(name):
    assert hasattr(T, name), name


def test_truth_values_follow_theano_and_variables_do_not_iterate():
    # Theano: a variable is true (tutorials test "if not W:" on a parameter given as
    # a shared variable), a comparison has no truth value ("0 < x < 1" must fail).
    x = T.dvector("x")
    W = graphc.shared(np.zeros(2))
    assert x and W and (x * 2) and not (not x)
    for comparison in (x > 0, x <= 0, T.eq(x, 0), T.neq(x, 1)):
        with pytest.raises(graphc.GraphcError, match="truth value"):
            bool(comparison)
    with pytest.raises(graphc.GraphcError):
        0 < x < 1
    with pytest.raises(graphc.GraphcError):
        list(x)


def test_sgn_and_abs_on_integers(backend):
    a = T.ivector("a")
    f = graphc.function([a], [T.sgn(a), abs(a), -a, a ** 2], backend=backend)
    av = np.array([-3, 0, 4], dtype="int32")
    s, ab, n, sq = f(av)
    np.testing.assert_array_equal(s, np.sign(av))
    np.testing.assert_array_equal(ab, np.abs(av))
    np.testing.assert_array_equal(n, -av)
    np.testing.assert_array_equal(sq, av ** 2)
    assert ab.dtype == "int32" and sq.dtype == "int32"


def test_float_functions_of_integers_give_floatX(backend):
    a = T.ivector("a")
    outs = [T.exp(a), T.sqrt(a), T.log(a), T.sigmoid(a)]
    for out in outs:
        assert out.dtype == config.floatX
    f = graphc.function([a], outs, backend=backend)
    av = np.array([1, 2, 3], dtype="int32")
    expected = [np.exp(av), np.sqrt(av), np.log(av), 1 / (1 + np.exp(-av))]
    for got, want in zip(f(av), expected):
        assert_close(got, want, config.floatX)


def test_float32_inputs_stay_float32(backend, rng):
    x = T.fmatrix("x")
    y = T.fvector("y")
    out = T.tanh(x * y + 1) / (1 + T.exp(-x)) - T.sqrt(abs(y))
    assert out.dtype == "float32"
    f = graphc.function([x, y], out, backend=backend)
    xv = rng.normal(size=(3, 4)).astype("float32")
    yv = rng.normal(size=4).astype("float32")
    got = f(xv, yv)
    assert got.dtype == "float32"
    x64, y64 = xv.astype("float64"), yv.astype("float64")
    assert_close(got, np.tanh(x64 * y64 + 1) / (1 + np.exp(-x64)) - np.sqrt(abs(y64)),
                 "float32")


def test_cast_accepts_theanos_floatX_string(backend):
    x = T.ivector("x")
    out = T.cast(x, "floatX")
    assert out.dtype == config.floatX
    assert x.astype("floatX").dtype == config.floatX
    f = graphc.function([x], out, backend=backend)
    assert_close(f(np.array([1, 2], dtype="int32")), [1.0, 2.0], config.floatX)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_fused_loops_with_broadcast_scalars_and_special_values(backend, rng, dtype):
    # 300 x 1000 is above the numba backend's threading threshold for these loops:
    # there they run as an outlined callback split over the threads. A row
    # broadcast, a run-time scalar, two outputs sharing work, NaN and +-inf.
    x = T.tensor(dtype, shape=(None, None), name="x")
    b = T.tensor(dtype, shape=(None,), name="b")
    s = T.scalar("s", dtype=dtype)
    shared = T.tanh(x * s + b)
    f = graphc.function([x, b, s], [shared * T.exp(-abs(x)), shared - T.log1p(abs(x)) / s],
                        backend=backend)
    xv = rng.normal(scale=3, size=(300, 1000)).astype(dtype)
    xv[0, :4] = [np.nan, np.inf, -np.inf, -0.0]
    bv = rng.normal(size=1000).astype(dtype)
    x64, b64 = xv.astype("float64"), bv.astype("float64")
    with np.errstate(invalid="ignore"):
        t = np.tanh(x64 * 1.5 + b64)
        want = [t * np.exp(-np.abs(x64)), t - np.log1p(np.abs(x64)) / 1.5]
    for got, ref in zip(f(xv, bv, 1.5), want):
        assert got.dtype == dtype and got.shape == ref.shape
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        ok = ~np.isnan(ref)
        assert_close(got[ok], ref[ok], dtype)
