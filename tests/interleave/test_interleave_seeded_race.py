"""Seeded bugs in impl (monkeypatched, never edited): the explorer must find a
violating schedule, print it, and replay it deterministically."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

import impl
from impl.budget import Budget
from impl.errors import consumed
from impl.pool import BudgetPool, Reservation
from model.interleave import Instance, ScheduleSearch, explore, point, replay, thread
from model.interleave.scenarios import (
    ACTUAL,
    ESTIMATE,
    ForgetfulOperator,
    PoolContention,
    SharedHandle,
)


def _reservation(pool: BudgetPool, r: int) -> Reservation:
    res = Reservation()
    res._book = pool
    res._claim = r
    return res


def new_budget(session: impl.Session, amount: int) -> Budget:
    b = Budget()
    b._session = session
    b._amount = amount
    b._live = True
    return b


def stale_reserve(self: BudgetPool, r: int) -> Reservation:
    """Check-and-reserve split across a scheduling point; the debit uses the value
    read at the check (a lost update)."""
    with self._lock:
        live = self._live_sum
        if r > live:
            raise self._refusal("reserve", r)
    with self._lock:  # the lock was released in between: others may reserve
        self._live_sum = live - r
        self._outstanding_receipts += r
    return _reservation(self, r)


def split_reserve(self: BudgetPool, r: int) -> Reservation:
    """Check-and-reserve split across a scheduling point; the debit is fresh."""
    with self._lock:
        if r > self._live_sum:
            raise self._refusal("reserve", r)
    with self._lock:
        self._live_sum -= r
        self._outstanding_receipts += r
    return _reservation(self, r)


def split_spend(self: Budget, r: int, *, charged: int | None = None,
                failed: bool = False) -> Budget:
    """Budget.spend whose liveness check and consumption are two critical sections."""
    s = self._session
    with s._lock:
        if not self._live:
            raise consumed("Budget", "spend")
        held = self._amount
    with s._lock:
        self._live = False
        s._live_sum -= r
        s._total_charged += r
    return new_budget(s, held - r)


class ThreadedPool(ForgetfulOperator):
    """Condition E with the three children on OS threads; ``checked=False`` drops the
    per-step ledger check (only the end assertions remain)."""

    def __init__(self, cap: int, checked: bool = True) -> None:
        super().__init__("E", cap)
        self.checked = checked
        self._tasks = [thread(f"child{i}", partial(self._sync_child, i)) for i in range(3)]

    def _sync_child(self, i: int) -> str:
        assert isinstance(self.book, BudgetPool)
        try:
            res = self.book.reserve(ESTIMATE)
        except impl.InsufficientBudget:
            return "refused"
        self.admitted[i] = True
        point("llm call")
        res.commit(ACTUAL)
        return "admitted"

    def check_step(self) -> str | None:
        return super().check_step() if self.checked else None


def _found(scenario: Callable[[], Instance]) -> ScheduleSearch:
    ex = explore(scenario)
    v = ex.violation
    assert v is not None, "the seeded bug was not found"
    lines = v.render()
    assert lines[0].startswith(f"{v.kind} violated: ")
    assert [ln.split(".")[0].strip() for ln in lines[2:]] == [
        str(i) for i in range(1, len(v.steps) + 1)]
    rec = replay(scenario, v.schedule)
    assert rec.violation is not None
    assert (rec.violation.kind, rec.violation.message) == (v.kind, v.message)
    assert rec.schedule == v.schedule
    return ex


def test_lost_update_in_pool_reserve_breaks_conservation(monkeypatch: Any) -> None:
    monkeypatch.setattr(BudgetPool, "reserve", stale_reserve)
    ex = _found(PoolContention)
    assert ex.violation is not None and ex.violation.kind == "invariant"
    assert "conservation broken" in ex.violation.message


def test_split_pool_reserve_is_no_race_between_coroutines(monkeypatch: Any) -> None:
    # One event loop: no coroutine can run between two synchronous critical sections.
    monkeypatch.setattr(BudgetPool, "reserve", split_reserve)
    assert explore(lambda: ForgetfulOperator("E", 60)).ok


def test_split_pool_reserve_overcommits_between_threads(monkeypatch: Any) -> None:
    monkeypatch.setattr(BudgetPool, "reserve", split_reserve)
    ex = _found(lambda: ThreadedPool(60))
    assert ex.violation is not None and ex.violation.kind == "invariant"
    assert "negative" in ex.violation.message  # live_sum < 0: more reserved than held


def test_split_pool_reserve_overshoots_the_cap(monkeypatch: Any) -> None:
    monkeypatch.setattr(BudgetPool, "reserve", split_reserve)
    ex = _found(lambda: ThreadedPool(60, checked=False))
    assert ex.violation is not None and ex.violation.kind == "assertion"
    assert "overshoot" in ex.violation.message


@pytest.mark.parametrize("mixed", [False, True])
def test_split_spend_double_spends_a_shared_handle(monkeypatch: Any, mixed: bool) -> None:
    monkeypatch.setattr(Budget, "spend", split_spend)
    ex = _found(lambda: SharedHandle(mixed=mixed))
    assert ex.violation is not None and ex.violation.kind == "assertion"
    assert "double-spend" in ex.violation.message or "'spent', 'spent'" in ex.violation.message


def test_unpatched_library_passes_the_same_scenarios() -> None:
    for scenario in (lambda: PoolContention(cycles=1), lambda: SharedHandle(mixed=True),
                     lambda: ThreadedPool(60), lambda: ThreadedPool(60, checked=False)):
        assert explore(scenario).ok
    assert impl.BudgetPool.reserve is not stale_reserve
