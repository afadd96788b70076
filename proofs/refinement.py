"""Z3: every library operation refines its claimed ledger step, for any session.

For each entry ``op`` of :data:`spec.handles.OPERATIONS` one obligation is proved
with every amount symbolic.  The session is the values ``op`` takes (explicit
symbolic naturals, e.g. the budget ``h``) plus the rest of the session summarised by
symbolic naturals ``rest_live``, ``rest_receipts``, ``rest_refunds`` (the sums of the
amounts of *any number* of other live budgets, open receipts and unapplied refunds:
the abstraction is a sum, so one natural stands for any multiset) and the three
totals.  Under HandleOK of the pre-state and ``op.pre`` (the library's own check and
the case condition), the obligation is:

* the produced values satisfy HandleOK (no negative budget or refund, no empty
  receipt);
* for claimed steps ``t1(args1); t2(args2); ...``: every ``args`` are naturals, the
  guard of each step holds in the state the steps before it reach from
  ``abstraction(pre)``, and ``abstraction(post)`` is the state after the last one,
  where the guards and updates are the spec's own lambdas (``spec.successor``);
* for a stutter (no step): ``abstraction(post) == abstraction(pre)``.

It is also checked that ``op.pre`` can hold at all (an operation that never fires
would prove anything); if not, the obligation is ``violated``.  Each run works in
its own ``z3.Context``, like :func:`proofs.obligations.prove`.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3  # type: ignore[import-untyped, unused-ignore]

from proofs.obligations import DEFAULT_TIMEOUT, MINIMISE_TIMEOUT, Status
from proofs.outcomes import Run, format_outcome
from spec.handles import FIELD, OPERATIONS, Handles, Operation, abstraction, after, handle_ok
from spec.ledger import LEDGER

_REST = ("rest_live", "rest_receipts", "rest_refunds",
         "total_charged", "total_unrecoverable", "total_released")


@dataclass(frozen=True)
class RefinementCounterexample:
    """Values, in the model's names, for which ``operation`` does not refine its claim.

    ``taken``: the values the operation consumed; ``params`` its arguments;
    ``rest``: the rest of the session (sums of the other values) and the totals;
    ``pre``/``post``: the ledger abstraction before and after; ``expected``: the
    claimed spec step applied to ``pre`` (``pre`` itself for a stutter);
    ``broken``: the conjuncts of the obligation that are false.
    """

    operation: str
    claim: str
    taken: dict[str, int]
    params: dict[str, int]
    rest: dict[str, int]
    pre: dict[str, int]
    post: dict[str, int]
    expected: dict[str, int]
    broken: tuple[str, ...]


@dataclass(frozen=True)
class RefinementResult:
    """The outcome of one obligation: ``proved``, ``violated``, ``unknown`` or ``error``
    (the last two are failures, explained in ``message``)."""

    name: str
    operation: str
    claim: str
    status: Status
    seconds: float
    counterexample: RefinementCounterexample | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """True exactly when the obligation is proved."""
        return self.status == "proved"


@dataclass
class RefinementRun(Run[RefinementResult]):
    """One obligation per operation, in table order, and the ledger transitions that
    no operation claims (``unclaimed``): a spec step the library never takes is a
    failure, since the refinement says nothing about it."""

    unclaimed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every obligation proved and every transition claimed by some operation."""
        return super().ok and not self.unclaimed


def unclaimed(operations: Sequence[Operation] = OPERATIONS) -> list[str]:
    """The transitions of ``LEDGER`` that no entry of ``operations`` claims, in spec order."""
    claimed = {c.transition for op in operations for c in op.claims}
    return [t.name for t in LEDGER.transitions if t.name not in claimed]


def obligation_name(op: Operation) -> str:
    """E.g. ``spend_success refines spend_success(r, c)``, ``split refines stutter``."""
    return f"{op.name} refines {op.claim_text}"


# --------------------------------------------------------------------------- encoding


def _bool(value: Any, ctx: z3.Context) -> Any:
    if isinstance(value, z3.BoolRef):
        return value
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return z3.BoolVal(bool(value), ctx)
    raise TypeError(f"a condition evaluated to a {type(value).__name__}")


def _int(value: Any, ctx: z3.Context) -> Any:
    if isinstance(value, z3.ArithRef):
        return value
    return z3.IntVal(operator.index(value), ctx)


@dataclass
class _Obligation:
    """The symbols of one operation's obligation and its labelled goal conjuncts."""

    taken: dict[str, Any]
    params: dict[str, Any]
    rest: dict[str, Any]
    hypothesis: Any
    goals: list[tuple[str, Any]]
    pre: Any
    post: Any
    expected: Any


def _encode(op: Operation, ctx: z3.Context) -> _Obligation:
    taken = {n: z3.Int(n, ctx) for n in op.names}
    params = {p: z3.Int(p, ctx) for p in op.params}
    rest = {n: z3.Int(n, ctx) for n in _REST}
    values = list(taken.values())
    lists: dict[str, tuple[Any, ...]] = {f: () for f in FIELD.values()}
    for kind, v in zip(op.takes, values, strict=True):
        lists[FIELD[kind]] += (v,)
    # rest_receipts stands for the other receipts and what other streams hold
    rest_state = Handles((rest["rest_live"],), (rest["rest_receipts"],), (),
                         (rest["rest_refunds"],), rest["total_charged"],
                         rest["total_unrecoverable"], rest["total_released"])
    pre_state = Handles(**{f: lists[f] + getattr(rest_state, f) for f in FIELD.values()},
                        total_charged=rest["total_charged"],
                        total_unrecoverable=rest["total_unrecoverable"],
                        total_released=rest["total_released"])
    s = abstraction(pre_state)
    args = list(params.values())
    hyp = [x >= 0 for x in (*values, *args, *rest.values())]
    # HandleOK of the taken values (the rest sums are naturals: a sum of positive
    # receipts is 0 when there are none, so rest_receipts is not required positive)
    taken_state = Handles(**lists, total_charged=0, total_unrecoverable=0, total_released=0)
    hyp += [_bool(c, ctx) for c in handle_ok(taken_state)]
    hyp += [_bool(c, ctx) for c in op.pre(s, *values, *args)]
    effect = op.effect(*values, *args)
    post_state = after(rest_state, effect)
    post = LEDGER.State(*(_int(v, ctx) for v in abstraction(post_state)))
    goals: list[tuple[str, Any]] = []
    produced = Handles(effect.live, effect.receipts, effect.streams, effect.refunds, 0, 0, 0)
    kinds = [k for k, f in FIELD.items() for _ in getattr(produced, f)]
    made = [v for f in FIELD.values() for v in getattr(produced, f)]
    for what, v, c in zip(kinds, made, handle_ok(produced), strict=False):
        goals.append((f"HandleOK of the produced {what} {_text(v)}", _bool(c, ctx)))
    expected = s
    for name, claim_args in op.steps(*values, *args):
        t = LEDGER.transition(name)
        for p, a in zip(t.params, claim_args, strict=True):
            goals.append((f"{t.name} argument {p} = {a} is a natural", _bool(a >= 0, ctx)))
        for c in t.guard(expected, *claim_args):
            goals.append((f"guard of {t.name}: {_text(c)}", _bool(c, ctx)))
        expected = LEDGER.successor(expected, t, claim_args)
    expected = LEDGER.State(*(_int(v, ctx) for v in expected))
    for name, got, want in zip(LEDGER.variables, post, expected, strict=True):
        goals.append((f"abstraction(post).{name} == spec.{name}", got == want))
    return _Obligation(taken, params, rest, z3.And(*hyp), goals, s, post, expected)


def _text(c: Any) -> str:
    return " ".join(str(c).split())


# --------------------------------------------------------------------------- proving


def prove_refinement(
    operations: Sequence[Operation] = OPERATIONS,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    minimise: bool = True,
    on_result: Callable[[int, int, RefinementResult], None] | None = None,
) -> RefinementRun:
    """Discharge one refinement obligation per entry of ``operations``.

    Guarantees: one result per entry, in order, and ``unclaimed`` lists every
    ``LEDGER`` transition no entry claims.  ``proved`` means Z3 showed, for
    every natural value of the taken values, parameters, rest of the session and
    totals satisfying HandleOK and the operation's ``pre``, that the produced values
    satisfy HandleOK and the abstraction moves exactly as the claimed spec steps
    (each guard holding where it is taken) or not at all (stutter), and that ``pre``
    is satisfiable.
    Every ``violated`` result carries a counterexample (or, for an operation that
    can never fire, a message).  At most ``timeout`` seconds per obligation.
    """
    started = time.perf_counter()
    ctx = z3.Context()
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    run = RefinementRun(unclaimed=unclaimed(operations))
    for op in operations:
        result = _discharge(op, ctx, solver, timeout, minimise)
        run.results.append(result)
        if on_result is not None:
            on_result(len(run.results), len(operations), result)
    run.seconds = time.perf_counter() - started
    return run


def _discharge(op: Operation, ctx: z3.Context, solver: z3.Solver, timeout: float,
               minimise: bool) -> RefinementResult:
    name = obligation_name(op)
    t0 = time.perf_counter()

    def result(status: Status, cex: RefinementCounterexample | None = None,
               message: str = "") -> RefinementResult:
        return RefinementResult(name, op.name, op.claim_text, status,
                                time.perf_counter() - t0, cex, message)

    try:
        ob = _encode(op, ctx)
    except Exception as e:  # a malformed table entry is reported, not raised
        return result("error", message=f"cannot encode {name}: {type(e).__name__}: {e}")
    fires = _check(solver, ob.hypothesis)
    if fires == z3.unsat:
        return result("violated", message=f"{op.name} can never fire: its pre is "
                      "unsatisfiable for natural amounts (the obligation would be vacuous)")
    query = z3.And(ob.hypothesis, z3.Not(z3.And(*(g for _, g in ob.goals))))
    answer = _check(solver, query)
    if fires == z3.unknown or answer == z3.unknown:
        return result("unknown", message=f"Z3 could not decide {name} within {timeout:g} s: "
                      "counted as a failure")
    if answer == z3.unsat:
        return result("proved")
    seconds = time.perf_counter() - t0
    model = _model(ctx, solver, query, ob, minimise)
    cex = _counterexample(op, ob, model)
    return RefinementResult(name, op.name, op.claim_text, "violated", seconds, cex)


def _check(solver: z3.Solver, query: Any) -> Any:
    solver.push()
    try:
        solver.add(query)
        return solver.check()
    finally:
        solver.pop()


def _model(ctx: z3.Context, solver: z3.Solver, query: Any, ob: _Obligation,
           minimise: bool) -> Any:
    if minimise:
        terms = [*ob.taken.values(), *ob.params.values(), *ob.rest.values()]
        opt = z3.Optimize(ctx=ctx)
        opt.set("timeout", int(MINIMISE_TIMEOUT * 1000))
        opt.add(query)
        opt.minimize(z3.Sum(terms))
        try:
            if opt.check() == z3.sat:
                return opt.model()
        except z3.Z3Exception:
            pass
    solver.push()
    try:
        solver.add(query)
        solver.check()
        return solver.model()
    finally:
        solver.pop()


def _value(model: Any, term: Any) -> int:
    return int(model.eval(term, model_completion=True).as_long())


def _counterexample(op: Operation, ob: _Obligation, model: Any) -> RefinementCounterexample:
    def values(d: dict[str, Any]) -> dict[str, int]:
        return {k: _value(model, v) for k, v in d.items()}

    def ledger(s: Any) -> dict[str, int]:
        return {k: _value(model, getattr(s, k)) for k in LEDGER.variables}

    broken = tuple(label for label, g in ob.goals
                   if not z3.is_true(model.eval(g, model_completion=True)))
    return RefinementCounterexample(
        op.name, op.claim_text, values(ob.taken), values(ob.params), values(ob.rest),
        ledger(ob.pre), ledger(ob.post), ledger(ob.expected), broken,
    )


# --------------------------------------------------------------------------- reporting


def _state(values: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items())


def format_counterexample(cex: RefinementCounterexample) -> list[str]:
    """The counterexample as indented lines: the values, the step, the three ledgers."""
    own = ", ".join(f"{k}={v}" for k, v in {**cex.taken, **cex.params}.items())
    return [
        f"  {cex.operation}({own}), claimed: {cex.claim}",
        f"  rest of the session: {_state(cex.rest)}",
        f"  pre:  {_state(cex.pre)}",
        f"  post: {_state(cex.post)}",
        f"  spec: {_state(cex.expected)}",
        *(f"  broken: {b}" for b in cex.broken),
    ]


def format_result(result: RefinementResult) -> list[str]:
    """``proved ... (t s)``, or ``FAILED ...`` with the counterexample or message."""
    return format_outcome(
        result,
        lambda r: format_counterexample(r.counterexample) if r.counterexample else [],
    )


def one_line(result: RefinementResult) -> str:
    """The verdict and evidence of one obligation on one line."""
    cex = result.counterexample
    if result.ok:
        return f"{result.name}: proved"
    if cex is None:
        return f"{result.name}: {result.status}: {result.message}"
    own = ", ".join(f"{k}={v}" for k, v in {**cex.taken, **cex.params}.items())
    return f"{result.name}: {cex.operation}({own}) breaks {'; '.join(cex.broken)}"
