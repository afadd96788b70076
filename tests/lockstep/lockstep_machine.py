"""A Hypothesis state machine that runs impl and the spec ledger in lockstep.

:class:`LockstepMachine` drives impl's public API on one :class:`impl.Session` and one
:class:`impl.BudgetPool`, each paired with its own ``spec.LEDGER`` state (a
:class:`Lockstep`). Every rule performs one library call and, independently, the spec
transitions SPEC.md's mapping table assigns to that call (applied with ``spec.step``:
no guard or update is re-typed here). After every rule the ``lockstep`` invariant
guarantees:

- the steps impl reported through ``observe`` are exactly the transitions the model
  applied, by name and parameters (a refused call is a stutter, or
  ``spend_insufficient(r)`` exactly when that transition's guard holds, SPEC.md);
- impl's ledger equals the model's state, field by field, and no spec invariant is
  broken in either;
- every live value holds what the machine expects (``available``, ``amount``,
  ``outstanding``...), and the sums of those amounts are the ledger's aggregates (the
  refinement's abstraction function, checked on the real objects).

Refused, invalid and misused calls are checked to raise the library's own exception
(with the matching builtin ``ValueError``/``TypeError``/``RuntimeError``) and to change
nothing; the values they touched stay in their bundle and keep being used.

Every kind of event the machine can produce is counted in :data:`COVERAGE` (across all
examples of a run) so that a test can assert that each one occurred: :data:`REQUIRED`.
"""

from __future__ import annotations

import copy
import gc
import pickle
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

import impl
import spec
from spec import LEDGER, VARIABLES

LIMIT = 2**63
"""Every amount must be strictly below this (impl refuses larger ones as invalid)."""

# ---------------------------------------------------------------------------------
# Coverage: what must occur, and the counter every machine writes to.
# ---------------------------------------------------------------------------------

COVERAGE: Counter[str] = Counter()
"""Label -> how often it occurred, summed over every machine since the last clear."""

TRANSITION_LABELS = frozenset(f"step:{t.name}" for t in LEDGER.transitions)
"""One label per spec transition (taken from ``spec.LEDGER``, never re-typed)."""

REFUSAL_LABELS = frozenset({
    "refusal:handle_only",         # r > the handle, r <= the session's live_sum: stutter
    "refusal:spend_insufficient",  # r > the session's live_sum: spend_insufficient(r)
    "refusal:split",               # a refused split: always a stutter
    "refusal:pool",                # a refused pool reservation: spend_insufficient(r)
})

MISUSE_LABELS = frozenset({
    "misuse:use_after_split",
    "misuse:use_after_merge",
    "misuse:use_after_spend",
    "misuse:use_after_reserve",
    "misuse:use_after_consume",
    "misuse:use_after_refund",       # the budget a refund was applied to
    "misuse:merge_consumed_argument",
    "misuse:refund_to_consumed_budget",
    "misuse:merge_with_self",
    "misuse:second_resolve",
    "misuse:refund_applied_twice",
    "misuse:copy",
    "misuse:deepcopy",
    "misuse:pickle",
    "misuse:second_take",
    "misuse:other_session",
    "misuse:wrong_type",
})

INVALID_LABELS = frozenset({
    "invalid:bool",
    "invalid:float",
    "invalid:str",
    "invalid:None",
    "invalid:negative",
    "invalid:zero",
    "invalid:at_least_2**63",
    "invalid:charge_above_r",
    "invalid:failed_not_bool",
    "invalid:cap",
})

OPERATION_LABELS = frozenset({
    "op:split", "op:merge", "op:spend", "op:spend_failed", "op:reserve",
    "op:reserve_with_reasoning", "op:reserve_stream", "op:confirm", "op:forfeit",
    "op:apply_refund", "op:apply_zero_refund", "op:consume", "op:chunk", "op:close",
    "op:commit", "op:cancel", "op:pool_reserve", "op:pool_reserve_with_reasoning",
    "op:pool_reserve_stream", "op:pool_close", "op:abandon", "op:drop_budget",
    "op:drop_refund", "with:exception", "with:normal_exit", "with:resolved_inside",
})

REQUIRED = TRANSITION_LABELS | REFUSAL_LABELS | MISUSE_LABELS | INVALID_LABELS | OPERATION_LABELS
"""Every label a long enough run must produce (the exhaustive profile asserts all)."""


def note(label: str) -> None:
    """Count ``label`` in :data:`COVERAGE` and report it to Hypothesis statistics."""
    COVERAGE[label] += 1
    event(label)


# ---------------------------------------------------------------------------------
# The spec side: one ledger of impl and the spec state it must equal.
# ---------------------------------------------------------------------------------

Params = dict[str, int]


class Lockstep:
    """impl's ledger of one Session or BudgetPool and the ``spec.LEDGER`` state it tracks.

    :meth:`apply` advances the spec state with ``spec.step`` (which raises
    ``spec.GuardFalse`` if the machine ever asks for a transition the spec forbids) and
    records the step impl must report; :meth:`check` compares steps, ledger and
    invariants, then starts a new round.
    """

    def __init__(self, book: impl.Session | impl.BudgetPool, where: str) -> None:
        self.book = book
        self.where = where
        self.b0 = book.cap
        self.state: Any = LEDGER.initial_state(self.b0)
        self.expected: list[tuple[str, Params]] = []
        self.observed: list[tuple[str, Params]] = []
        self.unsubscribe = book.observe(self._record)

    def _record(self, step: impl.Step) -> None:
        self.observed.append((step.name, dict(step.params)))

    def apply(self, name: str, *args: int) -> None:
        """Apply spec transition ``name(*args)`` to the model; impl must report it."""
        self.state = spec.step(LEDGER, self.state, name, *args)
        params = LEDGER.transition(name).params
        self.expected.append((name, dict(zip(params, args, strict=True))))
        note(f"step:{name}")
        note(f"{self.where}:{name}")

    def refuse(self, r: int) -> str:
        """A refused reservation of ``r``: ``spend_insufficient(r)`` iff its guard holds.

        Returns ``"spend_insufficient"`` or ``"stutter"`` (SPEC.md's subtlety: money
        that sits in a sibling handle makes the refusal a stutter).
        """
        if spec.enabled(LEDGER, self.state, "spend_insufficient", r):
            self.apply("spend_insufficient", r)
            return "spend_insufficient"
        return "stutter"

    @property
    def live_sum(self) -> int:
        return int(self.state.live_sum)

    def check(self) -> None:
        """Steps reported == steps applied; ledger == model; every invariant holds."""
        observed, expected = list(self.observed), list(self.expected)
        self.observed.clear()
        self.expected.clear()
        assert observed == expected, (
            f"{self.where} steps mismatch: impl reported {observed}, "
            f"the spec applied {expected}")
        led = self.book.ledger()
        for f in VARIABLES:
            assert getattr(led, f) == getattr(self.state, f), (
                f"{self.where} ledger mismatch in {f}: impl {led}, spec {self.state}")
        assert spec.broken_invariants(LEDGER, self.state, self.b0) == []
        real = LEDGER.State(*(getattr(led, f) for f in VARIABLES))
        broken = spec.broken_invariants(LEDGER, real, self.b0)
        assert broken == [], f"{self.where} ledger breaks {broken}: {led}"


# ---------------------------------------------------------------------------------
# The values the machine holds, and the bundles they live in.
# ---------------------------------------------------------------------------------

BUDGET, RECEIPT, STREAM, REFUND = "budget", "receipt", "stream", "refund"
RESERVATION, POOL_STREAM = "reservation", "pool_stream"
TICKETS = frozenset({RECEIPT, RESERVATION})
STREAMS = frozenset({STREAM, POOL_STREAM})
OPEN = TICKETS | STREAMS
POOL_KINDS = frozenset({RESERVATION, POOL_STREAM})


@dataclass(eq=False)
class Held:
    """A live impl value and what the model says about it.

    ``amount`` is what the value must report: ``available`` of a budget, ``amount`` of
    a receipt, refund or reservation, ``outstanding`` of a stream (``whole`` is the
    stream's full reservation). ``visible``/``reasoning`` are set for reasoning tickets.
    """

    kind: str
    value: Any
    amount: int
    whole: int = 0
    visible: int | None = None
    reasoning: int | None = None

    def __repr__(self) -> str:
        return f"<{self.kind} {self.amount}>"


@dataclass(eq=False)
class Dead:
    """A value the library consumed (``how``: the call that consumed it)."""

    kind: str
    value: Any
    how: str

    def __repr__(self) -> str:
        return f"<{self.how} {self.kind}>"


def _kind(*kinds: str) -> Callable[[Held], bool]:
    wanted = frozenset(kinds)

    def is_kind(h: Held) -> bool:
        return h.kind in wanted

    is_kind.__name__ = "is_" + "_or_".join(sorted(wanted))
    return is_kind


def _positive(*kinds: str) -> Callable[[Held], bool]:
    wanted = frozenset(kinds)

    def holds_money(h: Held) -> bool:
        return h.kind in wanted and h.amount > 0

    holds_money.__name__ = "positive_" + "_or_".join(sorted(wanted))
    return holds_money


def has(*kinds: str, positive: bool = False) -> Callable[[LockstepMachine], bool]:
    """Precondition: a live value of one of ``kinds`` exists (with money if
    ``positive``), so a filtered draw from ``values`` cannot come back empty."""

    def present(self: LockstepMachine) -> bool:
        return any(h.kind in kinds and (h.amount > 0 or not positive)
                   for h in self.live.values())

    return present


class LeftByException(Exception):
    """Raised inside a ``with`` block to leave it by an exception."""


def expect_error(classes: tuple[type[BaseException], ...],
                 fn: Callable[[], object], what: str) -> BaseException:
    """Call ``fn``; it must raise an instance of every class in ``classes``.

    The error must be an :class:`impl.BudgetError` (anything else propagates and fails
    the test); it is returned without its traceback, so it keeps no frame (and no
    value) alive.
    """
    try:
        fn()
    except impl.BudgetError as err:
        err.__traceback__ = None
        wrong = [c.__name__ for c in classes if not isinstance(err, c)]
        assert not wrong, f"{what}: raised {type(err).__name__}, not {wrong}: {err}"
        assert str(err), f"{what}: {type(err).__name__} without a message"
        return err
    raise AssertionError(f"{what}: expected {[c.__name__ for c in classes]}, "
                         f"nothing was raised")


AFFINE = (impl.AffineViolation, impl.BudgetError, RuntimeError)
TYPE_ERROR = (impl.AmountTypeError, impl.BudgetTypeError, impl.BudgetError, TypeError)
VALUE_ERROR = (impl.InvalidAmount, impl.BudgetError, ValueError)
CHARGE_ERROR = (impl.ChargeExceedsReservation, *VALUE_ERROR)
REFUSED = (impl.InsufficientBudget, impl.BudgetError)

# Bad values for an amount parameter, by category; ``minimum`` is the smallest valid
# value (0 or 1) and ``upper`` the reservation a charge may not exceed.
TYPE_CATEGORIES = ("bool", "float", "str", "None")


def _categories(minimum: int, upper: int | None, none_ok: bool) -> list[str]:
    cats = [c for c in TYPE_CATEGORIES if not (none_ok and c == "None")]
    cats += ["negative", "at_least_2**63"]
    if minimum == 1:
        cats.append("zero")
    if upper is not None and upper + 1 < LIMIT:
        cats.append("charge_above_r")
    return cats


def _bad_value(category: str, upper: int | None) -> st.SearchStrategy[object]:
    strategies: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
        "bool": st.booleans,
        "float": lambda: st.floats(),
        "str": lambda: st.text(max_size=3) | st.integers(0, 9).map(str),
        "None": st.none,
        "negative": lambda: st.integers(max_value=-1),
        "at_least_2**63": lambda: st.integers(min_value=LIMIT),
        "zero": lambda: st.just(0),
        "charge_above_r": lambda: st.integers((upper or 0) + 1, LIMIT - 1),
    }
    return strategies[category]()


def _error_for(category: str) -> tuple[type[BaseException], ...]:
    if category in TYPE_CATEGORIES:
        return TYPE_ERROR
    return CHARGE_ERROR if category == "charge_above_r" else VALUE_ERROR


CAPS = st.one_of(st.integers(0, 12), st.integers(0, 300), st.integers(LIMIT - 300, LIMIT - 1))
"""Caps ``B0`` of the session and of the pool: mostly small (refusals are frequent),
sometimes at the top of the 63-bit range (overflow edges)."""

OTHER_CAP = 9
OTHER_LEDGER = impl.Ledger(5, 0, 3, 1, 0, 0)
"""The second session's fixed state: root 9, reserve(4), confirm(1) -> refund of 3."""


class LockstepMachine(RuleBasedStateMachine):
    """impl's Session and BudgetPool against ``spec.LEDGER``, step by step.

    One bundle, ``values``, holds every live value as a :class:`Held`; the filtered
    views below are the bundles of live budgets, open receipts, open streams, unapplied
    refunds and pool reservations (one bundle lets a rule such as ``reserve`` return
    both the rest budget and the receipt). Consumed values move to ``self.dead``, where
    the misuse rules find them.
    """

    values: Bundle[Held] = Bundle("values")
    budgets = values.filter(_kind(BUDGET))
    budgets_with_money = values.filter(_positive(BUDGET))
    receipts = values.filter(_kind(RECEIPT))
    reservations = values.filter(_kind(RESERVATION))
    streams = values.filter(_kind(STREAM, POOL_STREAM))
    session_streams = values.filter(_kind(STREAM))
    pool_streams = values.filter(_kind(POOL_STREAM))
    open_values = values.filter(_kind(*OPEN))
    refunds = values.filter(_kind(REFUND))

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, Held] = {}
        self.dead: list[Dead] = []
        self.dropped_live = 0      # budgets dropped unconsumed: still in live_sum
        self.dropped_refunds = 0   # refunds dropped unapplied: still outstanding
        self.started = False

    # -- bookkeeping ------------------------------------------------------------

    def born(self, held: Held) -> Held:
        self.live[id(held)] = held
        return held

    def died(self, held: Held, how: str | None) -> None:
        """``held`` was consumed by ``how`` (``None``: dropped, no reference kept)."""
        del self.live[id(held)]
        if how is not None:
            self.dead.append(Dead(held.kind, held.value, how))
        held.value = None

    def of(self, kind: str, positive: bool = False) -> list[Held]:
        return [h for h in self.live.values()
                if h.kind == kind and (h.amount > 0 or not positive)]

    def dead_of(self, *kinds: str) -> list[Dead]:
        return [d for d in self.dead if d.kind in kinds]

    def draw_dead(self, data: st.DataObject, *kinds: str) -> Dead:
        """A consumed value of one of ``kinds``: first how it was consumed (uniformly,
        so rare ways are tried as often as common ones), then which one."""
        dead = self.dead_of(*kinds)
        how = data.draw(st.sampled_from(sorted({d.how for d in dead})), label="consumed by")
        return data.draw(st.sampled_from([d for d in dead if d.how == how]), label="value")

    def model(self, h: Held) -> Lockstep:
        return self.p if h.kind in POOL_KINDS else self.s

    def ledgers(self) -> tuple[impl.Ledger, ...]:
        return (self.session.ledger(), self.pool.ledger(), self.other.ledger())

    @contextmanager
    def unchanged(self, *touched: Held) -> Iterator[None]:
        """The block must change no ledger, and ``touched`` values must stay usable
        with the same amounts (they also stay in their bundles for later rules)."""
        before = self.ledgers()
        yield
        assert self.ledgers() == before, "a refused or invalid call changed a ledger"
        for h in touched:
            self.check_held(h)

    # -- the invariant ------------------------------------------------------------

    def check_held(self, h: Held) -> None:
        """``h``'s impl value is live and reports what the model expects."""
        v = h.value
        if h.kind == BUDGET:
            got = v.available
            assert v.session is self.session
        elif h.kind in STREAMS:
            got = v.outstanding
            assert (v.amount, v.charged) == (h.whole, h.whole - h.amount), (
                f"handle mismatch: {v!r} is not {h!r} of {h.whole}")
        else:
            got = v.amount
        assert got == h.amount, f"handle mismatch: {v!r} holds {got}, expected {h!r}"
        if h.visible is not None:
            assert (v.visible, v.reasoning) == (h.visible, h.reasoning)

    @invariant()
    def lockstep(self) -> None:
        """impl and the spec agree on steps, ledgers, invariants and every handle."""
        self.s.check()
        self.p.check()
        for h in self.live.values():
            self.check_held(h)

        def total(*kinds: str) -> int:
            return sum(h.amount for h in self.live.values() if h.kind in kinds)

        s, p = self.s.state, self.p.state
        assert s.live_sum == total(BUDGET) + self.dropped_live, "live budgets != live_sum"
        assert s.outstanding_receipts == total(RECEIPT, STREAM)
        assert s.outstanding_refunds == total(REFUND) + self.dropped_refunds
        assert p.live_sum == self.pool.available
        assert p.outstanding_receipts == total(RESERVATION, POOL_STREAM)
        assert p.outstanding_refunds == 0
        assert self.other.ledger() == OTHER_LEDGER
        assert (self.other_budget.available, self.other_refund.amount) == (5, 3)

    def teardown(self) -> None:
        """Resolve what is still open, quietly, so that nothing is forfeited by GC."""
        if not self.started:
            return
        self.s.unsubscribe()
        self.p.unsubscribe()
        for h in self.live.values():
            if h.kind in OPEN:
                try:
                    h.value.forfeit()
                except impl.BudgetError:
                    pass

    # -- start ------------------------------------------------------------------

    @initialize(target=values, b0=CAPS, pool_cap=CAPS, parts=st.integers(1, 4),
                data=st.data())
    def start(self, b0: int, pool_cap: int, parts: int, data: st.DataObject) -> Any:
        """A session of cap ``b0`` whose root budget is split into ``parts`` budgets, a
        pool of ``pool_cap``, and a second session whose values must never mix with
        the first one's."""
        self.session = impl.Session(b0)
        self.pool = impl.BudgetPool(pool_cap)
        self.other = impl.Session(OTHER_CAP)
        rest, rc = self.other.take().reserve(4)
        self.other_budget, self.other_refund = rest, rc.confirm(1)
        self.s = Lockstep(self.session, "session")
        self.p = Lockstep(self.pool, "pool")
        self.started = True
        root = self.born(Held(BUDGET, self.session.take(), b0))
        out = [root]
        for _ in range(parts - 1):
            out.extend(self.split(out.pop(), data))
        return multiple(*out)

    # -- budgets: split, merge, spend, reserve, consume, drop --------------------

    @precondition(has(BUDGET))
    @rule(target=values, b=consumes(budgets), data=st.data())
    def split_budget(self, b: Held, data: st.DataObject) -> Any:
        """``split(a)`` with ``0 <= a <= available``: a stutter, two new budgets."""
        return multiple(*self.split(b, data))

    def split(self, b: Held, data: st.DataObject) -> list[Held]:
        a = data.draw(st.integers(0, b.amount), label="a")
        x, y = b.value.split(a)
        note("op:split")
        held = b.amount
        self.died(b, "split")
        return [self.born(Held(BUDGET, x, a)), self.born(Held(BUDGET, y, held - a))]

    @precondition(lambda self: len(self.of(BUDGET)) >= 2)
    @rule(target=values, a=consumes(budgets), b=consumes(budgets))
    def merge(self, a: Held, b: Held) -> Held:
        """``a.merge(b)``: a stutter, one budget holding both amounts."""
        m = a.value.merge(b.value)
        note("op:merge")
        total = a.amount + b.amount
        self.died(a, "merge")
        self.died(b, "merge")
        return self.born(Held(BUDGET, m, total))

    @precondition(has(BUDGET, positive=True))
    @rule(target=values, b=consumes(budgets_with_money), failed=st.booleans(),
          data=st.data())
    def spend(self, b: Held, failed: bool, data: st.DataObject) -> Held:
        """``spend(r, charged=c, failed=...)``: ``spend_success(r, c)`` or
        ``spend_fail_post_check(r, c)``; ``charged`` omitted means ``c = r``."""
        r = data.draw(st.integers(1, b.amount), label="r")
        charged = data.draw(st.none() | st.integers(0, r), label="charged")
        if charged is None:
            rest = b.value.spend(r, failed=failed)
        else:
            rest = b.value.spend(r, charged=charged, failed=failed)
        c = r if charged is None else charged
        self.s.apply("spend_fail_post_check" if failed else "spend_success", r, c)
        note("op:spend_failed" if failed else "op:spend")
        held = b.amount
        self.died(b, "spend")
        return self.born(Held(BUDGET, rest, held - r))

    @precondition(has(BUDGET, positive=True))
    @rule(target=values, b=consumes(budgets_with_money), data=st.data())
    def reserve(self, b: Held, data: st.DataObject) -> Any:
        """``reserve(r)``: ``reserve(r)``; the rest budget and an open receipt."""
        return multiple(*self.reserve_receipt(b, data))

    def reserve_receipt(self, b: Held, data: st.DataObject) -> tuple[Held, Held]:
        r = data.draw(st.integers(1, b.amount), label="r")
        rest, rc = b.value.reserve(r)
        self.s.apply("reserve", r)
        note("op:reserve")
        held = b.amount
        self.died(b, "reserve")
        return self.born(Held(BUDGET, rest, held - r)), self.born(Held(RECEIPT, rc, r))

    @precondition(has(BUDGET, positive=True))
    @rule(target=values, b=consumes(budgets_with_money), data=st.data())
    def reserve_with_reasoning(self, b: Held, data: st.DataObject) -> Any:
        """``reserve_with_reasoning(v, w)``: one ``reserve(v + w)``."""
        r = data.draw(st.integers(1, b.amount), label="r")
        v = data.draw(st.integers(0, r), label="visible")
        rest, rc = b.value.reserve_with_reasoning(v, r - v)
        self.s.apply("reserve", r)
        note("op:reserve_with_reasoning")
        held = b.amount
        self.died(b, "reserve")
        return multiple(self.born(Held(BUDGET, rest, held - r)),
                        self.born(Held(RECEIPT, rc, r, visible=v, reasoning=r - v)))

    @precondition(has(BUDGET, positive=True))
    @rule(target=values, b=consumes(budgets_with_money), data=st.data())
    def reserve_stream(self, b: Held, data: st.DataObject) -> Any:
        """``reserve_stream(r)``: ``reserve(r)``; the rest budget and an open stream."""
        r = data.draw(st.integers(1, b.amount), label="r")
        rest, sr = b.value.reserve_stream(r)
        self.s.apply("reserve", r)
        note("op:reserve_stream")
        held = b.amount
        self.died(b, "reserve")
        return multiple(self.born(Held(BUDGET, rest, held - r)),
                        self.born(Held(STREAM, sr, r, whole=r)))

    @precondition(lambda self: len(self.of(BUDGET)) >= 2)
    @rule(b=consumes(budgets))
    def consume(self, b: Held) -> None:
        """``consume()``: ``consume(a)``, a stutter when the budget holds 0."""
        a = b.value.consume()
        assert a == b.amount, f"consume returned {a}, the budget held {b.amount}"
        if a:
            self.s.apply("consume", a)
        note("op:consume")
        self.died(b, "consume")

    @precondition(lambda self: len(self.of(BUDGET)) >= 2)
    @rule(b=consumes(budgets))
    def drop_budget(self, b: Held) -> None:
        """Drop a budget unconsumed: a stutter; its money stays in ``live_sum``."""
        self.dropped_live += b.amount
        note("op:drop_budget")
        self.died(b, None)

    @precondition(has(REFUND))
    @rule(rf=consumes(refunds))
    def drop_refund(self, rf: Held) -> None:
        """Drop a refund unapplied: a stutter; it stays in ``outstanding_refunds``."""
        self.dropped_refunds += rf.amount
        note("op:drop_refund")
        self.died(rf, None)

    # -- receipts, streams, refunds ----------------------------------------------

    def settle(self, h: Held, how: str, c: int) -> list[Held]:
        """Resolve open value ``h`` by ``how`` (charging ``c`` where it applies);
        apply the SPEC.md steps to the model; return the values it produced."""
        m, r, v = self.model(h), h.amount, h.value
        out: list[Held] = []
        if how == "forfeit":
            v.forfeit()
            if r:
                m.apply("forfeit", r)
        elif how == "confirm":
            out.append(Held(REFUND, v.confirm(c), r - c))
            m.apply("confirm_with_refund", r, c)
        elif how in ("commit", "cancel"):
            if how == "commit":
                v.commit(c)
            else:
                c = 0
                v.cancel()
            m.apply("confirm_with_refund", r, c)
            if r - c:
                m.apply("refund_to", r - c)
        else:  # close
            if h.kind == STREAM:
                out.append(Held(REFUND, v.close(), r))
            else:
                v.close()
            if r:
                m.apply("confirm_with_refund", r, 0)
                if h.kind == POOL_STREAM:
                    m.apply("refund_to", r)
            how = "pool_close" if h.kind == POOL_STREAM else "close"
        note(f"op:{how}")
        self.died(h, how)
        return [self.born(x) for x in out]

    def overcharge_first(self, data: st.DataObject, h: Held,
                         call: Callable[[int], object]) -> None:
        """Maybe first charge ``h`` more than it holds: ChargeExceedsReservation, and
        ``h`` stays open with nothing changed (then the rule resolves it properly)."""
        if h.amount + 1 >= LIMIT or not data.draw(st.booleans(), label="overcharge first"):
            return
        c = data.draw(st.integers(h.amount + 1, min(h.amount + 8, LIMIT - 1)),
                      label="c > r")
        with self.unchanged(h):
            expect_error(CHARGE_ERROR, lambda: call(c), f"charge {c} to {h!r}")
        note("invalid:charge_above_r")

    @precondition(has(RECEIPT))
    @rule(target=values, rc=consumes(receipts), data=st.data())
    def confirm(self, rc: Held, data: st.DataObject) -> Held:
        """``confirm(c)``, ``0 <= c <= r``: ``confirm_with_refund(r, c)``; a refund.
        (Maybe after a refused ``confirm(c > r)``, see :meth:`overcharge_first`.)"""
        self.overcharge_first(data, rc, rc.value.confirm)
        c = data.draw(st.integers(0, rc.amount), label="c")
        (refund,) = self.settle(rc, "confirm", c)
        return refund

    @precondition(has(*OPEN))
    @rule(t=consumes(open_values))
    def forfeit(self, t: Held) -> None:
        """``forfeit()`` of a receipt, reservation or stream: ``forfeit(r or rest)``."""
        self.settle(t, "forfeit", 0)

    @precondition(has(*STREAMS))
    @rule(s=streams, data=st.data())
    def chunk(self, s: Held, data: st.DataObject) -> None:
        """``confirm_chunk(c)``, ``0 <= c <= outstanding``: ``confirm_with_refund(c, c)``,
        a stutter when ``c == 0``; the stream stays open. (Maybe after a refused
        ``confirm_chunk(c > outstanding)``.)"""
        self.overcharge_first(data, s, s.value.confirm_chunk)
        c = data.draw(st.integers(0, s.amount), label="c")
        s.value.confirm_chunk(c)
        if c:
            self.model(s).apply("confirm_with_refund", c, c)
        s.amount -= c
        note("op:chunk")

    @precondition(has(STREAM))
    @rule(target=values, s=consumes(session_streams))
    def close(self, s: Held) -> Held:
        """Session ``close()``: ``confirm_with_refund(rest, 0)``; a refund of ``rest``."""
        (refund,) = self.settle(s, "close", 0)
        return refund

    @precondition(lambda self: has(REFUND)(self) and has(BUDGET)(self))
    @rule(target=values, rf=consumes(refunds), b=consumes(budgets))
    def apply_refund(self, rf: Held, b: Held) -> Held:
        """``refund.apply_to(b)``: ``refund_to(a)``, a stutter when ``a == 0``."""
        return self.apply_refund_to(rf, b)

    def apply_refund_to(self, rf: Held, b: Held) -> Held:
        nb = rf.value.apply_to(b.value)
        if rf.amount:
            self.s.apply("refund_to", rf.amount)
        note("op:apply_refund" if rf.amount else "op:apply_zero_refund")
        total = b.amount + rf.amount
        self.died(rf, "apply")
        self.died(b, "refund")
        return self.born(Held(BUDGET, nb, total))

    @precondition(has(BUDGET, positive=True))
    @rule(target=values, b=consumes(budgets_with_money), data=st.data())
    def call(self, b: Held, data: st.DataObject) -> Held:
        """One LLM call the usual way: ``reserve(r)``, ``confirm(c)``, then the refund
        applied to the rest: ``reserve(r)``, ``confirm_with_refund(r, c)``,
        ``refund_to(r - c)`` (a stutter when ``c == r``)."""
        rest, rc = self.reserve_receipt(b, data)
        c = data.draw(st.integers(0, rc.amount), label="c")
        (refund,) = self.settle(rc, "confirm", c)
        return self.apply_refund_to(refund, rest)

    @precondition(has(*OPEN))
    @rule(target=values, t=consumes(open_values), resolve_inside=st.booleans(),
          leave_by_exception=st.booleans(), data=st.data())
    def with_block(self, t: Held, resolve_inside: bool, leave_by_exception: bool,
                   data: st.DataObject) -> Any:
        """``with t: ...`` left normally or by an exception: what was resolved inside
        stays resolved; what was not is forfeited (``forfeit(r)`` / ``forfeit(rest)``)."""
        out: list[Held] = []
        try:
            with t.value as inside:
                assert inside is t.value
                if resolve_inside:
                    how = {RECEIPT: "confirm", RESERVATION: "commit"}.get(t.kind, "close")
                    c = data.draw(st.integers(0, t.amount), label="c")
                    out = self.settle(t, how, c)
                if leave_by_exception:
                    raise LeftByException
        except LeftByException:
            pass
        if not resolve_inside:
            if t.amount:
                self.model(t).apply("forfeit", t.amount)
            self.died(t, "with")
        note("with:resolved_inside" if resolve_inside else
             "with:exception" if leave_by_exception else "with:normal_exit")
        return multiple(*out)

    @precondition(has(*OPEN))
    @rule(t=consumes(open_values))
    def abandon(self, t: Held) -> None:
        """Drop an open value: garbage collection forfeits it (``forfeit(r or rest)``)
        with a ``ResourceWarning``."""
        m, amount = self.model(t), t.amount
        if amount:
            m.apply("forfeit", amount)
        seen = len(m.observed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.died(t, None)  # drops the only reference
            if amount and len(m.observed) == seen:  # kept alive by a cycle somewhere
                note("abandon:needed_gc")
                gc.collect()
        if amount:
            assert any(issubclass(w.category, ResourceWarning) for w in caught)
        note("op:abandon")

    # -- the pool -------------------------------------------------------------------

    def pool_amount(self, data: st.DataObject) -> int:
        return data.draw(st.integers(1, self.p.live_sum), label="r")

    @precondition(lambda self: self.started and self.p.live_sum > 0)
    @rule(target=values, data=st.data())
    def pool_reserve(self, data: st.DataObject) -> Held:
        """``pool.reserve(r)``, ``0 < r <= available``: ``reserve(r)``."""
        r = self.pool_amount(data)
        res = self.pool.reserve(r)
        self.p.apply("reserve", r)
        note("op:pool_reserve")
        return self.born(Held(RESERVATION, res, r))

    @precondition(lambda self: self.started and self.p.live_sum > 0)
    @rule(target=values, data=st.data())
    def pool_reserve_with_reasoning(self, data: st.DataObject) -> Held:
        """``pool.reserve_with_reasoning(v, w)``: ``reserve(v + w)``."""
        r = self.pool_amount(data)
        v = data.draw(st.integers(0, r), label="visible")
        res = self.pool.reserve_with_reasoning(v, r - v)
        self.p.apply("reserve", r)
        note("op:pool_reserve_with_reasoning")
        return self.born(Held(RESERVATION, res, r, visible=v, reasoning=r - v))

    @precondition(lambda self: self.started and self.p.live_sum > 0)
    @rule(target=values, data=st.data())
    def pool_reserve_stream(self, data: st.DataObject) -> Held:
        """``pool.reserve_stream(r)``: ``reserve(r)``."""
        r = self.pool_amount(data)
        sr = self.pool.reserve_stream(r)
        self.p.apply("reserve", r)
        note("op:pool_reserve_stream")
        return self.born(Held(POOL_STREAM, sr, r, whole=r))

    @precondition(has(RESERVATION))
    @rule(res=consumes(reservations), data=st.data())
    def commit(self, res: Held, data: st.DataObject) -> None:
        """``commit(c)``: ``confirm_with_refund(r, c)`` then ``refund_to(r - c)`` if > 0.
        (Maybe after a refused ``commit(c > r)``.)"""
        self.overcharge_first(data, res, res.value.commit)
        c = data.draw(st.integers(0, res.amount), label="c")
        self.settle(res, "commit", c)

    @precondition(has(RESERVATION))
    @rule(res=consumes(reservations))
    def cancel(self, res: Held) -> None:
        """``cancel()``: ``confirm_with_refund(r, 0)`` then ``refund_to(r)``."""
        self.settle(res, "cancel", 0)

    @precondition(has(POOL_STREAM))
    @rule(s=consumes(pool_streams))
    def pool_close(self, s: Held) -> None:
        """Pool stream ``close()``: ``confirm_with_refund(rest, 0)``, ``refund_to(rest)``."""
        self.settle(s, "close", 0)

    # -- refusals ---------------------------------------------------------------------

    REFUSABLE = ("spend", "reserve", "reserve_with_reasoning", "reserve_stream", "split")

    def refuse(self, b: Held, op: str, r: int) -> None:
        """``op`` asking ``r`` > what ``b`` holds: InsufficientBudget, nothing changes.

        The model decides the step: ``spend_insufficient(r)`` iff its guard holds
        (``r`` > the session's live sum), else a stutter; a refused split is always
        a stutter (SPEC.md).
        """
        v = b.value
        calls: dict[str, Callable[[], object]] = {
            "spend": lambda: v.spend(r),
            "reserve": lambda: v.reserve(r),
            "reserve_with_reasoning": lambda: v.reserve_with_reasoning(r // 2, r - r // 2),
            "reserve_stream": lambda: v.reserve_stream(r),
            "split": lambda: v.split(r),
        }
        if op == "split":
            label = "refusal:split"
        else:
            kind = self.s.refuse(r)
            label = "refusal:handle_only" if kind == "stutter" else "refusal:spend_insufficient"
        with self.unchanged(b):
            err = expect_error(REFUSED, calls[op], f"{op}({r}) of {b!r}")
        assert isinstance(err, impl.InsufficientBudget)
        assert not isinstance(err, ValueError | TypeError), "a refusal is not bad input"
        assert (err.operation, err.requested, err.available) == (op, r, b.amount)
        note(label)

    @precondition(lambda self: any(h.amount < self.s.live_sum for h in self.of(BUDGET)))
    @rule(op=st.sampled_from(REFUSABLE), data=st.data())
    def refused_by_handle(self, op: str, data: st.DataObject) -> None:
        """Ask a budget for more than it holds but no more than the session's live
        sum (the rest sits in siblings or dropped budgets): a stutter (SPEC.md's
        subtlety), not ``spend_insufficient``."""
        live = self.s.live_sum
        b = data.draw(st.sampled_from([h for h in self.of(BUDGET) if h.amount < live]),
                      label="budget")
        self.refuse(b, op, data.draw(st.integers(b.amount + 1, live), label="r"))

    @precondition(lambda self: has(BUDGET)(self) and self.s.live_sum + 1 < LIMIT)
    @rule(b=budgets, op=st.sampled_from(REFUSABLE), data=st.data())
    def refused_by_session(self, b: Held, op: str, data: st.DataObject) -> None:
        """Ask a budget for more than the whole session's live sum:
        ``spend_insufficient(r)`` (a split: a stutter)."""
        live = self.s.live_sum
        self.refuse(b, op, data.draw(st.integers(live + 1, min(live + 8, LIMIT - 1)),
                                     label="r"))

    @precondition(lambda self: self.started and self.p.live_sum + 1 < LIMIT)
    @rule(op=st.sampled_from(["reserve", "reserve_with_reasoning", "reserve_stream"]),
          data=st.data())
    def pool_refused(self, op: str, data: st.DataObject) -> None:
        """A pool reservation above ``available``: ``spend_insufficient(r)``, nothing else."""
        live = self.p.live_sum
        r = data.draw(st.integers(live + 1, min(live + 8, LIMIT - 1)), label="r")
        calls: dict[str, Callable[[], object]] = {
            "reserve": lambda: self.pool.reserve(r),
            "reserve_with_reasoning": lambda: self.pool.reserve_with_reasoning(0, r),
            "reserve_stream": lambda: self.pool.reserve_stream(r),
        }
        kind = self.p.refuse(r)
        assert kind == "spend_insufficient"
        with self.unchanged():
            err = expect_error(REFUSED, calls[op], f"pool.{op}({r})")
        assert isinstance(err, impl.InsufficientBudget)
        assert (err.operation, err.requested, err.available) == (op, r, live)
        note("refusal:pool")

    # -- invalid amounts -------------------------------------------------------------

    def invalid(self, data: st.DataObject, name: str, call: Callable[[Any], object],
                touched: tuple[Held, ...], *, minimum: int, upper: int | None = None,
                none_ok: bool = False) -> None:
        """Pass a bad value of a drawn category as parameter ``name``: the matching
        error (naming the parameter) and no change at all. For a charge, half of the
        draws are ``c > r`` (the one a sound estimate must never produce)."""
        categories = _categories(minimum, upper, none_ok)
        if "charge_above_r" in categories and data.draw(st.booleans(), label="c > r"):
            category = "charge_above_r"
        else:
            category = data.draw(st.sampled_from(categories), label="category")
        value = data.draw(_bad_value(category, upper), label=name)
        with self.unchanged(*touched):
            err = expect_error(_error_for(category), lambda: call(value),
                               f"{name}={value!r} ({category})")
        if category != "charge_above_r":
            assert not isinstance(err, impl.ChargeExceedsReservation)
        assert name in str(err), f"the error does not name {name!r}: {err}"
        note(f"invalid:{category}")

    def invalid_sum(self, data: st.DataObject, call: Callable[[int, int], object],
                    touched: tuple[Held, ...]) -> None:
        """``visible + reasoning`` that is 0, or not below 2**63 (each part valid)."""
        if data.draw(st.booleans(), label="zero sum"):
            v, w, category = 0, 0, "zero"
        else:
            v = data.draw(st.integers(1, LIMIT - 1), label="visible")
            w = data.draw(st.integers(LIMIT - v, LIMIT - 1), label="reasoning")
            category = "at_least_2**63"
        with self.unchanged(*touched):
            err = expect_error(VALUE_ERROR, lambda: call(v, w), f"reasoning sum {v}+{w}")
        assert "visible + reasoning" in str(err)
        note(f"invalid:{category}")

    @precondition(has(BUDGET))
    @rule(b=budgets, data=st.data())
    def invalid_budget_amount(self, b: Held, data: st.DataObject) -> None:
        """Bad amounts to a budget's calls: AmountTypeError/InvalidAmount/
        ChargeExceedsReservation (a bad ``failed`` flag: BudgetTypeError); the budget
        stays usable and nothing changes. Parameters are checked before availability,
        so ``r`` may exceed the budget."""
        v = b.value
        r = data.draw(st.integers(1, max(1, b.amount)), label="r")
        param = data.draw(st.sampled_from([
            "spend r", "spend charged", "spend failed", "reserve r", "reserve_stream r",
            "reasoning visible", "reasoning reasoning", "reasoning sum", "split a"]),
            label="parameter")
        if param == "spend r":
            self.invalid(data, "r", lambda x: v.spend(x), (b,), minimum=1)
        elif param == "spend charged":
            self.invalid(data, "charged", lambda x: v.spend(r, charged=x), (b,),
                         minimum=0, upper=r, none_ok=True)
        elif param == "spend failed":
            flag = data.draw(st.sampled_from([0, 1, None, "yes", 1.0]), label="failed")
            with self.unchanged(b):
                err = expect_error((impl.BudgetTypeError, TypeError),
                                   lambda: v.spend(r, charged=0, failed=flag), "failed")
            assert "failed" in str(err)
            note("invalid:failed_not_bool")
        elif param == "reserve r":
            self.invalid(data, "r", lambda x: v.reserve(x), (b,), minimum=1)
        elif param == "reserve_stream r":
            self.invalid(data, "r", lambda x: v.reserve_stream(x), (b,), minimum=1)
        elif param == "reasoning visible":
            self.invalid(data, "visible", lambda x: v.reserve_with_reasoning(x, r), (b,),
                         minimum=0)
        elif param == "reasoning reasoning":
            self.invalid(data, "reasoning", lambda x: v.reserve_with_reasoning(r, x),
                         (b,), minimum=0)
        elif param == "reasoning sum":
            self.invalid_sum(data, v.reserve_with_reasoning, (b,))
        else:
            self.invalid(data, "a", lambda x: v.split(x), (b,), minimum=0)

    @precondition(has(*OPEN))
    @rule(t=open_values, data=st.data())
    def invalid_charge(self, t: Held, data: st.DataObject) -> None:
        """Bad charges to ``confirm``/``commit``/``confirm_chunk``; ``c > r`` is
        ChargeExceedsReservation; the receipt, reservation or stream stays open."""
        v = t.value
        call: Callable[[Any], object]
        if t.kind == RECEIPT:
            name, call = "actual", lambda x: v.confirm(x)
        elif t.kind == RESERVATION:
            name, call = "actual", lambda x: v.commit(x)
        else:
            name, call = "c", lambda x: v.confirm_chunk(x)
        self.invalid(data, name, call, (t,), minimum=0, upper=t.amount)

    @precondition(lambda self: self.started)
    @rule(data=st.data())
    def invalid_pool_amount(self, data: st.DataObject) -> None:
        """Bad amounts to the pool's reservations (checked before availability)."""
        pool = self.pool
        param = data.draw(st.sampled_from(
            ["reserve", "reserve_stream", "visible", "reasoning", "sum"]), label="parameter")
        if param == "reserve":
            self.invalid(data, "r", lambda x: pool.reserve(x), (), minimum=1)
        elif param == "reserve_stream":
            self.invalid(data, "r", lambda x: pool.reserve_stream(x), (), minimum=1)
        elif param == "visible":
            self.invalid(data, "visible", lambda x: pool.reserve_with_reasoning(x, 1), (),
                         minimum=0)
        elif param == "reasoning":
            self.invalid(data, "reasoning", lambda x: pool.reserve_with_reasoning(1, x), (),
                         minimum=0)
        else:
            self.invalid_sum(data, pool.reserve_with_reasoning, ())

    @rule(cls=st.sampled_from([impl.Session, impl.BudgetPool]), data=st.data())
    def invalid_cap(self, cls: type[impl.Session | impl.BudgetPool],
                    data: st.DataObject) -> None:
        """A session or pool with a bad cap is refused (and no existing ledger moves)."""
        self.invalid(data, "cap", cls, (), minimum=0)
        note("invalid:cap")

    # -- affine misuse ------------------------------------------------------------

    @precondition(lambda self: bool(self.dead_of(BUDGET)))
    @rule(data=st.data())
    def use_consumed_budget(self, data: st.DataObject) -> None:
        """Any call on a split, merged, spent, reserved-from, consumed or refunded
        budget raises AffineViolation."""
        d = self.draw_dead(data, BUDGET)
        v = d.value
        calls: dict[str, Callable[[], object]] = {
            "available": lambda: v.available,
            "session": lambda: v.session,
            "spend": lambda: v.spend(1),
            "reserve": lambda: v.reserve(1),
            "reserve_with_reasoning": lambda: v.reserve_with_reasoning(1, 0),
            "reserve_stream": lambda: v.reserve_stream(1),
            "split": lambda: v.split(0),
            "consume": lambda: v.consume(),
        }
        op = data.draw(st.sampled_from(sorted(calls)), label="call")
        with self.unchanged():
            expect_error(AFFINE, calls[op], f"{op} of {d!r}")
        note(f"misuse:use_after_{d.how}")

    @precondition(lambda self: bool(self.dead_of(BUDGET)) and has(BUDGET, REFUND)(self))
    @rule(h=values.filter(_kind(BUDGET, REFUND)), data=st.data())
    def combine_with_consumed_budget(self, h: Held, data: st.DataObject) -> None:
        """Merging a live budget with a consumed one (either way round), or applying a
        live refund to a consumed budget, raises AffineViolation; the live value stays
        usable."""
        d = self.draw_dead(data, BUDGET)
        v, live = d.value, h.value
        if h.kind == REFUND:
            mode, call = "refund_to_consumed_budget", lambda: live.apply_to(v)
        elif data.draw(st.booleans(), label="consumed one is the argument"):
            mode, call = "merge_consumed_argument", lambda: live.merge(v)
        else:
            mode, call = "merge", lambda: v.merge(live)
        with self.unchanged(h):
            expect_error(AFFINE, call, f"{mode} with {d!r}")
        note(f"misuse:use_after_{d.how}")
        if mode != "merge":
            note(f"misuse:{mode}")

    @precondition(lambda self: bool(self.dead_of(*OPEN)))
    @rule(data=st.data())
    def resolve_twice(self, data: st.DataObject) -> None:
        """Resolving a resolved receipt, reservation or stream (or reading it, or
        entering a ``with`` block on it) raises AffineViolation."""
        d = self.draw_dead(data, *OPEN)
        v = d.value

        def enter() -> None:
            with v:
                raise AssertionError("entered a with block on a resolved value")

        calls: dict[str, Callable[[], object]] = {
            "forfeit": lambda: v.forfeit(), "amount": lambda: v.amount, "with": enter}
        if d.kind == RECEIPT:
            calls["confirm"] = lambda: v.confirm(0)
        elif d.kind == RESERVATION:
            calls["commit"] = lambda: v.commit(0)
            calls["cancel"] = lambda: v.cancel()
        else:
            calls["close"] = lambda: v.close()
            calls["confirm_chunk"] = lambda: v.confirm_chunk(0)
            calls["outstanding"] = lambda: v.outstanding
        op = data.draw(st.sampled_from(sorted(calls)), label="call")
        with self.unchanged():
            expect_error(AFFINE, calls[op], f"{op} of {d!r}")
        note("misuse:second_resolve")

    @precondition(lambda self: bool(self.dead_of(REFUND)) and has(BUDGET)(self))
    @rule(b=budgets, data=st.data())
    def apply_refund_twice(self, b: Held, data: st.DataObject) -> None:
        """Applying an applied refund raises AffineViolation; the budget stays usable."""
        d = self.draw_dead(data, REFUND)
        calls: dict[str, Callable[[], object]] = {
            "apply_to": lambda: d.value.apply_to(b.value), "amount": lambda: d.value.amount}
        op = data.draw(st.sampled_from(sorted(calls)), label="call")
        with self.unchanged(b):
            expect_error(AFFINE, calls[op], f"{op} of {d!r}")
        note("misuse:refund_applied_twice")

    @precondition(lambda self: self.started)
    @rule(how=st.sampled_from(["copy", "deepcopy", "pickle"]), data=st.data())
    def duplicate(self, how: str, data: st.DataObject) -> None:
        """``copy.copy``, ``copy.deepcopy`` or ``pickle.dumps`` of any value, live or
        consumed, or of the session or pool, raises AffineViolation; a live value
        stays usable."""
        targets: list[Any] = [*self.live.values(), *self.dead, self.session, self.pool]
        target = data.draw(st.sampled_from(targets), label="value")
        obj = target.value if isinstance(target, Held | Dead) else target
        fns: dict[str, Callable[[Any], object]] = {
            "copy": copy.copy, "deepcopy": copy.deepcopy, "pickle": pickle.dumps}
        fn = fns[how]
        touched = (target,) if isinstance(target, Held) else ()
        with self.unchanged(*touched):
            expect_error(AFFINE, lambda: fn(obj), f"{how} of {target!r}")
        note(f"misuse:{how}")

    @precondition(has(BUDGET))
    @rule(b=budgets)
    def merge_with_self(self, b: Held) -> None:
        """``b.merge(b)`` raises AffineViolation (it would count the money twice)."""
        with self.unchanged(b):
            expect_error(AFFINE, lambda: b.value.merge(b.value), "merge with itself")
        note("misuse:merge_with_self")

    @precondition(lambda self: self.started)
    @rule()
    def take_twice(self) -> None:
        """A second ``Session.take()`` raises AffineViolation."""
        with self.unchanged():
            expect_error(AFFINE, self.session.take, "second take")
        note("misuse:second_take")

    @precondition(has(BUDGET))
    @rule(b=budgets, data=st.data())
    def mix_sessions(self, b: Held, data: st.DataObject) -> None:
        """Merging budgets, or applying refunds, across two sessions raises
        SessionMismatch (a ValueError); every value involved stays usable."""
        v, ob, orf = b.value, self.other_budget, self.other_refund
        calls: dict[str, Callable[[], object]] = {
            "merge ours into theirs": lambda: ob.merge(v),
            "merge theirs into ours": lambda: v.merge(ob),
            "their refund to our budget": lambda: orf.apply_to(v),
        }
        touched = [b]
        live_refunds = self.of(REFUND)
        if live_refunds:
            refund = data.draw(st.sampled_from(live_refunds), label="our refund")
            calls["our refund to their budget"] = lambda: refund.value.apply_to(ob)
            touched.append(refund)
        op = data.draw(st.sampled_from(sorted(calls)), label="call")
        with self.unchanged(*touched):
            expect_error((impl.SessionMismatch, impl.BudgetError, ValueError), calls[op], op)
        note("misuse:other_session")

    @precondition(lambda self: bool(self.of(BUDGET) or self.of(REFUND)))
    @rule(data=st.data())
    def wrong_type(self, data: st.DataObject) -> None:
        """``merge``/``apply_to`` with something that is not a Budget raise
        BudgetTypeError (a TypeError); nothing changes."""
        h = data.draw(st.sampled_from(self.of(BUDGET) + self.of(REFUND)), label="value")
        # Held wrappers, not impl values: Hypothesis may keep a drawn-from strategy
        # alive, and an impl receipt must not outlive its wrapper (see ``abandon``).
        others = [x for x in self.live.values() if x.kind != BUDGET]
        drawn = data.draw(st.sampled_from([42, "budget", None, 1.5, self.session, *others]),
                          label="argument")
        wrong = drawn.value if isinstance(drawn, Held) else drawn
        call = h.value.merge if h.kind == BUDGET else h.value.apply_to
        with self.unchanged(h):
            expect_error((impl.BudgetTypeError, impl.BudgetError, TypeError),
                         lambda: call(wrong), f"{h!r} with {wrong!r}")
        note("misuse:wrong_type")
