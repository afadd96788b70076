"""The six-field conservation ledger (SPEC.md), ledger steps, and the locked book.

:class:`Ledger` is an immutable snapshot of the six SPEC.md fields. :class:`Step` is
one applied transition, as observers see it: ``step.name`` is one of the eight
SPEC.md transition names and ``step.params`` a dict with SPEC.md parameter names
(``r``, ``c``, ``a``). :class:`Book` is the mutable ledger shared by every value of one
session or pool, guarded by one lock.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

from impl._affine import Affine
from impl._sched import LockLike, new_lock
from impl.errors import AMOUNT_LIMIT, BudgetTypeError, amount_error

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "spend_success": ("r", "c"),
    "spend_insufficient": ("r",),
    "spend_fail_post_check": ("r", "c"),
    "consume": ("a",),
    "reserve": ("r",),
    "confirm_with_refund": ("r", "c"),
    "forfeit": ("r",),
    "refund_to": ("a",),
}
"""The eight SPEC.md transitions and their parameter names, in SPEC.md order."""

FIELDS: tuple[str, ...] = (
    "live_sum",
    "outstanding_receipts",
    "outstanding_refunds",
    "total_charged",
    "total_unrecoverable",
    "total_released",
)
"""The six SPEC.md ledger fields, in SPEC.md order."""


@dataclass(frozen=True, slots=True)
class Step:
    """One ledger step (a SPEC.md transition) applied by the library.

    ``name`` is a SPEC.md transition name, ``params`` maps its SPEC.md parameter
    names to ints, e.g. ``Step("confirm_with_refund", {"r": 500, "c": 320})``.
    One Step object is shared by all observers of a step: do not mutate ``params``.
    """

    name: str
    params: dict[str, int]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({args})"


@dataclass(frozen=True, slots=True)
class Ledger:
    """An immutable snapshot of the six SPEC.md fields of one session or pool.

    Taken under the ledger's lock, so it is consistent: the six fields always sum to
    the cap ``B0`` (Conservation) and ``total_charged <= B0`` (CapSoundness).
    """

    live_sum: int
    outstanding_receipts: int
    outstanding_refunds: int
    total_charged: int
    total_unrecoverable: int
    total_released: int

    @classmethod
    def initial(cls, cap: int) -> Ledger:
        """The SPEC.md initial state: ``live_sum = cap``, every other field 0."""
        return cls(cap, 0, 0, 0, 0, 0)

    @property
    def total(self) -> int:
        """The sum of the six fields (equals ``B0`` in every reachable state)."""
        return (self.live_sum + self.outstanding_receipts + self.outstanding_refunds
                + self.total_charged + self.total_unrecoverable + self.total_released)

    def after(self, step: Step) -> Ledger:
        """The ledger after ``step``, per SPEC.md; ``ValueError`` if its guard fails.

        Lets an observer replay the steps it receives (observers run under the
        ledger's lock and must not call ``ledger()`` themselves).
        """
        name, p = step.name, step.params
        if name not in TRANSITIONS or set(p) != set(TRANSITIONS[name]):
            raise ValueError(f"not a SPEC.md step: {step!r}")
        if any(type(v) is not int or v < 0 for v in p.values()):
            raise ValueError(f"parameters must be natural numbers: {step!r}")
        ls, orc, orf, tc, tu, tr = (self.live_sum, self.outstanding_receipts,
                                    self.outstanding_refunds, self.total_charged,
                                    self.total_unrecoverable, self.total_released)
        ok: bool
        if name in ("spend_success", "spend_fail_post_check"):
            r, c = p["r"], p["c"]
            ok = r > 0 and c <= r and r <= ls
            ls, tc, tu = ls - r, tc + c, tu + r - c
        elif name == "spend_insufficient":
            ok = p["r"] > 0 and p["r"] > ls
        elif name == "consume":
            a = p["a"]
            ok = a > 0 and a <= ls
            ls, tr = ls - a, tr + a
        elif name == "reserve":
            r = p["r"]
            ok = r > 0 and r <= ls
            ls, orc = ls - r, orc + r
        elif name == "confirm_with_refund":
            r, c = p["r"], p["c"]
            ok = r > 0 and c <= r and r <= orc
            orc, tc, orf = orc - r, tc + c, orf + r - c
        elif name == "forfeit":
            r = p["r"]
            ok = r > 0 and r <= orc
            orc, tu = orc - r, tu + r
        else:  # refund_to
            a = p["a"]
            ok = a > 0 and a <= orf
            orf, ls = orf - a, ls + a
        if not ok:
            raise ValueError(f"guard of {step!r} fails in {self!r}")
        return Ledger(ls, orc, orf, tc, tu, tr)


Observer = Callable[[Step], object]


class Book(Affine):
    """The mutable ledger of one session or pool, and its single lock.

    The lock guards the six fields, the observer list and the liveness flags of every
    value of this session/pool, so each operation's check-and-consume is atomic and
    every snapshot is consistent. Observers are called under the lock, in the order
    the steps are applied (a total order that the spec can replay); with no observer,
    the cost is one falsy check per operation.
    """

    __slots__ = (
        "_cap",
        "_charged",
        "_live_sum",
        "_lock",
        "_observers",
        "_pending",
        "_receipts",
        "_refunds",
        "_released",
        "_unrecoverable",
    )

    _lock: LockLike
    _observers: tuple[Observer, ...]
    _pending: list[int]

    def __init__(self, cap: int, op: str) -> None:
        if type(cap) is not int or cap < 0 or cap >= AMOUNT_LIMIT:
            raise amount_error(op, "cap", cap, minimum=0)
        self._lock = new_lock()
        self._cap = cap
        self._live_sum = cap
        self._receipts = 0
        self._refunds = 0
        self._charged = 0
        self._unrecoverable = 0
        self._released = 0
        self._observers = ()
        self._pending = []

    @property
    def cap(self) -> int:
        """``B0``: the cap this ledger started with."""
        return self._cap

    def ledger(self) -> Ledger:
        """A consistent snapshot of the six SPEC.md fields (taken under the lock)."""
        with self._lock:
            if self._pending:
                self._drain()
            return Ledger(self._live_sum, self._receipts, self._refunds, self._charged,
                          self._unrecoverable, self._released)

    def observe(self, fn: Observer) -> Callable[[], None]:
        """Call ``fn(step)`` for every ledger step applied from now on; returns an
        unsubscribe function.

        ``fn`` runs under this ledger's lock, in application order, in the thread that
        applied the step (for a forfeit of a garbage-collected receipt: the finalizer's
        thread, or the next ``ledger()``/``observe()`` call). It must be quick and must
        not call operations of this session or pool (``ledger()`` included): that would
        deadlock. Use :meth:`Ledger.after` to replay steps. If ``fn`` raises, the step
        stays applied and the exception propagates out of the operation, whose results
        are then lost (a lost budget still counts as live, a lost receipt is forfeited
        when collected): cap-safe, but meant for checkers only.
        """
        if not callable(fn):
            raise BudgetTypeError(f"observe: fn must be callable, got {type(fn).__name__}")
        with self._lock:
            if self._pending:
                self._drain()
            self._observers = (*self._observers, fn)

        def unsubscribe() -> None:
            with self._lock:
                obs = list(self._observers)
                if fn in obs:
                    obs.remove(fn)
                    self._observers = tuple(obs)

        return unsubscribe

    def _emit(self, name: str, params: dict[str, int]) -> None:
        """Notify observers of one step (caller holds the lock, observers exist)."""
        step = Step(name, params)
        for fn in self._observers:
            fn(step)

    def _drain(self) -> None:
        """Apply the forfeits queued by finalizers (caller holds the lock)."""
        pending = self._pending
        while pending:
            r = pending.pop()
            self._receipts -= r
            self._unrecoverable += r
            if self._observers:
                self._emit("forfeit", {"r": r})

    def _abandon(self, amount: int, what: str) -> None:
        """Forfeit ``amount`` of a receipt/reservation collected unresolved.

        Called from finalizers only: never blocks (see :mod:`impl._sched`).
        """
        lock = self._lock
        if lock.acquire(False):
            try:
                self._pending.append(amount)
                self._drain()
            finally:
                lock.release()
        else:
            self._pending.append(amount)
        # After the ledger update: a warning turned into an error cannot undo it.
        warnings.warn(
            f"{what} of {amount} uc was garbage-collected unresolved and has been "
            f"forfeited (forfeit({amount})); resolve it explicitly (confirm/commit, "
            f"cancel or forfeit) or use it as a context manager",
            ResourceWarning, stacklevel=2)
