"""What a store backend offers the shared pool: atomic operations and their replies.

Each method is one atomic step on the store, and starts by forfeiting the pool's
expired leases (on the store's clock). Every backend implements the same
semantics, in the store's own language (Python in one SQLite transaction, PL/pgSQL
functions, Lua scripts):

========  =================================================================
create    the pool row with ``live_sum = cap``; ``exists`` if present
reserve   ``reserve(r)`` from the pool or one of its shares; ``refused`` when it
          does not fit, ``closed`` when the pool has an overdraft; a repeated id
          returns ``repeat`` (nothing changes)
settle    ``kind`` is ``c`` (commit at ``actual``), ``x`` (cancel) or ``f``
          (forfeit); an open reservation is settled; the same settlement repeated
          is ``repeat``; another settlement ``settled``; a lapsed lease ``expired``
reconcile ``reconcile(d)`` with ``d = billed - total_charged``: ``ok`` with ``d``
          (``0``: nothing to do, also for the last billed total reconciled
          repeated); ``below`` when ``billed < total_charged``; ``overdraft``
          when ``d > live_sum`` or the pool is closed (records the overdraft,
          nothing else changes). The pool's own live amount pays ``d`` first,
          then its shares in name order
expire    only the expiry pass
ledger    ``cap``, the six fields, ``shared`` (what the shares hold), ``overdraft``
split     move ``amount`` of the pool's own live amount into share ``share``
merge     move all of share ``share`` back to the pool and remove the share
audit     the sum and count of open reservations, the sum of the shares
========  =================================================================

A reply is ``(code, vals, expired)``: ``expired`` lists the amounts of the leases
this step forfeited, in the order forfeited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

STATES = "ocxfe"
"""Reservation states: open, committed, cancelled, forfeited, expired (lease lapsed)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A backend's answer: ``code`` (see :mod:`impl.fleet.backend`), values, expiries."""

    code: str
    vals: tuple[int, ...] = ()
    expired: tuple[int, ...] = ()


class Backend(Protocol):
    """One connection to one store; methods are atomic on the store (see module doc)."""

    def create(self, pool: str, cap: int) -> Reply: ...
    def reserve(self, pool: str, share: str | None, id: str, r: int, lease: float) -> Reply: ...
    def settle(self, pool: str, id: str, kind: str, actual: int) -> Reply: ...
    def reconcile(self, pool: str, billed: int) -> Reply: ...
    def expire(self, pool: str) -> Reply: ...
    def ledger(self, pool: str) -> Reply: ...
    def available(self, pool: str, share: str | None) -> Reply: ...
    def split(self, pool: str, share: str, amount: int) -> Reply: ...
    def merge(self, pool: str, share: str) -> Reply: ...
    def audit(self, pool: str) -> Reply: ...
    def close(self) -> None: ...


def settle_reply(state: str, kind: str, amount: int, stored: int | None, actual: int) -> Reply:
    """The reply to settling a reservation that is no longer open (shared by backends
    that run Python logic; the PL/pgSQL and Lua versions mirror it)."""
    if state == "e":
        return Reply("expired", (amount,))
    if state == kind and (kind != "c" or stored == actual):
        return Reply("repeat", (amount, -1 if stored is None else stored))
    return Reply("settled", (STATES.index(state), amount, -1 if stored is None else stored))
