"""BudgetPool: one shared budget for many threads and asyncio tasks.

The pool is a ledger whose ``live_sum`` is the pool's :attr:`BudgetPool.available`.
Ledger steps (SEMANTICS.md names):

========================  ===========================================================
``p.reserve(r)``          ``reserve(r)``; refused: ``spend_insufficient(r)``, nothing
                          changes (the pool's live amount *is* the session live sum)
``res.commit(c)``         ``confirm_with_refund(r, c)``, then ``refund_to(r - c)`` when
                          ``r - c > 0``
``res.cancel()``          ``confirm_with_refund(r, 0)``, then ``refund_to(r)``
``res.forfeit()``         ``forfeit(r)``; also a reservation left unresolved at the end
                          of its ``with`` block (also on an exception), or collected
                          unresolved (with a ``ResourceWarning``)
``p.reconcile(billed)``   ``reconcile(d)`` with ``d = billed - total_charged`` when
                          ``0 < d <= available``; stutter when ``d == 0``; refused
                          (nothing changes) when ``billed < total_charged``; when
                          ``d > available``: nothing changes, the pool is closed
                          (:class:`impl.Overdraft`)
========================  ===========================================================

A closed pool refuses every ``reserve*`` with :class:`impl.LedgerClosed` (a stutter,
reported to no observer); commit, cancel, forfeit and stream chunks and close still
work, since settling what is in flight can only lower the risk.

Each operation applies its steps atomically under the pool's one lock (``commit`` and
``cancel`` apply two: between them the pool itself holds the refund, and a ``ledger()``
applies a refund that an interrupted commit left there), so concurrent
reservations can never together exceed the pool: the check-and-reserve cannot race.
All operations are short and non-blocking apart from that lock, so they are safe to
call from asyncio tasks directly.
"""

from __future__ import annotations

from types import MethodType

from impl.budget import _reasoning_total
from impl.errors import (
    AMOUNT_LIMIT,
    BudgetError,
    InsufficientBudget,
    amount_error,
    charge_error,
    closed_error,
    consumed,
)
from impl.ledger import RELEASED, Book
from impl.receipts import ReasoningParts, StreamBase, Ticket, new_stream, new_ticket

_LIMIT = AMOUNT_LIMIT


class Reservation(Ticket):
    """``r`` uc reserved from a :class:`BudgetPool` for one call.

    Resolve it once: :meth:`commit` (the call was billed ``actual``), :meth:`cancel` (the
    call never happened) or :meth:`~impl.receipts.Ticket.forfeit` (billing unknown).
    Guarantees as for receipts: resolved at most once, atomically; every use after that
    raises :class:`impl.AffineViolation`; unresolved at ``with`` exit or at GC:
    forfeited.
    """

    __slots__ = ()

    def commit(self, actual: int) -> None:
        """Settle at the billed ``actual``: ``confirm_with_refund(r, actual)``, then
        ``refund_to(r - actual)`` when positive (the difference goes back to the pool).

        ``0 <= actual <= r``; ``actual > r`` raises :class:`impl.ChargeExceedsReservation`
        and leaves the reservation open.
        """
        pool = self._book
        with pool._lock:
            r = self._claim
            if not r:
                raise consumed(type(self).__name__, "commit")
            if type(actual) is not int or actual < 0 or actual > r:
                raise charge_error(
                    "commit", "actual", actual, r,
                    remedy=f"the reservation stays open: commit({r}) to charge it in "
                           f"full, or forfeit() it")
            if not pool._confirm_with_refund(r, actual, self, pool):
                raise consumed(type(self).__name__, "commit")
            if r - actual:
                pool._refund_to(r - actual, pool, None, None)
        self._on_drop = RELEASED
        if pool._outbox:
            pool._deliver()

    def cancel(self) -> None:
        """The call never happened: ``confirm_with_refund(r, 0)``, then ``refund_to(r)``."""
        pool = self._book
        with pool._lock:
            r = self._claim
            if not r:
                raise consumed(type(self).__name__, "cancel")
            if not pool._confirm_with_refund(r, 0, self, pool):
                raise consumed(type(self).__name__, "cancel")
            pool._refund_to(r, pool, None, None)
        self._on_drop = RELEASED
        if pool._outbox:
            pool._deliver()


class ReasoningReservation(ReasoningParts, Reservation):
    """A pool reservation adding a reasoning-token allowance (paper section 6.8).

    ``amount == visible + reasoning``; one ``reserve(visible + reasoning)`` step; it
    resolves exactly like a :class:`Reservation`.
    """

    __slots__ = ("_reasoning", "_visible")


class StreamReservation(StreamBase):
    """A pool streaming reservation (from :meth:`BudgetPool.reserve_stream`).

    Ledger mapping: ``reserve(r)`` once; ``confirm_with_refund(c_i, c_i)`` per chunk
    with ``c_i > 0``; :meth:`close` is ``confirm_with_refund(rest, 0)`` then
    ``refund_to(rest)`` (when ``rest > 0``): the unused rest goes back to the pool.
    """

    __slots__ = ()

    def close(self) -> None:
        """End the stream; what was not confirmed goes back to the pool."""
        pool = self._book
        with pool._lock:
            rest = self._close_locked("close", pool)
            if rest:
                pool._refund_to(rest, pool, None, None)
        if pool._outbox:
            pool._deliver()


class BudgetPool(Book):
    """One shared budget of ``cap`` uc for many threads and asyncio tasks.

    ``cap`` is an int, ``0 <= cap < 2**63``. Every call reserves before it is made
    (:meth:`reserve`) and is refused with :class:`impl.InsufficientBudget` if the
    reservation does not fit; the pool's ledger (:meth:`ledger`) always sums to
    ``cap``, and ``total_charged`` never exceeds it.
    """

    __slots__ = ()

    def __init__(self, cap: int) -> None:
        super().__init__(cap, "BudgetPool")

    @property
    def available(self) -> int:
        """What can be reserved right now (the pool's ``live_sum``, int uc)."""
        return self._live_sum

    def _refusal(self, op: str, r: int) -> BudgetError:
        """The error for a ``reserve(r)`` whose guard failed (caller holds the lock):
        an amount error, or a refusal reported as ``spend_insufficient(r)``."""
        if r >= _LIMIT:
            return amount_error(op, "r", r)
        if self._overdraft:
            return closed_error(op, r, self._overdraft)
        live = self._live_sum
        self._spend_insufficient(r)
        return InsufficientBudget(
            f"{op}({r}) refused: pool holds {live} uc of its {self._cap} uc cap; reserve "
            f"less, or retry after in-flight reservations commit", op, r, live)

    def _reserve_ticket(self, op: str, r: int, ticket: Ticket | StreamBase) -> None:
        """Apply ``reserve(r)`` arming ``ticket``, or raise the refusal."""
        with self._lock:
            if self._pending:
                self._settle_later()
            ok = not self._overdraft and self._reserve(r, ticket, None, None)
            err = None if ok else self._refusal(op, r)
        if self._outbox:
            self._deliver()
        if err is not None:
            raise err

    def reserve(self, r: int) -> Reservation:
        """Reserve ``r`` uc for one call: ``reserve(r)``; returns a :class:`Reservation`.

        ``0 < r < 2**63`` (checked first); :class:`impl.InsufficientBudget` when
        ``r > available`` (reported as ``spend_insufficient(r)``; nothing changes).
        """
        if type(r) is not int or r <= 0:
            raise amount_error("reserve", "r", r)
        res = Reservation()
        res._book = self
        res._on_drop = MethodType(self._dropped, res)
        with self._lock:
            if self._pending:
                self._settle_later()
            ok = not self._overdraft and self._reserve(r, res, None, None)
            if not ok:
                err = self._refusal("reserve", r)
        if self._outbox:
            self._deliver()
        if ok:
            return res
        res._on_drop = RELEASED
        raise err

    def reserve_with_reasoning(self, visible: int, reasoning: int) -> ReasoningReservation:
        """Reserve ``visible + reasoning`` uc (paper section 6.8): ``reserve(v + w)``.

        ``visible >= 0``, ``reasoning >= 0``, sum ``> 0`` and ``< 2**63``.
        """
        r = _reasoning_total(visible, reasoning)
        res = new_ticket(ReasoningReservation, self)
        res._visible = visible
        res._reasoning = reasoning
        self._reserve_ticket("reserve_with_reasoning", r, res)
        return res

    def reserve_stream(self, r: int) -> StreamReservation:
        """Reserve ``r`` uc for a streamed call: ``reserve(r)``; see StreamReservation."""
        if type(r) is not int or r <= 0 or r >= _LIMIT:
            raise amount_error("reserve_stream", "r", r)
        st = new_stream(StreamReservation, self, r)
        self._reserve_ticket("reserve_stream", r, st)
        return st

    def reconcile(self, billed_total: int) -> int:
        """Bring the ledger to the provider's true bill; returns the drift applied.

        ``billed_total`` is the provider's *cumulative* bill for this pool in uc (an
        int, ``0 <= billed_total < 2**63``); the drift is ``d = billed_total -
        total_charged``. Under the pool's lock:

        - ``d < 0``: :class:`impl.BilledTotalBelowCharged`, nothing changes (providers
          do not refund usage: the figure is wrong, e.g. one period's bill); except
          that the billed total this pool accepted last, repeated after charges
          landed, returns 0 (a retry, or two tasks passing one bill, apply its drift
          once whatever was committed in between);
        - ``d == 0``: returns 0, nothing changes (the same billed total twice is a
          no-op);
        - ``0 < d <= available``: ``reconcile(d)``, ``d`` moves from ``available`` to
          ``total_charged``; returns ``d``;
        - ``d > available``: the ledger is unchanged, :attr:`overdraft` records
          ``d - available``, :attr:`closed` becomes true and :class:`impl.Overdraft`
          is raised; from then on every ``reserve*`` raises :class:`impl.LedgerClosed`.
          On a closed pool every reconciliation raises :class:`impl.Overdraft` again,
          with the current amounts, and never changes the ledger.
        """
        if type(billed_total) is not int or billed_total < 0 or billed_total >= _LIMIT:
            raise amount_error("reconcile", "billed_total", billed_total, minimum=0)
        with self._lock:
            if self._pending:
                self._settle_later()
            d, err = self._reconcile_check("reconcile", billed_total, None)
            if err is None and (not d or self._reconcile(d, None, None)):
                self._reconciled = billed_total
        if self._outbox:
            self._deliver()
        if err is not None:
            raise err
        return d

    def __repr__(self) -> str:
        state = f", closed (overdraft {self._overdraft} uc)" if self._overdraft else ""
        return f"<BudgetPool cap={self._cap} uc, available {self._live_sum} uc{state}>"
