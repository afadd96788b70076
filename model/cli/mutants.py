"""The ``mutants`` self-check: every seeded bug must be caught by each checker meant to.

A mutant counts as *killed* by a checker only on evidence of a violation:

* Z3 (ledger mutants): some obligation is ``violated`` (a counterexample, or a
  transition proved unable to fire); Z3 (per-handle mutants): some refinement
  obligation is ``violated``.  ``unknown`` (Z3 ran out of time) and ``error`` are not
  evidence: the mutant is reported as a survivor, with the reason.
* the model checker: the exploration reaches a state that breaks an invariant, an
  edge that breaks the refinement, or (ledger mutants) a deadlock; or, having
  explored everything, some sometimes property (e.g. "``reserve`` fires") is never
  witnessed.

A mutant that survives either checker fails this check: that checker cannot see it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from model.checker import Exploration
from model.cli.report import CheckResult, Progress
from model.explore import explore_spec, show_state
from model.refinement import explore_refinement
from proofs.explain import one_line
from proofs.obligations import DEFAULT_TIMEOUT, prove
from proofs.outcomes import Run
from proofs.refinement import one_line as refinement_line
from proofs.refinement import prove_refinement
from spec.format import Spec
from spec.handle_mutants import HANDLE_MUTANTS
from spec.mutants import MUTANTS


def z3_verdict(run: Run[Any], line: Callable[[Any], str]) -> tuple[bool, str]:
    """Whether ``run`` holds a violation, and the evidence on one line.

    Killed means some obligation is ``violated`` (one with a counterexample is
    preferred in the description).  Otherwise ``(False, reason)``: every obligation
    proved, or the failures are only ``unknown``/``error``, which name their reason.
    """
    violated = [r for r in run.results if r.status == "violated"]
    with_cex = [r for r in violated if getattr(r, "counterexample", None) is not None]
    if violated:
        return True, line((with_cex or violated)[0])
    if run.ok:
        return False, f"all {len(run.results)} obligations proved"
    return False, "; ".join(line(r) for r in run.failed)


def kill(spec: Spec, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, str]:
    """Whether the ledger proofs refute ``spec``, and the evidence on one line."""
    return z3_verdict(prove(spec, timeout=timeout), one_line)


def bfs_verdict(res: Exploration, show_fn: Callable[[Any], str],
                deadlocks: bool) -> tuple[bool, str, list[str]]:
    """Whether the exploration found a violation (or, with ``deadlocks``, a deadlock):
    ``(killed, one line, trace lines)``."""
    if res.violations:
        v = res.violations[0]
        n = len(v.trace) - 1
        return True, f"{v.property} broken after {n} step{'' if n == 1 else 's'}", \
            v.render(show_fn)
    if deadlocks and res.deadlocks:
        return True, f"{res.deadlocks} deadlocked state(s)", []
    if res.unwitnessed:
        return True, f"never witnessed: {', '.join(res.unwitnessed)}", []
    return False, f"{res.distinct_states:,} states, no violation", []


def _row(name: str, doc: str, seconds: float, z3: tuple[bool, str],
         mc: tuple[bool, str, list[str]], figures: dict[str, Any]) -> CheckResult:
    (z3_killed, z3_how), (mc_killed, mc_how, trace) = z3, mc
    z3_word = (f"killed by Z3 (obligation {z3_how.split(':')[0]} failed)" if z3_killed
               else f"survived Z3 ({z3_how})")
    mc_word = f"killed by BFS ({mc_how})" if mc_killed else f"survived BFS ({mc_how})"
    return CheckResult(
        name, "mutant", z3_killed and mc_killed, seconds, f"{z3_word} | {mc_word}",
        {**figures, "killed_by_z3": z3_killed, "z3": z3_how,
         "killed_by_model_checker": mc_killed, "model_checker": mc_how},
        [doc, "Z3 counterexample:", z3_how, "model checker trace:", *trace],
    )


def mutant_checks(b0: int, progress: Progress | None = None) -> list[CheckResult]:
    """One row per ledger mutant: ok when both Z3 and the model checker kill it."""
    results = []
    for m in MUTANTS:
        if progress is not None:
            progress(f"mutant {m.name}")
        t0 = time.perf_counter()
        z3 = kill(m)
        res = explore_spec(m, b0)
        row = _row(f"mutant {m.name}", m.doc, 0.0, z3, bfs_verdict(res, show_state, True),
                   {"mutant": m.name, "b0": b0})
        row.figures.update(distinct_states=res.distinct_states, transitions=res.transitions)
        row.seconds = time.perf_counter() - t0
        results.append(row)
    return results


def handle_mutant_checks(b0: int = 4, progress: Progress | None = None) -> list[CheckResult]:
    """One row per seeded bug of the per-handle spec: ok when both refinement checks
    (the Z3 proof per operation and the edge-by-edge exploration at ``b0``) report a
    violation."""
    results = []
    for m in HANDLE_MUTANTS:
        if progress is not None:
            progress(f"handle mutant {m.name}")
        t0 = time.perf_counter()
        z3 = z3_verdict(prove_refinement(m.operations), refinement_line)
        res = explore_refinement(b0, m.operations).exploration
        results.append(_row(
            f"handle mutant {m.name}", m.doc, time.perf_counter() - t0, z3,
            bfs_verdict(res, str, False),
            {"mutant": m.name, "operation": m.operation, "b0": b0}))
    return results
