"""Where the compiled code's BLAS comes from: the ``graphc_sgemm``/``graphc_dgemm`` symbols.

Compiled kernels call ``graphc_sgemm`` and ``graphc_dgemm`` (Fortran ``xgemm``
arguments, all by reference) by name; this module binds the names to addresses
with ``llvmlite.binding.add_symbol`` at import, before any kernel is compiled or
loaded. A name, not an address, is in the machine code, so the disk cache stays
valid across processes.

The BLAS is NumPy's own OpenBLAS (the one its wheels bundle) when it can be found,
else SciPy's (``scipy.linalg.cython_blas``, what numba's ``np.dot`` uses):

- NumPy's keeps one BLAS thread pool in the process instead of two (the python
  backend and the user's NumPy code use NumPy's), and needs no SciPy;
- SciPy's ``import`` costs 0.3 s here, which a graph loaded from the disk cache
  would pay at its first product.

Integer arguments are passed as pointers to int64. An ILP64 BLAS (NumPy's) reads
them whole; an LP64 one (SciPy's) reads the low 32 bits, which on a little-endian
machine are the value itself for any size an LP64 BLAS can take.
"""
import ctypes
import glob
import os
import sys

import numpy as np
from llvmlite import binding

from graphc.errors import GraphcError

# Fortran xgemm names, ILP64 first, as NumPy's wheels export them: NumPy 2
# (scipy-openblas64, prefixed), NumPy 1.2x (openblas64_), then a plain LP64 library.
_NAMES = (("scipy_sgemm_64_", "scipy_dgemm_64_"),
          ("sgemm_64_", "dgemm_64_"),
          ("sgemm_", "dgemm_"))


def _numpy_openblas():
    """(sgemm, dgemm) addresses in NumPy's bundled OpenBLAS, or None."""
    package = os.path.dirname(np.__file__)
    patterns = [os.path.join(package, os.pardir, "numpy.libs", "*openblas*"),
                os.path.join(package, ".dylibs", "*openblas*")]
    for path in sorted(p for pattern in patterns for p in glob.glob(pattern)):
        try:
            library = ctypes.CDLL(path)     # already loaded by NumPy: the same copy
        except OSError:
            continue
        for single, double in _NAMES:
            try:
                functions = getattr(library, single), getattr(library, double)
            except AttributeError:
                continue
            return tuple(ctypes.cast(f, ctypes.c_void_p).value for f in functions)
    return None


def _scipy_blas():
    """(sgemm, dgemm) addresses from ``scipy.linalg.cython_blas``, or None."""
    try:
        from scipy.linalg import cython_blas
    except ImportError:
        return None
    # Own prototypes: setting argtypes on ctypes.pythonapi's would change them for
    # every other user in the process.
    get_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(
        ("PyCapsule_GetName", ctypes.pythonapi))
    get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
        ("PyCapsule_GetPointer", ctypes.pythonapi))
    addresses = []
    for name in ("sgemm", "dgemm"):
        capsule = cython_blas.__pyx_capi__[name]
        addresses.append(get_pointer(capsule, get_name(capsule)))
    return tuple(addresses)


FINDERS = {"numpy": _numpy_openblas, "scipy": _scipy_blas}


def _bind(sources=("numpy", "scipy")):
    """Bind the symbols to the first of ``sources`` found; returns its name, or None.

    Rebinding (a test does) affects only code loaded after it.
    """
    if sys.byteorder != "little":
        raise GraphcError("numba backend: BLAS binding assumes a little-endian machine")
    for source in sources:
        found = FINDERS[source]()
        if found is not None:
            binding.add_symbol("graphc_sgemm", found[0])
            binding.add_symbol("graphc_dgemm", found[1])
            return source
    return None


SOURCE = _bind()


def require():
    """Raise a GraphcError if no BLAS was found (called when a product is lowered)."""
    if SOURCE is None:
        raise GraphcError("numba backend: matrix products need BLAS, and neither NumPy's "
                          "bundled OpenBLAS nor scipy.linalg.cython_blas was found; "
                          "install scipy, or use backend='python'")
