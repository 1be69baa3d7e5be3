"""LeNet-like SGD step (PERF.md): the numba backend against the python (NumPy) backend.

Run: ``python bench/bench_conv.py``. Batch 64 of 1x28x28 float32 images, conv 20 5x5
-> max pool 2 -> conv 50 5x5 -> max pool 2 -> dense 500 -> softmax 10, plain SGD.
The python backend's convolutions are NumPy im2col (``as_strided`` windows and
``tensordot``), so its time is the NumPy baseline. Then the numba compile (with
the first call) in new processes: a graph not seen before, and from the disk
cache. OpenBLAS threads stall badly when other processes share the two cores:
measure on an otherwise idle machine.
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import graphc  # noqa: E402
import graphc.tensor as T  # noqa: E402


def median_ms(fn, repeat=30):
    fn()
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def lenet_step(backend, seed=0):
    rng = np.random.default_rng(seed)

    def shared(*shape, scale=0.1):
        return graphc.shared((rng.normal(size=shape) * scale).astype("float32"))

    x, y = T.ftensor4("x"), T.ivector("y")
    w1, b1, w2, b2 = shared(20, 1, 5, 5), shared(20), shared(50, 20, 5, 5), shared(50)
    w3, b3, w4, b4 = shared(800, 500, scale=0.03), shared(500), shared(500, 10), shared(10)
    h = T.nnet.conv2d(x, w1) + b1.dimshuffle("x", 0, "x", "x")
    h = T.nnet.pool_2d(T.maximum(h, 0), (2, 2))
    h = T.nnet.conv2d(h, w2) + b2.dimshuffle("x", 0, "x", "x")
    h = T.nnet.pool_2d(T.maximum(h, 0), (2, 2))
    h = T.maximum(T.dot(h.flatten(2), w3) + b3, 0)
    p = T.nnet.softmax(T.dot(h, w4) + b4)
    cost = T.nnet.categorical_crossentropy(p, y).mean()
    params = [w1, b1, w2, b2, w3, b3, w4, b4]
    grads = graphc.grad(cost, params)
    start = time.perf_counter()
    f = graphc.function([x, y], cost, updates=[(q, q - 0.01 * g) for q, g in zip(params, grads)],
                        backend=backend)
    xv = rng.normal(size=(64, 1, 28, 28)).astype("float32")
    yv = rng.integers(0, 10, 64).astype("int32")
    f(xv, yv)
    compile_s = time.perf_counter() - start
    return compile_s, median_ms(lambda: f(xv, yv))


def compile_seconds_in_new_process(compiledir, backend_imported=False):
    """``lenet_step``'s compile + first call in a fresh process using ``compiledir``:
    a graph not seen before when it is empty, the disk-cache load when run again.
    With ``backend_imported``, the backend (numba itself, about 0.2 s) is imported
    before the clock starts."""
    code = (f"__file__ = {os.path.abspath(__file__)!r}; __name__ = 'child'\n"
            "exec(open(__file__).read())\n"
            "print(lenet_step('numba')[0])")
    if backend_imported:
        code = "import graphc.backends.numba.runtime\n" + code
    env = dict(os.environ, GRAPHC_FLAGS=f"compiledir={compiledir}")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    for backend in ("numba", "python"):
        compile_s, step = lenet_step(backend)
        print(f"LeNet step, batch 64, {backend:<7} {step:8.2f} ms   (compile + first call "
              f"{compile_s:.2f} s)")
    from compile_times import best_compile_seconds, describe
    figures = best_compile_seconds(compile_seconds_in_new_process, repeats=2)
    print(f"LeNet compile + first call, numba, each in a new process: {describe(figures)}")
