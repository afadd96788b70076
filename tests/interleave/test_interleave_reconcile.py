"""reconcile(billed_total) racing reservations and commits on one pool: every schedule
keeps the ledger invariants and a consistent closed-ness; seeded races are found."""

from __future__ import annotations

from typing import Any

from test_interleave_seeded_race import _found, _reservation

import impl
from impl.errors import Overdraft
from impl.pool import BudgetPool, Reservation
from model.interleave import explore
from model.interleave.cases import cases
from model.interleave.scenarios import ReconcileRace


def test_the_race_closes_the_pool_in_some_schedules_only() -> None:
    ex = explore(ReconcileRace)
    assert ex.ok, ex.violation and ex.violation.render()
    assert (ex.stat("closed").lo, ex.stat("closed").hi) == (0, 1)
    assert ex.stat("overshoot").nonzero == 0
    # both bills absorbed in full (95: nothing outstanding at the second), down to 25
    # (one commit of 15 lands before the first bill of 40, the second bill overdraws)
    assert (ex.stat("absorbed").lo, ex.stat("absorbed").hi) == (25, 95)
    assert ex.stat("spend").hi == 95 <= impl.BudgetPool(100).cap
    assert "reconcile_race" in {c.scenario for c in cases()}


def split_reconcile(self: BudgetPool, billed_total: int) -> int:
    """Check the drift against live_sum, release the lock, then apply it with fresh
    reads: a reservation in between leaves less live money than the drift taken."""
    with self._lock:
        d = billed_total - self._total_charged
        if d > self._live_sum:
            self._overdraft = d - self._live_sum
            raise Overdraft("overdraft", billed_total=billed_total, total_charged=0,
                            drift=d, live_sum=self._live_sum, overdraft=self._overdraft)
    with self._lock:  # the lock was released in between: others may reserve
        if d > 0:
            self._live_sum, self._total_charged = self._live_sum - d, self._total_charged + d
    return max(d, 0)


def reserve_ignoring_closed(self: BudgetPool, r: int) -> Reservation:
    """A pool reserve that forgets the ledger may be closed."""
    with self._lock:
        if r > self._live_sum:
            raise self._refusal("reserve", r)
        self._live_sum -= r
        self._outstanding_receipts += r
    return _reservation(self, r)


def test_a_reconcile_split_across_the_lock_breaks_the_ledger(monkeypatch: Any) -> None:
    monkeypatch.setattr(BudgetPool, "reconcile", split_reconcile)
    ex = _found(ReconcileRace)
    assert ex.violation is not None and ex.violation.kind == "invariant"
    assert "negative" in ex.violation.message


def test_a_closed_pool_that_still_reserves_is_caught(monkeypatch: Any) -> None:
    monkeypatch.setattr(BudgetPool, "reserve", reserve_ignoring_closed)
    ex = _found(ReconcileRace)
    assert ex.violation is not None and ex.violation.kind == "invariant"
    assert "while the pool was closed" in ex.violation.message
    assert impl.BudgetPool.reserve is reserve_ignoring_closed
