"""The numba backend: lowering to text, compiling, and agreeing with the python oracle."""
import gc
import os
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import graphc  # noqa: E402
import graphc.tensor as T  # noqa: E402
from graphc.backends.numba import cache, fastmath  # noqa: E402
from graphc.backends.numba.fallback import FallbackWarning  # noqa: E402
from graphc.backends.numba.lower import lower  # noqa: E402
from graphc.errors import GraphcError, ShapeError  # noqa: E402
from graphc.graph import FunctionGraph, Node, Op, TensorType  # noqa: E402
from graphc.ops.elemwise import SCALARS, Composite, Elemwise  # noqa: E402
from conftest import assert_close  # noqa: E402


def both(inputs, outputs, *values, **kwargs):
    """Results of the numba and python backends (no rewrites: the nodes as built)."""
    results = []
    for backend in ("numba", "python"):
        f = graphc.function(inputs, outputs, backend=backend, optimizer=None,
                            on_unused_input="ignore", **kwargs)
        out = f(*values)
        results.append(out if isinstance(out, list) else [out])
    return results


def assert_same(inputs, outputs, *values):
    got, expected = both(inputs, outputs, *values)
    for g, e in zip(got, expected):
        assert np.asarray(g).dtype == np.asarray(e).dtype
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=3e-6, atol=1e-7, equal_nan=True)


# ------------------------------------------------------------------ lowering
def test_lowering_is_text_without_compiling():
    x = T.fvector("x")
    y = T.exp(x) * 2 + 1
    lowered = lower(FunctionGraph([x], [y]))
    assert "def graph_fn(arg0, token, loops)" in lowered.source
    assert "fm_exp32" in lowered.source        # the fast float32 kernel
    # Three unfused nodes: three float loops, outlined into the callback.
    assert lowered.source.count("for i in range(n)") == 3
    assert lowered.source.count("k_run(loops, ") == 3
    assert "def graph_loops(which, lo, hi, ptrs)" in lowered.source
    compile(lowered.source, "<graph>", "exec")


def test_backend_source_is_exposed():
    x = T.dvector("x")
    f = graphc.function([x], T.tanh(x), backend="numba")
    assert "fm_tanh64" in f.backend_source


def test_compile_leaves_the_garbage_collector_as_it_was(tmp_path, monkeypatch):
    # The collector is paused while numba compiles (compile time), then restored:
    # on when it was on, including after a compile that fails, off when it was off.
    monkeypatch.setattr(graphc.config, "compiledir", str(tmp_path))
    x = T.dvector("x")
    assert gc.isenabled()
    graphc.function([x], T.exp(x) * 3.5, backend="numba")
    assert gc.isenabled()
    from graphc.backends.numba import BACKEND
    with pytest.raises(Exception):
        BACKEND.compile(None)     # not a graph: fails inside the paused region
    assert gc.isenabled()
    gc.disable()
    try:
        graphc.function([x], T.exp(x) * 4.5, backend="numba")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_loops_run_straight_into_outputs_of_their_shape():
    # A new output of an outlined loop is allocated in its final shape and is the
    # node's result (no reshape); the launch is one k_run statement.
    x, y = T.fmatrix("x"), T.frow("y")
    f = graphc.function([x, y], T.exp(x) * y, backend="numba")
    assert f.backend_source.count("k_run(loops, ") == 1      # one fused loop
    assert "k_reshape" not in f.backend_source
    xv = np.linspace(-2, 2, 12, dtype="float32").reshape(3, 4)
    yv = np.float32([[1, 2, 3, 4]])
    assert_close(f(xv, yv), np.exp(xv.astype("float64")) * yv, "float32")


# ----------------------------------------------------------------- elemwise
def test_hand_made_composite_with_two_outputs(rng):
    x, y = T.fmatrix("x"), T.fmatrix("y")
    program = Composite(
        [(SCALARS["mul"], [("in", 0), ("in", 1)]),
         (SCALARS["exp"], [("step", 0)]),
         (SCALARS["add"], [("step", 1), ("const", 1.5, "float32")]),
         (SCALARS["gt"], [("step", 0), ("const", 0.0, "float32")])],
        [2, 3], ["float32", "float32"])
    outs = Elemwise(program).make_node(x, y).outputs
    xv = rng.normal(size=(3, 4)).astype("float32")
    yv = rng.normal(size=(1, 4)).astype("float32")      # broadcast at run time
    assert_same([x, y], list(outs), xv, yv)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_staged_loop_matches_the_reference_across_chunks(rng, dtype):
    # Three transcendentals: the outlined loop runs as three stages, chunk by chunk.
    # Step 0 is read by the last stage and step 1 is an output computed in the
    # first, so values cross stages through the temporaries; 5000 elements leave
    # a partial last chunk, 300000 run on the threads.
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    program = Composite(
        [(SCALARS["mul"], [("in", 0), ("in", 1)]),
         (SCALARS["exp"], [("step", 0)]),
         (SCALARS["tanh"], [("step", 1)]),
         (SCALARS["mul"], [("step", 2), ("step", 0)]),
         (SCALARS["mul"], [("step", 3), ("step", 0)]),
         (SCALARS["log1p"], [("step", 4)]),
         (SCALARS["mul"], [("step", 5), ("step", 0)])],
        [6, 1], [dtype, dtype])
    outs = Elemwise(program).make_node(x, y).outputs
    f = graphc.function([x, y], list(outs), backend="numba", optimizer=None)
    assert f.backend_source.count("for i in range(n):") == 3
    for n in (5000, 300000):
        xv = rng.uniform(-2, 2, n).astype(dtype)
        yv = rng.uniform(-2, 2, n).astype(dtype)
        xv[:3] = [np.nan, np.inf, -0.0]
        with np.errstate(invalid="ignore"):
            p = xv.astype("float64") * yv
            want = [np.log1p(np.tanh(np.exp(p)) * p * p) * p, np.exp(p)]
        for got, ref in zip(f(xv, yv), want):
            assert got.dtype == dtype
            assert_close(got, ref, dtype)


def test_inplace_loops_write_into_the_buffer_they_read(rng):
    # The inplace pass lets the fused loop overwrite dot's result (its last reader):
    # no output buffer is allocated for it. With x of one row at run time, dot's
    # result is broadcast over z's rows, so the loop writes into the broadcast copy.
    x, w, z = T.fmatrix("x"), T.fmatrix("w"), T.fmatrix("z")
    f = graphc.function([x, w, z], [T.tanh(T.dot(x, w)) * 2 + z, T.exp(T.dot(z, w.T))],
                        backend="numba")
    source = f.backend_source
    assert source.count("[inplace 0]") == 2
    assert source.count("k_empty(n_") == 0     # both loops reuse their input's buffer
    wv = rng.normal(size=(6, 7)).astype("float32")
    zv = rng.normal(size=(5, 7)).astype("float32") * 0.3
    for rows in (5, 1):
        xv = rng.normal(size=(rows, 6)).astype("float32") * 0.3
        x64, w64, z64 = (v.astype("float64") for v in (xv, wv, zv))
        first, second = f(xv, wv, zv)
        assert_close(first, np.tanh(x64 @ w64) * 2 + z64, "float32")
        assert_close(second, np.exp(z64 @ w64.T), "float32")
        assert not np.shares_memory(first, second)


def test_loops_of_the_same_text_share_one_callback_branch(rng):
    # a*3 - b and b*3 - a differ only in their buffers: one branch of graph_loops
    # runs both; a*4 - b needs its own.
    a, b = T.fvector("a"), T.fvector("b")
    outputs = [a * 3 - b, b * 3 - a, a * 4 - b]
    f = graphc.function([a, b], outputs, backend="numba")
    assert f.backend_source.count("if which ==") == 2
    av, bv = (rng.normal(size=70000).astype("float32") for _ in range(2))
    a64, b64 = av.astype("float64"), bv.astype("float64")
    expected = [a64 * 3 - b64, b64 * 3 - a64, a64 * 4 - b64]
    for got, want in zip(f(av, bv), expected):
        assert_close(got, want, "float32")


def test_runtime_broadcast_and_shape_error(rng):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = graphc.function([x, y], x + y, backend="numba")
    np.testing.assert_allclose(f(np.ones((3, 1)), np.ones((1, 4))), 2 * np.ones((3, 4)))
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4, 3\)|\(4, 3\).*\(2, 3\)"):
        f(np.ones((2, 3)), np.ones((4, 3)))


def test_empty_arrays_and_ieee_values():
    x = T.fvector("x")
    values = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0], dtype="float32")
    outs = [T.exp(x), T.log(x), T.sqrt(x), x * 0, x - x, T.maximum(x, 0), T.tanh(x),
            T.nnet.sigmoid(x), T.nnet.softplus(x), T.sgn(x), T.isnan(x), T.isinf(x)]
    assert_same([x], outs, values)
    assert_same([x], outs, np.zeros(0, dtype="float32"))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64"])
def test_integer_division_and_modulo_signs(dtype):
    a, b = T.vector("a", dtype=dtype), T.vector("b", dtype=dtype)
    av = np.array([7, -7, 7, -7, 5, 0, -128 if dtype == "int8" else -9], dtype=dtype)
    bv = np.array([2, 2, -2, -2, 0, 0, -1], dtype=dtype)
    with np.errstate(all="ignore"):
        expected = [np.floor_divide(av, bv), np.mod(av, bv)]
    got, reference = both([a, b], [a // b, a % b], av, bv)
    for g, r, e in zip(got, reference, expected):
        np.testing.assert_array_equal(g, e)
        np.testing.assert_array_equal(r, e)
        assert g.dtype == e.dtype


def test_every_scalar_has_a_lowering_with_the_right_dtype(rng):
    x = T.dvector("x")
    y = T.dvector("y")
    i = T.ivector("i")
    xv = rng.uniform(0.1, 0.9, size=5)
    outs = []
    for name, scalar in SCALARS.items():
        if name in ("and_", "or_", "xor", "invert"):
            args = [i] * scalar.nin
        elif name == "switch":
            args = [T.gt(x, 0.5), x, y]
        else:
            args = [x, y, x][:scalar.nin]
        outs.append(Elemwise(scalar)(*args))
    assert_same([x, y, i], outs, xv, xv[::-1].copy(), np.arange(5, dtype="int32") - 2)


# ----------------------------------------------------------- other families
def test_reductions_shapes_and_products(rng):
    x = T.ftensor3("x")
    m = T.fmatrix("m")
    outs = [x.sum(axis=(0, 2)), x.max(axis=1), x.min(), x.prod(axis=0), x.argmax(axis=2),
            T.any(x > 0, axis=0), T.all(x > -10), x.mean(axis=-1), T.logsumexp(x, axis=1),
            T.nnet.softmax(m), T.nnet.log_softmax(m, axis=0), x.dimshuffle(2, "x", 0, 1),
            T.concatenate([m, m * 2], axis=1), T.tile(m, (2, 1)), T.repeat(m, 2, axis=1),
            T.dot(m, m.T), T.dot(m[0], m.T), m.reshape((-1,)), T.arange(m.shape[0]),
            T.zeros((m.shape[1], 2)) + m[0, 0]]
    xv = rng.normal(size=(2, 3, 4)).astype("float32")
    mv = rng.normal(size=(3, 3)).astype("float32")
    assert_same([x, m], outs, xv, mv)
    assert_same([x, m], outs[:2], np.zeros((0, 3, 0), "float32"), mv)


def test_integer_products_and_casts():
    a = T.imatrix("a")
    outs = [T.dot(a, a), a.astype("float32") / 3, (a > 1).astype("int8"), T.cast(a, "bool")]
    assert_same([a], outs, np.arange(9, dtype="int32").reshape(3, 3) - 4)


def test_basic_and_advanced_indexing(rng):
    x = T.dmatrix("x")
    idx = T.lvector("idx")
    k = T.lscalar("k")
    outs = [x[1:, ::-1], x[k], x[-1, 2], x[idx], x[:, idx], x[T.arange(3), idx],
            x[None, 1:2, k]]
    xv = rng.normal(size=(3, 4))
    assert_same([x, idx, k], outs, xv, np.array([2, -1, 0]), np.array(1))
    f = graphc.function([x, idx, k], outs[3], backend="numba", on_unused_input="ignore")
    with pytest.raises(GraphcError):
        f(xv, np.array([7]), np.array(0))        # out of bounds is an error, not a crash


def test_inc_subtensor_accumulates_repeated_indices(rng):
    x = T.dmatrix("x")
    v = T.dvector("v")
    idx = T.lvector("idx")
    outs = [T.inc_subtensor(x[idx, 0], v), T.set_subtensor(x[1:, 1], v[:2]),
            T.inc_subtensor(x[:, idx], 1.0), T.inc_subtensor(x[0], v[0])]
    xv = rng.normal(size=(3, 4))
    got, expected = both([x, v, idx], outs, xv, np.array([1.0, 2.0, 4.0]),
                         np.array([0, 2, 0]))
    reference = xv.copy()
    np.add.at(reference[:, 0], [0, 2, 0], [1.0, 2.0, 4.0])
    np.testing.assert_allclose(got[0], reference)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e)


def test_crossentropy_and_its_gradient(rng):
    x = T.fmatrix("x")
    y = T.ivector("y")
    cost = T.nnet.categorical_crossentropy(T.nnet.softmax(x), y).mean()
    outs = [cost, graphc.grad(cost, x)]
    xv = rng.normal(size=(5, 4)).astype("float32")
    yv = np.array([0, 3, 1, 2, 3], dtype="int32")
    got = graphc.function([x, y], outs, backend="numba")(xv, yv)
    expected = graphc.function([x, y], outs, backend="python")(xv, yv)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_outputs_never_alias_inputs_or_each_other():
    x = T.dvector("x")
    f = graphc.function([x], [x, x.dimshuffle("x", 0), x * 2, x * 2], backend="numba",
                        optimizer=None)
    xv = np.ones(3)
    a, b, c, d = f(xv)
    assert not np.shares_memory(a, xv) and not np.shares_memory(b, xv)
    c[0] = 5.0
    assert d[0] == 2.0 or not np.shares_memory(c, d)


# ----------------------------------------------------------- fallback
class _Twice(Op):
    """An op no backend knows: the object-mode fallback runs its perform."""

    def make_node(self, x):
        return Node(self, [x], [x.type])

    def perform(self, node, inputs):
        return [inputs[0] * 2]


def test_unknown_op_runs_in_object_mode_with_a_warning():
    x = T.dvector("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = graphc.function([x], _Twice()(x) + 1, backend="numba")
    assert any(issubclass(w.category, FallbackWarning) and "_Twice" in str(w.message)
               for w in caught)
    np.testing.assert_allclose(f(np.arange(3.0)), [1.0, 3.0, 5.0])


def test_map_rows_runs_through_the_fallback():
    x = T.dvector("x")
    jac = graphc.jacobian((x ** 2).sum() * x, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        f = graphc.function([x], jac, backend="numba")
        g = graphc.function([x], jac, backend="python")
    xv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(f(xv), g(xv))


# ---------------------------------------------------------------- cache
_CHILD = textwrap.dedent("""
    import time, numpy as np
    import graphc, graphc.tensor as T
    from numba.core import dispatcher
    x = T.fvector("x")
    m = T.fmatrix("m")
    f = graphc.function([x, m], [T.exp(x) * 3.25 + T.tanh(x), T.nnet.softmax(m)],
                        backend="numba")
    f(np.ones(3, "float32"), np.ones((1, 3), "float32"))
    # Large enough that the loop and the softmax rows run on threads: in a process
    # that loaded the graph from the disk cache, the thread pool must be ready.
    xv = np.linspace(-3, 3, 300000).astype("float32")
    mv = np.linspace(-5, 5, 600 * 400).reshape(600, 400).astype("float32")
    got, soft = f(xv, mv)
    x64 = xv.astype("float64")
    np.testing.assert_allclose(got, np.exp(x64) * 3.25 + np.tanh(x64), rtol=1e-5, atol=1e-6)
    e = np.exp(mv - mv.max(1, keepdims=True))
    np.testing.assert_allclose(soft, e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)
    stats = f._run.dispatcher.stats
    print("HITS", stats.cache_hits.get(f._run.dispatcher.signatures[0], 0))
    # An error raised inside machine code loaded without numba's context refresh
    # reaches the user as the reference backend's ShapeError.
    from graphc.errors import ShapeError
    v = T.fvector("v")
    h = graphc.function([x, v], x * v, backend="numba")
    try:
        h(np.ones(3, "float32"), np.ones(4, "float32"))
        raise AssertionError("no error")
    except ShapeError as error:
        assert "(3,)" in str(error) and "(4,)" in str(error), error
    # Machine code loaded without numba's context refresh (cache.py) must not break
    # what compiles next: a strided input's specialization, then a graph never seen.
    got, _ = f(xv[::2], mv[:, ::2])
    np.testing.assert_allclose(got, np.exp(x64[::2]) * 3.25 + np.tanh(x64[::2]), rtol=1e-5,
                               atol=1e-6)
    import os
    g = graphc.function([x, m], T.dot(m, x) * float(os.getpid()), backend="numba")
    mv3 = mv[:3, :4]
    np.testing.assert_allclose(g(xv[:4], mv3), mv3.astype("float64") @ x64[:4] * os.getpid(),
                               rtol=1e-5)
""")


def _child(compiledir):
    env = dict(os.environ, GRAPHC_FLAGS=f"compiledir={compiledir}")
    env.pop("NUMBA_CACHE_DIR", None)
    result = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


_SCIPY_BLAS_CHILD = textwrap.dedent("""
    import numpy as np
    import graphc, graphc.tensor as T
    from graphc.backends.numba import blas
    # Before any product is compiled or loaded: SciPy's LP64 BLAS instead of NumPy's.
    assert blas._bind(("scipy",)) == "scipy"
    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64"):
        x, w, b = T.matrix("x", dtype), T.matrix("w", dtype), T.vector("b", dtype)
        v = T.vector("v", dtype)
        f = graphc.function([x, w, b, v], [T.dot(x, w) + b, T.dot(x.T, v)], backend="numba")
        xv, wv = rng.normal(size=(7, 5)).astype(dtype), rng.normal(size=(5, 3)).astype(dtype)
        bv, vv = rng.normal(size=3).astype(dtype), rng.normal(size=7).astype(dtype)
        got, gotv = f(xv, wv, bv, vv)
        x64 = xv.astype("float64")
        np.testing.assert_allclose(got, x64 @ wv + bv, rtol=1e-5)
        np.testing.assert_allclose(gotv, x64.T @ vv, rtol=1e-5)
    print("OK")
""")


def test_blas_is_numpys_bundled_openblas():
    # NumPy's wheels bundle OpenBLAS: one BLAS (and one thread pool) in the process.
    from graphc.backends.numba import blas
    if not blas._numpy_openblas():
        pytest.skip("this NumPy bundles no OpenBLAS")
    assert blas.SOURCE == "numpy"


def test_products_run_on_scipys_blas_where_numpy_bundles_none(tmp_path):
    pytest.importorskip("scipy.linalg.cython_blas")
    env = dict(os.environ, GRAPHC_FLAGS=f"compiledir={tmp_path}")
    result = subprocess.run([sys.executable, "-c", _SCIPY_BLAS_CHILD], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_function_compiles_eagerly_for_contiguous_inputs():
    # graphc.function() compiles (or loads) the machine code; the first call with
    # C-contiguous inputs of the declared dtypes must not compile again.
    x, y = T.fmatrix("x"), T.ivector("y")
    f = graphc.function([x, y], T.sum(T.exp(x), axis=1) + y, backend="numba")
    dispatcher = f._run.dispatcher
    assert len(dispatcher.signatures) == 1
    f(np.ones((2, 3), "float32"), np.arange(2, dtype="int32"))
    assert len(dispatcher.signatures) == 1


def test_inputs_of_other_layouts_are_copied_not_compiled_again(rng):
    # One specialization per graph, the one on disk: a transposed view, a stepped
    # slice, a Fortran array or a read-only array is passed as a C copy.
    x, m = T.fvector("x"), T.fmatrix("m")
    f = graphc.function([x, m], [T.dot(m, x) + 1, T.exp(m).sum(axis=0)], backend="numba")
    dispatcher = f._run.dispatcher
    mv = rng.normal(size=(6, 8)).astype("float32")
    xv = rng.normal(size=16).astype("float32")
    frozen = mv[:, :8].copy()
    frozen.flags.writeable = False
    for matrix, vector in [(mv, xv[:8]), (mv.T.copy().T, xv[::2]), (np.asfortranarray(mv), xv[:8]),
                           (frozen, xv[8:]), (mv.T[:8:1, :6].T, xv[1::2])]:
        got_dot, got_sum = f(vector, matrix)
        m64, v64 = matrix.astype("float64"), vector.astype("float64")
        assert_close(got_dot, m64 @ v64 + 1, "float32")
        assert_close(got_sum, np.exp(m64).sum(axis=0), "float32")
    assert len(dispatcher.signatures) == 1


def test_second_process_loads_machine_code_from_the_cache(tmp_path):
    first = _child(tmp_path)
    assert "HITS 0" in first.stdout
    # numba's runtime functions are stored too (60 ms of LLVM in every process).
    (nrt,) = (tmp_path / "numba").glob("nrt-*.pickle")
    second = _child(tmp_path)
    assert "HITS 1" in second.stdout
    # A corrupt runtime entry is compiled again, not fatal.
    nrt.write_bytes(b"not a pickle")
    third = _child(tmp_path)
    assert "HITS 1" in third.stdout
    assert nrt.read_bytes() != b"not a pickle"


def test_graph_calls_shared_kernels_by_symbol_without_linking_them(rng, tmp_path,
                                                                   monkeypatch):
    # An empty compile directory: the graph is compiled here, so the compile result
    # still has its library. k_dot is called, not linked.
    monkeypatch.setattr(graphc.config, "compiledir", str(tmp_path))
    scale = float(rng.uniform(1, 2))
    x, w = T.fmatrix("x"), T.fmatrix("w")
    f = graphc.function([x, w], T.dot(x, w) * scale, backend="numba")
    dispatcher = f._run.dispatcher
    library = dispatcher.overloads[dispatcher.signatures[0]].library
    called = {name for _, name, _, _ in getattr(library, "graphc_kernels", ())}
    assert "k_dot" in called
    assert "k_dot" not in {linked.name for linked in library._linking_libraries}
    xv, wv = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(3, 5)).astype("float32")
    assert_close(f(xv, wv), xv.astype("float64") @ wv * scale, "float32")


def test_cached_graph_whose_kernel_was_recompiled_is_a_miss():
    # The entry lists the kernels' symbols; one that no longer matches the loaded
    # kernel (recompiled under another name) makes the entry a miss, compiled again,
    # rather than machine code calling a symbol that does not exist.
    from numba import types
    x = T.fvector("x")
    f = graphc.function([x], T.exp(x), backend="numba")
    impl = f._run.dispatcher.graphc_cache._impl
    array = types.Array(types.float32, 3, "C")
    stale = [("graphc.backends.numba.reduction", "k_red_sum",
              (array, types.NumberClass(types.float32)), "_ZN_no_such_symbol")]
    context = f._run.dispatcher.targetctx
    assert impl.rebuild(context, (stale, None)) is None
    # A kernel that no longer takes the listed arguments: a miss too.
    gone = [("graphc.backends.numba.reduction", "k_red_sum",
             (array, types.Array(types.float32, 2, "C")), "_ZN_no_such_symbol")]
    assert impl.rebuild(context, (gone, None)) is None


def test_corrupt_cache_entry_is_rebuilt_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(graphc.config, "compiledir", str(tmp_path))
    source = "import numpy as np\nimport numba\n\n\n@numba.njit\ndef graph_fn(token):\n" \
             "    return (np.ones(2),)\n"
    path = os.path.join(cache.cache_dir(), f"g_{cache.key_of(source)}.py")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as stream:
        stream.write(source[:20])           # a truncated entry
    with pytest.warns(cache.CacheWarning, match="corrupt"):
        function = cache.load(source, "graph_fn")
    np.testing.assert_allclose(function(0)[0], [1.0, 1.0])
    with open(path) as stream:
        assert stream.read() == source


def test_profile_times_each_fused_kernel():
    x = T.fmatrix("x")
    w = graphc.shared(np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3), name="w")
    y = T.nnet.softmax(T.tanh(T.dot(x, w) + 1) * 2).sum()
    f = graphc.function([x], y, profile=True, backend="numba")
    reference = graphc.function([x], y, backend="python")
    xv = np.linspace(0, 1, 20, dtype="float32").reshape(5, 4)
    for _ in range(3):
        np.testing.assert_allclose(f(xv), reference(xv), rtol=1e-5)
    nodes = f.fgraph.toposort()
    assert set(f.profile.node_time) == set(nodes)
    assert all(f.profile.node_calls[node] == 3 for node in nodes)
    assert "Softmax" in f.profile.summary()


def test_fused_transcendental_loops_run_as_vector_code(monkeypatch, tmp_path):
    # Each stage of the staged loop calls one inline math kernel; LLVM must inline
    # and vectorize every one of them, or the chain runs 10x slower with the same
    # results. (An empty compiledir: code loaded from the disk has no IR to read.)
    monkeypatch.setattr(graphc.config, "compiledir", str(tmp_path))
    x = T.fvector("x")
    y = T.log1p(T.tanh(T.exp(-x) * x) ** 2) + T.nnet.softplus(x) + T.nnet.sigmoid(x)
    f = graphc.function([x], y, backend="numba")
    llvm_ir = f._run.loops.inspect_llvm()
    assert "if which ==" in f.backend_source
    for kernel in ("exp32", "tanh32", "log1p32", "softplus32", "sigmoid32"):
        assert kernel in f.backend_source
    calls = re.findall(r"call .*fastmath\w*", llvm_ir)
    assert not calls, f"math kernels not inlined: {calls}"
    assert re.search(r"<\d+ x float>", llvm_ir)
    # LLVM's Intel tuning would pick 256-bit vectors; the loops ask for 512 (a no-op
    # where registers are narrower).
    assert '"prefer-vector-width"="512"' in llvm_ir
    if fastmath.AVX512:
        assert "<16 x float>" in llvm_ir
    xv = np.linspace(-5, 5, 50001).astype("float32")
    x64 = xv.astype("float64")
    expected = (np.log1p(np.tanh(np.exp(-x64) * x64) ** 2) + np.logaddexp(0, x64)
                + 1 / (1 + np.exp(-x64)))
    assert_close(f(xv), expected, "float32")


_LIGHT_REFRESH_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import graphc, graphc.tensor as T
    from graphc.backends.numba import cache
    if sys.argv[1] == "tiny":
        # Too few implementations for any graph: the light compile fails and the
        # graph is compiled again after numba's full refresh.
        cache.GRAPH_IMPLEMENTATIONS = ("numba.cpython.builtins",)
    x, w = T.fmatrix("x"), T.fmatrix("w")
    y = T.nnet.softmax(T.tanh(T.dot(x, w))[1:, ::2] * 3)
    f = graphc.function([x, w], [y, y.argmax(axis=1)], backend="numba")
    rng = np.random.default_rng(0)
    xv, wv = rng.normal(size=(5, 4)).astype("float32"), rng.normal(size=(4, 6)).astype("float32")
    t = np.tanh(xv.astype("float64") @ wv)[1:, ::2] * 3
    e = np.exp(t - t.max(axis=1, keepdims=True))
    got, arg = f(xv, wv)
    np.testing.assert_allclose(got, e / e.sum(axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(arg, t.argmax(axis=1))
    print("SCIPY" if "numba.np.arraymath" in sys.modules else "LIGHT")
""")


@pytest.mark.parametrize("registries", ["light", "tiny"])
def test_graphs_compile_after_a_light_refresh(tmp_path, registries):
    # A new graph in a new process (an empty compiledir) compiles without numba's full
    # refresh, which imports NumPy's linalg and SciPy (0.3-0.5 s); with too few
    # implementations it still compiles, after the full refresh. (The first run
    # puts the kernels in numba's cache: a kernel compiled gets the full refresh.)
    for run in ("kernels", "graph"):
        env = dict(os.environ, GRAPHC_FLAGS=f"compiledir={tmp_path / run}")
        result = subprocess.run([sys.executable, "-c", _LIGHT_REFRESH_CHILD, registries],
                                env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == ("LIGHT" if registries == "light" else "SCIPY")


def test_kernel_caches_are_stamped_with_the_whole_backend():
    # numba's own stamp is the kernel's file alone, but a kernel carries the code of
    # the kernels it calls from other files: every graphc kernel (and the op rule
    # conv.py compiles from graphc/ops/conv.py) is stamped with the fingerprint of
    # all of them, so an edit anywhere recompiles them instead of loading stale code.
    from graphc.backends.numba import cache, conv, runtime
    for dispatcher in (runtime.k_flat, runtime.k_conv2d, conv._pool_out):
        locator = dispatcher._cache._impl.locator
        assert locator.get_source_stamp() == cache.FINGERPRINT
