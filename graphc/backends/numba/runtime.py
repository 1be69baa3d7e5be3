"""Everything the generated modules refer to: ``from ...runtime import *``.

The kernels (names starting ``k_``) live beside the lowering of their op family;
this module gathers them with the fast math functions, so one import line
serves every generated module.
"""
import os

from numba import get_num_threads

from graphc.backends.numba import (conv, elemwise, extra, fallback, linalg, loops, nnet,
                                   random, reduction, shape, subtensor)
from graphc.backends.numba.cache import cfunc as graphc_cfunc
from graphc.backends.numba.fastmath import KERNELS

_FAMILIES = (elemwise, reduction, shape, linalg, subtensor, nnet, fallback, conv, random,
             loops, extra)

for _module in _FAMILIES:
    globals().update({name: value for name, value in vars(_module).items()
                      if name.startswith("k_")})

# The fast math kernels as ``fm_exp32``, ``fm_exp64`` ... (see elemwise._fast).
for _name, (_f32, _f64) in KERNELS.items():
    globals()[f"fm_{_name}32"] = _f32
    globals()[f"fm_{_name}64"] = _f64

__all__ = [name for name in globals() if name.startswith(("k_", "fm_"))] + ["graphc_cfunc"]

# Threads waiting for work spin only briefly, then sleep. With OpenMP's default
# (spinning for ~300k rounds) the pool's idle threads held the cores BLAS wanted
# next: the MLP training step took 11.8 ms instead of 1.35 ms here. 3000 rounds
# keep back-to-back launches cheap (~3 us, loops of one call); a launch after a
# pause pays the wake-up (~50 us here), which the thresholds of loops.py and
# nnet.py account for. A user's own setting wins; it takes effect only if OpenMP
# is not loaded yet (it reads the variable once).
os.environ.setdefault("GOMP_SPINCOUNT", "3000")

# Start numba's thread pool now. A graph function loaded from the disk cache
# carries the parallel kernels' code linked in, but nothing in loading it starts
# the pool those kernels launch into (compiling a parallel function would);
# get_num_threads() does, and registers the launcher's symbols with LLVM.
get_num_threads()
