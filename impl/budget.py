"""The affine Budget: a handle on part of a session's live money.

A :class:`Budget` holds an immutable amount. Every operation consumes it (atomically,
under the session lock) and returns new values; any later use of the consumed handle
raises :class:`impl.AffineViolation`. Ledger steps (SEMANTICS.md names):

===============================  ==============================================
``b.spend(r, charged=c)``        ``spend_success(r, c)``
``b.spend(r, charged=c,          ``spend_fail_post_check(r, c)``
failed=True)``
``b.reserve(r)``                 ``reserve(r)``
``b.reserve_with_reasoning(v,    ``reserve(v + w)``
w)``
``b.reserve_stream(r)``          ``reserve(r)``
``b.split(a)``, ``b.merge(o)``   stutter
``b.consume()``                  ``consume(a)`` (stutter when ``a == 0``)
``refund.apply_to(b)``           ``refund_to(a)`` (stutter when ``a == 0``)
``session.reconcile(billed, b)`` ``reconcile(d)``, ``d = billed - total_charged``
                                 paid out of ``b`` (stutter when ``d == 0``)
===============================  ==============================================

Refusals (:class:`impl.InsufficientBudget`) change nothing. A refused ``spend``/
``reserve*`` of ``r`` is reported to observers as ``spend_insufficient(r)`` only when
``r`` exceeds the live sum of the whole session (SEMANTICS.md); when ``r`` fits in the
session but not in this handle (the money sits in a sibling), it is a plain stutter and
observers see nothing. A refused ``split`` is always a stutter.

A session closed by :class:`impl.Overdraft` (see :meth:`impl.Session.reconcile`)
refuses every ``spend`` and ``reserve*`` with :class:`impl.LedgerClosed` (a stutter,
reported to no observer); split, merge, consume, confirm, forfeit and applying
refunds still work.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from impl._affine import Affine
from impl.errors import (
    AMOUNT_LIMIT,
    AffineViolation,
    BudgetError,
    BudgetTypeError,
    InsufficientBudget,
    SessionMismatch,
    amount_error,
    charge_error,
    closed_error,
    consumed,
)
from impl.ledger import RELEASED, Book
from impl.receipts import (
    ReasoningReceipt,
    Receipt,
    Refund,
    StreamReceipt,
    new_stream,
    new_ticket,
)

if TYPE_CHECKING:
    from impl.session import Session

_LIMIT = AMOUNT_LIMIT


def _refusal(book: Book, op: str, r: int, held: int) -> InsufficientBudget:
    """Build the refusal of ``op(r)`` by a handle holding ``held`` (caller holds the lock).

    Reports ``spend_insufficient(r)`` to observers when ``r`` exceeds the session's
    live sum (the ledger does not change either way).
    """
    live = book._live_sum
    if book._spend_insufficient(r):
        remedy = (f"the whole session holds only {live} uc live; "
                  f"reserve less, or confirm pending receipts and apply their refunds")
    else:
        remedy = "split less or merge a sibling"
    return InsufficientBudget(f"{op}({r}) refused: budget holds {held} uc; {remedy}",
                              op, r, held)


class Budget(Affine):
    """An affine handle on ``available`` uc of one session (paper section 3.1).

    Guarantees: the amount never changes; every operation consumes the handle
    atomically (of two threads using one handle, exactly one succeeds, the other gets
    :class:`impl.AffineViolation`); every method and property of a consumed handle, and
    ``copy``/``deepcopy``/``pickle`` of any handle, raise :class:`impl.AffineViolation`;
    a refused or invalid operation raises and leaves the handle usable and the ledger
    unchanged. A handle dropped without being consumed keeps counting in ``live_sum``
    (the session under-spends, which is cap-safe). Budgets come only from
    :meth:`impl.Session.take` and from operations on budgets and refunds (``Budget(x)``
    raises ``TypeError``; see :mod:`impl._affine`). ``repr()`` never raises: it shows
    ``<consumed Budget>``.
    """

    __slots__ = ("_amount", "_live", "_session")

    _session: Session
    _amount: int
    _live: bool

    @property
    def available(self) -> int:
        """The int uc this handle holds."""
        if not self._live:
            raise consumed("Budget", "available")
        return self._amount

    @property
    def session(self) -> Session:
        """The :class:`impl.Session` this budget belongs to."""
        if not self._live:
            raise consumed("Budget", "session")
        return self._session

    def spend(self, r: int, *, charged: int | None = None, failed: bool = False) -> Budget:
        """Pay for one call of reservation ``r`` without a receipt; returns the rest.

        ``spend_success(r, c)``, or ``spend_fail_post_check(r, c)`` when ``failed`` (the
        call failed after the budget check and the provider still billed ``c``). ``c``
        (``charged``) defaults to ``r``; ``r - c`` is lost (``total_unrecoverable``).
        Needs ``0 < r < 2**63`` and ``0 <= charged <= r`` (checked before availability).
        """
        s = self._session
        b = _unarmed(s)
        try:
            with s._lock:
                if not self._live:
                    raise consumed("Budget", "spend")
                if type(r) is not int or r <= 0:
                    raise amount_error("spend", "r", r)
                if charged is None:
                    c = r
                elif type(charged) is not int or charged < 0 or charged > r:
                    raise charge_error("spend", "charged", charged, r,
                                       remedy=f"charged must be between 0 and r={r}")
                else:
                    c = charged
                if failed is not False and failed is not True:
                    raise BudgetTypeError(
                        f"spend: failed must be a bool, got {type(failed).__name__}")
                if s._overdraft:
                    raise _closed(s, "spend", r)
                held = self._amount
                if r > held:  # also when r >= 2**63 (held < 2**63): classify off the hot path
                    if r >= _LIMIT:
                        raise amount_error("spend", "r", r)
                    raise _refusal(s, "spend", r, held)
                b._amount = held - r
                step = s._spend_fail_post_check if failed else s._spend_success
                if not step(r, c, self, b):
                    raise consumed("Budget", "spend")
        finally:  # a refusal queues spend_insufficient: deliver it too
            if s._outbox:
                s._deliver()
        return b

    def reserve(self, r: int) -> tuple[Budget, Receipt]:
        """Reserve ``r`` for one call: ``reserve(r)``; returns (rest, receipt).

        Resolve the receipt after the call with ``confirm(actual)`` or ``forfeit()``.
        Needs ``0 < r < 2**63``; :class:`impl.InsufficientBudget` when ``r`` exceeds
        :attr:`available`.
        """
        rc = new_ticket(Receipt, self._session)
        return self._reserve_into("reserve", rc, lambda: _positive("reserve", r)), rc

    def reserve_with_reasoning(self, visible: int, reasoning: int
                               ) -> tuple[Budget, ReasoningReceipt]:
        """Reserve a call's visible estimate plus a reasoning-token allowance.

        Paper section 6.8 (``spend_with_reasoning``): reasoning models bill hidden
        reasoning tokens, so the reservation is ``visible + reasoning`` uc, one
        ``reserve(visible + reasoning)`` step. ``visible >= 0``, ``reasoning >= 0``,
        their sum ``> 0`` and ``< 2**63``. The receipt resolves like any
        :class:`impl.Receipt`.
        """
        rc = new_ticket(ReasoningReceipt, self._session)
        rc._visible, rc._reasoning = visible, reasoning
        total = partial(_reasoning_total, visible, reasoning)
        return self._reserve_into("reserve_with_reasoning", rc, total), rc

    def reserve_stream(self, r: int) -> tuple[Budget, StreamReceipt]:
        """Reserve ``r`` for a streamed call: ``reserve(r)``; returns (rest, stream).

        Confirm chunks with ``stream.confirm_chunk(c)``, then ``stream.close()`` for a
        :class:`impl.Refund` of what was not used (see :class:`impl.StreamReceipt`).
        """
        st = new_stream(StreamReceipt, self._session, 0)

        def total() -> int:
            st._amount = _positive("reserve_stream", r)
            return r

        return self._reserve_into("reserve_stream", st, total), st

    def _reserve_into(self, op: str, ticket: Receipt | StreamReceipt,
                      total: Callable[[], int]) -> Budget:
        """Apply ``reserve(total())`` arming ``ticket``; returns the rest of the budget.

        ``total`` validates the amount (after the liveness check, under the lock).
        """
        s = self._session
        b = _unarmed(s)
        try:
            with s._lock:
                if s._pending:
                    s._settle_later()
                if not self._live:
                    raise consumed("Budget", op)
                self._reserve_locked(op, total(), b, ticket)
        finally:  # a refusal queues spend_insufficient: deliver it too
            if s._outbox:
                s._deliver()
        return b

    def _reserve_locked(self, op: str, r: int, b: Budget, ticket: Receipt | StreamReceipt
                        ) -> None:
        """Check ``r`` against this handle and apply ``reserve(r)`` (lock held)."""
        s = self._session
        if s._overdraft:
            raise _closed(s, op, r)
        held = self._amount
        if r > held:  # also when r >= 2**63 (held < 2**63): classify off the hot path
            if r >= _LIMIT:
                raise amount_error(op, "r", r)
            raise _refusal(s, op, r, held)
        b._amount = held - r
        if not s._reserve(r, ticket, self, b):
            raise consumed("Budget", op)

    def split(self, a: int) -> tuple[Budget, Budget]:
        """Split into ``(x, y)`` with ``x`` holding ``a`` and ``y`` the rest (stutter).

        ``0 <= a <= available``; use it to delegate a sub-budget to a sub-agent: the
        parent handle is consumed, so it cannot spend the delegated money.
        """
        s = self._session
        x, y = _unarmed(s), _unarmed(s)
        with s._lock:
            if not self._live:
                raise consumed("Budget", "split")
            if type(a) is not int or a < 0 or a >= _LIMIT:
                raise amount_error("split", "a", a, minimum=0)
            held = self._amount
            if a > held:
                raise InsufficientBudget(
                    f"split({a}) refused: budget holds {held} uc; split at most {held}",
                    "split", a, held)
            x._amount, y._amount = a, held - a
            if not self._live:  # used by code that interrupted the checks' calls
                raise consumed("Budget", "split")
            self._live, x._live, y._live = False, True, True
        return x, y

    def merge(self, other: Budget) -> Budget:
        """Return one budget holding both amounts (stutter); consumes both handles.

        Both must be live budgets of the same session (:class:`impl.SessionMismatch`
        otherwise; merging a handle with itself raises :class:`impl.AffineViolation`).
        """
        if not self._live:
            raise consumed("Budget", "merge")
        if type(other) is not Budget:
            raise BudgetTypeError(
                f"merge: expected a Budget, got {type(other).__name__}")
        if other is self:
            raise AffineViolation(
                "merge: a budget cannot be merged with itself (that would count its "
                "money twice); merge it with a different budget of the same session")
        s = self._session
        try:
            theirs = other._session
        except AttributeError:  # only a blank Budget() lacks it: no cost on the normal path
            raise _blank("merge") from None
        if theirs is not s:
            raise SessionMismatch(
                f"merge refused: the budgets belong to different sessions (caps "
                f"{s._cap} and {other._session._cap} uc); each session is its own "
                f"ledger, so money cannot move between them; keep them apart")
        m = _unarmed(s)
        with s._lock:
            if not self._live:
                raise consumed("Budget", "merge")
            if not other._live:
                raise consumed("Budget", "merge (argument)")
            m._amount = self._amount + other._amount
            self._live, other._live, m._live = False, False, True
        return m

    def consume(self) -> int:
        """Release what this handle holds and return it: ``consume(a)``.

        The money leaves the system (``total_released``); stutter when ``a == 0``.
        """
        s = self._session
        with s._lock:
            if not self._live:
                raise consumed("Budget", "consume")
            a = self._amount
            if not a:
                self._live = False
            elif not s._consume(a, self):
                raise consumed("Budget", "consume")
        if s._outbox:
            s._deliver()
        return a

    def _absorb_refund(self, refund: Refund) -> Budget:
        """``refund.apply_to(self)``: ``refund_to(a)``; consumes both (see Refund)."""
        try:
            s = self._session
        except AttributeError:  # a blank Budget() given to Refund.apply_to
            raise _blank("apply_to") from None
        if refund._book is not s:
            if not self._live:
                raise consumed("Budget", "apply_to (argument)")
            raise SessionMismatch(
                f"apply_to refused: the refund ({refund._owed} uc) belongs to "
                f"another session than the budget; apply it to a budget of its own session")
        nb = _unarmed(s)
        with s._lock:
            if not refund._live:
                raise consumed("Refund", "apply_to")
            if not self._live:
                raise consumed("Budget", "apply_to (argument)")
            a = refund._owed
            nb._amount = self._amount + a
            if not a:
                refund._live, self._live, nb._live = False, False, True
            elif s._refund_to(a, refund, self, nb):
                refund._live = False
            else:
                raise consumed("Budget", "apply_to (argument)")
        refund._on_drop = RELEASED
        if s._outbox:
            s._deliver()
        return nb

    def __repr__(self) -> str:
        live = getattr(self, "_live", None)
        if live is None:
            return "<blank Budget>"
        if not live:
            return "<consumed Budget>"
        return f"<Budget {self._amount} uc>"


def _closed(book: Book, op: str, r: int) -> BudgetError:
    """The refusal of ``op(r)`` on a closed ledger (an out-of-range ``r`` is still
    reported as bad input first)."""
    return amount_error(op, "r", r) if r >= _LIMIT else closed_error(op, r, book._overdraft)


def _unarmed(session: Session) -> Budget:
    """A budget of ``session`` that is not live yet: the operation's step arms it."""
    b = Budget()
    b._session = session
    b._live = False
    return b


def _positive(op: str, r: int) -> int:
    """``r`` if it is an int in ``0 < r < 2**63``, else the amount error."""
    if type(r) is not int or r <= 0 or r >= _LIMIT:
        raise amount_error(op, "r", r)
    return r


def _reasoning_total(visible: int, reasoning: int) -> int:
    """Validate a visible + reasoning pair and return the total reservation."""
    op = "reserve_with_reasoning"
    if type(visible) is not int or visible < 0 or visible >= _LIMIT:
        raise amount_error(op, "visible", visible, minimum=0)
    if type(reasoning) is not int or reasoning < 0 or reasoning >= _LIMIT:
        raise amount_error(op, "reasoning", reasoning, minimum=0)
    total = visible + reasoning
    if total == 0 or total >= _LIMIT:
        raise amount_error(op, "visible + reasoning", total)
    return total


def _blank(op: str) -> BudgetTypeError:
    """The error for a blank ``Budget()`` (not made by a Session) passed as an argument."""
    return BudgetTypeError(
        f"{op}: that Budget was not made by a Session (Budget() is blank and holds "
        f"nothing); pass a budget from Session.take(), split, spend or reserve")
