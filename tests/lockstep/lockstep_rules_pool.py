"""Rules on the pool: reservations, commit, cancel, close."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import (
    consumes,
    precondition,
    rule,
)
from lockstep_oracle import (
    note,
)
from lockstep_values import (
    POOL_STREAM,
    RESERVATION,
    Held,
    has,
    pool_streams,
    reservations,
    values,
)


class PoolRules:
    """Rules on the pool: reservations, commit, cancel, close."""

    # -- the pool -------------------------------------------------------------------

    def pool_amount(self, data: st.DataObject) -> int:
        return data.draw(st.integers(1, self.p.live_sum), label="r")

    @precondition(lambda self: self.started and self.p.live_sum > 0 and not self.p.closed)
    @rule(target=values, data=st.data())
    def pool_reserve(self, data: st.DataObject) -> Held:
        """``pool.reserve(r)``, ``0 < r <= available``: ``reserve(r)``."""
        r = self.pool_amount(data)
        self.p.perform(("pool_reserve",), self.p.live_sum, r)
        res = self.pool.reserve(r)
        note("op:pool_reserve")
        return self.born(Held(RESERVATION, res, r))

    @precondition(lambda self: self.started and self.p.live_sum > 0 and not self.p.closed)
    @rule(target=values, data=st.data())
    def pool_reserve_with_reasoning(self, data: st.DataObject) -> Held:
        """``pool.reserve_with_reasoning(v, w)``: ``reserve(v + w)``."""
        r = self.pool_amount(data)
        v = data.draw(st.integers(0, r), label="visible")
        self.p.perform(("pool_reserve_with_reasoning",), self.p.live_sum, v, r - v)
        res = self.pool.reserve_with_reasoning(v, r - v)
        note("op:pool_reserve_with_reasoning")
        return self.born(Held(RESERVATION, res, r, visible=v, reasoning=r - v))

    @precondition(lambda self: self.started and self.p.live_sum > 0 and not self.p.closed)
    @rule(target=values, data=st.data())
    def pool_reserve_stream(self, data: st.DataObject) -> Held:
        """``pool.reserve_stream(r)``: ``reserve(r)``."""
        r = self.pool_amount(data)
        self.p.perform(("pool_reserve_stream",), self.p.live_sum, r)
        sr = self.pool.reserve_stream(r)
        note("op:pool_reserve_stream")
        return self.born(Held(POOL_STREAM, sr, r, whole=r))

    @precondition(has(RESERVATION))
    @rule(res=consumes(reservations), data=st.data())
    def commit(self, res: Held, data: st.DataObject) -> None:
        """``commit(c)``: ``confirm_with_refund(r, c)`` then ``refund_to(r - c)`` if > 0.
        (Maybe after a refused ``commit(c > r)``.)"""
        self.overcharge_first(data, res, res.value.commit, "commit_refused")
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

