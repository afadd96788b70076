"""The ``explore`` check: a spec at one bound as a report row."""

from __future__ import annotations

from model.checker import NO_LIMITS, Limits
from model.cli.report import CheckResult, Progress
from model.cli.traces import Picture, from_steps, trace_json, trace_lines
from model.explore import explore_spec
from model.spec_model import fires
from spec.format import Spec


def explore_check(
    spec: Spec, b0: int, *, progress: Progress | None = None, limits: Limits = NO_LIMITS,
    allow_deadlock: bool | None = None, allow_dead: bool = False,
) -> CheckResult:
    """The exploration as a report row (kind ``explore``).

    ``ok`` exactly when no invariant is violated, the search was complete, and
    either no state is deadlocked or deadlocks are allowed (``allow_deadlock``,
    else the spec's own ``allow_deadlock``).  A search stopped by ``limits``
    without a violation is *incomplete*: it fails, says which limit stopped it and
    what it covered, and is never a PASS.  The first violation (or deadlock) is
    the row's picture.  A transition that fires nowhere in the explored graph is
    *dead* and fails the row (named in ``dead_transitions`` and the details), unless
    ``allow_dead``.
    """
    allowed = spec.allow_deadlock if allow_deadlock is None else allow_deadlock
    res = explore_spec(spec, b0, progress, limits=limits)
    fired = {fires(t): t.name for t in spec.transitions}
    dead = [fired[p] for p in res.unwitnessed if p in fired]
    name = f"explore: {spec.name} at B0={b0}"
    rate = res.transitions / res.seconds if res.seconds else 0.0
    figures = {
        "spec": spec.name,
        "b0": b0,
        "complete": res.complete,
        "stopped": res.stopped or None,
        "distinct_states": res.distinct_states,
        "transitions": res.transitions,
        "depth": res.depth,
        "deadlocks": res.deadlocks,
        "deadlocks_allowed": allowed,
        "dead_transitions": dead,
        "states_per_s": round(res.distinct_states / res.seconds) if res.seconds else None,
        "transitions_per_s": round(rate) if res.seconds else None,
        "violations": [{"invariant": v.property, "trace": trace_json(from_steps(v.trace))}
                       for v in res.violations],
    }
    details: list[str] = []
    picture = None
    for v in res.violations:
        details += trace_lines(v.property, from_steps(v.trace))
        if picture is None:
            picture = Picture(f"{spec.name}: {v.property} violated at B0={b0}",
                              from_steps(v.trace), (v.property,))
    dead_fail = bool(res.deadlocks) and not allowed
    if res.deadlocks and res.deadlock_trace:
        verb = "allowed by the spec" if allowed else "a failure; allow_deadlock=True or " \
            "--deadlock allow if terminal states are expected"
        details.append(f"{res.deadlocks} deadlocked state(s) (no transition enabled; {verb}); "
                       "first:")
        details += trace_lines("deadlock", from_steps(res.deadlock_trace))[1:]
        if dead_fail and picture is None:
            picture = Picture(f"{spec.name}: deadlock at B0={b0}",
                              from_steps(res.deadlock_trace))
    broken = ", ".join(sorted({v.property for v in res.violations})) or "no"
    summary = (f"{res.distinct_states:,} states, {res.transitions:,} transitions, "
               f"depth {res.depth}, {broken} violations, {res.deadlocks} deadlocks"
               + (" (allowed)" if res.deadlocks and allowed else ""))
    incomplete = not res.complete and not res.violations
    notes: list[str] = []
    if incomplete:
        summary = f"stopped by {res.stopped}: covered {summary}"
        notes.append(f"incomplete: the search stopped at its {res.stopped} after "
                     f"{res.distinct_states:,} states and {res.depth} levels; states beyond "
                     "were not checked (raise --max-states/--max-depth/--time-limit, or "
                     "lower --b0)")
    why = (f"dead transition(s) at B0={b0}: {', '.join(dead)} (no reachable state "
           "enables them)")
    if dead and allow_dead:
        notes.append(f"{why}; allowed by --allow-dead")
    elif dead:
        details.append(f"{why}; a dead transition proves nothing (--allow-dead accepts it)")
    if dead:
        summary += f", dead: {', '.join(dead)}"
    ok = not res.violations and not dead_fail and res.complete and (allow_dead or not dead)
    return CheckResult(name, "explore", ok, res.seconds, summary, figures, details, notes,
                       picture=picture, incomplete=incomplete)
