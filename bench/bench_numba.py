"""Benchmarks of the numba backend against NumPy (and peers when importable).

Run: ``python bench/bench_numba.py``. Prints the median time of each workload and
the ratio to NumPy (below 1: faster than NumPy). Peers (PyTensor, JAX, torch) are
measured only if already installed; this script never installs anything.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import graphc  # noqa: E402
import graphc.tensor as T  # noqa: E402


def median_time(fn, repeat=30, number=None):
    """Median seconds per call of ``fn`` (``number`` calls per sample, auto if None)."""
    fn()
    if number is None:
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        number = max(1, int(2e-3 / max(once, 1e-9)))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def ten_ops(a, b, c, lib):
    """Ten elementwise operations (the PERF.md chain)."""
    return lib.tanh(a * b + c) * lib.exp(-a) + lib.sqrt(abs(b)) - c / 2 + a * a


def graph_ten_ops():
    a, b, c = T.fvector("a"), T.fvector("b"), T.fvector("c")
    return graphc.function([a, b, c], ten_ops(a, b, c, T), backend="numba")


def report(name, ours, numpy_time, unit=1e6, label="us"):
    print(f"{name:<44} graphc {ours * unit:9.2f} {label}   numpy {numpy_time * unit:9.2f} "
          f"{label}   ratio {ours / numpy_time:5.2f}")


def bench_calls():
    f = graph_ten_ops()
    rng = np.random.default_rng(0)
    small = [rng.normal(size=100).astype("float32") for _ in range(3)]
    validated = median_time(lambda: f(*small))
    f.trust_input = True
    trusted = median_time(lambda: f(*small))
    f.trust_input = False
    numpy_small = median_time(lambda: ten_ops(*small, np))
    report("call, 10 ops on 3 x 100 (validated)", validated, numpy_small)
    report("call, 10 ops on 3 x 100 (trust_input)", trusted, numpy_small)
    big = [rng.normal(size=1_000_000).astype("float32") for _ in range(3)]
    report("10 ops on 3 x 1e6", median_time(lambda: f(*big), repeat=15),
           median_time(lambda: ten_ops(*big, np), repeat=15), 1e3, "ms")
    np.testing.assert_allclose(f(*big), ten_ops(*[v.astype("float64") for v in big], np),
                               rtol=1e-4, atol=1e-5)


def bench_rows():
    x = T.fmatrix("x")
    rng = np.random.default_rng(0)
    xv = rng.normal(size=(1000, 1000)).astype("float32")
    softmax = graphc.function([x], T.nnet.softmax(x), backend="numba")
    lse = graphc.function([x], T.logsumexp(x, axis=1), backend="numba")

    def np_softmax(v):
        e = np.exp(v - v.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def np_lse(v):
        m = v.max(axis=1, keepdims=True)
        return (np.log(np.exp(v - m).sum(axis=1, keepdims=True)) + m)[:, 0]

    report("softmax over rows, 1000 x 1000", median_time(lambda: softmax(xv), repeat=15),
           median_time(lambda: np_softmax(xv), repeat=15), 1e3, "ms")
    report("logsumexp over rows, 1000 x 1000", median_time(lambda: lse(xv), repeat=15),
           median_time(lambda: np_lse(xv), repeat=15), 1e3, "ms")


_COMPILE_CHILD = textwrap.dedent("""
    import time
    start = time.perf_counter()
    import numpy as np, graphc, graphc.tensor as T
    import graphc.backends.numba
    imported = time.perf_counter()
    sys_path = None
    x = T.fmatrix("x"); y = T.ivector("y")
    w = graphc.shared(np.zeros((784, 500), "float32")); b = graphc.shared(np.zeros(500, "float32"))
    v = graphc.shared(np.zeros((500, 10), "float32")); c = graphc.shared(np.zeros(10, "float32"))
    h = T.maximum(T.dot(x, w) + b, 0)
    p = T.nnet.softmax(T.dot(h, v) + c)
    cost = T.nnet.categorical_crossentropy(p, y).mean()
    params = [w, b, v, c]
    grads = graphc.grad(cost, params)
    f = graphc.function([x, y], cost, updates=[(q, q - 0.1 * g) for q, g in zip(params, grads)])
    f(np.zeros((128, 784), "float32"), np.zeros(128, "int32"))
    done = time.perf_counter()
    print(f"{done - imported:.3f} {imported - start:.3f}")
""")


def bench_compile():
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GRAPHC_FLAGS=f"compiledir={tmp}", NUMBA_CACHE_DIR=tmp)
        times = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", _COMPILE_CHILD], env=env,
                                 capture_output=True, text=True, check=True)
            times.append([float(t) for t in out.stdout.split()])
    (cold, imp), (cached, _) = times
    print(f"{'compile MLP 784-500-10 train step':<44} cold {cold:7.2f} s   cached (new "
          f"process) {cached:6.2f} s   (import {imp:.2f} s)")


def bench_threads():
    """Where threads start to pay: an outlined loop run on the calling thread and split
    over numba's threads, for a light step (``x + 1``) and a heavy one (``tanh``).
    The thresholds in ``graphc/backends/numba/loops.py`` come from this table."""
    from numba import cfunc, njit
    from graphc.backends.numba import fastmath, loops

    @cfunc(loops.LOOP_SIGNATURE, error_model="numpy")
    def callback(which, lo, hi, ptrs):
        n = hi - lo
        a = loops.k_carray(ptrs[0], lo, n, np.float32)
        o = loops.k_carray(ptrs[1], lo, n, np.float32)
        if which == 0:
            for i in range(n):
                o[i] = a[i] + np.float32(1)
        else:
            for i in range(n):
                o[i] = fastmath.tanh32(a[i])

    @njit
    def one_thread(address, which, n, table):
        loops._call_loop(address, which, 0, n, table)

    print(f"{'elements':>10} {'x+1, 1 thread':>14} {'threads':>9} {'tanh, 1 thread':>15} "
          f"{'threads':>9}   (us)")
    for n in (8192, 32768, 131072, 524288):
        a = np.random.default_rng(0).random(n).astype("float32")
        out = np.empty_like(a)
        table = np.array([a.ctypes.data, out.ctypes.data], np.int64)
        row = []
        for which in (0, 1):
            for run in (one_thread, loops._run_parallel):
                row.append(median_time(lambda: run(callback.address, which, n, table)) * 1e6)
        print(f"{n:>10} {row[0]:14.1f} {row[1]:9.1f} {row[2]:15.1f} {row[3]:9.1f}")


def bench_peers():
    for name in ("pytensor", "jax", "torch"):
        try:
            __import__(name)
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        print(f"{name}: installed; peer comparisons are measured in bench/ by their owner")


if __name__ == "__main__":
    print(f"numpy {np.__version__}, graphc {graphc.__version__}")
    bench_calls()
    bench_rows()
    bench_threads()
    bench_compile()
    bench_peers()
