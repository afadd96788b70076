"""The proofs are generic: any spec in the format, including faulty ones."""

from __future__ import annotations

import proofs
from model.cli.mutants import kill
from model.cli.proofs import spec_check
from spec import Invariant, Spec, Transition, broken_invariants, enabled, step


def counter(*, inc_guard: bool = True) -> Spec:
    """Two counters that move together: ``x + y == b0`` always."""
    guard = (lambda s, a: (a > 0, a <= s.x)) if inc_guard else (lambda s, a: (a > 0,))
    return Spec(
        name="counter",
        variables=("x", "y"),
        init=lambda b0: {"x": b0, "y": 0},
        transitions=(
            Transition("move", ("a",), guard, lambda s, a: {"x": s.x - a, "y": s.y + a}),
            Transition("back", ("a",), lambda s, a: (a > 0, a <= s.y),
                       lambda s, a: {"x": s.x + a, "y": s.y - a}),
            Transition("reset", (), lambda s: (s.y == 0,), lambda s: {}),
        ),
        invariants=(
            Invariant("Nat", lambda s, b0: (s.x >= 0, s.y >= 0)),
            Invariant("Sum", lambda s, b0: (s.x + s.y == b0,)),
        ),
    )


def test_a_user_counter_spec_is_proved() -> None:
    spec = counter()
    run = proofs.prove(spec)
    assert len(run.results) == proofs.count_obligations(spec) == 2 + 3 * 2 + 3
    assert run.ok, "\n".join(line for r in run.failed for line in proofs.format_result(r))
    check = spec_check(spec)
    assert check.ok and check.name == "proofs: counter (unbounded B0)"
    assert check.summary == "11/11 obligations proved, B0 symbolic"


def test_a_broken_user_spec_gets_a_concrete_counterexample() -> None:
    spec = counter(inc_guard=False)
    run = proofs.prove(spec)
    [r] = run.failed
    assert r.name == "step move preserves Nat" and r.status == "violated"
    cex = r.counterexample
    assert cex is not None and cex.pre is not None
    assert cex == proofs.Counterexample(
        b0=0, pre={"x": 0, "y": 0}, transition="move", params={"a": 1},
        post={"x": -1, "y": 1}, invariant="Nat", broken=("x >= 0 is false: -1 >= 0",),
    )
    pre = spec.State(**cex.pre)
    assert broken_invariants(spec, pre, cex.b0) == []
    assert enabled(spec, pre, "move", 1)
    assert broken_invariants(spec, step(spec, pre, "move", 1), cex.b0) == ["Nat"]
    killed, why = kill(spec)
    assert killed and why == "step move preserves Nat: b0=0, move(a=1) moves x 0 -> -1, y 0 -> 1"


def test_an_unsatisfiable_guard_fails_nonvacuity() -> None:
    never = Transition("never", ("r",), lambda s, r: (r > 0, r < 0), lambda s, r: {"x": s.x + r})
    spec = Spec(
        name="vacuous", variables=("x", "y"), init=lambda b0: {"x": b0, "y": 0},
        transitions=(never,), invariants=counter().invariants,
    )
    run = proofs.prove(spec)
    assert [r.name for r in run.failed] == ["nonvacuous never"]
    [r] = run.failed
    assert r.status == "violated" and r.counterexample is None
    assert "never can never fire" in r.message
    check = spec_check(spec)
    assert not check.ok and check.figures["failed"] == ["nonvacuous never"]
    assert any("can never fire" in d for d in check.details)
    assert kill(spec)[0]


def test_a_guard_false_only_under_the_invariants_fails_nonvacuity() -> None:
    # Satisfiable on its own (x < 0), but never where Nat holds.
    neg = Transition("neg", (), lambda s: (s.x < 0,), lambda s: {})
    spec = Spec("neg", ("x", "y"), lambda b0: {"x": b0, "y": 0}, (neg,), counter().invariants)
    assert [r.name for r in proofs.prove(spec).failed] == ["nonvacuous neg"]


def test_init_violation_has_a_counterexample() -> None:
    spec = Spec(
        "badinit", ("x", "y"), lambda b0: {"x": b0, "y": 1},
        counter().transitions, counter().invariants,
    )
    run = proofs.prove(spec)
    r = next(r for r in run.failed if r.kind == "init")
    assert r.name == "init establishes Sum"
    assert r.counterexample is not None and r.counterexample.pre is None
    assert r.counterexample.b0 == 0 and r.counterexample.post == {"x": 0, "y": 1}
    text = "\n".join(proofs.format_result(r))
    assert "init: x=0 y=1" in text and "does not hold in the initial state" in text


def test_a_spec_that_is_not_carrier_neutral_is_an_error_not_a_crash() -> None:
    spec = Spec(
        "pythonic", ("x",), lambda b0: {"x": b0},
        (
            Transition("andy", ("a",), lambda s, a: (a > 0 and a <= s.x,),
                       lambda s, a: {"x": s.x - a}),
            Transition("bare", ("a",), lambda s, a: a > 0, lambda s, a: {"x": s.x}),
            Transition("typo", (), lambda s: (True,), lambda s: {"z": 0}),
        ),
        (Invariant("Nat", lambda s, b0: (s.x >= 0,)),),
    )
    run = proofs.prove(spec)
    by_name = {r.name: r for r in run.results}
    assert by_name["init establishes Nat"].ok
    andy = by_name["step andy preserves Nat"]
    assert andy.status == "error" and "tuples of comparisons" in andy.message
    assert "expected a tuple of conjuncts" in by_name["nonvacuous bare"].message
    assert "unknown variable" in by_name["step typo preserves Nat"].message
    assert by_name["nonvacuous typo"].ok
    check = spec_check(spec)
    assert not check.ok
    killed, why = kill(spec)
    assert not killed and "error" in why


def test_undecided_obligation_is_unknown_and_fails() -> None:
    # x^3 + y^3 == z^3 has no positive integer solution (Fermat, n = 3); Z3 cannot
    # show it within a short time limit, which must be a failure, not a proof.
    spec = Spec(
        "fermat3", ("x", "y", "z"), lambda b0: {"x": 1, "y": 1, "z": 1},
        (Transition("pick", ("a", "b", "c"), lambda s, a, b, c: (a > 0, b > 0, c > 0),
                    lambda s, a, b, c: {"x": a, "y": b, "z": c}),),
        (Invariant("NoSolution",
                   lambda s, b0: (s.x * s.x * s.x + s.y * s.y * s.y != s.z * s.z * s.z,)),),
    )
    run = proofs.prove(spec, timeout=0.2)
    r = next(r for r in run.results if r.kind == "step")
    assert r.status == "unknown" and not r.ok
    assert "could not decide" in r.message and "failure" in r.message
    check = spec_check(spec, timeout=0.2)
    assert not check.ok and check.figures["unknown"] == [r.name]
    assert not kill(spec, timeout=0.2)[0]
