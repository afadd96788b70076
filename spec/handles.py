"""The per-handle spec of one session, and its abstraction to the six-variable ledger.

The library (``impl``) works with individual values, not sums.  This module states
one session the way the library sees it::

    Handles(live, receipts, streams, refunds,
            total_charged, total_unrecoverable, total_released)

``live``, ``receipts``, ``streams`` and ``refunds`` are multisets (tuples) of the
amounts of the live ``Budget`` handles, the open receipts, what open stream receipts
still hold, and the refunds not yet applied.  :func:`abstraction` maps a state to
``LEDGER``'s state (``live_sum`` = sum of ``live``, ``outstanding_receipts`` = sum of
``receipts`` and ``streams``, and so on), and every library operation is one
:class:`Operation` of the table :data:`OPERATIONS`, which says which spec step it
claims to be (a transition of ``spec.LEDGER`` with its arguments, or a stutter).

Like ``spec.ledger``, every function here is written once, with ``+ - *`` and
comparisons only, and evaluated on Python ints (the exploration adapter
:mod:`model.handles`, the conformance replay, the lockstep tests) and on Z3 terms
(:mod:`proofs.refinement`), so a seeded bug in one entry is seen by every consumer.

Empty values: an empty ``Budget``, ``Refund`` or stream (0 uc) is invisible to the
ledger.  The table still has entries for what they can do (``consume_empty``,
``apply_empty_refund``, ``close_empty_stream``, ``split`` into an empty part, ...),
and ``apply_refund_to_empty`` (a refund applied to an empty budget) stands for the
library's ``refund.apply_to(empty)``.  Receipts are never empty (``reserve`` needs
``r > 0``), which :func:`handle_ok` states.

A ``BudgetPool`` is a ledger of its own whose available amount is one budget value
that its operations (``on`` the pool) take and give back; a pool's commit, cancel and
stream close are two claimed steps each (the refund is applied at once).  A
reconciliation's parameter is its drift ``d`` (the library takes the billed total
``total_charged + d``).  Not stated here: invalid arguments (they raise before anything
changes), affine misuse, a billed total below ``total_charged`` (refused, nothing
changes) and an overdraft (``d > live_sum``: nothing changes, but the library then
refuses every reservation, which this table's model does not track); the lockstep
tests of the library cover those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

from spec.format import Conjuncts
from spec.ledger import LEDGER

Kind = Literal["budget", "receipt", "stream", "refund"]
Owner = Literal["session", "pool"]
#: The field of :class:`Handles` that holds each kind of value.
FIELD: dict[str, str] = {"budget": "live", "receipt": "receipts", "stream": "streams",
                         "refund": "refunds"}


class Handles(NamedTuple):
    """One session, value by value.  Fields hold ints (explored) or Z3 terms (proved)."""

    live: tuple[Any, ...]
    receipts: tuple[Any, ...]
    streams: tuple[Any, ...]
    refunds: tuple[Any, ...]
    total_charged: Any
    total_unrecoverable: Any
    total_released: Any


class Effect(NamedTuple):
    """What an operation produces: new values and additions to the three totals.

    The values the operation takes (:attr:`Operation.takes`) are consumed; a refused
    operation hands its handle back by producing it again.
    """

    live: tuple[Any, ...] = ()
    receipts: tuple[Any, ...] = ()
    streams: tuple[Any, ...] = ()
    refunds: tuple[Any, ...] = ()
    charged: Any = 0
    unrecoverable: Any = 0
    released: Any = 0


@dataclass(frozen=True)
class Claim:
    """One spec step an operation claims: ``transition`` of ``LEDGER`` with arguments
    ``args(*taken, *params)``."""

    transition: str
    args: Callable[..., tuple[Any, ...]]


@dataclass(frozen=True)
class Operation:
    """One library operation in one case, and the spec steps it claims to be.

    ``takes`` are the kinds of the values it consumes, named ``names`` (e.g.
    ``("budget",)`` named ``("h",)``); ``params`` are its natural-number arguments.
    ``pre(s, *taken, *params)`` is when the library performs this case (its own
    check, e.g. ``r <= h``, plus the case condition), where ``s`` is the ledger
    abstraction of the pre-state; ``effect(*taken, *params)`` is the
    :class:`Effect`; ``claims`` are the ``LEDGER`` steps it performs, in order (none:
    a stutter).  All of them are written once and evaluated on ints and on Z3 terms,
    like the spec's own lambdas.  ``on`` says which owner of a ledger offers the
    operation: a ``Session``'s handles, a ``BudgetPool``, or both (receipts and
    streams behave alike in the two).
    """

    name: str
    call: str
    takes: tuple[Kind, ...]
    names: tuple[str, ...]
    params: tuple[str, ...]
    pre: Callable[..., Conjuncts]
    effect: Callable[..., Effect]
    claims: tuple[Claim, ...] = ()
    doc: str = ""
    on: frozenset[Owner] = frozenset({"session"})

    def __post_init__(self) -> None:
        if len(self.takes) != len(self.names):
            raise ValueError(f"{self.name}: takes {self.takes} but names {self.names}")
        for c in self.claims:
            LEDGER.transition(c.transition)  # raises on an unknown transition name

    @property
    def claim_text(self) -> str:
        """``spend_success(r, c)``, ``confirm_with_refund(r, c); refund_to(a)`` or
        ``stutter``: what this operation claims to be."""
        if not self.claims:
            return "stutter"
        return "; ".join(f"{c.transition}({', '.join(LEDGER.transition(c.transition).params)})"
                         for c in self.claims)

    def steps(self, *values: Any) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        """The claimed steps for taken values and parameters ``values``: (transition,
        arguments) pairs, in order; ``()`` for a stutter."""
        return tuple((c.transition, tuple(c.args(*values))) for c in self.claims)


def _op(
    name: str, call: str, takes: tuple[Kind, ...], names: tuple[str, ...],
    params: tuple[str, ...], pre: Callable[..., Conjuncts], effect: Callable[..., Effect],
    claim: str | None = None, args: Callable[..., tuple[Any, ...]] = lambda *_: (),
    doc: str = "", then: Claim | None = None, on: tuple[Owner, ...] = ("session",),
) -> Operation:
    claims: tuple[Claim, ...] = () if claim is None else (Claim(claim, args),)
    claims += () if then is None else (then,)
    return Operation(name, call, takes, names, params, pre, effect, claims, doc, frozenset(on))


_B: tuple[Kind, ...] = ("budget",)
_R: tuple[Kind, ...] = ("receipt",)
_S: tuple[Kind, ...] = ("stream",)
_POOL: tuple[Owner, ...] = ("pool",)

#: The library's operations on one ledger: a session's handles (``impl/budget.py``,
#: ``impl/receipts.py``) and a pool (``impl/pool.py``), one entry per (operation, case).
OPERATIONS: tuple[Operation, ...] = (
    _op("split", "b.split(a)", _B, ("h",), ("a",),
        pre=lambda s, h, a: (a >= 0, a <= h),
        effect=lambda h, a: Effect(live=(a, h - a)),
        doc="two handles holding a and h - a; the parent is consumed"),
    _op("split_refused", "b.split(a), a > available", _B, ("h",), ("a",),
        pre=lambda s, h, a: (a > h,),
        effect=lambda h, a: Effect(live=(h,)),
        doc="InsufficientBudget; the handle stays usable (always a stutter)"),
    _op("merge", "b1.merge(b2)", ("budget", "budget"), ("h1", "h2"), (),
        pre=lambda s, h1, h2: (),
        effect=lambda h1, h2: Effect(live=(h1 + h2,)),
        doc="one handle holding both amounts; both are consumed"),
    _op("spend_success", "b.spend(r, charged=c)", _B, ("h",), ("r", "c"),
        pre=lambda s, h, r, c: (r > 0, c >= 0, c <= r, r <= h),
        effect=lambda h, r, c: Effect(live=(h - r,), charged=c, unrecoverable=r - c),
        claim="spend_success", args=lambda h, r, c: (r, c),
        doc="the call went ahead; the rest handle holds h - r"),
    _op("spend_fail_post_check", "b.spend(r, charged=c, failed=True)", _B, ("h",), ("r", "c"),
        pre=lambda s, h, r, c: (r > 0, c >= 0, c <= r, r <= h),
        effect=lambda h, r, c: Effect(live=(h - r,), charged=c, unrecoverable=r - c),
        claim="spend_fail_post_check", args=lambda h, r, c: (r, c),
        doc="the check passed, the call failed; c was still billed"),
    _op("reserve", "b.reserve(r)", _B, ("h",), ("r",),
        pre=lambda s, h, r: (r > 0, r <= h),
        effect=lambda h, r: Effect(live=(h - r,), receipts=(r,)),
        claim="reserve", args=lambda h, r: (r,),
        doc="returns (rest, receipt of r)"),
    _op("reserve_with_reasoning", "b.reserve_with_reasoning(v, w)", _B, ("h",), ("v", "w"),
        pre=lambda s, h, v, w: (v >= 0, w >= 0, v + w > 0, v + w <= h),
        effect=lambda h, v, w: Effect(live=(h - v - w,), receipts=(v + w,)),
        claim="reserve", args=lambda h, v, w: (v + w,),
        doc="one receipt of visible + reasoning allowance"),
    _op("refused_insufficient", "b.spend(r) / b.reserve(r), r > available > ...",
        _B, ("h",), ("r",),
        pre=lambda s, h, r: (r > 0, r > h, r > s.live_sum),
        effect=lambda h, r: Effect(live=(h,)),
        claim="spend_insufficient", args=lambda h, r: (r,),
        doc="refused, and r exceeds the live sum of the whole session"),
    _op("refused_by_handle", "b.spend(r) / b.reserve(r), live_sum >= r > available",
        _B, ("h",), ("r",),
        pre=lambda s, h, r: (r > 0, r > h, r <= s.live_sum),
        effect=lambda h, r: Effect(live=(h,)),
        doc="refused by this handle although the money is in a sibling: a stutter"),
    _op("confirm", "receipt.confirm(c)", _R, ("receipt",), ("c",),
        pre=lambda s, r, c: (c >= 0, c <= r),
        effect=lambda r, c: Effect(refunds=(r - c,), charged=c),
        claim="confirm_with_refund", args=lambda r, c: (r, c),
        doc="reconciled at c; yields a refund of r - c (0 when c == r)"),
    _op("confirm_refused", "receipt.confirm(c), c > r", _R, ("receipt",), ("c",),
        pre=lambda s, r, c: (c > r,),
        effect=lambda r, c: Effect(receipts=(r,)),
        doc="ChargeExceedsReservation; the receipt stays open"),
    _op("forfeit", "receipt.forfeit() / reservation.forfeit() (or abandoned)", _R, ("receipt",), (),
        pre=lambda s, r: (),
        effect=lambda r: Effect(unrecoverable=r),
        claim="forfeit", args=lambda r: (r,),
        on=("session", "pool"),
        doc="also a receipt left open at the end of a with block, or collected"),
    _op("reserve_stream", "b.reserve_stream(r)", _B, ("h",), ("r",),
        pre=lambda s, h, r: (r > 0, r <= h),
        effect=lambda h, r: Effect(live=(h - r,), streams=(r,)),
        claim="reserve", args=lambda h, r: (r,),
        doc="returns (rest, stream receipt holding r)"),
    _op("confirm_chunk", "stream.confirm_chunk(c)", _S, ("stream",), ("c",),
        pre=lambda s, x, c: (c > 0, c <= x),
        effect=lambda x, c: Effect(streams=(x - c,), charged=c),
        claim="confirm_with_refund", args=lambda x, c: (c, c),
        on=("session", "pool"),
        doc="a chunk billed c: a sub-receipt of c reconciled at its full amount"),
    _op("confirm_chunk_zero", "stream.confirm_chunk(0)", _S, ("stream",), ("c",),
        pre=lambda s, x, c: (c == 0,),
        effect=lambda x, c: Effect(streams=(x - c,), charged=c),
        on=("session", "pool"),
        doc="a zero chunk: a stutter"),
    _op("confirm_chunk_refused", "stream.confirm_chunk(c), c > outstanding", _S,
        ("stream",), ("c",),
        pre=lambda s, x, c: (c > x,),
        effect=lambda x, c: Effect(streams=(x,)),
        on=("session", "pool"),
        doc="ChargeExceedsReservation; the stream stays open"),
    _op("close_stream", "stream.close()", _S, ("stream",), (),
        pre=lambda s, x: (x > 0,),
        effect=lambda x: Effect(refunds=(x,)),
        claim="confirm_with_refund", args=lambda x: (x, 0),
        doc="the rest comes back as a refund"),
    _op("close_empty_stream", "stream.close(), nothing outstanding", _S, ("stream",), (),
        pre=lambda s, x: (x == 0,),
        effect=lambda x: Effect(refunds=(x,)),
        doc="a refund of 0: a stutter"),
    _op("forfeit_stream", "stream.forfeit() (or abandoned)", _S, ("stream",), (),
        pre=lambda s, x: (x > 0,),
        effect=lambda x: Effect(unrecoverable=x),
        claim="forfeit", args=lambda x: (x,),
        on=("session", "pool"),
        doc="the rest is given up; also at the end of a with block, or collected"),
    _op("forfeit_empty_stream", "stream.forfeit(), nothing outstanding", _S, ("stream",), (),
        pre=lambda s, x: (x == 0,),
        effect=lambda x: Effect(unrecoverable=x),
        on=("session", "pool"),
        doc="a stutter"),
    _op("apply_refund", "refund.apply_to(b)", ("refund", "budget"), ("refund", "h"), (),
        pre=lambda s, a, h: (a > 0,),
        effect=lambda a, h: Effect(live=(h + a,)),
        claim="refund_to", args=lambda a, h: (a,),
        doc="the budget grows by the refund; both are consumed"),
    _op("apply_refund_to_empty", "refund.apply_to(empty budget)", ("refund",), ("refund",), (),
        pre=lambda s, a: (a > 0,),
        effect=lambda a: Effect(live=(a,)),
        claim="refund_to", args=lambda a: (a,),
        doc="applied to a budget of 0 uc (empty budgets are not kept in the state)"),
    _op("apply_empty_refund", "refund.apply_to(b), refund of 0", ("refund", "budget"),
        ("refund", "h"), (),
        pre=lambda s, a, h: (a == 0,),
        effect=lambda a, h: Effect(live=(h + a,)),
        doc="a zero refund (confirm at c == r): a stutter"),
    _op("consume", "b.consume()", _B, ("h",), (),
        pre=lambda s, h: (h > 0,),
        effect=lambda h: Effect(released=h),
        claim="consume", args=lambda h: (h,),
        doc="the money leaves the system"),
    _op("consume_empty", "b.consume(), empty budget", _B, ("h",), (),
        pre=lambda s, h: (h == 0,),
        effect=lambda h: Effect(released=h),
        doc="consuming a budget of 0 uc: a stutter"),
    _op("reconcile", "session.reconcile(total_charged + d, b)", _B, ("h",), ("d",),
        pre=lambda s, h, d: (d > 0, d <= h),
        effect=lambda h, d: Effect(live=(h - d,), charged=d),
        claim="reconcile", args=lambda h, d: (d,),
        doc="the provider billed d more than the ledger charged; b pays it, the "
            "returned budget holds h - d"),
    _op("reconcile_zero", "session.reconcile(total_charged, b)", _B, ("h",), ("d",),
        pre=lambda s, h, d: (d == 0,),
        effect=lambda h, d: Effect(live=(h,)),
        doc="the same billed total again: a fresh handle of the same amount, a stutter"),
    _op("reconcile_refused_by_handle", "session.reconcile(total_charged + d, b), "
        "live_sum >= d > available", _B, ("h",), ("d",),
        pre=lambda s, h, d: (d > h, d <= s.live_sum),
        effect=lambda h, d: Effect(live=(h,)),
        doc="InsufficientBudget: the drift fits the session, not this handle; merge "
            "siblings first (a stutter)"),
    # -- a BudgetPool: its available amount is the one budget ``pool``, never consumed
    _op("pool_reserve", "pool.reserve(r)", _B, ("pool",), ("r",),
        pre=lambda s, p, r: (r > 0, r <= p),
        effect=lambda p, r: Effect(live=(p - r,), receipts=(r,)),
        claim="reserve", args=lambda p, r: (r,), on=_POOL,
        doc="returns a Reservation of r"),
    _op("pool_reserve_with_reasoning", "pool.reserve_with_reasoning(v, w)", _B, ("pool",),
        ("v", "w"),
        pre=lambda s, p, v, w: (v >= 0, w >= 0, v + w > 0, v + w <= p),
        effect=lambda p, v, w: Effect(live=(p - v - w,), receipts=(v + w,)),
        claim="reserve", args=lambda p, v, w: (v + w,), on=_POOL,
        doc="one Reservation of visible + reasoning allowance"),
    _op("pool_reserve_stream", "pool.reserve_stream(r)", _B, ("pool",), ("r",),
        pre=lambda s, p, r: (r > 0, r <= p),
        effect=lambda p, r: Effect(live=(p - r,), streams=(r,)),
        claim="reserve", args=lambda p, r: (r,), on=_POOL,
        doc="returns a stream reservation holding r"),
    _op("pool_refused", "pool.reserve(r) / reserve_stream(r), r > available", _B, ("pool",),
        ("r",),
        pre=lambda s, p, r: (r > 0, r > p, r > s.live_sum),
        effect=lambda p, r: Effect(live=(p,)),
        claim="spend_insufficient", args=lambda p, r: (r,), on=_POOL,
        doc="refused: a pool's available amount is its ledger's live_sum"),
    _op("commit", "reservation.commit(c), c < r", ("receipt", "budget"), ("reservation", "pool"),
        ("c",),
        pre=lambda s, r, p, c: (c >= 0, c < r),
        effect=lambda r, p, c: Effect(live=(p + r - c,), charged=c),
        claim="confirm_with_refund", args=lambda r, p, c: (r, c),
        then=Claim("refund_to", lambda r, p, c: (r - c,)), on=_POOL,
        doc="settled at c; the rest goes straight back to the pool"),
    _op("commit_whole", "reservation.commit(r)", ("receipt", "budget"), ("reservation", "pool"),
        ("c",),
        pre=lambda s, r, p, c: (c == r,),
        effect=lambda r, p, c: Effect(live=(p,), charged=c),
        claim="confirm_with_refund", args=lambda r, p, c: (r, c), on=_POOL,
        doc="settled at the whole reservation: nothing goes back"),
    _op("commit_refused", "reservation.commit(c), c > r", _R, ("reservation",), ("c",),
        pre=lambda s, r, c: (c > r,),
        effect=lambda r, c: Effect(receipts=(r,)),
        on=_POOL, doc="ChargeExceedsReservation; the reservation stays open"),
    _op("cancel", "reservation.cancel()", ("receipt", "budget"), ("reservation", "pool"), (),
        pre=lambda s, r, p: (),
        effect=lambda r, p: Effect(live=(p + r,)),
        claim="confirm_with_refund", args=lambda r, p: (r, 0),
        then=Claim("refund_to", lambda r, p: (r,)), on=_POOL,
        doc="the call never happened: all of r goes back to the pool"),
    _op("pool_close_stream", "pool stream.close()", ("stream", "budget"), ("stream", "pool"), (),
        pre=lambda s, x, p: (x > 0,),
        effect=lambda x, p: Effect(live=(p + x,)),
        claim="confirm_with_refund", args=lambda x, p: (x, 0),
        then=Claim("refund_to", lambda x, p: (x,)), on=_POOL,
        doc="the rest goes straight back to the pool"),
    _op("pool_close_empty_stream", "pool stream.close(), nothing outstanding",
        ("stream", "budget"), ("stream", "pool"), (),
        pre=lambda s, x, p: (x == 0,),
        effect=lambda x, p: Effect(live=(p + x,)),
        on=_POOL, doc="a stutter"),
    _op("pool_reconcile", "pool.reconcile(total_charged + d)", _B, ("pool",), ("d",),
        pre=lambda s, p, d: (d > 0, d <= p),
        effect=lambda p, d: Effect(live=(p - d,), charged=d),
        claim="reconcile", args=lambda p, d: (d,), on=_POOL,
        doc="the drift d moves from the pool's available amount to total_charged"),
    _op("pool_reconcile_zero", "pool.reconcile(total_charged)", _B, ("pool",), ("d",),
        pre=lambda s, p, d: (d == 0,),
        effect=lambda p, d: Effect(live=(p,)),
        on=_POOL, doc="the same billed total again: a stutter"),
)


def operation(name: str, operations: Sequence[Operation] = OPERATIONS) -> Operation:
    """The entry called ``name``; ``KeyError`` naming the known entries otherwise."""
    for op in operations:
        if op.name == name:
            return op
    raise KeyError(f"no operation {name!r}; known: {', '.join(o.name for o in operations)}")


def with_operation(new: Operation, operations: Sequence[Operation] = OPERATIONS,
                   **changes: Any) -> tuple[Operation, ...]:
    """A copy of the table with the entry named ``new.name`` replaced by ``new``
    (with ``changes`` applied to it, e.g. ``effect=...``): how tests seed a bug."""
    operation(new.name, operations)  # raises if absent
    fresh = replace(new, **changes) if changes else new
    return tuple(fresh if op.name == new.name else op for op in operations)


def initial(b0: int) -> Handles:
    """The session after ``Session(b0).take()``: one root budget of ``b0`` (if ``b0 > 0``)."""
    return Handles((b0,) if b0 > 0 else (), (), (), (), 0, 0, 0)


def abstraction(h: Handles) -> Any:
    """The six-variable ledger of ``h``: sums of the three multisets, and the totals.

    Works on ints and on Z3 terms; returns a ``LEDGER.State``.
    """
    return LEDGER.State(
        live_sum=_sum(h.live),
        outstanding_receipts=_sum(h.receipts + h.streams),
        outstanding_refunds=_sum(h.refunds),
        total_charged=h.total_charged,
        total_unrecoverable=h.total_unrecoverable,
        total_released=h.total_released,
    )


def _sum(values: tuple[Any, ...]) -> Any:
    return sum(values[1:], values[0]) if values else 0


def handle_ok(h: Handles) -> Conjuncts:
    """HandleOK: budgets, streams and refunds hold naturals, receipts are positive,
    totals are natural.  Conjuncts in field order (live, receipts, streams, refunds),
    then the totals."""
    return (
        *(x >= 0 for x in h.live),
        *(x > 0 for x in h.receipts),
        *(x >= 0 for x in h.streams),
        *(x >= 0 for x in h.refunds),
        h.total_charged >= 0,
        h.total_unrecoverable >= 0,
        h.total_released >= 0,
    )


def after(rest: Handles, effect: Effect) -> Handles:
    """``rest`` (the session without the values an operation took) plus its effect."""
    return Handles(
        rest.live + effect.live,
        rest.receipts + effect.receipts,
        rest.streams + effect.streams,
        rest.refunds + effect.refunds,
        rest.total_charged + effect.charged,
        rest.total_unrecoverable + effect.unrecoverable,
        rest.total_released + effect.released,
    )
