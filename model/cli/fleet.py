"""The ``fleet`` check: the shared-pool protocol model, explored, and its seeded bugs.

Rows of kind ``explore`` (the correct store, 2 and 3 clients: every reachable state,
every property) and ``mutant`` (each seeded bug of :mod:`model.fleet_protocol` must
violate a property; the row passes when it does).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from model.checker import explore
from model.cli.report import CheckResult, Progress
from model.fleet_protocol import BUGS, FleetProtocol

CONFIGS: tuple[tuple[str, Callable[[str | None], FleetProtocol]], ...] = (
    ("fleet protocol: 2 clients, 2 copies in flight, clock 0..2",
     lambda bug: FleetProtocol((1, 1), 1, skews=(0, 1) if bug else (0, 0), copies=2,
                               max_clock=2, bug=bug)),
    ("fleet protocol: 3 clients, 1 copy in flight, clock 0..1",
     lambda bug: FleetProtocol((1, 1, 1), 1, copies=1, max_clock=1, bug=bug)),
)


def fleet_checks(progress: Progress | None = None) -> list[CheckResult]:
    """One row per correct configuration, then one per seeded bug (on 2 clients)."""
    rows: list[CheckResult] = []
    for name, build in CONFIGS:
        t0 = time.perf_counter()
        model = build(None)
        res = explore(model, check_deadlock=False, progress=progress)
        props = [p for p, _ in model.properties()]
        details = [line for v in res.violations for line in v.render(str)]
        rows.append(CheckResult(
            name, "explore", res.ok, time.perf_counter() - t0,
            summary=f"{res.distinct_states:,} states, {len(props)} properties",
            figures={"distinct_states": res.distinct_states, "transitions": res.transitions,
                     "depth": res.depth, "properties": props,
                     "violations": [v.property for v in res.violations]},
            details=details))
    for bug in BUGS:
        t0 = time.perf_counter()
        res = explore(CONFIGS[0][1](bug), check_deadlock=False, progress=progress)
        caught = [v.property for v in res.violations]
        shortest = min((len(v.trace) - 1 for v in res.violations), default=0)
        rows.append(CheckResult(
            f"fleet protocol seeded bug: {bug}", "mutant", bool(caught),
            time.perf_counter() - t0,
            summary=f"caught by {', '.join(caught)} ({shortest} steps)" if caught
            else "survived",
            figures={"bug": bug, "caught_by": caught, "trace_steps": shortest},
            details=[line for v in res.violations[:1] for line in v.render(str)]))
    return rows
