"""Session: one ledger (one cap ``B0``) and the single mint of its root Budget."""

from __future__ import annotations

from impl.budget import Budget, new_budget
from impl.errors import AffineViolation
from impl.ledger import Book


class Session(Book):
    """One budget session: the SPEC.md ledger with ``B0 = cap`` (int uc).

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
        with self._lock:
            if self._pending:
                self._drain()
            if self._taken:
                raise AffineViolation(
                    "take() was already called on this session: its root budget exists "
                    "once; split that budget to share it, or start a new Session")
            self._taken = True
        return new_budget(self, self._cap)

    def __repr__(self) -> str:
        return f"<Session cap={self._cap} uc, live {self._live_sum} uc>"
