"""The ledger's Z3 obligations: all proved with B0 symbolic, reported as one check.

The counts are derived from the spec: one init obligation per invariant, one step
obligation per transition and invariant, one nonvacuous per transition (3 + 24 + 8 = 35
for the ledger today); a transition added to ``spec/ledger.py`` changes them without
editing here."""

from __future__ import annotations

import time

import pytest

import proofs
from model.cli.mutants import kill
from model.cli.proofs import spec_check
from spec import LEDGER

T, INV = len(LEDGER.transitions), len(LEDGER.invariants)
N = INV + T * INV + T


@pytest.fixture(scope="module")
def run() -> proofs.ProofRun:
    return proofs.prove(LEDGER)


def test_every_ledger_obligation_is_proved(run: proofs.ProofRun) -> None:
    assert proofs.count_obligations(LEDGER) == N
    assert len(run.results) == N
    failed = ["\n".join(proofs.format_result(r)) for r in run.failed]
    assert not failed, "\n".join(failed)
    assert run.ok and run.proved == N


def test_obligations_are_named_and_ordered(run: proofs.ProofRun) -> None:
    names = [r.name for r in run.results]
    assert names[:3] == [
        "init establishes TypeOK",
        "init establishes Conservation",
        "init establishes CapSoundness",
    ]
    assert "step spend_success preserves Conservation" in names
    assert "step refund_to preserves CapSoundness" in names
    assert names[-T:] == [f"nonvacuous {t.name}" for t in LEDGER.transitions]
    assert len(set(names)) == N
    kinds = [r.kind for r in run.results]
    assert kinds.count("init") == INV and kinds.count("step") == T * INV
    assert kinds.count("nonvacuous") == T
    for r in run.results:
        assert r.seconds >= 0
        assert r.counterexample is None
        if r.kind == "step":
            assert r.transition is not None and r.invariant is not None


def test_check_spec_reports_one_proof_check() -> None:
    lines: list[str] = []
    check = spec_check(LEDGER, progress=lines.append)
    assert check.ok
    assert check.kind == "proof"
    assert check.name == "proofs: ledger (unbounded B0)"
    assert check.summary == f"{N}/{N} obligations proved, B0 symbolic"
    assert check.figures["obligations"] == N
    assert check.figures["proved"] == N
    assert check.figures["failed"] == []
    times = check.figures["obligation_times"]
    assert len(times) == N
    assert {t["status"] for t in times} == {"proved"}
    assert set(times[0]) == {"name", "kind", "status", "seconds"}
    assert check.details == []
    assert len(lines) == N and f"[{N}/{N}]" in lines[-1]
    js = check.to_json()
    assert js["obligations"] == N and js["proved"] == N and js["ok"] is True


def test_ledger_survives_kill() -> None:
    killed, why = kill(LEDGER)
    assert not killed
    assert f"{N} obligations proved" in why


def test_print_ledger_timing(capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.perf_counter()
    run = proofs.prove(LEDGER)
    wall = time.perf_counter() - t0
    slowest = max(run.results, key=lambda r: r.seconds)
    assert run.proved == len(run.results), 'a ledger obligation did not prove'
    with capsys.disabled():
        print(
            f"\n[proofs] ledger: {run.proved}/{len(run.results)} obligations proved in "
            f"{wall:.3f} s wall (slowest: {slowest.name}, {slowest.seconds:.4f} s)"
        )
