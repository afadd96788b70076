"""The PostgreSQL backend: each operation is one call of a PL/pgSQL function.

The function runs as one statement in its own transaction; it first locks the pool's
row (``FOR UPDATE``), so the operations on one pool are serialised across every
client, then forfeits lapsed leases on the server's ``clock_timestamp()``. The
tables carry the ledger invariants as CHECK constraints. A lost connection is
re-opened and the operation retried once (every operation is idempotent by id).
"""

from __future__ import annotations

import hashlib
import math
import threading
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from impl.fleet.backend import Reply
from impl.fleet.errors import StoreUnavailable
from impl.fleet.schema import COLUMNS, missing_columns, tables
from impl.fleet.url import StoreURL

_OUT = "OUT code text, OUT vals bigint[], OUT expired bigint[]"
_LOCK = """
  expired := {s}.fleet_lock(p, true);
  IF expired IS NULL THEN code := 'no_pool'; RETURN; END IF;"""
# A read takes the row lock only when a lease is due: a lock is a write, and a
# write costs the commit's WAL flush.
_READ = _LOCK.replace("true", "false")

FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION {s}.fleet_lock(p text, writing boolean) RETURNS bigint[]
  LANGUAGE plpgsql AS $$
DECLARE
  v_now double precision := extract(epoch FROM clock_timestamp());
  v_amounts bigint[]; v_total bigint;
BEGIN
  IF NOT writing AND NOT EXISTS (SELECT 1 FROM {s}.reservations
      WHERE pool = p AND state = 'o' AND deadline <= v_now) THEN
    PERFORM 1 FROM {s}.pools WHERE name = p;
    IF NOT FOUND THEN RETURN NULL; END IF;
    RETURN '{{}}';
  END IF;
  PERFORM 1 FROM {s}.pools WHERE name = p FOR UPDATE;
  IF NOT FOUND THEN RETURN NULL; END IF;
  WITH e AS (UPDATE {s}.reservations SET state = 'e'
             WHERE pool = p AND state = 'o' AND deadline <= v_now RETURNING amount)
  SELECT coalesce(array_agg(amount), '{{}}'), coalesce(sum(amount), 0)
    INTO v_amounts, v_total FROM e;
  IF v_total > 0 THEN
    UPDATE {s}.pools SET outstanding_receipts = outstanding_receipts - v_total,
      total_unrecoverable = total_unrecoverable + v_total WHERE name = p;
  END IF;
  RETURN v_amounts;
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_reserve(p text, sh text, rid text, r bigint,
  lease double precision, {_OUT}) LANGUAGE plpgsql AS $$
DECLARE v_amount bigint; v_state text; v_avail bigint; v_live bigint; v_shared bigint;
  v_over bigint;
BEGIN{_LOCK}
  SELECT amount, state INTO v_amount, v_state FROM {{s}}.reservations
    WHERE pool = p AND id = rid;
  IF FOUND THEN
    IF v_amount <> r THEN code := 'mismatch'; vals := ARRAY[v_amount];
    ELSIF v_state = 'o' THEN code := 'repeat'; vals := ARRAY[v_amount];
    ELSIF v_state = 'e' THEN code := 'expired'; vals := ARRAY[v_amount];
    ELSE code := 'settled'; vals := ARRAY[strpos('ocxfe', v_state) - 1, v_amount, -1];
    END IF;
    RETURN;
  END IF;
  SELECT live_sum, shared, overdraft INTO v_live, v_shared, v_over
    FROM {{s}}.pools WHERE name = p;
  IF v_over > 0 THEN code := 'closed'; vals := ARRAY[v_over]; RETURN; END IF;
  IF sh IS NULL THEN
    v_avail := v_live - v_shared;
  ELSE
    SELECT live INTO v_avail FROM {{s}}.shares WHERE pool = p AND name = sh;
    IF NOT FOUND THEN code := 'no_share'; RETURN; END IF;
  END IF;
  IF r > v_avail THEN code := 'refused'; vals := ARRAY[v_avail, v_live]; RETURN; END IF;
  IF sh IS NOT NULL THEN
    UPDATE {{s}}.shares SET live = live - r WHERE pool = p AND name = sh;
  END IF;
  UPDATE {{s}}.pools SET live_sum = live_sum - r,
    shared = shared - CASE WHEN sh IS NULL THEN 0 ELSE r END,
    outstanding_receipts = outstanding_receipts + r WHERE name = p;
  INSERT INTO {{s}}.reservations (pool, id, share, amount, deadline, state)
    VALUES (p, rid, sh, r, extract(epoch FROM clock_timestamp()) + lease, 'o');
  code := 'ok'; vals := ARRAY[r];
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_settle(p text, rid text, kind text, act bigint,
  {_OUT}) LANGUAGE plpgsql AS $$
DECLARE v_amount bigint; v_state text; v_actual bigint; v_share text;
  v_charged bigint; v_back bigint; v_to_share bigint := 0;
BEGIN{_LOCK}
  SELECT amount, state, actual, share INTO v_amount, v_state, v_actual, v_share
    FROM {{s}}.reservations WHERE pool = p AND id = rid;
  IF NOT FOUND THEN code := 'no_id'; RETURN; END IF;
  IF v_state <> 'o' THEN
    IF v_state = 'e' THEN code := 'expired'; vals := ARRAY[v_amount];
    ELSIF v_state = kind AND (kind <> 'c' OR v_actual = act) THEN
      code := 'repeat'; vals := ARRAY[v_amount, coalesce(v_actual, -1)];
    ELSE
      code := 'settled';
      vals := ARRAY[strpos('ocxfe', v_state) - 1, v_amount, coalesce(v_actual, -1)];
    END IF;
    RETURN;
  END IF;
  IF kind = 'c' AND act > v_amount THEN code := 'over'; vals := ARRAY[v_amount]; RETURN; END IF;
  v_charged := CASE WHEN kind = 'c' THEN act ELSE 0 END;
  v_back := CASE WHEN kind = 'f' THEN 0 ELSE v_amount - v_charged END;
  IF v_back > 0 AND v_share IS NOT NULL THEN
    UPDATE {{s}}.shares SET live = live + v_back WHERE pool = p AND name = v_share;
    IF FOUND THEN v_to_share := v_back; END IF;
  END IF;
  UPDATE {{s}}.pools SET outstanding_receipts = outstanding_receipts - v_amount,
    total_charged = total_charged + v_charged, live_sum = live_sum + v_back,
    shared = shared + v_to_share,
    total_unrecoverable = total_unrecoverable
      + CASE WHEN kind = 'f' THEN v_amount ELSE 0 END
    WHERE name = p;
  UPDATE {{s}}.reservations
    SET state = kind, actual = CASE WHEN kind = 'f' THEN NULL ELSE v_charged END
    WHERE pool = p AND id = rid;
  code := 'ok'; vals := ARRAY[v_amount, v_charged];
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_reconcile(p text, billed bigint, {_OUT})
  LANGUAGE plpgsql AS $$
DECLARE v_charged bigint; v_over bigint; v_last bigint; v_live bigint; v_shared bigint;
  v_d bigint; v_worst bigint; v_rest bigint; v_take bigint; v_sh record;
BEGIN{_LOCK}
  SELECT total_charged, overdraft, reconciled, live_sum, shared
    INTO v_charged, v_over, v_last, v_live, v_shared FROM {{s}}.pools WHERE name = p;
  v_d := billed - v_charged;
  IF v_d < 0 THEN
    IF v_last IS DISTINCT FROM billed THEN
      code := 'below'; vals := ARRAY[v_charged]; RETURN;
    END IF;
    v_d := 0;  -- the bill reconciled last time, again (charges landed since)
  END IF;
  IF v_over > 0 OR v_d > v_live THEN
    v_worst := greatest(v_over, v_d - v_live);
    IF v_worst <> v_over THEN
      UPDATE {{s}}.pools SET overdraft = v_worst WHERE name = p;
    END IF;
    code := 'overdraft'; vals := ARRAY[v_charged, v_live, v_worst, v_over, v_d]; RETURN;
  END IF;
  v_rest := v_d - (v_live - v_shared);  -- the pool's own live amount pays first
  IF v_rest > 0 THEN
    FOR v_sh IN SELECT name, live FROM {{s}}.shares WHERE pool = p AND live > 0
        ORDER BY name COLLATE "C" LOOP
      v_take := least(v_sh.live, v_rest);
      UPDATE {{s}}.shares SET live = live - v_take WHERE pool = p AND name = v_sh.name;
      v_rest := v_rest - v_take;
      EXIT WHEN v_rest = 0;
    END LOOP;
  END IF;
  UPDATE {{s}}.pools SET live_sum = live_sum - v_d, total_charged = total_charged + v_d,
    shared = shared - greatest(0, v_d - (v_live - v_shared)), reconciled = billed
    WHERE name = p;
  code := 'ok'; vals := ARRAY[v_d];
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_ledger(p text, {_OUT}) LANGUAGE plpgsql AS $$
BEGIN{_READ}
  SELECT ARRAY[cap, {', '.join(COLUMNS)}, shared, overdraft] INTO vals
    FROM {{s}}.pools WHERE name = p;
  code := 'ok';
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_available(p text, sh text, {_OUT})
  LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN{_READ}
  IF sh IS NULL THEN
    SELECT live_sum - shared INTO v FROM {{s}}.pools WHERE name = p;
  ELSE
    SELECT live INTO v FROM {{s}}.shares WHERE pool = p AND name = sh;
    IF NOT FOUND THEN code := 'no_share'; RETURN; END IF;
  END IF;
  code := 'ok'; vals := ARRAY[v];
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_split(p text, sh text, amt bigint, {_OUT})
  LANGUAGE plpgsql AS $$
DECLARE v_avail bigint; v_live bigint; v bigint;
BEGIN{_LOCK}
  SELECT live_sum - shared, live_sum INTO v_avail, v_live FROM {{s}}.pools WHERE name = p;
  IF amt > v_avail THEN code := 'refused'; vals := ARRAY[v_avail, v_live]; RETURN; END IF;
  INSERT INTO {{s}}.shares AS t (pool, name, live) VALUES (p, sh, amt)
    ON CONFLICT (pool, name) DO UPDATE SET live = t.live + excluded.live
    RETURNING live INTO v;
  UPDATE {{s}}.pools SET shared = shared + amt WHERE name = p;
  code := 'ok'; vals := ARRAY[v];
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_merge(p text, sh text, {_OUT}) LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN{_LOCK}
  DELETE FROM {{s}}.shares WHERE pool = p AND name = sh RETURNING live INTO v;
  IF NOT FOUND THEN code := 'no_share'; RETURN; END IF;
  UPDATE {{s}}.pools SET shared = shared - v WHERE name = p;
  code := 'ok'; vals := ARRAY[v];
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_audit(p text, {_OUT}) LANGUAGE plpgsql AS $$
DECLARE v_sum bigint; v_count bigint; v_shares bigint;
BEGIN{_LOCK}
  SELECT coalesce(sum(amount), 0), count(*) INTO v_sum, v_count
    FROM {{s}}.reservations WHERE pool = p AND state = 'o';
  SELECT coalesce(sum(live), 0) INTO v_shares FROM {{s}}.shares WHERE pool = p;
  code := 'ok'; vals := ARRAY[v_sum, v_count, v_shares];
END $$""",
    f"""
CREATE OR REPLACE FUNCTION {{s}}.fleet_expire(p text, {_OUT}) LANGUAGE plpgsql AS $$
BEGIN{_READ}
  code := 'ok';
END $$""",
]

VERSION = hashlib.sha1("".join(FUNCTIONS).encode()).hexdigest()[:16]
"""Marks a schema whose functions are this module's: create() then skips the DDL."""

# Errors meaning "the schema, a table or a function is not there": the pool's data is gone.
_MISSING = (pg_errors.UndefinedFunction, pg_errors.UndefinedTable,
            pg_errors.InvalidSchemaName)


class PostgresBackend:
    """A connection to one PostgreSQL schema; see :class:`impl.fleet.backend.Backend`."""

    def __init__(self, store: StoreURL) -> None:
        self._store = store
        self._s = store.namespace
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        with self._lock:
            conn = self._connect()
            try:
                if self._older(conn):
                    # pools an earlier version made: add what reconciliation needs (the
                    # pools are kept), as create() would; once only, whatever the version
                    with conn.transaction():
                        self._install(conn, only_older=True)
            except psycopg.OperationalError as e:
                raise StoreUnavailable(f"PostgreSQL store: upgrading {self._s}: {e}") from e

    def _connect(self) -> psycopg.Connection[Any]:
        ms = int(self._store.timeout * 1000)
        try:
            self._conn = psycopg.connect(
                self._store.target, autocommit=True,
                connect_timeout=max(2, math.ceil(self._store.timeout)),
                tcp_user_timeout=ms, application_name="budget_fleet",
                options=f"-c statement_timeout={ms} -c lock_timeout={ms}")
        except psycopg.Error as e:
            self._conn = None
            raise StoreUnavailable(
                f"PostgreSQL store unreachable within {self._store.timeout:g} s: {e}") from e
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _call(self, fn: str, *args: object, retry: bool = True) -> Reply:
        sql = (f"SELECT code, vals, expired FROM {self._s}.fleet_{fn}"
               f"({', '.join(['%s'] * len(args))})")
        with self._lock:
            for attempt in (0, 1):
                conn = self._conn if self._conn is not None else self._connect()
                try:
                    row = conn.execute(sql, args).fetchone()
                    assert row is not None
                    return Reply(row[0], tuple(row[1] or ()), tuple(row[2] or ()))
                except _MISSING:
                    return Reply("no_pool")
                except psycopg.OperationalError as e:
                    if not conn.closed:
                        # a timeout (statement or lock): the server is there but stuck
                        raise StoreUnavailable(f"PostgreSQL store: {fn}: {e}") from e
                    self._conn = None
                    if attempt or not retry:
                        raise StoreUnavailable(
                            f"PostgreSQL store: connection lost during {fn}: {e}") from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _older(self, conn: psycopg.Connection[Any]) -> bool:
        """Whether the schema holds pools made before reconciliation existed (its
        ``pools`` table is there, ``fleet_reconcile`` is not)."""
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL AND to_regprocedure(%s) IS NULL",
                           (f"{self._s}.pools", f"{self._s}.fleet_reconcile(text,bigint)")
                           ).fetchone()
        return bool(row and row[0])

    def _install(self, conn: psycopg.Connection[Any], *, only_older: bool) -> None:
        """Create or upgrade the schema's tables and functions unless they are this
        module's already (inside a transaction); with ``only_older``, only a schema
        made before reconciliation existed."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"budget_fleet:{self._s}",))
        mark = f"budget_fleet {VERSION}"
        got = conn.execute("SELECT obj_description(to_regnamespace(%s), 'pg_namespace')",
                           (self._s,)).fetchone()
        if (got is not None and got[0] == mark) or (only_older and not self._older(conn)):
            return
        for stmt in [*tables("postgresql", self._s),
                     *missing_columns("postgresql", set(), self._s)]:
            conn.execute(stmt)
        for fn in FUNCTIONS:
            conn.execute(fn.format(s=self._s))
        conn.execute(f"COMMENT ON SCHEMA {self._s} IS '{mark}'")

    def create(self, pool: str, cap: int) -> Reply:
        with self._lock:
            conn = self._conn if self._conn is not None else self._connect()
            try:
                with conn.transaction():
                    self._install(conn, only_older=False)
                    got = conn.execute(
                        f"INSERT INTO {self._s}.pools (name, cap, {', '.join(COLUMNS)}) "
                        "VALUES (%s, %s, %s, 0, 0, 0, 0, 0) ON CONFLICT (name) DO NOTHING "
                        "RETURNING 1", (pool, cap, cap)).fetchone()
            except psycopg.OperationalError as e:
                if conn.closed:
                    self._conn = None
                raise StoreUnavailable(f"PostgreSQL store: create: {e}") from e
        return Reply("ok" if got else "exists")

    def reserve(self, pool: str, share: str | None, id: str, r: int, lease: float) -> Reply:
        return self._call("reserve", pool, share, id, r, lease)

    def settle(self, pool: str, id: str, kind: str, actual: int) -> Reply:
        return self._call("settle", pool, id, kind, actual)

    def reconcile(self, pool: str, billed: int) -> Reply:
        return self._call("reconcile", pool, billed)

    def expire(self, pool: str) -> Reply:
        return self._call("expire", pool)

    def ledger(self, pool: str) -> Reply:
        return self._call("ledger", pool)

    def available(self, pool: str, share: str | None) -> Reply:
        return self._call("available", pool, share)

    def split(self, pool: str, share: str, amount: int) -> Reply:
        return self._call("split", pool, share, amount)

    def merge(self, pool: str, share: str) -> Reply:
        return self._call("merge", pool, share)

    def audit(self, pool: str) -> Reply:
        return self._call("audit", pool)
