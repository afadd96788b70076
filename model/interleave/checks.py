"""The ``interleavings`` suite: every scenario under every schedule, one check each.

One :class:`~model.report.CheckResult` per (scenario, condition, cap), kind
``"interleaving"``, with the figures ``scenario``, ``condition`` and ``cap`` (where
they apply), ``schedules`` (runs the explorer executed, with state caching),
``schedules_unreduced`` (every complete schedule, exact), ``states``,
``overshooting_schedules`` (among all schedules), ``min_spend``/``max_spend``
(total charged), ``min_admitted``/``max_admitted`` (children whose call went ahead)
and ``ok`` (the scenario's expectation held; for condition A: the race was found
exactly where the arithmetic says, overshoot iff ``3 x 23 > cap``).  Reference
figures ride along: Table VI of the paper (``paper_*``) and Loom's interleaving
counts (``loom_interleavings``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from model.interleave import scenarios as sc
from model.interleave.program import Scenario
from model.interleave.search import Exploration, explore
from model.report import CheckResult, Progress

TABLE_VI: dict[tuple[str, int], tuple[str, int, float]] = {
    ("A", 60): ("30/30", 69, 3.0),
    ("B", 60): ("0/30", 23, 1.0),
    ("C", 60): ("0/30", 0, 0.0),
    ("D", 100): ("0/30", 69, 3.0),
    ("E", 60): ("0/30", 1, 1.0),  # the paper's E used a smaller prompt (1 uc per call)
}
"""Paper Table VI: (overshoots in 30 trials, mean spend uc, children admitted per trial)."""

SHARED_ADMITTED = {50: (1, 1), 60: (1, 2), 69: (2, 2), 100: (3, 3)}
"""B and E (one shared budget, reserve 31 then refund 8): the second child fits only
if the first refund lands before it checks, and only at cap 60."""


def racy_admitted(cap: int) -> tuple[int, int]:
    """Condition A: fewest admitted when every record lands before the next check,
    most when every check comes before any record."""
    spent = admitted = 0
    while admitted < sc.CHILDREN and spent + sc.ESTIMATE <= cap:
        spent += sc.ACTUAL
        admitted += 1
    return admitted, sc.CHILDREN if sc.ESTIMATE <= cap else 0


def split_admitted(cap: int) -> tuple[int, int]:
    """Conditions C and D: each child owns ``cap // 3``; all or none fit."""
    n = sc.CHILDREN if cap // sc.CHILDREN >= sc.ESTIMATE else 0
    return n, n


def expected_admitted(condition: str, cap: int) -> tuple[int, int]:
    """The (min, max) children admitted over all schedules, from the arithmetic."""
    if condition == "A":
        return racy_admitted(cap)
    if condition in ("C", "D"):
        return split_admitted(cap)
    return SHARED_ADMITTED[cap]


@dataclass(frozen=True)
class Case:
    """One check: a scenario, its labels, and what its exploration must show."""

    scenario: str
    condition: str | None
    cap: int | None
    build: Scenario
    expect: Callable[[Exploration], list[str]]
    reference: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The check's name in the table."""
        parts = [self.scenario]
        if self.condition is not None:
            parts.append(self.condition)
        if self.cap is not None:
            parts.append(f"cap={self.cap}")
        return "interleavings: " + " ".join(parts)


def _forgetful_expect(condition: str, cap: int) -> Callable[[Exploration], list[str]]:
    def expect(ex: Exploration) -> list[str]:
        unmet = []
        over = ex.stat("overshoot").nonzero
        if condition == "A":
            races = sc.CHILDREN * sc.ACTUAL > cap
            if (over > 0) != races:
                unmet.append(f"racy counter: overshoot found in {over} schedules, expected "
                             f"{'some' if races else 'none'} (3 x {sc.ACTUAL} "
                             f"{'>' if races else '<='} {cap})")
        elif over:
            unmet.append(f"{over} schedules overshoot the cap")
        adm = ex.stat("admitted")
        want = expected_admitted(condition, cap)
        if (adm.lo, adm.hi) != want:
            unmet.append(f"admitted {adm.lo}..{adm.hi}, expected {want[0]}..{want[1]}")
        return unmet
    return expect


def _no_violation(ex: Exploration) -> list[str]:
    return []


def _one_success(ex: Exploration) -> list[str]:
    a = ex.stat("admitted")
    return [] if (a.lo, a.hi) == (1, 1) else [f"successful spends {a.lo}..{a.hi}, expected 1"]


def cases() -> list[Case]:
    """Every check of the suite, in report order."""
    out: list[Case] = []
    for cond in sc.CONDITIONS:
        for cap in sc.CAPS:
            ref: dict[str, Any] = {}
            if (cond, cap) in TABLE_VI:
                o, spend, adm = TABLE_VI[cond, cap]
                ref = {"paper_overshoots": o, "paper_mean_spend": spend,
                       "paper_admitted_per_trial": adm}
            out.append(Case("forgetful_operator", cond, cap,
                            _forgetful(cond, cap), _forgetful_expect(cond, cap), ref))
    for name, (build, loom) in sc.LOOM.items():
        out.append(Case(name, None, None, build, _no_violation,
                        {"loom_interleavings": loom}))
    out.append(Case("pool_contention", None, 100, sc.PoolContention, _no_violation))
    out.append(Case("shared_handle", "threads", None, sc.SharedHandle, _one_success))
    out.append(Case("shared_handle", "mixed", None, _shared_mixed, _one_success))
    return out


def _forgetful(condition: str, cap: int) -> Scenario:
    def build() -> sc.ForgetfulOperator:
        return sc.ForgetfulOperator(condition, cap)
    build.__name__ = f"forgetful_operator_{condition}_{cap}"
    return build


def _shared_mixed() -> sc.SharedHandle:
    return sc.SharedHandle(mixed=True)


def figures(case: Case, ex: Exploration) -> dict[str, Any]:
    """The JSON figures of one check."""
    fig: dict[str, Any] = {"scenario": case.scenario}
    if case.condition is not None:
        fig["condition"] = case.condition
    if case.cap is not None:
        fig["cap"] = case.cap
    fig.update(schedules=ex.runs, schedules_unreduced=ex.schedules, states=ex.states)
    if "overshoot" in ex.stats or case.scenario == "forgetful_operator":
        fig["overshooting_schedules"] = ex.stat("overshoot").nonzero
    spend = ex.stat("spend")
    fig.update(min_spend=spend.lo, max_spend=spend.hi)
    if "admitted" in ex.stats:
        adm = ex.stat("admitted")
        fig.update(min_admitted=adm.lo, max_admitted=adm.hi)
    fig.update(case.reference)
    return fig


def _summary(fig: dict[str, Any]) -> str:
    parts = [f"{fig['schedules']} run / {fig['schedules_unreduced']:,} sched"]
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
             ) -> tuple[Exploration, CheckResult]:
    """Explore one case and turn it into a check (an exception is a failed check)."""
    t0 = time.perf_counter()
    try:
        ex = explore(case.build, reduction=reduction, name=case.name, progress=progress)
    except Exception as e:
        failed = CheckResult(case.name, "interleaving", False, time.perf_counter() - t0,
                             summary=f"error: {type(e).__name__}",
                             details=[f"{type(e).__name__}: {e}"])
        return Exploration(case.name, reduction), failed
    unmet = case.expect(ex) if ex.violation is None else []
    fig = figures(case, ex)
    ok = ex.ok and not unmet
    fig["ok"] = ok
    details = unmet + (ex.violation.render() if ex.violation is not None else [])
    summary = _summary(fig) if ex.violation is None else f"{ex.violation.kind} violated"
    return ex, CheckResult(case.name, "interleaving", ok, ex.seconds, summary=summary,
                           figures=fig, details=details)


def interleaving_checks(progress: Progress | None = None) -> list[CheckResult]:
    """Every case of :func:`cases`, explored with state caching."""
    return [run_case(c, progress=progress)[1] for c in cases()]


def iter_results(progress: Progress | None = None, reduction: bool = True
                 ) -> Iterator[tuple[Case, Exploration, CheckResult]]:
    """Each case with its exploration and check (for benchmarks and tests)."""
    for c in cases():
        ex, res = run_case(c, reduction=reduction, progress=progress)
        yield c, ex, res
