"""Scheduling hooks for a concurrency explorer (off by default, zero cost).

Every lock the library creates comes from :func:`new_lock`. By default that is a
``threading.RLock()`` (used without re-entry: for its ownership query). A concurrency
explorer can install a factory of controllable locks with :func:`set_lock_factory`;
every :class:`impl.Session` and :class:`impl.BudgetPool` created *afterwards* takes its
lock from that factory (the factory is resolved once, at construction, never per
operation). Objects created before the change keep the lock they already have.

A lock returned by a factory must support what the library uses:
``__enter__`` / ``__exit__`` (every critical section is a ``with lock:`` block, which
CPython enters and leaves with no point in between where an asynchronous exception
could escape without releasing it) and ``_is_owned() -> bool`` (whether the *calling*
thread holds it, as ``threading.RLock`` answers). It need not be re-entrant: the
library never re-acquires a lock its thread holds, and never acquires one without
``with``. ``_is_owned()`` is asked by :meth:`impl.Session.ledger` only: called from
code that interrupted this book's critical section on the same thread (a finalizer run
by the cyclic collector, a signal handler), it reads the fields without the lock
instead of deadlocking. Finalizers never touch the lock: a collected receipt,
reservation, stream or refund appends itself to its book's queue (one
``list.append``, made by C code), applied under the lock by the next ``ledger()``,
``observe()``, ``take()`` or reservation.

Observers are called outside the lock: a delivery loop takes the lock briefly to pop
each queued step (only when observers exist).

The library uses no other synchronization primitive (no conditions, events, queues,
thread-locals or atomics), so one controllable lock per ledger is enough for an
explorer to drive every interleaving of library code. Every write to shared state (the
six ledger fields, liveness flags and claims, the observer tuple) happens inside one
critical section of the ledger's lock (``with lock:``); the one exception is a finalizer
appending to the queue of collected values (one ``list.append``, atomic in CPython; the
queue is applied under the lock). Outside the lock the library only reads single
attributes (``available``, liveness peeks that pick which error to raise, immutable
references), so the points where another thread can change anything the library
looks at are exactly the lock acquisitions.

Cost when no factory is installed: nothing per operation (the lock is created once
per Session/BudgetPool).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, cast


class LockLike(Protocol):
    """The lock interface the library relies on (a subset of ``threading.Lock``)."""

    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...

    def _is_owned(self) -> bool: ...

    def __enter__(self) -> bool: ...

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None, /) -> None: ...


LockFactory = Callable[[], LockLike]

_factory: LockFactory | None = None


def new_lock() -> LockLike:
    """Return a new lock: ``threading.Lock()``, or one from the installed factory."""
    factory = _factory
    if factory is None:
        return cast(LockLike, threading.RLock())  # typeshed omits RLock._is_owned
    return factory()


def set_lock_factory(factory: LockFactory | None) -> LockFactory | None:
    """Install ``factory`` for locks created from now on (``None`` restores the default).

    Returns the factory that was installed before, so a caller can restore it. Not
    meant for production code: it exists for the concurrency explorer and for tests.
    """
    global _factory
    previous = _factory
    _factory = factory
    return previous


def lock_factory() -> LockFactory | None:
    """Return the installed factory, or ``None`` when the default is in force."""
    return _factory
