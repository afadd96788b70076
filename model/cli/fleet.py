"""The ``fleet`` check: the shared-pool protocol model, explored, and its seeded bugs.

Rows of kind ``explore`` (the correct store: 2 and 3 clients; 2 clients and a
reconciler: every reachable state, every property, every sometimes property
witnessed) and ``mutant`` (each seeded bug of :mod:`model.fleet_protocol`, on the
configuration that lists it, must violate a property; the row passes when it does).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from model.checker import explore
from model.cli.report import CheckResult, Progress
from model.fleet_protocol import FleetProtocol

# (name, model with the seeded bug or none, the seeded bugs run on this configuration)
Config = tuple[str, Callable[[str | None], FleetProtocol], tuple[str, ...]]

CONFIGS: tuple[Config, ...] = (
    ("fleet protocol: 2 clients, 2 copies in flight, clock 0..2",
     lambda bug: FleetProtocol((1, 1), 1, skews=(0, 1) if bug else (0, 0), copies=2,
                               max_clock=2, bug=bug),
     ("no_idempotency", "client_clock")),
    ("fleet protocol: 3 clients, 1 copy in flight, clock 0..1",
     lambda bug: FleetProtocol((1, 1, 1), 1, copies=1, max_clock=1, bug=bug), ()),
    # the reconciler's own configuration: clients of 1 and 2 so that a reserve can come
    # after an overdraft and charges can land between a bill and its duplicate; the
    # clock stays at 0 (expiry is the other configurations' subject)
    ("fleet protocol: 2 clients, a reconciler (drift 1), 1 copy in flight, clock 0",
     lambda bug: FleetProtocol((1, 2), 2, drift=1, copies=1, max_clock=0, bug=bug),
     ("reconcile_as_delta", "reserve_when_closed")),
)


def fleet_checks(progress: Progress | None = None) -> list[CheckResult]:
    """One row per correct configuration, then one per seeded bug (on its configuration)."""
    rows: list[CheckResult] = []
    for name, build, _ in CONFIGS:
        t0 = time.perf_counter()
        model = build(None)
        res = explore(model, check_deadlock=False, progress=progress)
        props = [p for p, _ in model.properties()]
        witnessed = len(model.sometimes()) - len(res.unwitnessed)
        details = [line for v in res.violations for line in v.render(str)]
        details += [f"never witnessed: {w}" for w in res.unwitnessed]
        rows.append(CheckResult(
            name, "explore", res.ok, time.perf_counter() - t0,
            summary=f"{res.distinct_states:,} states, {len(props)} properties"
            + (f", {witnessed}/{len(model.sometimes())} sometimes" if model.sometimes()
               else ""),
            figures={"distinct_states": res.distinct_states, "transitions": res.transitions,
                     "depth": res.depth, "properties": props,
                     "violations": [v.property for v in res.violations],
                     "unwitnessed": res.unwitnessed},
            details=details))
    for _, build, bugs in CONFIGS:
        for bug in bugs:
            t0 = time.perf_counter()
            res = explore(build(bug), check_deadlock=False, progress=progress)
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
