"""SharedPool: one budget shared by many processes and machines, through a store.

The pool's ledger lives in the store (SQLite file, PostgreSQL, Redis) under the
SEMANTICS.md field names; every operation is one atomic step there, so the
check-and-reserve cannot race across processes. Ledger steps (SEMANTICS.md names), as for
:class:`impl.BudgetPool`:

============================  =====================================================
``pool.reserve(r, lease=s)``  ``reserve(r)``; refused: ``spend_insufficient(r)``
                              when ``r > live_sum``, else a stutter (the money sits
                              in a share); the lease runs on the store's clock
``commit(id, c)``             ``confirm_with_refund(r, c)``, then ``refund_to(r - c)``
                              when ``r - c > 0``
``cancel(id)``                ``confirm_with_refund(r, 0)``, then ``refund_to(r)``
``forfeit(id)``               ``forfeit(r)``; also a lease that lapsed, forfeited by
                              the next operation on the pool or by ``expire()``
``split`` / ``merge``         stutters (money moves between the pool and a share)
``reconcile(billed)``         ``reconcile(d)``, ``d = billed - total_charged``, when
                              ``0 < d <= live_sum``; a stutter when ``d == 0``;
                              refused (nothing changes) when ``billed <
                              total_charged``; when ``d > live_sum``: nothing
                              changes, the pool is closed (:class:`impl.Overdraft`)
============================  =====================================================

A pool closed by an overdraft (recorded in the store, so every handle in every
process sees it) refuses every ``reserve`` with :class:`impl.LedgerClosed` (a stutter,
reported to no observer); settlements, ``split`` and ``merge`` still work.

Settlement is exactly-once by reservation id: the same settlement repeated (a client
that lost the reply and retries) returns the same :class:`Settlement` and changes
nothing; another settlement of a settled reservation raises :class:`AlreadySettled`;
a commit or cancel after the lease lapsed raises :class:`LeaseExpired` (a forfeit
then returns the ``expired`` outcome: the reservation is forfeited either way).
"""

from __future__ import annotations

import asyncio
import math
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from impl.errors import (
    BudgetTypeError,
    ChargeExceedsReservation,
    InsufficientBudget,
    amount_error,
    below_charged_error,
    closed_error,
    overdraft_error,
)
from impl.fleet.backend import STATES, Backend, Reply
from impl.fleet.errors import (
    AlreadySettled,
    InvalidLease,
    LeaseExpired,
    PoolExists,
    PoolNotFound,
    StoreUnavailable,
    UnknownReservation,
)
from impl.fleet.stores import connect
from impl.fleet.url import StoreURL, check_name, parse
from impl.ledger import Ledger, Step

AMOUNT_LIMIT = 1 << 53
"""Shared-pool amounts are below 2**53 on every store (Redis scripts count in doubles)."""

DEFAULT_LEASE = 300.0
"""Seconds a reservation is held when ``reserve`` gets no ``lease``."""

MAX_LEASE = 366 * 86400.0
"""The longest lease accepted, in seconds."""

_OUTCOMES = {"c": "committed", "x": "cancelled", "f": "forfeited", "e": "expired"}
_KIND_OP = {"c": "commit", "x": "cancel", "f": "forfeit"}

# Connections inherited through fork are never closed by the child: closing one would
# end the parent's session on the server.
_INHERITED: list[Backend] = []


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a reservation was settled: the same value for every repeat of a settlement.

    ``state`` is ``"committed"``, ``"cancelled"``, ``"forfeited"`` or ``"expired"``
    (forfeited by its lease); ``actual`` is what was charged (``0`` for a cancel,
    ``None`` when forfeited or expired: the whole ``amount`` is unrecoverable).
    """

    id: str
    state: str
    amount: int
    actual: int | None


@dataclass(frozen=True, slots=True)
class Audit:
    """What the store's per-reservation and per-share records sum to.

    ``open_amount`` must equal the ledger's ``outstanding_receipts`` and
    ``shares`` the part of ``live_sum`` held by shares (the refinement's abstraction).
    """

    open_amount: int
    open_count: int
    shares: int


class SharedPool:
    """A handle on one pool in a store; any number of processes open the same pool.

    Create a pool once with :meth:`create`; open it by name with :meth:`open`. A
    handle is safe to use from several threads (its operations are serialised), is
    re-connected automatically in a forked child, and pickles as ``(url, name,
    share)``: unpickling re-opens the pool. :meth:`split` and :meth:`share` give
    handles on a named share of the pool (a tenant's quota inside the pool's cap).
    """

    __slots__ = ("_backend", "_name", "_observers", "_pid", "_share", "_store")

    _backend: Backend

    def __init__(self, store: StoreURL, name: str, share: str | None, backend: Backend) -> None:
        self._store = store
        self._name = name
        self._share = share
        self._backend = backend
        self._pid = os.getpid()
        self._observers: tuple[Callable[[Step], object], ...] = ()

    # -- opening -------------------------------------------------------------------

    @classmethod
    def create(cls, url: str, name: str, cap: int) -> SharedPool:
        """Create pool ``name`` holding ``cap`` uc in the store at ``url`` and open it.

        ``0 <= cap < 2**53``; :class:`PoolExists` if the store already has ``name``
        (a pool is never re-created implicitly); :class:`StoreUnavailable` if the store
        does not answer within the URL's ``timeout``.
        """
        store = parse(url)
        check_name("pool name", name)
        if type(cap) is not int or not 0 <= cap < AMOUNT_LIMIT:
            raise amount_error("SharedPool.create", "cap", cap, minimum=0,
                               maximum=AMOUNT_LIMIT - 1)
        pool = cls(store, name, None, connect(store, create=True))
        if pool._call("create", lambda b: b.create(name, cap)).code == "exists":
            pool.close()
            raise PoolExists(f"SharedPool.create: pool {name!r} already exists in "
                             f"{_shown(store)}; open it with SharedPool.open(url, name)")
        return pool

    @classmethod
    def open(cls, url: str, name: str) -> SharedPool:
        """Open the existing pool ``name`` at ``url``; :class:`PoolNotFound` if absent."""
        store = parse(url)
        check_name("pool name", name)
        pool = cls(store, name, None, connect(store, create=False))
        pool.expire()  # raises PoolNotFound if the pool is not there
        return pool

    @property
    def name(self) -> str:
        """The pool's name in its store."""
        return self._name

    @property
    def share_name(self) -> str | None:
        """The share this handle reserves from, or ``None`` for the pool itself."""
        return self._share

    def share(self, name: str) -> SharedPool:
        """A handle reserving from the existing share ``name`` of this pool."""
        check_name("share name", name)
        return SharedPool(self._store, self._name, name, connect(self._store, create=False))

    def close(self) -> None:
        """Close this handle's connection (the pool itself stays in the store)."""
        if os.getpid() == self._pid:
            self._backend.close()

    def __enter__(self) -> SharedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reopen, (self._store.url, self._name, self._share))

    def __repr__(self) -> str:
        where = f" share {self._share!r}" if self._share else ""
        return f"<SharedPool {self._name!r}{where} at {_shown(self._store)}>"

    # -- reserving and settling ----------------------------------------------------

    def reserve(self, r: int, *, lease: float = DEFAULT_LEASE, id: str | None = None
                ) -> Reservation:
        """Reserve ``r`` uc for one call, held for ``lease`` seconds of the store's clock.

        ``0 < r < 2**53``. :class:`impl.InsufficientBudget` when ``r`` exceeds what this
        handle can reserve (nothing changes). ``id`` (default: a fresh UUID) names the
        reservation: reserving again with the same id and amount returns the same
        open reservation, so a reserve whose reply was lost can be retried safely.
        """
        if type(r) is not int or not 0 < r < AMOUNT_LIMIT:
            raise amount_error("reserve", "r", r, maximum=AMOUNT_LIMIT - 1)
        lease = _lease(lease)
        rid = uuid.uuid4().hex if id is None else check_name("reservation id", id)
        share = self._share
        reply = self._call("reserve", lambda b: b.reserve(self._name, share, rid, r, lease))
        if reply.code == "closed":
            raise closed_error("reserve", r, reply.vals[0])
        if reply.code == "refused":
            avail, live = reply.vals
            if r > live:
                self._emit(Step("spend_insufficient", {"r": r}))
            where = f"share {share!r} of pool {self._name!r}" if share else \
                f"pool {self._name!r}"
            raise InsufficientBudget(
                f"reserve({r}) refused: {where} holds {avail} uc; reserve less, or retry "
                f"after in-flight reservations settle", "reserve", r, avail)
        if reply.code == "mismatch":
            raise AlreadySettled(f"reserve({r}): id {rid!r} already names a reservation "
                                 f"of {reply.vals[0]} uc; use a fresh id")
        if reply.code in ("expired", "settled"):
            self._settled(reply, rid, "reserve", 0)
        if reply.code == "ok":
            self._emit(Step("reserve", {"r": r}))
        return Reservation(self, rid, r)

    def commit(self, id: str, actual: int) -> Settlement:
        """Settle reservation ``id`` at the billed ``actual`` uc (``0 <= actual <= r``)."""
        if type(actual) is not int or not 0 <= actual < AMOUNT_LIMIT:
            raise amount_error("commit", "actual", actual, minimum=0)
        return self._settle(id, "c", actual)

    def cancel(self, id: str) -> Settlement:
        """Settle reservation ``id`` as never called: the whole amount goes back."""
        return self._settle(id, "x", 0)

    def forfeit(self, id: str) -> Settlement:
        """Settle reservation ``id`` with unknown billing: the whole amount is lost."""
        return self._settle(id, "f", 0)

    def _settle(self, id: str, kind: str, actual: int) -> Settlement:
        op = _KIND_OP[kind]
        if not isinstance(id, str):
            raise BudgetTypeError(f"{op}: id must be the str of a reservation, got "
                                  f"{type(id).__name__}")
        reply = self._call(op, lambda b: b.settle(self._name, id, kind, actual))
        if reply.code == "no_id":
            raise UnknownReservation(f"{op}({id!r}): no reservation of that id in pool "
                                     f"{self._name!r}")
        if reply.code == "over":
            r = reply.vals[0]
            raise ChargeExceedsReservation(
                f"commit: actual={actual} exceeds the reservation of {r} uc (the estimate "
                f"was unsound: assumption A1 or A6 broken); the reservation stays open: "
                f"commit({r}) to charge it in full, or forfeit() it")
        if reply.code == "ok":
            amount, charged = reply.vals
            self._emit_settlement(kind, amount, charged)
            return Settlement(id, _OUTCOMES[kind], amount, None if kind == "f" else charged)
        return self._settled(reply, id, op, actual, kind)

    def reconcile(self, billed_total: int) -> int:
        """Bring the pool's ledger to the provider's true bill; returns the drift applied.

        ``billed_total`` is the provider's *cumulative* bill for the whole pool in uc
        (an int, ``0 <= billed_total < 2**53``); ``d = billed_total - total_charged``.
        One atomic step on the store, with the same outcomes as
        :meth:`impl.BudgetPool.reconcile`:

        - ``d < 0``: :class:`impl.BilledTotalBelowCharged`, nothing changes; except
          that the billed total the pool last reconciled, repeated after charges
          landed, returns 0 (a worker that retries, or two workers passing the same
          bill, apply its drift once whatever committed in between);
        - ``d == 0``: returns 0, nothing changes;
        - ``0 < d <= live_sum``: ``reconcile(d)``; the pool's own live amount pays
          first, then its shares in name order (each down to 0); returns ``d``;
        - ``d > live_sum``: the ledger is unchanged; the store records the overdraft
          ``d - live_sum`` (:attr:`overdraft`, :attr:`closed`, seen by every handle)
          and :class:`impl.Overdraft` is raised; from then on every ``reserve``
          raises :class:`impl.LedgerClosed`. On a closed pool every reconciliation
          raises :class:`impl.Overdraft` again and changes nothing but a larger
          overdraft.
        """
        if type(billed_total) is not int or not 0 <= billed_total < AMOUNT_LIMIT:
            raise amount_error("reconcile", "billed_total", billed_total, minimum=0,
                               maximum=AMOUNT_LIMIT - 1)
        reply = self._call("reconcile", lambda b: b.reconcile(self._name, billed_total))
        if reply.code == "below":
            raise below_charged_error("reconcile", billed_total, reply.vals[0])
        if reply.code == "overdraft":
            charged, live, worst, was, d = reply.vals
            raise overdraft_error("reconcile", billed_total, charged, d, live, worst,
                                  closed_before=was > 0)
        d = reply.vals[0]
        if d:
            self._emit(Step("reconcile", {"d": d}))
        return d

    def _settled(self, reply: Reply, id: str, op: str, actual: int, kind: str = ""
                 ) -> Settlement:
        """The outcome of a settlement of a reservation that was no longer open."""
        if reply.code == "expired":
            amount = reply.vals[0]
            if kind == "f":
                return Settlement(id, "expired", amount, None)
            raise LeaseExpired(
                f"{op}({id!r}) refused: the lease of this reservation of {amount} uc "
                f"expired and it was forfeited (the whole {amount} uc is counted as "
                f"unrecoverable, which covers any bill); nothing changed; reserve with "
                f"a longer lease", id, amount)
        if reply.code == "repeat":
            amount, stored = reply.vals
            return Settlement(id, _OUTCOMES[kind], amount, None if stored < 0 else stored)
        state, amount, stored = reply.vals
        was = _OUTCOMES[STATES[state]] + (f" at {stored} uc" if STATES[state] == "c" else "")
        raise AlreadySettled(f"{op}({id!r}) refused: the reservation of {amount} uc was "
                             f"already {was}; nothing changed")

    def expire(self) -> int:
        """Forfeit every reservation whose lease has lapsed; how many this call forfeited.

        Every other operation does the same first, so this is only needed to release
        stranded money on a pool nobody else touches.
        """
        return len(self._call("expire", lambda b: b.expire(self._name)).expired)

    # -- reading -------------------------------------------------------------------

    @property
    def available(self) -> int:
        """What this handle can reserve right now (int uc), after lapsed leases."""
        share = self._share
        return self._call("available", lambda b: b.available(self._name, share)).vals[0]

    @property
    def cap(self) -> int:
        """``B0``: the cap the pool was created with."""
        return self._call("cap", lambda b: b.ledger(self._name)).vals[0]

    def ledger(self) -> Ledger:
        """A consistent snapshot of the pool's six SEMANTICS.md fields (after lapsed leases)."""
        vals = self._call("ledger", lambda b: b.ledger(self._name)).vals
        return Ledger(*vals[1:7])

    @property
    def overdraft(self) -> int:
        """What reconciliation could not absorb (int uc; 0 while the pool is open), as
        recorded in the store: never decreases."""
        return self._call("overdraft", lambda b: b.ledger(self._name)).vals[8]

    @property
    def closed(self) -> bool:
        """True once a reconciliation (by any handle) raised :class:`impl.Overdraft`;
        a closed pool never reopens."""
        return self.overdraft > 0

    def audit(self) -> Audit:
        """The sums of the store's per-reservation and per-share records (see Audit)."""
        return Audit(*self._call("audit", lambda b: b.audit(self._name)).vals)

    # -- shares --------------------------------------------------------------------

    def split(self, name: str, amount: int) -> SharedPool:
        """Move ``amount`` uc of the pool's own live amount into share ``name`` (created
        if new, topped up otherwise); returns a handle reserving from the share.

        A ledger stutter: the money stays live, inside the pool's cap. Settled
        reservations of the share refund to the share (to the pool once it merged).
        """
        check_name("share name", name)
        if type(amount) is not int or not 0 < amount < AMOUNT_LIMIT:
            raise amount_error("split", "amount", amount, maximum=AMOUNT_LIMIT - 1)
        reply = self._call("split", lambda b: b.split(self._name, name, amount))
        if reply.code == "refused":
            avail = reply.vals[0]
            raise InsufficientBudget(
                f"split({name!r}, {amount}) refused: pool {self._name!r} holds {avail} uc "
                f"outside its shares; split less", "split", amount, avail)
        return self.share(name)

    def merge(self, name: str) -> int:
        """Move all of share ``name`` back into the pool and remove it; the amount moved."""
        check_name("share name", name)
        return self._call("merge", lambda b: b.merge(self._name, name)).vals[0]

    # -- observers -----------------------------------------------------------------

    def observe(self, fn: Callable[[Step], object]) -> Callable[[], None]:
        """Call ``fn(step)`` for each ledger step applied by this handle's operations
        (lapsed leases they forfeited included), after the store applied it; returns
        an unsubscribe function. Steps applied by other handles are not seen.
        """
        if not callable(fn):
            raise BudgetTypeError(f"observe: fn must be callable, got {type(fn).__name__}")
        self._observers = (*self._observers, fn)

        def unsubscribe() -> None:
            self._observers = tuple(f for f in self._observers if f is not fn)

        return unsubscribe

    def _emit(self, step: Step) -> None:
        for fn in self._observers:
            fn(step)

    def _emit_settlement(self, kind: str, r: int, c: int) -> None:
        if kind == "f":
            self._emit(Step("forfeit", {"r": r}))
            return
        self._emit(Step("confirm_with_refund", {"r": r, "c": c}))
        if r - c:
            self._emit(Step("refund_to", {"a": r - c}))

    # -- the store call ------------------------------------------------------------

    def _call(self, op: str, fn: Callable[[Backend], Reply]) -> Reply:
        if os.getpid() != self._pid:
            _INHERITED.append(self._backend)
            self._backend = connect(self._store, create=False)
            self._pid = os.getpid()
        reply = fn(self._backend)
        for r in reply.expired:
            self._emit(Step("forfeit", {"r": r}))
        if reply.code == "no_pool":
            raise PoolNotFound(
                f"{op}: pool {self._name!r} not found in {_shown(self._store)}: it was never "
                f"created, or the store lost its data; it is not re-created implicitly: "
                f"check the books, then SharedPool.create(url, name, cap)")
        if reply.code == "no_share":
            raise PoolNotFound(f"{op}: pool {self._name!r} has no share {self._share!r}; "
                               f"split one first")
        return reply

    # -- asyncio -------------------------------------------------------------------

    async def areserve(self, r: int, *, lease: float = DEFAULT_LEASE, id: str | None = None
                       ) -> Reservation:
        """:meth:`reserve` in a worker thread: the event loop is never blocked."""
        return await asyncio.to_thread(lambda: self.reserve(r, lease=lease, id=id))

    async def acommit(self, id: str, actual: int) -> Settlement:
        """:meth:`commit` in a worker thread."""
        return await asyncio.to_thread(self.commit, id, actual)

    async def acancel(self, id: str) -> Settlement:
        """:meth:`cancel` in a worker thread."""
        return await asyncio.to_thread(self.cancel, id)

    async def aforfeit(self, id: str) -> Settlement:
        """:meth:`forfeit` in a worker thread."""
        return await asyncio.to_thread(self.forfeit, id)

    async def areconcile(self, billed_total: int) -> int:
        """:meth:`reconcile` in a worker thread."""
        return await asyncio.to_thread(self.reconcile, billed_total)

    async def aexpire(self) -> int:
        """:meth:`expire` in a worker thread."""
        return await asyncio.to_thread(self.expire)

    async def aledger(self) -> Ledger:
        """:meth:`ledger` in a worker thread."""
        return await asyncio.to_thread(self.ledger)

    async def aavailable(self) -> int:
        """:attr:`available` in a worker thread."""
        return await asyncio.to_thread(lambda: self.available)


class Reservation:
    """``amount`` uc reserved from a :class:`SharedPool`, named by ``id`` (a str).

    Settle it once, from this object or from any process by id: :meth:`commit`,
    :meth:`cancel` or :meth:`forfeit`; repeating the same settlement returns the same
    :class:`Settlement`. As a context manager, a reservation still unsettled at the
    end of the block (exception or not) is forfeited.
    """

    __slots__ = ("_pool", "amount", "id", "outcome")

    def __init__(self, pool: SharedPool, id: str, amount: int) -> None:
        self._pool = pool
        self.id = id
        self.amount = amount
        self.outcome: Settlement | None = None

    def commit(self, actual: int) -> Settlement:
        """Settle at the billed ``actual`` (``0 <= actual <= amount``); see SharedPool.commit."""
        self.outcome = self._pool.commit(self.id, actual)
        return self.outcome

    def cancel(self) -> Settlement:
        """The call never happened: the whole amount goes back to the pool."""
        self.outcome = self._pool.cancel(self.id)
        return self.outcome

    def forfeit(self) -> Settlement:
        """Billing unknown: the whole amount is lost to the pool (cap-safe)."""
        self.outcome = self._pool.forfeit(self.id)
        return self.outcome

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.outcome is not None:
            return
        try:
            self.forfeit()
        except StoreUnavailable:
            # The lease forfeits it on the store's clock anyway; keep the original error.
            if exc is None:
                raise

    def __repr__(self) -> str:
        state = self.outcome.state if self.outcome else "open"
        return f"<Reservation {self.id} of {self.amount} uc, {state}>"


def _reopen(url: str, name: str, share: str | None) -> SharedPool:
    pool = SharedPool.open(url, name)
    return pool if share is None else pool.share(share)


def _lease(lease: object) -> float:
    if (type(lease) not in (int, float) or not math.isfinite(lease)  # type: ignore[arg-type]
            or not 0 < lease <= MAX_LEASE):  # type: ignore[operator]
        raise InvalidLease(f"reserve: lease must be a number of seconds in (0, {MAX_LEASE:.0f}]"
                           f", got {lease!r}")
    return float(lease)  # type: ignore[arg-type]


def _shown(store: StoreURL) -> str:
    """The URL without its query and without any password (for messages)."""
    if store.kind == "sqlite":
        return f"sqlite://{store.target}"
    parts = urlsplit(store.url)
    host = parts.netloc.rpartition("@")
    user = host[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host[2]}" if user else host[2],
                                     query=""))
