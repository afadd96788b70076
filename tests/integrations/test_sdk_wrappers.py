"""The SDK wrappers through the real ``openai`` and ``anthropic`` clients, offline:
what is reserved before a request leaves, what is sent, what the caller gets back."""

from __future__ import annotations

import asyncio
import json
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import anthropic
import openai
import pytest
from billing import billed_uc
from calls import MAX_OUT, acall, call, kwargs, method
from fakeprovider import Behaviour, FakeProvider
from sdk_clients import Steps, anthropic_client, openai_client

import impl
from impl.integrations import (
    MissingOutputLimit,
    MissingPrice,
    UnboundedInput,
    Unbudgeted,
    price_of,
)
from impl.integrations import anthropic as budgeted_anthropic
from impl.integrations import openai as budgeted_openai
from impl.integrations.anthropic import TOOL_PROMPT_TOKENS
from impl.integrations.prices import TABLE

BIG = 10**9


def wrap(fp: FakeProvider, endpoint: str, pool: Any, is_async: bool = False,
         client_kw: dict[str, Any] | None = None, **kw: Any) -> Any:
    if endpoint == "messages":
        raw = anthropic_client(fp, is_async=is_async, **(client_kw or {}))
        return budgeted_anthropic.budgeted(raw, pool, **kw)
    return budgeted_openai.budgeted(openai_client(fp, is_async=is_async, **(client_kw or {})),
                                    pool, **kw)


def reserved(steps: Steps) -> int:
    assert steps.items[0][0] == "reserve"
    return steps.items[0][1]["r"]


def expected_reservation(fp: FakeProvider, endpoint: str, out: int, extra_in: int = 0,
                         input_rate: Decimal | None = None) -> int:
    """The reservation recomputed from what the server received: UTF-8 bytes of the
    JSON body (minus what the SDK adds: ``stream``'s key is in both) at the table's
    rates, exact, rounded up."""
    body = fp.bodies[-1]
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    row = TABLE[kwargs(endpoint)["model"]]
    rin = Decimal(row.input) if input_rate is None else input_rate
    cost = Fraction((len(text.encode()) + extra_in) * rin + out * Decimal(row.output)) / 10
    return math.ceil(cost)


# What is reserved

@pytest.mark.parametrize("endpoint", ["chat", "responses", "messages"])
def test_reservation_is_the_serialized_request_plus_the_output_cap(fake: FakeProvider,
                                                                   endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    call(wrap(fake, endpoint, pool), endpoint)
    assert reserved(steps) == expected_reservation(fake, endpoint, MAX_OUT)


def test_n_choices_multiply_the_output_cap(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    call(wrap(fake, "chat", pool), "chat", n=3)
    assert reserved(steps) == expected_reservation(fake, "chat", 3 * MAX_OUT)


def test_reasoning_allowance_is_reserved_at_the_output_rate(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    call(wrap(fake, "responses", pool, reasoning_tokens=1_000), "responses")
    assert reserved(steps) == expected_reservation(fake, "responses", MAX_OUT + 1_000)


def test_anthropic_tools_reserve_the_tool_system_prompt(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    tool = {"name": "f", "input_schema": {"type": "object"}}
    call(wrap(fake, "messages", pool), "messages", tools=[tool])
    assert reserved(steps) == expected_reservation(fake, "messages", MAX_OUT,
                                                   extra_in=TOOL_PROMPT_TOKENS)


def test_anthropic_cache_writes_are_reserved_at_the_highest_write_price(
        fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    system = [{"type": "text", "text": "You are terse.",
               "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    call(wrap(fake, "messages", pool), "messages", system=system)
    row = TABLE["claude-haiku-4-5"]
    assert Decimal(row.cache_write_1h) == 2 * Decimal(row.input)
    assert reserved(steps) == expected_reservation(fake, "messages", MAX_OUT,
                                                   input_rate=Decimal(row.cache_write_1h))


@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_no_output_limit_is_refused_before_sending(fake: FakeProvider, endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    kw = kwargs(endpoint)
    kw.pop("max_completion_tokens", None)
    kw.pop("max_output_tokens", None)
    with pytest.raises(MissingOutputLimit, match="no output limit") as info:
        method(wrap(fake, endpoint, pool), endpoint)(**kw)
    assert "default_max_tokens" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert fake.requests == 0 and pool.available == BIG


@pytest.mark.parametrize(("endpoint", "sent"), [("chat", "max_completion_tokens"),
                                                ("responses", "max_output_tokens")])
def test_default_output_limit_is_sent_and_reserved(fake: FakeProvider, endpoint: str,
                                                   sent: str) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    kw = kwargs(endpoint)
    kw.pop(sent)
    method(wrap(fake, endpoint, pool, default_max_tokens=300), endpoint)(**kw)
    assert fake.bodies[-1][sent] == 300
    assert reserved(steps) == expected_reservation(fake, endpoint, 300)


def test_unknown_model_is_refused_naming_it(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    with pytest.raises(MissingPrice, match="'my-finetune'") as info:
        call(wrap(fake, "chat", pool), "chat", model="my-finetune")
    assert "prices=" in str(info.value)
    assert fake.requests == 0


def test_user_prices_override_and_extend_the_table(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    prices = {"my-finetune": impl.Rates("100", "1000")}
    fake.push(Behaviour(input_tokens=10, output_tokens=10))
    call(wrap(fake, "chat", pool, prices=prices), "chat", model="my-finetune")
    assert steps.items[1] == ("confirm_with_refund", {"r": reserved(steps), "c": 1_100})


@pytest.mark.parametrize(("endpoint", "extra"), [
    ("chat", {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}),
    ("responses", {"previous_response_id": "resp_0"}),
    ("responses", {"tools": [{"type": "web_search"}]}),
    ("responses", {"input": [{"role": "user", "content": [
        {"type": "input_file", "file_id": "file-1"}]}]}),
    ("messages", {"tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
    ("messages", {"messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}]}),
])
def test_input_the_provider_adds_needs_an_allowance(fake: FakeProvider, endpoint: str,
                                                    extra: dict[str, Any]) -> None:
    pool = impl.BudgetPool(BIG)
    with pytest.raises(UnboundedInput, match="extra_input_tokens"):
        call(wrap(fake, endpoint, pool), endpoint, **extra)
    assert fake.requests == 0
    steps = Steps(pool)
    call(wrap(fake, endpoint, pool, extra_input_tokens=5_000), endpoint, **extra)
    assert fake.requests == 1
    assert steps.names()[0] == "reserve"


# What the caller gets

def test_chat_stream_hides_the_usage_chunk_it_asked_for(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    chunks = call(wrap(fake, "chat", pool), "chat", stream=True)
    assert fake.bodies[-1]["stream_options"] == {"include_usage": True}
    assert all(c.choices for c in chunks)
    assert all(isinstance(c, openai.types.chat.ChatCompletionChunk) for c in chunks)
    assert pool.ledger().total_charged > 0


def test_chat_stream_shows_the_usage_chunk_the_caller_asked_for(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    chunks = call(wrap(fake, "chat", pool), "chat", stream=True,
                  stream_options={"include_usage": True})
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 12


def test_stream_as_context_manager_settles(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, "messages", pool)
    with client.messages.create(**kwargs("messages", stream=True)) as stream:
        assert isinstance(stream, anthropic.Stream)
        events = [e.type for e in stream]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to"]


@pytest.mark.parametrize("endpoint", ["chat", "responses", "messages"])
def test_raw_response_is_budgeted_and_returned_unchanged(fake: FakeProvider,
                                                         endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, endpoint, pool)
    raw_node = (client.chat.completions if endpoint == "chat"
                else client.responses if endpoint == "responses" else client.messages)
    raw = raw_node.with_raw_response.create(**kwargs(endpoint))
    assert raw.http_response.status_code == 200
    assert raw.parse().usage is not None
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to"]


def test_chat_parse_is_budgeted(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    result = wrap(fake, "chat", pool).chat.completions.parse(**kwargs("chat"))
    assert result.choices[0].message.content == "hello"
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to"]


@pytest.mark.parametrize(("endpoint", "path"), [
    ("chat", ("embeddings",)), ("chat", ("chat", "completions", "stream")),
    ("chat", ("beta",)), ("messages", ("messages", "batches")), ("messages", ("beta",)),
    ("messages", ("messages", "with_raw_response", "stream")),
])
def test_billed_methods_not_budgeted_are_refused(fake: FakeProvider, endpoint: str,
                                                 path: tuple[str, ...]) -> None:
    node = wrap(fake, endpoint, impl.BudgetPool(BIG))
    for name in path[:-1]:
        node = getattr(node, name)
    with pytest.raises(Unbudgeted, match="bypass the pool"):
        getattr(node, path[-1])


def test_free_methods_and_the_bare_client_pass_through(fake: FakeProvider) -> None:
    bare = openai_client(fake)
    client = wrap(fake, "chat", impl.BudgetPool(BIG))
    assert client.unbudgeted is bare
    assert client.base_url == bare.base_url
    assert client.chat.completions.list is not None


def test_with_options_stays_budgeted(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, "chat", pool).with_options(timeout=5.0)
    call(client, "chat")
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to"]


def test_not_a_client_or_not_a_pool_is_refused(fake: FakeProvider) -> None:
    with pytest.raises(impl.BudgetTypeError, match=r"openai\.OpenAI or openai\.AsyncOpenAI"):
        budgeted_openai.budgeted(object(), impl.BudgetPool(1))
    with pytest.raises(TypeError, match=r"anthropic\.Anthropic or anthropic\.AsyncAnthropic, "
                                        r"got OpenAI"):
        budgeted_anthropic.budgeted(openai_client(fake), impl.BudgetPool(1))
    with pytest.raises(impl.BudgetTypeError, match="pool must be"):
        budgeted_anthropic.budgeted(anthropic_client(fake), 100)
    with pytest.raises(impl.BudgetTypeError, match="prices"):
        budgeted_openai.budgeted(openai_client(fake), impl.BudgetPool(1),
                                 prices={"m": (1, 2)})  # type: ignore[dict-item]


# Retries: each attempt reserved and resolved on its own

@pytest.mark.parametrize(("first", "resolution"), [(429, "cancel"), (500, "forfeit")])
def test_retries_reserve_each_attempt(fake: FakeProvider, first: int, resolution: str) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, "chat", pool, client_kw={"max_retries": 2})
    fake.push(Behaviour("status", first, headers={"retry-after-ms": "1"}))
    call(client, "chat")
    assert fake.requests == 2
    r = reserved(steps)
    first_steps = (["confirm_with_refund", "refund_to"] if resolution == "cancel"
                   else ["forfeit"])
    assert steps.names() == ["reserve", *first_steps, "reserve", "confirm_with_refund",
                             "refund_to"]
    assert pool.ledger().total_unrecoverable == (r if resolution == "forfeit" else 0)


def test_a_retry_that_does_not_fit_raises_the_sdk_error(fake: FakeProvider) -> None:
    probe = impl.BudgetPool(BIG)
    steps = Steps(probe)
    call(wrap(fake, "chat", probe), "chat")
    r = reserved(steps)
    pool = impl.BudgetPool(r)
    client = wrap(fake, "chat", pool, client_kw={"max_retries": 2})
    fake.push(Behaviour("status", 500, headers={"retry-after-ms": "1"}))
    with pytest.raises(openai.InternalServerError) as info:
        call(client, "chat")
    assert any("not retried" in n for n in getattr(info.value, "__notes__", []))
    assert fake.requests == 2  # the probe, then the one attempt: no retry went out
    assert pool.ledger().total_unrecoverable == r


# Async clients

@pytest.mark.parametrize("endpoint", ["chat", "responses", "messages"])
@pytest.mark.parametrize("stream", [False, True])
def test_async_clients_settle(fake: FakeProvider, endpoint: str, stream: bool) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, endpoint, pool, is_async=True)
    asyncio.run(acall(client, endpoint, stream))
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to"]
    assert pool.ledger().total_charged == impl.charge_from_tokens(
        12, 7, price_of(kwargs(endpoint)["model"], {}))


@pytest.mark.parametrize("endpoint", ["chat", "messages"])
def test_async_failures_and_refusals(fake: FakeProvider, endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, endpoint, pool, is_async=True)
    fake.push(Behaviour("status", 429), Behaviour("status", 503))

    async def run() -> None:
        for _ in range(2):
            with pytest.raises(Exception, match="fake error"):
                await acall(client, endpoint)
        with pytest.raises(impl.InsufficientBudget):
            await acall(wrap(fake, endpoint, impl.BudgetPool(1), is_async=True), endpoint)

    asyncio.run(run())
    assert fake.requests == 2
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to", "reserve",
                             "forfeit"]


@pytest.mark.parametrize("endpoint", ["chat", "messages"])
def test_async_stream_cut_or_abandoned_forfeits(fake: FakeProvider, endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, endpoint, pool, is_async=True)
    fake.push(Behaviour("cut"))

    async def run() -> None:
        with pytest.raises(Exception):  # noqa: B017 - the SDK's own error, unchanged
            await acall(client, endpoint, stream=True)
        stream = await method(client, endpoint)(**kwargs(endpoint, stream=True))
        async for _ in stream:
            break
        await stream.close()

    asyncio.run(run())
    assert steps.names() == ["reserve", "forfeit", "reserve", "forfeit"]


@pytest.mark.parametrize("endpoint", ["chat", "messages"])
@pytest.mark.parametrize("stream", [False, True])
def test_async_raw_response_is_budgeted(fake: FakeProvider, endpoint: str,
                                        stream: bool) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, endpoint, pool, is_async=True)
    node = client.chat.completions if endpoint == "chat" else client.messages

    async def run() -> None:
        raw = await node.with_raw_response.create(**kwargs(endpoint, stream))
        parsed = raw.parse()
        if hasattr(parsed, "__await__"):
            parsed = await parsed
        if stream:
            assert [item async for item in parsed]
        else:
            assert parsed.usage is not None

    asyncio.run(run())
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to"]


@pytest.mark.parametrize("how", ["events", "final_message", "abandoned", "refused"])
def test_anthropic_stream_helper_is_budgeted(fake: FakeProvider, how: str) -> None:
    pool = impl.BudgetPool(3 if how == "refused" else BIG)
    steps = Steps(pool)
    helper = wrap(fake, "messages", pool).messages.stream(**kwargs("messages"))
    assert steps.items == [] and fake.requests == 0  # nothing reserved before `with`
    if how == "refused":
        with pytest.raises(impl.InsufficientBudget), helper:
            pass
        assert fake.requests == 0
        return
    with helper as stream:
        if how == "events":
            assert [e.type for e in stream][-1] == "message_stop"
        elif how == "final_message":
            assert stream.get_final_message().usage.output_tokens == 7
        else:
            next(iter(stream))
    resolved = ["forfeit"] if how == "abandoned" else ["confirm_with_refund", "refund_to"]
    assert steps.names() == ["reserve", *resolved]


def test_async_anthropic_stream_helper_is_budgeted(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    client = wrap(fake, "messages", pool, is_async=True)

    async def run() -> str:
        async with client.messages.stream(**kwargs("messages")) as stream:
            return await stream.get_final_text()

    assert asyncio.run(run()) == "hello"
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to"]


@pytest.mark.parametrize("endpoint", ["chat", "responses", "messages"])
def test_cache_tiers_are_charged_exactly_within_the_reservation(fake: FakeProvider,
                                                                endpoint: str) -> None:
    """Cache reads (all providers) and Anthropic's cache writes (with ``cache_control``
    in the request) are charged at their tiers, within the one reservation."""
    pool = impl.BudgetPool(BIG)
    steps = Steps(pool)
    text = "word " * 600  # 3,000 bytes: the estimate covers 3,000 input tokens
    extra: dict[str, Any] = {}
    if endpoint == "messages":
        extra["system"] = [{"type": "text", "text": text,
                            "cache_control": {"type": "ephemeral"}}]
        writes = 800
    elif endpoint == "chat":
        extra["messages"] = [{"role": "user", "content": text}]
        writes = 0
    else:
        extra["input"] = text
        writes = 0
    fake.push(Behaviour(input_tokens=700, cache_read=1_400, cache_write=writes,
                        output_tokens=MAX_OUT))
    call(wrap(fake, endpoint, pool), endpoint, **extra)
    assert steps.names() == ["reserve", "confirm_with_refund", "refund_to"]
    assert pool.ledger().total_charged == billed_uc(fake.billed)
    tiered = billed_uc(fake.billed)
    flat = impl.charge_from_tokens(700 + 1_400 + writes, MAX_OUT,
                                   price_of(kwargs(endpoint)["model"], {}))
    assert tiered != flat  # the tiers made a difference
