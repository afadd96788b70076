"""The SQLite backend: one ``BEGIN IMMEDIATE`` transaction per operation.

``BEGIN IMMEDIATE`` takes the database's write lock before the first read, so each
operation reads and writes as one step, serialised across every process on the
machine. The store's clock is SQLite's ``julianday('now')``, read inside the
transaction. Standard library only.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

from impl.fleet.backend import Reply, settle_reply
from impl.fleet.errors import PoolNotFound, StoreUnavailable
from impl.fleet.schema import COLUMNS, missing_columns, tables

_NOW = "(julianday('now') - 2440587.5) * 86400.0"

Body = Callable[[sqlite3.Connection], Reply]


class SQLiteBackend:
    """A connection to one SQLite file; see :class:`impl.fleet.backend.Backend`."""

    def __init__(self, path: str, timeout: float, synchronous: str, *, create: bool) -> None:
        self._path = path
        if not create and not os.path.exists(path):
            raise PoolNotFound(f"pool not found: no SQLite store at {path}; create the pool first "
                               f"with SharedPool.create(url, name, cap)")
        mode = "rwc" if create else "rw"
        try:
            # no busy handler: _begin waits for the write lock itself, in short naps
            self._conn = sqlite3.connect(
                f"file:{quote(path)}?mode={mode}", uri=True, timeout=0,
                isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
        except sqlite3.Error as e:
            raise StoreUnavailable(f"cannot open the SQLite store {path}: {e}") from e
        self._lock = threading.Lock()
        self._timeout = timeout
        try:
            have = set() if create else _columns(self._conn)
        except sqlite3.Error as e:
            raise StoreUnavailable(f"cannot read the SQLite store {path}: {e}") from e
        if have and missing_columns("sqlite", have):
            # a store made before reconciliation existed: add its columns (create() too)
            self._run(_upgrade)

    def close(self) -> None:
        self._conn.close()

    # -- the transaction wrapper ---------------------------------------------------

    def _begin(self) -> None:
        """``BEGIN IMMEDIATE``, waiting for the write lock up to the timeout.

        SQLite's own busy handler naps up to 100 ms between tries, which starves
        writers under contention; naps of at most 2 ms keep the lock busy instead.
        """
        deadline = time.monotonic() + self._timeout
        nap = 0.0001
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                if time.monotonic() >= deadline:
                    raise
            time.sleep(random.uniform(0, nap))
            nap = min(nap * 2, 0.002)

    def _run(self, body: Body) -> Reply:
        with self._lock:
            c = self._conn
            try:
                self._begin()
                try:
                    reply = body(c)
                    c.execute("COMMIT")
                    return reply
                finally:
                    if c.in_transaction:
                        c.execute("ROLLBACK")
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):
                    return Reply("no_pool")
                raise StoreUnavailable(f"SQLite store {self._path}: {e}") from e

    def _pooled(self, pool: str, body: Callable[[sqlite3.Connection, float, int, int], Reply]
                ) -> Reply:
        """Run ``body(c, now, live_sum, shared)`` after the expiry pass, if the pool exists."""

        def step(c: sqlite3.Connection) -> Reply:
            row = c.execute(f"SELECT live_sum, shared, {_NOW} FROM pools WHERE name = ?",
                            (pool,)).fetchone()
            if row is None:
                return Reply("no_pool")
            live, shared, now = row
            expired = _expire(c, pool, now)  # changes neither live_sum nor shared
            r = body(c, now, live, shared)
            return Reply(r.code, r.vals, expired)

        return self._run(step)

    # -- operations ----------------------------------------------------------------

    def create(self, pool: str, cap: int) -> Reply:
        def step(c: sqlite3.Connection) -> Reply:
            for stmt in tables("sqlite"):
                c.execute(stmt)
            _upgrade(c)
            if c.execute("SELECT 1 FROM pools WHERE name = ?", (pool,)).fetchone():
                return Reply("exists")
            c.execute(f"INSERT INTO pools (name, cap, {', '.join(COLUMNS)}) "
                      "VALUES (?, ?, ?, 0, 0, 0, 0, 0)", (pool, cap, cap))
            return Reply("ok")

        return self._run(step)

    def reserve(self, pool: str, share: str | None, id: str, r: int, lease: float) -> Reply:
        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            row = c.execute("SELECT amount, state FROM reservations WHERE pool = ? AND id = ?",
                            (pool, id)).fetchone()
            if row is not None:
                return _reserve_again(row[0], row[1], r)
            over = c.execute("SELECT overdraft FROM pools WHERE name = ?", (pool,)).fetchone()[0]
            if over:
                return Reply("closed", (over,))
            if share is None:
                avail = live - shared
            else:
                got = c.execute("SELECT live FROM shares WHERE pool = ? AND name = ?",
                                (pool, share)).fetchone()
                if got is None:
                    return Reply("no_share")
                avail = got[0]
            if r > avail:
                return Reply("refused", (avail, live))
            if share is not None:
                c.execute("UPDATE shares SET live = live - ? WHERE pool = ? AND name = ?",
                          (r, pool, share))
            c.execute("UPDATE pools SET live_sum = live_sum - ?, shared = shared - ?, "
                      "outstanding_receipts = outstanding_receipts + ? WHERE name = ?",
                      (r, r if share is not None else 0, r, pool))
            c.execute("INSERT INTO reservations (pool, id, share, amount, deadline, state) "
                      "VALUES (?, ?, ?, ?, ?, 'o')", (pool, id, share, r, now + lease))
            return Reply("ok", (r,))

        return self._pooled(pool, step)

    def settle(self, pool: str, id: str, kind: str, actual: int) -> Reply:
        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            row = c.execute("SELECT amount, state, actual, share FROM reservations "
                            "WHERE pool = ? AND id = ?", (pool, id)).fetchone()
            if row is None:
                return Reply("no_id")
            amount, state, stored, share = row
            if state != "o":
                return settle_reply(state, kind, amount, stored, actual)
            if kind == "c" and actual > amount:
                return Reply("over", (amount,))
            charged = actual if kind == "c" else 0
            back = 0 if kind == "f" else amount - charged
            to_share = 0
            if back and share is not None:
                # the refund goes back to the share if it still exists, else to the pool
                to_share = back * c.execute(
                    "UPDATE shares SET live = live + ? WHERE pool = ? AND name = ?",
                    (back, pool, share)).rowcount
            c.execute(
                "UPDATE pools SET outstanding_receipts = outstanding_receipts - ?, "
                "total_charged = total_charged + ?, live_sum = live_sum + ?, "
                "shared = shared + ?, total_unrecoverable = total_unrecoverable + ? "
                "WHERE name = ?",
                (amount, charged, back, to_share, amount if kind == "f" else 0, pool))
            c.execute("UPDATE reservations SET state = ?, actual = ? WHERE pool = ? AND id = ?",
                      (kind, charged if kind != "f" else None, pool, id))
            return Reply("ok", (amount, charged))

        return self._pooled(pool, step)

    def reconcile(self, pool: str, billed: int) -> Reply:
        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            charged, over, last = c.execute(
                "SELECT total_charged, overdraft, reconciled FROM pools WHERE name = ?",
                (pool,)).fetchone()
            d = billed - charged
            if d < 0:
                if billed != last:
                    return Reply("below", (charged,))
                d = 0  # the bill reconciled last time, again (charges landed since)
            if over or d > live:
                worst = max(over, d - live)
                if worst != over:
                    c.execute("UPDATE pools SET overdraft = ? WHERE name = ?", (worst, pool))
                return Reply("overdraft", (charged, live, worst, over, d))
            rest = d - (live - shared)  # the pool's own live amount pays first
            if rest > 0:
                for share, held in c.execute(
                        "SELECT name, live FROM shares WHERE pool = ? AND live > 0 "
                        "ORDER BY name", (pool,)).fetchall():
                    take = min(held, rest)
                    c.execute("UPDATE shares SET live = live - ? WHERE pool = ? AND name = ?",
                              (take, pool, share))
                    rest -= take
                    if not rest:
                        break
            c.execute("UPDATE pools SET live_sum = live_sum - ?, total_charged = total_charged "
                      "+ ?, shared = shared - ?, reconciled = ? WHERE name = ?",
                      (d, d, max(0, d - (live - shared)), billed, pool))
            return Reply("ok", (d,))

        return self._pooled(pool, step)

    def expire(self, pool: str) -> Reply:
        return self._pooled(pool, lambda c, now, live, shared: Reply("ok"))

    def ledger(self, pool: str) -> Reply:
        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            row = c.execute(f"SELECT cap, {', '.join(COLUMNS)}, shared, overdraft FROM pools "
                            "WHERE name = ?", (pool,)).fetchone()
            return Reply("ok", tuple(row))

        return self._pooled(pool, step)

    def available(self, pool: str, share: str | None) -> Reply:
        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            if share is None:
                return Reply("ok", (live - shared,))
            got = c.execute("SELECT live FROM shares WHERE pool = ? AND name = ?",
                            (pool, share)).fetchone()
            return Reply("no_share") if got is None else Reply("ok", (got[0],))

        return self._pooled(pool, step)

    def split(self, pool: str, share: str, amount: int) -> Reply:
        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            if amount > live - shared:
                return Reply("refused", (live - shared, live))
            c.execute("INSERT INTO shares (pool, name, live) VALUES (?, ?, ?) "
                      "ON CONFLICT (pool, name) DO UPDATE SET live = live + excluded.live",
                      (pool, share, amount))
            c.execute("UPDATE pools SET shared = shared + ? WHERE name = ?", (amount, pool))
            got = c.execute("SELECT live FROM shares WHERE pool = ? AND name = ?",
                            (pool, share)).fetchone()
            return Reply("ok", (got[0],))

        return self._pooled(pool, step)

    def merge(self, pool: str, share: str) -> Reply:
        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            got = c.execute("DELETE FROM shares WHERE pool = ? AND name = ? RETURNING live",
                            (pool, share)).fetchone()
            if got is None:
                return Reply("no_share")
            c.execute("UPDATE pools SET shared = shared - ? WHERE name = ?", (got[0], pool))
            return Reply("ok", (got[0],))

        return self._pooled(pool, step)

    def audit(self, pool: str) -> Reply:
        def step(c: sqlite3.Connection, now: float, live: int, shared: int) -> Reply:
            total, count = c.execute(
                "SELECT coalesce(sum(amount), 0), count(*) FROM reservations "
                "WHERE pool = ? AND state = 'o'", (pool,)).fetchone()
            shares = c.execute("SELECT coalesce(sum(live), 0) FROM shares WHERE pool = ?",
                               (pool,)).fetchone()[0]
            return Reply("ok", (total, count, shares))

        return self._pooled(pool, step)


def _expire(c: sqlite3.Connection, pool: str, now: float) -> tuple[int, ...]:
    """Forfeit every open reservation of ``pool`` whose deadline has passed."""
    rows = c.execute("UPDATE reservations SET state = 'e' WHERE pool = ? AND state = 'o' "
                     "AND deadline <= ? RETURNING amount", (pool, now)).fetchall()
    if not rows:
        return ()
    amounts = tuple(a for (a,) in rows)
    total = sum(amounts)
    c.execute("UPDATE pools SET outstanding_receipts = outstanding_receipts - ?, "
              "total_unrecoverable = total_unrecoverable + ? WHERE name = ?",
              (total, total, pool))
    return amounts


def _columns(c: sqlite3.Connection) -> set[str]:
    return {row[1] for row in c.execute("PRAGMA table_info(pools)")}


def _upgrade(c: sqlite3.Connection) -> Reply:
    """Add the reconciliation columns to a store created before they existed."""
    have = _columns(c)
    if have:
        for stmt in missing_columns("sqlite", have):
            c.execute(stmt)
    return Reply("ok")


def _reserve_again(amount: int, state: str, r: int) -> Reply:
    """The reply to a reserve whose id is already in the pool."""
    if amount != r:
        return Reply("mismatch", (amount,))
    if state == "o":
        return Reply("repeat", (amount,))
    if state == "e":
        return Reply("expired", (amount,))
    return Reply("settled", ("ocxfe".index(state), amount, -1))
