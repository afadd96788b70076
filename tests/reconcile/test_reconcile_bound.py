"""The reconciliation overshoot bound: proved for all values, attained, and refuted for
broken variants by sessions that the real library admits call by call."""

from __future__ import annotations

from fractions import Fraction

import pytest

import impl
from model.cli.proofs import RECONCILE_BOUND, reconcile_bound_check
from proofs import reconcile_bound as rb


def test_check_proves_the_bound_and_refutes_the_variants() -> None:
    lines: list[str] = []
    res = reconcile_bound_check(progress=lines.append)
    assert res.ok, "\n".join(res.details)
    assert res.kind == "proof" and res.name == RECONCILE_BOUND
    kinds = [r["kind"] for r in res.figures["results"]]
    assert (kinds.count("theorem"), kinds.count("nonvacuous"), kinds.count("refutes")) == (
        4, 1, 2)
    assert res.figures["proved"] == res.figures["obligations"] == len(lines) == 7
    assert any("refuted as expected" in d for d in res.details)


def replay(witness: dict[str, str], k: int, b0: int = rb.TABLE7_B0) -> int:
    """Run the witness session through impl.BudgetPool; return its true bill."""
    pool = impl.BudgetPool(b0)
    billed, i = 0, 1
    while f"r{i}" in witness:
        r, a, c = (int(witness[f"{x}{i}"]) for x in "rac")
        pool.reserve(r).commit(c)  # admitted: r fits what the ledger shows as live
        assert c <= a <= r
        billed += a
        i += 1
    assert billed - b0 == int(witness["overshoot"])
    return billed


def test_the_bound_is_attained_by_a_session_the_library_admits() -> None:
    res = rb.prove_all()[4]
    assert res.kind == "nonvacuous" and res.ok
    w = res.witness
    k, n = rb.TABLE7_K, rb.TABLE7_N
    assert all(k * int(w[f"c{i}"]) >= int(w[f"a{i}"]) for i in range(1, n + 1))
    over = replay(w, k) - rb.TABLE7_B0
    assert over > 0 and over == rb.bound_uc(k, n, int(w["R"]), rb.TABLE7_B0)


def test_reconciling_less_often_than_claimed_overshoots_the_claimed_bound() -> None:
    res = rb.prove_all()[5]
    assert res.kind == "refutes" and res.ok
    k, n = rb.TABLE7_K, rb.TABLE7_N
    over = replay(res.witness, k) - rb.TABLE7_B0
    assert over > rb.bound_uc(k, n, int(res.witness["R"]), rb.TABLE7_B0)
    # the session is within the bound for what it really did: n + 1 calls per window
    assert over <= rb.bound_uc(k, n + 1, int(res.witness["R"]), rb.TABLE7_B0)


def test_a_sound_variant_is_not_refuted() -> None:
    """The refuting search fails honestly when the claim holds (n calls, claim n)."""
    res = rb.session(rb.TABLE7_N, kind="refutes", name="sound")
    assert not res.ok and res.status == "failed" and res.witness == {}


def test_a_too_small_bound_is_caught_by_the_induction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded bug: the bound claimed one window call short; a theorem must fail."""
    monkeypatch.setattr(rb, "scaled_bound", lambda n, largest, k: (n - 2) * largest * (k - 1))
    theorems = [r for r in rb.prove_all() if r.kind == "theorem"]
    assert any(r.status == "failed" and r.witness for r in theorems)


@pytest.mark.parametrize(("k", "n", "largest", "expected"), [
    (1, 3, 1000, 0), (5, 1, 1000, 0), (5, 3, 1000, 1600), (5, None, 1000, 8000),
    (2, 100, 2000, 2000), (Fraction(3, 2), 2, 900, 300)])
def test_bound_uc(k: int | Fraction, n: int | None, largest: int, expected: int) -> None:
    assert rb.bound_uc(k, n, largest, 2000) == expected
