"""Store URLs: which backend, where, and the pool's own options.

``sqlite:///path/to/file.db``, ``postgresql://user@host:port/db`` (``postgres://``
too) and ``redis://host:port/db`` (``rediss://`` too). Options in the query string,
removed before the URL reaches the driver:

- ``timeout`` (seconds, default 5): bound on connecting and on every operation;
- ``schema`` (PostgreSQL, default ``budget_fleet``): the schema holding the tables;
- ``prefix`` (Redis, default ``budget_fleet``): the prefix of every key;
- ``synchronous`` (SQLite, ``NORMAL`` (default) or ``FULL``): see README.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from impl.fleet.errors import InvalidName

NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}\Z")
"""Pool and share names: safe as Redis key parts and SQL identifiers' values."""

_SQL_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
_KINDS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql",
          "redis": "redis", "rediss": "redis"}
_OPTIONS = ("timeout", "schema", "prefix", "synchronous")


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: ``kind``, the ``target`` the driver gets, and our options."""

    kind: str  # "sqlite" | "postgresql" | "redis"
    target: str  # a file path (SQLite) or the URL without our options
    timeout: float
    namespace: str  # PostgreSQL schema, Redis key prefix, "" for SQLite
    synchronous: str
    url: str  # the URL as given (how the pool is re-opened after pickling)


def check_name(what: str, name: object) -> str:
    """``name`` if it is a valid pool/share name, else :class:`InvalidName`."""
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidName(
            f"{what} must be 1 to 64 characters among A-Z a-z 0-9 _ . : -, got {name!r}")
    return name


def parse(url: object) -> StoreURL:
    """Parse a store URL; :class:`InvalidName` names what is wrong and the forms accepted."""
    if not isinstance(url, str):
        raise InvalidName(f"store URL must be a str, got {type(url).__name__}")
    parts = urlsplit(url)
    kind = _KINDS.get(parts.scheme)
    if kind is None:
        raise InvalidName(
            f"store URL {url!r}: scheme must be sqlite, postgresql or redis, e.g. "
            f"'sqlite:///var/lib/budget.db', 'postgresql://user@host/db', 'redis://host:6379/0'")
    query = parse_qsl(parts.query, keep_blank_values=True)
    opts = {k: v for k, v in query if k in _OPTIONS}
    rest = [(k, v) for k, v in query if k not in _OPTIONS]
    timeout = _timeout(url, opts.get("timeout", "5"))
    synchronous = opts.get("synchronous", "NORMAL").upper()
    if synchronous not in ("NORMAL", "FULL"):
        raise InvalidName(f"store URL {url!r}: synchronous must be NORMAL or FULL")
    if kind == "sqlite":
        if parts.netloc or not parts.path or rest:
            raise InvalidName(
                f"store URL {url!r}: write a SQLite store as sqlite:///absolute/path.db")
        return StoreURL(kind, parts.path, timeout, "", synchronous, url)
    key = "schema" if kind == "postgresql" else "prefix"
    namespace = opts.get(key, "budget_fleet")
    if kind == "postgresql" and not _SQL_IDENT.match(namespace):
        raise InvalidName(f"store URL {url!r}: schema must match [a-z_][a-z0-9_]*")
    if kind == "redis":
        check_name("the Redis key prefix", namespace)
    target = urlunsplit(parts._replace(query=urlencode(rest)))
    return StoreURL(kind, target, timeout, namespace, synchronous, url)


def _timeout(url: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InvalidName(f"store URL {url!r}: timeout must be a positive number of seconds")
    return value
