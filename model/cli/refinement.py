"""Report rows of the refinement checks: the Z3 proof per operation, and the
edge-by-edge exploration of the per-handle model."""

from __future__ import annotations

from collections.abc import Sequence

from model.cli.proofs import progress_lines, run_row
from model.cli.report import CheckResult, Progress
from model.handles import show
from model.refinement import REFINES, explore_refinement
from proofs.obligations import DEFAULT_TIMEOUT
from proofs.refinement import RefinementRun, format_result, prove_refinement
from spec.handles import OPERATIONS, Operation, Owner
from spec.ledger import LEDGER

PROOF = "refinement: handles refine ledger (Z3)"

#: The exploration runs at least at ``MIN_B0`` and at most at ``MAX_B0`` (README gives
#: the times): below 6 some operation cases have no edge, above 7 it is slow.
MIN_B0, MAX_B0 = 6, 7


def cli_b0(requested: int) -> int:
    """The cap the exploration runs at: ``requested`` clamped to ``MIN_B0..MAX_B0``."""
    return min(max(MIN_B0, requested), MAX_B0)


def to_check_result(run: RefinementRun) -> CheckResult:
    """The run as one row of kind ``proof``; figures as for the ledger proofs:
    ``obligations``, ``proved``, ``failed``, ``unknown``, ``obligation_times``, and
    ``unclaimed``: the ledger transitions no library operation claims (each fails the
    row: the refinement would say nothing about them)."""
    row = run_row(
        PROOF, run, "amounts and other handles symbolic", format_result,
        lambda r: {"name": r.name, "status": r.status, "seconds": round(r.seconds, 6)},
    )
    row.figures["unclaimed"] = run.unclaimed
    if run.unclaimed:
        names = ", ".join(run.unclaimed)
        row.summary += f"; no library operation claims {names}"
        row.details += [f"transition {t} is claimed by no library operation: add the "
                        "operation to impl and its entry to spec/handles.py OPERATIONS"
                        for t in run.unclaimed]
    return row


def proof_check(
    operations: Sequence[Operation] = OPERATIONS, *, progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> CheckResult:
    """Prove every operation's refinement obligation and report it as one row."""
    on_result = progress_lines(progress, "refinement")
    return to_check_result(prove_refinement(operations, timeout=timeout, on_result=on_result))


def exploration_name(b0: int, owner: Owner = "session") -> str:
    """``refinement: handles explored at B0=6`` (a session) or ``... pool ...``."""
    return f"refinement: {'handles' if owner == 'session' else 'pool'} explored at B0={b0}"


def exploration_check(
    b0: int, operations: Sequence[Operation] = OPERATIONS, *, progress: Progress | None = None,
    owner: Owner = "session",
) -> CheckResult:
    """The exploration of a session's handles (or of a pool) as a report row (kind
    ``explore``).

    Figures: ``b0``, ``distinct_states``, ``transitions`` (edges), ``depth``,
    ``terminal_states``, ``per_transition`` (edges per claimed spec transition or
    ``stutter``), ``per_operation``, ``ledger_states_covered`` (distinct abstractions
    of the visited states: ``C(b0 + 5, 5)`` when the values reach every ledger state),
    ``violations`` (property names).
    """
    run = explore_refinement(b0, operations, progress=progress, owner=owner)
    res = run.exploration
    per_transition = {t.name: run.edges.per_transition.get(t.name, 0)
                      for t in LEDGER.transitions}
    per_transition["stutter"] = run.edges.per_transition.get("stutter", 0)
    details: list[str] = []
    for v in res.violations:
        details += v.render(show)
        if v.property == REFINES and run.edges.failures:
            details += run.edges.failures[0].reason
    unused = [t for t, n in per_transition.items() if n == 0]
    notes = ([f"no operation on a {owner} claims {', '.join(unused)}"]
             if unused and run.ok else [])
    if res.unwitnessed:
        details.append(f"never witnessed at B0={b0}: {', '.join(res.unwitnessed)} (an "
                       "operation claims the transition, but no explored edge takes it)")
    broken = ", ".join(sorted({v.property for v in res.violations})) or "no"
    summary = (f"{res.distinct_states:,} states, {res.transitions:,} edges, every edge a "
               f"ledger step or stutter; {broken} violations")
    if not run.ok:
        summary = (f"{res.distinct_states:,} states, {res.transitions:,} edges; "
                   f"{broken} violated" + (", a claimed transition never taken"
                                           if res.unwitnessed else "") + " (see below)")
    return CheckResult(
        exploration_name(b0, owner), "explore", run.ok, res.seconds,
        summary,
        {"b0": b0, "distinct_states": res.distinct_states, "transitions": res.transitions,
         "depth": res.depth, "terminal_states": res.deadlocks,
         "per_transition": per_transition, "per_operation": dict(run.edges.per_operation),
         "ledger_states_covered": len(run.edges.ledger_states),
         "unwitnessed": res.unwitnessed,
         "violations": [v.property for v in res.violations]},
        details, notes,
    )
