"""On-disk cache of generated modules, so a second process does not compile again.

The generated source is written to ``<compiledir>/numba/g_<key>.py`` where the
key hashes the source with the versions of numba, llvmlite, NumPy, Python and
graphc and with the text of this backend's own files (a changed kernel must not
load machine code compiled against the old one). The module is imported from
that file; its function's machine code is stored next to it (numba's cache
format, or under ``NUMBA_CACHE_DIR``) and a later process loads it instead of
compiling.

Writes are atomic (a temporary file, then ``os.replace``), so a process never
imports a half-written module; an entry whose text does not match its key
(truncated, edited) is rewritten with a warning.

Loading machine code skips numba's ``BaseContext.refresh``. numba runs it before
every cache lookup; the first time in a process it imports and registers every
lowering numba has (and SciPy), 0.6 s of a 0.67 s load of the MLP's train
function here. Code loaded from disk needs none of it: it is already lowered, and
a lookup that misses compiles a graph after a lighter refresh (the
implementations a graph can use, :data:`GRAPH_IMPLEMENTATIONS`), a kernel after
numba's full one. numba's runtime functions, which it compiles with LLVM in every
process, are stored too (``nrt-<key>.pickle``, :func:`_nrt_functions`).

``graph_fn`` calls the shared kernels (``k_*``, but for the small helpers of
``LINKED_MODULES``) by symbol instead of carrying a copy of each: numba would
link every kernel's code into every graph's module and run LLVM over all of it
again (LLVM 1.34 -> 0.39 s on the MLP, 2.8 -> 1.5 s on LeNet). So
``graph_fn``'s machine code needs the kernels loaded before it: its disk-cache
entry (:class:`GraphCache`) lists them with their symbol names, loading it loads
them first, and an entry whose kernels were since recompiled under other
names is a miss (compiled again), never an unresolved symbol. numba's own cache
is off for ``graph_fn`` (it would load the code without the kernels).
"""
import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
import threading
import warnings

import llvmlite
import numba
import numpy as np
from numba.core import base, codegen, compiler, cpu, sigutils
from numba.core.caching import (CacheImpl, CompileResultCacheImpl, FunctionCache,
                                InTreeCacheLocator, NullCache, UserProvidedCacheLocator,
                                UserWideCacheLocator)
from numba.core.ccallback import CFunc
from numba.core.dispatcher import Dispatcher
from numba.core.runtime import nrtdynmod, rtsys

import graphc
from graphc.config import config

_LOADED = {}
_LOCK = threading.Lock()


class CacheWarning(UserWarning):
    """A cache entry was unreadable or corrupt and was rebuilt."""


_PACKAGE = os.path.dirname(os.path.abspath(graphc.__file__))
# Files outside this backend that define functions it compiles (njit of an op's
# own rule, so both backends share one definition).
_KERNEL_SOURCES_OUTSIDE = (os.path.join("ops", "conv.py"),)


def _fingerprint():
    digest = hashlib.sha256()
    for part in (numba.__version__, llvmlite.__version__, np.__version__, sys.version,
                 getattr(graphc, "__version__", "0")):
        digest.update(part.encode())
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, name) for name in sorted(os.listdir(here))
             if name.endswith(".py")]
    paths += [os.path.join(_PACKAGE, name) for name in _KERNEL_SOURCES_OUTSIDE]
    for path in paths:
        with open(path, "rb") as handle:
            digest.update(os.path.basename(path).encode())
            digest.update(handle.read())
    return digest.hexdigest()


FINGERPRINT = _fingerprint()


# ------------------------------------------------------ the kernels' own cache
# numba keys a cached function by the stamp (mtime, size) of its own file only, but a
# kernel carries the code of the kernels it calls from other files: after an edit of
# shape.py, elemwise.py's k_flat loaded the old k_broadcast from its cache (a crash
# fixed in shape.py came back). graphc's compiled functions are stamped with the
# backend's FINGERPRINT instead: any change to a kernel source recompiles them all.
class _BackendStamp:
    def get_source_stamp(self):
        return FINGERPRINT

    @classmethod
    def from_function(cls, py_func, py_file):
        if not os.path.abspath(py_file).startswith(_PACKAGE + os.sep):
            return None
        return super().from_function(py_func, py_file)


class _KernelUserProvidedLocator(_BackendStamp, UserProvidedCacheLocator):
    """Under ``NUMBA_CACHE_DIR`` when it is set, as numba's own."""


class _KernelInTreeLocator(_BackendStamp, InTreeCacheLocator):
    """In ``__pycache__`` beside the source, as numba's own."""


class _KernelUserWideLocator(_BackendStamp, UserWideCacheLocator):
    """In the user's cache directory when the package's is not writable."""


if not any(issubclass(c, _BackendStamp) for c in CacheImpl._locator_classes):
    CacheImpl._locator_classes[:0] = [_KernelUserProvidedLocator, _KernelInTreeLocator,
                                      _KernelUserWideLocator]


def key_of(source):
    """The cache key of a generated source text."""
    return hashlib.sha256((FINGERPRINT + source).encode()).hexdigest()[:40]


def cache_dir():
    return os.path.join(config.compiledir, "numba")


def _write_atomic(path, text):
    """Write ``text`` (str or bytes) to ``path`` through a rename: a reader in another
    process sees the old file or the whole new one."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(handle, "wb" if isinstance(text, bytes) else "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _ensure_file(path, source):
    """Make ``path`` hold exactly ``source``; rewrite a corrupt entry with a warning."""
    try:
        with open(path) as stream:
            current = stream.read()
    except FileNotFoundError:
        _write_atomic(path, source)
        return
    except (OSError, UnicodeDecodeError):
        current = None
    if current != source:
        warnings.warn(f"numba backend: cache entry {path} was corrupt; rebuilding it",
                      CacheWarning, stacklevel=4)
        _clear_numba_cache(path)
        _write_atomic(path, source)


def _clear_numba_cache(path):
    """Remove numba's index and machine code stored for the module at ``path``."""
    stem = os.path.splitext(os.path.basename(path))[0]
    pycache = os.path.join(os.path.dirname(path), "__pycache__")
    if os.path.isdir(pycache):
        for name in os.listdir(pycache):
            if name.startswith(stem + "."):
                try:
                    os.unlink(os.path.join(pycache, name))
                except OSError:
                    pass


def load(source, func_name):
    """The numba dispatcher of ``func_name`` defined by ``source`` (cached).

    Its module is the dispatcher's ``graphc_module`` attribute (for ``graph_loops``).
    """
    key = key_of(source)
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        path = os.path.join(cache_dir(), f"g_{key}.py")
        _ensure_file(path, source)
        module_name = f"graphc_numba_g_{key}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        # Registered before it runs: numba's cache looks a function's globals up by
        # module name when it compiles or loads graph_fn and graph_loops.
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
        function = getattr(module, func_name)
        function.graphc_module = module
        if isinstance(function, Dispatcher):
            function.graphc_cache = GraphCache(function.py_func)
            function._cache = NullCache()
        if hasattr(module, "graph_loops"):
            compile_cfunc(module.graph_loops)
        _LOADED[key] = function
        return function


def _optimize_linked_graph(library, numba_optimize=codegen.CPUCodeLibrary._optimize_final_module):
    """numba's last optimization of a library, lighter for the generated ``graph_fn``.

    numba links the kernels ``graph_fn`` calls into its module (here only the small
    helpers of ``LINKED_MODULES``) and runs the full module pipeline over all of it
    again, though each kernel was optimized when it was compiled. ``graph_fn`` gets
    numba's cheap pipeline (inlining, simplification) and reference-count pruning
    only; its functions had numba's full function pipeline when they were added.
    Its hot loops are in the kernels and in ``graph_loops``, which keep the full
    one. Measured on the MLP: LLVM 0.55 against 0.6-0.8 s (1.75 -> 0.95 s when every
    kernel was linked), the step the same. A second run of the function pipeline
    after linking cost 0.04 s of the MLP's compile and changed neither the 10-op
    call (2.4 us) nor the step; code generation without optimization (``optnone``)
    saved 0.01-0.02 s and cost 0.05-0.1 us per call: neither is done.
    """
    if library.name != "graph_fn":
        return numba_optimize(library)
    codegen_ = library._codegen
    cheap, builder = codegen_._module_pass_manager(
        loop_vectorize=codegen_._loopvect, slp_vectorize=False, opt=codegen_._opt_level,
        cost="cheap")
    cheap.run(library._final_module, builder)
    library._final_module = codegen.remove_redundant_nrt_refct(library._final_module)


if hasattr(codegen, "remove_redundant_nrt_refct"):    # this numba's internals, else not
    codegen.CPUCodeLibrary._optimize_final_module = _optimize_linked_graph


# ------------------------------------------------- kernels called by symbol
# Kernels of these modules are linked into graph_fn as numba does: small shape
# helpers (k_empty, k_reshape, k_flat ...), most of graph_fn's calls, which LLVM
# inlines and which cost little to link; each kernel called by symbol is one more
# module to load from disk with a cached graph (about 3 ms each here).
LINKED_MODULES = ("graphc.backends.numba.shape", "graphc.backends.numba.elemwise")


def _kernel_dispatchers():
    from graphc.backends.numba import runtime
    for name in runtime.__all__:
        value = getattr(runtime, name)
        if (name.startswith("k_") and isinstance(value, Dispatcher)
                and value.py_func.__module__ not in LINKED_MODULES):
            yield value


def _kernel_of(library):
    """``(module, name, argument types, symbol)`` of the kernel compiled into
    ``library``, or None if it is no shared kernel."""
    for dispatcher in _kernel_dispatchers():
        for cres in dispatcher.overloads.values():
            if cres.library is library:
                return (dispatcher.py_func.__module__, dispatcher.py_func.__name__,
                        tuple(cres.signature.args), cres.fndesc.mangled_name)
    return None


def _add_linking_libs(context, libraries, numba_add=base.BaseContext.add_linking_libs):
    """numba's ``add_linking_libs``, except that ``graph_fn`` links no shared kernel:
    it keeps the kernel's symbol, resolved against the kernel's own loaded code, and
    records the kernel for :class:`GraphCache`."""
    active = context.active_code_library
    if active.name != "graph_fn":
        return numba_add(context, libraries)
    linked = []
    for library in libraries:
        kernel = _kernel_of(library)
        if kernel is None:
            linked.append(library)
        else:
            active.graphc_kernels = getattr(active, "graphc_kernels", set()) | {kernel}
    return numba_add(context, linked)


class GraphCacheImpl(CompileResultCacheImpl):
    """A compiled ``graph_fn`` stored with the kernels it calls by symbol."""

    def reduce(self, cres):
        kernels = sorted(getattr(cres.library, "graphc_kernels", ()), key=repr)
        return kernels, super().reduce(cres)

    def rebuild(self, target_context, payload):
        kernels, data = payload
        for module_name, name, argtypes, symbol in kernels:
            try:
                dispatcher = getattr(importlib.import_module(module_name), name)
                compile_function(dispatcher, argtypes)
            except Exception:   # the kernel is gone or takes other arguments now
                return None
            if dispatcher.overloads[argtypes].fndesc.mangled_name != symbol:
                return None    # the kernel was recompiled since: compile the graph again
        return super().rebuild(target_context, data)


class GraphCache(FunctionCache):
    _impl_class = GraphCacheImpl


if hasattr(base.BaseContext, "add_linking_libs"):
    base.BaseContext.add_linking_libs = _add_linking_libs


def _load_without_refresh(cache, sig, context):
    """The compile result numba's disk ``cache`` holds for ``sig``, or None.

    numba's own ``load_overload`` minus its ``context.refresh()`` (module docstring).
    An unreadable entry is a miss: the caller compiles.
    """
    load = getattr(cache, "_load_overload", None)
    if load is None:     # another numba: its public path, refresh included
        return cache.load_overload(sig, context)
    # The one part of the refresh loaded code needs: the runtime's symbols (NRT_*).
    rtsys.initialize(context)
    try:
        return load(sig, context)
    except Exception:    # a corrupt or foreign entry; compiling replaces it
        return None


def _nrt_functions(context):
    """numba's runtime functions (reference counts, atomics), from the disk cache.

    numba compiles them with LLVM when a process first needs its runtime: 60 ms,
    half of loading a cached graph. Their machine code is stored like a kernel's,
    under a key of numba's versions and this CPU; an unreadable entry is compiled
    again.
    """
    codegen_ = context.codegen()
    tag = hashlib.sha256(repr((FINGERPRINT, codegen_.magic_tuple())).encode()).hexdigest()
    path = os.path.join(cache_dir(), f"nrt-{tag[:24]}.pickle")
    try:
        with open(path, "rb") as stream:
            return codegen_.unserialize_library(pickle.load(stream))
    except Exception:   # absent, corrupt, or another numba's: compile it
        pass
    # What numba's compile_nrt_functions does, keeping the machine code to store.
    module, library = nrtdynmod.create_nrt_module(context)
    library.enable_object_caching()
    library.add_ir_module(module)
    library.finalize()
    try:
        _write_atomic(path, pickle.dumps(library.serialize_using_object_code()))
    except OSError:
        pass
    return library


if hasattr(nrtdynmod, "create_nrt_module") and hasattr(codegen.Codegen, "unserialize_library"):
    nrtdynmod.compile_nrt_functions = _nrt_functions


# ------------------------------------------------------------ light refresh
# numba's implementations that typing and lowering a generated graph_fn or
# graph_loops can need: the language, tuples, arrays, NumPy's ufuncs on scalars
# and math. numba's refresh before a compile imports every module it has (NumPy's
# linalg and with it SciPy, random generators, typed containers, jitclass, ...)
# and registers them all: 0.3-0.5 s in a process's first compile, against 0.12 s
# for these. A kernel compiled meanwhile (``k_*``, anything that is not a graph)
# gets numba's full refresh first (:func:`_compile_extra`), and a graph that
# fails to compile with these alone is compiled again after the full refresh.
GRAPH_IMPLEMENTATIONS = (
    "numba.cpython.builtins", "numba.cpython.charseq", "numba.cpython.enumimpl",
    "numba.cpython.hashing", "numba.cpython.heapq", "numba.cpython.iterators",
    "numba.cpython.listobj", "numba.cpython.numbers", "numba.cpython.rangeobj",
    "numba.cpython.setobj", "numba.cpython.slicing", "numba.cpython.tupleobj",
    "numba.cpython.unicode", "numba.core.optional", "numba.misc.literal",
    "numba.np.arrayobj", "numba.np.npyimpl", "numba.cpython.cmathimpl",
    "numba.cpython.mathimpl", "numba.cpython.printimpl",
)
GRAPH_FUNCTIONS = ("graph_fn", "graph_loops")
_LIGHT = threading.local()     # .on: a graph compiles, refreshes may be light


def _load_registries(context, numba_load=cpu.CPUContext.load_additional_registries):
    if not getattr(_LIGHT, "on", False):
        return numba_load(context)
    rtsys.initialize(context)
    for name in GRAPH_IMPLEMENTATIONS:
        importlib.import_module(name)


def _compile_extra(typingctx, targetctx, func, *args, numba_compile=compiler.compile_extra,
                   **kwargs):
    """numba's ``compile_extra``, with the full refresh for anything but a graph."""
    light = getattr(_LIGHT, "on", False)
    _LIGHT.on = light and getattr(func, "__name__", None) in GRAPH_FUNCTIONS
    try:
        return numba_compile(typingctx, targetctx, func, *args, **kwargs)
    finally:
        _LIGHT.on = light


def _compile_graph(compile, failed_cache):
    """Run ``compile()`` after a light refresh; on failure, after numba's full one."""
    _LIGHT.on = True
    try:
        return compile()
    except Exception:
        pass      # perhaps an implementation outside GRAPH_IMPLEMENTATIONS: see below
    finally:
        _LIGHT.on = False
    failed_cache.clear()   # numba remembers a typing failure per signature
    return compile()


if hasattr(cpu.CPUContext, "load_additional_registries") and hasattr(compiler, "compile_extra"):
    cpu.CPUContext.load_additional_registries = _load_registries
    compiler.compile_extra = _compile_extra


def compile_function(dispatcher, sig):
    """Give the ``njit`` ``dispatcher`` its specialization for ``sig``: loaded from
    the disk cache without the refresh, else compiled (and stored).

    A generated ``graph_fn`` uses its :class:`GraphCache` (``graphc_cache``), a
    kernel numba's own cache.
    """
    sig = tuple(sig)
    if sig in dispatcher.overloads:
        return
    cache = getattr(dispatcher, "graphc_cache", dispatcher._cache)
    cres = _load_without_refresh(cache, sig, dispatcher.targetctx)
    if cres is None and cache is dispatcher._cache:
        dispatcher.compile(sig)
        return
    if cres is None:
        _compile_graph(lambda: dispatcher.compile(sig), dispatcher._compiler._failed_cache)
        cache.save_overload(sig, dispatcher.overloads[sig])
        return
    # What numba's Dispatcher.compile does with a cache hit.
    dispatcher._cache_hits[sig] += 1
    dispatcher.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
    dispatcher.add_overload(cres)


def cfunc(signature):
    """``numba.cfunc(signature, cache=True)`` whose compile waits for
    :func:`compile_cfunc`, which loads it without numba's refresh.

    The generated modules decorate ``graph_loops`` with it; numba's decorator would
    compile (or load) while the module is imported.
    """
    def wrap(function):
        callback = CFunc(function, sigutils.normalize_signature(signature),
                         locals={}, options={"error_model": "numpy"})
        callback._cache = FunctionCache(function)
        return callback
    return wrap


def compile_cfunc(callback):
    """Load (without refresh) or compile the C callback made by :func:`cfunc`."""
    if callback._wrapper_address is not None:
        return
    context = callback._targetdescr.target_context
    cres = _load_without_refresh(callback._cache, callback._sig, context)
    if cres is None:
        _compile_graph(callback.compile, callback._compiler._failed_cache)
        return
    # What numba's CFunc.compile does with a cache hit.
    callback._library = cres.library
    callback._wrapper_name = cres.fndesc.llvm_cfunc_wrapper_name
    callback._wrapper_address = cres.library.get_pointer_to_function(callback._wrapper_name)
