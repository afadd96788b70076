"""BudgetPool: reserve / commit / cancel / forfeit, context managers, streams, asyncio."""

from __future__ import annotations

import asyncio
import gc

import pytest

import impl


def test_pool_api_and_steps(recorder) -> None:
    p = impl.BudgetPool(1_000)
    rec = recorder(p)
    assert p.available == 1_000 and p.cap == 1_000
    res = p.reserve(300)
    assert isinstance(res, impl.Reservation) and res.amount == 300
    assert p.available == 700
    res.commit(120)
    assert p.available == 880
    p.reserve(100).commit(100)  # no refund_to(0)
    p.reserve(50).cancel()
    p.reserve(20).forfeit()
    assert rec.pairs() == [
        ("reserve", {"r": 300}),
        ("confirm_with_refund", {"r": 300, "c": 120}),
        ("refund_to", {"a": 180}),
        ("reserve", {"r": 100}),
        ("confirm_with_refund", {"r": 100, "c": 100}),
        ("reserve", {"r": 50}),
        ("confirm_with_refund", {"r": 50, "c": 0}),
        ("refund_to", {"a": 50}),
        ("reserve", {"r": 20}),
        ("forfeit", {"r": 20}),
    ]
    assert rec.check() == impl.Ledger(760, 0, 0, 220, 20, 0)


def test_pool_refusal_is_spend_insufficient(recorder) -> None:
    p = impl.BudgetPool(100)
    rec = recorder(p)
    held = p.reserve(80)
    before = p.ledger()
    with pytest.raises(impl.InsufficientBudget) as ei:
        p.reserve(21)
    msg = str(ei.value)
    assert "reserve(21) refused: pool holds 20 uc of its 100 uc cap" in msg
    assert ei.value.requested == 21 and ei.value.available == 20
    assert rec.pairs()[-1] == ("spend_insufficient", {"r": 21})
    assert p.ledger() == before
    assert held.amount == 80
    held.commit(80)
    rec.check()


def test_commit_above_reservation_keeps_it_open() -> None:
    p = impl.BudgetPool(100)
    res = p.reserve(10)
    with pytest.raises(impl.ChargeExceedsReservation, match=r"commit: actual=11 exceeds"):
        res.commit(11)
    with pytest.raises(impl.AmountTypeError):
        res.commit(2.0)  # type: ignore[arg-type]
    with pytest.raises(impl.InvalidAmount):
        res.commit(-1)
    assert res.amount == 10
    res.commit(10)
    assert p.ledger() == impl.Ledger(90, 0, 0, 10, 0, 0)


def test_with_block_forfeits_unresolved_also_on_exception(recorder) -> None:
    p = impl.BudgetPool(100)
    rec = recorder(p)
    with p.reserve(10) as res:
        res.commit(4)
    with p.reserve(20) as res:
        pass  # unresolved at exit: forfeited, silently
    with pytest.raises(ValueError, match="boom"), p.reserve(30) as res:
        raise ValueError("boom")
    assert rec.names() == ["reserve", "confirm_with_refund", "refund_to",
                           "reserve", "forfeit", "reserve", "forfeit"]
    assert rec.check() == impl.Ledger(46, 0, 0, 4, 50, 0)


def test_reservation_gc_forfeits_with_warning(recorder) -> None:
    p = impl.BudgetPool(100)
    rec = recorder(p)
    res = p.reserve(40)
    with pytest.warns(ResourceWarning, match="Reservation of 40 uc"):
        del res
        gc.collect()  # queues the reservation (a reference cycle until resolved)
        p.ledger()  # applies the queue
    assert rec.names() == ["reserve", "forfeit"]
    assert rec.check() == impl.Ledger(60, 0, 0, 0, 40, 0)


def test_pool_reasoning_and_stream(recorder) -> None:
    p = impl.BudgetPool(10_000)
    rec = recorder(p)
    rr = p.reserve_with_reasoning(500, 1_536)
    assert isinstance(rr, impl.ReasoningReservation)
    assert (rr.amount, rr.visible, rr.reasoning) == (2_036, 500, 1_536)
    rr.commit(1_000)
    st = p.reserve_stream(400)
    st.confirm_chunk(100)
    st.confirm_chunk(150)
    st.close()
    with pytest.raises(impl.InsufficientBudget, match="reserve_stream"):
        p.reserve_stream(10_001)
    with pytest.raises(impl.InsufficientBudget, match="reserve_with_reasoning"):
        p.reserve_with_reasoning(10_000, 1)
    assert rec.pairs() == [
        ("reserve", {"r": 2_036}),
        ("confirm_with_refund", {"r": 2_036, "c": 1_000}),
        ("refund_to", {"a": 1_036}),
        ("reserve", {"r": 400}),
        ("confirm_with_refund", {"r": 100, "c": 100}),
        ("confirm_with_refund", {"r": 150, "c": 150}),
        ("confirm_with_refund", {"r": 150, "c": 0}),
        ("refund_to", {"a": 150}),
        ("spend_insufficient", {"r": 10_001}),
        ("spend_insufficient", {"r": 10_001}),
    ]
    assert rec.check() == impl.Ledger(10_000 - 1_250, 0, 0, 1_250, 0, 0)
    with p.reserve_stream(10) as st2:
        st2.confirm_chunk(3)
    assert p.ledger().total_unrecoverable == 7


def test_asyncio_tasks_share_a_pool() -> None:
    p = impl.BudgetPool(1_000)
    admitted: list[int] = []

    async def call(i: int) -> None:
        try:
            async with p.reserve(300) as res:
                await asyncio.sleep(0.001)  # the LLM call
                res.commit(200)
                admitted.append(i)
        except impl.InsufficientBudget:
            pass

    async def main() -> None:
        await asyncio.gather(*(call(i) for i in range(10)))

    asyncio.run(main())
    led = p.ledger()
    assert len(admitted) == 3  # 3 x 300 fit in 1000 at once; the 4th is refused
    assert led == impl.Ledger(400, 0, 0, 600, 0, 0)

    async def failing() -> None:
        async with p.reserve(100):
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(failing())
    assert p.ledger().total_unrecoverable == 100


def test_observer_unsubscribe_and_validation() -> None:
    p = impl.BudgetPool(10)
    seen: list[str] = []
    unsubscribe = p.observe(lambda st: seen.append(st.name))
    p.reserve(1).cancel()
    unsubscribe()
    unsubscribe()  # idempotent
    p.reserve(1).cancel()
    assert seen == ["reserve", "confirm_with_refund", "refund_to"]
    with pytest.raises(impl.BudgetTypeError):
        p.observe(42)  # type: ignore[arg-type]


def test_observer_exception_is_reported_and_changes_nothing() -> None:
    """An observer that raises: the operation still returns its result, the other
    observers still get the step, and the exception is reported as an ObserverWarning."""
    p = impl.BudgetPool(10)
    seen: list[str] = []

    def bad(step: impl.Step) -> None:
        raise RuntimeError("checker says no")

    p.observe(bad)
    p.observe(lambda st: seen.append(repr(st)))
    with pytest.warns(impl.ObserverWarning, match=r"checker says no.*reserve\(r=3\)"):
        res = p.reserve(3)
    assert res.amount == 3 and seen == ["reserve(r=3)"]
    with pytest.warns(impl.ObserverWarning):
        res.commit(1)
    assert p.ledger() == impl.Ledger(9, 0, 0, 1, 0, 0)
    assert seen[1:] == ["confirm_with_refund(r=3, c=1)", "refund_to(a=2)"]


def test_ledger_after_rejects_illegal_steps() -> None:
    led = impl.Ledger.initial(5)
    with pytest.raises(ValueError, match="guard"):
        led.after(impl.Step("reserve", {"r": 6}))
    with pytest.raises(ValueError, match=r"not a SEMANTICS\.md step"):
        led.after(impl.Step("reserve", {"a": 1}))
    with pytest.raises(ValueError, match="natural"):
        led.after(impl.Step("consume", {"a": -1}))
    assert led.after(impl.Step("spend_insufficient", {"r": 6})) == led
    assert set(impl.TRANSITIONS) == {
        "spend_success", "spend_insufficient", "spend_fail_post_check", "consume",
        "reserve", "confirm_with_refund", "forfeit", "refund_to", "reconcile"}
