"""Looking at graphs: text dumps, SVG drawings, an HTML page, and profile reports.

- :func:`debugprint`: the graph as indented text, in Theano's format.
- :func:`pydotprint`: a standalone SVG drawn without the Graphviz binary.
- :func:`to_html`: one self-contained page with the graph before and after the
  rewrites side by side; click a node for its op, type, creation site and trail.
- :func:`profile_summary`: the report behind ``f.profile.summary()``.
- :func:`pp`: an expression as one line of infix text (Theano's ``pp``).
- :class:`Print`: an identity op that prints its value at every run (Theano's).

``python -m graphc.printing FILE.pkl [--svg OUT] [--html OUT]`` dumps a pickled
compiled function.
"""
from graphc.printing.text import char_from_number, debugprint
from graphc.printing.svg import pydotprint
from graphc.printing.html import to_html
from graphc.printing.profiling import profile_summary
from graphc.printing.pretty import pp, pprint
from graphc.ops.extra import Print

__all__ = ["debugprint", "pydotprint", "to_html", "profile_summary", "char_from_number",
           "pp", "pprint", "Print"]
