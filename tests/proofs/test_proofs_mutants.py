"""Every built-in mutant is refuted by the proofs, with a counterexample that the
concrete (int) semantics of ``spec.concrete`` confirms independently of Z3."""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import proofs
from model.cli.mutants import kill
from model.cli.proofs import spec_check
from spec import MUTANTS, Spec, broken_invariants, enabled, step


def confirm_concretely(spec: Spec, r: proofs.ObligationResult) -> None:
    """Replay a violated obligation's counterexample on Python ints."""
    cex = r.counterexample
    assert cex is not None, r.name
    assert cex.b0 >= 0
    assert cex.invariant == r.invariant
    if r.kind == "init":
        s0 = spec.initial_state(cex.b0)
        assert s0._asdict() == cex.post
        assert cex.invariant in broken_invariants(spec, s0, cex.b0)
        return
    assert r.kind == "step" and cex.pre is not None and cex.transition is not None
    assert cex.transition == r.transition
    pre = spec.State(**cex.pre)
    t = spec.transition(cex.transition)
    args = [cex.params[p] for p in t.params]
    assert all(a >= 0 for a in args), "parameters are natural numbers"
    assert broken_invariants(spec, pre, cex.b0) == [], "the pre-state satisfies Inv"
    assert enabled(spec, pre, cex.transition, *args), "the guard holds"
    post = step(spec, pre, cex.transition, *args)
    assert post._asdict() == cex.post, "Z3's post-state is the spec's successor"
    assert cex.invariant in broken_invariants(spec, post, cex.b0)
    assert cex.broken, "the explanation names the false conjunct"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_mutant_is_refuted_with_a_confirmed_counterexample(mutant: Spec) -> None:
    run = proofs.prove(mutant)
    violated = [r for r in run.results if r.status == "violated"]
    assert violated, f"mutant {mutant.name} survives the proofs"
    assert all(r.status in ("proved", "violated") for r in run.results)
    for r in violated:
        if r.kind != "nonvacuous":
            confirm_concretely(mutant, r)
    killed, why = kill(mutant)
    assert killed
    assert why.startswith(violated[0].name)
    check = spec_check(mutant)
    assert not check.ok
    assert check.figures["failed"] == [r.name for r in violated]
    text = "\n".join(check.details)
    assert f"FAILED {violated[0].name}" in text
    assert "pre:" in text and "post:" in text and "broken:" in text


def test_counterexamples_are_small() -> None:
    for mutant in MUTANTS:
        for r in proofs.prove(mutant).failed:
            assert r.counterexample is not None
            assert r.counterexample.b0 <= 2, proofs.one_line(r)


def test_formatted_counterexample_reads_like_the_spec() -> None:
    run = proofs.prove(next(m for m in MUTANTS if m.name == "refund_to_no_debit"))
    [r] = run.failed
    text = "\n".join(proofs.format_result(r))
    assert text.splitlines()[0] == "FAILED step refund_to preserves Conservation"
    assert "  b0 = 1" in text
    assert "  pre:  live_sum=0 outstanding_receipts=0 outstanding_refunds=1 " in text
    assert "  refund_to(a=1)" in text
    assert "  post: live_sum=1 " in text
    assert "broken: Conservation does not hold in post" in text
    assert "== B0 is false: 2 == 1" in text


# Soundness cross-check: whatever a random concrete step breaks, the proof of the
# same obligation must also fail (Z3 never proves what ints refute).
@functools.cache
def statuses(mutant_name: str) -> dict[str, str]:
    m = next(m for m in MUTANTS if m.name == mutant_name)
    return {r.name: r.status for r in proofs.prove(m, minimise=False).results}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutant=st.sampled_from(MUTANTS),
    parts=st.lists(st.integers(0, 4), min_size=6, max_size=6),
    t_index=st.integers(0, 7),
    args=st.lists(st.integers(0, 6), min_size=2, max_size=2),
)
def test_concrete_violations_are_never_proved(
    mutant: Spec, parts: list[int], t_index: int, args: list[int]
) -> None:
    b0 = sum(parts)
    pre = mutant.State(*parts)
    t = mutant.transitions[t_index]
    a = args[: len(t.params)]
    if broken_invariants(mutant, pre, b0) or not enabled(mutant, pre, t.name, *a):
        return
    post = step(mutant, pre, t.name, *a)
    status = statuses(mutant.name)
    for inv in broken_invariants(mutant, post, b0):
        assert status[f"step {t.name} preserves {inv}"] == "violated"
