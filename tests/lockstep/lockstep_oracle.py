"""The oracle of the lockstep machine: the spec ledger each impl ledger must equal,
and the coverage every run counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import event

import impl
import spec
from spec import LEDGER, VARIABLES
from spec.format import holds
from spec.handles import Operation, operation

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
    *(f"misuse:clone_{path}" for path in (
        "pickle_every_protocol", "reduce_ex_every_protocol", "own_reduce_ex", "reduce",
        "getstate", "setstate", "newobj", "subclass_skipping_init", "class_assignment")),
    *(f"misuse:clone_of_{kind}" for kind in (
        "budget", "receipt", "stream", "refund", "reservation", "pool_stream", "session",
        "pool")),
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

RECONCILE_LABELS = frozenset({
    "op:reconcile",                 # session.reconcile(billed, b): reconcile(d)
    "op:pool_reconcile",            # pool.reconcile(billed): reconcile(d)
    "reconcile:zero",               # the same billed total again: a stutter
    "reconcile:repeated",           # the bill accepted last, after charges: a stutter
    "reconcile:refused_by_handle",  # the drift fits the session, not the handle
    "reconcile:below_charged",      # billed_total < total_charged: refused
    "reconcile:overdraft",          # drift > live_sum: nothing changes, closed
    "reconcile:closed_again",       # a closed ledger: Overdraft again
    "refusal:closed",               # spend/reserve* on a closed ledger: LedgerClosed
    "misuse:use_after_reconcile",
})

OPERATION_LABELS = frozenset({
    "op:split", "op:merge", "op:spend", "op:spend_failed", "op:reserve",
    "op:reserve_with_reasoning", "op:reserve_stream", "op:confirm", "op:forfeit",
    "op:apply_refund", "op:apply_zero_refund", "op:consume", "op:chunk", "op:close",
    "op:commit", "op:cancel", "op:pool_reserve", "op:pool_reserve_with_reasoning",
    "op:pool_reserve_stream", "op:pool_close", "op:abandon", "op:drop_budget",
    "op:drop_refund", "with:exception", "with:normal_exit", "with:resolved_inside",
})

REQUIRED = (TRANSITION_LABELS | REFUSAL_LABELS | MISUSE_LABELS | INVALID_LABELS
            | OPERATION_LABELS | RECONCILE_LABELS)
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

    ``closed``/``overdraft`` track what the library records outside the six
    variables when a reconciliation cannot be absorbed (no spec transition).

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
        # outside the six variables: closed by an overdraft (the library fails closed)
        self.closed = False
        self.overdraft = 0
        self.reconciled = -1  # the billed total the library accepted last (-1: none)
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

    def perform(self, cases: tuple[str, ...], *values: int) -> Operation:
        """The library performed one operation of ``cases`` (names of entries of
        ``spec.handles.OPERATIONS``) on the taken values and parameters ``values``:
        the one entry whose case (``pre``) holds in the model's state is chosen, and
        the spec steps it claims are applied (impl must report exactly those).

        Exactly one of ``cases`` must hold: the table, not this machine, says which
        spec steps a library call is (e.g. a refusal is ``spend_insufficient(r)`` only
        when ``r`` exceeds the whole live sum, SEMANTICS.md's subtlety).
        """
        ops = [operation(name) for name in cases]
        chosen = [op for op in ops if holds(op.pre(self.state, *values))]
        assert len(chosen) == 1, (
            f"{self.where}: {values} fit {[op.name for op in chosen]} of {list(cases)}")
        (op,) = chosen
        for name, args in op.steps(*values):
            self.apply(name, *args)
        note(f"case:{op.name}")
        return op

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
        assert (self.book.closed, self.book.overdraft) == (self.closed, self.overdraft), (
            f"{self.where}: impl closed={self.book.closed} overdraft={self.book.overdraft}, "
            f"expected closed={self.closed} overdraft={self.overdraft}")
        for f in VARIABLES:
            assert getattr(led, f) == getattr(self.state, f), (
                f"{self.where} ledger mismatch in {f}: impl {led}, spec {self.state}")
        assert spec.broken_invariants(LEDGER, self.state, self.b0) == []
        real = LEDGER.State(*(getattr(led, f) for f in VARIABLES))
        broken = spec.broken_invariants(LEDGER, real, self.b0)
        assert broken == [], f"{self.where} ledger breaks {broken}: {led}"


