"""The ``mutants`` self-check: every buggy copy of the ledger must be caught twice.

A mutant is killed by Z3 when at least one proof obligation fails with a
counterexample, and by the model checker when exploration at ``b0`` reaches a
state that breaks an invariant (or a deadlock).  A mutant that survives either
checker fails this check: it would mean that checker cannot see that bug.
"""

from __future__ import annotations

import time

from model.explore import _show, explore_spec
from model.report import CheckResult, Progress
from spec.mutants import MUTANTS


def mutant_checks(b0: int, progress: Progress | None = None) -> list[CheckResult]:
    """One check per mutant in ``spec.MUTANTS``: ok when both checkers kill it."""
    import proofs

    results = []
    for m in MUTANTS:
        if progress is not None:
            progress(f"mutant {m.name}")
        t0 = time.perf_counter()
        z3_killed, z3_how = proofs.kill(m)
        res = explore_spec(m, b0)
        mc_killed = not res.ok
        if res.violations:
            v = res.violations[0]
            mc_how = f"{v.property} after {len(v.trace) - 1} step(s)"
            trace = v.render(_show)
        elif res.deadlocks:
            mc_how, trace = f"{res.deadlocks} deadlocks", []
        else:
            mc_how, trace = f"survived: {res.distinct_states:,} states, no violation", []
        z3_word = z3_how.split(":")[0] if z3_killed else f"survived ({z3_how})"
        summary = f"Z3: {z3_word} | BFS: {mc_how}"
        details = [f"{m.doc}", "Z3 counterexample:", z3_how, "model checker trace:", *trace]
        results.append(CheckResult(
            f"mutant {m.name}", "mutant", z3_killed and mc_killed, time.perf_counter() - t0,
            summary,
            {"mutant": m.name, "b0": b0, "killed_by_z3": z3_killed, "z3": z3_how,
             "killed_by_model_checker": mc_killed, "model_checker": mc_how,
             "distinct_states": res.distinct_states, "transitions": res.transitions},
            details,
        ))
    return results


def handle_mutant_checks(b0: int = 4, progress: Progress | None = None) -> list[CheckResult]:
    """One check per seeded bug of the per-handle model: ok when both refinement
    checks (the Z3 proof per operation and the edge-by-edge exploration at ``b0``)
    report it with a counterexample."""
    from model.handle_mutants import HANDLE_MUTANTS
    from model.refinement import explore_refinement
    from proofs.refinement import one_line, prove_refinement

    results = []
    for m in HANDLE_MUTANTS:
        if progress is not None:
            progress(f"handle mutant {m.name}")
        t0 = time.perf_counter()
        run = prove_refinement(m.operations)
        z3_killed = not run.ok
        z3_how = one_line(run.failed[0]) if run.failed else f"all {len(run.results)} proved"
        exp = explore_refinement(b0, m.operations)
        res = exp.exploration
        mc_killed = bool(res.violations)
        if res.violations:
            v = res.violations[0]
            mc_how = f"{v.property} after {len(v.trace) - 1} step(s)"
            trace = v.render(str)
        else:
            mc_how, trace = f"survived: {res.distinct_states:,} states, no violation", []
        z3_word = z3_how.split(":")[0] if z3_killed else f"survived ({z3_how})"
        results.append(CheckResult(
            f"handle mutant {m.name}", "mutant", z3_killed and mc_killed,
            time.perf_counter() - t0, f"Z3: {z3_word} | BFS: {mc_how}",
            {"mutant": m.name, "operation": m.operation, "b0": b0,
             "killed_by_z3": z3_killed, "z3": z3_how,
             "killed_by_model_checker": mc_killed, "model_checker": mc_how},
            [m.doc, "Z3 counterexample:", z3_how, "model checker trace:", *trace],
        ))
    return results
