"""Paper Proposition 1 proved with Z3 for all token counts and rates, for the tiered
charge and every usage shape; broken variants refuted with counterexamples that Python
ints (and impl itself) confirm; the Z3 restatement agrees with impl's code."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

import pytest
import z3
from hypothesis import given
from hypothesis import strategies as st

import impl.pricing
from model.cli.proofs import PROPOSITION1, proposition1_check
from model.cli.report import CheckResult
from proofs import contracts
from proofs import proposition1 as p1
from proofs import usage_shapes as us

nat = st.integers(min_value=0, max_value=10**12)


def as_int(s: str) -> int:
    return int(s)


@pytest.fixture(scope="module")
def run() -> tuple[CheckResult, list[str]]:
    lines: list[str] = []
    return proposition1_check(progress=lines.append), lines


@pytest.fixture(scope="module")
def results(run: tuple[CheckResult, list[str]]) -> dict[str, p1.Result]:
    """Every obligation's result, by name (decided once for the module)."""
    res, _lines = run
    return {r["name"]: p1.Result(r["name"], r["kind"], r["status"], r["seconds"],
                                 r["witness"]) for r in res.figures["results"]}


def test_check_proves_every_obligation(run: tuple[CheckResult, list[str]]) -> None:
    res, lines = run
    assert res.ok, "\n".join(res.details)
    assert res.kind == "proof" and res.name == PROPOSITION1
    declared = p1.obligations()
    n = res.figures["obligations"]
    assert n == res.figures["proved"] == len(lines) == len(declared)
    kinds = Counter(r["kind"] for r in res.figures["results"])
    assert kinds == Counter(o.kind for o in declared)
    assert [r["name"] for r in res.figures["results"]] == [o.name for o in declared]
    assert any("refuted as expected" in note for note in res.details)


def test_every_shape_has_its_theorems_and_witness() -> None:
    """Each usage shape is read once, priced at least its bill and satisfiable; the
    tiered proposition, with and without cache writes, covers every shape's reading."""
    by_kind: dict[str, list[str]] = {}
    for o in p1.obligations():
        by_kind.setdefault(o.kind, []).append(o.name)
    for shape in us.SHAPES:
        own = [n for n in by_kind["theorem"] if n.startswith(shape.name + ":")]
        assert any("read once" in n for n in own) and any("bill" in n for n in own)
        assert any(n.startswith(shape.name + ":") for n in by_kind["nonvacuous"])
    assert sum("tiered" in n for n in by_kind["theorem"]) == 2
    assert len(by_kind["refutes"]) > len(us.SHAPES)


def test_proposition1_holds_for_impl_formula() -> None:
    r = p1.proposition1()
    assert r.ok and r.status == "proved" and r.witness == {}


def test_the_z3_formula_is_impls_cost_uc_ceil() -> None:
    """The restated formula agrees with impl's code on concrete values (including
    values where the division is inexact), so the theorem is about impl's formula."""

    @given(nat, nat, nat, nat, st.integers(min_value=1, max_value=10**12))
    def agree(i: int, o: int, a: int, b: int, d: int) -> None:
        ctx = z3.Context()
        iv = [z3.IntVal(v, ctx) for v in (i, o, a, b, d)]
        term = p1.impl_cost(iv[0], iv[1], iv[2], iv[3], iv[4])
        assert z3.simplify(term).as_long() == impl.pricing.cost_uc_ceil(i, o, a, b, d)

    agree()


def test_reservation_rounded_down_is_refuted_and_the_counterexample_is_real() -> None:
    r = p1.proposition1(reservation=p1.floor_cost)
    assert r.status == "failed" and r.message == "counterexample found"
    w = {k: as_int(v) for k, v in r.witness.items()}
    assert w["billed_in"] <= w["est_in"] and w["billed_out"] <= w["max_out"]
    assert w["den"] > 0
    charge = impl.pricing.cost_uc_ceil(w["billed_in"], w["billed_out"], w["in_num"],
                                       w["out_num"], w["den"])
    floored = (w["est_in"] * w["in_num"] + w["max_out"] * w["out_num"]) // w["den"]
    assert (charge, floored) == (w["charge_uc"], w["reservation_uc"])
    assert charge > floored
    # impl's own reservation of that call covers the charge
    assert impl.pricing.cost_uc_ceil(w["est_in"], w["max_out"], w["in_num"], w["out_num"],
                                     w["den"]) >= charge


def test_dropping_a6_gives_a_counterexample_with_billed_output_above_the_cap() -> None:
    r = p1.proposition1(a6=False, kind="refutes", name="no A6")
    assert r.ok
    w = {k: as_int(v) for k, v in r.witness.items()}
    assert w["billed_out"] > w["max_out"] and w["billed_in"] <= w["est_in"]
    assert w["charge_uc"] > w["reservation_uc"]


def test_a_variant_that_still_holds_is_not_refuted() -> None:
    """``refutes`` fails (honestly) when the variant is in fact sound: a reservation
    rounded up twice as generously still covers the charge."""

    def generous(i: object, o: object, a: object, b: object, d: object) -> object:
        return p1.impl_cost(i, o, a, b, d) * 2

    r = p1.proposition1(reservation=generous, kind="refutes", name="generous")
    assert r.status == "failed" and "still satisfies" in r.message


def test_the_nonvacuity_witness_is_reproduced_by_impl(results: dict[str, p1.Result]
                                                      ) -> None:
    (r,) = [r for r in results.values() if r.kind == "nonvacuous" and ":" not in r.name]
    assert r.ok
    w = {k: as_int(v) for k, v in r.witness.items()}
    rates = (w["in_num"], w["out_num"], w["den"])
    reservation = impl.pricing.cost_uc_ceil(w["est_in"], w["max_out"], *rates)
    charge = impl.pricing.cost_uc_ceil(w["billed_in"], w["billed_out"], *rates)
    assert (reservation, charge) == (w["reservation_uc"], w["charge_uc"])
    assert 0 < charge < reservation and w["den"] > 1
    exact = Fraction(w["billed_in"] * w["in_num"] + w["billed_out"] * w["out_num"], w["den"])
    assert exact.denominator > 1 and charge == -(-exact.numerator // exact.denominator)


# ------------------------------------------ the Z3 restatement of tiers and usage is impl's

PATHS = ("prompt_tokens", "input_tokens", "completion_tokens", "output_tokens",
         "cache_creation_input_tokens", "cache_read_input_tokens",
         "cache_creation.ephemeral_5m_input_tokens",
         "cache_creation.ephemeral_1h_input_tokens",
         "prompt_tokens_details.cached_tokens", "prompt_tokens_details.cache_write_tokens",
         "input_tokens_details.cached_tokens", "input_tokens_details.cache_write_tokens",
         "completion_tokens_details.reasoning_tokens",
         "output_tokens_details.reasoning_tokens", "promptTokenCount", "prompt_token_count",
         "cachedContentTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
         "toolUsePromptTokenCount", "totalTokenCount")


def nested(flat: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, v in flat.items():
        *parents, leaf = path.split(".")
        d = out
        for part in parents:
            d = d.setdefault(part, {})
        d[leaf] = v
    return out


def value(t: object) -> int:
    return t if isinstance(t, int) else z3.simplify(t).as_long()


@given(st.dictionaries(st.sampled_from(PATHS), st.integers(0, 10**6), max_size=12))
def test_the_z3_reading_is_impls_billed_tokens(flat: dict[str, int]) -> None:
    """On any report mixing any of the fields (shapes, gateways, nonsense): the same
    classes, or both refuse it for want of an input or output count."""
    ctx = z3.Context()
    try:
        got = us.parse({k: z3.IntVal(v, ctx) for k, v in flat.items()})
    except ValueError:
        with pytest.raises(impl.MissingUsage):
            impl.billed_tokens(nested(flat))
        return
    t = impl.billed_tokens(nested(flat))
    assert tuple(value(x) for x in (got.fresh, got.read, got.w5, got.w1h, got.w, got.out)) \
        == (t.input, t.cache_read, t.cache_write_5m, t.cache_write_1h, t.cache_write,
            t.output)


rate = st.decimals(min_value=0, max_value=100, places=3)


@given(st.lists(st.integers(0, 10**9), min_size=6, max_size=6), rate, rate,
       st.none() | rate, st.none() | rate, st.none() | rate, st.integers(0, 10**9),
       st.integers(0, 10**9), st.booleans())
def test_the_z3_charge_reservation_and_defaults_are_impls(
        n: list[int], i: Any, o: Any, w5: Any, w1h: Any, rd: Any, est: int, cap: int,
        cache_writes: bool) -> None:
    rates = impl.Rates(i, o, cache_write_5m=w5, cache_write_1h=w1h, cache_read=rd)
    ctx = z3.Context()

    def num(x: Any) -> Any:
        return None if x is None else z3.IntVal(
            Fraction(x) / 10 * rates.den, ctx)  # exact: den clears every rate

    tiers = us.impl_tiers(num(i), num(o), z3.IntVal(rates.den, ctx), num(w5), num(w1h),
                          num(rd))
    assert [value(x) for x in (tiers.inp, tiers.out, tiers.w5, tiers.w1h, tiers.rd)] == [
        rates.in_num, rates.out_num, rates.write_5m_num, rates.write_1h_num,
        rates.read_num]
    billed = impl.BilledTokens(*n)
    classes = us.Classes(*[z3.IntVal(x, ctx) for x in n])
    assert value(us.charge(classes, tiers)) == impl.charge_uc(billed, rates)
    assert value(us.reservation(z3.IntVal(est, ctx), z3.IntVal(cap, ctx), tiers,
                                cache_writes)) == impl.reservation_from_tokens(
        est, cap, rates, cache_writes=cache_writes)


def test_the_gateway_double_count_counterexample_is_real(results: dict[str, p1.Result]
                                                         ) -> None:
    """The old reading's counterexample: impl now charges that call within its
    reservation, while reading it the old way exceeds it."""
    (r,) = [r for n, r in results.items() if "twice exceed the reservation" in n]
    assert r.ok
    w = {k: as_int(v) for k, v in r.witness.items()}
    rates = contracts._sym_rates(w["in_num"], w["out_num"], w["den"], w["w5_num"],
                                 w["w1h_num"], w["read_num"])
    usage = {"prompt_tokens": w["fresh"] + w["w5"] + w["w1h"] + w["read"],
             "completion_tokens": w["visible"] + w["reasoning"],
             "prompt_tokens_details": {"cached_tokens": w["read"]},
             "cache_creation_input_tokens": w["w5"] + w["w1h"],
             "cache_read_input_tokens": w["read"]}
    reservation = impl.reservation_from_tokens(w["est_in"], w["max_out"], rates,
                                               cache_writes=True)
    assert reservation == w["reservation_uc"] < w["charge_uc"]
    assert impl.charge_uc(usage, rates) <= reservation


def test_writes_at_the_input_rate_counterexample_is_below_anthropics_bill(
        results: dict[str, p1.Result]) -> None:
    (r,) = [r for n, r in results.items() if "charged at the input rate" in n]
    assert r.ok
    w = {k: as_int(v) for k, v in r.witness.items()}
    assert w["w5"] + w["w1h"] > 0 and w["charge_uc"] * w["den"] < w["bill_x_den"]
    rates = contracts._sym_rates(w["in_num"], w["out_num"], w["den"], w["w5_num"],
                                 w["w1h_num"], w["read_num"])
    billed = impl.BilledTokens(input=w["fresh"], cache_read=w["read"],
                               cache_write_5m=w["w5"], cache_write_1h=w["w1h"],
                               output=w["visible"] + w["reasoning"])
    assert impl.charge_uc(billed, rates) * w["den"] >= w["bill_x_den"]  # impl is not
