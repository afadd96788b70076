"""SharedPool.reconcile on every store: the ninth transition against the provider's bill,
idempotent across handles, the overdraft recorded in the store and seen everywhere."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from fleet_stores import POSTGRES_URL, RUN, store_url

import impl
import impl.fleet.api
import impl.fleet.sqlite
from impl.fleet import AMOUNT_LIMIT
from impl.fleet.backend import Reply


def fields(pool: impl.SharedPool) -> tuple[int, ...]:
    led = pool.ledger()
    return tuple(getattr(led, f) for f in impl.FIELDS)


def test_reconcile_moves_the_drift_to_total_charged(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    other = impl.SharedPool.open(url, name)
    steps: list[impl.Step] = []
    pool.observe(steps.append)
    pool.reserve(300).commit(100)  # the provider reported 100 uc
    steps.clear()
    assert pool.reconcile(250) == 150  # ... and billed 250
    assert fields(pool) == (750, 0, 0, 250, 0, 0)
    assert [(s.name, dict(s.params)) for s in steps] == [("reconcile", {"d": 150})]
    steps.clear()
    # the same cumulative bill again, from either handle: nothing more to apply
    assert pool.reconcile(250) == 0 and other.reconcile(250) == 0
    assert fields(pool) == (750, 0, 0, 250, 0, 0) and steps == []
    # ... also after charges landed since (a retry, or a slower worker with that bill)
    pool.reserve(100).commit(40)
    assert other.reconcile(250) == 0 and fields(pool) == (710, 0, 0, 290, 0, 0)
    assert pool.reconcile(300) == 10 and fields(pool) == (700, 0, 0, 300, 0, 0)
    assert not pool.closed and other.overdraft == 0
    assert asyncio.run(pool.areconcile(310)) == 10


def test_a_bill_below_what_was_charged_changes_nothing(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    pool.reserve(300).commit(200)
    with pytest.raises(impl.BilledTotalBelowCharged,
                       match=r"reconcile\(150\) refused.*200 uc") as e:
        pool.reconcile(150)
    assert isinstance(e.value, ValueError) and isinstance(e.value, impl.InvalidAmount)
    assert (e.value.billed_total, e.value.total_charged) == (150, 200)
    assert fields(pool) == (800, 0, 0, 200, 0, 0) and not pool.closed
    assert pool.reconcile(200) == 0
    pool.reserve(10).commit(10)
    with pytest.raises(impl.BilledTotalBelowCharged):  # not the last bill reconciled
        pool.reconcile(205)


@pytest.mark.parametrize("bad, error", [
    (-1, impl.InvalidAmount), (AMOUNT_LIMIT, impl.InvalidAmount),
    (1.0, impl.AmountTypeError), (True, impl.AmountTypeError), ("5", impl.AmountTypeError),
    (None, impl.AmountTypeError)])
def test_invalid_billed_totals_are_refused_before_the_store(
        url: str, name: str, bad: object, error: type[Exception]) -> None:
    pool = impl.SharedPool.create(url, name, 100)
    with pytest.raises(error, match="reconcile"):
        pool.reconcile(bad)  # type: ignore[arg-type]
    assert fields(pool) == (100, 0, 0, 0, 0, 0)


def test_overdraft_closes_the_pool_for_every_handle(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    other = impl.SharedPool.open(url, name)
    tenant = pool.split("t", 100)
    steps: list[impl.Step] = []
    pool.observe(steps.append)
    inflight = other.reserve(400)
    pool.reserve(200).commit(50)
    steps.clear()
    before = fields(pool)  # live 550 (100 of it in the share), 400 out, 50 charged
    assert before == (550, 400, 0, 50, 0, 0)
    with pytest.raises(impl.Overdraft, match=r"reconcile\(900\).*300 uc cannot be absorbed") \
            as e:
        pool.reconcile(900)  # drift 850 > 550 live
    o = e.value
    assert (o.billed_total, o.total_charged, o.drift, o.live_sum, o.overdraft) == (
        900, 50, 850, 550, 300)
    assert isinstance(o, RuntimeError) and not isinstance(o, impl.InsufficientBudget)
    assert fields(pool) == before and steps == []
    # the store holds the verdict: a handle opened now sees it too
    late = impl.SharedPool.open(url, name)
    assert late.closed and late.overdraft == 300 and other.closed
    for handle in (pool, other, late, tenant):
        with pytest.raises(impl.LedgerClosed, match=r"reserve\(1\) refused.*closed") as c:
            handle.reserve(1)
        assert isinstance(c.value, impl.InsufficientBudget)
        assert (c.value.requested, c.value.available, c.value.overdraft) == (1, 0, 300)
    assert steps == []  # a refusal on a closed pool is a stutter
    # settling what is in flight still works, and the repeat of a reserve by id too
    assert other.reserve(400, id=inflight.id).id == inflight.id
    inflight.commit(300)
    assert fields(pool)[3] == 350
    assert pool.merge("t") == 100
    # every later reconciliation raises again; the overdraft never decreases
    with pytest.raises(impl.Overdraft, match="already closed") as again:
        other.reconcile(900)
    assert again.value.overdraft == 300  # drift 550 now fits in 650 live: still closed
    with pytest.raises(impl.Overdraft) as worse:
        late.reconcile(2000)
    assert worse.value.overdraft == 2000 - 350 - 650 == pool.overdraft
    assert fields(pool) == (650, 0, 0, 350, 0, 0)


def test_the_drift_comes_out_of_the_pool_first_then_the_shares_in_name_order(
        url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    b, a = pool.split("b", 200), pool.split("a", 300)
    assert pool.available == 500
    assert pool.reconcile(450) == 450
    assert (pool.available, a.available, b.available) == (50, 300, 200)
    assert pool.reconcile(700) == 250  # 50 from the pool, 200 from share a
    assert (pool.available, a.available, b.available) == (0, 100, 200)
    assert pool.reconcile(950) == 250  # the rest of a, then 150 of b
    assert (pool.available, a.available, b.available) == (0, 0, 50)
    assert fields(pool) == (50, 0, 0, 950, 0, 0)
    assert pool.audit().shares == 50
    with pytest.raises(impl.Overdraft):
        pool.reconcile(1001)
    assert (a.available, b.available) == (0, 50)


def _race_the_same_bill(url: str, name: str, rounds: int) -> None:
    """Two handles reconcile the same cumulative bill at once, ``rounds`` times: the
    drift must be applied exactly once each time."""
    pool = impl.SharedPool.create(url, name, 100_000)
    workers = [impl.SharedPool.open(url, name) for _ in range(2)]
    billed = 0

    def work(w: impl.SharedPool, bill: int, gate: threading.Barrier, got: list[int]) -> None:
        gate.wait()
        got.append(w.reconcile(bill))

    for round_ in range(rounds):
        pool.reserve(1000).commit(100)  # reported 100, billed 300
        billed += 300
        gate = threading.Barrier(2)
        got: list[int] = []
        threads = [threading.Thread(target=work, args=(w, billed, gate, got))
                   for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == [0, 200], (round_, got)
        assert pool.ledger().total_charged == billed
    assert fields(pool) == (100_000 - billed, 0, 0, billed, 0, 0)


def test_two_handles_reconciling_the_same_bill_concurrently_apply_it_once(
        url: str, name: str) -> None:
    _race_the_same_bill(url, name, 15)


class _ReadThenWrite(impl.fleet.sqlite.SQLiteBackend):
    """Seeded bug: the drift is computed from one transaction and applied in another."""

    def reconcile(self, pool: str, billed: int) -> Reply:
        d = billed - self.ledger(pool).vals[4]
        time.sleep(0.02)  # another worker reads the same total_charged meanwhile

        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            c.execute("UPDATE pools SET live_sum = live_sum - ?, total_charged = "
                      "total_charged + ? WHERE name = ?", (d, d, pool))
            return Reply("ok", (d,))

        return self._pooled(pool, step)


def test_a_non_atomic_reconcile_is_caught_by_the_race(
        tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def connect(store: object, *, create: bool) -> object:
        return _ReadThenWrite(store.target, store.timeout,  # type: ignore[attr-defined]
                              store.synchronous, create=create)  # type: ignore[attr-defined]

    monkeypatch.setattr(impl.fleet.api, "connect", connect)
    with pytest.raises(AssertionError, match=r"\[200, 200\]"):
        _race_the_same_bill(f"sqlite://{tmp_path / 'bug.db'}", name, 3)


def test_concurrent_overdrafts_record_the_worst_one(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 500)
    workers = [impl.SharedPool.open(url, name) for _ in range(2)]
    gate = threading.Barrier(2)
    errors: list[impl.Overdraft] = []

    def work(w: impl.SharedPool, bill: int) -> None:
        gate.wait()
        try:
            w.reconcile(bill)
        except impl.Overdraft as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w, bill))
               for w, bill in zip(workers, (600, 800), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 2 and pool.overdraft == 300
    assert fields(pool) == (500, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_older_store_gains_the_reconcile_columns(kind: str, tmp_path: Path, name: str
                                                    ) -> None:
    """A store made before reconciliation existed gains its columns (and, PostgreSQL,
    its functions) when a handle opens it; its pools are kept."""
    url = store_url(kind, tmp_path)
    impl.SharedPool.create(url, name, 100).close()
    drop = "ALTER TABLE {q}pools DROP COLUMN overdraft, DROP COLUMN reconciled"
    if kind == "sqlite":
        with sqlite3.connect(tmp_path / "fleet.db") as c:
            c.execute("ALTER TABLE pools DROP COLUMN overdraft")
            c.execute("ALTER TABLE pools DROP COLUMN reconciled")
    else:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(drop.format(q=f"{RUN}.").encode())
            conn.execute(f"DROP FUNCTION {RUN}.fleet_reconcile".encode())
            conn.execute(f"COMMENT ON SCHEMA {RUN} IS 'budget_fleet older'".encode())
    pool = impl.SharedPool.open(url, name)
    pool.reserve(50).commit(10)
    assert pool.reconcile(30) == 20 and not pool.closed
    assert fields(pool) == (70, 0, 0, 30, 0, 0)
