"""Scheduling hooks for a concurrency explorer (off by default, zero cost).

Every lock the library creates comes from :func:`new_lock`. By default that is a
plain ``threading.Lock()``. A concurrency explorer can install a factory of
controllable locks with :func:`set_lock_factory`; every :class:`impl.Session` and
:class:`impl.BudgetPool` created *afterwards* takes its lock from that factory (the
factory is resolved once, at construction, never per operation). Objects created
before the change keep the lock they already have.

A lock returned by a factory must support what ``threading.Lock`` offers and the
library uses: ``__enter__`` / ``__exit__``, ``acquire(blocking=True) -> bool`` and
``release()``. The library calls ``acquire(False)`` (non-blocking) in exactly one
place: when an unresolved receipt or reservation is garbage-collected (a finalizer
must never block, it may run while the same thread already holds the lock); if that
fails, the forfeit is queued and applied by the next ``ledger()`` / ``observe()`` /
``take()`` or finalizer that gets the lock.

The library uses no other synchronization primitive (no conditions, events, queues,
thread-locals or atomics), so one controllable lock per ledger is enough for an
explorer to drive every interleaving of library code. Every write to shared state (the
six ledger fields, liveness flags, the observer tuple) happens inside one critical
section of the ledger's lock (``with lock:``); the one exception is a finalizer that
cannot take the lock appending to the queue of pending forfeits (one ``list.append``,
atomic in CPython; the queue is drained under the lock). Outside the lock
the library only reads single attributes (``available``, liveness peeks that pick which
error to raise, immutable references), so the points where another thread can change
anything the library looks at are exactly the lock acquisitions. The fast paths make
no Python-level call while holding the lock (observers aside), so CPython never
switches threads inside them either.

Cost when no factory is installed: nothing per operation (the lock is created once
per Session/BudgetPool).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Protocol


class LockLike(Protocol):
    """The lock interface the library relies on (a subset of ``threading.Lock``)."""

    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...

    def __enter__(self) -> bool: ...

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None, /) -> None: ...


LockFactory = Callable[[], LockLike]

_factory: LockFactory | None = None


def new_lock() -> LockLike:
    """Return a new lock: ``threading.Lock()``, or one from the installed factory."""
    factory = _factory
    if factory is None:
        return threading.Lock()
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
