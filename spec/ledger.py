"""The Budget ledger: six variables, nine transitions, three invariants (SEMANTICS.md).

    VARIABLES live_sum, outstanding_receipts, outstanding_refunds,
              total_charged, total_unrecoverable, total_released
    Init == live_sum = B0 /\\ every other variable = 0
"""

from __future__ import annotations

from typing import Any

from spec.format import Invariant, Spec, Transition

VARIABLES = (
    "live_sum",
    "outstanding_receipts",
    "outstanding_refunds",
    "total_charged",
    "total_unrecoverable",
    "total_released",
)


def init(b0: Any) -> dict[str, Any]:
    return {v: (b0 if v == "live_sum" else 0) for v in VARIABLES}


spend_success = Transition(
    "spend_success", ("r", "c"),
    guard=lambda s, r, c: (r > 0, c <= r, r <= s.live_sum),
    update=lambda s, r, c: {
        "live_sum": s.live_sum - r,
        "total_charged": s.total_charged + c,
        "total_unrecoverable": s.total_unrecoverable + r - c,
    },
    doc="a call of reservation r went ahead and was billed c; the rest of r is lost",
)

spend_insufficient = Transition(
    "spend_insufficient", ("r",),
    guard=lambda s, r: (r > 0, r > s.live_sum),
    update=lambda s, r: {},
    doc="the call is refused before it is made: nothing changes",
)

spend_fail_post_check = spend_success.renamed(
    "spend_fail_post_check",
    doc="the budget check passed, the call then failed; c is what was still billed",
)

consume = Transition(
    "consume", ("a",),
    guard=lambda s, a: (a > 0, a <= s.live_sum),
    update=lambda s, a: {
        "live_sum": s.live_sum - a,
        "total_released": s.total_released + a,
    },
    doc="money deliberately taken out of the system",
)

reserve = Transition(
    "reserve", ("r",),
    guard=lambda s, r: (r > 0, r <= s.live_sum),
    update=lambda s, r: {
        "live_sum": s.live_sum - r,
        "outstanding_receipts": s.outstanding_receipts + r,
    },
    doc="r moves from a live budget into a receipt",
)

confirm_with_refund = Transition(
    "confirm_with_refund", ("r", "c"),
    guard=lambda s, r, c: (r > 0, c <= r, r <= s.outstanding_receipts),
    update=lambda s, r, c: {
        "outstanding_receipts": s.outstanding_receipts - r,
        "total_charged": s.total_charged + c,
        "outstanding_refunds": s.outstanding_refunds + r - c,
    },
    doc="a receipt of r is reconciled at actual cost c, yielding a refund of r - c",
)

forfeit = Transition(
    "forfeit", ("r",),
    guard=lambda s, r: (r > 0, r <= s.outstanding_receipts),
    update=lambda s, r: {
        "outstanding_receipts": s.outstanding_receipts - r,
        "total_unrecoverable": s.total_unrecoverable + r,
    },
    doc="a receipt of r is given up (or abandoned): r can never come back",
)

refund_to = Transition(
    "refund_to", ("a",),
    guard=lambda s, a: (a > 0, a <= s.outstanding_refunds),
    update=lambda s, a: {
        "outstanding_refunds": s.outstanding_refunds - a,
        "live_sum": s.live_sum + a,
    },
    doc="a refund of a is applied to a live budget",
)

reconcile = Transition(
    "reconcile", ("d",),
    guard=lambda s, d: (d > 0, d <= s.live_sum),
    update=lambda s, d: {
        "live_sum": s.live_sum - d,
        "total_charged": s.total_charged + d,
    },
    doc="the provider's true bill exceeds what the ledger charged by d; the drift moves "
        "from live money into total_charged (a drift above live_sum is no transition: "
        "the library fails closed)",
)

type_ok = Invariant(
    "TypeOK",
    lambda s, b0: tuple(v >= 0 for v in s),
    doc="all six fields are natural numbers",
)

conservation = Invariant(
    "Conservation",
    lambda s, b0: (sum(s) == b0,),
    doc="the six fields sum to B0",
)

cap_soundness = Invariant(
    "CapSoundness",
    lambda s, b0: (s.total_charged <= b0,),
    doc="what the provider charged never exceeds B0",
)

LEDGER = Spec(
    name="ledger",
    variables=VARIABLES,
    init=init,
    transitions=(
        spend_success,
        spend_insufficient,
        spend_fail_post_check,
        consume,
        reserve,
        confirm_with_refund,
        forfeit,
        refund_to,
        reconcile,
    ),
    invariants=(type_ok, conservation, cap_soundness),
    doc="The six-variable conservation ledger of one Budget session (SEMANTICS.md).",
)
