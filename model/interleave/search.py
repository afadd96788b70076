"""Enumerate every schedule of a scenario: stateless depth-first search with replay.

Each run starts from a freshly built instance and replays a *plan*: the choices made
at the branching states (where two or more tasks can run) on the way to the state
being explored; from there the run extends the search.  Determinism is checked: a
replayed choice that cannot run raises :class:`ReplayDivergence`.

Reduction (``reduction=True``): state caching with memoized summaries.  At each new
branching state the run computes a key (:mod:`model.interleave.keys`): for every task
its status, step count, pending operation (with the exception propagating through a
``with`` block's release, if any) or outcome, and its program counter, which is its
whole paused stack with, per frame, the instruction, the values of the locals the
rest of the function may read (:mod:`model.interleave.liveness`) and the values held
on the frame's evaluation stack (:mod:`model.interleave.stack`); then the lock
owners, the event-loop holder, and the instance's fingerprint.  A state whose key
cannot be made complete is not cached.  A state whose key was fully
explored before is not explored again: its summary (how many complete schedules lie
below it, and the minimum, maximum and non-zero count of every measure over them) is
reused.  The summaries add up exactly, so :attr:`ScheduleSearch.schedules` is the exact
number of complete schedules with or without the reduction, and the measures are
exact too; :attr:`ScheduleSearch.runs` is how many runs were executed.  Keys include
step counts, so the states form a DAG and a key is reused only once its subtree is
complete.  Soundness needs the instance's fingerprint to capture the shared state
and whatever a task holds that its locals' simple values do not show (the amount
inside a budget handle held in a local, for instance; see
:mod:`model.interleave.program`); without a fingerprint (``None``) the state is simply
not cached.  Every state reached in any schedule is visited at least once, so the
step invariant is checked in every reachable state (except where a lock it needs is
held by a paused task: ``checks_skipped``).

Without reduction every complete schedule is executed.

A violation (a step invariant that fails, a deadlock, a failed end-of-run assertion,
an exception in the instance's checks) stops the search; it carries the schedule as
a numbered list of ``(task, step)``, which :func:`replay` reproduces.
"""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from model.interleave.keys import state_key
from model.interleave.locks import lock_factory
from model.interleave.program import Outcome, Scenario, Verdict
from model.interleave.runtime import (
    COMPLETE,
    DEADLOCK,
    ExplorerError,
    Run,
    WorkerPool,
    trace_step_text,
)

Progress = Callable[[str], None]


class ReplayDivergence(ExplorerError):
    """A replayed choice could not run: the scenario is not deterministic, or the
    schedule given to :func:`replay` does not fit it."""


@dataclass(frozen=True)
class Stat:
    """A measure over a set of schedules: minimum, maximum, and how many are non-zero."""

    lo: int
    hi: int
    nonzero: int


@dataclass(frozen=True)
class Summary:
    """The complete schedules below a state: their number and their measures."""

    schedules: int
    stats: Mapping[str, Stat]

    def __add__(self, other: Summary) -> Summary:
        if not self.schedules:
            return other
        if not other.schedules:
            return self
        stats = dict(self.stats)
        for k, b in other.stats.items():
            a = stats.get(k)
            stats[k] = b if a is None else Stat(min(a.lo, b.lo), max(a.hi, b.hi),
                                                a.nonzero + b.nonzero)
        return Summary(self.schedules + other.schedules, stats)

    @staticmethod
    def leaf(measures: Mapping[str, int]) -> Summary:
        """One complete schedule with these measures."""
        return Summary(1, {k: Stat(int(v), int(v), 1 if v else 0)
                           for k, v in measures.items()})


EMPTY = Summary(0, {})


@dataclass(frozen=True)
class StepInfo:
    """One step of a schedule: its number, the task, the task's own step number and
    what the step did."""

    number: int
    task: str
    k: int
    what: str

    def __str__(self) -> str:
        return f"{self.number:>4}. ({self.task}, {self.k})  {self.what}"


@dataclass
class ScheduleViolation:
    """A property that fails in some schedule, with that schedule."""

    kind: str  # "invariant", "deadlock", "assertion" or "error"
    message: str
    steps: tuple[StepInfo, ...]

    @property
    def schedule(self) -> tuple[str, ...]:
        """The task of every step, in order: what :func:`replay` takes."""
        return tuple(s.task for s in self.steps)

    def render(self) -> list[str]:
        """The violation and its schedule as numbered ``(task, step)`` lines."""
        lines = [f"{self.kind} violated: {self.message}",
                 f"schedule ({len(self.steps)} steps; replay(scenario, schedule) "
                 f"reproduces it):"]
        lines += [str(s) for s in self.steps]
        return lines


@dataclass
class ScheduleSearch:
    """What a search found."""

    name: str
    reduction: bool
    runs: int = 0  # runs executed (each from a fresh instance)
    complete_runs: int = 0  # runs that reached the end of the schedule
    schedules: int = 0  # complete schedules, exact (with or without reduction)
    states: int = 0  # distinct states cached
    steps: int = 0  # steps executed, replays included
    checks_skipped: int = 0  # states whose invariant could not be read (lock held)
    stats: dict[str, Stat] = field(default_factory=dict)
    violation: ScheduleViolation | None = None
    truncated: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No violation, and the search was not cut short."""
        return self.violation is None and not self.truncated

    def stat(self, name: str) -> Stat:
        """The aggregate of a measure (``Stat(0, 0, 0)`` if no schedule measured it)."""
        return self.stats.get(name, Stat(0, 0, 0))


@dataclass
class RunRecord:
    """One run, as :func:`replay` returns it."""

    end: str  # "complete", "deadlock" or "stopped"
    steps: list[StepInfo]
    outcomes: dict[str, Outcome]
    verdict: Verdict | None
    violation: ScheduleViolation | None

    @property
    def schedule(self) -> tuple[str, ...]:
        """The task of every step, in order."""
        return tuple(s.task for s in self.steps)


class _Environment:
    """Controlled locks installed in impl, a worker pool, the cyclic GC paused (so
    finalizers run at deterministic points) and ResourceWarnings of abandoned runs
    silenced; everything restored on exit."""

    def __enter__(self) -> _Environment:
        from impl import _sched

        self._sched = _sched
        self.pool = WorkerPool()
        self._prev = _sched.set_lock_factory(lock_factory)
        self._gc = gc.isenabled()
        gc.disable()
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.simplefilter("ignore", ResourceWarning)
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.pool.close()
        finally:
            self._sched.set_lock_factory(self._prev)
            gc.collect()
            if self._gc:
                gc.enable()
            self._warn.__exit__(et, ev, tb)


def _steps(run: Run) -> list[StepInfo]:
    tasks = run.tasks
    return [StepInfo(i + 1, tasks[s.task].name, s.k + 1, trace_step_text(s, tasks))
            for i, s in enumerate(run.trace)]


def _violation(run: Run, kind: str, message: str) -> ScheduleViolation:
    return ScheduleViolation(kind, message, tuple(_steps(run)))


class _Dfs:
    """Chooser of one search run: replays the plan, then extends the search."""

    def __init__(self, plan: list[int], memo: dict[Hashable, Summary] | None) -> None:
        self.plan = plan
        self.pos = 0
        self.memo = memo
        self.frames: list[tuple[Hashable | None, list[int]]] = []
        self.hit: Summary | None = None
        self.problem: tuple[str, str] | None = None

    def visit(self, run: Run, enabled: list[int]) -> int:
        if self.pos < len(self.plan):  # a state visited before
            if len(enabled) <= 1:
                return enabled[0] if enabled else 0
            c = self.plan[self.pos]
            self.pos += 1
            if c not in enabled:
                raise ReplayDivergence(
                    f"replaying step {run.steps + 1}: task {run.tasks[c].name!r} cannot "
                    f"run; the scenario is not deterministic")
            return c
        key: Hashable | None = None
        if len(enabled) > 1:
            self.pos += 1
            if self.memo is not None:
                try:
                    key = state_key(run)
                except Exception as e:
                    self.problem = ("error", f"fingerprint raised {type(e).__name__}: {e}")
                    return -1
                if key is not None:
                    hit = self.memo.get(key)
                    if hit is not None:
                        self.hit = hit
                        return -1
        try:
            msg = run.check()
        except Exception as e:
            self.problem = ("error", f"check_step raised {type(e).__name__}: {e}")
            return -1
        if msg is not None:
            self.problem = ("invariant", msg)
            return -1
        if len(enabled) <= 1:
            return enabled[0] if enabled else 0
        last = run.last
        order = ([last] if last in enabled else []) + [i for i in enabled if i != last]
        self.frames.append((key, order))
        return order[0]


@dataclass
class _Frame:
    key: Hashable | None
    remaining: list[int]
    chosen: int
    acc: Summary = EMPTY


def _finish(run: Run) -> tuple[Verdict | None, ScheduleViolation | None]:
    """The end-of-run verdict of a complete run (in the controller)."""
    try:
        verdict = run.instance.finish(run.outcomes())
    except Exception as e:
        return None, _violation(run, "error", f"finish raised {type(e).__name__}: {e}")
    if verdict.problems:
        return verdict, _violation(run, "assertion", "; ".join(verdict.problems))
    return verdict, None


def explore(scenario: Scenario, *, reduction: bool = True, name: str = "",
            max_runs: int | None = None, stall_timeout: float = 10.0,
            progress: Progress | None = None) -> ScheduleSearch:
    """Run ``scenario`` under every schedule (see the module doc).

    Guarantees: every complete schedule is either executed or, with ``reduction``,
    represented by a cached state whose subtree was explored; ``schedules`` counts
    them exactly; the step invariant is checked in every reachable state; the first
    violation stops the search and is returned with its schedule; no task thread is
    left running or blocked when this returns (or raises).  ``max_runs`` cuts the
    search short (``truncated``).
    """
    t0 = time.perf_counter()
    res = ScheduleSearch(name or getattr(scenario, "__name__", "scenario"), reduction)
    memo: dict[Hashable, Summary] | None = {} if reduction else None
    stack: list[_Frame] = []
    plan: list[int] = []
    root = EMPTY
    last_note = t0
    with _Environment() as env:
        while True:
            dfs = _Dfs(plan, memo)
            run = Run(scenario, dfs, env.pool, stall_timeout)
            run.execute()
            res.runs += 1
            res.steps += run.steps
            res.checks_skipped += run.checks_skipped
            if run.error is not None:
                if isinstance(run.error, ExplorerError):
                    raise run.error
                raise ExplorerError(f"the scheduler failed: {run.error!r}") from run.error
            result = EMPTY
            if dfs.problem is not None:
                res.violation = _violation(run, *dfs.problem)
            elif run.end == DEADLOCK:
                stuck = ", ".join(f"{t.name} ({describe_pending(run, t.index)})"
                                  for t in run.tasks if t.outcome is None)
                res.violation = _violation(run, "deadlock", f"no task can run: {stuck}")
            elif dfs.hit is not None:
                result = dfs.hit
            elif run.end == COMPLETE:
                verdict, res.violation = _finish(run)
                res.complete_runs += 1
                if verdict is not None:
                    result = Summary.leaf(verdict.measures)
            if res.violation is not None:
                break
            for key, order in dfs.frames:
                stack.append(_Frame(key, order[1:], order[0]))
            while stack:
                f = stack[-1]
                f.acc = f.acc + result
                if f.remaining:
                    f.chosen = f.remaining.pop(0)
                    break
                stack.pop()
                if memo is not None and f.key is not None:
                    memo[f.key] = f.acc
                result = f.acc
            if not stack:
                root = result
                break
            plan = [f.chosen for f in stack]
            if max_runs is not None and res.runs >= max_runs:
                res.truncated = True
                root = sum((f.acc for f in stack), EMPTY)
                break
            if res.runs % 2000 == 0:
                gc.collect()
            if progress is not None:
                now = time.perf_counter()
                if now - last_note > 0.5:
                    last_note = now
                    progress(f"{res.name}: {res.runs} runs, "
                             f"{len(memo) if memo is not None else 0} states")
    res.schedules = root.schedules
    res.stats = dict(root.stats)
    res.states = len(memo) if memo is not None else 0
    res.seconds = time.perf_counter() - t0
    return res


def describe_pending(run: Run, index: int) -> str:
    """What a paused task waits for (for deadlock reports)."""
    t = run.tasks[index]
    op = t.pending
    if op.kind == "acquire":
        owner = op.arg.owner
        who = getattr(owner, "name", repr(owner))
        return f"waits for {op.arg.label}, held by {who}"
    if op.kind == "join":
        return f"waits for {run.tasks[op.arg].name} to end"
    if t.is_async and run.loop_holder is not None:
        return f"waits for the event loop, held by {run.tasks[run.loop_holder].name}"
    return f"pending {op.kind}"


class _Follow:
    """Chooser that follows a given schedule step by step, checking every state."""

    def __init__(self, schedule: Sequence[str | int | tuple[str, int]]) -> None:
        self.raw = list(schedule)
        self.schedule: list[int] | None = None
        self.i = 0
        self.problem: tuple[str, str] | None = None

    def visit(self, run: Run, enabled: list[int]) -> int:
        if self.schedule is None:
            self.schedule = [x if isinstance(x, int)
                             else run.task_index(x[0] if isinstance(x, tuple) else x)
                             for x in self.raw]
        try:
            msg = run.check()
        except Exception as e:
            self.problem = ("error", f"check_step raised {type(e).__name__}: {e}")
            return -1
        if msg is not None:
            self.problem = ("invariant", msg)
            return -1
        if not enabled:
            return 0
        if self.i >= len(self.schedule):
            return -1
        c = self.schedule[self.i]
        self.i += 1
        if c not in enabled:
            raise ReplayDivergence(
                f"step {self.i}: task {run.tasks[c].name!r} cannot run here; runnable: "
                f"{', '.join(run.tasks[j].name for j in enabled)}")
        return c


def replay(scenario: Scenario, schedule: Sequence[str | int | tuple[str, int]],
           stall_timeout: float = 10.0) -> RunRecord:
    """Run ``scenario`` once, following ``schedule`` (task names, indices, or the
    ``(task, step)`` pairs of a printed schedule), checking the step invariant in
    every state; when the schedule ends before the run does, the run stops there.

    Deterministic: replaying a violation's schedule reproduces the violation.
    Raises :class:`ReplayDivergence` if a scheduled task cannot run.
    """
    with _Environment() as env:
        chooser = _Follow(schedule)
        run = Run(scenario, chooser, env.pool, stall_timeout)
        run.execute()
        if run.error is not None:
            if isinstance(run.error, ExplorerError):
                raise run.error
            raise ExplorerError(f"the scheduler failed: {run.error!r}") from run.error
        verdict: Verdict | None = None
        violation: ScheduleViolation | None = None
        if chooser.problem is not None:
            violation = _violation(run, *chooser.problem)
        elif run.end == DEADLOCK:
            stuck = ", ".join(f"{t.name} ({describe_pending(run, t.index)})"
                              for t in run.tasks if t.outcome is None)
            violation = _violation(run, "deadlock", f"no task can run: {stuck}")
        elif run.end == COMPLETE:
            verdict, violation = _finish(run)
        return RunRecord(run.end or "stopped", _steps(run), run.outcomes(), verdict,
                         violation)
