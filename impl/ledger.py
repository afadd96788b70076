"""The six-field conservation ledger, its nine transitions, and the locked book.

:class:`Ledger` is an immutable snapshot of the six SEMANTICS.md fields. :class:`Step` is
one applied transition, as observers see it. :class:`Tally` holds the six fields and
applies the nine SEMANTICS.md transitions, one method each (``_spend_success`` ...
``_refund_to``, ``_reconcile``): nothing else in impl writes a ledger field.
:class:`Book` is a Tally with a lock and observers, shared by every value of one
session or pool; it also records an overdraft (outside the six fields) when a
reconciliation finds more drift than ``live_sum`` can absorb, and is then closed.

Atomicity (the argument for interrupt safety, see also :mod:`impl._sched`). Money
outside ``live_sum`` is always *claimed* by a handle: a ticket's ``_claim`` is its
share of ``outstanding_receipts``, a refund holder's ``_owed`` (a Refund, or a pool
between the two steps of a commit) its share of ``outstanding_refunds``; what refunds
collected unapplied held stays in ``outstanding_refunds``, claimed by the book's
``_abandoned``. Each
transition method checks its guard, then applies its update in **one statement**
whose targets (all on one line) are the ledger fields *and* the claims it moves. That
statement contains no call, so CPython cannot deliver an asynchronous exception
(signal handler, ``KeyboardInterrupt``, ``PyThreadState_SetAsyncExc``) inside it: such
exceptions are raised only where the interpreter checks its "eval breaker" (function
entry, backward jumps, after calls), and a trace function reports the statement's
stores as one line. So an exception lands either before the statement (nothing moved;
the handles made beforehand claim nothing and are garbage) or after it (the money is
claimed by a handle that is returned, or collected). Handles are therefore created
*before* the lock is taken and armed by the transition, never minted after the ledger
changed. Budgets (money in ``live_sum``) follow "consume before, arm after": the
consumed budget's ``_live`` is cleared before the update and the new budget's set
after it, so an exception in between can lose a budget's money (it stays in
``live_sum``, never spendable: cap-safe) but never lets two budgets hold it. The guard
re-reads the claims and liveness it consumes, so a handle used again by code that
interrupted the operation (a signal handler, a finalizer) is refused, not spent twice;
such code runs only where an asynchronous exception could be raised, so the stutters
(``split``, ``merge``, ``take``, a reconciliation without drift) check liveness
after their last call.

Finalizers run no Python code. A ticket, stream or refund keeps in ``_on_drop`` a
bound method, ``types.MethodType(queue.append, value)``, that appends it to its
book's queue of dropped values, and its ``__del__`` is :data:`DROPPED`, a property
whose getter is ``operator.attrgetter``: CPython's finalizer call is then C from end
to end (getter, method, ``list.append``), so no exception can be delivered inside it,
where a Python ``__del__`` could be interrupted before its first statement and lose
the claim. The method makes the value part of a reference cycle, so a dropped
unresolved value is finalized by the cyclic collector; resolving a value replaces
``_on_drop`` with :data:`RELEASED`, which breaks the cycle. The queue is applied under
the lock (forfeits and their warnings) by the next :meth:`Book.ledger`,
:meth:`Book.observe`, ``take()`` or reservation of the book; until then the values
sit in the queue, so nothing is lost whatever interrupts that. The queue is applied
from the front, and a value leaves it only after it is resolved and only if it is still
first: finalizers keep appending meanwhile, and an operation that interrupted the loop
on the same thread may have applied the queue itself. Removing any other value would
strand its claim for good, since CPython runs a finalizer only once per object (PEP
442). Resolving a value again is a no-op. The whole argument is tested by the every-line
harnesses in ``tests/impl/test_impl_interrupts.py`` (an exception or a collection at
each line, a re-entrant operation at each point a signal handler could run) and the
real-signal soak in
``tests/impl/test_impl_signal_soak.py``.

Steps are queued (a plain tuple appended right after the update, with no call in
between) and delivered to observers outside the lock; see :meth:`Book.observe`.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from impl._affine import Affine
from impl._sched import LockLike, new_lock
from impl.errors import (
    AMOUNT_LIMIT,
    BudgetTypeError,
    InsufficientBudget,
    NotMinted,
    ObserverWarning,
    amount_error,
    below_charged_error,
    overdraft_error,
)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "spend_success": ("r", "c"),
    "spend_insufficient": ("r",),
    "spend_fail_post_check": ("r", "c"),
    "consume": ("a",),
    "reserve": ("r",),
    "confirm_with_refund": ("r", "c"),
    "forfeit": ("r",),
    "refund_to": ("a",),
    "reconcile": ("d",),
}
"""The nine SEMANTICS.md transitions and their parameter names, in SEMANTICS.md order."""

FIELDS: tuple[str, ...] = (
    "live_sum",
    "outstanding_receipts",
    "outstanding_refunds",
    "total_charged",
    "total_unrecoverable",
    "total_released",
)
"""The six SEMANTICS.md ledger fields, in SEMANTICS.md order."""


@dataclass(frozen=True, slots=True)
class Step:
    """One ledger step (a SEMANTICS.md transition) applied by the library.

    ``name`` is a SEMANTICS.md transition name, ``params`` a read-only mapping of its SEMANTICS.md
    parameter names to ints, e.g. ``Step("confirm_with_refund", {"r": 500, "c": 320})``,
    whose ``repr`` is ``confirm_with_refund(r=500, c=320)``. One Step object is shared
    by all observers of a step; neither attribute can be changed.
    """

    name: str
    params: Mapping[str, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({args})"


class Tally:
    """The six SEMANTICS.md fields and the nine transitions, one method each.

    Each method takes the transition's SEMANTICS.md parameters (ints the caller has
    type-checked) and the handles whose ownership the step moves; it checks the SEMANTICS.md
    guard (plus the liveness of the handles it consumes), applies the update in one
    statement, queues the step for observers, and returns True; when the guard fails it
    changes nothing and returns False. The caller holds the book's lock.
    """

    __slots__ = (
        "_live_sum",
        "_observers",
        "_outbox",
        "_outstanding_receipts",
        "_outstanding_refunds",
        "_total_charged",
        "_total_released",
        "_total_unrecoverable",
    )

    _observers: tuple[Observer, ...]
    _outbox: deque[tuple[Any, ...]]

    def _set_fields(self, ls: int, orc: int, orf: int, tc: int, tu: int, tr: int) -> None:
        self._live_sum, self._outstanding_receipts, self._outstanding_refunds = ls, orc, orf
        self._total_charged, self._total_unrecoverable, self._total_released = tc, tu, tr
        self._observers = ()
        self._outbox = deque()

    def _fields(self) -> Ledger:
        return Ledger(self._live_sum, self._outstanding_receipts, self._outstanding_refunds,
                      self._total_charged, self._total_unrecoverable, self._total_released)

    # -- the nine SEMANTICS.md transitions -------------------------------------------------

    def _spend_success(self, r: int, c: int, old: Any, new: Any,
                       name: str = "spend_success") -> bool:
        """``spend_success(r, c)``: ``old`` budget consumed, ``new`` (the rest) armed."""
        ls = self._live_sum
        if not (0 < r <= ls and 0 <= c <= r and old._live):
            return False
        old._live = False
        self._live_sum, self._total_charged, self._total_unrecoverable \
            = ls - r, self._total_charged + c, self._total_unrecoverable + (r - c)
        new._live = True
        if self._observers:
            self._outbox.append((self._observers, name, r, c))
        return True

    def _spend_fail_post_check(self, r: int, c: int, old: Any, new: Any) -> bool:
        """``spend_fail_post_check(r, c)``: the update of ``spend_success``, its own name."""
        return self._spend_success(r, c, old, new, "spend_fail_post_check")

    def _spend_insufficient(self, r: int) -> bool:
        """``spend_insufficient(r)``: a refusal; the ledger does not change."""
        if not 0 < r or r <= self._live_sum:
            return False
        if self._observers:
            self._outbox.append((self._observers, "spend_insufficient", r))
        return True

    def _consume(self, a: int, old: Any) -> bool:
        """``consume(a)``: ``old`` budget consumed, ``a`` leaves the system."""
        ls = self._live_sum
        if not (0 < a <= ls and old._live):
            return False
        old._live, self._live_sum, self._total_released = False, ls - a, self._total_released + a
        if self._observers:
            self._outbox.append((self._observers, "consume", a))
        return True

    def _reserve(self, r: int, ticket: Any, old: Any, rest: Any) -> bool:
        """``reserve(r)``: ``ticket`` claims ``r``; ``old`` budget (``None`` for a pool)
        consumed, ``rest`` armed."""
        ls = self._live_sum
        if not (0 < r <= ls and (old is None or old._live)):
            return False
        if old is not None:
            old._live = False
        ticket._claim, self._live_sum, self._outstanding_receipts \
            = r, ls - r, self._outstanding_receipts + r
        if rest is not None:
            rest._live = True
        if self._observers:
            self._outbox.append((self._observers, "reserve", r))
        return True

    def _confirm_with_refund(self, r: int, c: int, t: Any, f: Any) -> bool:
        """``confirm_with_refund(r, c)``: ticket ``t`` gives up ``r``, the refund holder
        ``f`` (a Refund, or the pool) is owed ``r - c``."""
        o = self
        orc = o._outstanding_receipts
        if not (0 < r <= t._claim and r <= orc and 0 <= c <= r):
            return False
        t._claim, f._owed, o._outstanding_receipts, o._total_charged, o._outstanding_refunds = (
            t._claim - r, f._owed + (r - c), orc - r, o._total_charged + c,
            o._outstanding_refunds + (r - c))
        if o._observers:
            o._outbox.append((o._observers, "confirm_with_refund", r, c))
        return True

    def _forfeit(self, r: int, ticket: Any) -> bool:
        """``forfeit(r)``: ``ticket`` gives up ``r``, lost for good."""
        claim = ticket._claim
        if not (0 < r <= claim and r <= self._outstanding_receipts):
            return False
        ticket._claim, self._outstanding_receipts, self._total_unrecoverable \
            = claim - r, self._outstanding_receipts - r, self._total_unrecoverable + r
        if self._observers:
            self._outbox.append((self._observers, "forfeit", r))
        return True

    def _refund_to(self, a: int, refund: Any, old: Any, new: Any) -> bool:
        """``refund_to(a)``: the holder ``refund`` gives up ``a``; ``old`` budget
        consumed, ``new`` armed holding it (both ``None`` for a pool)."""
        owed = refund._owed
        if not (0 < a <= owed and a <= self._outstanding_refunds
                and (old is None or old._live)):
            return False
        if old is not None:
            old._live = False
        refund._owed, self._outstanding_refunds, self._live_sum \
            = owed - a, self._outstanding_refunds - a, self._live_sum + a
        if new is not None:
            new._live = True
        if self._observers:
            self._outbox.append((self._observers, "refund_to", a))
        return True

    def _reconcile(self, d: int, old: Any, new: Any) -> bool:
        """``reconcile(d)``: the provider billed ``d`` more than the ledger charged;
        ``d`` moves from live money to ``total_charged``. ``old`` budget consumed,
        ``new`` (holding the rest) armed; both ``None`` for a pool."""
        ls = self._live_sum
        if not (0 < d <= ls and (old is None or old._live)):
            return False
        if old is not None:
            old._live = False
        self._live_sum, self._total_charged = ls - d, self._total_charged + d
        if new is not None:
            new._live = True
        if self._observers:
            self._outbox.append((self._observers, "reconcile", d))
        return True


class _Scratch:
    """A handle stand-in for :meth:`Ledger.after`: live, with unlimited claims."""

    __slots__ = ("_claim", "_live", "_owed")

    def __init__(self) -> None:
        self._live, self._claim, self._owed = True, AMOUNT_LIMIT, AMOUNT_LIMIT


class _Replay(Tally):
    __slots__ = ()


def _transition(tally: Tally, name: str, params: Mapping[str, int]) -> bool:
    """Apply transition ``name`` to ``tally`` with scratch handles (for replays)."""
    h = _Scratch()
    p = params
    if name == "spend_success":
        return tally._spend_success(p["r"], p["c"], h, h)
    if name == "spend_fail_post_check":
        return tally._spend_fail_post_check(p["r"], p["c"], h, h)
    if name == "spend_insufficient":
        return tally._spend_insufficient(p["r"])
    if name == "consume":
        return tally._consume(p["a"], h)
    if name == "reserve":
        return tally._reserve(p["r"], h, h, h)
    if name == "confirm_with_refund":
        return tally._confirm_with_refund(p["r"], p["c"], h, h)
    if name == "forfeit":
        return tally._forfeit(p["r"], h)
    if name == "refund_to":
        return tally._refund_to(p["a"], h, h, h)
    if name == "reconcile":
        return tally._reconcile(p["d"], h, h)
    raise ValueError(f"not a SEMANTICS.md transition: {name!r}")


@dataclass(frozen=True, slots=True)
class Ledger:
    """An immutable snapshot of the six SEMANTICS.md fields of one session or pool.

    Consistent: the six fields always sum to the cap ``B0`` (Conservation) and
    ``total_charged <= B0`` (CapSoundness).
    """

    live_sum: int
    outstanding_receipts: int
    outstanding_refunds: int
    total_charged: int
    total_unrecoverable: int
    total_released: int

    def _values(self) -> tuple[int, int, int, int, int, int]:
        return (self.live_sum, self.outstanding_receipts, self.outstanding_refunds,
                self.total_charged, self.total_unrecoverable, self.total_released)

    @classmethod
    def initial(cls, cap: int) -> Ledger:
        """The SEMANTICS.md initial state: ``live_sum = cap``, every other field 0."""
        return cls(cap, 0, 0, 0, 0, 0)

    @property
    def total(self) -> int:
        """The sum of the six fields (equals ``B0`` in every reachable state)."""
        return sum(self._values())

    def after(self, step: Step) -> Ledger:
        """The ledger after ``step``, per SEMANTICS.md; ``ValueError`` if its guard fails.

        Applies the same transition methods as the library (:class:`Tally`), so an
        observer can replay the steps it receives.
        """
        if not isinstance(step, Step):
            raise BudgetTypeError(f"after: expected a Step, got {type(step).__name__}")
        name, p = step.name, step.params
        if name not in TRANSITIONS or set(p) != set(TRANSITIONS[name]):
            raise ValueError(f"not a SEMANTICS.md step: {step!r}")
        if any(type(v) is not int or v < 0 for v in p.values()):
            raise ValueError(f"parameters must be natural numbers: {step!r}")
        t = _Replay()
        t._set_fields(*self._values())
        if not _transition(t, name, p):
            raise ValueError(f"guard of {step!r} fails in {self!r}")
        return t._fields()


Observer = Callable[[Step], object]

DROPPED: Any = property(attrgetter("_on_drop"))
"""The ``__del__`` of tickets, streams and refunds: calls their ``_on_drop`` with no
Python frame (see the module docstring)."""

RELEASED: Callable[[], object] = int
"""``_on_drop`` of a resolved value: a no-op, and no reference cycle."""

class Book(Affine, Tally):
    """The mutable ledger of one session or pool, its single lock and its observers.

    The lock guards the six fields, the observer list and the liveness of every value
    of this session/pool, so each operation's check-and-consume is atomic and every
    snapshot is consistent. Observers are called outside the lock (see
    :meth:`observe`); with no observer, the cost is one falsy check per step.
    """

    __slots__ = (
        "_abandoned",
        "_cap",
        "_delivering",
        "_dropped",
        "_late",
        "_lock",
        "_overdraft",
        "_owed",
        "_pending",
        "_reconciled",
    )

    _lock: LockLike
    _pending: list[Any]

    def __init__(self, cap: int, op: str) -> None:
        if type(cap) is not int or cap < 0 or cap >= AMOUNT_LIMIT:
            raise amount_error(op, "cap", cap, minimum=0)
        self._lock = new_lock()
        self._cap = cap
        self._set_fields(cap, 0, 0, 0, 0, 0)
        self._pending = []
        self._dropped = self._pending.append
        self._late: list[tuple[str, int]] = []
        self._delivering = False
        # A pool holds the refund of a commit between its confirm_with_refund and
        # refund_to steps (see BudgetPool).
        self._owed = 0
        # Drift that a reconciliation could not absorb; > 0 closes the ledger.
        self._overdraft = 0
        # the billed total last accepted by a reconciliation (-1: none yet)
        self._reconciled = -1
        # What refunds collected unapplied held: they stay in outstanding_refunds for
        # good, claimed here (see the module docstring).
        self._abandoned = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        def checked_init(self: Book, *args: Any, **kw: Any) -> None:
            init(self, *args, **kw)
            try:
                self._lock  # noqa: B018 - set by Book.__init__ only
            except AttributeError:
                raise NotMinted(
                    f"{cls.__name__}.__init__ did not call {Book.__name__}'s: the object "
                    f"has no ledger; call super().__init__(cap) first") from None

        cls.__init__ = functools.wraps(init)(checked_init)  # type: ignore[method-assign]

    @property
    def cap(self) -> int:
        """``B0``: the cap this ledger started with."""
        return self._cap

    @property
    def overdraft(self) -> int:
        """What reconciliation could not absorb (int uc, 0 while the ledger is open):
        the largest ``drift - live_sum`` of a reconciliation that raised
        :class:`impl.Overdraft`. Not one of the six fields; it never decreases."""
        return self._overdraft

    @property
    def closed(self) -> bool:
        """True once a reconciliation raised :class:`impl.Overdraft`: from then on
        every reservation and spend raises :class:`impl.LedgerClosed` (settling what
        is in flight stays allowed). A closed ledger never reopens."""
        return self._overdraft > 0

    def _reconcile_check(self, op: str, billed: int, held: int | None) -> tuple[int, Any]:
        """The drift ``billed - total_charged`` and the error refusing
        ``reconcile(billed)`` (``None`` when ``reconcile(d)`` may be applied, or ``d ==
        0``), for a handle holding ``held`` (``None``: a pool). Records the overdraft
        when the drift exceeds ``live_sum`` (caller holds the lock; ``billed`` is an
        int in range). The billed total accepted last (``_reconciled``, which the
        caller sets once the step is applied) repeated after charges landed is a
        drift of 0, not an error: a retry, or two callers passing one bill, apply its
        drift once whatever was committed in between."""
        charged, live = self._total_charged, self._live_sum
        d = billed - charged
        if d < 0:
            if billed != self._reconciled:
                return d, below_charged_error(op, billed, charged)
            d = 0  # the bill accepted last time, again: charges landed since
        was = self._overdraft
        if was or d > live:
            if d - live > was:
                self._overdraft = d - live
            return d, overdraft_error(op, billed, charged, d, live, self._overdraft,
                                      closed_before=was > 0)
        if held is not None and d > held:
            return d, InsufficientBudget(
                f"{op}({billed}) refused: the drift of {d} uc exceeds the budget's {held} "
                f"uc (the session holds {live} uc live); merge its sibling budgets into it "
                f"first", op, d, held)
        return d, None

    def ledger(self) -> Ledger:
        """A consistent snapshot of the six SEMANTICS.md fields.

        Never blocks on its own thread: called from code that interrupted this book's
        critical section on the same thread (a finalizer run by the cyclic collector,
        a signal handler), it reads the fields without the lock (they only change in
        single statements, so the snapshot is still a state the ledger was in).
        """
        lock = self._lock
        if lock._is_owned():
            return self._fields()
        with lock:
            dropped = self._settle()
            led = self._fields()
            if self._late:
                dropped[:0], self._late = self._late, []
        if self._outbox:
            self._deliver()
        _warn_dropped(dropped)
        return led

    def observe(self, fn: Observer) -> Callable[[], None]:
        """Call ``fn(step)`` for every ledger step applied from now on; returns an
        unsubscribe function.

        Delivery: steps are queued under the lock in the order they are applied, each
        with the observers subscribed at that moment, and delivered outside the lock,
        one step at a time to each of its observers, by one thread at a time (a total
        order: the order of application). The operation that applied a
        step delivers it before returning, unless another thread is delivering (that
        thread then delivers it). ``fn`` may call ``ledger()``, ``observe()``, its own
        unsubscribe and any operation of this session or pool: steps those apply are
        delivered after the current one. An exception raised by ``fn`` never changes
        what the operation did or returned: it is reported as an
        :class:`impl.ObserverWarning` (``warnings.warn``; if a warnings filter turns
        that into an error, the report is written to ``sys.stderr`` instead) and the
        step is still delivered to the other observers.
        """
        if not callable(fn):
            raise BudgetTypeError(f"observe: fn must be callable, got {type(fn).__name__}")
        with self._lock:
            dropped = self._settle()
            pending, self._observers = bool(self._outbox), (*self._observers, fn)
        if pending:
            self._deliver()
        _warn_dropped(dropped)

        def unsubscribe() -> None:
            with self._lock:
                obs = list(self._observers)
                if fn in obs:
                    obs.remove(fn)
                    self._observers = tuple(obs)

        return unsubscribe

    def _deliver(self) -> None:
        """Deliver the queued steps to the observers, in order, outside the lock."""
        lock, outbox = self._lock, self._outbox
        mine = False
        try:
            with lock:
                if self._delivering:
                    return
                self._delivering = mine = True
            while True:
                with lock:
                    if not outbox:
                        self._delivering = mine = False
                        return
                    entry = outbox.popleft()
                observers, name = entry[0], entry[1]
                step = Step(name, dict(zip(TRANSITIONS[name], entry[2:], strict=True)))
                for fn in observers:
                    try:
                        fn(step)
                    except Exception as exc:  # reported, never propagated
                        _report(fn, step, exc)
        finally:
            if mine:
                with lock:
                    self._delivering = False

    def _settle_later(self) -> None:
        """Apply the queue inside an operation (lock held); its warnings
        wait for the next :meth:`ledger` (an operation must not raise them)."""
        self._late.extend(self._settle())

    def _settle(self) -> list[tuple[str, int]]:
        """Apply the queue of dropped values and any refund a pool commit left owed
        (caller holds the lock, this thread); returns what to warn about."""
        pending = self._pending
        dropped = []
        while True:
            # The check and the read in one statement: an operation that interrupted
            # this loop (at its backward jump) may have emptied the queue.
            value = pending[0] if pending else None
            if value is None:
                break
            what = _resolve_dropped(self, value)
            if what is not None:
                dropped.append(what)
            # Remove the value just resolved, and only it. Finalizers append at the end
            # meanwhile (the collector runs on any allocation, in any thread), and
            # code that interrupted this loop on this thread (a signal handler's
            # operation, a finalizer) may have settled the queue itself: so the value
            # is dropped from the front only if it is still there, in one statement
            # with no call (resolving it again would be a no-op; removing another,
            # whose finalizer has run once and for all, would strand its claim).
            del pending[:1 if pending and pending[0] is value else 0]
        if self._owed:
            self._refund_to(self._owed, self, None, None)
        return dropped


def _resolve_dropped(book: Book, value: Any) -> tuple[str, int] | None:
    """Forfeit what a collected ticket or stream still claims, or report a collected
    refund that still holds money (caller holds the lock)."""
    value._on_drop = RELEASED
    if type(value).__name__ == "Refund":
        # The book takes over the claim (in one statement: resolving twice reports once).
        owed, value._owed, book._abandoned = value._owed, 0, book._abandoned + value._owed
        return ("Refund", owed) if owed else None
    claim = getattr(value, "_claim", 0)
    if claim and book._forfeit(claim, value):
        return (type(value).__name__, claim)
    return None


def _warn_dropped(dropped: list[tuple[str, int]]) -> None:
    for what, amount in dropped:
        if what == "Refund":
            msg = (f"Refund of {amount} uc was garbage-collected unapplied: it stays in "
                   f"outstanding_refunds for good; apply it to a budget of its session "
                   f"(refund.apply_to(budget))")
        else:
            msg = (f"{what} of {amount} uc was garbage-collected unresolved and is "
                   f"forfeited (forfeit({amount})); resolve it explicitly (confirm/commit, "
                   f"cancel or forfeit) or use it as a context manager")
        warnings.warn(msg, ResourceWarning, stacklevel=3)


def _report(fn: object, step: Step, exc: Exception) -> None:
    msg = (f"observer {fn!r} raised {type(exc).__name__}: {exc} on step {step!r}; the "
           f"step was applied and delivered to the other observers")
    try:
        warnings.warn(msg, ObserverWarning, stacklevel=4)
    except Exception:  # a filter made the warning an error: still report it
        print(msg, file=sys.stderr)
