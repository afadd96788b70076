"""Bounded exploration: ``Limits`` stop a search early and mark it incomplete."""

from __future__ import annotations

import time

from model.checker import Limits, explore_batched
from model.spec_model import SpecBatchModel
from spec import LEDGER, Invariant, Spec, Transition

# x counts up for ever; y too, by any amount: an infinite state space
UP = Spec(
    "up", ("x", "y"), lambda b0: {"x": 0, "y": 0},
    (Transition("inc", (), lambda s: (s.x >= 0,), lambda s: {"x": s.x + 1}),
     Transition("add", ("a",), lambda s, a: (a > 0,), lambda s, a: {"y": s.y + a})),
    (Invariant("Nat", lambda s, b0: (s.x >= 0, s.y >= 0)),),
)


def test_max_states_stops_an_infinite_space_quickly() -> None:
    t0 = time.perf_counter()
    res = explore_batched(SpecBatchModel(UP, 5), limits=Limits(max_states=10_000))
    assert time.perf_counter() - t0 < 10
    assert res.distinct_states == 10_000 and not res.complete and not res.ok
    assert res.stopped == "max states 10,000" and not res.violations


def test_max_depth_keeps_every_level_up_to_it() -> None:
    res = explore_batched(SpecBatchModel(UP, 1), limits=Limits(max_depth=3))
    # each level adds one to x or to y: (x, y) with x + y <= 3
    assert (res.depth, res.distinct_states, res.complete) == (3, 10, False)
    assert res.stopped == "max depth 3"


def test_time_limit_stops_within_it() -> None:
    t0 = time.perf_counter()
    res = explore_batched(SpecBatchModel(UP, 5), limits=Limits(time_limit=0.5))
    assert time.perf_counter() - t0 < 5
    assert not res.complete and res.stopped == "time limit 0.5 s" and res.distinct_states > 0


def test_limits_that_are_not_reached_leave_a_search_complete() -> None:
    full = explore_batched(SpecBatchModel(LEDGER, 5))
    res = explore_batched(SpecBatchModel(LEDGER, 5),
                          limits=Limits(max_states=252, max_depth=4, time_limit=60))
    assert res.complete and res.ok and res.stopped == ""
    assert (res.distinct_states, res.transitions) == (full.distinct_states, full.transitions)


def test_a_violation_inside_the_limits_is_still_found() -> None:
    broken = UP.with_transition(
        Transition("add", ("a",), lambda s, a: (a > 0,), lambda s, a: {"y": s.y - a}))
    res = explore_batched(SpecBatchModel(broken, 2), limits=Limits(max_states=100))
    assert [v.property for v in res.violations] == ["Nat"]
    first, last = res.violations[0].trace
    assert first.label == "Init" and last.label.startswith("add(") and last.state.y < 0
