"""graphc.function and graphc.shared: calling conventions, updates, givens, ownership
of outputs, pickling, input conversion policy, unused inputs, config flags."""
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import graphc
import graphc.tensor as T
from graphc import config
from conftest import assert_close


def test_positional_and_keyword_calls(backend):
    x = T.dvector("x")
    y = T.dvector("y")
    f = graphc.function([x, y], x - y, backend=backend)
    a, b = np.array([1.0, 2.0]), np.array([0.5, 0.25])
    assert_close(f(a, b), a - b)
    assert_close(f(x=a, y=b), a - b)
    assert_close(f(y=b, x=a), a - b)
    assert_close(f(a, y=b), a - b)
    with pytest.raises(graphc.GraphcError):
        f(a, x=a)           # given twice
    with pytest.raises(graphc.GraphcError):
        f(a, z=b)           # unknown name


def test_single_output_vs_list_of_outputs(backend):
    x = T.dscalar("x")
    one = graphc.function([x], x * 2, backend=backend)
    many = graphc.function([x], [x * 2], backend=backend)
    none = graphc.function([x], [], backend=backend, on_unused_input="ignore")
    assert isinstance(one(1.0), np.ndarray) and float(one(1.0)) == 2.0
    result = many(1.0)
    assert isinstance(result, list) and len(result) == 1 and float(result[0]) == 2.0
    assert none(1.0) == []


def test_python_lists_and_numbers_are_accepted(backend):
    x = T.dvector("x")
    s = T.dscalar("s")
    f = graphc.function([x, s], x * s, backend=backend)
    assert_close(f([1, 2, 3], 2), [2.0, 4.0, 6.0])
    assert_close(f((1.5,), 2.0), [3.0])
    # Any Python sequence, as the Theano docs' power(range(10), 2); float32 inputs
    # take Python ints that fit.
    v = T.fvector("v")
    g = graphc.function([v], v * 2, backend=backend)
    assert_close(g(range(3)), [0.0, 2.0, 4.0])
    assert g(range(3)).dtype == np.float32
    with pytest.raises(graphc.GraphcError):
        g(np.arange(3))          # an int64 array is typed: no silent conversion


def test_updates_use_values_from_before_the_call(backend):
    # a and b swap; outputs see the old values; both updates land together.
    a = graphc.shared(np.array([1.0, 2.0]), name="a")
    b = graphc.shared(np.array([10.0, 20.0]), name="b")
    f = graphc.function([], [a + 0, b * 1], updates=[(a, b), (b, a)], backend=backend)
    out_a, out_b = f()
    assert_close(out_a, [1.0, 2.0])
    assert_close(out_b, [10.0, 20.0])
    assert_close(a.get_value(), [10.0, 20.0])
    assert_close(b.get_value(), [1.0, 2.0])
    f()
    assert_close(a.get_value(), [1.0, 2.0])


def test_updates_as_dict_and_counter(backend):
    count = graphc.shared(0, name="count")
    assert count.dtype == "int64"
    x = T.dscalar("x")
    acc = graphc.shared(0.0, name="acc")
    assert acc.dtype == config.floatX
    f = graphc.function([x], count, updates={count: count + 1,
                                             acc: acc + T.cast(x, acc.dtype)},
                        backend=backend)
    outs = [int(f(float(k))) for k in range(4)]
    assert outs == [0, 1, 2, 3]
    assert int(count.get_value()) == 4
    assert_close(acc.get_value(), 0 + 1 + 2 + 3, config.floatX)


def test_a_failing_call_changes_no_shared_variable(backend):
    a = graphc.shared(np.array([1.0, 2.0]), name="a")
    b = graphc.shared(np.array([3.0, 4.0]), name="b")
    x = T.dvector("x")
    # The update of a succeeds on its own; the output (and b's update) fails on a bad x.
    f = graphc.function([x], (x + b).sum(), updates=[(a, a * 2), (b, b + x)],
                        backend=backend)
    with pytest.raises(graphc.GraphcError):
        f(np.ones(3))
    assert_close(a.get_value(), [1.0, 2.0])
    assert_close(b.get_value(), [3.0, 4.0])
    f(np.ones(2))
    assert_close(a.get_value(), [2.0, 4.0])
    assert_close(b.get_value(), [4.0, 5.0])


def test_update_of_the_wrong_type_is_refused():
    w = graphc.shared(np.zeros(3, dtype="float32"), name="w")
    with pytest.raises(graphc.GraphcError, match="w"):
        graphc.function([], [], updates=[(w, w + T.dvector("d").sum())],
                        on_unused_input="ignore")
    with pytest.raises(graphc.GraphcError, match="w"):
        graphc.function([], [], updates=[(w, w.sum())])
    with pytest.raises(graphc.GraphcError):
        graphc.function([], [], updates=[(T.dvector(), T.dvector())])


def test_update_with_weak_scalar_keeps_float32(backend):
    w = graphc.shared(np.ones(2, dtype="float32"), name="w")
    f = graphc.function([], [], updates=[(w, w * 0.5)], backend=backend)
    f()
    assert w.get_value().dtype == "float32"
    assert_close(w.get_value(), [0.5, 0.5], "float32")


def test_givens_substitute_before_compiling(backend, rng):
    x = T.dvector("x")
    y = T.dvector("y")
    data = graphc.shared(rng.normal(size=(5, 3)), name="data")
    i = T.lscalar("i")
    f = graphc.function([i], (x * 2).sum(), givens=[(x, data[i])], backend=backend)
    assert_close(f(3), data.get_value()[3].sum() * 2)
    g = graphc.function([y], x + 1, givens={x: y * 3}, backend=backend)
    assert_close(g(np.array([1.0, 2.0])), [4.0, 7.0])
    with pytest.raises(graphc.GraphcError):
        graphc.function([i], x.sum(), givens=[(x, T.ivector())])


def test_outputs_never_alias_inputs_or_shared_storage(backend):
    s = graphc.shared(np.array([1.0, 2.0]), name="s")
    x = T.dvector("x")
    f = graphc.function([x], [x, s, x.T, s[:], x.reshape((2,)), x, s + 0], backend=backend)
    xv = np.array([5.0, 6.0])
    results = f(xv)
    for r in results:
        assert not np.shares_memory(r, xv)
        assert not np.shares_memory(r, s.get_value(borrow=True))
    # Two outputs that are the same variable are two separate arrays.
    assert not np.shares_memory(results[0], results[5])
    results[1][0] = 100.0
    assert s.get_value()[0] == 1.0
    results[0][0] = 100.0
    assert xv[0] == 5.0
    # A later call does not overwrite arrays returned earlier.
    first = f(xv)[6]
    f(np.array([7.0, 8.0]))
    assert_close(first, [1.0, 2.0])



def test_constant_outputs_are_fresh_arrays(backend):
    # Folded to a constant, or a constant passed through: the caller may write
    # into what it gets without changing the next call's result.
    x = T.dvector("x")
    kept = graphc.gradient.zero_grad(T.constant(np.array([3.0, 4.0])))
    f = graphc.function([x], [T.constant(np.ones(3)) * 2, T.ones((2,)), kept, x + 1],
                        backend=backend)
    for out in f(np.array([1.0])):
        out[...] = -9.0
    folded, ones, passed, plus = f(np.array([1.0]))
    assert_close(folded, [2.0, 2.0, 2.0])
    assert_close(ones, [1.0, 1.0])
    assert_close(passed, [3.0, 4.0])
    assert_close(plus, [2.0])

def test_f_fgraph_and_toposort(backend):
    x = T.dvector("x")
    f = graphc.function([x], T.exp(x).sum(), backend=backend)
    fg = f.fgraph
    assert fg.inputs[0] is x or fg.inputs[0].type == x.type
    assert len(fg.outputs) == 1
    nodes = fg.toposort()
    assert len(nodes) >= 1
    for node in nodes:
        assert hasattr(node, "op") and hasattr(node, "inputs")
    # Execution order: each node's inputs are computed before it.
    done = set(fg.inputs)
    for node in nodes:
        for var in node.inputs:
            assert var.owner is None or var in done
        done.update(node.outputs)


def test_pickle_function_with_shared_values(backend, tmp_path):
    w = graphc.shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    f = graphc.function([x], (w * x).sum(), updates=[(w, w + 1)], backend=backend)
    f(np.ones(2))
    data = pickle.dumps(f)
    g = pickle.loads(data)
    # The unpickled function has its own copy of w, with the value at pickling time.
    assert_close(g(np.ones(2)), 2.0 + 3.0)
    assert_close(g(np.ones(2)), 3.0 + 4.0)
    assert_close(w.get_value(), [2.0, 3.0])
    assert_close(f(np.ones(2)), 5.0)


def test_allow_input_downcast_policy(backend):
    x = T.fvector("x")
    i = T.ivector("i")
    f = graphc.function([x, i], x * 2 + i, backend=backend)
    # Python floats and lists convert to float32 under the default policy.
    assert_close(f([1.5, 2.5], [1, 2]), [4.0, 7.0], "float32")
    # A float64 array does not silently become float32.
    with pytest.raises(graphc.GraphcError, match="float64"):
        f(np.array([1.5, 2.5]), np.array([1, 2], dtype="int32"))
    # An int64 array into int32 is a downcast too.
    with pytest.raises(graphc.GraphcError, match="int64"):
        f(np.array([1.5, 2.5], dtype="float32"), np.array([1, 2], dtype="int64"))
    # A float into an integer input is refused even as a Python list.
    with pytest.raises(graphc.GraphcError):
        f([1.0], [1.5])
    g = graphc.function([x, i], x * 2 + i, backend=backend, allow_input_downcast=True)
    assert_close(g(np.array([1.5, 2.5]), np.array([1, 2])), [4.0, 7.0], "float32")
    h = graphc.function([x], x * 2, backend=backend, allow_input_downcast=False)
    with pytest.raises(graphc.GraphcError):
        h(np.array([1.5]))
    # Safe casts (float32 -> float64, int32 -> int64) are always fine.
    d = T.dvector("d")
    k = graphc.function([d], d + 1, backend=backend, allow_input_downcast=False)
    assert_close(k(np.array([1.0], dtype="float32")), [2.0])


def test_on_unused_input(backend):
    x = T.dvector("x")
    y = T.dvector("y")
    with pytest.raises(graphc.GraphcError, match="y"):
        graphc.function([x, y], x * 2, backend=backend)
    with pytest.warns(UserWarning, match="y"):
        f = graphc.function([x, y], x * 2, backend=backend, on_unused_input="warn")
    assert_close(f([1.0], [5.0]), [2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = graphc.function([x, y], x * 2, backend=backend, on_unused_input="ignore")
    assert_close(g([1.0], [5.0]), [2.0])
    with pytest.raises(graphc.GraphcError):
        graphc.function([x], x, on_unused_input="maybe")


def test_shared_get_and_set_value_with_borrow():
    value = np.array([1.0, 2.0])
    s = graphc.shared(value, name="s")
    assert s.name == "s" and s.dtype == "float64" and s.ndim == 1
    value[0] = 99.0                       # a copy was taken
    assert s.get_value()[0] == 1.0
    got = s.get_value()
    got[0] = 42.0                         # get_value returns a copy
    assert s.get_value()[0] == 1.0
    b = np.array([3.0, 4.0])
    t = graphc.shared(b, borrow=True)
    assert t.get_value(borrow=True) is b
    s.set_value(b, borrow=True)
    assert s.get_value(borrow=True) is b
    s.set_value(b)
    assert s.get_value(borrow=True) is not b
    s.set_value([5.0, 6.0, 7.0])          # shape may change, ndim may not
    assert s.get_value().shape == (3,)
    with pytest.raises(graphc.GraphcError):
        s.set_value(np.zeros((2, 2)))
    i = graphc.shared(np.arange(3, dtype="int32"))
    with pytest.raises(graphc.GraphcError):
        i.set_value(np.array([0.5, 1.5]))
    assert graphc.shared(1.5).dtype == config.floatX
    assert graphc.shared(3).dtype == "int64"
    assert graphc.shared([1.0, 2.0]).dtype == config.floatX
    assert graphc.shared(np.float64(1.0)).dtype == "float64"


def test_shared_value_set_between_calls_is_seen(backend):
    s = graphc.shared(np.array([1.0]), name="s")
    f = graphc.function([], s * 2, backend=backend)
    assert_close(f(), [2.0])
    s.set_value(np.array([3.0, 4.0]))
    assert_close(f(), [6.0, 8.0])


def test_shared_variable_is_not_an_explicit_input():
    s = graphc.shared(np.zeros(2))
    with pytest.raises(graphc.GraphcError):
        graphc.function([s], s * 2)
    x = T.dvector("x")
    with pytest.raises(graphc.GraphcError):
        graphc.function([x * 2], x)       # inputs must be free variables
    with pytest.raises(graphc.GraphcError):
        graphc.function([x, x], x)


def test_config_from_graphc_flags_in_a_subprocess():
    code = ("import graphc, graphc.tensor as T; "
            "print(graphc.config.floatX, graphc.config.device, T.vector().dtype, "
            "T.ivector().__truediv__(2).dtype)")
    env = dict(os.environ, GRAPHC_FLAGS="floatX=float64,device=cpu")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["float64", "cpu", "float64", "float64"]
    env["GRAPHC_FLAGS"] = "floatX=float16"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    # An invalid flag is refused at import with a message naming the value.
    assert proc.returncode != 0 and "float16" in proc.stderr


def test_optimizer_modes_agree(backend, rng):
    x = T.dmatrix("x")
    w = T.dvector("w")
    out = T.log(1 + T.exp(T.dot(x, w))) - T.log(T.nnet.sigmoid(x.sum(1)))
    xv = rng.normal(size=(4, 3))
    wv = rng.normal(size=3)
    results = [graphc.function([x, w], out, backend=backend, optimizer=opt)(xv, wv)
               for opt in (None, "fast_compile", "fast_run")]
    s = xv.sum(1)
    expected = np.log1p(np.exp(xv @ wv)) - np.log(1 / (1 + np.exp(-s)))
    for r in results:
        assert_close(r, expected)
    with pytest.raises(graphc.GraphcError):
        graphc.function([x], x, optimizer="turbo")


def test_eval_on_a_variable():
    x = T.dvector("x")
    assert_close((x * 2).eval({x: np.array([1.0, 2.0])}), [2.0, 4.0])
    assert_close(T.constant(np.array([1.0, 2.0])).sum().eval(), 3.0)


def test_a_backend_that_is_not_available_is_a_clear_error():
    x = T.dvector("x")
    with pytest.raises(graphc.GraphcError, match="cuda"):
        graphc.function([x], x * 2, backend="cuda")
    with pytest.raises(graphc.GraphcError, match="unknown backend"):
        graphc.function([x], x * 2, backend="tpu")


def test_copy_swaps_shared_variables_and_deletes_updates(backend):
    # Theano's Function.copy(share_memory, swap, delete_updates, name, profile).
    state = graphc.shared(np.int64(0), name="state")
    scale = graphc.shared(np.float64(2.0), name="scale")
    inc = T.lscalar("inc")
    acc = graphc.function([inc], state * scale, updates=[(state, state + inc)],
                          backend=backend, name="acc")
    same = acc.copy()
    assert same.name == "acc copy" and float(same(1)) == 0.0
    assert int(state.get_value()) == 1          # a plain copy updates the same state
    other, other_scale = graphc.shared(np.int64(100)), graphc.shared(np.float64(-1.0))
    swapped = acc.copy(swap={state: other, scale: other_scale}, name="swapped")
    assert swapped.name == "swapped" and float(swapped(5)) == -100.0
    assert int(other.get_value()) == 105 and int(state.get_value()) == 1
    assert float(acc(2)) == 2.0 and int(state.get_value()) == 3     # the original is unchanged
    frozen = acc.copy(delete_updates=True, share_memory=True)
    assert float(frozen(7)) == 6.0 and int(state.get_value()) == 3
    with pytest.raises(graphc.GraphcError, match="dtype or ndim"):
        acc.copy(swap={state: graphc.shared(np.float64(0.0))})
    with pytest.raises(graphc.GraphcError, match="not used"):
        acc.copy(swap={graphc.shared(np.int64(0)): other})
