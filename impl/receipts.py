"""Receipts (reserved money awaiting reconciliation) and refunds of a Session.

Ledger steps (SEMANTICS.md names):

- ``Receipt.confirm(c)``: ``confirm_with_refund(r, c)``; returns a :class:`Refund` of
  ``r - c``.
- ``Receipt.forfeit()``, or a receipt garbage-collected unresolved, or left unresolved
  at the end of a ``with`` block: ``forfeit(r)``.
- ``Refund.apply_to(b)``: ``refund_to(a)`` when ``a > 0`` (a zero refund is a stutter);
  a refund collected unapplied warns (``ResourceWarning``) and stays outstanding.
- :class:`StreamReceipt`: see its docstring (``confirm_with_refund(c_i, c_i)`` per
  chunk, ``confirm_with_refund(rest, 0)`` at close).

Every resolving method is atomic under the session lock: of two threads resolving the
same receipt, exactly one succeeds and the other gets :class:`impl.AffineViolation`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MethodType, TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from impl._affine import Affine
from impl.errors import BudgetTypeError, charge_error, consumed
from impl.ledger import DROPPED, RELEASED

if TYPE_CHECKING:
    from impl.budget import Budget
    from impl.ledger import Book


class Ticket(Affine):
    """Base of receipts and pool reservations: ``r`` uc held outstanding.

    Guarantees: resolved at most once (a second resolve raises
    :class:`impl.AffineViolation`); every method and property of a resolved ticket
    raises :class:`impl.AffineViolation`; an unresolved ticket is forfeited
    (``forfeit(r)``) when garbage-collected, with a ``ResourceWarning``, or silently at
    the end of a ``with`` block (also on an exception). ``repr()`` and the ``with``
    protocol's exit (which does nothing for a resolved ticket) are the only methods a
    resolved ticket answers.

    ``_claim`` is what the ticket holds in ``outstanding_receipts``: ``r`` from the
    ``reserve`` step that armed it until the step that resolves it (unset before, 0
    after); the transitions move it together with the ledger (see :mod:`impl.ledger`).
    """

    __slots__ = ("_book", "_claim", "_on_drop")

    _book: Book
    _claim: int
    _on_drop: Callable[[], object]

    @property
    def amount(self) -> int:
        """The reserved amount ``r`` (int uc)."""
        r = self._claim
        if not r:
            raise consumed(type(self).__name__, "amount")
        return r

    def forfeit(self) -> None:
        """Give the reservation up: ``forfeit(r)``; the money never comes back.

        Use it when the call failed and nothing is known about its billing.
        """
        book = self._book
        with book._lock:
            r = self._claim
            if not r or not book._forfeit(r, self):
                raise consumed(type(self).__name__, "forfeit")
        self._on_drop = RELEASED
        if book._outbox:
            book._deliver()

    def _forfeit_if_open(self) -> None:
        book = self._book
        with book._lock:
            r = self._claim
            if r:
                book._forfeit(r, self)
        self._on_drop = RELEASED
        if book._outbox:
            book._deliver()

    def __enter__(self) -> Self:
        if not self._claim:
            raise consumed(type(self).__name__, "with")
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._forfeit_if_open()

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._forfeit_if_open()

    __del__ = DROPPED

    def __repr__(self) -> str:
        claim = getattr(self, "_claim", None)
        if claim is None:
            return f"<blank {type(self).__name__}>"
        if not claim:
            return f"<resolved {type(self).__name__}>"
        return f"<{type(self).__name__} {claim} uc>"


class Receipt(Ticket):
    """A session reservation of ``r`` uc for one call, to reconcile after the call.

    Comes from :meth:`impl.Budget.reserve`. Resolve it with :meth:`confirm` (the call
    happened and was billed) or :meth:`~Ticket.forfeit` (nothing is known).
    """

    __slots__ = ()

    def confirm(self, actual: int) -> Refund:
        """Reconcile at the provider-reported charge: ``confirm_with_refund(r, actual)``.

        Returns a :class:`Refund` of ``r - actual`` (possibly 0) to apply to a budget of
        the same session. ``actual`` must be an int with ``0 <= actual <= r``; an
        ``actual > r`` raises :class:`impl.ChargeExceedsReservation` (a ``ValueError``)
        and leaves the receipt open.
        """
        book = self._book
        refund = new_refund(book)
        with book._lock:
            r = self._claim
            if not r:
                raise consumed(type(self).__name__, "confirm")
            if type(actual) is not int or actual < 0 or actual > r:
                raise charge_error(
                    "confirm", "actual", actual, r,
                    remedy=f"the receipt stays open: confirm({r}) to record the full "
                           f"reservation, or forfeit() it")
            if not book._confirm_with_refund(r, actual, self, refund):
                raise consumed(type(self).__name__, "confirm")
        self._on_drop = RELEASED
        if not refund._owed:
            refund._on_drop = RELEASED
        if book._outbox:
            book._deliver()
        return refund


class ReasoningParts:
    """The two parts of a reasoning reservation, readable while it is unresolved
    (shared by :class:`ReasoningReceipt` and :class:`impl.pool.ReasoningReservation`)."""

    __slots__ = ()

    _claim: int
    _visible: int
    _reasoning: int

    @property
    def visible(self) -> int:
        """The part of ``amount`` reserved for the visible call (uc)."""
        if not self._claim:
            raise consumed(type(self).__name__, "visible")
        return self._visible

    @property
    def reasoning(self) -> int:
        """The part of ``amount`` reserved for hidden reasoning tokens (uc)."""
        if not self._claim:
            raise consumed(type(self).__name__, "reasoning")
        return self._reasoning


class ReasoningReceipt(ReasoningParts, Receipt):
    """A receipt whose amount adds a reasoning-token allowance (paper section 6.8).

    ``amount == visible + reasoning``: the visible-output estimate plus an allowance
    for hidden reasoning tokens that reasoning models bill as output. It is one
    ``reserve(visible + reasoning)`` step and resolves exactly like a :class:`Receipt`
    (``confirm_with_refund(r, actual)`` with ``actual`` including reasoning tokens, or
    ``forfeit(r)``).
    """

    __slots__ = ("_reasoning", "_visible")


class Refund(Affine):
    """Money returned by a confirmed receipt, not yet back in a budget.

    It counts in ``outstanding_refunds`` until applied with :meth:`apply_to`. A refund
    dropped without being applied stays outstanding forever (the session under-spends,
    which is cap-safe) and, when it is garbage-collected, warns with a
    ``ResourceWarning`` naming the amount, as an unresolved receipt does.
    """

    __slots__ = ("_book", "_live", "_on_drop", "_owed")

    _book: Book
    _owed: int
    _live: bool
    _on_drop: Callable[[], object]

    @property
    def amount(self) -> int:
        """The refunded amount (int uc, may be 0)."""
        if not self._live:
            raise consumed("Refund", "amount")
        return self._owed

    def apply_to(self, budget: Budget) -> Budget:
        """Return ``budget`` plus this refund: ``refund_to(amount)`` (stutter if 0).

        Consumes both this refund and ``budget`` atomically (a second apply raises
        :class:`impl.AffineViolation`). The budget must belong to the same session
        (:class:`impl.SessionMismatch` otherwise); on any error both stay usable.
        """
        if not self._live:
            raise consumed("Refund", "apply_to")
        try:
            absorb = budget._absorb_refund
        except AttributeError:
            raise BudgetTypeError(
                f"apply_to: expected a Budget, got {type(budget).__name__}; apply the "
                f"refund to a Budget of the same session") from None
        return absorb(self)

    __del__ = DROPPED

    def __repr__(self) -> str:
        live = getattr(self, "_live", None)
        if live is None:
            return "<blank Refund>"
        if not live:
            return "<applied Refund>"
        return f"<Refund {self._owed} uc>"


def new_refund(book: Book) -> Refund:
    """A live Refund holding nothing yet: ``confirm_with_refund`` gives it its claim."""
    rf = Refund()
    rf._book = book
    rf._owed = 0
    rf._live = True
    rf._on_drop = MethodType(book._dropped, rf)
    return rf


class StreamBase(Affine):
    """Base of streaming reservations: reserve once, confirm chunk by chunk.

    Holds ``rest``: the part of the reservation not yet confirmed (its ``_claim`` in
    ``outstanding_receipts``). Every chunk ``c`` confirmed moves ``c`` out of ``rest``
    into ``total_charged`` as ``confirm_with_refund(c, c)``: the chunk is treated as a
    sub-receipt of exactly ``c`` reconciled at its full amount (guard
    ``c <= outstanding_receipts`` holds because ``rest`` is part of it). A zero chunk is
    a stutter. Unresolved at GC: ``forfeit(rest)`` with a ``ResourceWarning``;
    unresolved at the end of a ``with`` block: ``forfeit(rest)`` (a cancelled stream
    may have been billed for tokens it never reported, paper section 6.8, so the rest
    is not refunded).
    """

    __slots__ = ("_amount", "_book", "_claim", "_live", "_on_drop")

    _book: Book
    _amount: int
    _claim: int
    _live: bool
    _on_drop: Callable[[], object]

    @property
    def amount(self) -> int:
        """The whole reservation (uc)."""
        if not self._live:
            raise consumed(type(self).__name__, "amount")
        return self._amount

    @property
    def outstanding(self) -> int:
        """The part of the reservation not yet confirmed (uc)."""
        if not self._live:
            raise consumed(type(self).__name__, "outstanding")
        return self._claim

    @property
    def charged(self) -> int:
        """What the confirmed chunks added up to (uc)."""
        if not self._live:
            raise consumed(type(self).__name__, "charged")
        return self._amount - self._claim

    def confirm_chunk(self, c: int) -> None:
        """Record that a chunk was billed ``c`` uc: ``confirm_with_refund(c, c)``.

        ``0 <= c <= outstanding``; a larger ``c`` raises
        :class:`impl.ChargeExceedsReservation` and leaves the stream as it was.
        """
        book = self._book
        with book._lock:
            if not self._live:
                raise consumed(type(self).__name__, "confirm_chunk")
            rest = self._claim
            if type(c) is not int or c < 0 or c > rest:
                raise charge_error(
                    "confirm_chunk", "c", c, rest, of="what the stream still holds",
                    remedy=f"the stream stays open with {rest} uc outstanding; close() "
                           f"or forfeit() it")
            if c:
                book._confirm_with_refund(c, c, self, book)
        if book._outbox:
            book._deliver()

    def forfeit(self) -> None:
        """Give up what is still outstanding: ``forfeit(rest)`` (stutter if 0)."""
        book = self._book
        with book._lock:
            if not self._live:
                raise consumed(type(self).__name__, "forfeit")
            self._forfeit_locked()
        if book._outbox:
            book._deliver()

    def _forfeit_locked(self) -> None:
        self._live = False
        rest = self._claim
        if rest:
            self._book._forfeit(rest, self)
        self._on_drop = RELEASED

    def _close_locked(self, op: str, holder: Any) -> int:
        """Mark closed and apply ``confirm_with_refund(rest, 0)``, ``holder`` receiving
        the refund; returns ``rest``."""
        if not self._live:
            raise consumed(type(self).__name__, op)
        self._live = False
        rest = self._claim
        if rest:
            self._book._confirm_with_refund(rest, 0, self, holder)
        self._on_drop = RELEASED
        return rest

    def __enter__(self) -> Self:
        if not self._live:
            raise consumed(type(self).__name__, "with")
        return self

    async def __aenter__(self) -> Self:
        return self.__enter__()

    def _exit(self) -> None:
        book = self._book
        with book._lock:
            if self._live:
                self._forfeit_locked()
        if book._outbox:
            book._deliver()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._exit()

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._exit()

    __del__ = DROPPED

    def __repr__(self) -> str:
        live = getattr(self, "_live", None)
        if live is None:
            return f"<blank {type(self).__name__}>"
        if not live:
            return f"<resolved {type(self).__name__}>"
        return f"<{type(self).__name__} {self._claim} of {self._amount} uc outstanding>"


class StreamReceipt(StreamBase):
    """A session streaming reservation (from :meth:`impl.Budget.reserve_stream`).

    Ledger mapping: ``reserve(r)`` once; ``confirm_with_refund(c_i, c_i)`` per chunk
    with ``c_i > 0``; :meth:`close` is ``confirm_with_refund(rest, 0)`` (when
    ``rest > 0``) and returns a :class:`Refund` of ``rest`` whose ``apply_to`` is
    ``refund_to(rest)``. Every step is a legal SEMANTICS.md transition.
    """

    __slots__ = ()

    def close(self) -> Refund:
        """End the stream: ``confirm_with_refund(rest, 0)``; returns a Refund of ``rest``."""
        book = self._book
        refund = new_refund(book)
        with book._lock:
            self._close_locked("close", refund)
        if not refund._owed:
            refund._on_drop = RELEASED
        if book._outbox:
            book._deliver()
        return refund


T = TypeVar("T", bound=Ticket)
S = TypeVar("S", bound=StreamBase)


def new_ticket(cls: type[T], book: Book) -> T:
    """A ticket of ``book`` holding nothing: a ``reserve`` step arms it (sets ``_claim``)."""
    t = cls()
    t._book = book
    t._on_drop = MethodType(book._dropped, t)
    return t


def new_stream(cls: type[S], book: Book, amount: int) -> S:
    """A stream for ``amount``, holding nothing until a ``reserve`` step arms it."""
    t = cls()
    t._book = book
    t._amount = amount
    t._claim = 0
    t._live = True
    t._on_drop = MethodType(book._dropped, t)
    return t
