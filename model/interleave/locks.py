"""Controlled locks: ``threading.Lock`` look-alikes whose waits the explorer schedules.

Install :func:`lock_factory` with ``impl._sched.set_lock_factory`` and every lock the
library creates while a run is being built or executed is a :class:`ControlledLock`
bound to that run (outside a run the factory returns a plain ``threading.Lock``).

Inside the running task, a blocking ``acquire`` is a scheduling point *before* the
acquisition (the task can be resumed only when the lock is free) and ``release`` is
a scheduling point *after* it.  Everything else takes the lock directly and never
waits: the scheduler's own calls (invariant checks, fingerprints), set-up and final
assertions, teardown, and non-blocking acquires (the library's garbage-collection
finalizers); a direct acquire of a lock held by a paused task raises
:class:`~model.interleave.runtime.LockBusy` (or unwinds, during teardown), and a
non-blocking acquire/release pair made by a task inside one step is not a
scheduling point.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import cast

from impl._sched import LockLike
from model.interleave.runtime import (
    ACQUIRE,
    DIRECT,
    RELEASED,
    Abort,
    LockBusy,
    Op,
    Run,
    TaskState,
    active,
    capture_pc,
)


class ControlledLock:
    """A non-reentrant lock whose blocking acquires and releases are scheduling points."""

    __slots__ = ("_quiet", "_run", "index", "label", "owner")

    def __init__(self, run: Run, label: str = "lock") -> None:
        self._run = run
        self.owner: object = None
        self.index = len(run.locks)
        self.label = f"{label}#{self.index}"
        self._quiet = False
        run.locks.append(self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; in the running task, wait for the scheduler's turn first."""
        run = self._run
        t = run.current
        if t is None or run.in_scheduler or run.aborting or not blocking:
            return self._direct(run, t, blocking)
        run.pause(t, Op(ACQUIRE, self), capture_pc(sys._getframe(1)))
        return True

    def _direct(self, run: Run, t: TaskState | None, blocking: bool) -> bool:
        if self.owner is None:
            if t is not None and not run.in_scheduler and not run.aborting:
                self.owner = t
                self._quiet = True  # its release is not a scheduling point either
            else:
                self.owner = DIRECT
            return True
        if not blocking:
            return False
        if run.aborting:
            raise Abort()
        raise LockBusy(f"{self.label} is held by {self.owner!r}; it cannot be taken "
                       f"from outside the schedule now")

    def release(self) -> None:
        """Free the lock; in the running task, then give the scheduler the turn."""
        if self.owner is None:
            raise RuntimeError("release unlocked lock")
        self.owner = None
        if self._quiet:
            self._quiet = False
            return
        run = self._run
        t = run.current
        if t is None or run.in_scheduler or run.aborting:
            return
        run.pause(t, Op(RELEASED, self), capture_pc(sys._getframe(1)))

    def locked(self) -> bool:
        """Whether some task (or the scheduler) holds the lock."""
        return self.owner is not None

    def _is_owned(self) -> bool:
        """Whether the caller holds the lock: the running task, or, outside a task,
        the scheduler (``threading.RLock``'s ownership query, used by impl)."""
        owner = self.owner
        if owner is None:
            return False
        run = self._run
        t = run.current
        if t is None or run.in_scheduler or run.aborting:
            return owner is DIRECT
        return owner is t

    def __enter__(self) -> bool:
        run = self._run
        t = run.current
        if t is None or run.in_scheduler or run.aborting:
            return self._direct(run, t, True)
        run.pause(t, Op(ACQUIRE, self), capture_pc(sys._getframe(1)))
        return True

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None, /) -> None:
        if self.owner is None:
            raise RuntimeError("release unlocked lock")
        self.owner = None
        if self._quiet:
            self._quiet = False
            return
        run = self._run
        t = run.current
        if t is None or run.in_scheduler or run.aborting:
            return
        run.pause(t, Op(RELEASED, self, False, et), capture_pc(sys._getframe(1)))

    def __repr__(self) -> str:
        return f"<ControlledLock {self.label} {'locked' if self.owner else 'unlocked'}>"


def _creator_label() -> str:
    """The class of the object whose ``__init__`` is creating the lock, if any."""
    f = sys._getframe(2)
    for _ in range(6):
        if f is None:
            break
        if f.f_code.co_name == "__init__" and "self" in f.f_locals:
            return type(f.f_locals["self"]).__name__
        f = f.f_back  # type: ignore[assignment]
    return "lock"


def lock_factory() -> LockLike:
    """A controlled lock bound to the run being built or executed, else impl's default
    lock (a ``threading.RLock``).

    Meant for ``impl._sched.set_lock_factory``; labels the lock with the class that
    creates it (``Session#0``, ``BudgetPool#1``...).
    """
    run = active()
    if run is None:
        return cast(LockLike, threading.RLock())  # typeshed omits RLock._is_owned
    return ControlledLock(run, _creator_label())


def new_lock(label: str = "lock") -> ControlledLock | threading.Lock:
    """A lock for scenario code: controlled inside a run, a plain lock outside one."""
    run = active()
    if run is None:
        return threading.Lock()
    return ControlledLock(run, label)
