"""Paper Proposition 1 (cap soundness of the pricing arithmetic), proved with Z3.

The proposition (paper section 3.4, SPEC.md "Cap soundness of the arithmetic"): a
call reserved for ``est_in`` input tokens (an upper bound of the billed input, A1)
and ``max_out`` output tokens (the cap sent to the provider, A6) is charged, at the
same rates (A8), at most its reservation: ``charge_uc <= reservation_uc``.

This module restates impl's pricing formula (``impl/pricing.py``,
``cost_uc_ceil``) as Z3 integer arithmetic -- the one place the formula is
restated, because Z3 proves mathematics while CrossHair (:mod:`proofs.contracts`)
checks that the code computes that formula:

    cost(i, o) = ceil((i * in_num + o * out_num) / den) = -((-(i*in_num + o*out_num)) div den)

with ``in_num, out_num >= 0`` and ``den > 0`` (how ``impl.pricing.Rates`` holds any
non-negative rational rates; Z3's integer ``div`` is floor division for a positive
divisor). Every obligation is over *all* natural token counts and *all* rates:
the variables are unbounded Z3 integers (or reals), nothing is sampled.

Obligations (each must come out as stated for :func:`check` to pass):

``theorem``
    proved valid (the negation is unsatisfiable): Proposition 1 for impl's formula;
    the same with the reasoning-token allowance of ``reservation_uc`` and the
    cache-token input of ``charge_uc``; Proposition 1 over arbitrary non-negative
    *real* rates (``ceil`` via ``ToInt``); and the rounding direction: the formula
    is the least integer ``>=`` the exact cost (never under-reports, A7).
``nonvacuous``
    the premises are satisfiable, with non-zero rates, a denominator above 1 and a
    charge strictly between 0 and the reservation: the theorems are not vacuous.
``refutes``
    Z3 finds a counterexample (shown) when a premise is dropped or the rounding is
    changed: billed input above the estimate (no A1), billed output above
    ``max_out`` (no A6), the charge at other rates (no A8), the reservation rounded
    down, and the charge rounding input and output up separately. This shows each
    premise and the rounding direction is needed, and that the proof would notice a
    formula that broke them.

Each obligation runs in its own ``z3.Context`` (like :mod:`proofs.obligations`), so
it may run while CrossHair uses Z3's main context.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

Kind = Literal["theorem", "nonvacuous", "refutes"]
Status = Literal["proved", "failed", "unknown"]

#: Default time limit of one obligation (seconds); each takes milliseconds.
DEFAULT_TIMEOUT = 10.0

#: A pricing formula as Z3 terms: ``(input_tokens, output_tokens, in_num, out_num,
#: den) -> cost in uc``.
Formula = Callable[[Any, Any, Any, Any, Any], Any]


def impl_cost(i: Any, o: Any, in_num: Any, out_num: Any, den: Any) -> Any:
    """impl's ``cost_uc_ceil``: ``-(-(i*in_num + o*out_num) // den)``, as a Z3 term."""
    return -((-(i * in_num + o * out_num)) / den)


def floor_cost(i: Any, o: Any, in_num: Any, out_num: Any, den: Any) -> Any:
    """A wrong rounding: the exact cost rounded *down* (``//``)."""
    return (i * in_num + o * out_num) / den


def split_ceil_cost(i: Any, o: Any, in_num: Any, out_num: Any, den: Any) -> Any:
    """A wrong rounding: input and output each rounded up, then added."""
    return -((-(i * in_num)) / den) + -((-(o * out_num)) / den)


@dataclass(frozen=True)
class Result:
    """The outcome of one obligation.

    ``status`` is ``proved`` when the obligation came out as its kind requires (a
    theorem valid; premises satisfiable; a counterexample found for ``refutes``),
    ``failed`` when Z3 decided the opposite (a theorem's counterexample, unsatisfiable
    premises, a variant that still holds), ``unknown`` on time-out. ``witness`` is
    the model Z3 found (a theorem's counterexample, a non-vacuity witness, a
    variant's counterexample), in the variables' names, empty when there is none.
    """

    name: str
    kind: Kind
    status: Status
    seconds: float
    witness: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        """The obligation came out as required."""
        return self.status == "proved"


class _Vars:
    """The Z3 constants of one obligation, in its own context."""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx
        names = ("est_in", "max_out", "reasoning", "billed_in", "cache_in", "billed_out",
                 "in_num", "out_num", "den", "in_num2", "out_num2", "den2")
        v = {n: z3.Int(n, ctx) for n in names}
        self.v = v
        self.est_in, self.max_out, self.reasoning = v["est_in"], v["max_out"], v["reasoning"]
        self.billed_in, self.cache_in = v["billed_in"], v["cache_in"]
        self.billed_out = v["billed_out"]
        self.in_num, self.out_num, self.den = v["in_num"], v["out_num"], v["den"]
        self.in_num2, self.out_num2, self.den2 = v["in_num2"], v["out_num2"], v["den2"]
        self.rho_in = z3.Real("rho_in", ctx)
        self.rho_out = z3.Real("rho_out", ctx)

    def naturals(self) -> list[Any]:
        """Every token count ``>= 0``, numerators ``>= 0``, denominators ``> 0``."""
        return [x >= 0 for n, x in self.v.items() if not n.startswith("den")] + [
            self.den > 0, self.den2 > 0]

    def a1(self) -> Any:
        return self.billed_in <= self.est_in

    def a6(self) -> Any:
        return self.billed_out <= self.max_out

    def rates(self) -> tuple[Any, Any, Any]:
        return self.in_num, self.out_num, self.den

    def show(self, model: z3.ModelRef, terms: Sequence[tuple[str, Any]]) -> dict[str, str]:
        out = {}
        for name, t in terms:
            val = model.eval(t, model_completion=True)
            out[name] = val.as_string() if hasattr(val, "as_string") else str(val)
        return out


def _decide(name: str, kind: Kind, timeout: float,
            build: Callable[[_Vars], tuple[list[Any], list[tuple[str, Any]]]]) -> Result:
    """Decide one obligation. ``build`` returns the query's assertions and the terms to
    show from a model. For a ``theorem`` the assertions are premises + negated goal
    (unsat means proved); for ``nonvacuous``/``refutes`` a model means proved."""
    ctx = z3.Context()
    t0 = time.perf_counter()
    var = _Vars(ctx)
    assertions, shown = build(var)
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    solver.add(*var.naturals(), *assertions)
    answer = solver.check()
    seconds = time.perf_counter() - t0
    witness = var.show(solver.model(), shown) if answer == z3.sat else {}
    if answer == z3.unknown:
        return Result(name, kind, "unknown", seconds, message=solver.reason_unknown())
    sat_wanted = kind != "theorem"
    ok = (answer == z3.sat) == sat_wanted
    message = ""
    if not ok:
        message = ("counterexample found" if kind == "theorem" else
                   "premises unsatisfiable" if kind == "nonvacuous" else
                   "no counterexample exists: the variant still satisfies the proposition")
    return Result(name, kind, "proved" if ok else "failed", seconds, witness, message)


def _tokens(var: _Vars) -> list[tuple[str, Any]]:
    return [("est_in", var.est_in), ("max_out", var.max_out), ("billed_in", var.billed_in),
            ("billed_out", var.billed_out), ("in_num", var.in_num),
            ("out_num", var.out_num), ("den", var.den)]


def proposition1(reservation: Formula = impl_cost, charge: Formula = impl_cost, *,
                 a1: bool = True, a6: bool = True, a8: bool = True,
                 name: str = "Proposition 1: charge <= reservation (impl formula)",
                 kind: Kind = "theorem", timeout: float = DEFAULT_TIMEOUT) -> Result:
    """``reservation(est_in, max_out) >= charge(billed_in, billed_out)`` for all
    naturals and all rates ``in_num/den``, ``out_num/den``, under the premises kept.

    ``a1``/``a6`` drop ``billed_in <= est_in`` / ``billed_out <= max_out``; without
    ``a8`` the charge uses independent rates ``in_num2/den2``, ``out_num2/den2``.
    With ``kind="theorem"`` it is proved valid; with ``kind="refutes"`` the result is
    ``proved`` when Z3 finds a counterexample (the variant is broken, as expected).
    """

    def build(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
        r = reservation(var.est_in, var.max_out, *var.rates())
        c_rates = var.rates() if a8 else (var.in_num2, var.out_num2, var.den2)
        c = charge(var.billed_in, var.billed_out, *c_rates)
        premises = ([var.a1()] if a1 else []) + ([var.a6()] if a6 else [])
        shown = _tokens(var)
        if not a8:
            shown += [("in_num2", var.in_num2), ("out_num2", var.out_num2),
                      ("den2", var.den2)]
        shown += [("reservation_uc", r), ("charge_uc", c)]
        return [*premises, z3.Not(c <= r)], shown

    return _decide(name, kind, timeout, build)


def _with_allowances(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
    """``reservation_uc`` (output cap + reasoning allowance) vs ``charge_uc`` (input +
    cache tokens): billed input + cache <= est_in, billed output <= max_out + reasoning."""
    r = impl_cost(var.est_in, var.max_out + var.reasoning, *var.rates())
    c = impl_cost(var.billed_in + var.cache_in, var.billed_out, *var.rates())
    premises = [var.billed_in + var.cache_in <= var.est_in,
                var.billed_out <= var.max_out + var.reasoning]
    return [*premises, z3.Not(c <= r)], [("reservation_uc", r), ("charge_uc", c)]


def _real_rates(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
    """Proposition 1 with arbitrary non-negative real rates, ``ceil(x) = -ToInt(-x)``."""

    def cost(i: Any, o: Any) -> Any:
        return -z3.ToInt(-(z3.ToReal(i) * var.rho_in + z3.ToReal(o) * var.rho_out))

    r, c = cost(var.est_in, var.max_out), cost(var.billed_in, var.billed_out)
    premises = [var.rho_in >= 0, var.rho_out >= 0, var.a1(), var.a6()]
    return [*premises, z3.Not(c <= r)], [("rho_in", var.rho_in), ("rho_out", var.rho_out),
                                          ("reservation_uc", r), ("charge_uc", c)]


def _rounds_up(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
    """impl's cost is the least integer ``>=`` the exact cost ``x / den``."""
    x = var.billed_in * var.in_num + var.billed_out * var.out_num
    c = impl_cost(var.billed_in, var.billed_out, *var.rates())
    goal = z3.And(c * var.den >= x, (c - 1) * var.den < x)
    return [z3.Not(goal)], [("charge_uc", c)]


def _nonvacuous(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
    """The premises with non-zero rates, a charge strictly inside ``(0, r)`` and an
    exact cost that is not a whole number of uc (so the rounding is exercised)."""
    r = impl_cost(var.est_in, var.max_out, *var.rates())
    c = impl_cost(var.billed_in, var.billed_out, *var.rates())
    exact = var.billed_in * var.in_num + var.billed_out * var.out_num
    return [var.a1(), var.a6(), var.in_num > 0, var.out_num > 0, var.den > 1,
            c > 0, c < r, c * var.den > exact], [*_tokens(var), ("reservation_uc", r),
                                                  ("charge_uc", c)]


def prove_all(timeout: float = DEFAULT_TIMEOUT,
              on_result: Callable[[int, int, Result], None] | None = None) -> list[Result]:
    """Every obligation of this module, in a fixed order (see the module docstring)."""
    jobs: list[Callable[[], Result]] = [
        lambda: proposition1(timeout=timeout),
        lambda: _decide("Proposition 1 with reasoning allowance and cache tokens "
                        "(reservation_uc vs charge_uc)", "theorem", timeout,
                        _with_allowances),
        lambda: _decide("Proposition 1 for any non-negative real rates", "theorem",
                        timeout, _real_rates),
        lambda: _decide("the formula is the exact cost rounded up (least integer >= it)",
                        "theorem", timeout, _rounds_up),
        lambda: _decide("the premises are satisfiable with non-zero rates, a fractional "
                        "exact cost and 0 < charge < reservation", "nonvacuous", timeout,
                        _nonvacuous),
        lambda: proposition1(a1=False, kind="refutes", timeout=timeout,
                             name="without A1 (billed input > estimate) it fails"),
        lambda: proposition1(a6=False, kind="refutes", timeout=timeout,
                             name="without A6 (billed output > max_out) it fails"),
        lambda: proposition1(a8=False, kind="refutes", timeout=timeout,
                             name="without A8 (charge at other rates) it fails"),
        lambda: proposition1(reservation=floor_cost, kind="refutes", timeout=timeout,
                             name="a reservation rounded down breaks it"),
        lambda: proposition1(charge=split_ceil_cost, kind="refutes", timeout=timeout,
                             name="a charge rounding input and output up separately "
                                  "breaks it"),
    ]
    results: list[Result] = []
    for i, job in enumerate(jobs, 1):
        r = job()
        results.append(r)
        if on_result is not None:
            on_result(i, len(jobs), r)
    return results


def verdict(r: Result) -> str:
    """``proved``, ``satisfiable`` or ``refuted as expected`` when ``r`` is ok, else
    ``FAILED [status]``."""
    if not r.ok:
        return f"FAILED [{r.status}]"
    return {"theorem": "proved", "nonvacuous": "satisfiable",
            "refutes": "refuted as expected"}[r.kind]


def format_result(r: Result) -> list[str]:
    """One obligation as lines: verdict, then its witness or counterexample."""
    head = (f"{verdict(r)} {r.name} ({r.seconds:.3f} s)" if r.ok
            else f"{verdict(r)} {r.name}: {r.message}")
    lines = [head]
    if r.witness:
        label = "witness" if r.kind == "nonvacuous" else "counterexample"
        lines.append(f"  {label}: " + " ".join(f"{k}={v}" for k, v in r.witness.items()))
    return lines
