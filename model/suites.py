"""The checks ``python -m model.check`` can run, by name.

Each suite turns ``Options`` into ``CheckResult`` values.  Suites import their
machinery lazily, so ``--only explore`` never pays for Z3 or CrossHair.  A new
kind of check is one more entry in ``SUITES``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from model.report import CheckResult, Progress
from spec.format import Spec


@dataclass
class Options:
    """What the user asked for; suites read what concerns them."""

    spec: Spec
    b0: int = 5
    dot: Path | None = None
    progress: Progress = field(default=lambda msg: None)
    builtin_spec: bool = True


@dataclass(frozen=True)
class Suite:
    name: str
    help: str
    run: Callable[[Options], list[CheckResult]]
    default: bool = True  # part of a plain ``python -m model.check``
    ledger_only: bool = False  # about the built-in ledger and impl, not about --spec


def run_proofs(opts: Options) -> list[CheckResult]:
    import proofs

    results = proofs.check_spec(opts.spec, progress=opts.progress)
    if opts.builtin_spec:  # Proposition 1 is about impl's pricing, not about a user's spec
        from proofs.proposition1 import CHECK_NAME, check

        results.append(timed(CHECK_NAME, "proof", lambda: check(progress=opts.progress)))
    return results


def run_explore(opts: Options) -> list[CheckResult]:
    from model.explore import explore_check

    return [explore_check(opts.spec, opts.b0, dot=opts.dot, progress=opts.progress)]


def run_mutants(opts: Options) -> list[CheckResult]:
    from model.mutants import handle_mutant_checks, mutant_checks

    return (mutant_checks(opts.b0, progress=opts.progress)
            + handle_mutant_checks(progress=opts.progress))


def run_refinement(opts: Options) -> list[CheckResult]:
    from model.refinement import cli_b0, exploration_check
    from proofs.refinement import CHECK_NAME, refinement_check

    b0 = cli_b0(opts.b0)
    return [
        timed(CHECK_NAME, "proof", lambda: refinement_check(progress=opts.progress)),
        timed(f"refinement: handles explored at B0={b0}", "explore",
              lambda: exploration_check(b0, progress=opts.progress)),
    ]


def run_crosshair(opts: Options) -> list[CheckResult]:
    from proofs.crosshair_check import CHECK_NAME, check

    return [timed(CHECK_NAME, "crosshair", lambda: check(progress=opts.progress)[0])]


def run_interleavings(opts: Options) -> list[CheckResult]:
    from model.interleave.checks import interleaving_checks

    return interleaving_checks(progress=opts.progress)


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("proofs", "Z3: Init and every transition preserve every invariant, for any B0; "
              "every transition can fire; paper Proposition 1 (charge <= reservation) for "
              "all token counts and rates", run_proofs),
        Suite("explore", "explicit-state BFS of every reachable state at --b0, invariants "
              "checked in each, deadlocks reported", run_explore),
        Suite("mutants", "self-check: each built-in buggy copy of the ledger spec must be "
              "caught by both Z3 and the model checker, and each seeded bug of the "
              "per-handle model by both refinement checks", run_mutants, default=False,
              ledger_only=True),
        Suite("refinement", "the per-handle model of the library refines the ledger: Z3 per "
              "operation with any number of other handles, and every edge explored at "
              "B0=6..7 (--b0 clamped)", run_refinement, ledger_only=True),
        Suite("crosshair", "CrossHair on impl's arithmetic: contracts on the pricing rounding, "
              "Proposition 1, margins, split/merge/confirm/refund amounts; each function "
              "confirmed over all paths or searched for a counterexample within a "
              "per-condition time limit", run_crosshair, ledger_only=True),
        Suite("interleavings", "every schedule of concurrent agents (OS threads and asyncio "
              "tasks) on the real impl: the forgetful-operator race (paper 4.3, Table VI), "
              "Loom's three scenarios, pool contention, a shared handle; ledger invariants "
              "after every step", run_interleavings, ledger_only=True),
    )
}


def timed(name: str, kind: str, fn: Callable[[], CheckResult]) -> CheckResult:
    """Run ``fn``; an exception becomes a failed check that names it (never a crash)."""
    t0 = time.perf_counter()
    try:
        return fn()
    except Exception as e:
        return CheckResult(name, kind, False, time.perf_counter() - t0,
                           summary=f"error: {type(e).__name__}",
                           details=[f"{type(e).__name__}: {e}"])
