"""Stores for the fleet tests: SQLite always; PostgreSQL and Redis when reachable.

URLs come from ``FLEET_POSTGRES_URL`` and ``FLEET_REDIS_URL`` (default: the local
servers on 127.0.0.1). An unreachable server skips its tests with the reason shown
(``-ra``), except under ``CI=true``, where it fails them. Each test run gets its own
PostgreSQL schema and Redis key prefix, removed at the end of the run.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("FLEET_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FLEET_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN = f"fleet_{os.getpid()}_{uuid.uuid4().hex[:8]}"
"""This run's PostgreSQL schema and Redis key prefix."""

BACKENDS = ("sqlite", "postgresql", "redis")


def _with_option(url: str, key: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{key}={value}"


def _unreachable(kind: str) -> str | None:
    """Why the ``kind`` server cannot be used, or None when it answers."""
    try:
        if kind == "postgresql":
            import psycopg

            psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
        else:
            import redis

            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as e:  # any failure: driver missing, refused, auth...
        return f"{kind} store unavailable ({type(e).__name__}: {e})"
    return None


_REACHABLE: dict[str, str | None] = {}


def require(kind: str) -> None:
    """Skip (or under CI=true, fail) the calling test when ``kind``'s server is away."""
    if kind == "sqlite":
        return
    if kind not in _REACHABLE:
        _REACHABLE[kind] = _unreachable(kind)
    why = _REACHABLE[kind]
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}; CI=true requires every store")
        pytest.skip(why)


def store_url(kind: str, tmp: Path) -> str:
    """The URL of this run's namespace in the ``kind`` store (a file under ``tmp`` for
    SQLite)."""
    require(kind)
    if kind == "sqlite":
        return f"sqlite://{tmp / 'fleet.db'}"
    if kind == "postgresql":
        return _with_option(POSTGRES_URL, "schema", RUN)
    return _with_option(REDIS_URL, "prefix", RUN)


def cleanup() -> None:
    """Remove this run's PostgreSQL schema and Redis keys (of the stores that were used)."""
    if _REACHABLE.get("postgresql", "unused") is None:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {RUN} CASCADE")  # type: ignore[arg-type]
    if _REACHABLE.get("redis", "unused") is None:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{RUN}:*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i:i + 500])
