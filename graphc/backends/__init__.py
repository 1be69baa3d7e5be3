"""Backends: each lowers a FunctionGraph, compiles it, and runs it.

A backend object has ``name``, ``fresh_outputs`` (True if its results never
alias arguments or internal buffers, so ``Function`` need not copy them) and
``compile(fgraph, profile=None) -> run``, where ``run(list of arrays) -> list
of arrays`` takes the explicit inputs then the shared values.
"""
import importlib

from graphc.errors import GraphcValueError

# name -> module holding a BACKEND object; imported on first use so that numba
# and pycuda load only when asked for.
_MODULES = {
    "python": "graphc.backends.python",
    "numba": "graphc.backends.numba",
    "cuda": "graphc.backends.cuda",
}


def get(name):
    """The backend called ``name``."""
    if name not in _MODULES:
        raise GraphcValueError(f"unknown backend {name!r}; choose one of {sorted(_MODULES)}")
    try:
        module = importlib.import_module(_MODULES[name])
    except ModuleNotFoundError as error:
        if error.name != _MODULES[name]:
            raise
        raise GraphcValueError(f"the {name!r} backend is not available in this version of "
                               "graphc; use backend='numba' or 'python'") from None
    return module.BACKEND
