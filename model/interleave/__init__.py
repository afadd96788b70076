"""Explore every interleaving of concurrent tasks (threads and coroutines) on real code.

A deterministic controlled scheduler runs a scenario's tasks one at a time and lets
the search choose which task runs at every scheduling point: ``point()`` /
``await point()``, ``join`` / ``await ajoin``, and every blocking acquire and every
release of a controlled lock (installed in impl through
``impl._sched.set_lock_factory``).  The search enumerates every schedule (stateless
DFS with replay, optionally reduced by state caching with exact counts), checks the
scenario's invariant after every step and its assertions at the end, and reports a
violation with a schedule that :func:`replay` reproduces.

Modules, one job each:

- :mod:`~model.interleave.program`: the contract between scenarios and the explorer;
- :mod:`~model.interleave.runtime`: one run, exactly one task at a time;
- :mod:`~model.interleave.locks`: controlled locks and the factory for impl;
- :mod:`~model.interleave.liveness`: which locals of a paused frame can still matter;
- :mod:`~model.interleave.stack`: the values a paused frame holds on its evaluation stack;
- :mod:`~model.interleave.keys`: the key of a state, for state caching;
- :mod:`~model.interleave.api`: what task code calls (``point``, ``join``...);
- :mod:`~model.interleave.search`: ``explore`` and ``replay``;
- :mod:`~model.interleave.scenarios`: the budget scenarios (paper 4.3, Loom, pool);
- :mod:`~model.interleave.cases`: the cases the ``interleavings`` check runs.
"""

from model.interleave.api import ajoin, join, point
from model.interleave.locks import ControlledLock, new_lock
from model.interleave.program import (
    BaseInstance,
    Instance,
    Outcome,
    Scenario,
    Task,
    Verdict,
    coroutine,
    thread,
)
from model.interleave.runtime import ExplorerError, LockBusy, Stalled, UsageError
from model.interleave.search import (
    ReplayDivergence,
    RunRecord,
    ScheduleSearch,
    ScheduleViolation,
    Stat,
    StepInfo,
    explore,
    replay,
)

__all__ = [
    "BaseInstance",
    "ControlledLock",
    "ExplorerError",
    "Instance",
    "LockBusy",
    "Outcome",
    "ReplayDivergence",
    "RunRecord",
    "Scenario",
    "ScheduleSearch",
    "ScheduleViolation",
    "Stalled",
    "Stat",
    "StepInfo",
    "Task",
    "UsageError",
    "Verdict",
    "ajoin",
    "coroutine",
    "explore",
    "join",
    "new_lock",
    "point",
    "replay",
    "thread",
]
