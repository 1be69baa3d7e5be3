"""Everything the generated modules refer to: ``from ...runtime import *``.

The kernels (names starting ``k_``) live beside the lowering of their op family;
this module gathers them with the fast math functions, so one import line
serves every generated module.
"""
from graphc.backends.numba import (conv, elemwise, fallback, linalg, nnet, random, reduction,
                                   shape, subtensor)
from graphc.backends.numba.fastmath import KERNELS

_FAMILIES = (elemwise, reduction, shape, linalg, subtensor, nnet, fallback, conv, random)

for _module in _FAMILIES:
    globals().update({name: value for name, value in vars(_module).items()
                      if name.startswith("k_")})

# The fast math kernels as ``fm_exp32``, ``fm_exp64`` ... (see elemwise._fast).
for _name, (_f32, _f64) in KERNELS.items():
    globals()[f"fm_{_name}32"] = _f32
    globals()[f"fm_{_name}64"] = _f64

__all__ = [name for name in globals() if name.startswith(("k_", "fm_"))]
