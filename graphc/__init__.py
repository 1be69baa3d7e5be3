"""graphc: a define-then-compile graph compiler in the style of Theano.

>>> import graphc
>>> import graphc.tensor as T
>>> x = T.dvector("x")
>>> f = graphc.function([x], T.exp(x).sum(), backend="python")
>>> float(f([0.0, 0.0]))
2.0
"""
from graphc.config import config
from graphc.errors import GraphcError, GradientError
from graphc import tensor
from graphc.compile import In, Function, Mode, Out, Param, function, shared
from graphc.graph import FunctionGraph, Variable, clone
from graphc import gradient
from graphc.gradient import grad, hessian, jacobian, Lop, Rop, verify_grad
from graphc import printing
from graphc.printing import debugprint, pp
from graphc.tensor import dot
from graphc.ops.scan import scan, map, reduce, foldl, foldr
from graphc import scan_module

# T.grad is graphc.grad (tensor sits below gradient, so the link is made here).
tensor.grad, tensor.jacobian, tensor.hessian = grad, jacobian, hessian
tensor.Lop, tensor.Rop, tensor.verify_grad = Lop, Rop, verify_grad
clone_replace = clone       # Theano's later name for theano.clone

__version__ = "0.1.0"

__all__ = ["config", "GraphcError", "GradientError", "tensor", "function", "shared",
           "In", "Function", "FunctionGraph", "Variable", "gradient", "grad", "hessian",
           "jacobian", "Lop", "Rop", "verify_grad", "printing", "debugprint", "scan", "map",
           "reduce", "foldl", "foldr", "scan_module", "clone", "clone_replace", "Param", "Out", "Mode", "pp",
           "dot"]

# Subpackages reachable as attributes once used (graphc.datasets.load_digits(...)),
# imported only then: the front end and the datasets cost imports most programs skip.
_LAZY_SUBMODULES = ("datasets", "nn", "sandbox")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"graphc.{name}")
    raise AttributeError(f"module 'graphc' has no attribute {name!r}")
