"""Session: one ledger (one cap ``B0``) and the single mint of its root Budget."""

from __future__ import annotations

from impl.budget import Budget, _unarmed
from impl.errors import AffineViolation
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

    def __repr__(self) -> str:
        return f"<Session cap={self._cap} uc, live {self._live_sum} uc>"
