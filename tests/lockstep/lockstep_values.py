"""What the lockstep machine holds and draws: values with their expected amounts, the
bundles they live in, bad inputs by category, caps, and the error each must raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
)
from lockstep_oracle import (
    LIMIT,
)

import impl

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


def session_open(pre: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Precondition ``pre``, and the session not closed by an overdraft (its
    spends and reservations are then refused: the reconcile rules check those)."""

    def and_open(self: Any) -> bool:
        return pre(self) and not self.s.closed

    return and_open


def pool_open(pre: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Precondition ``pre``, and the pool not closed by an overdraft."""

    def and_open(self: Any) -> bool:
        return pre(self) and not self.p.closed

    return and_open


def has(*kinds: str, positive: bool = False) -> Callable[[Any], bool]:
    """Precondition: a live value of one of ``kinds`` exists (with money if
    ``positive``), so a filtered draw from ``values`` cannot come back empty."""

    def present(self: Any) -> bool:
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

# One bundle, ``values``, holds every live value as a :class:`Held`; the filtered views
# are the bundles of live budgets, open receipts, open streams, unapplied refunds and
# pool reservations (one bundle lets a rule such as ``reserve`` return both the rest
# budget and the receipt).
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
budgets_or_refunds = values.filter(_kind(BUDGET, REFUND))
