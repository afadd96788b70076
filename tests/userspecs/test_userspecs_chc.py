"""``proofs.chc``: unbounded safety by Spacer, the invariant it finds, real traces."""

from __future__ import annotations

import time
from typing import Any

import pytest
from readme import file_block

import proofs
from model.reach import find_path
from proofs.chc import prove_safety
from spec import LEDGER, MUTANTS, Invariant, Spec, Transition, broken_invariants, step


def readme_spec(file: str, name: str) -> Spec:
    scope: dict[str, Any] = {}
    exec(compile(file_block(file), file, "exec"), scope)
    spec: Spec = scope[name]
    return spec


def test_the_cycle_is_safe_for_every_b0_and_the_invariant_is_printed() -> None:
    cycle = readme_spec("cycle.py", "CYCLE")
    # the plain obligations fail: NotThree is not inductive (x = 5 steps to 3)
    failed = proofs.prove(cycle).failed
    assert [r.name for r in failed] == ["step wrap preserves NotThree"]
    assert failed[0].counterexample is not None and failed[0].counterexample.pre == {"x": 5}
    safety = prove_safety(cycle)
    assert safety.status == "proved" and safety.ok
    assert safety.invariant == ("x <= 2",) and safety.python == "(s.x <= 2,)"
    # the printed strengthening, added as an invariant, makes every obligation pass
    strong = Invariant("Strengthening", eval(f"lambda s, b0: {safety.python}"))
    fixed = Spec(cycle.name, cycle.variables, cycle.init, cycle.transitions,
                 (*cycle.invariants, strong))
    assert proofs.prove(fixed).ok


def test_a_bug_that_needs_b0_7_is_a_real_trace_at_b0_7() -> None:
    bonus = readme_spec("bonus.py", "BONUS")
    safety = prove_safety(bonus)
    assert safety.status == "violated" and not safety.ok
    assert safety.b0 == 7 and safety.broken == ("Conservation",)
    assert [s.label for s in safety.trace] == ["Init", "sell(n=7)", "bonus()"]
    assert safety.trace[-1].state == {"left": 0, "sold": 8}
    # the trace is a run of the spec on ints
    state = bonus.initial_state(7)
    for s in safety.trace[1:]:
        assert s.transition is not None
        state = step(bonus, state, s.transition, *s.params.values())
        assert dict(state._asdict()) == s.state
    assert broken_invariants(bonus, state, 7) == ["Conservation"]


def test_the_ledger_is_proved_with_conservation_in_its_invariant() -> None:
    safety = prove_safety(LEDGER)
    assert safety.ok
    fields = ("live_sum + outstanding_receipts + outstanding_refunds + total_charged "
              "+ total_unrecoverable + total_released")
    # Spacer writes the equation either way round (it did both as the spec grew)
    assert {f"B0 == {fields}", f"{fields} == B0"} & set(safety.invariant)
    assert "live_sum >= 0" in safety.invariant


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_ledger_mutant_has_a_replayed_trace(mutant: Spec) -> None:
    safety = prove_safety(mutant)
    assert safety.status == "violated" and safety.b0 is not None and safety.broken
    final = mutant.State(**safety.trace[-1].state)
    assert broken_invariants(mutant, final, safety.b0) == list(safety.broken)
    # the state before the last step is reachable at that B0 by the explorer too
    # when its parameters lie in 0..B0
    if all(0 <= v <= safety.b0 for s in safety.trace for v in s.params.values()):
        reach = find_path(mutant, safety.b0, safety.trace[-2].state)
        assert reach.found and reach.trace is not None
        assert len(reach.trace) <= len(safety.trace) - 1


def test_nonlinear_arithmetic_is_unknown_with_the_reason() -> None:
    fermat = Spec(
        "fermat3", ("x", "y", "z"), lambda b0: {"x": 1, "y": 1, "z": 1},
        (Transition("pick", ("a", "b", "c"), lambda s, a, b, c: (a > 0, b > 0, c > 0),
                    lambda s, a, b, c: {"x": a, "y": b, "z": c}),),
        (Invariant("NoSolution",
                   lambda s, b0: (s.x * s.x * s.x + s.y * s.y * s.y != s.z * s.z * s.z,)),),
    )
    t0 = time.perf_counter()
    safety = prove_safety(fermat, timeout=1.0)
    assert time.perf_counter() - t0 < 10
    assert safety.status == "unknown" and not safety.ok
    assert "Spacer could not decide" in safety.message


def test_a_spec_that_cannot_be_encoded_is_an_error() -> None:
    spec = Spec("andy", ("x",), lambda b0: {"x": b0},
                (Transition("t", ("a",), lambda s, a: (a > 0 and a <= s.x,),
                            lambda s, a: {"x": s.x - a}),),
                (Invariant("Nat", lambda s, b0: (s.x >= 0,)),))
    safety = prove_safety(spec)
    assert safety.status == "error" and "cannot encode andy" in safety.message


def test_an_unbounded_counter_is_proved_without_exploring() -> None:
    up = Spec("up", ("x",), lambda b0: {"x": 0},
              (Transition("inc", (), lambda s: (s.x >= 0,), lambda s: {"x": s.x + 1}),),
              (Invariant("Nat", lambda s, b0: (s.x >= 0,)),))
    safety = prove_safety(up)
    assert safety.ok and safety.invariant == ("x >= 0",)


def test_find_path_says_unreachable_only_after_a_complete_search() -> None:
    cycle = readme_spec("cycle.py", "CYCLE")
    gone = find_path(cycle, 0, {"x": 5})
    assert not gone.found and gone.complete and gone.states == 3
    there = find_path(cycle, 0, {"x": 2})
    assert there.trace is not None
    assert [s.label for s in there.trace] == ["Init", "advance()", "advance()"]
    up = Spec("up", ("x",), lambda b0: {"x": 0},
              (Transition("inc", (), lambda s: (s.x >= 0,), lambda s: {"x": s.x + 1}),),
              (Invariant("Nat", lambda s, b0: (s.x >= 0,)),))
    far = find_path(up, 0, {"x": -1}, max_states=500)
    assert not far.found and not far.complete
