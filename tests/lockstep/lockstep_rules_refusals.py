"""Rules that ask for more than there is: refusals by a handle, a session, a pool."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)
from lockstep_oracle import (
    LIMIT,
    note,
)
from lockstep_values import (
    BUDGET,
    REFUSED,
    Held,
    budgets,
    expect_error,
    has,
)

import impl


class RefusalRules:
    """Rules that ask for more than there is: refusals by a handle, a session, a pool."""

    # -- refusals ---------------------------------------------------------------------

    REFUSABLE = ("spend", "reserve", "reserve_with_reasoning", "reserve_stream", "split")

    def refuse(self, b: Held, op: str, r: int) -> None:
        """``op`` asking ``r`` > what ``b`` holds: InsufficientBudget, nothing changes.

        The operation table decides the step: ``spend_insufficient(r)`` when ``r``
        exceeds the session's live sum, else a stutter; a refused split is always a
        stutter (SEMANTICS.md).
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
            self.s.perform(("split_refused",), b.amount, r)
            label = "refusal:split"
        else:
            case = self.s.perform(("refused_insufficient", "refused_by_handle"), b.amount, r)
            label = ("refusal:handle_only" if case.name == "refused_by_handle"
                     else "refusal:spend_insufficient")
        with self.unchanged(b):
            err = expect_error(REFUSED, calls[op], f"{op}({r}) of {b!r}")
        assert isinstance(err, impl.InsufficientBudget)
        assert not isinstance(err, ValueError | TypeError), "a refusal is not bad input"
        assert (err.operation, err.requested, err.available) == (op, r, b.amount)
        note(label)

    @precondition(lambda self: self.started and not self.s.closed
                  and any(h.amount < self.s.live_sum for h in self.of(BUDGET)))
    @rule(op=st.sampled_from(REFUSABLE), data=st.data())
    def refused_by_handle(self, op: str, data: st.DataObject) -> None:
        """Ask a budget for more than it holds but no more than the session's live
        sum (the rest sits in siblings or dropped budgets): a stutter (SEMANTICS.md's
        subtlety), not ``spend_insufficient``."""
        live = self.s.live_sum
        b = data.draw(st.sampled_from([h for h in self.of(BUDGET) if h.amount < live]),
                      label="budget")
        self.refuse(b, op, data.draw(st.integers(b.amount + 1, live), label="r"))

    @precondition(lambda self: has(BUDGET)(self) and self.s.live_sum + 1 < LIMIT
                  and not self.s.closed)
    @rule(b=budgets, op=st.sampled_from(REFUSABLE), data=st.data())
    def refused_by_session(self, b: Held, op: str, data: st.DataObject) -> None:
        """Ask a budget for more than the whole session's live sum:
        ``spend_insufficient(r)`` (a split: a stutter)."""
        live = self.s.live_sum
        self.refuse(b, op, data.draw(st.integers(live + 1, min(live + 8, LIMIT - 1)),
                                     label="r"))

    @precondition(lambda self: self.started and self.p.live_sum + 1 < LIMIT
                  and not self.p.closed)
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
        self.p.perform(("pool_refused",), live, r)
        with self.unchanged():
            err = expect_error(REFUSED, calls[op], f"pool.{op}({r})")
        assert isinstance(err, impl.InsufficientBudget)
        assert (err.operation, err.requested, err.available) == (op, r, live)
        note("refusal:pool")

