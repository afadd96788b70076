"""The ``crosshair`` check: CrossHair's verdict on each contract as one report row."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from model.cli.report import CheckResult, Progress
from proofs.crosshair_check import (
    DEFAULT_PER_CONDITION_TIMEOUT,
    ContractResult,
    check_contracts,
    describe,
)

CHECK_NAME = "crosshair: impl arithmetic contracts"


def to_check_result(results: Sequence[ContractResult], per_condition_timeout: float,
                    seconds: float) -> CheckResult:
    """The CrossHair run as one row of kind ``crosshair``, ``ok`` exactly when no
    contract has a counterexample or an error.  Figures: ``functions``, ``passed``,
    ``confirmed``, ``searched``, ``per_condition_timeout`` and ``results`` (one entry
    per function: ``function``, ``status``, ``seconds``, ``conditions``, ``paths``,
    ``counterexample``)."""
    n = len(results)
    passed = sum(1 for r in results if r.ok)
    confirmed = sum(1 for r in results if r.status == "confirmed")
    searched = sum(1 for r in results if r.status == "no counterexample found")
    failed = [r for r in results if not r.ok]
    summary = (f"{passed}/{n} contracts hold: {confirmed} confirmed over all paths, "
               f"{searched} searched {per_condition_timeout:g} s/condition without a "
               f"counterexample")
    if failed:
        summary += f"; {len(failed)} failed (see below)"
    notes: list[str] = []
    by_status = [("confirmed over all paths", "confirmed"),
                 (f"searched {per_condition_timeout:g} s/condition, no counterexample "
                  f"(not a proof)", "no counterexample found")]
    for label, status in by_status:
        names = [r.function for r in results if r.status == status]
        if names:
            notes.append(f"{label} ({len(names)}): {', '.join(names)}")
    notes.append(
        "confirmed = CrossHair explored every path: a proof within the preconditions' "
        "bounds, trusting CrossHair's model of Python and Z3; searched = no "
        "counterexample within the time limit: evidence, not a proof")
    details = [describe(r) for r in failed] + [describe(r) for r in results if r.ok]
    return CheckResult(
        name=CHECK_NAME,
        kind="crosshair",
        ok=not failed,
        seconds=seconds,
        summary=summary,
        figures={
            "functions": n,
            "passed": passed,
            "confirmed": confirmed,
            "searched": searched,
            "per_condition_timeout": per_condition_timeout,
            "results": [r.to_json() for r in results],
        },
        details=details,
        notes=notes,
    )


def check(progress: Progress | None = None,
          per_condition_timeout: float = DEFAULT_PER_CONDITION_TIMEOUT,
          contracts: Sequence[Callable[..., object]] | None = None) -> list[CheckResult]:
    """CrossHair on impl's arithmetic contracts, as ``python -m model.check`` reports it.

    ``progress`` gets one line per function. Never raises for a failing contract: a
    counterexample or an analysis error is a failing result with the details.
    """

    def on_result(i: int, total: int, r: ContractResult) -> None:
        if progress is not None:
            progress(f"crosshair [{i}/{total}] {r.function}: {r.status} ({r.seconds:.2f} s)")

    t0 = time.perf_counter()
    results = check_contracts(contracts, per_condition_timeout, on_result)
    return [to_check_result(results, per_condition_timeout, time.perf_counter() - t0)]
