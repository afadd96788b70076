"""Opening a backend for a parsed URL; the network drivers are imported only here."""

from __future__ import annotations

import importlib

from impl.fleet.backend import Backend
from impl.fleet.errors import MissingDriver
from impl.fleet.url import StoreURL

_DRIVERS = {"postgresql": ("psycopg", "postgres"), "redis": ("redis", "redis")}


def connect(store: StoreURL, *, create: bool) -> Backend:
    """A backend connected to ``store``; :class:`MissingDriver` names the extra to install."""
    if store.kind == "sqlite":
        from impl.fleet.sqlite import SQLiteBackend

        return SQLiteBackend(store.target, store.timeout, store.synchronous, create=create)
    module, extra = _DRIVERS[store.kind]
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise MissingDriver(
            f"the {store.kind} store needs the {module!r} package: "
            f"pip install 'token-budgets-workbench[{extra}]' (or pip install '.[{extra}]' "
            f"from a checkout)") from e
    if store.kind == "postgresql":
        from impl.fleet.postgres import PostgresBackend

        return PostgresBackend(store)
    from impl.fleet.redis_store import RedisBackend

    return RedisBackend(store)
