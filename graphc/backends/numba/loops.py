"""Elementwise loops outlined from the graph function, so that large ones use every core.

A fused float loop is not written inline in ``graph_fn``: its body goes into the
module's one ``graph_loops`` C callback (``numba.cfunc``), a branch per loop,
over a range ``[lo, hi)`` of the flat index, reading its arrays through raw
addresses. ``graph_fn`` calls :func:`k_run` with the loop's arrays and run-time
scalars: it puts their addresses (and the scalars' bits) in a table on the stack
and calls :func:`k_run_loop`, a kernel shared by every graph, which runs the range
on the calling thread for small sizes and splits it over numba's threads once one
thread would take ~100 us (:func:`parallel_min`, from the loop's step costs).

Why a callback and not ``prange`` in the graph function: a parallel loop in
``graph_fn`` costs a parfor compilation per loop in every graph (0.3 s each
here) and, measured, lost the vectorization of the fast math; the shared
launcher is compiled once, and the callback's address reaches it at run time,
so the disk cache stays valid in a new process (no address is baked into code).

The loops outlined are those whose inputs and outputs are all float32/float64:
their bodies cannot raise (a C callback cannot carry a Python exception out).
Integer and boolean loops stay inline.
"""
import re

import numpy as np
from llvmlite import ir
from numba import carray, njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# Elements per chunk of a staged loop (elemwise.staged_loop): the stages' inputs
# and temporaries stay in L1/L2 between one stage and the next.
CHUNK = 2048

# The C signature of ``graph_loops(which, lo, hi, addresses)``.
LOOP_SIGNATURE = "void(int64, int64, int64, CPointer(int64))"

# When a loop is split over the threads: above WORK_MIN / cost elements, where the
# cost of one element adds up COSTS below (1 for a plain arithmetic step, about
# 0.1 ns here). Measured here (bench/bench_numba.py, bench_threads): a launch
# costs ~3 us while the threads still spin from the last one, ~50 us when they
# sleep (the first loop of a call, see runtime.py); so a loop is split when one
# thread would take ~100 us. 10 fused ops with three transcendentals over 1e6
# float32 ran 1.44 ms on 2 threads against 3.1 ms on one.
WORK_MIN = 1 << 20
PARALLEL_MIN = 1 << 14      # never split fewer elements than this

# Steps whose inline code is a long dependency chain (a polynomial, libm); a fused
# loop chaining them runs in stages (elemwise.staged_loop).
LONG_CHAINS = frozenset(("exp", "exp2", "expm1", "log", "log10", "log2", "log1p", "tanh",
                         "sigmoid", "softplus", "erf", "sin", "cos", "tan", "arcsin",
                         "arccos", "arctan", "sinh", "cosh", "pow", "arcsinh", "arccosh",
                         "arctanh", "erfc", "erfinv", "erfcinv", "gammaln", "gamma", "psi"))
# Steps that cost about ten plain ones: those, and single slow instructions.
COSTS = {name: 10 for name in LONG_CHAINS | {"sqrt", "true_div", "inv", "floor_div", "mod"}}


def parallel_min(step_names):
    """Elements from which a loop doing ``step_names`` per element runs on threads."""
    cost = sum(COSTS.get(name, 1) for name in step_names)
    return max(PARALLEL_MIN, WORK_MIN // max(cost, 1))


_FLOATS = ("float32", "float64")


def outlinable(dtypes):
    """True when a loop over these dtypes may run as a C callback (cannot raise)."""
    return all(np.dtype(d).name in _FLOATS for d in dtypes)


@intrinsic
def k_wide_vectors(typingctx):
    """Let LLVM vectorize the calling function's loops with the widest registers.

    LLVM's tuning for Intel's AVX-512 processors (Skylake-X to Emerald Rapids)
    prefers 256-bit vectors, for fear of the clock dropping on 512-bit ones; here
    the fused loops then ran at half NumPy's speed (NumPy's math uses 512 bits):
    on this Emerald Rapids, 10 fused ops on 1e6 float32 took 1.8 ms against 1.3
    with 512 bits, tanh 0.96 against 0.77 ns per element. The function attribute
    ``prefer-vector-width`` is clang's ``-mprefer-vector-width=512``; on a processor
    with 256-bit registers, or with 512-bit ones already preferred (AMD Zen 4), it
    changes nothing. It is set on the function being lowered: call this in each
    function whose own body holds a loop. numba vectorizes a helper's loops when it
    finalizes the helper's library, before any caller inlines it, so a call in the
    caller (a prange body, say) leaves the helper's loops at 256 bits.
    """
    def codegen(context, builder, signature, args):
        # llvmlite's attribute sets name only LLVM's enum attributes; the set holds
        # the text of each, and a string attribute's text is this.
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()
    return types.none(), codegen


@intrinsic
def _pointer(typingctx, address, lo, dtype):
    """A pointer to element ``lo`` of the ``dtype`` buffer at the int64 ``address``."""
    pointer_type = types.CPointer(dtype.instance_type)

    def codegen(context, builder, signature, args):
        base = builder.inttoptr(args[0], context.get_value_type(pointer_type))
        return builder.gep(base, [args[1]])
    return pointer_type(types.int64, types.int64, dtype), codegen


@njit(cache=True)
def k_carray(address, lo, n, dtype):
    """The ``n`` elements of ``dtype`` from element ``lo`` of the buffer at ``address``.

    Offsetting the pointer (rather than indexing from ``lo``) keeps every index
    known non-negative, which is what lets LLVM use contiguous vector loads.
    """
    return carray(_pointer(address, lo, dtype), (n,))


@intrinsic
def _call_loop(typingctx, address, which, lo, hi, table):
    """Call the C function at ``address`` as ``void(int64, int64, int64, int64*)``
    with the int64 array at the address ``table``."""
    def codegen(context, builder, signature, args):
        address, which, lo, hi, table = args
        i64 = ir.IntType(64)
        fnty = ir.FunctionType(ir.VoidType(), [i64, i64, i64, i64.as_pointer()])
        callee = builder.inttoptr(address, fnty.as_pointer())
        builder.call(callee, [which, lo, hi, builder.inttoptr(table, i64.as_pointer())])
        return context.get_dummy_value()
    signature = types.none(types.int64, types.int64, types.int64, types.int64, types.int64)
    return signature, codegen


def _words(context, builder, operands, values):
    """The int64 word of each operand: an array's data address, the bits of a
    scalar (a float32 in the low 32 bits), what :func:`k_carray` and
    :func:`k_from_bits` read back in the callback."""
    i64 = ir.IntType(64)
    words = []
    for value, kind in zip(values, operands):
        if isinstance(kind, types.Array):
            data = context.make_array(kind)(context, builder, value).data
            words.append(builder.ptrtoint(data, i64))
        elif isinstance(kind, types.Float):
            width = kind.bitwidth
            word = builder.bitcast(value, ir.IntType(width))
            words.append(word if width == 64 else builder.zext(word, i64))
        elif isinstance(kind, types.Boolean):
            words.append(builder.zext(value, i64))
        elif isinstance(kind, types.Integer):
            words.append(context.cast(builder, value, kind, types.int64))
        else:
            raise TypeError(f"k_run: cannot pass {kind}")
    return words


@intrinsic
def k_run(typingctx, address, which, threaded_from, *operands):
    """Run loop ``which`` of the callback at ``address`` over the operands, arrays
    of one size n and scalars, split over the threads from ``threaded_from``
    elements (see :func:`parallel_min`).

    One intrinsic for what took three statements (a tuple of the addresses, the
    launch, a use of the arrays after it): each statement of ``graph_fn`` costs
    compile time, about 4 ms here. The arrays are arguments of this call, so numba
    keeps them alive until the loop has run. n is the size of the first array.
    """
    # numba hands the star arguments over packed in one StarArgTuple (one by one when
    # it types the call again, as numba's own assert_equiv notes).
    if len(operands) == 1 and isinstance(operands[0], types.StarArgTuple):
        operands = tuple(operands[0])
    first = next(k for k, kind in enumerate(operands) if isinstance(kind, types.Array))
    launch = types.none(types.int64, types.int64, types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        address, which, threaded_from, packed = args
        values = cgutils.unpack_tuple(builder, packed, len(operands))
        words = _words(context, builder, operands, values)
        table = cgutils.alloca_once(builder, ir.ArrayType(i64, len(words)))
        for k, word in enumerate(words):
            builder.store(word, cgutils.gep_inbounds(builder, table, 0, k))
        size = context.make_array(operands[first])(context, builder, values[first]).nitems
        callee = context.typing_context.resolve_value_type(k_run_loop)
        callee.get_call_type(context.typing_context, launch.args, {})
        run = context.get_function(callee, launch)
        run(builder, [address, which, size, builder.ptrtoint(table, i64), threaded_from])
        return context.get_dummy_value()
    signature = types.none(types.int64, types.int64, types.int64,
                           types.StarArgTuple(tuple(operands)))
    return signature, codegen


@intrinsic
def k_from_bits(typingctx, word, dtype):
    """The scalar of ``dtype`` whose bits :func:`k_run` put in ``word``."""
    kind = dtype.instance_type

    def codegen(context, builder, signature, args):
        value = args[0]
        if isinstance(kind, types.Float):
            width = kind.bitwidth
            bits = value if width == 64 else builder.trunc(value, ir.IntType(width))
            return builder.bitcast(bits, context.get_value_type(kind))
        if isinstance(kind, types.Boolean):
            return builder.trunc(value, ir.IntType(1))
        return context.cast(builder, value, types.int64, kind)
    return kind(types.int64, dtype), codegen


# The parallel range is cut into at most this many pieces, handed out to the
# threads in blocks by numba's scheduler. (Asking for the thread count in compiled
# code would make every caller uncacheable: numba reads it through a dynamic address.)
_PIECES = 16


@njit(cache=True, parallel=True)
def _run_parallel(address, which, n, table):
    pieces = max(2, min(_PIECES, n // (PARALLEL_MIN // 2)))
    for c in prange(pieces):
        _call_loop(address, which, c * n // pieces, (c + 1) * n // pieces, table)


@njit(cache=True)
def k_run_loop(address, which, n, table, threaded_from):
    """Run loop ``which`` of the callback at ``address`` over ``n`` elements, split
    over the threads from ``threaded_from`` elements (see :func:`parallel_min`);
    ``table``: the address of the operands' words (:func:`k_run`)."""
    if n >= threaded_from:
        _run_parallel(address, which, n, table)
    elif n > 0:
        _call_loop(address, which, 0, n, table)


def emit_outlined(ctx, arrays, scalars, outputs, body, threaded_from):
    """Write the graph-function side of an outlined loop and record its body.

    ``arrays``/``outputs``: (local name in graph_fn, dtype) of the inputs and
    output buffers, C-contiguous arrays of one size; ``scalars``: (expression,
    dtype) of run-time scalars.
    ``body(inputs, scalars, outputs)`` returns ``(prelude, stages)`` given the
    callback-side names (arrays are indexed as ``name[i]``): lines run once, then
    the bodies of loops over ``i`` run one after the other (see
    ``elemwise.staged_loop``); with several stages they run chunk by chunk.
    ``threaded_from``: the size from which the loop runs on threads.
    """
    fill, header, names = [], [], ([], [], [])
    local_of = {}    # graph_fn buffer -> its array in the callback
    for group, entries in enumerate((arrays, scalars, outputs)):
        for expression, dtype in entries:
            if group == 2 and expression in local_of:
                # An output written into an input's buffer (inplace): the same array
                # in the callback too, so that LLVM sees one pointer, not two that
                # might overlap (it would then run the loop unvectorized).
                names[2].append(local_of[expression])
                continue
            slot = len(header)
            local = ctx.tmp("c")
            if group == 1:
                # A scalar travels as its bits (k_run), cast to its dtype first.
                fill.append(f"np.{dtype}({expression})")
                header.append(f"{local} = k_from_bits(ptrs[{slot}], np.{dtype})")
            else:
                fill.append(expression)
                header.append(f"{local} = k_carray(ptrs[{slot}], base, n, np.{dtype})")
                local_of[expression] = local
            names[group].append(local)
    prelude, stages = body(*names)
    loop = []
    for stage in stages:
        loop += ["for i in range(n):"] + ["    " + text for text in stage]
    if len(stages) == 1:
        lines = ["base, n = lo, hi - lo"] + header + loop
    else:
        chunked = [f"for base in range(lo, hi, {CHUNK}):", f"    n = min({CHUNK}, hi - base)"]
        lines = prelude + chunked + ["    " + text for text in header + loop]
    which = _branch(ctx, lines)
    ctx.line(f"k_run(loops, {which}, {threaded_from}, {', '.join(fill)})")


# The names ctx.tmp() makes: a lowercase prefix, an underscore, a counter.
_LOCAL_NAME = re.compile(r"\b[a-z][a-z0-9]*_\d+\b")


def _branch(ctx, lines):
    """The callback branch running ``lines``: an existing one if a loop of the same
    text up to local names is there already, else a new one.

    Graphs repeat loops (an SGD update per parameter, a ReLU mask per layer); each
    branch costs compile time (LLVM optimizes and vectorizes it) but not run time.
    """
    names = {}
    canonical = _LOCAL_NAME.sub(lambda m: names.setdefault(m.group(0), f"t{len(names)}"),
                                "\n".join(lines))
    if canonical not in ctx.loop_branches:
        ctx.loop_branches[canonical] = len(ctx.loops)
        ctx.loops.append(lines)
    return ctx.loop_branches[canonical]


def loops_source(ctx):
    """The ``graph_loops`` callback holding every outlined loop of the graph ('' if none)."""
    if not ctx.loops:
        return ""
    lines = ["", "",
             f"@graphc_cfunc('{LOOP_SIGNATURE}')",
             "def graph_loops(which, lo, hi, ptrs):",
             "    k_wide_vectors()"]
    for which, body in enumerate(ctx.loops):
        lines.append(f"    if which == {which}:")
        lines.extend("        " + text for text in body)
    return "\n".join(lines) + "\n"
