"""Elementwise nodes (plain and fused :class:`Composite`) as one flat loop.

Every input that is not statically a single element is viewed as a
C-contiguous 1-d array of the broadcast size (``k_flat``: no copy when it
already has the output shape and is contiguous, a broadcast copy otherwise),
so one loop body serves every case and LLVM vectorizes it. Inputs known to
hold one element are read once, before the loop, as scalars. A loop over floats
only is outlined into the graph's C callback and may run on every core
(``loops.py``); other loops stay inline in the graph function.

:data:`SCALAR_SOURCE` gives, for each scalar of ``graphc.ops.elemwise.SCALARS``,
the source of one element's computation; dtypes follow ``Scalar.compute``: a
float op casts its inputs to the output dtype first, every result is converted
to the output dtype.
"""
import re

import numpy as np
from numba import njit

from graphc.graph import Constant
from graphc.ops.elemwise import Cast, Composite, Elemwise
from graphc.backends.numba import loops
from graphc.backends.numba.lower import literal, np_dtype
from graphc.backends.numba.shape import k_broadcast
# The special functions' kernels, here so that runtime.py gathers them with ours.
from graphc.backends.numba.special import (  # noqa: F401
    k_erfc, k_erfcinv, k_erfinv, k_gamma, k_gammaln, k_psi, k_round_away)


# ----------------------------------------------------------------- kernels
@njit(cache=True)
def k_bc(a, b):
    """The broadcast length of two axis lengths, or a ValueError."""
    if a == b or b == 1:
        return a
    if a == 1:
        return b
    raise ValueError("graphc: shapes cannot be broadcast")


@njit(cache=True)
def k_flat(x, shape):
    """``x`` broadcast to ``shape``, as a C-contiguous 1-d array (a view if possible)."""
    if x.shape == shape:
        return np.ascontiguousarray(x).reshape(-1)
    return np.ascontiguousarray(k_broadcast(x, shape)).reshape(-1)


# Glue kernels. Numba lowers some NumPy calls (transpose with a tuple, reshape of a
# non-contiguous array, ascontiguousarray, broadcast copies) by compiling a fresh
# subroutine at every call site; wrapped in a cached kernel, each costs one
# compilation per signature, stored on disk, and the graph function just calls it.
@njit(cache=True)
def k_contig(x):
    return np.ascontiguousarray(x)


@njit(cache=True)
def k_reshape(x, shape):
    """``x`` reshaped (a view when contiguous, else a contiguous copy first)."""
    return np.ascontiguousarray(x).reshape(shape)


@njit(cache=True)
def k_transpose(x, axes):
    return x.transpose(axes)


@njit(cache=True)
def k_broadcast_copy(x, shape):
    """A fresh C-contiguous array: ``x`` broadcast to ``shape``."""
    return k_broadcast(x, shape).copy()


@njit(cache=True)
def k_copy(x):
    return np.ascontiguousarray(x).copy()


@njit(cache=True)
def k_ifloordiv(a, b):
    """Integer floor division with NumPy's answers: x // 0 == 0, no trap on MIN // -1."""
    if b == 0:
        return a - a
    if b == -1:
        return -a
    return a // b


@njit(cache=True)
def k_imod(a, b):
    """Integer modulo with Python's sign rule and x % 0 == 0, as NumPy."""
    if b == 0 or b == -1:
        return a - a
    return a % b


@njit(cache=True, error_model="numpy")
def k_fpow_scalar(a, b):
    """``a ** b`` for a scalar exponent ``b``, as NumPy's power loop computes it: its
    exponent 0.5 is ``sqrt`` (-inf ** 0.5 is NaN and -0.0 ** 0.5 is -0.0, where C's
    pow gives inf and 0.0)."""
    return np.sqrt(a) if b == 0.5 else a ** b


@njit(cache=True)
def k_ipow(a, b):
    if b < 0:
        raise ValueError("graphc: integers to negative integer powers are not allowed")
    result = a - a + 1
    base = a
    while b:
        if b & 1:
            result = result * base
        base = base * base
        b >>= 1
    return result


@njit(cache=True)
def k_fmax(a, b):
    """NumPy's maximum: a NaN on either side wins."""
    return a if (a > b or a != a) else b


@njit(cache=True)
def k_fmin(a, b):
    return a if (a < b or a != a) else b


@njit(cache=True)
def k_clip(x, lo, hi):
    """``minimum(maximum(x, lo), hi)`` as np.clip (NaN in x stays NaN)."""
    y = lo if x < lo else x
    return hi if y > hi else y


@njit(cache=True)
def k_fsign(x):
    """np.sign for floats: NaN stays NaN, +-inf give +-1, zeros give 0."""
    if x != x:
        return x
    return float((x > 0) - (x < 0))


# ------------------------------------------------------- scalar templates
def _is_float(dtype):
    return np.dtype(dtype).kind == "f"


def _is_bool(dtype):
    return np.dtype(dtype).kind == "b"


def _cast(expr, from_dtype, to_dtype):
    """Source converting ``expr`` of ``from_dtype`` to ``to_dtype``."""
    if np.dtype(from_dtype) == np.dtype(to_dtype):
        return expr
    if _is_bool(to_dtype):
        return f"({expr} != 0)"
    return f"{np_dtype(to_dtype)}({expr})"


def _fixed(template):
    """A scalar whose source does not depend on dtypes: ``template.format(*args)``."""
    return lambda args, dtypes, out: template.format(*args)


def _by_kind(float_template, int_template):
    """One template for float outputs and one for integer/boolean outputs."""
    def build(args, dtypes, out):
        chosen = float_template if _is_float(out) else int_template
        return chosen.format(*args, one=literal(1, out), zero=literal(0, out))
    return build


def _float_only(template):
    """A float function; on integer inputs of an integer output it is the identity."""
    def build(args, dtypes, out):
        return template.format(*args) if _is_float(out) else args[0]
    return build


def _fast(name):
    """A ``fastmath.KERNELS`` function: the fast float32 kernel or the float64 one,
    chosen here by dtype so the compiled code calls it directly."""
    def build(args, dtypes, out):
        suffix = "32" if np.dtype(out) == np.float32 else "64"
        return f"fm_{name}{suffix}({args[0]})"
    return build


# The source of a loop-invariant scalar operand: a typed literal, or a run-time
# scalar read once in the callback's header (arrays are read as ``c_N[i]``).
_SCALAR_OPERAND = re.compile(r"^(np\.float(32|64)\(.*\)|c_\d+)$")


def _pow(args, out):
    if not _is_float(out):
        return f"k_ipow({args[0]}, {args[1]})"
    if _SCALAR_OPERAND.match(args[1]):
        return f"k_fpow_scalar({args[0]}, {args[1]})"
    return f"({args[0]} ** {args[1]})"


def _predicate(float_template, other):
    def build(args, dtypes, out):
        return float_template.format(*args) if _is_float(dtypes[0]) else other
    return build


def _invert(args, dtypes, out):
    return f"(not {args[0]})" if _is_bool(dtypes[0]) else f"(~{args[0]})"


# name -> build(args, arg dtypes, out dtype) -> source of the raw result
SCALAR_SOURCE = {
    "add": _fixed("({0} + {1})"),
    "sub": _fixed("({0} - {1})"),
    "mul": _fixed("({0} * {1})"),
    "true_div": _fixed("({0} / {1})"),
    "floor_div": _by_kind("({0} // {1})", "k_ifloordiv({0}, {1})"),
    "mod": _by_kind("({0} % {1})", "k_imod({0}, {1})"),
    "pow": lambda args, dtypes, out: _pow(args, out),
    "maximum": _by_kind("k_fmax({0}, {1})", "max({0}, {1})"),
    "minimum": _by_kind("k_fmin({0}, {1})", "min({0}, {1})"),
    "neg": _fixed("(-{0})"),
    "abs": _fixed("abs({0})"),
    "relu": _by_kind("k_fmax({0}, {zero})", "max({0}, {zero})"),
    "sgn": _by_kind("k_fsign({0})", "(({0} > 0) - ({0} < 0))"),
    "sqr": _fixed("({0} * {0})"),
    "inv": _by_kind("({one} / {0})", "({one} // {0})"),
    "floor": _float_only("np.floor({0})"),
    "ceil": _float_only("np.ceil({0})"),
    "round": _float_only("np.rint({0})"),
    "round_half_away_from_zero": _float_only("k_round_away({0})"),
    "trunc": _float_only("np.trunc({0})"),
    "exp": _fast("exp"),
    "exp2": _fixed("np.exp2({0})"),
    "expm1": _fast("expm1"),
    "log": _fast("log"),
    "log2": _fixed("np.log2({0})"),
    "log10": _fixed("np.log10({0})"),
    "log1p": _fast("log1p"),
    "sqrt": _fixed("np.sqrt({0})"),
    "tanh": _fast("tanh"),
    "sinh": _fixed("np.sinh({0})"),
    "cosh": _fixed("np.cosh({0})"),
    "sin": _fixed("np.sin({0})"),
    "cos": _fixed("np.cos({0})"),
    "tan": _fixed("np.tan({0})"),
    "arcsin": _fixed("np.arcsin({0})"),
    "arccos": _fixed("np.arccos({0})"),
    "arctan": _fixed("np.arctan({0})"),
    "arcsinh": _fixed("np.arcsinh({0})"),
    "arccosh": _fixed("np.arccosh({0})"),
    "arctanh": _fixed("np.arctanh({0})"),
    "erf": _fast("erf"),
    "erfc": _fixed("k_erfc({0})"),
    "erfinv": _fixed("k_erfinv({0})"),
    "erfcinv": _fixed("k_erfcinv({0})"),
    "gammaln": _fixed("k_gammaln({0})"),
    "gamma": _fixed("k_gamma({0})"),
    "psi": _fixed("k_psi({0})"),
    "sigmoid": _fast("sigmoid"),
    "softplus": _fast("softplus"),
    "eq": _fixed("({0} == {1})"),
    "neq": _fixed("({0} != {1})"),
    "lt": _fixed("({0} < {1})"),
    "le": _fixed("({0} <= {1})"),
    "gt": _fixed("({0} > {1})"),
    "ge": _fixed("({0} >= {1})"),
    "isnan": _predicate("np.isnan({0})", "False"),
    "isinf": _predicate("np.isinf({0})", "False"),
    "and_": _fixed("({0} & {1})"),
    "or_": _fixed("({0} | {1})"),
    "xor": _fixed("({0} ^ {1})"),
    "invert": _invert,
    "switch": _fixed("({1} if {0} else {2})"),
    "clip": _fixed("k_clip({0}, {1}, {2})"),
    "identity": _fixed("{0}"),
    "second": _fixed("{1}"),
}


def scalar_source(scalar, args, dtypes, out_dtype):
    """Source computing ``scalar`` on ``args`` (source strings of ``dtypes``),
    converted to ``out_dtype``."""
    if isinstance(scalar, Cast):
        return _cast(args[0], dtypes[0], out_dtype)
    if scalar.name == "switch":
        # The branches are converted to the output dtype; the condition is not.
        args = [args[0]] + [_cast(a, d, out_dtype) for a, d in zip(args[1:], dtypes[1:])]
        dtypes = [dtypes[0], out_dtype, out_dtype]
    elif scalar.cast_inputs and _is_float(out_dtype):
        args = [_cast(a, d, out_dtype) for a, d in zip(args, dtypes)]
        dtypes = [out_dtype] * len(args)
    try:
        build = SCALAR_SOURCE[scalar.name]
    except KeyError:
        raise NotImplementedError(f"numba backend: no lowering for scalar {scalar.name}")
    raw = build(args, dtypes, out_dtype)
    if _is_bool(out_dtype):
        return raw if scalar.name in _BOOL_RESULTS or all(map(_is_bool, dtypes)) \
            else f"({raw} != 0)"
    return f"{np_dtype(out_dtype)}({raw})"


_BOOL_RESULTS = {"eq", "neq", "lt", "le", "gt", "ge", "isnan", "isinf"}


def program_lines(scalar, args, dtypes, out_dtypes, fresh):
    """Lines computing a scalar (or a Composite program) on ``args``.

    Returns ``(lines, result names)``; ``fresh(prefix)`` makes unique local names.
    """
    lines, names, outputs = program_steps(scalar, args, dtypes, out_dtypes, fresh)
    return lines, outputs


def program_steps(scalar, args, dtypes, out_dtypes, fresh):
    """``(lines, step names, result names)``: one line per step of the program."""
    if not isinstance(scalar, Composite):
        name = fresh("r")
        line = f"{name} = {scalar_source(scalar, args, dtypes, out_dtypes[0])}"
        return [line], [name], [name]
    lines, steps = [], []
    for (step, step_args), dtype in zip(scalar.steps, scalar.step_dtypes):
        sources, arg_dtypes = [], []
        for arg in step_args:
            if arg[0] == "in":
                sources.append(args[arg[1]])
                arg_dtypes.append(dtypes[arg[1]])
            elif arg[0] == "step":
                sources.append(steps[arg[1]])
                arg_dtypes.append(scalar.step_dtypes[arg[1]])
            else:
                sources.append(literal(arg[1], arg[2]))
                arg_dtypes.append(arg[2])
        name = fresh("s")
        lines.append(f"{name} = {scalar_source(step, sources, arg_dtypes, dtype)}")
        steps.append(name)
    return lines, steps, [steps[i] for i in scalar.outputs]


def _stages(scalar):
    """The stage of each step of a Composite: how many long steps precede it on a
    chain of dependencies, capped at the last long step's stage (what follows it
    is cheap, and joins it)."""
    long = [step.name in loops.LONG_CHAINS for step, _ in scalar.steps]
    level = []
    for _, step_args in scalar.steps:
        before = [level[j] + long[j] for kind, j, *_ in step_args if kind == "step"]
        level.append(max(before, default=0))
    last = max((lv for lv, is_long in zip(level, long) if is_long), default=0)
    return [min(lv, last) for lv in level]


def staged_loop(scalar, args, dtypes, out_dtypes, buffers, fresh):
    """The outlined loop's body as ``(prelude, stages)``: lists of lines.

    One loop computing exp, then tanh of it, then log1p of that ran 1.34 ms on 1e6
    float32 here; the same steps as three loops, 0.96 ms: each polynomial is a
    long dependency chain, and a body that chains several leaves the core waiting
    (independent ones overlap, and stay in one loop: 0.52 against 0.60 ms when
    cut). So steps are grouped by how many long steps precede them on a chain
    (:func:`_stages`); a value one stage computes and a later one reads goes
    through a temporary of ``loops.CHUNK`` elements (``prelude`` allocates them),
    and the callback runs the stages chunk by chunk, in cache.
    """
    lines, names, results = program_steps(scalar, args, dtypes, out_dtypes, fresh)
    stores = [f"{b}[i] = {r}" for b, r in zip(buffers, results)]
    if not isinstance(scalar, Composite) or max(_stages(scalar)) == 0:
        return [], [lines + stores]
    stage_of = _stages(scalar)
    final = max(stage_of)
    # The last stage that reads each step (program outputs are stored in the last).
    last_read = list(stage_of)
    for k, (_, step_args) in enumerate(scalar.steps):
        for arg in step_args:
            if arg[0] == "step":
                last_read[arg[1]] = max(last_read[arg[1]], stage_of[k])
    for k in scalar.outputs:
        last_read[k] = final
    prelude, temps = [], {}
    for k in range(len(lines)):
        if last_read[k] > stage_of[k]:
            temps[k] = fresh("t")
            dtype = np_dtype(scalar.step_dtypes[k])
            prelude.append(f"{temps[k]} = np.empty({loops.CHUNK}, {dtype})")
    stages = []
    for number in range(final + 1):
        body = [f"{names[k]} = {temps[k]}[i]" for k in sorted(temps)
                if stage_of[k] < number <= last_read[k]]
        body += [lines[k] for k in range(len(lines)) if stage_of[k] == number]
        body += [f"{temps[k]}[i] = {names[k]}" for k in sorted(temps)
                 if stage_of[k] == number]
        stages.append(body)
    stages[-1] += stores
    return prelude, stages


# ---------------------------------------------------------------- lowering
def emit_map(ctx, inputs, outputs, scalar, reuse=None):
    """Write the loop computing ``scalar`` elementwise over ``inputs`` (variables of
    equal ndim, broadcast at run time) into ``outputs`` (variables); ``reuse``: the
    index of an input whose buffer output 0 may take (the inplace pass's choice)."""
    ndim = outputs[0].ndim
    dtypes = [v.dtype for v in inputs]
    out_dtypes = [v.dtype for v in outputs]
    if ndim == 0:
        args = [ctx.scalar(v) for v in inputs]
        lines, results = program_lines(scalar, args, dtypes, out_dtypes, ctx.tmp)
        for text in lines:
            ctx.line(text)
        for var, name in zip(outputs, results):
            ctx.bind(var, name)
        return
    arrays = [v for v in inputs if not ctx.is_unit(v)]
    array_index = {}
    for v in arrays:
        array_index.setdefault(v, len(array_index))
    unique = list(array_index)
    outlined = loops.outlinable(dtypes + out_dtypes)
    shape = ctx.tmp("shp")
    names = [ctx.get(v) for v in unique]
    if len(names) == 1:
        ctx.line(f"{shape} = {names[0]}.shape")
    elif names:
        dims = []
        for axis in range(ndim):
            dim = f"{names[0]}.shape[{axis}]"
            for other in names[1:]:
                dim = f"k_bc({dim}, {other}.shape[{axis}])"
            dims.append(dim)
        ctx.line(f"{shape} = ({''.join(d + ', ' for d in dims)})")
    else:
        ctx.line(f"{shape} = ({'1, ' * ndim})")
    if not outlined:
        size = ctx.tmp("n")
        ctx.line(f"{size} = {' * '.join(f'{shape}[{k}]' for k in range(ndim))}")
    flats = []
    for v in unique:
        flat = ctx.tmp("f")
        ctx.line(f"{flat} = k_flat({ctx.get(v)}, {shape})")
        flats.append(flat)
    scalars = []
    for v in inputs:
        if v not in array_index and v not in scalars:
            scalars.append(v)
    scalar_names = {}
    for v in scalars:
        name = ctx.tmp("u")
        ctx.line(f"{name} = {ctx.scalar(v)}")
        scalar_names[v] = name
    buffers = []
    for j, dtype in enumerate(out_dtypes):
        if j == 0 and reuse is not None and _destroyable(ctx, inputs[reuse], array_index):
            # The inplace pass gave output 0 this input's buffer (its last reader):
            # the loop writes where it reads. Its flat view is the buffer itself,
            # or a fresh copy when it was broadcast or strided: both are ours.
            buffers.append(flats[array_index[inputs[reuse]]])
            continue
        # An outlined loop's new output has its final shape from the start (the
        # callback sees only its address); an inline loop indexes it flat.
        buffer = ctx.tmp("o")
        ctx.line(f"{buffer} = k_empty({shape if outlined else size}, {np_dtype(dtype)})")
        buffers.append(buffer)

    if outlined:
        # Float loops run as a C callback, on every core when large (loops.py).
        def staged(flat_names, scalar_exprs, buffer_names):
            args = [f"{flat_names[array_index[v]]}[i]" if v in array_index
                    else scalar_exprs[scalars.index(v)] for v in inputs]
            return staged_loop(scalar, args, dtypes, out_dtypes, buffer_names, ctx.tmp)
        loops.emit_outlined(
            ctx, [(f, np.dtype(v.dtype).name) for f, v in zip(flats, unique)],
            [(scalar_names[v], np.dtype(v.dtype).name) for v in scalars],
            [(b, np.dtype(d).name) for b, d in zip(buffers, out_dtypes)],
            staged, loops.parallel_min(_step_names(scalar)))
    else:
        args = [f"{flats[array_index[v]]}[i]" if v in array_index else scalar_names[v]
                for v in inputs]
        lines, results = program_lines(scalar, args, dtypes, out_dtypes, ctx.tmp)
        ctx.line(f"for i in range({size}):")
        for text in lines + [f"{b}[i] = {r}" for b, r in zip(buffers, results)]:
            ctx.line("    " + text)
    for j, (var, buffer) in enumerate(zip(outputs, buffers)):
        if outlined and buffer not in flats:
            ctx.bind(var, buffer)
            continue
        name = ctx.tmp("v")
        ctx.line(f"{name} = k_reshape({buffer}, {shape})")
        ctx.bind(var, name, base=inputs[reuse] if j == 0 and buffer in flats else None)


def _destroyable(ctx, var, array_index):
    """True when ``var`` is an array in a buffer this call owns (no input, constant
    or shared value, and not a view the lowering made of another buffer)."""
    if var not in array_index:
        return False
    var = ctx.resolve(var)
    return not isinstance(var, Constant) and var.owner is not None and ctx.bases.get(var) is var


def _step_names(scalar):
    if isinstance(scalar, Composite):
        return [step.name for step, _ in scalar.steps]
    return [scalar.name]


def lower_elemwise(ctx, node):
    emit_map(ctx, node.inputs, node.outputs, node.op.scalar, node.op.inplace)


LOWERINGS = {Elemwise: lower_elemwise}
