"""Report rows of the Z3 proofs: the ledger (or a user's spec) and Proposition 1.

Each adapter runs a checker of :mod:`proofs`, which returns its own result types, and
turns the outcome into one :class:`~model.cli.report.CheckResult` of kind ``proof``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from model.cli.induction import explain
from model.cli.report import CheckResult, Progress
from proofs import proposition1 as p1
from proofs import reconcile_bound
from proofs.chc import Safety
from proofs.explain import format_result
from proofs.obligations import DEFAULT_TIMEOUT, ObligationResult, ProofRun, prove
from proofs.outcomes import Result, Run
from spec.format import Spec

PROPOSITION1 = "proofs: Proposition 1 (impl pricing)"
RECONCILE_BOUND = "proofs: reconciliation overshoot bound (A7)"


def check_name(spec_name: str) -> str:
    """The report name of the proof check of a spec."""
    return f"proofs: {spec_name} (unbounded B0)"


def run_row(
    name: str, run: Run[Any], what: str, lines: Callable[[Any], list[str]],
    times: Callable[[Any], dict[str, Any]],
) -> CheckResult:
    """A proof run as one row of kind ``proof``: ``ok`` exactly when every obligation
    is proved.  Figures: ``obligations``, ``proved``, ``failed`` (names), ``unknown``
    (names of obligations Z3 could not decide), ``obligation_times`` (``times`` of
    each result).  ``details`` holds every failing obligation's ``lines``."""
    n = len(run.results)
    summary = f"{run.proved}/{n} obligations proved, {what}"
    if run.failed:
        summary += f"; {len(run.failed)} failed (see below)"
    return CheckResult(
        name, "proof", run.ok, run.seconds, summary,
        {"obligations": n, "proved": run.proved,
         "failed": [r.name for r in run.failed],
         "unknown": [r.name for r in run.results if r.status == "unknown"],
         "obligation_times": [times(r) for r in run.results]},
        [line for r in run.failed for line in lines(r)],
    )


def to_check_result(run: ProofRun) -> CheckResult:
    """The proof run of a spec as one row (``obligation_times`` give name, kind,
    status and seconds per obligation)."""
    return run_row(
        check_name(run.spec_name), run, "B0 symbolic", format_result,
        lambda r: {"name": r.name, "kind": r.kind, "status": r.status,
                   "seconds": round(r.seconds, 6)},
    )


def progress_lines(
    progress: Progress | None, label: str, verdict: Callable[[Any], str] = lambda r: r.status,
) -> Callable[[int, int, Result], None] | None:
    """An ``on_result(i, total, result)`` callback of a proof run feeding ``progress``
    one line per obligation."""
    if progress is None:
        return None

    def on_result(i: int, total: int, r: Result) -> None:
        progress(f"{label} [{i}/{total}] {r.name}: {verdict(r)} ({r.seconds:.3f} s)")

    return on_result


def spec_check(spec: Spec, progress: Progress | None = None, *,
               timeout: float = DEFAULT_TIMEOUT, safety: Safety | None = None) -> CheckResult:
    """Prove every obligation of ``spec`` and report it as one row, each failed step
    classified (:func:`model.cli.induction.explain`, given Spacer's ``safety``).

    Never raises for a faulty spec: a spec that cannot be turned into Z3 terms
    yields failing ``error`` obligations with the reason in ``details``.
    """
    on_result: Callable[[int, int, ObligationResult], None] | None = progress_lines(
        progress, f"proofs {spec.name}")
    run = prove(spec, timeout=timeout, on_result=on_result)
    return explain(to_check_result(run), run, spec, safety)


def proposition1_row(results: Sequence[p1.Result], seconds: float) -> CheckResult:
    """Proposition 1's obligations as one row (see :func:`witness_row`)."""
    theorems = sum(1 for r in results if r.kind == "theorem")
    return witness_row(PROPOSITION1, results, seconds,
                       f"{theorems} theorems over all token counts and rates")


def witness_row(name: str, results: Sequence[p1.Result], seconds: float,
                theorems: str) -> CheckResult:
    """Theorems, non-vacuity witnesses and refuted variants as one row: ``ok`` when
    every obligation came out as required (theorems proved, premises satisfiable,
    variants refuted); ``theorems`` says what was proved, in the summary.

    Figures: ``obligations``, ``proved``, ``failed`` (names) and ``results`` (name,
    kind, status, seconds, witness per obligation).  Details show what failed, then
    the witnesses and the refuted variants' counterexamples (printed with ``-v``).
    """
    n = len(results)
    proved = sum(1 for r in results if r.ok)
    failed = [r for r in results if not r.ok]
    refuted = sum(1 for r in results if r.kind == "refutes" and r.ok)
    summary = (f"{proved}/{n} obligations: {theorems}, premises satisfiable, "
               f"{refuted} broken variants refuted")
    if failed:
        summary += f"; {len(failed)} failed (see below)"
    details = [line for r in failed for line in p1.format_result(r)]
    details += [line for r in results if r.ok and r.kind != "theorem"
                for line in p1.format_result(r)]
    return CheckResult(
        name=name, kind="proof", ok=not failed, seconds=seconds, summary=summary,
        figures={
            "obligations": n,
            "proved": proved,
            "failed": [r.name for r in failed],
            "results": [
                {"name": r.name, "kind": r.kind, "status": r.status,
                 "seconds": round(r.seconds, 6), "witness": r.witness}
                for r in results
            ],
        },
        details=details,
    )


def proposition1_check(progress: Progress | None = None,
                       timeout: float = p1.DEFAULT_TIMEOUT) -> CheckResult:
    """Every obligation of :mod:`proofs.proposition1`, as one row."""
    t0 = time.perf_counter()
    results = p1.prove_all(timeout, progress_lines(progress, "proposition 1", p1.verdict))
    return proposition1_row(results, time.perf_counter() - t0)


def reconcile_bound_check(progress: Progress | None = None,
                          timeout: float = reconcile_bound.DEFAULT_TIMEOUT) -> CheckResult:
    """Every obligation of :mod:`proofs.reconcile_bound`, as one row."""
    t0 = time.perf_counter()
    results = reconcile_bound.prove_all(
        timeout, progress_lines(progress, "reconciliation bound", p1.verdict))
    theorems = sum(1 for r in results if r.kind == "theorem")
    return witness_row(RECONCILE_BOUND, results, time.perf_counter() - t0,
                       f"{theorems} theorems: overshoot <= (n-1)*R*(k-1)/k for all values")
