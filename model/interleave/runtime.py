"""The controlled runtime: one run of an instance's tasks, exactly one task at a time.

Every task (an OS thread, or a coroutine driven on its own OS thread) runs only when
the scheduler hands it the turn, and gives the turn back at its next *scheduling
point*: ``point()`` / ``await point()``, ``join`` / ``await ajoin``, and every blocking
acquire and every release of a lock of :mod:`model.interleave.locks`.  A *step* is
what one task executes between two of its scheduling points; the pending operation at
the point where it paused decides whether it can run (a lock acquire waits for the
lock to be free, a join for its task to end).

Coroutines follow asyncio's one-thread event loop: a coroutine gives the loop back
only at an ``await`` of an explorer awaitable; while it is inside synchronous code
(its lock operations, for instance) it keeps the loop, so no other coroutine can run,
but threads can.

The choice of the next task is delegated to a :class:`Chooser`: the runtime knows
nothing about search, and nothing about what the tasks compute.  Handoffs are direct
from the pausing thread to the chosen one (one binary semaphore per worker), and a
task that is chosen again right after it paused goes on without any thread switch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from types import CodeType, FrameType
from typing import Any, NamedTuple, Protocol

from model.interleave.program import Instance, Outcome, Scenario

# task states
NEW, PAUSED, RUNNING, DONE = 0, 1, 2, 3

# scheduling operations (what a paused task does when it is resumed)
START = "start"
POINT = "point"
ACQUIRE = "acquire"
RELEASED = "released"
JOIN = "join"

# how a run ended
COMPLETE = "complete"
DEADLOCK = "deadlock"
STOPPED = "stopped"



class PC(NamedTuple):
    """Where a task paused: its frames (innermost first, up to its entry point) and
    the innermost one outside the explorer as ``(code, line)`` at the time of the pause.

    The frames stay suspended while the task is paused, so the state key
    (:mod:`model.interleave.keys`) can read their instructions, locals and stacks when
    it is needed (never during replays).
    """

    frames: tuple[FrameType, ...] = ()
    site: tuple[CodeType, int] | None = None


class ExplorerError(RuntimeError):
    """The exploration itself cannot go on (not a property of the program explored)."""


class Stalled(ExplorerError):
    """A task did not come back to a scheduling point in time: it blocked on (or
    looped without) something the explorer does not control."""


class UsageError(RuntimeError):
    """A task used the explorer's API wrongly (raised inside that task)."""


class LockBusy(RuntimeError):
    """A controlled lock was taken from outside the schedule while a paused task held it.

    The scheduler's own calls (invariant checks, fingerprints) cannot wait; they catch
    this and skip the state (its ledger is not quiescent).
    """


class Abort(BaseException):
    """Raised inside tasks to unwind them when a run is abandoned (not an Exception)."""


class Op(NamedTuple):
    """A scheduling operation: ``kind``, its argument (a label, a lock, or the index of
    the task to join), whether it is an ``await`` (the coroutine gives the loop back),
    and for a release made by a ``with`` block the type of the exception propagating
    through it (a refusal and a success pause at the same line)."""

    kind: str
    arg: Any = None
    awaited: bool = False
    raising: type[BaseException] | None = None

    def key(self) -> tuple[str, object, bool, object]:
        """A hashable, run-independent identity of the operation."""
        arg = self.arg
        if self.kind in (ACQUIRE, RELEASED):
            arg = arg.index
        return (self.kind, arg, self.awaited, self.raising)


class Yielded:
    """Base of the objects an explorer awaitable yields to the coroutine driver."""

    __slots__ = ("op", "pc")

    def __init__(self, op: Op) -> None:
        self.op = op
        self.pc = PC()


class Resource(Protocol):
    """What the runtime needs of a controlled lock."""

    index: int
    label: str
    owner: object


class TaskState:
    """One task of a run, as the scheduler sees it."""

    __slots__ = ("fn", "index", "is_async", "name", "nevents", "outcome", "pc", "pending",
                 "status", "unawaited", "worker")

    def __init__(self, index: int, name: str, fn: Callable[[], Any], is_async: bool) -> None:
        self.index = index
        self.name = name
        self.fn = fn
        self.is_async = is_async
        self.status = NEW
        self.pending = Op(START)
        self.nevents = 0
        self.pc = PC()
        self.outcome: Outcome | None = None
        self.worker: _Worker | None = None
        self.unawaited: object | None = None

    def __repr__(self) -> str:
        return f"<task {self.name} {('new', 'paused', 'running', 'done')[self.status]}>"


class TraceStep(NamedTuple):
    """One executed step: task index, the task's step number (0-based), the operation
    it resumed with, and where (outside the explorer) it had paused."""

    task: int
    k: int
    op: Op
    site: tuple[CodeType, int] | None


class Chooser(Protocol):
    """Decides, at each state of a run, which enabled task runs next.

    ``visit`` returns the index of a task in ``enabled``, or -1 to stop the run at this
    state.  When ``enabled`` is empty any other value lets the run end (complete, or
    deadlocked if some task has not finished).
    """

    def visit(self, run: Run, enabled: list[int]) -> int: ...


_TASK_MAIN_CODE: CodeType | None = None
_PKG = __file__.rsplit("/", 1)[0] + "/"


def capture_pc(frame: FrameType | None) -> PC:
    """The running task's call stack from ``frame`` up to its entry point."""
    stop = _TASK_MAIN_CODE
    frames: list[FrameType] = []
    site: tuple[CodeType, int] | None = None
    while frame is not None and frame.f_code is not stop:
        frames.append(frame)
        if site is None and not frame.f_code.co_filename.startswith(_PKG):
            site = (frame.f_code, frame.f_lineno or 0)
        frame = frame.f_back
    return PC(tuple(frames), site)


class _Worker:
    """An OS thread that runs one task per run; parked on its semaphore in between."""

    __slots__ = ("go", "job", "thread")

    def __init__(self, n: int) -> None:
        self.go = threading.Lock()
        self.go.acquire()
        self.job: Callable[[], None] | None = None
        self.thread = threading.Thread(target=self._loop, name=f"interleave-{n}", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            self.go.acquire()
            job = self.job
            if job is None:
                return
            self.job = None
            job()


class WorkerPool:
    """The worker threads, reused from run to run; :meth:`close` ends and joins them."""

    def __init__(self) -> None:
        self._workers: list[_Worker] = []
        self.broken = False

    def take(self, n: int) -> list[_Worker]:
        """``n`` idle workers (started on demand)."""
        if self.broken:
            raise ExplorerError("the worker pool is unusable after a stalled task")
        while len(self._workers) < n:
            self._workers.append(_Worker(len(self._workers)))
        return self._workers[:n]

    def close(self, timeout: float = 5.0) -> None:
        """End every idle worker and wait for its thread (stalled ones are daemons)."""
        for w in self._workers:
            w.job = None
            try:
                w.go.release()
            except RuntimeError:  # already released (a task stalled, then was aborted)
                pass
        if not self.broken:
            for w in self._workers:
                w.thread.join(timeout)
        self._workers = []

_ACTIVE: Run | None = None


def active() -> Run | None:
    """The run being built or executed, if any."""
    return _ACTIVE


class Run:
    """One execution of a freshly built instance under a chooser.

    Construction builds the instance (its locks bind to this run); :meth:`execute`
    runs it to the end, to a deadlock, or to the chooser's stop, then unwinds every
    task that is still paused (raising :class:`Abort` inside it) so that no thread is
    left blocked.  ``trace`` lists every step executed.
    """

    def __init__(self, scenario: Scenario, chooser: Chooser, pool: WorkerPool,
                 stall_timeout: float = 10.0) -> None:
        global _ACTIVE
        if _ACTIVE is not None:
            raise ExplorerError("runs cannot be nested: an exploration is already running")
        self.chooser = chooser
        self.pool = pool
        self.stall_timeout = stall_timeout
        self.locks: list[Resource] = []
        self.current: TaskState | None = None
        self.in_scheduler = True
        self.aborting = False
        self.loop_holder: int | None = None
        self.last: int | None = None
        self.trace: list[TraceStep] = []
        self.steps = 0
        self.end: str | None = None
        self.error: BaseException | None = None
        self.checks_skipped = 0
        self._done = threading.Lock()
        self._done.acquire()
        self._unwound = threading.Lock()
        self._unwound.acquire()
        self._count_lock = threading.Lock()
        self._to_unwind = 0
        _ACTIVE = self
        try:
            self.instance: Instance = scenario()
            self.tasks = [TaskState(i, t.name, t.fn, t.kind == "async")
                          for i, t in enumerate(self.instance.tasks)]
        except BaseException:
            _ACTIVE = None
            raise
        self.by_name = {t.name: t.index for t in self.tasks}
        if len(self.by_name) != len(self.tasks):
            _ACTIVE = None
            raise ExplorerError("task names must be unique")

    # ------------------------------------------------------------------ controller

    def execute(self) -> None:
        """Run to the end (see the class doc); sets :attr:`end`."""
        global _ACTIVE
        try:
            workers = self.pool.take(len(self.tasks))
            for t, w in zip(self.tasks, workers, strict=False):
                t.worker = w
                w.job = self._job(t)
            self._schedule(None)
            self._wait(self._done)
            if self.end != COMPLETE:
                self._unwind()
        except BaseException:
            self._emergency_unwind()
            raise
        finally:
            self.current = None
            self.in_scheduler = True
            _ACTIVE = None

    def outcomes(self) -> dict[str, Outcome]:
        """Each finished task's outcome, by name."""
        return {t.name: t.outcome for t in self.tasks if t.outcome is not None}

    def check(self) -> str | None:
        """The instance's step invariant, or ``None`` when it holds or cannot be read
        now (a lock it needs is held by a paused task)."""
        try:
            return self.instance.check_step()
        except LockBusy:
            self.checks_skipped += 1
            return None

    def task_index(self, name: str) -> int:
        """The index of the task called ``name``."""
        try:
            return self.by_name[name]
        except KeyError:
            raise UsageError(f"no task named {name!r}; tasks: {', '.join(self.by_name)}"
                             ) from None

    def _wait(self, sem: threading.Lock) -> None:
        half = max(self.stall_timeout / 2, 0.01)
        last = -1
        while not sem.acquire(timeout=half):
            if self.steps == last:
                self.pool.broken = True
                who = self.current.name if self.current is not None else "?"
                raise Stalled(
                    f"task {who!r} has not reached a scheduling point for "
                    f"{self.stall_timeout:g} s: it blocks on, or loops without, something "
                    f"the explorer does not control (a real lock, a sleep, I/O, a thread "
                    f"it started itself); only explorer locks, point() and join() may "
                    f"block a task")
            last = self.steps

    def _unwind(self) -> None:
        """Raise :class:`Abort` in every paused task, all at once, and wait until each
        has unwound (they touch only this abandoned run, whose locks never block)."""
        self._release_all((PAUSED,), self.stall_timeout)

    def _emergency_unwind(self) -> None:
        try:
            self._release_all((PAUSED, RUNNING), 1.0)
        except Stalled:
            pass  # keep the exception that brought us here

    def _release_all(self, states: tuple[int, ...], timeout: float) -> None:
        self.aborting = True
        waiting = [t for t in self.tasks if t.status in states and t.worker is not None]
        if not waiting:
            return
        with self._count_lock:
            self._to_unwind = len(waiting)
        for t in waiting:
            w = t.worker
            assert w is not None
            w.go.release()
        if not self._unwound.acquire(timeout=timeout):
            self.pool.broken = True
            names = ", ".join(t.name for t in waiting if t.status != DONE)
            raise Stalled(f"task(s) {names} did not unwind within {timeout:g} s")

    def _unwound_one(self) -> None:
        with self._count_lock:
            self._to_unwind -= 1
            last = self._to_unwind == 0
        if last:
            self._unwound.release()

    # ------------------------------------------------------------------ scheduler

    def _enabled(self, t: TaskState) -> bool:
        op = t.pending
        if t.is_async and (op.kind == START or op.awaited) and self.loop_holder is not None:
            return False
        if op.kind == ACQUIRE:
            return bool(op.arg.owner is None)
        if op.kind == JOIN:
            return bool(self.tasks[op.arg].status == DONE)
        return True

    def _schedule(self, caller: TaskState | None) -> int:
        """Pick and start the next step (scheduler context: no task is running)."""
        enabled: list[int] = []
        try:
            enabled = [t.index for t in self.tasks
                       if t.status != DONE and self._enabled(t)]
            choice = self.chooser.visit(self, enabled)
            if choice >= 0 and enabled and choice not in enabled:
                raise ExplorerError(f"the chooser picked task {choice}, which cannot run")
        except BaseException as e:
            self.error = e
            choice = -1
        if choice < 0:
            self.end = STOPPED
        elif not enabled:
            self.end = COMPLETE if all(t.status == DONE for t in self.tasks) else DEADLOCK
        if self.end is not None:
            self._done.release()
            return -1
        t = self.tasks[choice]
        op = t.pending
        if op.kind == ACQUIRE:
            op.arg.owner = t
        if t.is_async and (op.kind == START or op.awaited):
            self.loop_holder = choice
        self.trace.append(TraceStep(choice, t.nevents, op, t.pc.site))
        t.nevents += 1
        self.steps += 1
        t.status = RUNNING
        self.current = t
        self.in_scheduler = False
        if t is not caller:
            w = t.worker
            assert w is not None
            w.go.release()
        return choice

    # ------------------------------------------------------------------ task side

    def pause(self, t: TaskState, op: Op, pc: PC) -> None:
        """Called by the running task ``t`` at a scheduling point: give the turn back
        and wait until the scheduler resumes ``t`` (its operation then is granted)."""
        if self.aborting:
            raise Abort()
        if t.unawaited is not None and not op.awaited:
            t.unawaited = None
            raise UsageError("point()/ajoin() in a coroutine must be awaited")
        t.pending = op
        t.pc = pc
        t.status = PAUSED
        if op.awaited:
            self.loop_holder = None
        self.current = None
        self.in_scheduler = True
        self.last = t.index
        if self._schedule(t) == t.index:
            return
        w = t.worker
        assert w is not None
        w.go.acquire()
        if self.aborting:
            raise Abort()

    def _job(self, t: TaskState) -> Callable[[], None]:
        return lambda: self._task_main(t)

    def _task_main(self, t: TaskState) -> None:
        try:
            value = self._drive(t) if t.is_async else t.fn()
            if t.unawaited is not None:
                t.unawaited = None
                raise UsageError("point()/ajoin() in a coroutine must be awaited")
            outcome = Outcome(value)
        except Abort:
            t.status = DONE
            self._unwound_one()
            return
        except BaseException as e:
            outcome = Outcome(error=e)
        if self.aborting:  # the task swallowed the Abort
            t.status = DONE
            self._unwound_one()
            return
        t.outcome = outcome
        t.status = DONE
        if self.loop_holder == t.index:
            self.loop_holder = None
        self.current = None
        self.in_scheduler = True
        self.last = t.index
        self._schedule(t)

    def _drive(self, t: TaskState) -> Any:
        coro = t.fn()
        if not isinstance(coro, Coroutine):
            raise UsageError(f"task {t.name!r} is declared async but its function "
                             f"returned {type(coro).__name__}, not a coroutine")
        try:
            while True:
                try:
                    yielded = coro.send(None)
                except StopIteration as stop:
                    return stop.value
                if not isinstance(yielded, Yielded):
                    raise UsageError(
                        f"task {t.name!r} awaited {yielded!r}, which the explorer does not "
                        f"control; coroutines may await only point(), ajoin() and "
                        f"coroutines that do the same")
                self.pause(t, yielded.op, yielded.pc)
        finally:
            coro.close()


_TASK_MAIN_CODE = Run._task_main.__code__


class _Direct:
    def __repr__(self) -> str:
        return "<outside the schedule>"


DIRECT = _Direct()
"""Owner of a controlled lock taken from outside the schedule (scheduler, setup)."""


def trace_step_text(step: TraceStep, run_tasks: list[TaskState]) -> str:
    """A one-line description of a step: the operation it resumed with, and where."""
    op = step.op
    where = _where(step.site)
    at = f" in {where}" if where else ""
    if op.kind == START:
        return "start"
    if op.kind == POINT:
        return f"resume after {'await ' if op.awaited else ''}point({op.arg!r}){at}"
    if op.kind == ACQUIRE:
        return f"acquire {op.arg.label}{at}"
    if op.kind == RELEASED:
        raising = f", raising {op.raising.__name__}" if op.raising is not None else ""
        return f"continue after releasing {op.arg.label}{at}{raising}"
    if op.kind == JOIN:
        return f"{'await ' if op.awaited else ''}join({run_tasks[op.arg].name}){at}"
    return op.kind  # pragma: no cover


def _where(site: tuple[CodeType, int] | None) -> str:
    if site is None:
        return ""
    code, line = site
    return f"{code.co_qualname} ({_short(code.co_filename)}:{line})"


def _short(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[-2:])


def current_task() -> tuple[Run, TaskState] | None:
    """The active run and its running task, when called from a task's own code."""
    run = _ACTIVE
    if run is None or run.in_scheduler:
        return None
    t = run.current
    if t is None:
        return None
    return run, t
