"""Theano's ``scan``: a loop with state, as one op holding its inner graph.

``scan(fn, sequences, outputs_info, non_sequences)`` calls ``fn`` once, on fresh
symbolic variables standing for one step (a row of each sequence, the previous
values of each state, the non-sequences), and records what it returns as the
inner :class:`~graphc.graph.FunctionGraph` of a :class:`Scan` node. The node's
``perform`` runs that graph once per step with the reference evaluator.

The layout of a Scan node (one convention for the user's loops and for their
gradients):

- inputs: ``n_steps``, then the sequences (step ``t`` reads row ``t``; a sequence
  read with several taps is passed once per tap, already shifted), then one
  initial block per state (``L`` rows for a state whose oldest tap is ``-L``),
  then the *others*: everything the inner graph reads that does not change
  from step to step (non-sequences, shared variables and outer variables ``fn``
  uses freely, and expressions over them, which are computed once, outside);
- outputs: one buffer per state, its ``L`` initial rows then one row per step
  (only the last ``L`` rows for a state marked ``keep_all=False``, as
  :func:`reduce` and the gradient's accumulators use), then one stacked output
  per output that is not fed back;
- a loop built from ``fn`` returning :class:`until` (``as_while``) has one more
  inner output, last: the condition, true to stop after that step. Its outputs
  then have one row per step actually run.

The gradient is another Scan running over the steps in reverse (backpropagation
through time; see :meth:`Scan.grad`).

Examples
--------
>>> import numpy as np, graphc, graphc.tensor as T
>>> x = T.dvector("x")
>>> total, _ = graphc.scan(lambda x_t, acc: acc + x_t, sequences=x,
...                        outputs_info=T.constant(0.0, dtype="float64"))
>>> graphc.function([x], total, backend="python")([1.0, 2.0, 3.0])
array([1., 3., 6.])
"""
from collections import OrderedDict

import numpy as np

from graphc.errors import GraphcError, GraphcTypeError, GraphcValueError, ShapeError
from graphc.graph import (Constant, FunctionGraph, Node, Op, SharedVariable, TensorType,
                          Variable, ancestors, clone_replace, toposort)
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import shape as shape_ops
from graphc.ops import subtensor


def _is_float(var):
    return np.dtype(var.dtype).kind == "f"


def _loose(var_type):
    """The type with every length unknown (for per-step gradients: no static guesses)."""
    return TensorType(var_type.dtype, (None,) * var_type.ndim)


# ------------------------------------------------------------------------ the op
# Passes an inner graph skips: the reference backend runs it, and its inputs are views
# of the loop's buffers.
LOOP_EXCLUDED = ("fusion", "inplace")


class Scan(Op):
    """Run ``inner`` once per step, feeding its state outputs back (see the module doc).

    Parameters
    ----------
    inner : FunctionGraph
        Inputs: one row per sequence, one value per (state, tap), then the others.
        Outputs: the new value of each state, then the outputs not fed back.
    n_seqs : int
    taps : tuple of tuple of int
        Per state, the (negative) taps it is read at, in the order of ``inner``'s inputs.
    n_nit : int
        Number of outputs not fed back.
    keep_all : tuple of bool, optional
        Per state: keep every row (default) or only the last ``L``.
    truncate_gradient : int
        Backpropagate through the last ``truncate_gradient`` steps only (-1: all).
    name : str, optional
    labels : list of str, optional
        How error messages name each inner output (not part of the op's identity).
    """

    __props__ = ("inner_key", "n_seqs", "taps", "n_nit", "keep_all", "truncate_gradient",
                 "name", "as_while")

    def __init__(self, inner, n_seqs, taps, n_nit, keep_all=None, truncate_gradient=-1,
                 name=None, labels=None, as_while=False, inner_optimized=False):
        self.inner = inner
        self.inner_key = id(inner)
        self.n_seqs = int(n_seqs)
        self.taps = tuple(tuple(int(k) for k in t) for t in taps)
        self.n_nit = int(n_nit)
        self.keep_all = (True,) * len(self.taps) if keep_all is None else tuple(keep_all)
        self.truncate_gradient = int(truncate_gradient)
        self.name = name
        self.as_while = bool(as_while)
        # True once the outer function's pipeline has optimized ``inner`` with its own
        # settings (graphc.passes.optimize does it); else it is optimized when first run.
        self.inner_optimized = bool(inner_optimized)
        self.lags = tuple(-min(t) for t in self.taps)
        self.n_taps = sum(len(t) for t in self.taps)
        self.n_others = len(inner.inputs) - self.n_seqs - self.n_taps
        n_states = len(self.taps)
        self.labels = list(labels) if labels else (
            [f"state {r}" for r in range(n_states)] + [f"output {q}" for q in range(n_nit)])
        if self.n_others < 0 or len(inner.outputs) != n_states + self.n_nit + self.as_while:
            raise GraphcValueError(f"Scan: an inner graph of {len(inner.inputs)} inputs and "
                                   f"{len(inner.outputs)} outputs does not fit {n_seqs} "
                                   f"sequences, taps {self.taps} and {n_nit} other outputs")
        if self.as_while and inner.outputs[-1].type != TensorType("bool", ()):
            raise GraphcTypeError(f"Scan: the stopping condition must be a bool scalar, got "
                                  f"{inner.outputs[-1].type}")
        if any(k >= 0 for t in self.taps for k in t) or any(not t for t in self.taps):
            raise GraphcValueError(f"Scan: state taps must be negative, got {self.taps}")
        for r, _, var in self._tap_inputs():
            new = inner.outputs[r]
            if new.dtype != var.dtype or new.ndim != var.ndim:
                raise GraphcTypeError(f"Scan: the new value of {self.labels[r]} has type "
                                      f"{new.type}; its state has type {var.type}")

    def __str__(self):
        kind = "Scan(while)" if self.as_while else "Scan"
        return f"{kind}{{{self.name}}}" if self.name else kind

    __repr__ = __str__

    # The inner graph's pieces, by role.
    def _nit_outputs(self):
        """The inner outputs not fed back (without a while loop's condition)."""
        n_states = len(self.taps)
        return self.inner.outputs[n_states:n_states + self.n_nit]

    def _tap_inputs(self):
        """``[(state index, tap, inner input), ...]`` in the inner graph's order."""
        inputs = self.inner.inputs[self.n_seqs:self.n_seqs + self.n_taps]
        pairs = [(r, k) for r, taps in enumerate(self.taps) for k in taps]
        return [(r, k, var) for (r, k), var in zip(pairs, inputs)]

    def _split(self, values):
        """``(n_steps, sequences, initial blocks, others)`` from a node's inputs."""
        n_states = len(self.taps)
        seqs = list(values[1:1 + self.n_seqs])
        inits = list(values[1 + self.n_seqs:1 + self.n_seqs + n_states])
        others = list(values[1 + self.n_seqs + n_states:])
        return values[0], seqs, inits, others

    def make_node(self, n_steps, *args):
        n_steps = basic.as_variable(n_steps)
        if n_steps.ndim != 0 or np.dtype(n_steps.dtype).kind not in "iu":
            raise GraphcTypeError(f"scan: n_steps must be an integer scalar, got {n_steps.type}")
        n_steps = ew.cast(n_steps, "int64")
        args = [basic.as_variable(a) for a in args]
        expected = self.n_seqs + len(self.taps) + self.n_others
        if len(args) != expected:
            raise GraphcValueError(f"{self}: expected {expected} inputs after n_steps, "
                                   f"got {len(args)}")
        _, seqs, inits, others = self._split([n_steps] + args)
        for var, row in zip(seqs, self.inner.inputs[:self.n_seqs]):
            _check_input("sequence", var, row.dtype, row.ndim + 1)
        first_tap = {}
        for r, k, var in self._tap_inputs():
            first_tap.setdefault(r, var)
        for r, var in enumerate(inits):
            _check_input("initial state", var, first_tap[r].dtype, first_tap[r].ndim + 1)
        for var, inner in zip(others, self.inner.inputs[self.n_seqs + self.n_taps:]):
            _check_input("non-sequence", var, inner.dtype, inner.ndim)
        types = []
        for r, init in enumerate(inits):
            row = init.type.shape[1:]
            out = self.inner.outputs[r].type.shape
            row = tuple(a if a is not None else b for a, b in zip(row, out))
            lead = None if self.keep_all[r] else self.lags[r]
            types.append(TensorType(init.dtype, (lead,) + row))
        for out in self._nit_outputs():
            types.append(TensorType(out.dtype, (None,) + out.type.shape))
        return Node(self, [n_steps] + args, types)

    def infer_shape(self, node, input_shapes):
        n_steps, _, inits, _ = self._split(node.inputs)
        _, _, init_shapes, _ = self._split(input_shapes)
        shapes = []
        # A while loop's step count is known only once it has run.
        steps = None if self.as_while else n_steps
        for r, shape in enumerate(init_shapes):
            lag = basic.constant(self.lags[r], "int64")
            if not self.keep_all[r]:
                lead = lag
            else:
                lead = None if steps is None else ew.add(steps, lag)
            shapes.append((lead,) + tuple(shape[1:]))
        for out in self._nit_outputs():
            shapes.append((steps,) + tuple(
                None if s is None else basic.constant(s, "int64") for s in out.type.shape))
        return shapes

    # ------------------------------------------------------------------- running
    def with_inner(self, inner):
        """This loop with ``inner`` as its (already optimized) inner graph."""
        return Scan(inner, self.n_seqs, self.taps, self.n_nit, self.keep_all,
                    self.truncate_gradient, self.name, self.labels, self.as_while,
                    inner_optimized=True)

    def _runner(self):
        """The inner graph, optimized and compiled once with the reference backend.

        A compiled function's pipeline optimizes the inner graph with its own
        settings (``passes.optimize``, less fusion and inplace: the reference backend
        gains nothing from fused loops, and the inner inputs are views of the loop's
        buffers, never to be written); a loop run outside one gets ``fast_run``.
        """
        run = getattr(self, "_run", None)
        if run is None:
            from graphc import passes
            from graphc.backends.python import BACKEND
            optimized = self.inner
            if not self.inner_optimized:
                optimized = passes.optimize(self.inner, "fast_run", excluding=LOOP_EXCLUDED)
            run = self._run = BACKEND.compile(optimized)
        return run

    def perform(self, node, inputs):
        n_steps, seqs, inits, others = self._split(inputs)
        n = int(n_steps)
        if n < 0:
            raise GraphcValueError(
                f"{self}: the number of steps is {n}; it must be >= 0 (Theano ran a "
                "negative n_steps backwards: use go_backwards=True)")
        for j, seq in enumerate(seqs):
            if seq.shape[0] < n:
                raise ShapeError(f"{self}: sequence {j} has {seq.shape[0]} rows, fewer than "
                                 f"the {n} steps")
        n_states = len(self.taps)
        states = []    # per state: (full buffer, or a list of the last L rows)
        for r, init in enumerate(inits):
            lag = self.lags[r]
            if init.shape[0] != lag:
                raise ShapeError(f"{self}: the initial value of {self.labels[r]} has "
                                 f"{init.shape[0]} rows; its taps {list(self.taps[r])} "
                                 f"need {lag}")
            if self.keep_all[r]:
                buffer = np.empty((lag + n,) + init.shape[1:], dtype=init.dtype)
                buffer[:lag] = init
                states.append(buffer)
            else:
                states.append([np.array(row) for row in init])
        tap_reads = [(r, k) for r, taps in enumerate(self.taps) for k in taps]
        nits = [None] * self.n_nit
        run = self._runner()
        n_run = n
        for t in range(n):
            args = [seq[t] for seq in seqs]
            for r, k in tap_reads:
                lag = self.lags[r]
                args.append(states[r][lag + t + k] if self.keep_all[r] else states[r][lag + k])
            args.extend(others)
            try:
                results = run(args)
            except GraphcError as error:
                raise _at_step(error, self, t, n) from error
            for r in range(n_states):
                self._store_state(r, t, results[r], states[r], args)
            for q in range(self.n_nit):
                value = np.asarray(results[n_states + q])
                if nits[q] is None:
                    nits[q] = np.empty((n,) + value.shape, dtype=node.outputs[n_states + q].dtype)
                elif value.shape != nits[q].shape[1:]:
                    raise ShapeError(
                        f"{self}: step {t}: {self.labels[n_states + q]} of fn has shape "
                        f"{value.shape}, but {nits[q].shape[1:]} at step 0; every step must "
                        "give the same shape")
                nits[q][t] = value
            if self.as_while and results[-1]:
                n_run = t + 1
                break
        if n_run < n:       # a while loop stopped early: the rows it ran, in arrays of their own
            states = [s[:self.lags[r] + n_run].copy() if self.keep_all[r] else s
                      for r, s in enumerate(states)]
            nits = [v[:n_run].copy() for v in nits]
        outputs = [s if self.keep_all[r] else np.stack(s) for r, s in enumerate(states)]
        if self.n_nit and n == 0:
            nits = self._empty_outputs(node, seqs, inits, others)
        return outputs + nits

    def _store_state(self, r, t, value, state, args):
        lag = self.lags[r]
        row_shape = state.shape[1:] if self.keep_all[r] else state[0].shape
        value = np.asarray(value)
        if value.shape != row_shape:
            raise ShapeError(
                f"{self}: step {t}: {self.labels[r]} of fn has shape {value.shape}, but its "
                f"initial value (outputs_info) has shape {row_shape}: a state must keep "
                "the shape of its initial value")
        if self.keep_all[r]:
            state[lag + t] = value
            return
        if not value.flags.owndata or any(value is a for a in args):
            value = value.copy()
        state.append(value.astype(state[0].dtype, copy=False))
        del state[0]

    def _empty_outputs(self, node, seqs, inits, others):
        """Outputs not fed back, for zero steps: ``(0,) + one step's shape``.

        One step's shape is learnt by running the inner graph once on zeros; where
        that fails, the unknown lengths are 0.
        """
        args = [np.zeros(seq.shape[1:], seq.dtype) for seq in seqs]
        args += [np.zeros(inits[r].shape[1:], inits[r].dtype) for r, _, _ in self._tap_inputs()]
        args += list(others)
        n_states = len(self.taps)
        try:
            with np.errstate(all="ignore"):
                shapes = [np.shape(v) for v in
                          self._runner()(args)[n_states:n_states + self.n_nit]]
        except Exception:   # any failure on made-up values: fall back to the static shape
            shapes = [tuple(0 if s is None else s for s in out.type.shape)
                      for out in self._nit_outputs()]
        return [np.zeros((0,) + tuple(shape), dtype=out.dtype)
                for shape, out in zip(shapes, node.outputs[n_states:])]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_run", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        # Identity is the inner graph's: a fresh id in this process.
        self.inner_key = id(self.inner)

    # ------------------------------------------------------------------ gradient
    def grad(self, inputs, outputs, output_grads):
        """Backpropagation through time, as a Scan over the steps in reverse.

        At step ``t`` (visited from last to first) the backward inner graph
        recomputes the forward step from the saved states, seeds the gradient of
        each new state (its direct gradient plus what later steps sent back to
        it) and of each output, and takes ``grad`` of the step with those
        ``known_grads``. What a tap ``-d`` receives is owed to the state ``d``
        steps earlier: each state carries a window of the ``L`` gradients still
        owed, shifted by one row per step. Gradients of the others are summed
        over the steps in accumulators; those of the sequences are one row per
        step.
        """
        return _scan_grad(self, list(inputs), list(outputs), list(output_grads))


def _check_input(role, var, dtype, ndim):
    if var.dtype != dtype or var.ndim != ndim:
        raise GraphcTypeError(f"Scan: {role} {var.describe()} does not fit the inner graph "
                              f"(expected dtype {dtype} and ndim {ndim})")


def _at_step(error, op, t, n):
    """``error`` with the step it happened at (the inner node's context is already in it)."""
    message = f"{op}: step {t} of {n}: {error}"
    if type(error).__init__ is Exception.__init__:
        return type(error)(message)
    return GraphcError(message)


# --------------------------------------------------------- building the inner graph
def _close_over(step_inputs, outputs, bound):
    """Make ``outputs`` a closed inner graph over ``step_inputs`` and the *others*.

    Every maximal subexpression that does not change from step to step (it reads
    no step input and no random draw) becomes one input of the inner graph,
    computed once outside the loop: free variables (shared or symbolic) and
    expressions over them and over the non-sequences (``W.T``, ``2 * W``).

    Parameters
    ----------
    step_inputs : list of Variable
        The inner variables that change at each step.
    outputs : list of Variable
    bound : dict
        ``{placeholder: outer variable}`` for the non-sequences given to ``fn``.

    Returns
    -------
    (inner_others, outer_others, new_outputs)
    """
    varying = set(step_inputs)
    order = toposort(outputs)
    for node in order:
        if getattr(node.op, "nondeterministic", False) or any(v in varying
                                                            for v in node.inputs):
            varying.update(node.outputs)
    frontier = {}
    for node in order:
        if node.outputs[0] in varying:
            for var in node.inputs:
                if var not in varying and not isinstance(var, Constant):
                    frontier.setdefault(var, None)
    for var in outputs:
        if var not in varying and not isinstance(var, Constant):
            frontier.setdefault(var, None)
    frontier = list(frontier)
    outer = clone_replace(frontier, bound) if bound else list(frontier)
    placeholder_of = {}
    replace = {}
    for var, outer_var in zip(frontier, outer):
        if outer_var not in placeholder_of:
            placeholder_of[outer_var] = Variable(var.type, name=_outer_name(var, outer_var))
        replace[var] = placeholder_of[outer_var]

    def rebuild(node, new_inputs):
        # A node computing a pushed-out value is cut there: never rebuilt inside.
        if any(out in replace for out in node.outputs):
            return [replace.get(out, out) for out in node.outputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            return node.outputs
        return node.op.make_node(*new_inputs).outputs

    new_outputs = clone_replace(outputs, replace, rebuild=rebuild)
    return list(placeholder_of.values()), list(placeholder_of), new_outputs


def _outer_name(var, outer_var):
    """A readable name for the inner variable standing for ``outer_var``."""
    if var.name or outer_var.name:
        return var.name or outer_var.name
    node = outer_var.owner
    if node is None:
        return None
    return f"{node.op}({', '.join(v.name or '?' for v in node.inputs)})"


def _build_scan(n_steps, seq_outer, seq_inner, states, nit_outputs, bound, keep_all=None,
                truncate_gradient=-1, name=None, labels=None, condition=None):
    """One Scan node; returns its outputs (state buffers, then outputs not fed back).

    ``states``: per state, ``(outer initial block, [(tap, inner variable)...], new value)``;
    ``condition``: the stopping condition of a while loop, or None.
    """
    tap_inner = [var for _, taps, _ in states for _, var in taps]
    inner_outputs = [new for _, _, new in states] + list(nit_outputs)
    if condition is not None:
        inner_outputs.append(condition)
    inner_others, outer_others, inner_outputs = _close_over(
        list(seq_inner) + tap_inner, inner_outputs, bound)
    inner = FunctionGraph(list(seq_inner) + tap_inner + inner_others, inner_outputs)
    op = Scan(inner, len(seq_inner), [[k for k, _ in taps] for _, taps, _ in states],
              len(nit_outputs), keep_all, truncate_gradient, name, labels,
              as_while=condition is not None)
    node = op.make_node(n_steps, *seq_outer, *[init for init, _, _ in states], *outer_others)
    return list(node.outputs)


# ------------------------------------------------------------------ the gradient
def _reversed(x):
    return subtensor.index(x, slice(None, None, -1))


def _rows(x, start, stop):
    return subtensor.index(x, slice(start, stop))


def _offset(n, k):
    """``n + k`` for an int64 scalar ``n`` and a Python int ``k``."""
    return n if k == 0 else ew.add(n, basic.constant(k, "int64"))


def _stabilized(inputs, outputs):
    """``outputs`` after canonicalize and stabilize, as ``grad`` differentiates a cost."""
    from graphc.passes.pipeline import run_pass
    fgraph = FunctionGraph(inputs, outputs)
    for name in ("canonicalize", "stabilize"):
        fgraph = run_pass(name, fgraph, excluding=("remove_gradient_shaper",))
    return list(fgraph.outputs)


def _rerun_keeping_all(op, inputs, state_grads):
    """For a loop that kept only the last rows of some states: the same loop keeping
    every row (the backward loop reads them all), and the gradients of its buffers."""
    n = inputs[0]
    full = Scan(op.inner, op.n_seqs, op.taps, op.n_nit, None, op.truncate_gradient,
                op.name, op.labels, op.as_while)
    buffers = full.make_node(*inputs).outputs[:len(op.taps)]
    grads = list(state_grads)
    for r, kept_all in enumerate(op.keep_all):
        if not kept_all:
            # The kept rows are the full buffer's rows [n, n + L).
            zeros = _rows(ew.zeros_like(buffers[r]), n, None)
            grads[r] = subtensor.set_subtensor(zeros, state_grads[r])
    return buffers, grads


class _BackwardStep:
    """The inner graph of the backward loop: one forward step's vector-Jacobian product.

    Per-step inputs: the forward step's inputs (``seq_vars``, ``tap_vars``), the
    direct gradient of each float state's new row (``direct``) and of each float
    output (``nit_seeds``); carried: per float state the window of gradients owed
    to its last ``L`` rows (``owed``), per float non-sequence a running sum
    (``sums``); non-sequences: the forward others (``other_vars``).
    """

    def __init__(self, op, inits):
        from graphc.gradient import backprop
        n_states = len(op.taps)
        fresh = [v.type.make_variable(name=v.name) for v in op.inner.inputs]
        outputs = op.inner.outputs[:n_states + op.n_nit]     # not a while loop's condition
        step = clone_replace(list(outputs), dict(zip(op.inner.inputs, fresh)))
        step = _stabilized(fresh, step)
        self.seq_vars = fresh[:op.n_seqs]
        self.tap_vars = fresh[op.n_seqs:op.n_seqs + op.n_taps]
        self.other_vars = fresh[op.n_seqs + op.n_taps:]
        self.float_states = [r for r in range(n_states) if _is_float(inits[r])]
        self.float_nits = [q for q in range(op.n_nit)
                           if _is_float(op.inner.outputs[n_states + q])]
        self.float_others = [i for i, v in enumerate(self.other_vars) if _is_float(v)]
        self.float_seqs = [j for j, v in enumerate(self.seq_vars) if _is_float(v)]
        row_types = {r: _loose(var.type) for r, _, var in op._tap_inputs()}
        self.direct = {r: row_types[r].make_variable(name=f"grad[{op.labels[r]}]")
                       for r in self.float_states}
        self.owed = {r: TensorType(inits[r].dtype, (op.lags[r],) + row_types[r].shape)
                     .make_variable(name=f"owed[{op.labels[r]}]") for r in self.float_states}
        self.nit_seeds = {q: _loose(op.inner.outputs[n_states + q].type).make_variable(
            name=f"grad[{op.labels[n_states + q]}]") for q in self.float_nits}
        self.sums = {i: _loose(self.other_vars[i].type).make_variable(
            name=f"grad_sum[{self.other_vars[i].name or i}]") for i in self.float_others}

        known = {}
        seeds = [(step[r], ew.add(self.direct[r], subtensor.index(self.owed[r], 0)))
                 for r in self.float_states]
        seeds += [(step[n_states + q], self.nit_seeds[q]) for q in self.float_nits]
        for var, g in seeds:      # fn may return one variable as two outputs
            known[var] = g if var not in known else ew.add(known[var], g)
        wrt = [v for v in self.seq_vars + self.tap_vars + self.other_vars if _is_float(v)]
        if known and wrt:
            # The step's outputs may feed one another (an output computed from the new
            # state): their seeds add up with what they send each other, unlike grad's
            # known_grads, whose gradients are fixed.
            grads = backprop(list(known.items()), wrt)
            grads = {v: ew.zeros_like(v) if g is None else g for v, g in zip(wrt, grads)}
        else:
            grads = {v: ew.zeros_like(v) for v in wrt}

        tap_reads = [(r, k) for r, taps in enumerate(op.taps) for k in taps]
        self.new_owed = {}
        for r in self.float_states:
            received = {k: grads[var] for (s, k), var in zip(tap_reads, self.tap_vars)
                        if s == r}
            self.new_owed[r] = self._shifted_window(r, op.lags[r], received)
        self.new_sums = {i: ew.add(self.sums[i], grads[self.other_vars[i]])
                         for i in self.float_others}
        self.seq_grads = [grads[self.seq_vars[j]] for j in self.float_seqs]

    def _shifted_window(self, r, lag, received):
        """What state ``r`` owes one step earlier: row ``d - 1`` of the new window is
        row ``d`` of the old one plus what this step's tap ``-d`` received."""
        rows = []
        for d in range(1, lag + 1):
            parts = [subtensor.index(self.owed[r], d)] if d < lag else []
            if -d in received:
                parts.append(received[-d])
            if not parts:
                parts.append(ew.zeros_like(self.direct[r]))
            rows.append(parts[0] if len(parts) == 1 else ew.add(*parts))
        return shape_ops.stack(rows)


def _steps_run(op, buffers, outputs):
    """The number of steps a while loop ran, from the length of one of its outputs."""
    if buffers:
        return _offset(shape_ops.shape_list(buffers[0])[0], -op.lags[0])
    return shape_ops.shape_list(outputs[0])[0]


def _scan_grad(op, inputs, outputs, output_grads):
    n_states = len(op.taps)
    n, seqs, inits, others = op._split(inputs)
    state_grads, nit_grads = output_grads[:n_states], output_grads[n_states:]
    buffers = outputs[:n_states]
    if not all(op.keep_all):
        buffers, state_grads = _rerun_keeping_all(op, inputs, state_grads)
    if op.as_while:
        # The backward loop runs over the steps the forward one ran: a plain loop.
        n = _steps_run(op, buffers, outputs)
    step = _BackwardStep(op, inits)

    # The backward loop runs over the last n_back steps, newest first.
    if op.truncate_gradient < 0:
        n_back, start = n, None
    else:
        n_back = ew.minimum(n, basic.constant(op.truncate_gradient, "int64"))
        start = ew.sub(n, n_back)

    def backwards(x, shift=0):
        """Rows [start + shift, n + shift) of ``x``, last first."""
        first = shift if start is None else _offset(start, shift)
        return _reversed(_rows(x, first, _offset(n, shift)))

    tap_reads = [(r, k) for r, taps in enumerate(op.taps) for k in taps]
    seq_outer = [backwards(x) for x in seqs]
    seq_outer += [backwards(buffers[r], op.lags[r] + k) for r, k in tap_reads]
    seq_outer += [backwards(state_grads[r], op.lags[r]) for r in step.float_states]
    seq_outer += [backwards(nit_grads[q]) for q in step.float_nits]
    seq_inner = (step.seq_vars + step.tap_vars + [step.direct[r] for r in step.float_states]
                 + [step.nit_seeds[q] for q in step.float_nits])
    states = []
    for r in step.float_states:
        row_shape = shape_ops.shape_list(inits[r])[1:]
        zeros = shape_ops.alloc(basic.constant(0, inits[r].dtype), 1, op.lags[r], *row_shape)
        states.append((zeros, [(-1, step.owed[r])], step.new_owed[r]))
    for i in step.float_others:
        zeros = ew.zeros_like(others[i])
        states.append((shape_ops.dimshuffle(zeros, ["x"] + list(range(zeros.ndim))),
                       [(-1, step.sums[i])], step.new_sums[i]))
    labels = ([f"gradient owed to {op.labels[r]}" for r in step.float_states]
              + [f"gradient sum of non-sequence {i}" for i in step.float_others]
              + [f"gradient of sequence {j}" for j in step.float_seqs])
    back = _build_scan(n_back, seq_outer, seq_inner, states, step.seq_grads,
                       dict(zip(step.other_vars, others)), keep_all=[False] * len(states),
                       name=f"grad_of_{op.name}" if op.name else "grad", labels=labels)
    owed_final = back[:len(step.float_states)]
    sums_final = back[len(step.float_states):len(states)]
    seq_grads = back[len(states):]

    result = [None] * len(inputs)
    for j, g in zip(step.float_seqs, seq_grads):
        target = _rows(ew.zeros_like(seqs[j]), start, n)
        result[1 + j] = subtensor.set_subtensor(target, _reversed(g))
    for r, owed_last in zip(step.float_states, owed_final):
        # Row d of the final window is owed to state row L - 1 - d: the initial rows,
        # unless truncation stopped the loop before reaching them.
        reached = _reversed(subtensor.index(owed_last, 0))
        if start is not None:
            reached = ew.switch(ew.eq(start, basic.constant(0, "int64")), reached,
                                basic.constant(0, reached.dtype))
        initial = _rows(state_grads[r], None, op.lags[r])
        result[1 + op.n_seqs + r] = ew.add(initial, reached)
    for i, total in zip(step.float_others, sums_final):
        result[1 + op.n_seqs + n_states + i] = subtensor.index(total, 0)
    return result


# ------------------------------------------------------------------ scan() itself
def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _is_updates(value):
    if isinstance(value, dict):
        return True
    return (isinstance(value, (list, tuple)) and len(value) > 0 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable)
        for p in value))


def _update_pairs(value):
    return list(value.items()) if isinstance(value, dict) else [tuple(p) for p in value]


class until:
    """Theano's stopping condition: ``fn`` returns it to end the loop early.

    ``scan`` then runs at most ``n_steps`` steps (or the sequences' length) and
    stops after the first step whose ``condition`` is true; the outputs have one
    row per step run, that last one included.

    Parameters
    ----------
    condition : scalar variable
        Computed from the step's values; any numeric or bool dtype (nonzero is true).

    Examples
    --------
    Powers of two up to the first one above 100:

    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.scan_module import until
    >>> def double(p):
    ...     return 2 * p, until(2 * p > 100)
    >>> powers, _ = graphc.scan(double, outputs_info=T.constant(1, dtype="int64"),
    ...                         n_steps=1000)
    >>> graphc.function([], powers, backend="python")()
    array([  2,   4,   8,  16,  32,  64, 128])
    """

    def __init__(self, condition):
        condition = basic.as_variable(condition)
        if condition.ndim != 0:
            raise GraphcTypeError(f"until: the condition must be a scalar, got {condition.type}")
        self.condition = condition if condition.dtype == "bool" else ew.neq(condition, 0)


def _outputs_and_updates(result):
    """Split what ``fn`` returned into (outputs, updates, condition), in Theano's forms:
    outputs, updates or both, with an :class:`until` anywhere among them."""
    items = list(result) if isinstance(result, (list, tuple)) else [result]
    conditions = [item for item in items if isinstance(item, until)]
    condition = None
    if conditions:
        if len(conditions) > 1:
            raise GraphcValueError(f"scan: fn returned {len(conditions)} stopping conditions "
                                   "(until); give one")
        condition = conditions[0].condition
        rest = [item for item in items if not isinstance(item, until)]
        result = rest[0] if len(rest) == 1 else rest
    if _is_updates(result):
        return [], _update_pairs(result), condition
    if isinstance(result, (list, tuple)) and len(result) == 2:
        first, second = result
        if _is_updates(second):
            return _as_list(first), _update_pairs(second), condition
        if _is_updates(first):
            return _as_list(second), _update_pairs(first), condition
    return _as_list(result), [], condition


def _sequences(sequences):
    """``[(variable, taps)]`` from Theano's forms (variables or {'input', 'taps'} dicts)."""
    result = []
    for j, item in enumerate(_as_list(sequences)):
        if isinstance(item, dict):
            if "input" not in item:
                raise GraphcValueError(f"scan: sequences[{j}] is a dict without 'input'")
            var, taps = item["input"], item.get("taps")
            taps = [0] if taps is None else _as_list(taps)
        else:
            var, taps = item, [0]
        var = basic.as_variable(var)
        if var.ndim < 1:
            raise GraphcTypeError(f"scan: sequences[{j}] {var.describe()} is a scalar; a "
                                  "sequence is iterated over its first axis")
        taps = [int(k) for k in taps]
        if not taps or len(set(taps)) != len(taps):
            raise GraphcValueError(f"scan: sequences[{j}] has taps {taps}; give distinct taps")
        result.append((var, taps))
    return result


def _outputs_info(outputs_info):
    """``[(initial or None, taps or None, weak)]`` from Theano's forms."""
    result = []
    for i, item in enumerate(_as_list(outputs_info)):
        taps = [-1]
        if isinstance(item, dict):
            initial = item.get("initial")
            if initial is None:
                if item.get("taps") is not None:
                    raise GraphcValueError(f"scan: outputs_info[{i}] has taps but no "
                                           "'initial': a state read at past steps needs "
                                           "initial values")
                result.append((None, None, False))
                continue
            if item.get("taps") is not None:
                taps = [int(k) for k in _as_list(item["taps"])]
        else:
            initial = item
        if initial is None:
            result.append((None, None, False))
            continue
        if not taps or any(k >= 0 for k in taps) or len(set(taps)) != len(taps):
            raise GraphcValueError(f"scan: outputs_info[{i}] has taps {taps}; the taps of an "
                                   "output must be distinct and negative (past steps)")
        weak = basic.is_weak(initial)
        initial = basic.as_variable(initial)
        if taps != [-1] and initial.ndim < 1:
            raise GraphcTypeError(
                f"scan: outputs_info[{i}]['initial'] is {initial.describe()}; with taps "
                f"{taps} it needs a leading axis of length {-min(taps)} (one row per past "
                "step)")
        result.append((initial, taps, weak))
    return result


def _tap_name(var, k, fallback):
    base = var.name or fallback
    return f"{base}[t]" if k == 0 else f"{base}[t{k:+d}]"


def _check_state_output(i, out, initial, taps):
    """``out`` as the state's new value (cast where lossless), or a clear error."""
    row = initial.type if taps == [-1] else TensorType(initial.dtype, initial.type.shape[1:])
    where = f"outputs_info[{i}]" + ("" if taps == [-1] else "['initial'] (one row)")
    if initial.name:
        where += f" ({initial.name!r})"
    if basic.is_weak(out):
        out = basic.constant(out, dtype=row.dtype)
    out = basic.as_variable(out)
    if out.ndim != row.ndim:
        raise GraphcTypeError(
            f"scan: output {i} of fn has ndim {out.ndim} ({out.type}), but its initial "
            f"state {where} has ndim {row.ndim} ({row}): a state keeps the shape of its "
            "initial value")
    for a, b in zip(out.type.shape, row.shape):
        if a is not None and b is not None and a != b:
            raise ShapeError(f"scan: output {i} of fn has shape {out.type.shape}, but its "
                             f"initial state {where} has shape {row.shape}")
    if out.dtype != row.dtype:
        if not np.can_cast(out.dtype, row.dtype, "safe"):
            raise GraphcTypeError(
                f"scan: output {i} of fn has dtype {out.dtype}, but its initial state "
                f"{where} has dtype {row.dtype}; {out.dtype} does not cast to {row.dtype} "
                f"without loss. Give an initial state of dtype {out.dtype} (e.g. "
                f"T.cast(x0, '{out.dtype}')) or cast fn's output to {row.dtype}")
        out = ew.cast(out, row.dtype)
    return out


def _sequence_slices(seqs, go_backwards):
    """Per sequence and tap: the shifted outer slice, its per-step variable, its length.

    Theano's layout: of a sequence read at taps within ``[lo, hi]`` (widened to hold
    0), tap ``k`` starts at row ``k - lo`` and stops ``hi - k`` rows before the end.
    """
    outer, inner, lengths = [], [], []
    for j, (var, taps) in enumerate(seqs):
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        for k in taps:
            piece = subtensor.index(var, slice(k - lo or None, None if k == hi else k - hi))
            if go_backwards:
                piece = _reversed(piece)
            outer.append(piece)
            inner.append(TensorType(var.dtype, var.type.shape[1:]).make_variable(
                name=_tap_name(var, k, f"seq{j}")))
            lengths.append(shape_ops.shape_list(piece)[0])
    return outer, inner, lengths


def _step_count(lengths, n_steps):
    """The number of steps: the minimum of the sequences' lengths and ``n_steps``."""
    if n_steps is not None:
        if isinstance(n_steps, (int, np.integer)) and n_steps < 0:
            raise GraphcValueError(f"scan: n_steps={n_steps}; it must be >= 0 (Theano ran "
                                   "a negative n_steps backwards: use go_backwards=True)")
        count = basic.as_variable(n_steps, dtype="int64" if basic.is_weak(n_steps) else None)
        if count.ndim != 0 or np.dtype(count.dtype).kind not in "iu":
            raise GraphcTypeError(f"scan: n_steps must be an integer scalar, got {count.type}")
        lengths = lengths + [ew.cast(count, "int64")]
    if not lengths:
        raise GraphcValueError("scan: no sequences and no n_steps: give n_steps or a sequence "
                               "to know how many steps to run")
    steps = lengths[0]
    for other in lengths[1:]:
        steps = ew.minimum(steps, other)
    return steps


def _trace(fn, args_before, infos, args_after):
    """Call ``fn`` once on per-step variables:
    ``(tap variables, outputs, updates, stopping condition or None)``.

    ``tap_variables[i]`` lists ``(tap, variable)`` for output ``i`` (empty if not fed back).
    """
    state_args, tap_vars = [], []
    for i, (initial, taps, _) in enumerate(infos):
        if initial is None:
            tap_vars.append([])
            continue
        row = initial.type if taps == [-1] else TensorType(initial.dtype,
                                                            initial.type.shape[1:])
        made = [(k, row.make_variable(name=_tap_name(initial, k, f"out{i}"))) for k in taps]
        tap_vars.append(made)
        state_args.extend(var for _, var in made)
    outputs, updates, condition = _outputs_and_updates(
        fn(*(args_before + state_args + args_after)))
    return tap_vars, outputs, updates, condition


def _shared_states(updates):
    """A state per shared variable ``fn`` updates: ``[initial block, taps, new value]``.

    Inside the loop the variable reads its value at this step, not before the loop.
    """
    states, labels = [], []
    for target, expr in updates:
        if not isinstance(target, SharedVariable):
            raise GraphcTypeError(f"scan: fn returned an update of {target!r}, which is not a "
                                  "shared variable")
        expr = basic.as_operands(target, expr)[1]
        if expr.ndim != target.ndim or not np.can_cast(expr.dtype, target.dtype, "safe"):
            raise GraphcTypeError(f"scan: fn's update of shared variable {target.describe()}"
                                  f" has type {expr.type}; it must keep ndim {target.ndim} "
                                  f"and dtype {target.dtype}")
        previous = target.type.make_variable(name=f"{target.name or 'shared'}[t-1]")
        states.append([shape_ops.dimshuffle(target, ["x"] + list(range(target.ndim))),
                       [(-1, previous)], ew.cast(expr, target.dtype)])
        labels.append(f"update of {target.name or 'a shared variable'}")
    return states, labels


def _scan(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient,
          go_backwards, name, strict, keep_last=False):
    """The work of :func:`scan`: ``(outputs, buffers, updates)``.

    ``outputs`` are the user's, in ``outputs_info`` order; ``buffers[i]`` is the
    state buffer behind output ``i`` (None for an output not fed back), for
    :func:`reduce`, which reads its last row.
    """
    if not callable(fn):
        raise GraphcTypeError(f"scan: fn must be callable, got {fn!r}")
    infos = _outputs_info(outputs_info)
    given_infos = outputs_info is not None and not (
        isinstance(outputs_info, (list, tuple)) and len(outputs_info) == 0)
    seq_outer, seq_inner, lengths = _sequence_slices(_sequences(sequences), go_backwards)
    steps = _step_count(lengths, n_steps)
    # Non-sequences reach fn as themselves, as in Theano: fn may take gradients with
    # respect to them or update a shared one. What does not change from step to step
    # is computed outside the loop anyway (_close_over), so nothing is bound.
    non_seq_args = [basic.as_variable(v) for v in _as_list(non_sequences)]

    tap_vars, outputs, updates, condition = _trace(fn, seq_inner, infos, non_seq_args)
    if given_infos and len(outputs) != len(infos):
        raise GraphcValueError(
            f"scan: fn returned {len(outputs)} output(s) but outputs_info has {len(infos)} "
            "entry(ies); give None in outputs_info for each output that is not fed back")
    if not given_infos:
        infos = [(None, None, False)] * len(outputs)
        tap_vars = [[] for _ in outputs]
    # A Python number as initial state takes the dtype of fn's output (traced again).
    retrace = False
    for i, ((initial, taps, weak), out) in enumerate(zip(infos, outputs)):
        if weak and isinstance(out, Variable) and out.dtype != initial.dtype:
            infos[i] = (basic.constant(initial.data, dtype=out.dtype), taps, False)
            retrace = True
    if retrace:
        tap_vars, outputs, updates, condition = _trace(fn, seq_inner, infos, non_seq_args)

    # States in outputs_info order, then the shared variables fn updates.
    state_of = [i for i, (initial, _, _) in enumerate(infos) if initial is not None]
    nit_of = [i for i, (initial, _, _) in enumerate(infos) if initial is None]
    states = []
    for i in state_of:
        initial, taps, _ = infos[i]
        block = (shape_ops.dimshuffle(initial, ["x"] + list(range(initial.ndim)))
                 if taps == [-1] else subtensor.index(initial, slice(None, -min(taps))))
        states.append([block, tap_vars[i], _check_state_output(i, outputs[i], initial, taps)])
    nit_values = [basic.as_variable(outputs[i]) for i in nit_of]
    shared, shared_labels = _shared_states(updates)
    if shared:
        reads = {target: state[1][0][1] for (target, _), state in zip(updates, shared)}
        states += shared
        extra = [] if condition is None else [condition]
        values = clone_replace([s[2] for s in states] + nit_values + extra, reads)
        for state, value in zip(states, values):
            state[2] = value
        nit_values = values[len(states):len(states) + len(nit_values)]
        condition = values[-1] if extra else None
    labels = ([f"output {i}" for i in state_of] + shared_labels
              + [f"output {i}" for i in nit_of])
    if strict:
        step_vars = seq_inner + [v for s in states for _, v in s[1]]
        free = _free_variables(step_vars + non_seq_args, [s[2] for s in states] + nit_values
                               + ([] if condition is None else [condition]))
        if free:
            names = ", ".join(v.describe() for v in free)
            raise GraphcValueError(f"scan(strict=True): fn uses {names}, which is not in "
                                   "non_sequences")

    keep_all = [not keep_last] * len(state_of) + [False] * len(shared)
    results = _build_scan(steps, seq_outer, seq_inner, [tuple(s) for s in states],
                          nit_values, {}, keep_all, truncate_gradient, name, labels,
                          condition)
    buffers, nits = results[:len(states)], results[len(states):]
    user_outputs, user_buffers = [None] * len(infos), [None] * len(infos)
    for i, buffer in zip(state_of, buffers):
        user_buffers[i] = buffer
        if not keep_last:
            user_outputs[i] = subtensor.index(buffer, slice(-min(infos[i][1]), None))
    for i, out in zip(nit_of, nits):
        user_outputs[i] = out
    new_updates = OrderedDict((target, subtensor.index(buffer, -1)) for (target, _), buffer
                              in zip(updates, buffers[len(state_of):]))
    return user_outputs, user_buffers, new_updates


def _free_variables(known, outputs):
    """Ownerless variables (not constants) ``outputs`` read other than through ``known``
    (the step's variables and the non-sequences, whatever they are computed from)."""
    known = set(known)
    free = [v for v in ancestors(outputs, blockers=known)
            if v.owner is None and v not in known and not isinstance(v, Constant)]
    return sorted(free, key=lambda v: v.describe())


def _pack(outputs, return_list):
    if return_list:
        return list(outputs)
    if len(outputs) == 1:
        return outputs[0]
    return list(outputs) if outputs else None


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, profile=False,
         allow_gc=None, strict=False, return_list=False):
    """Theano's loop: apply ``fn`` step by step over sequences, carrying state.

    ``fn`` is called once, on symbolic variables, with the arguments in Theano's
    order: the current slice of each sequence (one per tap), the previous values
    of each state (one per tap, in ``outputs_info`` order), then the
    non-sequences. It returns the outputs of one step: a variable, a list of
    them, an updates dict (or list of pairs), or ``(outputs, updates)``; adding
    :class:`until` ``(condition)`` to what it returns stops the loop after the
    first step where the condition holds (a while loop, bounded by ``n_steps``).

    Parameters
    ----------
    fn : callable
    sequences : variable, dict or list of them, optional
        Iterated over axis 0. A dict ``{'input': x, 'taps': [-1, 0]}`` passes
        ``x[t-1]`` and ``x[t]`` (taps default to ``[0]``); the step count shrinks by
        the span of the taps.
    outputs_info : variable, dict, None or list of them, optional
        Per output of ``fn``: ``None`` (not fed back), an initial value (fed back
        as the previous step, tap -1), or ``{'initial': x0, 'taps': [-2, -1]}``
        where ``x0`` has a leading axis with one row per past step
        (``-min(taps)`` rows; only those first rows are read). When omitted,
        no output is fed back. A Python number as initial value takes the dtype
        of ``fn``'s output; otherwise the output must cast to the initial value's
        dtype without loss, and keep its shape.
    non_sequences : variable or list, optional
        Passed to ``fn`` unchanged at every step. Variables used by ``fn`` without
        being passed (shared variables, outer symbolic variables) work too, and
        get gradients; expressions over them are computed once, outside the loop.
    n_steps : int or integer scalar variable, optional
        Without sequences, the number of steps; with sequences, an upper bound
        (the loop runs the minimum of ``n_steps`` and the sequences' lengths).
        Zero steps give outputs with an empty leading axis; a negative count is a
        ``GraphcValueError`` (Theano ran it backwards).
    truncate_gradient : int
        -1: backpropagation through all the steps; ``k > 0``: through the last
        ``k`` steps only (earlier steps and the initial states get no gradient
        through the loop).
    go_backwards : bool
        Iterate from the last row of the sequences to the first; the outputs are in
        iteration order (as Theano).
    mode, profile, allow_gc :
        Accepted for Theano code and ignored: the inner graph runs with the
        reference backend (through numba's object mode under the numba backend).
    name : str, optional
        Shown in ``debugprint`` as ``Scan{name}``.
    strict : bool
        Raise if ``fn`` uses a variable that is not passed to it.
    return_list : bool
        Always return a list of outputs (else a single output is returned bare).

    Returns
    -------
    outputs : Variable, list of Variable or None
        Each with a leading axis of one row per step (states without their
        initial rows).
    updates : OrderedDict
        ``{shared variable: value after the last step}`` for the shared
        variables ``fn`` updates; pass it to ``graphc.function(updates=...)``.

    Raises
    ------
    GraphcTypeError
        ``fn``'s output does not fit its initial state (dtype or ndim).
    GraphcValueError
        No way to know the number of steps, the wrong number of outputs, or bad taps.

    Notes
    -----
    The loop runs in Python, one evaluation of the (optimized) inner graph per
    step with the reference backend: tens of microseconds a step for a small
    recurrent network, whatever the outer backend. The numba backend calls it
    from object mode, by design (no ``FallbackWarning``).

    Differences from Theano: ``n_steps`` with sequences is an upper bound rather
    than an error when a sequence is shorter; zero steps are allowed; a negative
    ``n_steps`` is an error; a state may not change shape between steps (checked
    when called); a state whose output does not fit its initial dtype is cast
    when no value changes (``float32`` into ``float64``) instead of refused.

    Examples
    --------
    A recurrence ``h_t = tanh(x_t W + h_{t-1})`` over rows of ``x``:

    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    >>> h, updates = graphc.scan(lambda x_t, h_prev, W: T.tanh(T.dot(x_t, W) + h_prev),
    ...                          sequences=x, outputs_info=h0, non_sequences=W)
    >>> f = graphc.function([x, h0, W], h, backend="python")
    >>> f(np.ones((3, 2)), np.zeros(2), np.zeros((2, 2)))
    array([[0., 0.],
           [0., 0.],
           [0., 0.]])

    Fibonacci numbers from two taps of the same output:

    >>> fib, _ = graphc.scan(lambda a, b: a + b, n_steps=5,
    ...                      outputs_info={"initial": np.array([0, 1]), "taps": [-2, -1]})
    >>> graphc.function([], fib, backend="python")()
    array([1, 2, 3, 5, 8])
    """
    outputs, _, updates = _scan(fn, sequences, outputs_info, non_sequences, n_steps,
                                truncate_gradient, go_backwards, name, strict)
    return _pack(outputs, return_list), updates


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False,
        mode=None, name=None):
    """``fn`` applied to each row of the sequences (Theano's ``theano.map``).

    Returns ``(outputs, updates)`` as :func:`scan`.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> squares, _ = graphc.map(lambda v: v ** 2, sequences=x)
    >>> graphc.function([x], squares, backend="python")([1.0, 2.0, 3.0])
    array([1., 4., 9.])
    """
    return scan(fn, sequences=sequences, outputs_info=[], non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode,
                name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None,
           name=None):
    """Only the last step of :func:`scan` (Theano's ``theano.reduce``).

    Keeps only the last rows of each state while looping. With zero steps a
    state's result is its (last) initial value.

    Returns ``(outputs, updates)``.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> total, _ = graphc.reduce(lambda v, acc: acc + v, sequences=x,
    ...                          outputs_info=T.constant(0.0, dtype="float64"))
    >>> float(graphc.function([x], total, backend="python")([1.0, 2.0, 3.0]))
    6.0
    """
    outputs, buffers, updates = _scan(fn, sequences, outputs_info, non_sequences, None, -1,
                                      go_backwards, name, False, keep_last=True)
    last = [subtensor.index(out if buf is None else buf, -1)
            for out, buf in zip(outputs, buffers)]
    return _pack(last, False), updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """:func:`reduce` from the first row to the last (Theano's ``theano.foldl``).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> digits, _ = graphc.foldl(lambda v, acc: 10 * acc + v, sequences=x,
    ...                          outputs_info=T.constant(0.0, dtype="float64"))
    >>> float(graphc.function([x], digits, backend="python")([1.0, 2.0, 3.0]))
    123.0
    """
    return reduce(fn, sequences, outputs_info, non_sequences, False, mode, name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """:func:`reduce` from the last row to the first (Theano's ``theano.foldr``).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> x = T.dvector("x")
    >>> digits, _ = graphc.foldr(lambda v, acc: 10 * acc + v, sequences=x,
    ...                          outputs_info=T.constant(0.0, dtype="float64"))
    >>> float(graphc.function([x], digits, backend="python")([1.0, 2.0, 3.0]))
    321.0
    """
    return reduce(fn, sequences, outputs_info, non_sequences, True, mode, name)


__all__ = ["Scan", "scan", "map", "reduce", "foldl", "foldr"]
