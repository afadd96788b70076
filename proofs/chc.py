"""Unbounded safety of a spec, with no inductive invariant written by hand.

The spec is encoded as constrained Horn clauses over one unknown relation
``Reach(B0, v1, ..., vn)``, "state ``v`` is reachable from Init at bound ``B0``":

* init:   ``B0 >= 0  =>  Reach(B0, Init(B0))``
* step:   for each transition ``t``, with its parameters ``p`` natural numbers,
  ``Reach(B0, s) /\\ p >= 0 /\\ guard_t(s, p)  =>  Reach(B0, t(s, p))``
* query:  for each invariant ``I``: ``Reach(B0, s) /\\ not I(s, B0)  =>  false``

(state variables are mathematical integers, ``B0`` and the parameters range over
all naturals, exactly as in :mod:`proofs.obligations`).  Z3's Spacer engine
decides the clauses.  A solution is an interpretation of ``Reach``: an inductive
invariant that holds initially, is preserved by every transition and implies
every invariant, for every ``B0`` at once.  It is checked again here with a
plain SMT query (the three conditions, one by one) before it is reported, and it
is printed in the spec's own names.  When the clauses have no solution some
invariant is broken in a reachable state: the shortest such trace is found by
bounded model checking (unrolling the same transition relation), with the
smallest ``B0`` among traces of that length, and it is replayed on Python ints
through :func:`spec.concrete.step` before it is reported.

Everything is built from the spec's own guard, update and invariant functions
evaluated on Z3 terms; nothing is re-typed.  Each call works in its own
``z3.Context``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from proofs.z3terms import conditions, conjoin, integer
from proofs.z3text import NotExpressible, conjuncts, is_nonlinear, merge_bounds, show
from spec.concrete import broken_invariants, step
from spec.format import Spec, SpecError, Transition

Status = Literal["proved", "violated", "unknown", "error"]

#: Default time limit of the whole check (Spacer, certificate check, trace search), seconds.
DEFAULT_TIMEOUT = 30.0
#: Longest counterexample trace searched for once Spacer reports a violation.
MAX_TRACE = 60


@dataclass(frozen=True)
class TraceStep:
    """One state of a counterexample: how it was reached and the values in it.

    The first step of a trace has ``transition`` ``None`` (it is ``Init``).
    """

    transition: str | None
    params: Mapping[str, int]
    state: Mapping[str, int]

    @property
    def label(self) -> str:
        """``Init`` or ``name(p=v, ...)``, as the model checker labels steps."""
        if self.transition is None:
            return "Init"
        return f"{self.transition}({', '.join(f'{k}={v}' for k, v in self.params.items())})"


@dataclass(frozen=True)
class Safety:
    """The outcome of :func:`prove_safety`.

    ``proved``: every invariant holds in every reachable state, for every natural
    ``B0``; ``invariant`` holds the conjuncts of an inductive invariant that shows
    it (in the spec's names, ``B0`` for the bound) and ``python`` the same as a
    tuple of conjuncts over ``s`` and ``b0`` when it can be written so.
    ``violated``: ``trace`` (replayed on ints) leads from ``Init`` at ``b0`` to a
    state breaking the invariants named in ``broken``; a violation without a trace
    (the trace search ran out of time or length) says so in ``message``.
    ``unknown``: Spacer could not decide (time limit, nonlinear arithmetic);
    ``message`` gives Z3's reason.  ``error``: the spec could not be encoded.
    """

    spec_name: str
    status: Status
    seconds: float
    message: str = ""
    invariant: tuple[str, ...] = ()
    python: str | None = None
    b0: int | None = None
    trace: tuple[TraceStep, ...] = ()
    broken: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True exactly when safety is proved."""
        return self.status == "proved"


def prove_safety(
    spec: Spec, *, timeout: float = DEFAULT_TIMEOUT, max_trace: int = MAX_TRACE
) -> Safety:
    """Prove every invariant of ``spec`` for every ``B0``, or find a real violation.

    Guarantees: ``proved`` only when Spacer found an inductive invariant and a
    separate SMT check confirmed that it holds initially, is preserved by every
    transition and implies every invariant; ``violated`` only when Spacer showed a
    violation reachable, and the trace it carries (if any) was replayed on ints
    and breaks the invariants named.  The whole call takes about ``timeout``
    seconds at most; it never raises for a faulty spec (that is ``error``).
    """
    t0 = time.perf_counter()
    deadline = t0 + timeout
    try:
        enc = _Clauses(spec)
    except Exception as e:  # user code is reported, never propagated
        return Safety(spec.name, "error", time.perf_counter() - t0,
                      f"cannot encode {spec.name}: {type(e).__name__}: {e}")
    horn = z3.SolverFor("HORN", ctx=enc.ctx)
    horn.set("timeout", _ms(timeout))
    horn.add(*enc.clauses)
    answer = horn.check()
    spacer = time.perf_counter() - t0
    if answer == z3.unknown:
        reason = horn.reason_unknown()
        why = f"time limit of {timeout:g} s" if _is_timeout(reason) else reason
        if why == "unknown" and any(is_nonlinear(c) for c in enc.clauses):
            why = "the spec multiplies variables or parameters; Spacer is incomplete there"
        return Safety(spec.name, "unknown", spacer,
                      f"Spacer could not decide safety ({why})", timings={"spacer": spacer})
    if answer == z3.sat:
        return _proved(enc, horn.model().eval(enc.reach(enc.b0, *enc.vars)), t0, spacer)
    return _violated(spec, enc, t0, spacer, deadline, max_trace)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _is_timeout(reason: str) -> bool:
    return "timeout" in reason or "canceled" in reason or "cancel" in reason


class _Clauses:
    """The Horn clauses of a spec in a fresh context, and the pieces to reuse."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.ctx = ctx = z3.Context()
        self.b0_name = "B0" if "B0" not in spec.variables else "B0_"
        self.b0 = z3.Int(self.b0_name, ctx)
        self.vars = [z3.Int(v, ctx) for v in spec.variables]
        sorts = [z3.IntSort(ctx)] * (len(self.vars) + 1)
        self.reach = z3.Function("Reach", *sorts, z3.BoolSort(ctx))
        state = spec.State(*self.vars)
        init = self.init(self.b0)
        self.clauses = [z3.ForAll([self.b0], z3.Implies(self.b0 >= 0, self.reach(self.b0, *init)))]
        for t in spec.transitions:
            params = [z3.Int(f"{t.name}.{p}", ctx) for p in t.params]
            fires, post = self.step(t, state, params)
            self.clauses.append(z3.ForAll(
                [self.b0, *self.vars, *params],
                z3.Implies(z3.And(self.reach(self.b0, *self.vars), fires),
                           self.reach(self.b0, *post)),
            ))
        self.safe = self.invariants(state)
        self.clauses.append(z3.ForAll(
            [self.b0, *self.vars],
            z3.Implies(z3.And(self.reach(self.b0, *self.vars), z3.Not(self.safe)),
                       z3.BoolVal(False, ctx)),
        ))

    def init(self, b0: Any) -> list[Any]:
        s = self.spec.initial_state(b0)
        return [integer(self.ctx, getattr(s, v), f"init, variable {v}")
                for v in self.spec.variables]

    def step(self, t: Transition, state: Any, params: Sequence[Any]) -> tuple[Any, list[Any]]:
        """(``params >= 0 /\\ guard``, post-state terms) of ``t`` from ``state``."""
        guard = conditions(self.ctx, t.guard(state, *params), f"guard of {t.name}")
        post = self.spec.successor(state, t, list(params))
        terms = [integer(self.ctx, getattr(post, v), f"update of {t.name}, variable {v}")
                 for v in self.spec.variables]
        return conjoin(self.ctx, [*(p >= 0 for p in params), *guard]), terms

    def invariants(self, state: Any) -> Any:
        """Every invariant of the spec in ``state``, conjoined."""
        return conjoin(self.ctx, [
            c for inv in self.spec.invariants
            for c in conditions(self.ctx, inv.holds(state, self.b0), f"invariant {inv.name}")
        ])


# --------------------------------------------------------------------------- proved


def _proved(enc: _Clauses, interp: Any, t0: float, spacer: float) -> Safety:
    """``interp``, Spacer's ``Reach(B0, vars)``, checked and printed."""
    spec = enc.spec
    found = _tidy(enc, interp)
    problem = _certificate_problem(enc, found)
    seconds = time.perf_counter() - t0
    timings = {"spacer": spacer, "certificate": seconds - spacer}
    if problem:
        return Safety(spec.name, "unknown", seconds,
                      f"Spacer's invariant did not pass the independent check: {problem}",
                      timings=timings)
    parts = merge_bounds(conjuncts(found))
    names = {v: f"s.{v}" for v in spec.variables} | {enc.b0_name: "b0"}
    try:
        python: str | None = "(" + "".join(
            show(c, names.__getitem__, python=True) + ", " for c in parts).rstrip(" ") + ")"
    except NotExpressible:
        python = None
    return Safety(
        spec.name, "proved", seconds,
        invariant=tuple(show(c) for c in parts) or ("True",),
        python=python if parts else "()",
        timings=timings,
    )


def _tidy(enc: _Clauses, formula: Any) -> Any:
    """``formula`` simplified (contextual simplification when it finishes quickly)."""
    simple = z3.simplify(formula)
    try:
        tactic = z3.TryFor(z3.Tactic("ctx-solver-simplify", enc.ctx), 2000)
        goals = tactic(simple)
        if len(goals) == 1:
            return z3.simplify(conjoin(enc.ctx, list(goals[0])))
    except z3.Z3Exception:
        pass
    return simple


def _certificate_problem(enc: _Clauses, inv: Any) -> str:
    """Why ``inv`` is not an inductive invariant implying safety ("" when it is)."""
    spec, ctx = enc.spec, enc.ctx
    state = spec.State(*enc.vars)

    def at(terms: Sequence[Any]) -> Any:
        return z3.substitute(inv, *zip(enc.vars, terms, strict=True))

    checks = [("does not hold initially",
               z3.And(enc.b0 >= 0, z3.Not(at(enc.init(enc.b0)))))]
    for t in spec.transitions:
        params = [z3.Int(f"{t.name}.{p}", ctx) for p in t.params]
        fires, post = enc.step(t, state, params)
        checks.append((f"is not preserved by {t.name}",
                       z3.And(enc.b0 >= 0, inv, fires, z3.Not(at(post)))))
    checks.append(("does not imply the invariants", z3.And(inv, z3.Not(enc.safe))))
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", 10_000)
    for what, query in checks:
        answer = solver.check(query)
        if answer != z3.unsat:
            return f"it {what} ({answer})"
    return ""


# --------------------------------------------------------------------------- violated


def _violated(
    spec: Spec, enc: _Clauses, t0: float, spacer: float, deadline: float, max_trace: int
) -> Safety:
    try:
        found = _shortest_trace(enc, deadline, max_trace)
    except SpecError as e:
        return Safety(spec.name, "violated", time.perf_counter() - t0,
                      f"an invariant is broken in a reachable state, but the trace does not "
                      f"replay on ints: {e}", timings={"spacer": spacer})
    seconds = time.perf_counter() - t0
    timings = {"spacer": spacer, "trace": seconds - spacer}
    if found is None:
        return Safety(spec.name, "violated", seconds,
                      f"Spacer showed an invariant broken in a reachable state; no trace of at "
                      f"most {max_trace} steps was found within the time limit",
                      timings=timings)
    b0, trace = found
    last = spec.State(**trace[-1].state)
    broken = tuple(broken_invariants(spec, last, b0))
    return Safety(spec.name, "violated", seconds, b0=b0, trace=tuple(trace), broken=broken,
                  timings=timings)


def _shortest_trace(
    enc: _Clauses, deadline: float, max_trace: int
) -> tuple[int, list[TraceStep]] | None:
    """The shortest trace to a state breaking an invariant, smallest ``B0`` first among
    traces of that length, replayed on ints; ``None`` when none is found in time."""
    spec, ctx = enc.spec, enc.ctx
    solver = z3.Solver(ctx=ctx)
    frame = [enc.b0 >= 0]
    states = [enc.init(enc.b0)]
    choices: list[Any] = []
    params: list[list[list[Any]]] = []
    for k in range(max_trace + 1):
        left = deadline - time.perf_counter()
        if left <= 0:
            return None
        state = spec.State(*states[k])
        bad = z3.Not(enc.invariants(state))
        solver.set("timeout", _ms(left))
        if solver.check(*frame, bad) == z3.sat:
            model = _smallest(enc, [*frame, bad], params, deadline) or solver.model()
            return _replay(enc, model, states, choices, params)
        if k == max_trace:
            return None
        frame.append(_transition_relation(enc, k, states, choices, params))
    return None


def _transition_relation(
    enc: _Clauses, k: int, states: list[list[Any]], choices: list[Any],
    params: list[list[list[Any]]],
) -> Any:
    """Step ``k``: some transition fires from ``states[k]`` to the new ``states[k+1]``."""
    spec, ctx = enc.spec, enc.ctx
    pre = spec.State(*states[k])
    nxt = [z3.Int(f"{v}@{k + 1}", ctx) for v in spec.variables]
    choice = z3.Int(f"step@{k + 1}", ctx)
    options = []
    unused: list[Any] = []
    step_params = []
    for j, t in enumerate(spec.transitions):
        ps = [z3.Int(f"{t.name}.{p}@{k + 1}", ctx) for p in t.params]
        step_params.append(ps)
        fires, post = enc.step(t, pre, ps)
        unused.extend(p >= 0 for p in ps)  # so that minimising them is bounded
        options.append(z3.And(choice == j, fires,
                              *(a == b for a, b in zip(nxt, post, strict=True))))
    states.append(nxt)
    choices.append(choice)
    params.append(step_params)
    return z3.And(z3.Or(*options), *unused)


def _smallest(
    enc: _Clauses, constraints: list[Any], params: list[list[list[Any]]], deadline: float
) -> Any:
    """A model of ``constraints`` with the smallest ``B0``, then the smallest parameters."""
    left = deadline - time.perf_counter()
    if left <= 0.05:
        return None
    opt = z3.Optimize(ctx=enc.ctx)
    opt.set("timeout", _ms(min(left, 5.0)))
    opt.add(*constraints)
    opt.minimize(enc.b0)
    every = [p for per_step in params for ps in per_step for p in ps]
    if every:
        opt.minimize(z3.Sum(every))
    try:
        return opt.model() if opt.check() == z3.sat else None
    except z3.Z3Exception:
        return None


def _replay(
    enc: _Clauses, model: Any, states: list[list[Any]], choices: list[Any],
    params: list[list[list[Any]]],
) -> tuple[int, list[TraceStep]]:
    """The model's trace, checked step by step on ints (``SpecError`` if it disagrees)."""
    spec = enc.spec

    def val(term: Any) -> int:
        return int(model.eval(term, model_completion=True).as_long())

    b0 = val(enc.b0)
    current = spec.initial_state(b0)
    trace = [TraceStep(None, {}, dict(current._asdict()))]
    for k, choice in enumerate(choices):
        t = spec.transitions[val(choice)]
        args = {p: val(x) for p, x in zip(t.params, params[k][val(choice)], strict=True)}
        current = step(spec, current, t.name, *args.values())
        expected = {v: val(x) for v, x in zip(spec.variables, states[k + 1], strict=True)}
        if dict(current._asdict()) != expected:
            raise SpecError(f"{t.name} gives {dict(current._asdict())} on ints, "
                            f"{expected} on Z3 terms")
        trace.append(TraceStep(t.name, args, expected))
    if not broken_invariants(spec, current, b0):
        raise SpecError(f"the last state {dict(current._asdict())} breaks no invariant on ints")
    return b0, trace
