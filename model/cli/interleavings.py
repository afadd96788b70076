"""The ``interleavings`` check: one report row per case of :mod:`model.interleave.cases`.

Each row has kind ``"interleaving"`` and the figures of
:func:`model.interleave.cases.figures`, plus ``ok`` (the case's expectation held).
"""

from __future__ import annotations

import time
from typing import Any

from model.cli.report import CheckResult, Progress
from model.interleave.cases import Case, cases, figures
from model.interleave.search import ScheduleSearch, explore


def _summary(fig: dict[str, Any]) -> str:
    parts = [f"{fig['runs']} run / {fig['schedules']:,} sched"]
    if "overshooting_schedules" in fig:
        parts.append(f"overshoot {fig['overshooting_schedules']:,}")
    lo, hi = fig["min_spend"], fig["max_spend"]
    parts.append(f"spend {lo}" if lo == hi else f"spend {lo}..{hi}")
    if "min_admitted" in fig:
        lo, hi = fig["min_admitted"], fig["max_admitted"]
        parts.append(f"admit {lo}" if lo == hi else f"admit {lo}..{hi}")
    if "loom_interleavings" in fig:
        parts.append(f"Loom {fig['loom_interleavings']:,}")
    return ", ".join(parts)


def run_case(case: Case, *, reduction: bool = True, progress: Progress | None = None
             ) -> tuple[ScheduleSearch, CheckResult]:
    """Explore one case and turn it into a check (an exception is a failed check)."""
    t0 = time.perf_counter()
    try:
        ex = explore(case.build, reduction=reduction, name=case.name, progress=progress)
    except Exception as e:
        failed = CheckResult(case.name, "interleaving", False, time.perf_counter() - t0,
                             summary=f"error: {type(e).__name__}",
                             figures={"error": f"{type(e).__name__}: {e}"},
                             details=[f"{type(e).__name__}: {e}"])
        return ScheduleSearch(case.name, reduction), failed
    unmet = case.expect(ex) if ex.violation is None else []
    fig = figures(case, ex)
    ok = ex.ok and not unmet
    fig["ok"] = ok
    details = unmet + (ex.violation.render() if ex.violation is not None else [])
    summary = _summary(fig) if ex.violation is None else f"{ex.violation.kind} violated"
    return ex, CheckResult(case.name, "interleaving", ok, ex.seconds, summary=summary,
                           figures=fig, details=details)


def interleaving_checks(progress: Progress | None = None) -> list[CheckResult]:
    """Every case of :func:`model.interleave.cases.cases`, explored with state caching."""
    return [run_case(c, progress=progress)[1] for c in cases()]
