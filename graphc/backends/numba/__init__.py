"""The numba CPU backend: the whole graph as ONE ``numba.njit`` function.

Three separate steps, each testable on its own:

1. **lower** (:func:`graphc.backends.numba.lower.lower`): the optimized graph
   becomes the source text of one Python function. Each op family lowers its
   nodes in its own module (``elemwise.py``, ``reduction.py``, ``shape.py``,
   ``linalg.py``, ``subtensor.py``, ``nnet.py``): fused elementwise nodes become
   one flat loop calling the vectorizable math of ``fastmath.py``, reductions and
   softmax-like ops call a few shared kernels, products call BLAS ``xgemm``
   (``blas.py``: NumPy's bundled OpenBLAS, else SciPy's).
2. **compile** (:mod:`graphc.backends.numba.cache`): the source is written to
   ``config.compiledir`` under a hash of itself and of the versions involved,
   imported and ``njit``-compiled; the machine code is stored beside it, so another
   process that builds the same graph loads it instead of compiling (without
   numba's 0.6 s context refresh). The shared kernels are called by symbol, not
   linked into each graph's code (see ``cache.py``).
   The specialization for C-contiguous, writable inputs is compiled (or loaded)
   eagerly, inside ``graphc.function()``, so compile time shows where users expect
   it, and it is the only one: numba may not compile another at call time.
3. **run**: the returned callable passes the inputs (and array constants) to the
   compiled function in one call; its ``.source`` attribute is the generated text
   (``Function.backend_source``). An input of another layout (a transposed view,
   a slice with a step, a read-only array) makes numba refuse the call, and the
   call is made again with C-contiguous copies of such inputs: a copy per call
   instead of a second compilation per process (seconds, and not on disk).

Policies
--------
- *Ops with no lowering* run their ``perform`` in numba object mode, with one
  :class:`~graphc.backends.numba.fallback.FallbackWarning` per op class (see
  ``fallback.py``). :class:`graphc.ops.loop.MapRows` is such an op.
- *Errors*: compiled code raises a plain ``ValueError`` with a fixed message (numba
  cannot format the shapes); the wrapper then runs the graph once through the
  reference python backend, which raises the :class:`~graphc.errors.GraphcError`
  naming the op, the input shapes and where the node was built. If the reference
  does not fail, a ``GraphcError`` carrying the compiled code's message is raised.
- *Outputs* never alias inputs, constants, shared values or each other (the
  generated code copies where a view could escape), so ``fresh_outputs`` is True.
- *Profiling*: with ``profile=True`` each node (each fused kernel) is compiled as its
  own function and the nodes run in order from Python, timed one by one: calls are
  slower, and ``f.profile.summary()`` shows where the time goes per kernel.
- *Dtypes*: float32 ``exp, log, tanh, sigmoid, softplus, log1p, expm1, erf`` use
  the fast kernels of ``fastmath.py`` (a few ulps); float64 uses libm.
- *Threads*: fused float elementwise loops are outlined into the module's C
  callback ``graph_loops`` and split over numba's threads when one thread would
  take ~100 us (``loops.py``); softmax, log-softmax and logsumexp over rows of at
  least ``nnet.PARALLEL_MIN`` elements run their rows on the threads. Both
  launchers are shared kernels compiled once, not per graph; smaller calls stay on
  the calling thread. Products use BLAS's own threads.
"""
import contextlib
import gc
import time
import weakref

import numpy as np

from graphc.errors import GraphcError
from graphc.graph import Constant, FunctionGraph
# Before any kernel is defined: cache.py stamps their disk cache with the backend's
# fingerprint (see there).
from graphc.backends.numba import cache  # noqa: E402,F401


class NumbaBackend:
    """``compile(fgraph) -> run``; see the module docstring."""

    name = "numba"
    fresh_outputs = True

    def compile(self, fgraph, profile=None):
        if profile is not None:
            return self.compile_per_node(fgraph, profile)
        from graphc.backends.numba import fallback
        from graphc.backends.numba.lower import lower
        with collector_paused():
            lowered = lower(fgraph)
            function = cache.load(lowered.source, lowered.func_name)
            compile_eagerly(function, fgraph, lowered)
        return make_runner(fgraph, lowered, function, fallback)


    def compile_per_node(self, fgraph, profile):
        """One compiled function per node (each fused kernel on its own), run in order
        from Python and timed into ``profile``: slower calls, per-kernel timings."""
        steps = []
        for node in fgraph.toposort():
            inputs = [v for v in dict.fromkeys(node.inputs) if not isinstance(v, Constant)]
            # The node alone, over fresh inputs (a walk from its outputs stops there).
            free = {v: v.type.make_variable(name=v.name) for v in inputs}
            alone = node.op.make_node(*[free.get(v, v) for v in node.inputs])
            run = self.compile(FunctionGraph(list(free.values()), list(alone.outputs)))
            steps.append((node, inputs, run))
        outputs = list(fgraph.outputs)

        def run_all(values):
            storage = dict(zip(fgraph.inputs, values))
            for var in outputs:
                if isinstance(var, Constant):
                    storage[var] = var.data
            for node, inputs, run in steps:
                start = time.perf_counter()
                results = run([storage[v] for v in inputs])
                profile.record(node, time.perf_counter() - start)
                storage.update(zip(node.outputs, results))
            return [storage[v] for v in outputs]

        run_all.source = "\n\n".join(run.source for _, _, run in steps)
        return run_all


@contextlib.contextmanager
def collector_paused():
    """Python's cyclic garbage collector off for the duration of a compile.

    numba's compile makes some 10^5 objects that live until it ends; the collector
    ran ~200 times during the MLP's compile, scanning them each time, and took
    0.08-0.11 s of 1.2 s. Whatever garbage the compile leaves is collected later
    as usual.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def signature_of(fgraph, lowered):
    """The argument types of the call the runner will make with C-contiguous inputs.

    Built from the dtypes, not with ``numba.typeof``: its first call in a process
    costs 14 ms, a tenth of loading a graph from the disk cache.
    """
    from numba import types
    from numba.np.numpy_support import from_dtype

    def array(dtype, ndim, readonly=False):
        return types.Array(from_dtype(np.dtype(dtype)), ndim, "C", readonly=readonly)

    args = [array(var.dtype, var.ndim) for var in fgraph.inputs]
    # Constants are C-contiguous (lower.py), possibly read-only.
    args += [array(value.dtype, value.ndim, not value.flags.writeable)
             for value in lowered.const_args]
    return tuple(args) + (types.int64, types.int64)


def compile_eagerly(function, fgraph, lowered):
    """Compile (or load from the disk cache) the specialization for C-contiguous inputs
    now, so the cost shows in ``graphc.function()`` rather than in the first call.

    Then numba may compile no other specialization: inputs of another layout are
    copied by the runner instead (module docstring). A failure here is not raised:
    the first call compiles again and reports the error through the reference
    backend (see the module docstring), as a lazily compiled function would.
    """
    from graphc.backends.numba import cache
    # Graphs of the same source text share one dispatcher (float32 and float64
    # versions, say): each adds its specialization.
    function.disable_compile(False)
    try:
        cache.compile_function(function, signature_of(fgraph, lowered))
    except Exception:   # reported with context at the first call instead
        return
    function.disable_compile()


def make_runner(fgraph, lowered, function, fallback):
    """The cheap Python callable around the compiled function."""
    token = fallback.register(lowered.fallbacks) if lowered.fallbacks else 0
    callback = getattr(function.graphc_module, "graph_loops", None)
    loops = callback.address if callback is not None else 0
    tail = tuple(lowered.const_args) + (token, loops)

    def run(values):
        try:
            results = function(*values, *tail)
        except TypeError as error:
            # No specialization for these layouts (see compile_eagerly): once more
            # with C-contiguous writable copies of the inputs that differ.
            fitted = [as_c_array(v) for v in values]
            try:
                results = function(*fitted, *tail)
            except Exception:
                raise explain(fgraph, values, error) from None
        except Exception as error:   # any failure: let the reference name the node
            raise explain(fgraph, values, error) from None
        return list(results)

    run.source = lowered.source
    run.dispatcher = function
    run.loops = callback    # holds the callback (and its address) alive
    if token:
        weakref.finalize(run, fallback.release, token)
    return run


def as_c_array(value):
    """``value`` if it is a C-contiguous writable array, else such a copy of it."""
    if isinstance(value, np.ndarray) and value.flags.c_contiguous and value.flags.writeable:
        return value
    return np.array(value, order="C")


def explain(fgraph, values, error):
    """The GraphcError the reference backend raises on ``values``, else a generic one."""
    from graphc.backends import python
    try:
        python.BACKEND.compile(fgraph)(list(values))
    except GraphcError as reference_error:
        return reference_error
    except Exception as reference_error:   # the reference wraps errors; be safe anyway
        return GraphcError(f"{reference_error}")
    if isinstance(error, GraphcError):
        return error
    return GraphcError(f"numba backend: {type(error).__name__}: {error} (the python "
                       "backend computes this graph without error)")


BACKEND = NumbaBackend()
