"""Rules on receipts, streams and refunds: confirm, forfeit, chunks, close, apply."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    consumes,
    multiple,
    precondition,
    rule,
)
from lockstep_oracle import (
    LIMIT,
    note,
)
from lockstep_values import (
    BUDGET,
    CHARGE_ERROR,
    OPEN,
    RECEIPT,
    REFUND,
    RESERVATION,
    STREAM,
    STREAMS,
    Held,
    LeftByException,
    budgets,
    budgets_with_money,
    expect_error,
    has,
    open_values,
    receipts,
    refunds,
    session_open,
    session_streams,
    streams,
    values,
)


class SettleRules:
    """Rules on receipts, streams and refunds: confirm, forfeit, chunks, close, apply."""

    # -- receipts, streams, refunds ----------------------------------------------

    def settle(self, h: Held, how: str, c: int) -> list[Held]:
        """Resolve open value ``h`` by ``how`` (charging ``c`` where it applies); the
        model performs the matching entries of the operation table; return the values
        it produced."""
        m, r, v = self.model(h), h.amount, h.value
        pool = m.live_sum  # a pool's one budget value, before the call
        out: list[Held] = []
        if how == "forfeit":
            v.forfeit()
            self.forfeited(h)
        elif how == "confirm":
            out.append(Held(REFUND, v.confirm(c), r - c))
            m.perform(("confirm",), r, c)
        elif how == "commit":
            v.commit(c)
            m.perform(("commit", "commit_whole"), r, pool, c)
        elif how == "cancel":
            v.cancel()
            m.perform(("cancel",), r, pool)
        elif h.kind == STREAM:
            out.append(Held(REFUND, v.close(), r))
            m.perform(("close_stream", "close_empty_stream"), r)
        else:
            v.close()
            m.perform(("pool_close_stream", "pool_close_empty_stream"), r, pool)
            how = "pool_close"
        note(f"op:{how}")
        self.died(h, how)
        return [self.born(x) for x in out]

    def forfeited(self, h: Held) -> None:
        """``h`` was forfeited (by ``forfeit()``, a ``with`` block or the collector)."""
        if h.kind in STREAMS:
            self.model(h).perform(("forfeit_stream", "forfeit_empty_stream"), h.amount)
        else:
            self.model(h).perform(("forfeit",), h.amount)

    def overcharge_first(self, data: st.DataObject, h: Held,
                         call: Callable[[int], object], case: str) -> None:
        """Maybe first charge ``h`` more than it holds: ChargeExceedsReservation, and
        ``h`` stays open with nothing changed (then the rule resolves it properly);
        ``case`` is the table's entry for that refusal (a stutter)."""
        if h.amount + 1 >= LIMIT or not data.draw(st.booleans(), label="overcharge first"):
            return
        c = data.draw(st.integers(h.amount + 1, min(h.amount + 8, LIMIT - 1)),
                      label="c > r")
        with self.unchanged(h):
            expect_error(CHARGE_ERROR, lambda: call(c), f"charge {c} to {h!r}")
        self.model(h).perform((case,), h.amount, c)
        note("invalid:charge_above_r")

    @precondition(has(RECEIPT))
    @rule(target=values, rc=consumes(receipts), data=st.data())
    def confirm(self, rc: Held, data: st.DataObject) -> Held:
        """``confirm(c)``, ``0 <= c <= r``: ``confirm_with_refund(r, c)``; a refund.
        (Maybe after a refused ``confirm(c > r)``, see :meth:`overcharge_first`.)"""
        self.overcharge_first(data, rc, rc.value.confirm, "confirm_refused")
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
        self.overcharge_first(data, s, s.value.confirm_chunk, "confirm_chunk_refused")
        c = data.draw(st.integers(0, s.amount), label="c")
        s.value.confirm_chunk(c)
        self.model(s).perform(("confirm_chunk", "confirm_chunk_zero"), s.amount, c)
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
        self.s.perform(("apply_refund", "apply_empty_refund"), rf.amount, b.amount)
        note("op:apply_refund" if rf.amount else "op:apply_zero_refund")
        total = b.amount + rf.amount
        self.died(rf, "apply")
        self.died(b, "refund")
        return self.born(Held(BUDGET, nb, total))

    @precondition(session_open(has(BUDGET, positive=True)))
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
            self.forfeited(t)
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
        self.forfeited(t)
        seen = len(m.observed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.died(t, None)  # drops the only reference
            if amount and len(m.observed) == seen:  # kept alive by a cycle somewhere
                note("abandon:needed_gc")
                # Youngest generation first: a full collection scans all of
                # Hypothesis's heap (80 ms and more), and was most of this machine's time.
                for generation in (0, 1, 2):
                    gc.collect(generation)
                    m.book.ledger()  # applies what the collector queued
                    if len(m.observed) > seen:
                        break
        if amount:
            assert any(issubclass(w.category, ResourceWarning) for w in caught)
        note("op:abandon")

