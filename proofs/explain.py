"""Proof runs for people and for the CLI: counterexamples as text, CheckResults.

``format_result`` prints one obligation the way a failing test would::

    FAILED step refund_to preserves Conservation
      b0 = 1
      pre:  live_sum=0 outstanding_receipts=0 outstanding_refunds=1 ...
      refund_to(a=1)
      post: live_sum=1 outstanding_receipts=0 outstanding_refunds=1 ...
      broken: Conservation does not hold in post
        live_sum + ... + total_released == B0 is false: 2 == 1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from model.report import CheckResult, Progress
from proofs.obligations import Counterexample, ObligationResult, ProofRun
from proofs.outcomes import format_outcome


def _state(values: Mapping[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items())


def _call(name: str, params: Mapping[str, int]) -> str:
    return f"{name}({', '.join(f'{k}={v}' for k, v in params.items())})"


def format_counterexample(cex: Counterexample) -> list[str]:
    """The counterexample as indented lines: b0, pre, the step, post, what broke."""
    lines = [f"  b0 = {cex.b0}"]
    if cex.pre is None:
        lines.append(f"  init: {_state(cex.post)}")
        where = "the initial state"
    else:
        assert cex.transition is not None
        lines.append(f"  pre:  {_state(cex.pre)}")
        lines.append(f"  {_call(cex.transition, cex.params)}")
        changed = [k for k in cex.post if cex.post[k] != cex.pre.get(k)]
        lines.append(f"  post: {_state(cex.post)}")
        lines.append(f"  changed: {', '.join(changed) if changed else 'nothing'}")
        where = "post"
    lines.append(f"  broken: {cex.invariant} does not hold in {where}")
    lines.extend(f"    {b}" for b in cex.broken)
    return lines


def format_result(result: ObligationResult) -> list[str]:
    """One obligation as lines: ``proved ...`` or ``FAILED ...`` plus the evidence."""
    return format_outcome(
        result,
        lambda r: format_counterexample(r.counterexample) if r.counterexample else [],
    )


def one_line(result: ObligationResult) -> str:
    """One obligation's verdict and evidence on one line (for tables, mutant reports).

    E.g. ``step reserve preserves TypeOK: b0=0, reserve(r=1) moves live_sum 0 -> -1,
    outstanding_receipts 0 -> 1``: only the variables the step changed are shown
    (the full pre- and post-state are in :func:`format_result`).
    """
    cex = result.counterexample
    if result.ok:
        return f"{result.name}: proved"
    if cex is None:
        return f"{result.name}: {result.status}: {result.message}"
    if cex.pre is None:
        return f"{result.name}: b0={cex.b0}, init {_state(cex.post)} breaks {cex.invariant}"
    assert cex.transition is not None
    moves = ", ".join(
        f"{k} {cex.pre[k]} -> {v}" for k, v in cex.post.items() if v != cex.pre.get(k)
    )
    return (
        f"{result.name}: b0={cex.b0}, {_call(cex.transition, cex.params)} "
        f"moves {moves or 'nothing'}"
    )


def check_name(spec_name: str) -> str:
    """The CLI name of the proof check of a spec."""
    return f"proofs: {spec_name} (unbounded B0)"


def to_check_result(run: ProofRun) -> CheckResult:
    """The proof run as one CLI check (kind ``proof``).

    ``ok`` is true exactly when every obligation is proved.  Figures:
    ``obligations``, ``proved``, ``failed`` (names), ``unknown`` (names of
    obligations Z3 could not decide), ``obligation_times`` (name, kind, status,
    seconds per obligation).  ``details`` holds every failing obligation's
    counterexample or message.
    """
    n, proved = len(run.results), run.proved
    failed = run.failed
    summary = f"{proved}/{n} obligations proved, B0 symbolic"
    if failed:
        summary += f"; {len(failed)} failed (see below)"
    details: list[str] = []
    for r in failed:
        details.extend(format_result(r))
    return CheckResult(
        name=check_name(run.spec_name),
        kind="proof",
        ok=run.ok,
        seconds=run.seconds,
        summary=summary,
        figures={
            "obligations": n,
            "proved": proved,
            "failed": [r.name for r in failed],
            "unknown": [r.name for r in run.results if r.status == "unknown"],
            "obligation_times": [
                {"name": r.name, "kind": r.kind, "status": r.status,
                 "seconds": round(r.seconds, 6)}
                for r in run.results
            ],
        },
        details=details,
    )


def progress_reporter(
    progress: Progress | None, spec_name: str
) -> Callable[[int, int, ObligationResult], None] | None:
    """An ``on_result`` callback for :func:`proofs.obligations.prove` feeding ``progress``."""
    if progress is None:
        return None

    def on_result(i: int, total: int, r: ObligationResult) -> None:
        progress(f"proofs {spec_name} [{i}/{total}] {r.name}: {r.status} ({r.seconds:.3f} s)")

    return on_result
