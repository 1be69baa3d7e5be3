"""graphc against its peers, side by side in one process run, reported as ratios.

Workloads (float32, as in ../shared/PERF.md):
  call      one call of 10 elementwise ops on 3 inputs of 100 elements
  ew1e6     the same 10 ops on 3 inputs of 1e6 elements
  softmax   softmax over the rows of 1000 x 1000
  lse       logsumexp over the rows of 1000 x 1000
  mlp       one SGD step of a 784-500-10 tanh MLP with softmax cross-entropy, batch 128
  compile   compiling the MLP train function in new processes: a new graph, then cached

Every peer's result is checked against NumPy in float64 before it is timed. Peers
that are not installed are skipped. Run with, for example:

    python bench/bench_peers.py                 # all workloads
    python bench/bench_peers.py call mlp        # a subset
    python bench/bench_peers.py --one-process   # every peer timed in this process
    python bench/bench_peers.py --rounds 3 ew1e6  # each figure the best of 3 processes

By default each (workload, peer) is timed in its own process (see time_in_child).
On a noisy machine (a shared virtual machine: the same child ran 1.3 to 2.2 ms on
the MLP step here, run after run) ``--rounds N`` times every peer N times, taking
turns, and reports each one's best median.

PyTensor, JAX and PyTorch are bench-only dependencies (never graphc's):
``pip install pytensor jax jaxlib torch==2.13.0`` in a separate virtual environment
created with ``--system-site-packages`` keeps graphc's own environment unchanged.
PyTensor pins an older numba, which that install puts in the new environment, in
front of graphc's: then ``pip uninstall numba llvmlite`` there (PyTensor runs on
graphc's numba). An older numba lacks what the fast math needs to vectorize:
graphc ran the 10-op chain 5x slower with numba 0.65 here. :func:`main` refuses
to time graphc on a numba other than the one graphc requires.
"""
import os
import subprocess
import sys
import time

import numpy as np

import graphc
import graphc.tensor as T
from compile_times import best_compile_seconds, describe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timeit(fn, min_samples=20, min_time=0.3):
    """Median seconds of one call of ``fn`` (batches of calls for short ones)."""
    fn()
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    batch = max(1, int(1e-3 / max(once, 1e-9)))
    samples = []
    deadline = time.perf_counter() + min_time
    while len(samples) < min_samples or time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
        if len(samples) > 2000:
            break
    return float(np.median(samples))


def check(name, result, reference, rtol=2e-4, atol=1e-5):
    np.testing.assert_allclose(np.asarray(result, dtype="float64"), reference,
                               rtol=rtol, atol=atol, err_msg=name)


# ---------------------------------------------------------------- workloads
def ten_ops(a, b, c, lib):
    """10 elementwise ops: mul, add, neg, exp, mul, tanh, sub, mul, add, log."""
    t = a * b + c
    t = t * lib.exp(-a)
    t = lib.tanh(t) - b
    return lib.log(t * t + 1)


def elementwise_peers(n):
    rng = np.random.default_rng(0)
    a, b, c = (rng.uniform(-1, 1, n).astype("float32") for _ in range(3))
    reference = ten_ops(*(v.astype("float64") for v in (a, b, c)), np)
    runs = {"numpy": lambda: ten_ops(a, b, c, np)}

    x, y, z = T.fvector("a"), T.fvector("b"), T.fvector("c")
    f = graphc.function([x, y, z], ten_ops(x, y, z, T))
    runs["graphc"] = lambda: f(a, b, c)
    g = graphc.function([x, y, z], ten_ops(x, y, z, T))
    g.trust_input = True
    runs["graphc trust_input"] = lambda: g(a, b, c)
    runs.update(_pytensor_elementwise(a, b, c))
    runs.update(_jax_elementwise(a, b, c))
    runs.update(_torch_elementwise(a, b, c))
    return runs, reference


def _pytensor_elementwise(a, b, c):
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return {}
    runs = {}
    for mode in ("NUMBA", "FAST_RUN"):
        x, y, z = pt.fvector(), pt.fvector(), pt.fvector()
        f = pytensor.function([x, y, z], ten_ops(x, y, z, pt), mode=mode)
        label = "pytensor numba" if mode == "NUMBA" else "pytensor C"
        runs[label] = (lambda f=f: f(a, b, c))
        g = pytensor.function([x, y, z], ten_ops(x, y, z, pt), mode=mode)
        g.trust_input = True
        runs[label + " trust_input"] = (lambda g=g: g(a, b, c))
    return runs


def _jax_elementwise(a, b, c):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    f = jax.jit(lambda a, b, c: ten_ops(a, b, c, jnp))
    ja, jb, jc = (jax.device_put(v) for v in (a, b, c))
    return {"jax jit": lambda: f(ja, jb, jc).block_until_ready()}


def _torch_elementwise(a, b, c):
    try:
        import torch
    except ImportError:
        return {}
    ta, tb, tc = (torch.from_numpy(v) for v in (a, b, c))
    runs = {"torch": lambda: ten_ops(ta, tb, tc, torch)}
    return runs


def rows_peers(kind):
    rng = np.random.default_rng(1)
    xv = rng.normal(size=(1000, 1000)).astype("float32")
    x64 = xv.astype("float64")
    m = x64.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(x64 - m).sum(1))
    reference = np.exp(x64 - lse[:, None]) if kind == "softmax" else lse

    def np_softmax(v):
        e = np.exp(v - v.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def np_lse(v):
        mv = v.max(1, keepdims=True)
        return mv[:, 0] + np.log(np.exp(v - mv).sum(1))

    runs = {"numpy": lambda: (np_softmax if kind == "softmax" else np_lse)(xv)}
    x = T.fmatrix("x")
    expr = T.nnet.softmax(x) if kind == "softmax" else T.logsumexp(x, axis=1)
    f = graphc.function([x], expr)
    runs["graphc"] = lambda: f(xv)
    try:
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import logsumexp as jlse
        fn = jax.jit((lambda v: jax.nn.softmax(v, axis=1)) if kind == "softmax"
                     else (lambda v: jlse(v, axis=1)))
        jx = jax.device_put(xv)
        runs["jax jit"] = lambda: fn(jx).block_until_ready()
    except ImportError:
        pass
    try:
        import torch
        tx = torch.from_numpy(xv)
        op = ((lambda: torch.softmax(tx, 1)) if kind == "softmax"
              else (lambda: torch.logsumexp(tx, 1)))
        runs["torch"] = op
    except ImportError:
        pass
    try:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.tensor.special import softmax as pt_softmax
        from pytensor.tensor.math import logsumexp as pt_lse
        px = pt.fmatrix()
        pexpr = pt_softmax(px, axis=1) if kind == "softmax" else pt_lse(px, axis=1)
        for mode, label in (("NUMBA", "pytensor numba"), ("FAST_RUN", "pytensor C")):
            pf = pytensor.function([px], pexpr, mode=mode)
            runs[label] = (lambda pf=pf: pf(xv))
    except ImportError:
        pass
    return runs, reference


# --------------------------------------------------------------------- MLP
MLP_SOURCE = '''
import time, numpy as np, graphc, graphc.tensor as T
t0 = time.perf_counter()
rng = np.random.default_rng(0)
x, y = T.fmatrix("x"), T.ivector("y")
W1 = graphc.shared((rng.normal(size=(784, 500)) * 0.05).astype("float32"), name="W1")
b1 = graphc.shared(np.zeros(500, dtype="float32"), name="b1")
W2 = graphc.shared((rng.normal(size=(500, 10)) * 0.05).astype("float32"), name="W2")
b2 = graphc.shared(np.zeros(10, dtype="float32"), name="b2")
h = T.tanh(T.dot(x, W1) + b1)
p = T.nnet.softmax(T.dot(h, W2) + b2)
cost = T.nnet.categorical_crossentropy(p, y).mean()
params = [W1, b1, W2, b2]
grads = T.grad(cost, params)
train = graphc.function([x, y], cost, updates=[(v, v - 0.01 * g) for v, g in zip(params, grads)])
compile_seconds = time.perf_counter() - t0
'''


def mlp_graphc():
    namespace = {}
    exec(MLP_SOURCE, namespace)
    return namespace


def mlp_numpy_step(params, xv, yv, lr=0.01):
    """The same step by hand in NumPy (the figure PERF.md calls 'by hand')."""
    W1, b1, W2, b2 = params
    a = xv @ W1 + b1
    h = np.tanh(a)
    z = h @ W2 + b2
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(1, keepdims=True)
    n = len(yv)
    cost = -np.log(p[np.arange(n), yv]).mean()
    gz = p
    gz[np.arange(n), yv] -= 1
    gz /= n
    gW2 = h.T @ gz
    gb2 = gz.sum(0)
    gh = gz @ W2.T
    ga = gh * (1 - h * h)
    gW1 = xv.T @ ga
    gb1 = ga.sum(0)
    for param, grad in zip(params, (gW1, gb1, gW2, gb2)):
        param -= lr * grad
    return cost


def mlp_peers():
    rng = np.random.default_rng(5)
    xv = rng.uniform(0, 1, (128, 784)).astype("float32")
    yv = rng.integers(0, 10, 128).astype("int32")
    ns = mlp_graphc()
    start_params = [p.get_value() for p in (ns["W1"], ns["b1"], ns["W2"], ns["b2"])]
    reference_params = [p.astype("float64") for p in start_params]
    reference = mlp_numpy_step(reference_params, xv.astype("float64"), yv)
    check("graphc mlp cost", ns["train"](xv, yv), reference, rtol=1e-4)
    check("graphc mlp W1", ns["W1"].get_value(), reference_params[0], rtol=1e-3, atol=1e-5)
    np_params = [p.copy() for p in start_params]
    runs = {"numpy": lambda: mlp_numpy_step(np_params, xv, yv),
            "graphc": lambda: ns["train"](xv, yv)}
    runs.update(_jax_mlp(start_params, xv, yv))
    runs.update(_torch_mlp(start_params, xv, yv))
    runs.update(_pytensor_mlp(start_params, xv, yv))
    return runs, ns["compile_seconds"]


def _jax_mlp(start, xv, yv):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}

    def loss(params, x, y):
        W1, b1, W2, b2 = params
        logits = jnp.tanh(x @ W1 + b1) @ W2 + b2
        logp = jax.nn.log_softmax(logits)
        return -logp[jnp.arange(x.shape[0]), y].mean()

    @jax.jit
    def step(params, x, y):
        cost, grads = jax.value_and_grad(loss)(params, x, y)
        return cost, [p - 0.01 * g for p, g in zip(params, grads)]

    state = {"params": [jnp.asarray(p) for p in start]}
    jx, jy = jnp.asarray(xv), jnp.asarray(yv)

    def run():
        cost, state["params"] = step(state["params"], jx, jy)
        cost.block_until_ready()
    return {"jax jit": run}


def _torch_mlp(start, xv, yv):
    try:
        import torch
    except ImportError:
        return {}
    params = [torch.tensor(p, requires_grad=True) for p in start]
    tx, ty = torch.from_numpy(xv), torch.from_numpy(yv.astype("int64"))

    def run():
        W1, b1, W2, b2 = params
        logits = torch.tanh(tx @ W1 + b1) @ W2 + b2
        cost = torch.nn.functional.cross_entropy(logits, ty)
        grads = torch.autograd.grad(cost, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= 0.01 * g
    return {"torch": run}


def _pytensor_mlp(start, xv, yv):
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError:
        return {}
    runs = {}
    for mode, label in (("NUMBA", "pytensor numba"), ("FAST_RUN", "pytensor C")):
        shared = [pytensor.shared(p.copy()) for p in start]
        x, y = pt.fmatrix(), pt.ivector()
        W1, b1, W2, b2 = shared
        p = pt.special.softmax(pt.tanh(x @ W1 + b1) @ W2 + b2, axis=1)
        cost = -pt.log(p[pt.arange(y.shape[0]), y]).mean()
        grads = pytensor.grad(cost, shared)
        # PyTensor upcasts a Python float to float64: give the rate as float32.
        rate = np.float32(0.01)
        f = pytensor.function([x, y], cost, mode=mode,
                              updates=[(v, v - rate * g) for v, g in zip(shared, grads)])
        runs[label] = (lambda f=f: f(xv, yv))
    return runs


def compile_seconds_in_new_process(compiledir, backend_imported=False):
    """Compile time of the MLP train function in a fresh Python process.

    With an empty ``compiledir`` this is the first compile of a new graph (numba's
    own cache of the shared kernels is warm, as on any machine after the first
    graph); run again with the same directory, it is the disk-cache load. The
    first ``function()`` of a process also imports the backend (numba itself, about
    0.2 s), unless ``backend_imported``: then that import happens before the clock.
    """
    code = MLP_SOURCE + "\nprint(compile_seconds)"
    if backend_imported:
        code = "import graphc.backends.numba.runtime\n" + code
    env = dict(os.environ, GRAPHC_FLAGS=f"compiledir={compiledir}")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ report
def report(title, names, measure, unit="us"):
    """Print ``measure(name)`` seconds for each peer, as ratios to graphc's."""
    scale = {"us": 1e6, "ms": 1e3}[unit]
    print(f"\n{title}")
    results = {}
    for name in names:
        try:
            results[name] = measure(name)
        except Exception as error:  # a peer failing is reported, not fatal
            print(f"  {name:<28} failed: {type(error).__name__}: {error}")
    base = results.get("graphc")
    for name, seconds in results.items():
        ratio = f"{seconds / base:7.2f}x graphc" if base else ""
        print(f"  {name:<28} {seconds * scale:10.2f} {unit}  {ratio}")
    return results


WORKLOADS = {
    "call": ("10 elementwise ops, 3 x 100 float32 (per call)", "us",
             lambda: elementwise_peers(100)),
    "ew1e6": ("10 elementwise ops, 3 x 1e6 float32", "ms",
              lambda: elementwise_peers(1_000_000)),
    "softmax": ("softmax over rows, 1000 x 1000 float32", "ms", lambda: rows_peers("softmax")),
    "lse": ("logsumexp over rows, 1000 x 1000 float32", "ms", lambda: rows_peers("lse")),
    "mlp": ("MLP 784-500-10 SGD step, batch 128, float32", "ms",
            lambda: (mlp_peers()[0], None)),
}


def time_in_child(workload, name):
    """Seconds per call of one peer on one workload, in a fresh process.

    Each library keeps its own threads (OpenMP, Eigen, OpenBLAS); after a run they
    spin for a while, and on two cores that slowed whichever peer ran next by up
    to 2x here. A process per (workload, peer), as in ../shared/PERF.md, keeps the
    figures independent of the order.
    """
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", workload, name],
                         capture_output=True, text=True, cwd=ROOT)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise RuntimeError((out.stderr or out.stdout).strip().splitlines()[-1:])
    return float(lines[-1])


def checked_time(fn, name, reference):
    """``fn``'s time per call, once its result matches the float64 reference."""
    if reference is not None:
        check(name, fn(), reference)
    return timeit(fn)


def child(workload, name):
    runs, reference = WORKLOADS[workload][2]()
    print(checked_time(runs[name], name, reference))


def best_of_rounds(names, measure, rounds):
    """``name -> measure``: the least of ``rounds`` measurements of each name, taken
    in turns so that a slow spell of the machine falls on every peer alike (an
    exception stands for a failed peer, raised again by :func:`report`)."""
    best = {}
    for _ in range(rounds):
        for name in names:
            if isinstance(best.get(name), Exception):
                continue    # a failed peer is not run again
            try:
                seconds = measure(name)
            except Exception as error:
                best[name] = error
                continue
            best[name] = min(seconds, best.get(name, seconds))
    return best


def _raise_or_return(value):
    if isinstance(value, Exception):
        raise value
    return value


def check_numba_version():
    """Exit with a message if this numba is not one graphc's metadata accepts."""
    import importlib.metadata

    import numba
    try:
        from packaging.requirements import Requirement
        wanted = [Requirement(r) for r in importlib.metadata.requires("graphc") or ()]
    except (ImportError, importlib.metadata.PackageNotFoundError):
        return     # cannot tell: time it anyway
    for requirement in wanted:
        if requirement.name == "numba" and numba.__version__ not in requirement.specifier:
            sys.exit(f"numba {numba.__version__} is imported ({numba.__file__}), graphc "
                     f"requires {requirement}: see this file's docstring")


def main(selected, isolated=True, rounds=1):
    check_numba_version()
    print(f"graphc {graphc.__version__}, numpy {np.__version__}, backend "
          f"{graphc.config.backend}, "
          + ("a process per peer and workload" if isolated else "all peers in this process"))
    for workload in ("call", "ew1e6", "softmax", "lse", "mlp"):
        if workload not in selected:
            continue
        title, unit, build = WORKLOADS[workload]
        runs, reference = build()
        if isolated:
            best = best_of_rounds(list(runs), lambda name: time_in_child(workload, name),
                                  rounds)
            report(title, list(runs), lambda name: _raise_or_return(best[name]), unit)
        else:
            report(title, list(runs), lambda name: checked_time(runs[name], name, reference),
                   unit)
    if "compile" in selected:
        figures = best_compile_seconds(compile_seconds_in_new_process, repeats=3)
        print(f"\ncompile the MLP train function, each in a new process: {describe(figures)}")

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--child"]:
        child(*arguments[1:3])
    else:
        shared = "--one-process" in arguments
        rounds = 1
        if "--rounds" in arguments:
            at = arguments.index("--rounds")
            rounds = int(arguments.pop(at + 1))
        everything = ["call", "ew1e6", "softmax", "lse", "mlp", "compile"]
        main([a for a in arguments if not a.startswith("--")] or everything,
             isolated=not shared, rounds=rounds)
