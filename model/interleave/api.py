"""What task code calls: scheduling points and joins.

``point(label)`` marks a place where other tasks may run: in a thread it is a
scheduling point right away; in a coroutine it returns an awaitable, and
``await point("llm call")`` is the scheduling point (the coroutine gives the event
loop back, as it would while awaiting an LLM call).  Outside an exploration both are
no-ops, so scenario code also runs as ordinary code.

``join(name)`` (threads) and ``await ajoin(name)`` (coroutines) wait until the task
called ``name`` has ended and return its value (or raise its exception).
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import Any

from model.interleave.runtime import (
    JOIN,
    POINT,
    Op,
    Run,
    UsageError,
    Yielded,
    capture_pc,
    current_task,
)


class Point(Yielded):
    """The awaitable returned by :func:`point` (already done outside coroutines)."""

    __slots__ = ("_run",)

    def __init__(self, op: Op, run: Run | None) -> None:
        super().__init__(op)
        self._run = run

    def __await__(self) -> Generator[Any, None, None]:
        ctx = current_task()
        if self._run is None or ctx is None:
            return
        _, t = ctx
        t.unawaited = None
        self.pc = capture_pc(sys._getframe(1))
        yield self


_DONE = Point(Op(POINT, "done"), None)


def point(label: str = "point") -> Point:
    """A scheduling point (see the module doc). Await it in a coroutine."""
    ctx = current_task()
    if ctx is None:
        return _DONE
    run, t = ctx
    if t.is_async:
        p = Point(Op(POINT, label, True), run)
        t.unawaited = p
        return p
    run.pause(t, Op(POINT, label), capture_pc(sys._getframe(1)))
    return _DONE


def _result(run: Run, target: int) -> Any:
    outcome = run.tasks[target].outcome
    assert outcome is not None
    if outcome.error is not None:
        raise outcome.error
    return outcome.value


def join(name: str) -> Any:
    """In a thread task: wait until task ``name`` ends; return its value or raise its
    exception."""
    ctx = current_task()
    if ctx is None:
        raise UsageError("join() works only inside a task run by the explorer")
    run, t = ctx
    if t.is_async:
        raise UsageError("in a coroutine, use `await ajoin(name)`")
    target = run.task_index(name)
    run.pause(t, Op(JOIN, target), capture_pc(sys._getframe(1)))
    return _result(run, target)


class _Join(Yielded):
    __slots__ = ("_run", "_target")

    def __init__(self, op: Op, run: Run, target: int) -> None:
        super().__init__(op)
        self._run = run
        self._target = target

    def __await__(self) -> Generator[Any, None, Any]:
        ctx = current_task()
        if ctx is not None:
            ctx[1].unawaited = None
        self.pc = capture_pc(sys._getframe(1))
        yield self
        return _result(self._run, self._target)


def ajoin(name: str) -> _Join:
    """In a coroutine task: ``await ajoin(name)`` waits until task ``name`` ends and
    returns its value (or raises its exception)."""
    ctx = current_task()
    if ctx is None:
        raise UsageError("ajoin() works only inside a task run by the explorer")
    run, t = ctx
    if not t.is_async:
        raise UsageError("in a thread, use join(name)")
    target = run.task_index(name)
    j = _Join(Op(JOIN, target, True), run, target)
    t.unawaited = j
    return j
