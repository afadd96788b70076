"""The lockstep machine on every store, and seeded bugs it must catch.

Figures (ci profile): SQLite 25 examples, PostgreSQL 8, Redis 10, up to 25
steps per example; the exhaustive profile runs 10x the examples and 50 steps.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fleet_lockstep import COVERAGE, REQUIRED, FleetLockstep
from fleet_stores import BACKENDS, store_url
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

import impl.fleet.api
import impl.fleet.sqlite
from impl.fleet.backend import Reply

EXHAUSTIVE = settings._current_profile == "exhaustive"
EXAMPLES = {"sqlite": 25, "postgresql": 8, "redis": 10}
SCALE = 10 if EXHAUSTIVE else 1
CORE = frozenset({"reserve", "commit", "cancel", "forfeit", "lapse", "expire", "retry",
                  "split"})


def _run(url: str, examples: int, steps: int, *, shrink: bool = True) -> None:
    machine = type("Machine", (FleetLockstep,), {"url": url})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None,
        suppress_health_check=list(HealthCheck), derandomize=not EXHAUSTIVE, database=None,
        report_multiple_bugs=False,
        phases=list(Phase) if shrink else [Phase.explicit, Phase.generate]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_shared_pool_in_lockstep_with_the_spec(backend: str, tmp_path: Path) -> None:
    COVERAGE.clear()
    _run(store_url(backend, tmp_path), EXAMPLES[backend] * SCALE, 50 if EXHAUSTIVE else 25)
    # every event under the exhaustive profile; the core of the protocol in any run
    required = REQUIRED if EXHAUSTIVE else CORE
    if backend == "sqlite":
        missing = required - set(COVERAGE)
        assert not missing, f"never exercised: {sorted(missing)}"


class _NoExpiry(impl.fleet.sqlite.SQLiteBackend):
    """Seeded bug: lapsed leases are never forfeited."""


class _FreshIds(impl.fleet.sqlite.SQLiteBackend):
    """Seeded bug: a retried reserve is not recognised by its id (it reserves again)."""

    def reserve(self, pool: str, share: str | None, id: str, r: int, lease: float) -> Reply:
        seen = self._conn.execute("SELECT 1 FROM reservations WHERE pool = ? AND id = ?",
                                  (pool, id)).fetchone()
        return super().reserve(pool, share, f"{id}-{uuid.uuid4().hex[:6]}" if seen else id,
                               r, lease)


class _OverdraftForgotten(impl.fleet.sqlite.SQLiteBackend):
    """Seeded bug: an overdraft is reported but not recorded (the pool stays open)."""

    def reconcile(self, pool: str, billed: int) -> Reply:
        reply = super().reconcile(pool, billed)
        if reply.code == "overdraft":
            self._run(lambda c: Reply("ok", (c.execute(
                "UPDATE pools SET overdraft = 0 WHERE name = ?", (pool,)).rowcount,)))
        return reply


@pytest.mark.parametrize("bug", [_NoExpiry, _FreshIds, _OverdraftForgotten])
def test_seeded_store_bugs_are_caught(bug: type, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if bug is _NoExpiry:
        monkeypatch.setattr(impl.fleet.sqlite, "_expire", lambda c, pool, now: ())

    def connect(store: object, *, create: bool) -> object:
        return bug(store.target, store.timeout, store.synchronous,  # type: ignore[attr-defined]
                   create=create)

    monkeypatch.setattr(impl.fleet.api, "connect", connect)
    # the bug shows as a ledger that left the spec, or as a call the spec allows refused
    with pytest.raises((AssertionError, impl.BudgetError)):
        _run(store_url("sqlite", tmp_path), 200, 30, shrink=False)
