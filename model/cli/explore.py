"""The ``explore`` check: a spec at one bound as a report row, and its DOT output."""

from __future__ import annotations

from pathlib import Path

from model.checker import Exploration
from model.cli.report import CheckResult, Progress
from model.explore import explore_spec, show_state
from model.graph import GRAPH_LIMIT, graph_to_dot, state_graph, trace_to_dot
from spec.format import Spec


def explore_check(
    spec: Spec, b0: int, *, dot: Path | None = None, progress: Progress | None = None
) -> CheckResult:
    """The exploration as a report row; with ``dot``, the trace (or the graph) as DOT."""
    res = explore_spec(spec, b0, progress)
    name = f"explore: {spec.name} at B0={b0}"
    rate = res.transitions / res.seconds if res.seconds else 0.0
    figures = {
        "spec": spec.name,
        "b0": b0,
        "distinct_states": res.distinct_states,
        "transitions": res.transitions,
        "depth": res.depth,
        "deadlocks": res.deadlocks,
        "states_per_s": round(res.distinct_states / res.seconds) if res.seconds else None,
        "transitions_per_s": round(rate) if res.seconds else None,
        "violations": [
            {"invariant": v.property, "trace": [[st.label, dict(st.state._asdict())]
                                                 for st in v.trace]}
            for v in res.violations
        ],
    }
    details: list[str] = []
    for v in res.violations:
        details += v.render(show_state)
    if res.deadlocks:
        details.append(f"{res.deadlocks} deadlocked state(s) (no transition enabled); first:")
        for i, st in enumerate(res.deadlock_trace or []):
            details.append(f"  {i:>3}  {st.label}\n       {show_state(st.state)}")
    notes = [_write_dot(spec, b0, res, dot)] if dot is not None else []
    broken = ", ".join(sorted({v.property for v in res.violations})) or "no"
    summary = (f"{res.distinct_states:,} states, {res.transitions:,} transitions, "
               f"depth {res.depth}, {broken} violations, {res.deadlocks} deadlocks")
    return CheckResult(name, "explore", res.ok, res.seconds, summary, figures, details, notes)


def _write_dot(spec: Spec, b0: int, res: Exploration, path: Path) -> str:
    if res.violations:
        v = res.violations[0]
        path.write_text(trace_to_dot(v.trace, f"{spec.name}: {v.property} violated at B0={b0}"))
        return f"wrote the counterexample trace to {path}"
    if res.distinct_states <= GRAPH_LIMIT:
        path.write_text(graph_to_dot(state_graph(spec, b0), f"{spec.name} at B0={b0}"))
        return f"wrote the state graph ({res.distinct_states:,} states) to {path}"
    return (f"no violation and {res.distinct_states:,} states (> {GRAPH_LIMIT:,}): "
            f"no DOT written; use a smaller --b0 for the whole graph")
