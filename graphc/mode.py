"""Theano's compilation modes: ``function(..., mode="FAST_RUN")`` or ``mode=Mode(...)``.

A mode is Theano's bundle of an optimizer and a linker. graphc chooses the same
two things with ``function``'s ``optimizer=``, ``excluding=``/``including=`` and
``backend=``; a :class:`Mode` only translates Theano's spelling into those
(:meth:`Mode.settings`). Also reachable as ``graphc.compile.mode``.

Theano's rewrite tags that graphc has under another name are translated
(``local_elemwise_fusion`` -> ``fusion``); excluding a tag graphc has no rewrite
for does nothing, as in Theano, while including one raises.
"""
from graphc.errors import GraphcTypeError, GraphcValueError
from graphc.passes.pipeline import all_rewrite_names

# Theano's optimizer names -> (graphc optimizer, passes excluded from it).
_OPTIMIZERS = {
    "default": ("fast_run", ()),
    "fast_run": ("fast_run", ()),
    "fast_compile": ("fast_compile", ()),
    "merge": ("fast_compile", ("constant_folding",)),
    "None": (None, ()),
    None: (None, ()),
}
# Theano's linkers -> graphc backend (None: the default one, compiled code).
_LINKERS = {
    None: None, "py": "python", "python": "python", "numba": "numba", "cuda": "cuda",
    "c": None, "c|py": None, "c|py_nogc": None, "cvm": None, "vm": None,
    "cvm_nogc": None, "vm_nogc": None,
}
# Theano's names of rewrites graphc has under its own name.
_TAGS = {
    "local_elemwise_fusion": "fusion", "elemwise_fusion": "fusion",
    "composite_elemwise_fusion": "fusion", "topo_constant_folding": "constant_folding",
    "merge1": "merge", "merge2": "merge", "merge3": "merge",
}
# How much each optimizer does: including "fast_run" raises fast_compile to it.
_RANK = {None: 0, "fast_compile": 1, "fast_run": 2}


def _known(table):
    return ", ".join(repr(k) for k in table if k != "None")


class Mode:
    """A Theano compilation mode: an optimizer and a linker.

    Parameters
    ----------
    linker : str, optional
        Theano's linker: ``"py"`` runs the python backend; ``"cvm"``, ``"c"``,
        ``"vm"``, ``"c|py"`` and None the default backend; ``"numba"`` and
        ``"cuda"`` name a graphc backend.
    optimizer : str or None
        ``"fast_run"`` (``"default"``), ``"fast_compile"``, ``"merge"`` or None.

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> mode = graphc.Mode(linker="py", optimizer="fast_run").excluding("fusion")
    >>> f = graphc.function([x], T.exp(x) * 2, mode=mode)
    >>> f([0.0])
    array([2.])
    """

    def __init__(self, linker=None, optimizer="default"):
        if not isinstance(optimizer, (str, type(None))):
            raise GraphcTypeError(f"Mode: optimizer must be a name or None, got "
                                  f"{type(optimizer).__name__} (graphc has no optimizer "
                                  "objects)")
        if optimizer not in _OPTIMIZERS:
            raise GraphcValueError(f"Mode: unknown optimizer {optimizer!r}; known: "
                                   f"{_known(_OPTIMIZERS)}")
        if linker not in _LINKERS:
            raise GraphcValueError(f"Mode: unknown linker {linker!r}; known: "
                                   f"{_known(_LINKERS)}")
        self.linker = linker
        self.provided_optimizer = optimizer
        self.optimizer, self._excluded = _OPTIMIZERS[optimizer]
        self._included = ()

    def including(self, *tags):
        """A new mode that also runs the rewrites or passes ``tags``."""
        result = self._copy()
        for tag in tags:
            tag = _TAGS.get(tag, tag)
            if tag in _RANK:
                if _RANK[tag] > _RANK[result.optimizer]:
                    result.optimizer = tag
            elif tag in all_rewrite_names():
                if tag not in result._included:
                    result._included += (tag,)
                result._excluded = tuple(t for t in result._excluded if t != tag)
            else:
                raise GraphcValueError(f"Mode.including: graphc has no rewrite {tag!r}; "
                                       f"known: {sorted(all_rewrite_names())}")
        return result

    def excluding(self, *tags):
        """A new mode that skips the rewrites or passes ``tags`` (unknown tags do
        nothing: graphc has no such rewrite to skip)."""
        result = self._copy()
        for tag in tags:
            tag = _TAGS.get(tag, tag)
            if tag in all_rewrite_names() and tag not in result._excluded:
                result._excluded += (tag,)
                result._included = tuple(t for t in result._included if t != tag)
        return result

    requiring = including

    def settings(self):
        """The keyword arguments of :func:`graphc.function` this mode stands for."""
        return {"optimizer": self.optimizer, "excluding": self._excluded,
                "including": self._included, "backend": _LINKERS[self.linker]}

    def _copy(self):
        result = Mode.__new__(Mode)
        result.__dict__.update(self.__dict__)
        return result

    def __repr__(self):
        extra = "".join(f", {k}={v!r}" for k, v in
                        (("including", self._included), ("excluding", self._excluded)) if v)
        return f"Mode(linker={self.linker!r}, optimizer={self.optimizer!r}{extra})"


FAST_RUN = Mode(optimizer="fast_run")
FAST_COMPILE = Mode(optimizer="fast_compile")
# Theano's DebugMode compares implementations; graphc runs the graph unrewritten.
DEBUG_MODE = Mode(optimizer=None)
predefined_modes = {"FAST_RUN": FAST_RUN, "FAST_COMPILE": FAST_COMPILE, "Mode": FAST_RUN,
                    "DebugMode": DEBUG_MODE, "DEBUG_MODE": DEBUG_MODE}


def get_mode(mode):
    """The :class:`Mode` for ``mode``: a Mode, a predefined name, or None (the default).

    Examples
    --------
    >>> import graphc
    >>> graphc.compile.mode.get_mode("FAST_COMPILE").optimizer
    'fast_compile'
    """
    if mode is None:
        return FAST_RUN
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str):
        if mode not in predefined_modes:
            raise GraphcValueError(
                f"mode must be one of {sorted(predefined_modes)} or a graphc.Mode, got "
                f"{mode!r}; graphc chooses rewrites with optimizer= and the backend with "
                "backend=")
        return predefined_modes[mode]
    raise GraphcTypeError(f"mode must be a name or a graphc.Mode, got {type(mode).__name__}")


def get_default_mode():
    """The mode ``function`` uses when given none (``FAST_RUN``)."""
    return FAST_RUN
