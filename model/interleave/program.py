"""What the explorer runs: tasks, instances, outcomes and verdicts.

This module is the whole contract between a *scenario* and the explorer.  A scenario
is a zero-argument callable that builds a fresh :class:`Instance` (its shared state
and its tasks) for every run.  The explorer knows nothing about what the tasks do; the
scenario knows nothing about how schedules are searched.

An instance offers:

* ``tasks``: the concurrent tasks, OS threads or asyncio coroutines (:class:`Task`);
* ``check_step()``: an invariant checked after every step (``None`` = holds);
* ``fingerprint()``: a hashable summary of everything in the instance that can still
  influence the run and that the explorer cannot see for itself, or ``None`` to switch
  state caching off for this state.  The explorer already keys every task's stack,
  instruction, step count, pending operation and the simple values (ints, strings,
  bools, floats, None, tuples of those) of its live locals; the fingerprint must add
  the shared state (ledgers, counters) and what tasks hold inside objects (the amount
  of a budget handle kept in a local, for instance).  An incomplete fingerprint makes
  state caching unsound, so scenario tests compare it with brute force;
* ``finish(outcomes)``: the end-of-run assertions and the measures to aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["thread", "async"]


@dataclass(frozen=True)
class Task:
    """One concurrent task of an instance.

    ``fn`` takes no argument. For ``kind="thread"`` it is run on its own OS thread;
    for ``kind="async"`` it must return a coroutine (an ``async def`` function), which
    may await only the explorer's awaitables (``point``, ``join``) and coroutines that
    do the same.
    """

    name: str
    fn: Callable[[], Any]
    kind: Kind = "thread"


def thread(name: str, fn: Callable[[], Any]) -> Task:
    """A task run on an OS thread."""
    return Task(name, fn, "thread")


def coroutine(name: str, fn: Callable[[], Any]) -> Task:
    """A task run as an asyncio-style coroutine (``fn`` is an ``async def`` function)."""
    return Task(name, fn, "async")


@dataclass(frozen=True)
class Outcome:
    """How a task ended: its return value, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """The task returned normally."""
        return self.error is None

    def __repr__(self) -> str:
        if self.error is not None:
            return f"raised {type(self.error).__name__}: {self.error}"
        return f"returned {self.value!r}"


@dataclass
class Verdict:
    """The end of one run: failed assertions (``problems``) and ``measures``.

    Measures are integers (booleans count as 0/1); the explorer aggregates each over
    all schedules as its minimum, maximum and number of schedules where it is non-zero.
    """

    problems: list[str] = field(default_factory=list)
    measures: dict[str, int] = field(default_factory=dict)


class Instance(Protocol):
    """One freshly built copy of a scenario's state and tasks (see the module doc)."""

    @property
    def tasks(self) -> Sequence[Task]: ...

    def check_step(self) -> str | None: ...

    def fingerprint(self) -> Hashable | None: ...

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict: ...


Scenario = Callable[[], Instance]
"""A factory of fresh instances: called once per run, under the explorer's locks."""


class BaseInstance:
    """Convenience base: no step invariant, no state caching, nothing to assert."""

    _tasks: list[Task]

    def __init__(self) -> None:
        self._tasks = []

    @property
    def tasks(self) -> Sequence[Task]:
        """The tasks added with :meth:`add`."""
        return self._tasks

    def add(self, task: Task) -> None:
        """Add a task (before the run starts)."""
        self._tasks.append(task)

    def check_step(self) -> str | None:
        """No invariant: always holds."""
        return None

    def fingerprint(self) -> Hashable | None:
        """``None``: this instance opts out of state caching."""
        return None

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        """Nothing asserted, nothing measured."""
        return Verdict()
