"""Paper Proposition 1 proved with Z3 for all token counts and rates; broken variants
refuted with counterexamples that Python ints (and impl itself) confirm."""

from __future__ import annotations

from fractions import Fraction

import z3
from hypothesis import given
from hypothesis import strategies as st

import impl.pricing
from model.cli.proofs import PROPOSITION1, proposition1_check
from proofs import proposition1 as p1

nat = st.integers(min_value=0, max_value=10**12)


def as_int(s: str) -> int:
    return int(s)


def test_check_proves_every_obligation() -> None:
    lines: list[str] = []
    res = proposition1_check(progress=lines.append)
    assert res.ok, "\n".join(res.details)
    assert res.kind == "proof" and res.name == PROPOSITION1
    n = res.figures["obligations"]
    assert n == res.figures["proved"] == len(lines) == 10
    kinds = [r["kind"] for r in res.figures["results"]]
    assert kinds.count("theorem") == 4 and kinds.count("nonvacuous") == 1
    assert kinds.count("refutes") == 5
    assert res.seconds < 10
    assert any("refuted as expected" in note for note in res.details)


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


def test_the_nonvacuity_witness_is_reproduced_by_impl() -> None:
    (r,) = [r for r in p1.prove_all() if r.kind == "nonvacuous"]
    assert r.ok
    w = {k: as_int(v) for k, v in r.witness.items()}
    rates = (w["in_num"], w["out_num"], w["den"])
    reservation = impl.pricing.cost_uc_ceil(w["est_in"], w["max_out"], *rates)
    charge = impl.pricing.cost_uc_ceil(w["billed_in"], w["billed_out"], *rates)
    assert (reservation, charge) == (w["reservation_uc"], w["charge_uc"])
    assert 0 < charge < reservation and w["den"] > 1
    exact = Fraction(w["billed_in"] * w["in_num"] + w["billed_out"] * w["out_num"], w["den"])
    assert exact.denominator > 1 and charge == -(-exact.numerator // exact.denominator)
