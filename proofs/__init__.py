"""Unbounded proofs of a spec's invariants with Z3 (``B0`` symbolic).

Entry points:

``check_spec(spec, progress=None) -> list[CheckResult]``
    what ``python -m model.check`` runs: one ``CheckResult`` of kind ``proof``
    named ``proofs: <spec> (unbounded B0)``; ``ok`` exactly when every
    obligation (init, step, nonvacuous) is proved.  ``progress`` gets one line
    per obligation.
``kill(spec) -> tuple[bool, str]``
    the mutant self-check: ``(True, description)`` when at least one obligation
    is *violated* (a counterexample, or a transition proved unable to fire);
    the description names the first such obligation with its counterexample
    on one line.  ``(False, reason)`` when the mutant survives (every
    obligation proved, or the failures are only ``unknown``/``error``).
``prove(spec, timeout=10.0, minimise=True, on_result=None) -> ProofRun``
    the obligations themselves, for callers that want the structured results.
"""

from __future__ import annotations

from model.report import CheckResult, Progress
from proofs.explain import (
    check_name,
    format_counterexample,
    format_result,
    one_line,
    progress_reporter,
    to_check_result,
)
from proofs.obligations import (
    DEFAULT_TIMEOUT,
    Counterexample,
    ObligationResult,
    ProofRun,
    count_obligations,
    prove,
)
from spec.format import Spec


def check_spec(
    spec: Spec, progress: Progress | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[CheckResult]:
    """Prove every obligation of ``spec`` and report it as CLI checks (one, today).

    Never raises for a faulty spec: a spec that cannot be turned into Z3 terms
    yields failing ``error`` obligations with the reason in ``details``.
    """
    run = prove(spec, timeout=timeout, on_result=progress_reporter(progress, spec.name))
    return [to_check_result(run)]


def kill(spec: Spec, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, str]:
    """Whether the proofs refute ``spec``, and the evidence on one line.

    Killed means some obligation is ``violated``: an init/step counterexample
    (preferred in the description) or a transition proved never to fire.
    ``unknown`` and ``error`` do not count as kills: they are not evidence of a bug.
    """
    run = prove(spec, timeout=timeout)
    violated = [r for r in run.results if r.status == "violated"]
    with_cex = [r for r in violated if r.counterexample is not None]
    if with_cex or violated:
        return True, one_line((with_cex or violated)[0])
    if run.ok:
        return False, f"all {len(run.results)} obligations proved"
    return False, "; ".join(one_line(r) for r in run.failed)


__all__ = [
    "DEFAULT_TIMEOUT",
    "Counterexample",
    "ObligationResult",
    "ProofRun",
    "check_name",
    "check_spec",
    "count_obligations",
    "format_counterexample",
    "format_result",
    "kill",
    "one_line",
    "progress_reporter",
    "prove",
    "to_check_result",
]
