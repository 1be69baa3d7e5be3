"""The errors graphc raises on purpose.

Every error a user can provoke derives from :class:`GraphcError`, so
``except graphc.GraphcError`` catches them all; the subclasses also derive from
the matching built-in (``TypeError``, ``ValueError``) so code written against
NumPy's exceptions keeps working.
"""


class GraphcError(Exception):
    """Base class of every error graphc raises on purpose."""


class GraphcTypeError(GraphcError, TypeError):
    """A dtype or ndim does not fit what an op or an input expects."""


class GraphcValueError(GraphcError, ValueError):
    """A value (a shape, an axis, an argument) is out of what is allowed."""


class ShapeError(GraphcValueError):
    """Shapes that cannot be broadcast or combined, at build or at call time."""


class GradientError(GraphcError):
    """Raised by :func:`graphc.verify_grad` when symbolic and numeric gradients differ."""

    def __init__(self, message, *, arg=None, abs_err=None, rel_err=None):
        super().__init__(message)
        self.arg = arg
        self.abs_err = abs_err
        self.rel_err = rel_err


class DisconnectedInputError(GraphcValueError):
    """``grad`` was asked for an input the cost does not depend on."""


class MissingInputError(GraphcValueError):
    """An output depends on a variable that is neither an input nor given a value."""


class UnusedInputError(GraphcValueError):
    """An input of ``function`` is not used by any output or update."""
