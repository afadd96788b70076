"""Rules on budgets: split, merge, spend, reserve, consume, drop."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    consumes,
    multiple,
    precondition,
    rule,
)
from lockstep_oracle import (
    note,
)
from lockstep_values import (
    BUDGET,
    RECEIPT,
    REFUND,
    STREAM,
    Held,
    budgets,
    budgets_with_money,
    has,
    refunds,
    session_open,
    values,
)


class BudgetRules:
    """Rules on budgets: split, merge, spend, reserve, consume, drop."""

    # -- budgets: split, merge, spend, reserve, consume, drop --------------------

    @precondition(has(BUDGET))
    @rule(target=values, b=consumes(budgets), data=st.data())
    def split_budget(self, b: Held, data: st.DataObject) -> Any:
        """``split(a)`` with ``0 <= a <= available``: a stutter, two new budgets."""
        return multiple(*self.split(b, data))

    def split(self, b: Held, data: st.DataObject) -> list[Held]:
        a = data.draw(st.integers(0, b.amount), label="a")
        x, y = b.value.split(a)
        self.s.perform(("split",), b.amount, a)
        note("op:split")
        held = b.amount
        self.died(b, "split")
        return [self.born(Held(BUDGET, x, a)), self.born(Held(BUDGET, y, held - a))]

    @precondition(lambda self: len(self.of(BUDGET)) >= 2)
    @rule(target=values, a=consumes(budgets), b=consumes(budgets))
    def merge(self, a: Held, b: Held) -> Held:
        """``a.merge(b)``: a stutter, one budget holding both amounts."""
        m = a.value.merge(b.value)
        self.s.perform(("merge",), a.amount, b.amount)
        note("op:merge")
        total = a.amount + b.amount
        self.died(a, "merge")
        self.died(b, "merge")
        return self.born(Held(BUDGET, m, total))

    @precondition(session_open(has(BUDGET, positive=True)))
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
        self.s.perform(("spend_fail_post_check",) if failed else ("spend_success",),
                       b.amount, r, c)
        note("op:spend_failed" if failed else "op:spend")
        held = b.amount
        self.died(b, "spend")
        return self.born(Held(BUDGET, rest, held - r))

    @precondition(session_open(has(BUDGET, positive=True)))
    @rule(target=values, b=consumes(budgets_with_money), data=st.data())
    def reserve(self, b: Held, data: st.DataObject) -> Any:
        """``reserve(r)``: ``reserve(r)``; the rest budget and an open receipt."""
        return multiple(*self.reserve_receipt(b, data))

    def reserve_receipt(self, b: Held, data: st.DataObject) -> tuple[Held, Held]:
        r = data.draw(st.integers(1, b.amount), label="r")
        rest, rc = b.value.reserve(r)
        self.s.perform(("reserve",), b.amount, r)
        note("op:reserve")
        held = b.amount
        self.died(b, "reserve")
        return self.born(Held(BUDGET, rest, held - r)), self.born(Held(RECEIPT, rc, r))

    @precondition(session_open(has(BUDGET, positive=True)))
    @rule(target=values, b=consumes(budgets_with_money), data=st.data())
    def reserve_with_reasoning(self, b: Held, data: st.DataObject) -> Any:
        """``reserve_with_reasoning(v, w)``: one ``reserve(v + w)``."""
        r = data.draw(st.integers(1, b.amount), label="r")
        v = data.draw(st.integers(0, r), label="visible")
        rest, rc = b.value.reserve_with_reasoning(v, r - v)
        self.s.perform(("reserve_with_reasoning",), b.amount, v, r - v)
        note("op:reserve_with_reasoning")
        held = b.amount
        self.died(b, "reserve")
        return multiple(self.born(Held(BUDGET, rest, held - r)),
                        self.born(Held(RECEIPT, rc, r, visible=v, reasoning=r - v)))

    @precondition(session_open(has(BUDGET, positive=True)))
    @rule(target=values, b=consumes(budgets_with_money), data=st.data())
    def reserve_stream(self, b: Held, data: st.DataObject) -> Any:
        """``reserve_stream(r)``: ``reserve(r)``; the rest budget and an open stream."""
        r = data.draw(st.integers(1, b.amount), label="r")
        rest, sr = b.value.reserve_stream(r)
        self.s.perform(("reserve_stream",), b.amount, r)
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
        self.s.perform(("consume", "consume_empty"), a)
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

