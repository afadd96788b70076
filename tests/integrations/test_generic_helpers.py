"""reserve_call and budgeted_call: the same settlement and failure policy for any client."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from sdk_clients import Steps

import impl
from impl.integrations import BudgetWarning, budgeted_call, classify_failure, reserve_call

RATES = impl.Rates("10", "100")  # 1 uc per input token, 10 per output token


class Result:
    def __init__(self, i: int, o: int) -> None:
        self.usage = {"input_tokens": i, "output_tokens": o}


def test_reserve_call_settles_from_usage() -> None:
    pool = impl.BudgetPool(1_000)
    steps = Steps(pool)
    with reserve_call(pool, 500, rates=RATES) as c:
        c.settle(Result(20, 3).usage)
    assert c.outcome == "commit"
    assert steps.items == [("reserve", {"r": 500}), ("confirm_with_refund", {"r": 500, "c": 50}),
                           ("refund_to", {"a": 450})]


@pytest.mark.parametrize(("exc", "outcome"), [
    (ConnectionRefusedError(), "cancel"), (TimeoutError(), "forfeit"),
    (RuntimeError("?"), "forfeit"), (KeyboardInterrupt(), "forfeit")])
def test_reserve_call_classifies_an_exception_and_reraises_it(exc: BaseException,
                                                              outcome: str) -> None:
    pool = impl.BudgetPool(1_000)
    with pytest.raises(type(exc)), reserve_call(pool, 500) as c:
        raise exc
    assert c.outcome == outcome
    assert pool.available == (1_000 if outcome == "cancel" else 500)


def test_a_block_left_unsettled_forfeits_with_a_warning() -> None:
    pool = impl.BudgetPool(1_000)
    with pytest.warns(BudgetWarning, match="without settle"), reserve_call(pool, 100):
        pass
    assert pool.ledger().total_unrecoverable == 100


def test_reserve_call_refuses_what_does_not_fit_and_bad_amounts() -> None:
    pool = impl.BudgetPool(10)
    with pytest.raises(impl.InsufficientBudget):
        reserve_call(pool, 11)
    with pytest.raises(impl.InvalidAmount):
        reserve_call(pool, 0)
    with pytest.raises(impl.BudgetTypeError, match="pool must be"):
        reserve_call(object(), 1)  # type: ignore[arg-type]
    assert pool.ledger() == impl.Ledger(10, 0, 0, 0, 0, 0)


def test_settle_without_rates_or_usage() -> None:
    pool = impl.BudgetPool(1_000)
    c = reserve_call(pool, 100)
    with pytest.raises(impl.BudgetTypeError, match="no rates"):
        c.settle({"input_tokens": 1, "output_tokens": 1})
    c.settle_uc(40)
    c.settle_uc(99)  # resolved already: no-op
    assert pool.ledger().total_charged == 40
    c2 = reserve_call(pool, 100, rates=RATES)
    with pytest.warns(BudgetWarning, match="forfeited"):
        c2.settle(None)
    assert c2.outcome == "forfeit"


def test_budgeted_call_decorates_a_sync_function() -> None:
    pool = impl.BudgetPool(1_000)
    sent: list[str] = []

    @budgeted_call(pool, rates=RATES, estimate=lambda prompt: 10 * len(prompt) + 100,
                   usage=lambda r: r.usage)
    def generate(prompt: str) -> Result:
        sent.append(prompt)
        return Result(len(prompt), 5)

    assert generate("hello").usage["output_tokens"] == 5
    assert pool.ledger().total_charged == 55
    with pytest.raises(impl.InsufficientBudget):
        generate("x" * 200)
    assert sent == ["hello"]


def test_budgeted_call_decorates_a_coroutine_and_applies_the_policy() -> None:
    pool = impl.BudgetPool(1_000)

    @budgeted_call(pool, rates=RATES, estimate=lambda: 300, usage=lambda r: r.usage,
                   on_failure=lambda e: "cancel")
    async def generate() -> Result:
        raise OSError("boom")

    with pytest.raises(OSError):
        asyncio.run(generate())
    assert pool.available == 1_000


def test_a_failing_usage_function_forfeits_never_cancels() -> None:
    pool = impl.BudgetPool(1_000)

    @budgeted_call(pool, rates=RATES, estimate=lambda: 300, usage=lambda r: r["missing"],
                   on_failure=lambda e: "cancel")
    def generate() -> dict[str, int]:
        return {}

    with pytest.raises(KeyError):
        generate()
    assert pool.ledger().total_unrecoverable == 300


def test_classify_failure_reads_status_codes_and_causes() -> None:
    class Status(Exception):
        def __init__(self, code: int) -> None:
            self.status_code = code

    class ConnectError(Exception):
        pass

    assert classify_failure(Status(429)) == "cancel"
    assert classify_failure(Status(408)) == "forfeit"
    assert classify_failure(Status(502)) == "forfeit"
    wrapped = RuntimeError("connection error")
    wrapped.__cause__ = ConnectError()
    assert classify_failure(wrapped) == "cancel"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert classify_failure(ValueError()) == "forfeit"
