"""Rules of reconciliation: ``session.reconcile(billed, b)`` and ``pool.reconcile(billed)``,
a billed total below what was charged, the overdraft that closes a ledger, and the
refusals of a closed ledger."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st
from hypothesis.stateful import (
    consumes,
    precondition,
    rule,
)
from lockstep_oracle import (
    LIMIT,
    Lockstep,
    note,
)
from lockstep_values import (
    BUDGET,
    REFUSED,
    VALUE_ERROR,
    Held,
    budgets,
    expect_error,
    has,
    pool_open,
    session_open,
    values,
)

import impl

OVERDRAFT = (impl.Overdraft, impl.BudgetError, RuntimeError)
BELOW = (impl.BilledTotalBelowCharged, *VALUE_ERROR)
CLOSED = (impl.LedgerClosed, *REFUSED)


class ReconcileRules:
    """Rules of reconciliation against the provider's cumulative bill."""

    # -- the ninth transition ----------------------------------------------------------

    @precondition(session_open(has(BUDGET)))
    @rule(target=values, b=consumes(budgets), data=st.data())
    def reconcile(self, b: Held, data: st.DataObject) -> Held:
        """``session.reconcile(total_charged + d, b)``, ``0 <= d <= available``:
        ``reconcile(d)`` paid out of ``b`` (a stutter when ``d == 0``)."""
        d = data.draw(st.integers(0, b.amount), label="d")
        nb = self.session.reconcile(self.s.state.total_charged + d, b.value)
        self.s.reconciled = self.s.state.total_charged + d
        case = self.s.perform(("reconcile", "reconcile_zero"), b.amount, d)
        note("op:reconcile" if case.name == "reconcile" else "reconcile:zero")
        held = b.amount
        self.died(b, "reconcile")
        return self.born(Held(BUDGET, nb, held - d))

    @precondition(pool_open(lambda self: self.started))
    @rule(data=st.data())
    def pool_reconcile(self, data: st.DataObject) -> None:
        """``pool.reconcile(total_charged + d)``, ``0 <= d <= available``: returns
        ``d``; ``reconcile(d)`` (a stutter when ``d == 0``)."""
        live = self.p.live_sum
        d = data.draw(st.integers(0, live), label="d")
        got = self.pool.reconcile(self.p.state.total_charged + d)
        assert got == d, f"pool.reconcile returned {got}, the drift was {d}"
        self.p.reconciled = self.p.state.total_charged + d
        case = self.p.perform(("pool_reconcile", "pool_reconcile_zero"), live, d)
        note("op:pool_reconcile" if case.name == "pool_reconcile" else "reconcile:zero")

    @precondition(pool_open(lambda self: self.started
                            and 0 <= self.p.reconciled < self.p.state.total_charged))
    @rule()
    def pool_reconcile_repeated(self) -> None:
        """``pool.reconcile(b)`` again with the bill it accepted last, after charges
        landed: returns 0, a stutter (a retry applies the drift once)."""
        live = self.p.live_sum
        got = self.pool.reconcile(self.p.reconciled)
        assert got == 0, f"pool.reconcile of the last bill again returned {got}"
        self.p.perform(("pool_reconcile_zero",), live, 0)
        note("reconcile:repeated")

    # -- refusals: by the handle, below what was charged, overdraft ---------------------

    @precondition(lambda self: has(BUDGET)(self) and (
        self.s.closed or self.s.state.total_charged > 0
        or any(h.amount < self.s.live_sum for h in self.of(BUDGET))))
    @rule(b=budgets, data=st.data())
    def reconcile_refused(self, b: Held, data: st.DataObject) -> None:
        """A session reconciliation that changes nothing: a drift the handle cannot
        pay (the session could: a stutter), a billed total below ``total_charged``,
        or more drift than ``live_sum`` (an overdraft: the session closes; drawn
        less often, since a closed session refuses every later reservation)."""
        m = self.s
        cases = ["below"] * 3 if m.state.total_charged > 0 else []
        if not m.closed and b.amount < m.live_sum:
            cases += ["handle"] * 3
        cases += ["overdraft"] * (3 if m.closed else 1)
        case = data.draw(st.sampled_from(cases), label="case")
        charged = m.state.total_charged
        if case == "handle":
            d = data.draw(st.integers(b.amount + 1, m.live_sum), label="d")
            m.perform(("reconcile_refused_by_handle",), b.amount, d)
            with self.unchanged(b):
                err = expect_error(REFUSED, lambda: self.session.reconcile(charged + d, b.value),
                                   f"reconcile of {b!r}, drift {d}")
            assert type(err) is impl.InsufficientBudget, err
            assert (err.operation, err.requested, err.available) == ("reconcile", d, b.amount)
            note("reconcile:refused_by_handle")
            return
        self.refuse_reconcile(m, case, data, lambda billed: self.session.reconcile(billed, b.value),
                              b)

    @precondition(lambda self: self.started and (
        self.p.closed or self.p.state.total_charged > 0))
    @rule(data=st.data())
    def pool_reconcile_refused(self, data: st.DataObject) -> None:
        """A pool reconciliation that changes nothing: below ``total_charged``, or an
        overdraft (the pool closes; drawn less often)."""
        m = self.p
        cases = ["overdraft"] * (3 if m.closed else 1)
        cases += ["below"] * 3 if m.state.total_charged > 0 else []
        self.refuse_reconcile(m, data.draw(st.sampled_from(cases), label="case"), data,
                              self.pool.reconcile)

    def refuse_reconcile(self, m: Lockstep, case: str, data: st.DataObject,
                         call: Callable[[int], object], *touched: Held) -> None:
        charged, live = m.state.total_charged, m.live_sum
        if case == "below":
            # below what was charged, but not the bill accepted last (a stutter, above)
            skip = 0 <= m.reconciled < charged
            if charged - skip <= 0:
                return
            billed = data.draw(st.integers(0, charged - 1 - skip), label="billed")
            billed += skip and billed >= m.reconciled
            with self.unchanged(*touched):
                err = expect_error(BELOW, lambda: call(billed), f"reconcile({billed})")
            assert (err.billed_total, err.total_charged) == (billed, charged)
            note("reconcile:below_charged")
            return
        # an overdraft: more drift than live_sum (any drift, once the ledger is closed)
        low = charged if m.closed else charged + live + 1
        if low >= LIMIT:
            return
        billed = data.draw(st.integers(low, min(charged + live + 8, LIMIT - 1)), label="billed")
        d = billed - charged
        expected = max(m.overdraft, d - live)
        with self.unchanged(*touched):
            err = expect_error(OVERDRAFT, lambda: call(billed), f"reconcile({billed})")
        assert (err.billed_total, err.total_charged, err.drift, err.live_sum, err.overdraft) == (
            billed, charged, d, live, expected), err
        note("reconcile:closed_again" if m.closed else "reconcile:overdraft")
        m.closed, m.overdraft = True, expected

    # -- a closed ledger refuses every reservation ----------------------------------------

    @precondition(lambda self: self.started and self.s.closed and has(BUDGET)(self))
    @rule(b=budgets, op=st.sampled_from(["spend", "reserve", "reserve_with_reasoning",
                                         "reserve_stream"]), data=st.data())
    def closed_session_refuses(self, b: Held, op: str, data: st.DataObject) -> None:
        """Any spend or reservation on a closed session: LedgerClosed, a stutter."""
        r = data.draw(st.integers(1, max(1, b.amount)), label="r")
        v = b.value
        calls: dict[str, Callable[[], object]] = {
            "spend": lambda: v.spend(r),
            "reserve": lambda: v.reserve(r),
            "reserve_with_reasoning": lambda: v.reserve_with_reasoning(0, r),
            "reserve_stream": lambda: v.reserve_stream(r),
        }
        with self.unchanged(b):
            err = expect_error(CLOSED, calls[op], f"{op}({r}) on a closed session")
        assert (err.operation, err.requested, err.available) == (op, r, 0)
        assert err.overdraft == self.s.overdraft
        note("refusal:closed")

    @precondition(lambda self: self.started and self.p.closed)
    @rule(op=st.sampled_from(["reserve", "reserve_with_reasoning", "reserve_stream"]),
          data=st.data())
    def closed_pool_refuses(self, op: str, data: st.DataObject) -> None:
        """Any reservation on a closed pool: LedgerClosed, a stutter."""
        r = data.draw(st.integers(1, max(1, self.p.live_sum)), label="r")
        calls: dict[str, Callable[[], object]] = {
            "reserve": lambda: self.pool.reserve(r),
            "reserve_with_reasoning": lambda: self.pool.reserve_with_reasoning(0, r),
            "reserve_stream": lambda: self.pool.reserve_stream(r),
        }
        with self.unchanged():
            err = expect_error(CLOSED, calls[op], f"pool.{op}({r}) when closed")
        assert (err.operation, err.requested, err.available) == (op, r, 0)
        note("refusal:closed")
