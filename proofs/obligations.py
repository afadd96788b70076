"""Proof obligations of a spec, discharged by Z3 with the bound ``B0`` symbolic.

Given any :class:`spec.format.Spec`, this module builds, from the spec's *own*
guard, update and invariant functions evaluated on Z3 terms (nothing is
re-typed), three kinds of obligation:

``init``
    for each invariant ``I``: ``B0 >= 0  =>  I(Init(B0), B0)``;
``step``
    for each transition ``t`` and invariant ``I``:
    ``B0 >= 0 /\\ params >= 0 /\\ Inv(s, B0) /\\ guard_t(s, params)  =>  I(t(s, params), B0)``,
    where ``Inv`` is the conjunction of *all* invariants (inductive strengthening);
``nonvacuous``
    for each transition ``t``: ``B0 >= 0 /\\ params >= 0 /\\ Inv(s, B0) /\\ guard_t(s, params)``
    is satisfiable (a transition that can never fire where the invariants hold is a failure).

State variables are unconstrained mathematical integers (only the invariants
constrain them); ``B0`` and every transition parameter range over the naturals,
unbounded.  An implication is proved by showing its negation unsatisfiable; when
it is satisfiable the model is turned into a :class:`Counterexample` in the
spec's names, minimised off the fast path so the numbers are small.

Each call of :func:`prove` works in its own ``z3.Context``, so proofs may run
while other code (CrossHair, another thread) uses Z3's main context.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import z3

from proofs import z3terms
from proofs.outcomes import Run
from spec.format import Spec, Transition

Kind = Literal["init", "step", "nonvacuous"]
Status = Literal["proved", "violated", "unknown", "error"]

#: Default time limit of one obligation (seconds).
DEFAULT_TIMEOUT = 10.0
#: Time limit of the (optional) counterexample minimisation of one violation (seconds).
MINIMISE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Counterexample:
    """Concrete values, in the spec's names, that violate one obligation.

    For a ``step`` obligation: ``pre`` satisfies every invariant at ``b0``, the
    guard of ``transition`` holds for ``params`` in ``pre``, and ``post`` (the
    successor) violates ``invariant``.  For an ``init`` obligation ``pre`` is
    ``None``, ``transition`` is ``None``, ``params`` is empty and ``post`` is the
    initial state at ``b0``.  ``broken`` explains which conjuncts of the invariant
    are false in ``post`` (best effort, human-readable).
    """

    b0: int
    pre: dict[str, int] | None
    transition: str | None
    params: dict[str, int]
    post: dict[str, int]
    invariant: str
    broken: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObligationResult:
    """The outcome of one obligation.

    ``status`` is ``proved`` (the obligation holds for every natural ``B0``),
    ``violated`` (Z3 found a counterexample, or for ``nonvacuous`` proved that
    the transition can never fire), ``unknown`` (time limit or incompleteness:
    a failure, explained in ``message``) or ``error`` (the spec could not be
    turned into Z3 terms: a failure, explained in ``message``).  ``seconds`` is
    the time to build and decide the obligation, without counterexample
    minimisation.
    """

    name: str
    kind: Kind
    transition: str | None
    invariant: str | None
    status: Status
    seconds: float
    counterexample: Counterexample | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """True exactly when the obligation is proved."""
        return self.status == "proved"


@dataclass
class ProofRun(Run[ObligationResult]):
    """Every obligation of one spec, in a fixed order: init, step, nonvacuous."""

    spec_name: str = ""


def obligation_name(kind: Kind, transition: str | None, invariant: str | None) -> str:
    """The display name of an obligation, e.g. ``step reserve preserves TypeOK``."""
    if kind == "init":
        return f"init establishes {invariant}"
    if kind == "step":
        return f"step {transition} preserves {invariant}"
    return f"nonvacuous {transition}"


def count_obligations(spec: Spec) -> int:
    """``I + T*I + T`` for ``I`` invariants and ``T`` transitions."""
    n_inv, n_tr = len(spec.invariants), len(spec.transitions)
    return n_inv + n_tr * n_inv + n_tr


# --------------------------------------------------------------------------- encoding


class _Encoding:
    """Z3 constants for ``B0``, one pre-state and each transition's parameters."""

    def __init__(self, spec: Spec, ctx: z3.Context) -> None:
        self.spec = spec
        self.ctx = ctx
        self.b0 = z3.Int("B0", ctx)
        self.pre_vars = {v: z3.Int(f"pre.{v}", ctx) for v in spec.variables}
        self.pre = spec.State(**self.pre_vars)
        self.params: dict[str, dict[str, Any]] = {
            t.name: {p: z3.Int(f"param.{t.name}.{p}", ctx) for p in t.params}
            for t in spec.transitions
        }
        self.b0_nat = self.b0 >= 0
        self._inv_pre: Any = None

    def inv_pre(self) -> Any:
        """All invariants of the pre-state, conjoined (built once)."""
        if self._inv_pre is None:
            self._inv_pre = self.conj(
                [c for inv in self.spec.invariants for c in self.conjuncts(
                    inv.holds(self.pre, self.b0), f"invariant {inv.name}")]
            )
        return self._inv_pre

    def params_nat(self, t: Transition) -> list[Any]:
        return [p >= 0 for p in self.params[t.name].values()]

    def guard(self, t: Transition) -> Any:
        args = list(self.params[t.name].values())
        return self.conj(self.conjuncts(t.guard(self.pre, *args), f"guard of {t.name}"))

    def post(self, t: Transition) -> Any:
        args = list(self.params[t.name].values())
        post = self.spec.successor(self.pre, t, args)
        return self.spec.State(
            **{v: self.term(getattr(post, v), f"update of {t.name}, variable {v}")
               for v in self.spec.variables}
        )

    def init_state(self) -> Any:
        s = self.spec.initial_state(self.b0)
        return self.spec.State(
            **{v: self.term(getattr(s, v), f"init, variable {v}") for v in self.spec.variables}
        )

    # -- carrier conversions ------------------------------------------------------

    def conj(self, items: Sequence[Any]) -> Any:
        return z3terms.conjoin(self.ctx, items)

    def conjuncts(self, value: Any, what: str) -> list[Any]:
        """A guard's or invariant's tuple of conjuncts as Z3 Booleans."""
        return z3terms.conditions(self.ctx, value, what)

    def term(self, value: Any, what: str) -> Any:
        """A state value as a Z3 integer term."""
        return z3terms.integer(self.ctx, value, what)


def _explain_exception(e: Exception) -> str:
    text = f"{type(e).__name__}: {e}"
    if isinstance(e, z3.Z3Exception) and "cast to concrete Boolean" in str(e):
        text += (
            " (the spec uses `and`/`or`/`not`/`if`/`min`/`max` on a state variable or "
            "parameter; write guards and invariants as tuples of comparisons)"
        )
    return text


# --------------------------------------------------------------------------- proving


@dataclass
class _Goal:
    """One obligation as a satisfiability query.

    ``query`` is satisfiable exactly when the obligation is *violated* (init, step)
    or *met* (nonvacuous, ``sat_means_ok``).
    """

    kind: Kind
    transition: Transition | None
    invariant: str | None
    build: Callable[[], tuple[Any, Any | None]]  # (query, post-state or None)
    sat_means_ok: bool = False


def _goals(spec: Spec, enc: _Encoding) -> Iterator[_Goal]:
    for inv in spec.invariants:

        def build_init(inv: Any = inv) -> tuple[Any, Any]:
            s0 = enc.init_state()
            holds = enc.conj(enc.conjuncts(inv.holds(s0, enc.b0), f"invariant {inv.name}"))
            return z3.And(enc.b0_nat, z3.Not(holds)), s0

        yield _Goal("init", None, inv.name, build_init)

    for t in spec.transitions:
        for inv in spec.invariants:

            def build_step(t: Transition = t, inv: Any = inv) -> tuple[Any, Any]:
                post = enc.post(t)
                holds = enc.conj(
                    enc.conjuncts(inv.holds(post, enc.b0), f"invariant {inv.name}")
                )
                query = z3.And(
                    enc.b0_nat, *enc.params_nat(t), enc.inv_pre(), enc.guard(t), z3.Not(holds)
                )
                return query, post

            yield _Goal("step", t, inv.name, build_step)

    for t in spec.transitions:

        def build_fire(t: Transition = t) -> tuple[Any, None]:
            return z3.And(enc.b0_nat, *enc.params_nat(t), enc.inv_pre(), enc.guard(t)), None

        yield _Goal("nonvacuous", t, None, build_fire, sat_means_ok=True)


def prove(
    spec: Spec,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    minimise: bool = True,
    on_result: Callable[[int, int, ObligationResult], None] | None = None,
) -> ProofRun:
    """Discharge every obligation of ``spec`` with ``B0`` symbolic.

    Guarantees: the run has exactly :func:`count_obligations` results, in the
    order init (per invariant), step (per transition, per invariant), nonvacuous
    (per transition).  ``proved`` means Z3 showed the implication valid for
    every natural ``B0``, every integer state and every natural parameter; every
    ``violated`` init/step result carries a :class:`Counterexample` that Z3's
    model satisfies (and that :mod:`spec.concrete` reproduces on ints).  Each
    obligation gets at most ``timeout`` seconds; running out is ``unknown``.
    An exception raised while turning the spec into Z3 terms becomes an
    ``error`` result for the obligations it affects; it does not propagate.
    ``on_result(index, total, result)`` is called after each obligation.
    """
    started = time.perf_counter()
    ctx = z3.Context()
    enc = _Encoding(spec, ctx)
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    total = count_obligations(spec)
    run = ProofRun(spec_name=spec.name)
    for goal in _goals(spec, enc):
        result = _discharge(spec, enc, solver, goal, timeout, minimise)
        run.results.append(result)
        if on_result is not None:
            on_result(len(run.results), total, result)
    run.seconds = time.perf_counter() - started
    return run


def _discharge(
    spec: Spec, enc: _Encoding, solver: z3.Solver, goal: _Goal, timeout: float, minimise: bool
) -> ObligationResult:
    tname = goal.transition.name if goal.transition is not None else None
    name = obligation_name(goal.kind, tname, goal.invariant)

    def result(
        status: Status, t0: float, cex: Counterexample | None = None, message: str = ""
    ) -> ObligationResult:
        return ObligationResult(
            name, goal.kind, tname, goal.invariant, status,
            time.perf_counter() - t0, cex, message,
        )

    t0 = time.perf_counter()
    try:
        query, post = goal.build()
    except Exception as e:  # any failure of user code is reported
        return result("error", t0, message=f"cannot build {name}: {_explain_exception(e)}")
    solver.push()
    try:
        solver.add(query)
        answer = solver.check()
        model = solver.model() if answer == z3.sat and not goal.sat_means_ok else None
        reason = solver.reason_unknown() if answer == z3.unknown else ""
    finally:
        solver.pop()
    if answer == z3.unknown:
        why = "time limit" if "timeout" in reason or "canceled" in reason else reason
        return result(
            "unknown", t0,
            message=f"Z3 could not decide {name} within {timeout:g} s ({why}): "
            "counted as a failure",
        )
    if goal.sat_means_ok:
        if answer == z3.sat:
            return result("proved", t0)
        return result(
            "violated", t0,
            message=f"{tname} can never fire: no state where all invariants hold "
            f"(for any B0 >= 0 and natural parameters) satisfies its guard",
        )
    if answer == z3.unsat:
        return result("proved", t0)
    seconds = time.perf_counter() - t0
    if minimise:
        model = _minimised(enc, goal, query, model)
    try:
        cex = _counterexample(spec, enc, goal, model, post)
    except Exception as e:  # the verdict stands even if the model cannot be read back
        return ObligationResult(
            name, goal.kind, tname, goal.invariant, "violated", seconds,
            message=f"Z3 found a counterexample but it could not be read back: {e}",
        )
    return ObligationResult(name, goal.kind, tname, goal.invariant, "violated", seconds, cex)


def _minimised(enc: _Encoding, goal: _Goal, query: Any, model: Any) -> Any:
    """A model of ``query`` with the smallest sum of absolute values (best effort)."""
    terms = [enc.b0]
    if goal.kind == "step" and goal.transition is not None:
        terms += list(enc.pre_vars.values()) + list(enc.params[goal.transition.name].values())
    opt = z3.Optimize(ctx=enc.ctx)
    opt.set("timeout", int(MINIMISE_TIMEOUT * 1000))
    opt.add(query)
    opt.minimize(z3.Sum([z3.If(x >= 0, x, -x) for x in terms]))
    try:
        if opt.check() == z3.sat:
            return opt.model()
    except z3.Z3Exception:
        pass
    return model


def _value(model: Any, term: Any) -> int:
    v = model.eval(term, model_completion=True)
    return int(v.as_long())


def _counterexample(
    spec: Spec, enc: _Encoding, goal: _Goal, model: Any, post: Any
) -> Counterexample:
    assert goal.invariant is not None
    b0 = _value(model, enc.b0)
    post_values = {v: _value(model, getattr(post, v)) for v in spec.variables}
    pre_values: dict[str, int] | None = None
    params: dict[str, int] = {}
    if goal.kind == "step" and goal.transition is not None:
        pre_values = {v: _value(model, x) for v, x in enc.pre_vars.items()}
        params = {p: _value(model, x) for p, x in enc.params[goal.transition.name].items()}
    return Counterexample(
        b0=b0,
        pre=pre_values,
        transition=goal.transition.name if goal.transition is not None else None,
        params=params,
        post=post_values,
        invariant=goal.invariant,
        broken=_broken_conjuncts(spec, enc.ctx, goal.invariant, post_values, b0),
    )


_OPS = {
    z3.Z3_OP_EQ: "==", z3.Z3_OP_DISTINCT: "!=", z3.Z3_OP_LE: "<=",
    z3.Z3_OP_LT: "<", z3.Z3_OP_GE: ">=", z3.Z3_OP_GT: ">",
}


def _broken_conjuncts(
    spec: Spec, ctx: z3.Context, invariant: str, post: Mapping[str, int], b0: int
) -> tuple[str, ...]:
    """The invariant's false conjuncts in ``post``, written over the variable names.

    E.g. ``live_sum + ... == B0 is false: 4 == 3``.  Best effort: on any trouble the
    explanation is empty and the caller says the invariant does not hold.
    """
    try:
        inv = next(i for i in spec.invariants if i.name == invariant)
        b0_name = "B0" if "B0" not in spec.variables else "B0'"
        names = {v: z3.Int(v, ctx) for v in spec.variables}
        b0_sym = z3.Int(b0_name, ctx)
        subst = [(names[v], z3.IntVal(post[v], ctx)) for v in spec.variables]
        subst.append((b0_sym, z3.IntVal(b0, ctx)))
        out = []
        for c in inv.holds(spec.State(**names), b0_sym):
            if not isinstance(c, z3.BoolRef):
                continue  # a constant conjunct (cannot be the false one unless it is False)
            if z3.is_true(z3.simplify(z3.substitute(c, *subst))):
                continue
            text = " ".join(str(c).split())
            if text.startswith("0 + "):
                text = text[4:]
            op = _OPS.get(c.decl().kind()) if c.num_args() == 2 else None
            if op is not None:
                lhs, rhs = (z3.simplify(z3.substitute(c.arg(i), *subst)) for i in (0, 1))
                text += f" is false: {lhs} {op} {rhs}"
            out.append(text)
        return tuple(out)
    except Exception:  # an explanation must never hide the verdict
        return ()
