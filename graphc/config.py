"""Global settings, read once from ``GRAPHC_FLAGS`` at import.

``GRAPHC_FLAGS="floatX=float64,device=cuda"`` sets ``config.floatX`` and
``config.device``. Assigning an attribute later changes it for graphs built after.
"""
import os

from graphc.errors import GraphcValueError

# name -> (default, parser). The parser validates and converts the string form.
_BOOL = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _choice(*allowed):
    def parse(value):
        if value not in allowed:
            raise GraphcValueError(f"expected one of {allowed}, got {value!r}")
        return value
    return parse


def _bool(value):
    if isinstance(value, bool):
        return value
    try:
        return _BOOL[str(value).lower()]
    except KeyError:
        raise GraphcValueError(f"expected a boolean, got {value!r}") from None


def _default_compiledir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "graphc")


FLAGS = {
    "floatX": ("float32", _choice("float32", "float64")),
    "device": ("cpu", _choice("cpu", "cuda")),
    "compiledir": (_default_compiledir(), str),
    "check_passes": (False, _bool),
    "backend": ("numba", _choice("numba", "python", "cuda")),
}


class Config:
    """Attribute access to the flags in :data:`FLAGS`, validated on assignment."""

    def __init__(self, flags_string=""):
        for name, (default, _) in FLAGS.items():
            object.__setattr__(self, name, default)
        for item in filter(None, (s.strip() for s in flags_string.split(","))):
            name, _, value = item.partition("=")
            setattr(self, name.strip(), value.strip())

    def __setattr__(self, name, value):
        if name not in FLAGS:
            raise GraphcValueError(f"unknown graphc flag {name!r}; known: {sorted(FLAGS)}")
        object.__setattr__(self, name, FLAGS[name][1](value))

    def __repr__(self):
        items = ", ".join(f"{name}={getattr(self, name)!r}" for name in FLAGS)
        return f"Config({items})"


config = Config(os.environ.get("GRAPHC_FLAGS", ""))
