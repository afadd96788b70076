"""Faults: connections killed by the server, stores unreachable, pool data lost,
retried and late settlements. Each ends in a typed error and nothing lost."""

from __future__ import annotations

import sqlite3
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from fleet_proxy import Relay, closed_port, silent_port
from fleet_stores import POSTGRES_URL, REDIS_URL, require, store_url

import impl


def fields(pool: impl.SharedPool) -> tuple[int, ...]:
    led = pool.ledger()
    return tuple(getattr(led, f) for f in impl.FIELDS)


def on_port(url: str, port: int) -> str:
    """``url`` with its host and port replaced by 127.0.0.1:``port``."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{port}" if user
                                     else f"127.0.0.1:{port}"))


def upstream(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 0


# -- connections killed from the server side -------------------------------------------


def test_postgres_backend_terminated_by_the_server(tmp_path: object, name: str) -> None:
    import psycopg

    url = store_url("postgresql", tmp_path)  # type: ignore[arg-type]
    pool = impl.SharedPool.create(url, name, 1000)
    res = pool.reserve(400)
    pid = pool._backend._conn.info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    time.sleep(0.1)
    assert res.commit(100).actual == 100  # reconnected, retried once: applied once
    assert res.commit(100).actual == 100
    assert fields(pool) == (900, 0, 0, 100, 0, 0)


def test_postgres_killed_inside_an_operation_applies_nothing(tmp_path: object,
                                                             name: str) -> None:
    import psycopg

    url = store_url("postgresql", tmp_path)  # type: ignore[arg-type]
    schema = urlsplit(url).query.split("schema=")[1]
    pool = impl.SharedPool.create(url, name, 1000)
    victim = psycopg.connect(POSTGRES_URL)
    # the reserve runs, holds the pool's row lock, and its session dies before COMMIT
    victim.execute(f"SELECT * FROM {schema}.fleet_reserve(%s, NULL, 'x1', 300, 60)",
                   (name,))  # type: ignore[arg-type]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (victim.info.backend_pid,))
    assert fields(pool) == (1000, 0, 0, 0, 0, 0)
    with pytest.raises(impl.UnknownReservation):
        pool.commit("x1", 1)
    victim.close()


def test_redis_client_killed_by_the_server(tmp_path: object, name: str) -> None:
    import redis

    url = store_url("redis", tmp_path)  # type: ignore[arg-type]
    pool = impl.SharedPool.create(url, name, 1000)
    res = pool.reserve(400)
    client_id = pool._backend._client.client_id()  # type: ignore[attr-defined]
    admin = redis.Redis.from_url(REDIS_URL)
    assert admin.client_kill_filter(_id=client_id) == 1
    assert res.commit(100).actual == 100  # reconnected, retried once: applied once
    assert res.commit(100).actual == 100
    assert fields(pool) == (900, 0, 0, 100, 0, 0)


# -- the store unreachable -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["postgresql", "redis"])
def test_closed_port_is_store_unavailable(kind: str) -> None:
    require(kind)
    base = POSTGRES_URL if kind == "postgresql" else REDIS_URL
    t0 = time.monotonic()
    with pytest.raises(impl.StoreUnavailable, match="unreachable"):
        impl.SharedPool.open(on_port(base, closed_port()), "p")
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("kind", ["postgresql", "redis"])
def test_silent_server_times_out_within_the_bound(kind: str) -> None:
    require(kind)
    base = POSTGRES_URL if kind == "postgresql" else REDIS_URL
    listener = silent_port()
    url = on_port(base, listener.getsockname()[1]) + "?timeout=1"
    t0 = time.monotonic()
    with pytest.raises(impl.StoreUnavailable):
        impl.SharedPool.open(url, "p")
    # libpq's connect_timeout is at least 2 s; one retry on a lost connection
    assert time.monotonic() - t0 < 7
    listener.close()


@pytest.mark.parametrize("kind", ["postgresql", "redis"])
def test_store_lost_mid_session_fails_closed(kind: str, tmp_path: object, name: str) -> None:
    url = store_url(kind, tmp_path)  # type: ignore[arg-type]
    pool = impl.SharedPool.create(url, name, 1000)
    held = pool.reserve(100)
    base = POSTGRES_URL if kind == "postgresql" else REDIS_URL
    relay = Relay(upstream(base))
    relayed = url.replace(urlunsplit(urlsplit(base)._replace(query="")),
                          on_port(base, relay.port)) + "&timeout=1"
    remote = impl.SharedPool.open(relayed, name)
    remote.reserve(50).commit(20)
    relay.cut()
    t0 = time.monotonic()
    for op in (lambda: remote.reserve(10), lambda: remote.commit(held.id, 5),
               lambda: remote.ledger()):
        with pytest.raises(impl.StoreUnavailable):
            op()
    assert time.monotonic() - t0 < 15
    assert fields(pool) == (880, 100, 0, 20, 0, 0)  # nothing spent by the failed calls
    held.cancel()


def test_sqlite_locked_beyond_the_timeout_is_store_unavailable(tmp_path: object,
                                                               name: str) -> None:
    url = store_url("sqlite", tmp_path)  # type: ignore[arg-type]
    pool = impl.SharedPool.create(url, name, 1000)
    blocked = impl.SharedPool.open(url + "?timeout=0.3", name)
    locker = sqlite3.connect(url.removeprefix("sqlite://"), isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    t0 = time.monotonic()
    with pytest.raises(impl.StoreUnavailable, match="locked"):
        blocked.reserve(10)
    assert time.monotonic() - t0 < 3
    locker.execute("ROLLBACK")
    assert fields(pool) == (1000, 0, 0, 0, 0, 0)


# -- the pool's data lost ------------------------------------------------------------


def _lose(kind: str, url: str, name: str) -> None:
    if kind == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            conn.execute("DELETE FROM pools WHERE name = ?", (name,))
    elif kind == "postgresql":
        import psycopg

        schema = urlsplit(url).query.split("schema=")[1]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DELETE FROM {schema}.pools WHERE name = %s",  # type: ignore[arg-type]
                         (name,))
    else:
        import redis

        prefix = urlsplit(url).query.split("prefix=")[1]
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(*client.scan_iter(f"{prefix}:{{{name}}}:*"))


def test_lost_pool_data_is_an_error_on_every_operation(url: str, backend: str,
                                                       name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    res = pool.reserve(100)
    pool.split("t", 10)
    _lose(backend, url, name)
    ops = [lambda: pool.reserve(1), lambda: res.commit(1), res.cancel, res.forfeit,
           pool.expire, pool.ledger, lambda: pool.available, lambda: pool.split("t", 1),
           lambda: pool.merge("t"), lambda: pool.share("t").reserve(1),
           lambda: impl.SharedPool.open(url, name)]
    for op in ops:
        with pytest.raises(impl.PoolNotFound, match="not re-created implicitly"):
            op()
    with pytest.raises(impl.PoolNotFound):  # still gone: nothing re-created it
        pool.ledger()


def test_sqlite_table_dropped_is_pool_not_found(tmp_path: object, name: str) -> None:
    url = store_url("sqlite", tmp_path)  # type: ignore[arg-type]
    pool = impl.SharedPool.create(url, name, 1000)
    with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
        conn.execute("DROP TABLE pools")
    with pytest.raises(impl.PoolNotFound):
        pool.reserve(1)


# -- settlement retried, racing, late ------------------------------------------------


def test_racing_retries_of_one_settlement_apply_it_once(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    res = pool.reserve(500)
    handles = [impl.SharedPool.open(url, name) for _ in range(6)]
    outcomes: list[object] = []

    def settle(h: impl.SharedPool) -> None:
        outcomes.append(h.commit(res.id, 123))

    threads = [threading.Thread(target=settle, args=(h,)) for h in handles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 6 and len(set(outcomes)) == 1  # type: ignore[arg-type]
    assert fields(pool) == (877, 0, 0, 123, 0, 0)


def test_settlement_after_expiry_changes_nothing(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    res = pool.reserve(300, lease=0.05)
    time.sleep(0.2)
    before = fields(pool)
    assert before == (700, 0, 0, 0, 300, 0)
    with pytest.raises(impl.LeaseExpired):
        impl.SharedPool.open(url, name).commit(res.id, 300)
    with pytest.raises(impl.LeaseExpired):
        res.cancel()
    assert fields(pool) == before


# -- the invariants are table constraints ---------------------------------------------


@pytest.mark.parametrize("update", [
    "UPDATE {t} SET live_sum = live_sum + 1",  # breaks Conservation
    "UPDATE {t} SET live_sum = live_sum - 1001, total_charged = total_charged + 1001",
    "UPDATE {t} SET shared = live_sum + 1",  # shares hold more than is live
])
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sql_constraints_refuse_a_broken_ledger(kind: str, update: str, tmp_path: object,
                                                name: str) -> None:
    url = store_url(kind, tmp_path)  # type: ignore[arg-type]
    pool = impl.SharedPool.create(url, name, 1000)
    if kind == "sqlite":
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"), \
                sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            conn.execute(update.format(t="pools") + " WHERE name = ?", (name,))
    else:
        import psycopg

        schema = urlsplit(url).query.split("schema=")[1]
        with pytest.raises(psycopg.errors.CheckViolation), \
                psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(update.format(t=f"{schema}.pools")  # type: ignore[arg-type]
                         + " WHERE name = %s", (name,))
    assert fields(pool) == (1000, 0, 0, 0, 0, 0)
