"""Paper Proposition 1 (cap soundness of the pricing arithmetic), proved with Z3.

The proposition (paper section 3.4, SEMANTICS.md "Cap soundness of the arithmetic"): a
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

The tiered charge (cache writes, reads, reasoning) and impl's reading of every provider
usage shape are restated in :mod:`proofs.usage_shapes`; tests check each restatement
against impl's code on concrete values.

Obligations (each must come out as stated for the check to pass; the list is
:func:`obligations`):

``theorem``
    proved valid (the negation is unsatisfiable): Proposition 1 for impl's two-rate
    formula; for the tiered charge, any split of the estimate among uncached input,
    cache reads and cache writes (5-minute, 1-hour, unreported TTL) with the
    reservation pricing the estimate at the dearest tier (with ``cache_writes``; and
    without, when the call writes no cache), on the exact amounts, plus the monotonicity
    of the one rounding both sides share; Proposition 1 over arbitrary non-negative
    *real* rates (``ceil`` via ``ToInt``); the rounding direction (never under-reports,
    A7). For each usage shape (Anthropic, with and without the TTL split, OpenAI chat,
    Responses, Gemini, gateway-normalised): *read once* -- impl's reading of the report
    of any call is exactly the call's billing classes, so A1 and A6 on the call are A1
    and A6 of the tiered theorem and the charge of every shape is within its
    reservation; *never below the bill* -- with the provider's published price
    structure, rates that are its input and output prices (A8) and each cache tier
    left out or given at least the provider's price, impl's charge is at least the
    provider's exact bill.
``nonvacuous``
    the premises are satisfiable, with non-zero rates, a denominator above 1 and a
    charge strictly between 0 and the reservation; per shape, with every count the shape
    reports above 0 and the charge strictly between the bill and the reservation.
``refutes``
    Z3 finds a counterexample (shown) when a premise is dropped or the formula is
    changed: billed input above the estimate (no A1), billed output above ``max_out``
    (no A6), the charge at other rates (no A8), the reservation rounded down, the
    charge rounding input and output up separately, a reservation at the plain input
    rate for a call that writes a cache, cache writes charged at the input rate (below
    Anthropic's bill), writes defaulting to 1.25x input (below Anthropic's 1-hour
    bill), reads defaulting to 0.1x (below OpenAI's), Gemini thoughts read as not
    billed, and a gateway's cache tokens counted twice (not the call's classes, and
    above the reservation). This shows each premise, tier and reading is needed, and
    that the proof would notice a formula that broke them.

Each obligation runs in its own ``z3.Context`` (like :mod:`proofs.obligations`), so
it may run while CrossHair uses Z3's main context.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import z3

from proofs import usage_shapes as us

Kind = Literal["theorem", "nonvacuous", "refutes"]
Status = Literal["proved", "failed", "unknown"]

#: Default time limit of one obligation (seconds); each takes well under a second
#: (the tiered theorem and the bills of the shapes up to about 1.5 s on a loaded machine).
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
            val = model.eval(t, model_completion=True) if z3.is_expr(t) else t
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


def _ints(var: _Vars, prefix: str, *names: str) -> dict[str, Any]:
    """Fresh natural-number constants ``prefix_name`` of the obligation's context."""
    return {n: z3.Int(f"{prefix}{n}", var.ctx) for n in names}


def _tier_vars(var: _Vars) -> tuple[us.Tiers, list[Any], list[tuple[str, Any]]]:
    """Arbitrary rates: every tier numerator ``>= 0`` over ``den > 0`` (any ``Rates``)."""
    t = _ints(var, "r_", "w5", "w1h", "rd")
    tiers = us.Tiers(var.in_num, var.out_num, t["w5"], t["w1h"], t["rd"], var.den)
    return tiers, [x >= 0 for x in t.values()], [
        ("in_num", var.in_num), ("out_num", var.out_num), ("w5_num", t["w5"]),
        ("w1h_num", t["w1h"]), ("read_num", t["rd"]), ("den", var.den)]


_CALL = ("fresh", "w5", "w1h", "wu", "read", "tool", "visible", "reasoning")


def _call_vars(var: _Vars, shape: us.Shape | None = None
               ) -> tuple[us.Call, list[Any], list[tuple[str, Any]]]:
    """A call's token counts, naturals; the classes ``shape`` never reports are 0."""
    c = _ints(var, "", *_CALL)
    unused = shape.unused if shape is not None else ()
    premises = [x >= 0 for x in c.values()] + [c[n] == 0 for n in unused]
    return us.Call(**c), premises, [(n, c[n]) for n in _CALL if n not in unused]


Reservation = Callable[[Any, Any, us.Tiers, bool], Any]
Charge = Callable[[us.Classes, us.Tiers], Any]
Parse = Callable[[us.Report], us.Classes]


def tiered(cache_writes: bool,
           reservation: Reservation = us.reservation_numerator) -> Callable[
        [_Vars], tuple[list[Any], list[tuple[str, Any]]]]:
    """Proposition 1 for the tiered charge, before rounding: the exact charge of *any*
    split of the billed input among uncached input, cache reads and writes (5-minute,
    1-hour, unreported TTL) within the estimate (A1), output within the cap plus the
    reasoning allowance (A6), at the same rates (A8), is at most the exact reservation.
    Without ``cache_writes`` the call writes no cache. Both sides are rounded up by the
    same ``ceil_div``, which is monotone (:func:`_ceil_monotone`), so the rounded charge
    is at most the rounded reservation."""

    def build(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
        k = _ints(var, "n_", "fresh", "read", "w5", "w1h", "w", "out")
        c = us.Classes(k["fresh"], k["read"], k["w5"], k["w1h"], k["w"], k["out"])
        r, rate_premises, shown = _tier_vars(var)
        cap = var.max_out + var.reasoning
        res = reservation(var.est_in, cap, r, cache_writes)
        ch = us.charge_numerator(c, r)
        premises = [x >= 0 for x in k.values()] + rate_premises + [
            c.fresh + c.read + c.w5 + c.w1h + c.w <= var.est_in, c.out <= cap]
        if not cache_writes:
            premises += [c.w5 == 0, c.w1h == 0, c.w == 0]
        return [*premises, z3.Not(ch <= res)], [
            *[(n, x) for n, x in k.items()], ("est_in", var.est_in), ("out_cap", cap),
            *shown, ("reservation_x_den", res), ("charge_x_den", ch),
            ("reservation_uc", us.ceil_div(res, var.den)),
            ("charge_uc", us.ceil_div(ch, var.den))]

    return build


def _ceil_monotone(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
    """``ceil_div(x, den) <= ceil_div(y, den)`` whenever ``x <= y`` and ``den > 0``."""
    x, y = var.billed_in, var.est_in
    return [x <= y, z3.Not(us.ceil_div(x, var.den) <= us.ceil_div(y, var.den))], [
        ("x", x), ("y", y), ("den", var.den)]


def shape_reading(shape: us.Shape, parse: Parse = us.parse) -> Callable[
        [_Vars], tuple[list[Any], list[tuple[str, Any]]]]:
    """Each token read once: impl's reading of the report ``shape`` sends for any call
    is exactly the call's billing classes (:meth:`usage_shapes.Shape.classes`): so its
    input-side classes sum to the call's input tokens and its output to the call's
    output (the premises A1 and A6 of the tiered theorems carry over to the report)."""

    def build(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
        call, call_premises, shown = _call_vars(var, shape)
        got, want = parse(shape.report(call)), shape.classes(call)
        names = ("fresh", "read", "w5", "w1h", "w", "out")
        same = z3.And(*[getattr(got, n) == getattr(want, n) for n in names])
        return [*call_premises, z3.Not(same)], [
            *shown, *[(f"read_{n}", getattr(got, n)) for n in names]]

    return build


def shape_cap(shape: us.Shape, parse: Parse) -> Callable[
        [_Vars], tuple[list[Any], list[tuple[str, Any]]]]:
    """Proposition 1 through the report of ``shape`` as ``parse`` reads it: the call's
    input-side tokens within the estimate (A1), its output within the cap (A6), any
    rates (A8), a reservation that allows cache writes. Used to refute wrong readings
    (impl's own reading is covered by :func:`shape_reading` and :func:`tiered`)."""

    def build(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
        call, call_premises, shown = _call_vars(var, shape)
        r, rate_premises, rates_shown = _tier_vars(var)
        ch = us.charge(parse(shape.report(call)), r)
        res = us.reservation(var.est_in, var.max_out, r, True)
        premises = [*call_premises, *rate_premises, call.input_total <= var.est_in,
                    call.output_total <= var.max_out]
        return [*premises, z3.Not(ch <= res)], [
            *shown, ("est_in", var.est_in), ("max_out", var.max_out), *rates_shown,
            ("reservation_uc", res), ("charge_uc", ch)]

    return build


Defaults = Callable[[Any, Any, Any, Any], us.Tiers]


def _default_tiers(inp: Any, out: Any, den: Any, w5: Any) -> us.Tiers:
    return us.impl_tiers(inp, out, den, w5=w5)


def shape_bill(shape: us.Shape, parse: Parse | None = None, charge: Charge = us.charge,
               defaults: Defaults = _default_tiers) -> Callable[
        [_Vars], tuple[list[Any], list[tuple[str, Any]]]]:
    """Never below the bill: the provider's prices follow its published structure, the
    rates given are its input and output prices (A8) and each cache tier is either left
    out (impl's default) or given at least the provider's price for it; then impl's
    charge of the call's billing classes (what impl reads from the report, by
    :func:`shape_reading`) is at least the provider's exact bill of the call. With
    ``parse`` the charge is of the report as ``parse`` reads it (a wrong reading)."""

    def build(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
        call, call_premises, shown = _call_vars(var, shape)
        p = us.Prices(var.in_num, var.out_num, *_ints(var, "p_", "w5", "w1h", "wu",
                                                        "rd").values())
        given = _ints(var, "given_", "w5", "w1h", "rd")
        flag = {n: z3.Bool(f"gives_{n}", var.ctx) for n in given}
        d = defaults(p.inp, p.out, var.den, None)
        w5 = z3.If(flag["w5"], given["w5"], d.w5)
        w1h = z3.If(flag["w1h"], given["w1h"], defaults(p.inp, p.out, var.den, w5).w1h)
        r = us.Tiers(p.inp, p.out, w5, w1h, z3.If(flag["rd"], given["rd"], d.rd), var.den)
        price = {"w5": p.w5, "w1h": p.w1h, "rd": p.rd}
        premises = [*call_premises, *shape.prices(p),
                    *[x >= 0 for x in (p.w5, p.w1h, p.wu, p.rd, *given.values())],
                    *[z3.Implies(flag[n], given[n] >= price[n]) for n in given]]
        classes = shape.classes(call) if parse is None else parse(shape.report(call))
        ch = charge(classes, r)
        b = us.bill(call, p)
        return [*premises, z3.Not(ch * var.den >= b)], [
            *shown, ("in_num", p.inp), ("out_num", p.out), ("den", var.den),
            ("provider_w5", p.w5), ("provider_w1h", p.w1h), ("provider_read", p.rd),
            ("w5_num", r.w5), ("w1h_num", r.w1h), ("read_num", r.rd),
            ("bill_x_den", b), ("charge_uc", ch)]

    return build


def shape_nonvacuous(shape: us.Shape) -> Callable[
        [_Vars], tuple[list[Any], list[tuple[str, Any]]]]:
    """The premises of both shape theorems hold together with every count the shape
    reports above 0, non-zero prices, a fractional exact charge and a charge strictly
    between the bill and the reservation."""

    def build(var: _Vars) -> tuple[list[Any], list[tuple[str, Any]]]:
        call, call_premises, shown = _call_vars(var, shape)
        p = us.Prices(var.in_num, var.out_num, *_ints(var, "p_", "w5", "w1h", "wu",
                                                        "rd").values())
        r = us.impl_tiers(p.inp, p.out, var.den)
        x = us.charge_numerator(us.parse(shape.report(call)), r)
        ch = us.ceil_div(x, var.den)
        res = us.reservation(var.est_in, var.max_out, r, True)
        b = us.bill(call, p)
        positive = [getattr(call, n) > 0 for n, _t in shown]
        return [*call_premises, *shape.prices(p), p.inp > 0, p.out > 0, p.rd > 0,
                var.den > 1, *positive, call.input_total <= var.est_in,
                call.output_total <= var.max_out, ch * var.den > x,
                b < ch * var.den, ch < res], [
            *shown, ("est_in", var.est_in), ("max_out", var.max_out), ("in_num", p.inp),
            ("out_num", p.out), ("den", var.den), ("bill_x_den", b),
            ("charge_uc", ch), ("reservation_uc", res)]

    return build


def _writes_at_input_rate(c: us.Classes, r: us.Tiers) -> Any:
    """A wrong charge (today's main before issue 8): cache writes at the input rate."""
    return us.ceil_div((c.fresh + c.w5 + c.w1h + c.w) * r.inp + c.read * r.rd
                       + c.out * r.out, r.den)


def _writes_default_125(inp: Any, out: Any, den: Any, w5: Any) -> us.Tiers:
    """Wrong defaults: every cache write at 1.25x input (Anthropic's 5-minute price)."""
    return us.Tiers(inp, out, (5 * inp) / 4, (5 * inp) / 4, inp, den)


def _reads_default_tenth(inp: Any, out: Any, den: Any, w5: Any) -> us.Tiers:
    """Wrong defaults: cache reads at 0.1x input (Anthropic's discount)."""
    t = us.impl_tiers(inp, out, den, w5=w5)
    return us.Tiers(inp, out, t.w5, t.w1h, inp / 10, den)


def _without_thoughts(f: us.Report) -> us.Classes:
    """A wrong reading of Gemini: candidates only (thoughts and the total ignored)."""
    return us.parse({k: v for k, v in f.items()
                     if k not in ("thoughtsTokenCount", "totalTokenCount")})


def _summed(f: us.Report) -> us.Classes:
    """The reading of today's main before issue 8: the larger of the input totals plus
    Anthropic's cache fields, all at the input rate."""

    def get(*names: str) -> Any:
        return us.zmax(*[f[n] for n in names if n in f] or [0])

    fresh = (get("prompt_tokens", "input_tokens") + get("cache_creation_input_tokens")
             + get("cache_read_input_tokens"))
    return us.Classes(fresh, 0, 0, 0, 0, get("completion_tokens", "output_tokens"))


def _plain_input_reservation(est_in: Any, out_cap: Any, r: us.Tiers, cache_writes: bool
                             ) -> Any:
    """A wrong reservation: the estimate at the plain input rate despite cache writes."""
    return est_in * r.inp + out_cap * r.out


def _shape(name: str) -> us.Shape:
    exact = [s for s in us.SHAPES if s.name == name]
    (shape,) = exact or [s for s in us.SHAPES if s.name.startswith(name)]
    return shape


@dataclass(frozen=True)
class Obligation:
    """One obligation of :func:`obligations`: its name, kind and how to decide it."""

    name: str
    kind: Kind
    decide: Callable[[float], Result]


def _o(name: str, kind: Kind,
       build: Callable[[_Vars], tuple[list[Any], list[tuple[str, Any]]]]) -> Obligation:
    return Obligation(name, kind, lambda timeout: _decide(name, kind, timeout, build))


def _p1(name: str, kind: Kind, **kw: Any) -> Obligation:
    return Obligation(name, kind,
                      lambda timeout: proposition1(name=name, kind=kind, timeout=timeout,
                                                   **kw))


def obligations() -> list[Obligation]:
    """Every obligation of this module, in a fixed order (see the module docstring)."""
    out = [
        _p1("Proposition 1: charge <= reservation (impl formula)", "theorem"),
        _o("Proposition 1, tiered: any split of the estimate among input, cache reads and "
           "writes, exact charge <= exact reservation (cache_writes)", "theorem",
           tiered(True)),
        _o("Proposition 1, tiered, no cache writes: input and reads within the estimate, "
           "exact charge <= exact reservation", "theorem", tiered(False)),
        _o("rounding up is monotone: the rounded charge stays within the rounded "
           "reservation", "theorem", _ceil_monotone),
        _o("Proposition 1 for any non-negative real rates", "theorem", _real_rates),
        _o("the formula is the exact cost rounded up (least integer >= it)", "theorem",
           _rounds_up),
    ]
    for shape in us.SHAPES:
        out += [
            _o(f"{shape.name}: each token read once (impl's reading is the call's "
               f"billing classes)", "theorem", shape_reading(shape)),
            _o(f"{shape.name}: charge >= the provider's bill", "theorem",
               shape_bill(shape)),
        ]
    out.append(_o("the premises are satisfiable with non-zero rates, a fractional exact "
                  "cost and 0 < charge < reservation", "nonvacuous", _nonvacuous))
    out += [_o(f"{shape.name}: premises satisfiable with every count > 0 and bill < "
               f"charge < reservation", "nonvacuous", shape_nonvacuous(shape))
            for shape in us.SHAPES]
    out += [
        _p1("without A1 (billed input > estimate) it fails", "refutes", a1=False),
        _p1("without A6 (billed output > max_out) it fails", "refutes", a6=False),
        _p1("without A8 (charge at other rates) it fails", "refutes", a8=False),
        _p1("a reservation rounded down breaks it", "refutes", reservation=floor_cost),
        _p1("a charge rounding input and output up separately breaks it", "refutes",
            charge=split_ceil_cost),
        _o("a reservation at the plain input rate breaks it when the call writes a cache",
           "refutes", tiered(True, _plain_input_reservation)),
        _o("cache writes charged at the input rate fall below Anthropic's bill", "refutes",
           shape_bill(_shape("Anthropic messages"), charge=_writes_at_input_rate)),
        _o("writes defaulting to 1.25x input fall below Anthropic's 1-hour bill",
           "refutes", shape_bill(_shape("Anthropic messages"),
                                 defaults=_writes_default_125)),
        _o("reads defaulting to 0.1x input fall below OpenAI's cached-input bill",
           "refutes", shape_bill(_shape("OpenAI chat"), defaults=_reads_default_tenth)),
        _o("Gemini thoughts read as not billed fall below Gemini's bill", "refutes",
           shape_bill(_shape("Gemini"), parse=_without_thoughts)),
        _o("a gateway's cache tokens counted twice are not its call's classes",
           "refutes", shape_reading(_shape("gateway"), parse=_summed)),
        _o("a gateway's cache tokens counted twice exceed the reservation", "refutes",
           shape_cap(_shape("gateway"), parse=_summed)),
    ]
    return out


def prove_all(timeout: float = DEFAULT_TIMEOUT,
              on_result: Callable[[int, int, Result], None] | None = None) -> list[Result]:
    """Decide every obligation of :func:`obligations`, in order."""
    jobs = obligations()
    results: list[Result] = []
    for i, job in enumerate(jobs, 1):
        r = job.decide(timeout)
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
