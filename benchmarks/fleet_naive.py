"""The naive gateway pattern on a shared store: the baseline of the fleet figures.

Admission reads what was spent and lets the call through if it is below the cap;
the cost is added only after the call ("check-then-increment"). Each step is atomic
on its own, but the pair is not: concurrent requests read the same below-cap spend
and all pass, so the overage grows with the concurrency. :meth:`Naive.increment`
alone is the bare atomic increment (the floor of any store round trip that writes).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class Naive:
    """A spend counter named ``name`` in the store at ``url`` (SharedPool's URL forms)."""

    def __init__(self, url: str, name: str) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        self.kind = parts.scheme
        self.name = name
        self._conn: Any
        if self.kind == "sqlite":
            self._conn = sqlite3.connect(parts.path, timeout=30, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={query.get('synchronous', 'NORMAL')}")
            self._table, self._p = "naive_spend", "?"
        elif self.kind.startswith("postgres"):
            import psycopg

            target = urlunsplit(parts._replace(query=urlencode(
                {k: v for k, v in query.items() if k not in ("schema", "timeout")})))
            self._conn = psycopg.connect(target, autocommit=True)
            schema = query.get("schema", "budget_fleet")
            self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            self._table, self._p = f"{schema}.naive_spend", "%s"
        else:
            import redis

            self._conn = redis.Redis.from_url(urlunsplit(parts._replace(query="")))
            self._key = f"{query.get('prefix', 'budget_fleet')}:naive:{name}"

    def create(self) -> None:
        """Start the counter at 0."""
        if self.kind == "redis":
            self._conn.set(self._key, 0)
            return
        self._conn.execute(f"CREATE TABLE IF NOT EXISTS {self._table} "
                           "(name TEXT PRIMARY KEY, spent BIGINT NOT NULL)")
        self._conn.execute(f"INSERT INTO {self._table} VALUES ({self._p}, 0)", (self.name,))

    def spent(self) -> int:
        """What the counter holds."""
        if self.kind == "redis":
            return int(self._conn.get(self._key))
        row = self._conn.execute(f"SELECT spent FROM {self._table} WHERE name = {self._p}",
                                 (self.name,)).fetchone()
        return int(row[0])

    def admit(self, cap: int) -> bool:
        """The gateway's check: spent below the cap."""
        return self.spent() < cap

    def increment(self, c: int) -> None:
        """Record a cost: one atomic increment."""
        if self.kind == "redis":
            self._conn.incrby(self._key, c)
            return
        self._conn.execute(f"UPDATE {self._table} SET spent = spent + {self._p} "
                           f"WHERE name = {self._p}", (c, self.name))

    def close(self) -> None:
        self._conn.close()


def gateway_replica(url: str, name: str, shared: bool, cap: int, cost: int, start: float,
                    out: str) -> None:
    """One replica of a gateway: calls of ``cost`` uc (10 ms each) until refused,
    admitted by the shared pool (``shared``) or by the naive pattern; writes how many
    calls it made to ``out``."""
    import impl

    pool = impl.SharedPool.open(url, name) if shared else None
    naive = None if shared else Naive(url, name)
    time.sleep(max(0.0, start - time.time()))
    calls = 0
    while True:
        if pool is not None:
            try:
                res = pool.reserve(cost, lease=30)
            except impl.InsufficientBudget:
                break
            time.sleep(0.01)  # the LLM call
            res.commit(cost)
        else:
            assert naive is not None
            if not naive.admit(cap):
                break
            time.sleep(0.01)  # the LLM call
            naive.increment(cost)
        calls += 1
    Path(out).write_text(str(calls))


def race(url: str, name: str, shared: bool, cap: int, cost: int, replicas: int,
         tmp: str) -> tuple[int, int]:
    """``replicas`` gateway processes on one fresh budget of ``cap`` named ``name``, started
    together; (calls admitted, what was spent: naive counter or pool's total_charged)."""
    import impl

    ctx = multiprocessing.get_context("fork")
    pool = impl.SharedPool.create(url, name, cap) if shared else None
    if pool is None:
        counter = Naive(url, name)
        counter.create()
    start = time.time() + 0.5
    outs = [Path(tmp) / f"{name}-{i}" for i in range(replicas)]
    procs = [ctx.Process(target=gateway_replica,
                         args=(url, name, shared, cap, cost, start, str(o))) for o in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        if p.exitcode != 0:
            raise RuntimeError(f"a gateway replica failed (exit code {p.exitcode})")
    calls = sum(int(o.read_text()) for o in outs)
    if pool is not None:
        spent = pool.ledger().total_charged
        pool.close()
    else:
        spent = counter.spent()
        counter.close()
    return calls, spent
