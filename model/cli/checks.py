"""The checks ``python -m model.check`` can run, by name.

Each check turns ``Options`` into report rows (``CheckResult``).  Checks import
their machinery lazily, so ``--only explore`` never pays for Z3 or CrossHair.  A new
kind of check is one more entry in ``CHECKS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from model.checker import NO_LIMITS, Limits
from model.cli.report import CheckResult, Progress
from spec.format import Spec


@dataclass
class Options:
    """What the user asked for; checks read what concerns them."""

    spec: Spec
    b0: int = 5
    progress: Progress = field(default=lambda msg: None)
    builtin_spec: bool = True
    limits: Limits = NO_LIMITS
    allow_deadlock: bool | None = None  # None: as the spec declares
    safety_timeout: float = 30.0
    allow_dead: bool = False


@dataclass(frozen=True)
class Check:
    """One name ``--only`` accepts, and how to run it."""

    name: str
    help: str
    run: Callable[[Options], list[CheckResult]]
    default: bool = True  # part of a plain ``python -m model.check``
    ledger_only: bool = False  # about the built-in ledger and impl, not about --spec


def run_proofs(opts: Options) -> list[CheckResult]:
    from model.cli.proofs import (
        PROPOSITION1,
        RECONCILE_BOUND,
        proposition1_check,
        reconcile_bound_check,
        spec_check,
    )
    from model.cli.safety import safety_row
    from proofs.chc import prove_safety

    opts.progress(f"safety {opts.spec.name}: Spacer ...")
    safety = prove_safety(opts.spec, timeout=opts.safety_timeout)
    proof = spec_check(opts.spec, progress=opts.progress, safety=safety)
    results = [proof, safety_row(safety, obligations_proved=not proof.figures["failed"])]
    if opts.builtin_spec:  # these are about impl and the ledger, not about a user's spec
        results.append(timed(PROPOSITION1, "proof",
                             lambda: proposition1_check(progress=opts.progress)))
        results.append(timed(RECONCILE_BOUND, "proof",
                             lambda: reconcile_bound_check(progress=opts.progress)))
    return results


def run_explore(opts: Options) -> list[CheckResult]:
    from model.cli.explore import explore_check

    return [explore_check(opts.spec, opts.b0, progress=opts.progress, limits=opts.limits,
                          allow_deadlock=opts.allow_deadlock, allow_dead=opts.allow_dead)]


def run_mutants(opts: Options) -> list[CheckResult]:
    from model.cli.mutants import handle_mutant_checks, mutant_checks

    return (mutant_checks(opts.b0, progress=opts.progress)
            + handle_mutant_checks(progress=opts.progress))


def run_refinement(opts: Options) -> list[CheckResult]:
    from model.cli.refinement import (
        PROOF,
        cli_b0,
        exploration_check,
        exploration_name,
        proof_check,
    )

    b0 = cli_b0(opts.b0)
    return [
        timed(PROOF, "proof", lambda: proof_check(progress=opts.progress)),
        timed(exploration_name(b0), "explore",
              lambda: exploration_check(b0, progress=opts.progress)),
        timed(exploration_name(b0, "pool"), "explore",
              lambda: exploration_check(b0, progress=opts.progress, owner="pool")),
    ]


def run_crosshair(opts: Options) -> list[CheckResult]:
    from model.cli.crosshair import CHECK_NAME, check

    return [timed(CHECK_NAME, "crosshair", lambda: check(progress=opts.progress)[0])]


def run_interleavings(opts: Options) -> list[CheckResult]:
    from model.cli.interleavings import interleaving_checks

    return interleaving_checks(progress=opts.progress)


def run_fleet(opts: Options) -> list[CheckResult]:
    from model.cli.fleet import fleet_checks

    return fleet_checks(progress=opts.progress)


CHECKS: dict[str, Check] = {
    s.name: s
    for s in (
        Check("proofs", "Z3: Init and every transition preserve every invariant, for any B0; "
              "every transition can fire; safety for every B0 by Spacer (an inductive "
              "invariant found, or a real trace); paper Proposition 1 (charge <= reservation) for "
              "all token counts and rates; the reconciliation overshoot bound for all "
              "values", run_proofs),
        Check("explore", "explicit-state BFS of every reachable state at --b0, invariants "
              "checked in each, deadlocks reported; every transition must fire somewhere "
              "(--allow-dead to accept a dead one)", run_explore),
        Check("mutants", "self-check: each built-in buggy copy of the ledger spec must be "
              "caught by both Z3 and the model checker, and each seeded bug of the "
              "per-handle model by both refinement checks", run_mutants, default=False,
              ledger_only=True),
        Check("refinement", "the per-handle spec of the library refines the ledger: Z3 per "
              "operation with any number of other handles, and every edge of a session's "
              "handles and of a pool explored at B0=6..7 (--b0 clamped)", run_refinement,
              ledger_only=True),
        Check("crosshair", "CrossHair on impl's arithmetic: contracts on the pricing rounding, "
              "Proposition 1, margins, split/merge/confirm/refund amounts; each function "
              "confirmed over all paths or searched for a counterexample within a "
              "per-condition time limit", run_crosshair, ledger_only=True),
        Check("interleavings", "every schedule of concurrent agents (OS threads and asyncio "
              "tasks) on the real impl: the forgetful-operator race (paper 4.3, Table VI), "
              "Loom's three scenarios, pool contention, a shared handle, reconciliation "
              "racing reservations (closed-ness consistent); ledger invariants after every "
              "step", run_interleavings, ledger_only=True),
        Check("fleet", "the shared-pool protocol (impl.SharedPool): clients that crash, "
              "lose replies and retry, a store with leases on its own clock and idempotent "
              "settlement, every state for 2 and 3 clients, and 2 clients with a "
              "reconciler sending cumulative bills (ledger invariants, at-most-once "
              "settlement, charges = commits + the drift applied once, a closed pool "
              "admits no reserve, every reservation resolved once its lease can expire); "
              "its seeded bugs must be caught", run_fleet, default=False, ledger_only=True),
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
                           figures={"error": f"{type(e).__name__}: {e}"},
                           details=[f"{type(e).__name__}: {e}"])
