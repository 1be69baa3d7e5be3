"""On-disk cache of generated modules, so a second process does not compile again.

The generated source is written to ``<compiledir>/numba/g_<key>.py`` where the
key hashes the source with the versions of numba, llvmlite, NumPy, Python and
graphc and with the text of this backend's own files (a changed kernel must not
load machine code compiled against the old one). The module is imported from
that file and its function is ``njit(cache=True)``: numba then stores the machine
code next to it (or under ``NUMBA_CACHE_DIR``) and a later process loads it
instead of compiling.

Writes are atomic (a temporary file, then ``os.replace``), so a process never
imports a half-written module; an entry whose text does not match its key
(truncated, edited) is rewritten with a warning.

Loading machine code skips numba's ``BaseContext.refresh``. numba runs it before
every cache lookup; the first time in a process it imports and registers every
lowering numba has (and SciPy), 0.6 s of a 0.67 s load of the MLP's train
function here. Code loaded from disk needs none of it: it is already lowered, and
a lookup that misses compiles through numba's public path, which refreshes.

Compiling ``graph_fn`` runs a lighter LLVM pipeline over the kernels linked into
it (:func:`_optimize_linked_graph`).
"""
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import warnings

import llvmlite
import numba
import numpy as np
from numba.core import codegen, sigutils
from numba.core.ccallback import CFunc
from numba.core.caching import FunctionCache
from numba.core.runtime import rtsys

import graphc
from graphc.config import config

_LOADED = {}
_LOCK = threading.Lock()


class CacheWarning(UserWarning):
    """A cache entry was unreadable or corrupt and was rebuilt."""


def _fingerprint():
    digest = hashlib.sha256()
    for part in (numba.__version__, llvmlite.__version__, np.__version__, sys.version,
                 getattr(graphc, "__version__", "0")):
        digest.update(part.encode())
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.endswith(".py"):
            with open(os.path.join(here, name), "rb") as handle:
                digest.update(name.encode())
                digest.update(handle.read())
    return digest.hexdigest()


FINGERPRINT = _fingerprint()


def key_of(source):
    """The cache key of a generated source text."""
    return hashlib.sha256((FINGERPRINT + source).encode()).hexdigest()[:40]


def cache_dir():
    return os.path.join(config.compiledir, "numba")


def _write_atomic(path, text):
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(handle, "w") as stream:
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
        if hasattr(module, "graph_loops"):
            compile_cfunc(module.graph_loops)
        _LOADED[key] = function
        return function


def _optimize_linked_graph(library, numba_optimize=codegen.CPUCodeLibrary._optimize_final_module):
    """numba's last optimization of a library, lighter for the generated ``graph_fn``.

    numba links every kernel ``graph_fn`` calls into its module and runs the full
    module pipeline over all of it again, though each kernel was optimized when it
    was compiled: 0.7 s of the MLP's 1.75 s in LLVM here. ``graph_fn`` gets numba's
    cheap pipeline (inlining, simplification) and reference-count pruning, then the
    full function pipeline on its own functions. Its hot loops are in the kernels
    and in ``graph_loops``, which keep the full one. Measured: LLVM 1.75 -> 0.95 s,
    the MLP step the same, the 10-op call 2.4 -> 2.5 us.
    """
    if library.name != "graph_fn":
        return numba_optimize(library)
    codegen_ = library._codegen
    cheap, builder = codegen_._module_pass_manager(
        loop_vectorize=codegen_._loopvect, slp_vectorize=False, opt=codegen_._opt_level,
        cost="cheap")
    cheap.run(library._final_module, builder)
    library._final_module = codegen.remove_redundant_nrt_refct(library._final_module)
    # The full function pipeline on graph_fn and its wrappers, now with the small
    # kernels inlined: it pays back its cost on every call.
    for function in library._final_module.functions:
        if "graph_fn" in function.name and not function.is_declaration:
            passes, builder = codegen_._function_pass_manager()
            passes.run(function, builder)


if hasattr(codegen, "remove_redundant_nrt_refct"):    # this numba's internals, else not
    codegen.CPUCodeLibrary._optimize_final_module = _optimize_linked_graph


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


def compile_function(dispatcher, sig):
    """Give the ``njit`` ``dispatcher`` its specialization for ``sig``: loaded from
    numba's disk cache without the refresh, else compiled (and stored)."""
    if tuple(sig) in dispatcher.overloads:
        return
    cres = _load_without_refresh(dispatcher._cache, sig, dispatcher.targetctx)
    if cres is None:
        dispatcher.compile(sig)
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
        callback.compile()
        return
    # What numba's CFunc.compile does with a cache hit.
    callback._library = cres.library
    callback._wrapper_name = cres.fndesc.llvm_cfunc_wrapper_name
    callback._wrapper_address = cres.library.get_pointer_to_function(callback._wrapper_name)
