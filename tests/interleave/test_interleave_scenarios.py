"""The budget scenarios under every schedule, against the real impl."""

from __future__ import annotations

import pytest

from model.cli.interleavings import run_case
from model.interleave import Scenario, ScheduleSearch, explore
from model.interleave.cases import cases, expected_admitted
from model.interleave.scenarios import (
    CAPS,
    CONDITIONS,
    ForgetfulOperator,
    PoolContention,
    ReconcileRace,
    SharedHandle,
    SplitSpend,
)

CASES = {c.name: c for c in cases()}


@pytest.mark.parametrize("name", list(CASES))
def test_case_holds(name: str) -> None:
    ex, res = run_case(CASES[name])
    assert res.ok, "\n".join([res.summary, *res.details])
    assert res.figures["ok"] is True
    assert res.figures["schedules"] == ex.schedules >= res.figures["runs"] == ex.runs


def _forgetful(cond: str, cap: int) -> ScheduleSearch:
    return run_case(CASES[f"interleavings: forgetful_operator {cond} cap={cap}"])[0]


@pytest.mark.parametrize("cap", CAPS)
def test_racy_counter_overshoots_exactly_when_three_calls_exceed_the_cap(cap: int) -> None:
    ex = _forgetful("A", cap)
    assert (ex.stat("overshoot").nonzero > 0) == (3 * 23 > cap)
    assert ex.stat("spend").hi == 69  # all three check before anyone records


def test_table_vi_rows() -> None:
    a, b, c, d, e = (_forgetful("A", 60), _forgetful("B", 60), _forgetful("C", 60),
                     _forgetful("D", 100), _forgetful("E", 60))
    assert a.stat("overshoot").nonzero > 0 and a.stat("admitted").hi == 3
    for ex in (b, c, d, e):
        assert ex.stat("overshoot").nonzero == 0
    assert (c.stat("admitted").lo, c.stat("admitted").hi) == (0, 0)
    assert (d.stat("admitted").lo, d.stat("spend").hi) == (3, 69)
    # one or two children, depending on whether a refund lands before a sibling checks
    for ex in (b, e):
        assert (ex.stat("admitted").lo, ex.stat("admitted").hi) == (1, 2)
        assert (ex.stat("spend").lo, ex.stat("spend").hi) == (23, 46)


def test_expected_admitted_table() -> None:
    assert expected_admitted("A", 60) == (2, 3)
    assert expected_admitted("C", 100) == (3, 3)
    assert expected_admitted("D", 69) == (0, 0)


@pytest.mark.parametrize("cond", CONDITIONS)
def test_state_caching_matches_brute_force_forgetful(cond: str) -> None:
    _same(lambda: ForgetfulOperator(cond, 60))


@pytest.mark.parametrize("build", [
    lambda: SplitSpend(60, (20,), (2,), 2, expect_total=40, expect_left=20),
    lambda: SplitSpend(60, (20,), (None,), 3, expect_total=30, expect_left=10),
    lambda: SplitSpend(90, (20, 20), (1, 1), 1, expect_total=30, expect_left=60),
    lambda: PoolContention(cycles=2, workers=1),
    lambda: PoolContention(cap=50, held=0, r=30, c=20, cycles=1, workers=2),
    lambda: SharedHandle(mixed=False),
    lambda: SharedHandle(mixed=True),
    lambda: ReconcileRace(cap=50, r=30, c=20, workers=1, billed=(25, 45)),
], ids=["split-merge", "split-drop", "three-way", "pool-1x2", "pool-2x1", "shared",
        "shared-mixed", "reconcile"])
def test_state_caching_matches_brute_force(build: Scenario) -> None:
    _same(build)


def _same(build: Scenario) -> None:
    plain = explore(build, reduction=False)
    cached = explore(build, reduction=True)
    assert plain.ok and cached.ok
    assert plain.runs == plain.schedules == cached.schedules
    assert plain.stats == cached.stats
    assert cached.runs <= plain.runs
