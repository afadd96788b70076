"""Session: one ledger (one cap ``B0``) and the single mint of its root Budget."""

from __future__ import annotations

from impl.budget import _LIMIT, Budget, _blank, _unarmed
from impl.errors import (
    AffineViolation,
    BudgetTypeError,
    SessionMismatch,
    amount_error,
    consumed,
)
from impl.ledger import Book, _warn_dropped


class Session(Book):
    """One budget session: the SEMANTICS.md ledger with ``B0 = cap`` (int uc).

    ``cap`` is an int with ``0 <= cap < 2**63``. :meth:`take` hands out the root
    :class:`impl.Budget` once; all budgets, receipts and refunds derived from it share
    this session's ledger and lock. :meth:`ledger` returns a consistent snapshot whose
    six fields always sum to ``cap``; :meth:`observe` subscribes to the ledger steps.
    Copying or pickling a session raises :class:`impl.AffineViolation`.
    """

    __slots__ = ("_taken",)

    def __init__(self, cap: int) -> None:
        super().__init__(cap, "Session")
        self._taken = False

    def take(self) -> Budget:
        """Return the root budget holding ``cap``; a second call raises AffineViolation.

        A stutter: the money is already counted in ``live_sum``.
        """
        b = _unarmed(self)
        b._amount = self._cap
        with self._lock:
            dropped = self._settle()
            if self._taken:
                raise AffineViolation(
                    "take() was already called on this session: its root budget exists "
                    "once; split that budget to share it, or start a new Session")
            self._taken, b._live = True, True
        if self._outbox:
            self._deliver()
        _warn_dropped(dropped)
        return b

    def reconcile(self, billed_total: int, budget: Budget) -> Budget:
        """Bring the ledger to the provider's true bill, paying the drift out of
        ``budget``; returns the budget that holds the rest.

        ``billed_total`` is the provider's *cumulative* bill for this session in uc (an
        int, ``0 <= billed_total < 2**63``); the drift is ``d = billed_total -
        total_charged``. ``budget`` is a live budget of this session
        (:class:`impl.SessionMismatch` otherwise). Under the session's lock:

        - ``d < 0``: :class:`impl.BilledTotalBelowCharged`, nothing changes (providers
          do not refund usage: the figure is wrong, e.g. one period's bill); except
          the billed total this session accepted last, repeated after charges landed:
          a drift of 0 (applied once, whoever passes it again);
        - ``d == 0``: nothing changes in the ledger; ``budget`` is consumed and a
          fresh budget of the same amount returned (the same billed total twice is a
          no-op);
        - ``0 < d <= budget.available``: ``reconcile(d)``; ``budget`` is consumed, the
          returned budget holds ``available - d``;
        - ``budget.available < d <= live_sum``: :class:`impl.InsufficientBudget`, a
          stutter (merge sibling budgets into ``budget`` first);
        - ``d > live_sum``: the ledger is unchanged, :attr:`overdraft` records ``d -
          live_sum``, :attr:`closed` becomes true and :class:`impl.Overdraft` is
          raised; from then on every ``spend`` and ``reserve*`` of every budget of this
          session raises :class:`impl.LedgerClosed` (split, merge, consume, confirm,
          forfeit and refunds still work). On a closed session every reconciliation
          raises :class:`impl.Overdraft` again, with the current amounts.

        Every refusal leaves ``budget`` usable and the ledger unchanged.
        """
        if type(budget) is not Budget:
            raise BudgetTypeError(
                f"reconcile: expected a Budget to pay the drift from, got "
                f"{type(budget).__name__}")
        try:
            theirs = budget._session
        except AttributeError:  # only a blank Budget() lacks it
            raise _blank("reconcile") from None
        if theirs is not self:
            if not budget._live:
                raise consumed("Budget", "reconcile (argument)")
            raise SessionMismatch(
                f"reconcile refused: the budget belongs to another session than this one "
                f"(caps {theirs._cap} and {self._cap} uc); pay the drift from a budget "
                f"of the session being reconciled")
        nb = _unarmed(self)
        try:
            with self._lock:
                if self._pending:
                    self._settle_later()
                if not budget._live:
                    raise consumed("Budget", "reconcile (argument)")
                if (type(billed_total) is not int or billed_total < 0
                        or billed_total >= _LIMIT):
                    raise amount_error("reconcile", "billed_total", billed_total, minimum=0)
                held = budget._amount
                d, err = self._reconcile_check("reconcile", billed_total, held)
                if err is not None:
                    raise err
                nb._amount = held - d
                if not budget._live:  # used by code that interrupted the calls above
                    raise consumed("Budget", "reconcile (argument)")
                if not d:
                    budget._live, nb._live = False, True
                elif not self._reconcile(d, budget, nb):
                    raise consumed("Budget", "reconcile (argument)")
                self._reconciled = billed_total
        finally:
            if self._outbox:
                self._deliver()
        return nb

    def __repr__(self) -> str:
        state = f", closed (overdraft {self._overdraft} uc)" if self._overdraft else ""
        return f"<Session cap={self._cap} uc, live {self._live_sum} uc{state}>"
