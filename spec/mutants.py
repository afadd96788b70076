"""Mutated copies of the ledger spec, each with one plausible bug.

They exist so the workbench can show that its checkers fail when they should
(``python -m model.check --mutants``).  Each mutant replaces exactly one
transition of ``LEDGER``; the docstring says what a real implementation would
have got wrong.
"""

from __future__ import annotations

from spec.format import Spec, Transition
from spec.ledger import (
    LEDGER,
    confirm_with_refund,
    consume,
    forfeit,
    reconcile,
    refund_to,
    reserve,
    spend_insufficient,
    spend_success,
)


def _mutant(name: str, t: Transition, doc: str) -> Spec:
    from dataclasses import replace

    return replace(LEDGER.with_transition(t, name=name), doc=doc)


MUTANTS: tuple[Spec, ...] = (
    _mutant(
        "refund_to_no_debit",
        Transition(
            "refund_to", refund_to.params, refund_to.guard,
            lambda s, a: {"live_sum": s.live_sum + a},
        ),
        "refund_to credits live_sum without debiting outstanding_refunds (a refund applied twice)",
    ),
    _mutant(
        "confirm_admits_overcharge",
        Transition(
            "confirm_with_refund", confirm_with_refund.params,
            lambda s, r, c: (r > 0, r <= s.outstanding_receipts),
            confirm_with_refund.update,
        ),
        "confirm_with_refund admits c > r (an unsound estimate accepted)",
    ),
    _mutant(
        "forfeit_credits_live",
        Transition(
            "forfeit", forfeit.params, forfeit.guard,
            lambda s, r: {
                "outstanding_receipts": s.outstanding_receipts - r,
                "total_unrecoverable": s.total_unrecoverable + r,
                "live_sum": s.live_sum + r,
            },
        ),
        "forfeit also credits live_sum (the abandoned reservation is spendable again)",
    ),
    _mutant(
        "reserve_unguarded",
        Transition(
            "reserve", reserve.params, lambda s, r: (r > 0,), reserve.update,
        ),
        "reserve without its availability guard (check-then-act race)",
    ),
    _mutant(
        "consume_forgets_release",
        Transition(
            "consume", consume.params, consume.guard,
            lambda s, a: {"live_sum": s.live_sum - a},
        ),
        "consume forgets total_released (money vanishes from the books)",
    ),
    _mutant(
        "spend_loses_remainder",
        Transition(
            "spend_success", spend_success.params, spend_success.guard,
            lambda s, r, c: {
                "live_sum": s.live_sum - r,
                "total_charged": s.total_charged + c,
            },
        ),
        "spend_success drops r - c instead of booking it as unrecoverable",
    ),
    _mutant(
        "refused_call_billed",
        Transition(
            "spend_insufficient", spend_insufficient.params, spend_insufficient.guard,
            lambda s, r: {"total_charged": s.total_charged + r},
        ),
        "a refused call is still billed (the refusal came after the request was sent)",
    ),
    _mutant(
        "confirm_refunds_whole_reservation",
        Transition(
            "confirm_with_refund", confirm_with_refund.params, confirm_with_refund.guard,
            lambda s, r, c: {
                "outstanding_receipts": s.outstanding_receipts - r,
                "total_charged": s.total_charged + c,
                "outstanding_refunds": s.outstanding_refunds + r,
            },
        ),
        "confirm_with_refund refunds all of r although c was charged",
    ),
    _mutant(
        "reconcile_forgets_charge",
        Transition(
            "reconcile", reconcile.params, reconcile.guard,
            lambda s, d: {"live_sum": s.live_sum - d},
        ),
        "reconcile takes the drift out of live_sum but never books it in total_charged "
        "(the ledger keeps under-reporting what the provider billed)",
    ),
    _mutant(
        "reconcile_unguarded",
        Transition(
            "reconcile", reconcile.params, lambda s, d: (d > 0,), reconcile.update,
        ),
        "reconcile absorbs any drift, also more than live_sum (no fail-closed: the "
        "ledger books a bill above the cap)",
    ),
)


def mutant(name: str) -> Spec:
    """The mutant called ``name``; ``KeyError`` listing the known names otherwise."""
    for m in MUTANTS:
        if m.name == name:
            return m
    raise KeyError(f"no mutant {name!r}; known: {', '.join(m.name for m in MUTANTS)}")
