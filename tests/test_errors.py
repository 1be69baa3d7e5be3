"""Every bad input a user can give gets a clear GraphcError.

Build-time errors name the op, both shapes/dtypes and the user's file:line; call-time
errors name the input (its name and position) with the expected and actual
shape/dtype; an error inside a node names the op, the shapes and where the user
built the node. A failing call leaves every shared variable unchanged.
"""
import os

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc.errors import ShapeError

HERE = os.path.basename(__file__)


def _message(excinfo):
    return str(excinfo.value)


# ------------------------------------------------------------- build time
def test_incompatible_static_shapes_in_elementwise():
    a = T.tensor("float64", shape=(2, 3), name="a")
    b = T.tensor("float64", shape=(2, 4), name="b")
    with pytest.raises(graphc.GraphcError) as info:
        a + b
    text = _message(info)
    assert "(2, 3)" in text and "(2, 4)" in text
    assert "add" in text
    assert HERE in text


def test_incompatible_static_shapes_in_dot():
    a = T.tensor("float32", shape=(5, 3))
    b = T.tensor("float32", shape=(4, 2))
    with pytest.raises(graphc.GraphcError) as info:
        T.dot(a, b)
    text = _message(info)
    assert "(5, 3)" in text and "(4, 2)" in text and "dot" in text.lower()
    assert HERE in text
    # ShapeErrors are also ValueErrors, for code written against NumPy.
    assert isinstance(info.value, ValueError)


def test_incompatible_static_shapes_in_join_and_reshape():
    a = T.tensor("float64", shape=(2, 3))
    b = T.tensor("float64", shape=(2, 4))
    with pytest.raises(graphc.GraphcError) as info:
        T.concatenate([a, b], axis=0)
    assert "(2, 3)" in _message(info) and "(2, 4)" in _message(info)
    assert HERE in _message(info)
    with pytest.raises(graphc.GraphcError) as info:
        a.reshape((4, 2))
    assert HERE in _message(info)


def test_wrong_dtype_at_build_time():
    with pytest.raises(graphc.GraphcError) as info:
        T.dvector("x") & T.dvector("y")
    assert "float64" in _message(info)
    with pytest.raises(graphc.GraphcError) as info:
        T.dmatrix("m")[T.dvector("i")]
    assert "float64" in _message(info)
    with pytest.raises(graphc.GraphcError, match="integers"):
        T.nnet.categorical_crossentropy(T.dmatrix(), T.dvector())     # float labels
    with pytest.raises(TypeError):          # GraphcTypeError is a TypeError too
        T.dvector() | T.fvector()
    with pytest.raises(graphc.GraphcError) as info:    # once NumPy's own TypeError
        T.cast(T.dvector("x"), "floaty")
    assert "'floaty'" in _message(info) and "'x'" in _message(info)


def test_wrong_ndim_at_build_time():
    with pytest.raises(graphc.GraphcError):
        T.dtensor3().dot(T.dscalar()).dimshuffle(0)
    with pytest.raises(graphc.GraphcError):
        T.dvector().dimshuffle(1, 0)
    with pytest.raises(graphc.GraphcError):
        T.dmatrix()[0, 0, 0]


def test_missing_input_names_the_variable():
    x = T.dvector("x")
    y = T.dvector("hidden_y")
    with pytest.raises(graphc.GraphcError) as info:
        graphc.function([x], x + y, backend="python")
    text = _message(info)
    assert "hidden_y" in text
    assert HERE in text                       # where the node reading it was built


def test_unused_input_names_it():
    x = T.dvector("x")
    extra = T.dvector("extra")
    with pytest.raises(graphc.GraphcError) as info:
        graphc.function([x, extra], x * 2, backend="python")
    assert "extra" in _message(info) and "1" in _message(info)


# -------------------------------------------------------------- call time
@pytest.fixture
def two_input_fn(backend):
    s = graphc.shared(np.array([1.0, 2.0, 3.0]), name="state")
    x = T.dvector("x")
    m = T.fmatrix("m")
    f = graphc.function([x, m], [x * 2, m.sum()], updates=[(s, s + 1)], backend=backend)
    return f, s


def test_wrong_arity(two_input_fn):
    f, s = two_input_fn
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros(3))
    text = _message(info)
    assert "'m'" in text and "1" in text                   # the missing input, by name
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros(3), np.zeros((1, 1), "float32"), np.zeros(3))
    assert "2" in _message(info) and "3" in _message(info)
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0, 3.0])


def test_wrong_ndim_names_input_and_shapes(two_input_fn):
    f, s = two_input_fn
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros((2, 2)), np.zeros((1, 1), "float32"))
    text = _message(info)
    assert "'x'" in text and "input 0" in text
    assert "ndim 2" in text and "ndim 1" in text and "(2, 2)" in text
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros(3), np.zeros(3, "float32"))
    text = _message(info)
    assert "'m'" in text and "input 1" in text and "(3,)" in text
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0, 3.0])


def test_wrong_dtype_names_input_and_dtypes(two_input_fn):
    f, s = two_input_fn
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros(3), np.zeros((2, 2), "float64"))
    text = _message(info)
    assert "'m'" in text and "input 1" in text
    assert "float64" in text and "float32" in text
    with pytest.raises(graphc.GraphcError) as info:
        f(np.array(["a", "b"]), np.zeros((2, 2), "float32"))
    assert "'x'" in _message(info)
    with pytest.raises(graphc.GraphcError):
        f(T.dvector(), np.zeros((2, 2), "float32"))        # a symbolic value
    for bad in (["a", "b"], [[1.0, 2.0], [3.0]], [1 + 2j, 0j]):   # strings, ragged, complex
        with pytest.raises(graphc.GraphcError) as info:
            f(bad, np.zeros((2, 2), "float32"))
        assert "'x'" in _message(info)
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0, 3.0])


def test_static_shape_mismatch_at_call_names_both_shapes(backend):
    x = T.tensor("float64", shape=(None, 3), name="x")
    f = graphc.function([x], x.sum(), backend=backend)
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros((2, 4)))
    text = _message(info)
    assert "'x'" in text and "input 0" in text and "(2, 4)" in text and "3" in text


def test_run_time_shape_mismatch_in_a_node_names_op_shapes_and_line(backend):
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    s = graphc.shared(np.zeros(2), name="s")
    out = T.dot(x, y)                         # the line the error must point at
    line = f"{HERE}:"
    f = graphc.function([x, y], out, updates=[(s, s + 1)], backend=backend)
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros((2, 3)), np.zeros((4, 5)))
    text = _message(info)
    assert "(2, 3)" in text and "(4, 5)" in text
    assert "dot" in text.lower()
    assert line in text
    np.testing.assert_array_equal(s.get_value(), [0.0, 0.0])


def test_run_time_reshape_error_shows_the_shape_as_numbers(backend):
    x = T.dmatrix("x")
    f = graphc.function([x], x.reshape((4, -1)), backend=backend)
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros((2, 3)))
    text = _message(info)
    assert "(2, 3)" in text and "(4, -1)" in text   # not (np.int64(4), np.int64(-1))


def test_run_time_broadcast_error_names_shapes_and_line(backend):
    x = T.dmatrix("x")
    y = T.dvector("y")
    f = graphc.function([x, y], T.exp(x) * y, backend=backend)
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros((2, 3)), np.zeros(4))
    text = _message(info)
    assert "3" in text and "4" in text and "mul" in text
    assert HERE in text
    # y's shape as passed, not as broadcasting padded it to (1, 4).
    assert "(2, 3) and (4,) cannot be broadcast" in text


def test_run_time_broadcast_error_after_the_gemm_rewrite_is_a_shape_error(backend):
    # dot(x, W) + y becomes one Gemm node; a bad y is still a ShapeError (a ValueError)
    # naming the shapes, as the add it came from would raise.
    x, W, y = T.dmatrix("x"), T.dmatrix("W"), T.dmatrix("y")
    f = graphc.function([x, W, y], T.dot(x, W) + y, backend=backend)
    with pytest.raises(ShapeError, match=r"\(3, 4\) and \(2, 4\)") as info:
        f(np.ones((2, 3)), np.ones((3, 4)), np.ones((3, 4)))
    assert isinstance(info.value, ValueError) and HERE in _message(info)
    # A y that broadcasts the product up is fine.
    assert f(np.ones((1, 3)), np.ones((3, 4)), np.ones((5, 4))).shape == (5, 4)


def test_run_time_index_error_names_line(backend):
    x = T.dvector("x")
    i = T.lscalar("i")
    f = graphc.function([x, i], x[i] * 2, backend=backend)
    with pytest.raises(graphc.GraphcError) as info:
        f(np.zeros(3), 7)
    assert HERE in _message(info)


def test_failing_call_leaves_shared_values_unchanged_even_after_outputs(backend):
    # The first output is fine, the second fails: no update may be applied.
    a = graphc.shared(np.array([1.0, 2.0]), name="a")
    x = T.dvector("x")
    y = T.dvector("y")
    f = graphc.function([x, y], [a * 2, x + y], updates=[(a, a + 10)], backend=backend)
    with pytest.raises(graphc.GraphcError):
        f(np.zeros(2), np.zeros(3))
    np.testing.assert_array_equal(a.get_value(), [1.0, 2.0])


def test_failing_call_leaves_the_random_streams_where_they_were(backend):
    # As in Theano, where a stream's state is a shared variable with a default update:
    # the call after a failed one draws what it would have drawn without the failure.
    from graphc.tensor.random import RandomStreams
    rng = RandomStreams(7)
    x, y = T.dvector("x"), T.dvector("y")
    w = graphc.shared(np.zeros(3), name="w")
    f = graphc.function([x, y], x * rng.uniform((3,)) + y,
                        updates=[(w, w + rng.normal((3,)))], backend=backend)
    with pytest.raises(graphc.GraphcError):
        f(np.ones(3), np.ones(4))
    after_failure = f(np.ones(3), np.zeros(3)), w.get_value()
    rng.seed(7)
    w.set_value(np.zeros(3))
    fresh = f(np.ones(3), np.zeros(3)), w.get_value()
    for got, want in zip(after_failure, fresh):
        np.testing.assert_array_equal(got, want)


def test_update_that_changes_a_static_shape_is_refused(backend):
    w = graphc.shared(np.zeros(3), name="w", shape=(3,))
    x = T.dvector("x")
    f = graphc.function([x], [], updates=[(w, x)], backend=backend)
    with pytest.raises(graphc.GraphcError, match="w"):
        f(np.zeros(4))
    np.testing.assert_array_equal(w.get_value(), np.zeros(3))


def test_every_error_is_a_graphc_error():
    for cls in (graphc.GradientError,):
        assert issubclass(cls, graphc.GraphcError)
    with pytest.raises(graphc.GraphcError):
        graphc.function(T.dvector(), T.dvector())           # inputs not a list
    with pytest.raises(graphc.GraphcError):
        graphc.function([T.dvector()], T.dvector(), backend="nope")
    with pytest.raises(graphc.GraphcError):
        graphc.shared(T.dvector())
    with pytest.raises(graphc.GraphcError):
        graphc.config.floatX = "float16"


@pytest.mark.parametrize("build", [
    lambda a, v: T.concatenate([a, a], axis=2), lambda a, v: T.concatenate([a, a], axis=-3),
    lambda a, v: T.nnet.softmax(a, axis=2), lambda a, v: T.nnet.log_softmax(a, axis=5),
    lambda a, v: T.stack([v, v], axis=3), lambda a, v: T.expand_dims(v, 5),
    lambda a, v: T.addbroadcast(a, 2)])
def test_an_axis_out_of_range_is_an_error_not_a_wrap_around(build):
    with pytest.raises(graphc.GraphcError, match="out of range for ndim"):
        build(T.dmatrix("a"), T.dvector("v"))


@pytest.mark.parametrize("value", [np.array([1, None, 2], dtype=object), np.array([1 + 2j, 0, 0]),
                                   np.array([1e300, 0.0, 0.0]), ["a", "b", "c"],
                                   [[1.0], [1.0, 2.0]], "abc", None])
def test_set_value_refuses_what_is_not_numbers_and_keeps_the_old_value(value):
    W = graphc.shared(np.arange(3, dtype="float32"), name="W")
    with pytest.raises(graphc.GraphcError, match="'W'"):
        W.set_value(value)
    np.testing.assert_array_equal(W.get_value(), [0.0, 1.0, 2.0])
    with pytest.raises(graphc.GraphcError, match="symbolic"):
        W.set_value(graphc.shared(np.ones(3, "float32")))
    for bad in ("abc", [[1.0], [1.0, 2.0]], 1 + 2j):
        with pytest.raises(graphc.GraphcError, match="shared"):
            graphc.shared(bad)


def test_malformed_arguments_are_graphc_errors():
    with pytest.raises(graphc.GraphcError, match="step is 0"):
        T.arange(0, 10, 0)
    with pytest.raises(graphc.GraphcError, match="'foo' is not a dtype"):
        T.tensor("foo", shape=(None,))
    with pytest.raises(graphc.GraphcError, match="not a number type"):
        T.tensor("complex128", shape=(None,))
    with pytest.raises(graphc.GraphcError, match="pair"):
        graphc.function([], [], updates=[(graphc.shared(1.0),)])


def test_float_shape_entries_are_refused_not_truncated():
    from graphc.tensor.random import RandomStreams
    m = T.dmatrix("m")
    for build in (lambda: m.reshape((2.5, 2)), lambda: RandomStreams(1).uniform(size=(2.5, 2)),
                  lambda: T.zeros((2.0, 3)), lambda: T.alloc(0.0, 2.5)):
        with pytest.raises(graphc.GraphcError, match="must be an integer, got 2.5|got 2.0"):
            build()
