"""Seeded bugs in the per-handle model: each replaces one entry of ``OPERATIONS``.

They show that both refinement checks can fail (the Z3 proof in
:mod:`proofs.refinement` and the exploration in :mod:`model.refinement`): each
mutant is a bug a library could plausibly have, and each must be reported by both
with a counterexample (``tests/refinement/test_refinement_seeded_bugs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from spec.handles import OPERATIONS, Claim, Effect, Operation, operation, with_operation


@dataclass(frozen=True)
class HandleMutant:
    """A copy of the operation table with one entry changed (``operation`` names it)."""

    name: str
    operation: str
    doc: str
    operations: tuple[Operation, ...]


def _mutant(name: str, op: str, doc: str, **changes: object) -> HandleMutant:
    return HandleMutant(name, op, doc, with_operation(operation(op), OPERATIONS, **changes))


HANDLE_MUTANTS: tuple[HandleMutant, ...] = (
    _mutant("split_loses_unit", "split",
            "split hands out a and h - a - 1: one unit vanishes from the session",
            effect=lambda h, a: Effect(live=(a, h - a - 1))),
    _mutant("forfeit_credits_live", "forfeit",
            "a forfeited receipt also comes back as a live budget",
            effect=lambda r: Effect(live=(r,), unrecoverable=r)),
    _mutant("refund_applied_twice", "apply_refund",
            "apply_to credits the budget but leaves the refund usable",
            effect=lambda a, h: Effect(live=(h + a,), refunds=(a,))),
    _mutant("spend_recorded_as_reserve", "spend_success",
            "a spend is reported under the wrong transition name (reserve(r))",
            claims=(Claim("reserve", lambda h, r, c: (r,)),)),
    _mutant("sibling_refusal_reported_insufficient", "refused_by_handle",
            "a refusal by one handle, while the session holds enough, is reported as "
            "spend_insufficient (SEMANTICS.md subtlety)",
            claims=(Claim("spend_insufficient", lambda h, r: (r,)),)),
    _mutant("confirm_accepts_overcharge", "confirm",
            "confirm accepts an actual charge above the reservation",
            pre=lambda s, r, c: (c >= 0,)),
    _mutant("chunk_not_charged", "confirm_chunk",
            "a stream chunk leaves the stream without being charged",
            effect=lambda x, c: Effect(streams=(x - c,))),
    _mutant("close_refunds_nothing", "close_stream",
            "closing a stream drops what it still held instead of refunding it",
            effect=lambda x: Effect()),
    _mutant("reconcile_keeps_the_drift", "reconcile",
            "reconcile charges the drift but hands back a budget still holding it "
            "(the drift is paid twice: once to the provider, once more from the budget)",
            effect=lambda h, d: Effect(live=(h,), charged=d)),
)


def handle_mutant(name: str) -> HandleMutant:
    """The mutant called ``name``; ``KeyError`` naming the known ones otherwise."""
    for m in HANDLE_MUTANTS:
        if m.name == name:
            return m
    raise KeyError(f"no mutant {name!r}; known: {', '.join(m.name for m in HANDLE_MUTANTS)}")
