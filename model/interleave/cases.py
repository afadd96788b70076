"""The concurrency cases ``python -m model.check --only interleavings`` runs.

One :class:`Case` per (scenario, condition, cap): the scenario to explore, what its
exploration must show (for condition A: the race is found exactly where the
arithmetic says, overshoot iff ``3 x 23 > cap``) and reference figures (Table VI of
the paper, ``paper_*``, and Loom's interleaving counts, ``loom_interleavings``).
:func:`figures` gives a case's figures from its exploration: ``runs`` (schedules the
explorer executed, with state caching), ``schedules`` (every complete schedule,
exact), ``states``, ``overshooting_schedules`` (among all schedules),
``min_spend``/``max_spend`` (total charged), ``min_admitted``/``max_admitted``
(children whose call went ahead).  :mod:`model.cli.interleavings` turns them into
report rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model.interleave import scenarios as sc
from model.interleave.program import Scenario
from model.interleave.search import ScheduleSearch

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
    expect: Callable[[ScheduleSearch], list[str]]
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


def _forgetful_expect(condition: str, cap: int) -> Callable[[ScheduleSearch], list[str]]:
    def expect(ex: ScheduleSearch) -> list[str]:
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


def _no_violation(ex: ScheduleSearch) -> list[str]:
    return []


def _one_success(ex: ScheduleSearch) -> list[str]:
    a = ex.stat("admitted")
    return [] if (a.lo, a.hi) == (1, 1) else [f"successful spends {a.lo}..{a.hi}, expected 1"]


def _reconcile_both_ways(ex: ScheduleSearch) -> list[str]:
    """The race matters: some schedules absorb every drift, some close the pool."""
    closed, absorbed = ex.stat("closed"), ex.stat("absorbed")
    unmet = []
    if (closed.lo, closed.hi) != (0, 1):
        unmet.append(f"closed {closed.lo}..{closed.hi} over the schedules, expected 0..1 "
                     f"(the overdraft depends on the schedule)")
    if absorbed.hi == 0:
        unmet.append("no schedule absorbed any drift")
    return unmet


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
    out.append(Case("reconcile_race", None, 100, sc.ReconcileRace, _reconcile_both_ways))
    return out


def _forgetful(condition: str, cap: int) -> Scenario:
    def build() -> sc.ForgetfulOperator:
        return sc.ForgetfulOperator(condition, cap)
    build.__name__ = f"forgetful_operator_{condition}_{cap}"
    return build


def _shared_mixed() -> sc.SharedHandle:
    return sc.SharedHandle(mixed=True)


def figures(case: Case, ex: ScheduleSearch) -> dict[str, Any]:
    """The JSON figures of one check."""
    fig: dict[str, Any] = {"scenario": case.scenario}
    if case.condition is not None:
        fig["condition"] = case.condition
    if case.cap is not None:
        fig["cap"] = case.cap
    fig.update(runs=ex.runs, schedules=ex.schedules, states=ex.states)
    if "overshoot" in ex.stats or case.scenario == "forgetful_operator":
        fig["overshooting_schedules"] = ex.stat("overshoot").nonzero
    spend = ex.stat("spend")
    fig.update(min_spend=spend.lo, max_spend=spend.hi)
    if "admitted" in ex.stats:
        adm = ex.stat("admitted")
        fig.update(min_admitted=adm.lo, max_admitted=adm.hi)
    fig.update(case.reference)
    return fig
