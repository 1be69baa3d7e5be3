"""``pp``: an expression as one line of infix text, in the style of Theano's ``pp``.

Arithmetic and comparisons print infix and fully parenthesized (``((x + y) * 2)``
reads ``((x + y) * TensorConstant{2.0})``), products as ``(x \\dot y)``, indexing as
``x[1:3]``, a transpose as ``x.T``; a dimshuffle that only adds broadcastable axes
(as ``x + 2`` does to the constant) is not shown; any other op prints as a call,
``exp(x)`` or ``Softmax{1}(m)``. Inputs print by name (unnamed ones by type).
Shared subexpressions print in full wherever they are used, as in Theano.
"""
import numpy as np

from graphc.errors import GraphcTypeError
from graphc.graph import Constant, Variable
from graphc.ops.elemwise import Elemwise
from graphc.ops.linalg import Dot
from graphc.ops.shape import DimShuffle
from graphc.ops.subtensor import Subtensor

# Elemwise scalar name -> infix operator.
INFIX = {
    "add": "+", "sub": "-", "mul": "*", "true_div": "/", "floor_div": "//", "mod": "%",
    "pow": "**", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "eq": "==", "neq": "!=",
    "and_": "&", "or_": "|", "xor": "^",
}
PREFIX = {"neg": "-", "invert": "~"}


def pp(var):
    """``var`` as one line of infix text (Theano's ``theano.printing.pp``).

    Parameters
    ----------
    var : Variable or list of Variable
        A list gives one line per variable.

    Returns
    -------
    str

    Examples
    --------
    >>> import graphc, graphc.tensor as T
    >>> x, y = T.dvectors("x", "y")
    >>> graphc.printing.pp((x + y) * 2)
    '((x + y) * TensorConstant{2.0})'
    >>> graphc.printing.pp(T.exp(x).sum())
    'sum{0}(exp(x))'
    """
    if isinstance(var, (list, tuple)):
        return "\n".join(pp(v) for v in var)
    if not isinstance(var, Variable):
        raise GraphcTypeError(f"pp: expected a Variable, got {type(var).__name__}")
    memo = {}
    # Children first, without recursion: deep graphs must not hit the recursion limit.
    stack = [var]
    while stack:
        current = stack[-1]
        if current in memo:
            stack.pop()
            continue
        pending = [] if current.owner is None else \
            [v for v in current.owner.inputs if v not in memo]
        if pending:
            stack.extend(pending)
        else:
            memo[current] = _text(current, memo)
            stack.pop()
    return memo[var]


pprint = pp


def _text(var, memo):
    node = var.owner
    if node is None:
        return _leaf(var)
    args = [memo[v] for v in node.inputs]
    op = node.op
    text = _op_text(op, node, args)
    if len(node.outputs) > 1:
        text = f"{text}[{var.index}]"
    return text


def _op_text(op, node, args):
    if isinstance(op, Elemwise):
        name = op.scalar.name
        if name in INFIX:
            return "(" + f" {INFIX[name]} ".join(args) + ")"
        if name in PREFIX:
            return f"{PREFIX[name]}{args[0]}"
        return f"{name}({', '.join(args)})"
    if isinstance(op, Dot):
        return f"({args[0]} \\dot {args[1]})"
    if isinstance(op, DimShuffle):
        return _dimshuffle_text(op, node, args[0])
    if isinstance(op, Subtensor):
        return f"{args[0]}[{_index_text(op.spec, iter(args[1:]))}]"
    return f"{op}({', '.join(args)})"


def _dimshuffle_text(op, node, arg):
    kept = [k for k in op.pattern if k != "x"]
    ndim = node.inputs[0].ndim
    if kept == list(range(ndim)):
        return arg          # only adds broadcastable axes: implicit in the expression
    if ndim == 2 and list(op.pattern) == [1, 0]:
        return f"{arg}.T"
    return f"{op}({arg})"


def _index_text(spec, dynamic):
    def part(value):
        return next(dynamic) if value == "in" else "" if value is None else str(value)

    parts = []
    for entry in spec:
        if entry[0] == "slice":
            start, stop, step = (part(v) for v in entry[1:])
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        elif entry[0] == "int":
            parts.append(part(entry[1]))
        elif entry[0] == "array":
            parts.append(next(dynamic))
        else:
            parts.append("newaxis")
    return ", ".join(parts)


def _leaf(var):
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.size <= 8:
            text = str(data.item()) if data.ndim == 0 else np.array2string(data, separator=", ")
        else:
            text = f"{data.shape} of {var.dtype}"
        return f"TensorConstant{{{text}}}"
    return repr(var)
