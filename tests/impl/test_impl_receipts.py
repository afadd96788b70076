"""Receipts, refunds, streaming and reasoning reservations; forfeits on GC and exit."""

from __future__ import annotations

import gc
import warnings

import pytest

import impl


def test_receipt_gc_forfeits_with_resource_warning(recorder) -> None:
    s = impl.Session(100)
    rec = recorder(s)
    b, rc = s.take().reserve(30)
    with pytest.warns(ResourceWarning, match=r"Receipt of 30 uc .* forfeited"):
        del rc
        gc.collect()
        s.ledger()
    assert rec.pairs() == [("reserve", {"r": 30}), ("forfeit", {"r": 30})]
    led = rec.check()
    assert led.outstanding_receipts == 0 and led.total_unrecoverable == 30
    assert b.available == 70


def test_receipt_in_a_cycle_is_forfeited_by_the_collector() -> None:
    s = impl.Session(100)
    _, rc = s.take().reserve(30)
    cycle: list[object] = [rc]
    cycle.append(cycle)
    del rc
    with pytest.warns(ResourceWarning):
        del cycle
        gc.collect()
        assert s.ledger().total_unrecoverable == 30


def test_resolved_receipts_do_not_warn() -> None:
    s = impl.Session(100)
    b = s.take()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b, rc = b.reserve(10)
        b = rc.confirm(3).apply_to(b)
        b, rc2 = b.reserve(10)
        rc2.forfeit()
        b, st = b.reserve_stream(10)
        b = st.close().apply_to(b)
        p = impl.BudgetPool(10)
        p.reserve(5).commit(5)
        del rc, rc2, st, p
        gc.collect()
    assert s.ledger() == impl.Ledger(87, 0, 0, 3, 10, 0)


def test_gc_forfeit_while_lock_is_held_is_deferred(recorder) -> None:
    """A finalizer never blocks: with the lock taken, the forfeit is queued."""
    s = impl.Session(50)
    rec = recorder(s)
    _, rc = s.take().reserve(20)
    s._lock.acquire()
    try:
        del rc
        gc.collect()
        assert [t.amount for t in s._pending] == [20]
    finally:
        s._lock.release()
    assert rec.names() == ["reserve"]
    with pytest.warns(ResourceWarning, match="Receipt of 20 uc"):
        led = s.ledger()  # drains the queue
    assert led.outstanding_receipts == 0 and led.total_unrecoverable == 20
    assert rec.names() == ["reserve", "forfeit"]
    rec.check()


def test_pool_reservation_gc_forfeit_deferred_then_applied_by_ledger() -> None:
    p = impl.BudgetPool(50)
    a, b = p.reserve(10), p.reserve(15)
    with pytest.warns(ResourceWarning):
        p._lock.acquire()
        del a
        gc.collect()  # finalized while the lock is held: queued
        p._lock.release()
        assert [t.amount for t in p._pending] == [10]
        del b
        gc.collect()
        p.ledger()  # applies the whole queue
    assert p._pending == []
    assert p.ledger() == impl.Ledger(25, 0, 0, 0, 25, 0)


def test_receipt_context_manager(recorder) -> None:
    s = impl.Session(100)
    rec = recorder(s)
    b = s.take()
    b, rc = b.reserve(10)
    with rc as r:
        assert r is rc
        rf = r.confirm(4)
    b = rf.apply_to(b)
    b, rc = b.reserve(20)
    with pytest.raises(KeyError), rc:
        raise KeyError("the call failed")
    assert rec.names()[-2:] == ["reserve", "forfeit"]
    rec.check()


def test_reasoning_receipt_maps_to_one_reserve(recorder) -> None:
    s = impl.Session(20_000)
    rec = recorder(s)
    b, rc = s.take().reserve_with_reasoning(1_000, 15_360)
    assert isinstance(rc, impl.ReasoningReceipt) and isinstance(rc, impl.Receipt)
    assert (rc.amount, rc.visible, rc.reasoning) == (16_360, 1_000, 15_360)
    assert b.available == 20_000 - 16_360
    b = rc.confirm(9_000).apply_to(b)
    assert rec.pairs() == [("reserve", {"r": 16_360}),
                           ("confirm_with_refund", {"r": 16_360, "c": 9_000}),
                           ("refund_to", {"a": 7_360})]
    rec.check()
    with pytest.raises(impl.InsufficientBudget, match="reserve_with_reasoning"):
        b.reserve_with_reasoning(10_000, 10_000)


def test_streaming_receipt_mapping(recorder) -> None:
    s = impl.Session(1_000)
    rec = recorder(s)
    b, st = s.take().reserve_stream(300)
    assert (st.amount, st.outstanding, st.charged) == (300, 300, 0)
    st.confirm_chunk(40)
    st.confirm_chunk(0)  # stutter
    st.confirm_chunk(60)
    assert (st.outstanding, st.charged) == (200, 100)
    with pytest.raises(impl.ChargeExceedsReservation, match="stays open with 200 uc"):
        st.confirm_chunk(201)
    assert st.outstanding == 200
    rf = st.close()
    assert rf.amount == 200
    b = rf.apply_to(b)
    assert b.available == 900
    assert rec.pairs() == [
        ("reserve", {"r": 300}),
        ("confirm_with_refund", {"r": 40, "c": 40}),
        ("confirm_with_refund", {"r": 60, "c": 60}),
        ("confirm_with_refund", {"r": 200, "c": 0}),
        ("refund_to", {"a": 200}),
    ]
    assert rec.check() == impl.Ledger(900, 0, 0, 100, 0, 0)


def test_streaming_fully_used_and_forfeit_paths(recorder) -> None:
    s = impl.Session(100)
    rec = recorder(s)
    b, st = s.take().reserve_stream(10)
    st.confirm_chunk(10)
    rf = st.close()  # rest 0: no step
    assert rf.amount == 0
    b, st2 = b.reserve_stream(30)
    st2.confirm_chunk(5)
    st2.forfeit()
    b, st3 = b.reserve_stream(20)
    with pytest.raises(RuntimeError), st3:
        st3.confirm_chunk(2)
        raise RuntimeError("stream cancelled")
    b, st4 = b.reserve_stream(7)
    st4.confirm_chunk(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del st4  # nothing outstanding: no step, no warning
        gc.collect()
        s.ledger()
    b, st5 = b.reserve_stream(9)
    st5.confirm_chunk(4)
    with pytest.warns(ResourceWarning, match="StreamReceipt of 5 uc"):
        del st5
        gc.collect()
        s.ledger()
    assert rec.names() == [
        "reserve", "confirm_with_refund",
        "reserve", "confirm_with_refund", "forfeit",
        "reserve", "confirm_with_refund", "forfeit",
        "reserve", "confirm_with_refund",
        "reserve", "confirm_with_refund", "forfeit",
    ]
    led = rec.check()
    assert led.total_charged == 10 + 5 + 2 + 7 + 4
    assert led.total_unrecoverable == 25 + 18 + 5
