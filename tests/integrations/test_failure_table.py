"""README's failure-classification table, one test per row, through the real SDKs.

Each test scripts the local fake provider, makes one budgeted call, and reads the
outcome from the pool's ledger steps: settled (``confirm_with_refund(r, c)`` with the
billed ``c``), cancelled (``c = 0`` and the whole ``r`` refunded) or forfeited.
"""

from __future__ import annotations

import gc
import socket
import warnings
from typing import Any

import anthropic
import openai
import pytest
from calls import call, kwargs, method
from fakeprovider import Behaviour, FakeProvider, closed_port
from sdk_clients import Steps, anthropic_client, openai_client

import impl
from impl.integrations import BudgetWarning
from impl.integrations import anthropic as budgeted_anthropic
from impl.integrations import openai as budgeted_openai

ENDPOINTS = ["chat", "responses", "messages"]
BIG = 10**9


def budgeted_client(fp: FakeProvider, endpoint: str, pool: Any, **kw: Any) -> Any:
    if endpoint == "messages":
        return budgeted_anthropic.budgeted(anthropic_client(fp), pool, **kw)
    return budgeted_openai.budgeted(openai_client(fp), pool, **kw)


def outcome(steps: Steps) -> str:
    """The resolution of the one call the steps show (after its ``reserve``)."""
    names = steps.names()
    assert names[0] == "reserve", names
    r = steps.items[0][1]["r"]
    if names == ["reserve", "forfeit"]:
        return "forfeit"
    assert names[1] == "confirm_with_refund", names
    c = steps.items[1][1]["c"]
    if c == 0:
        assert steps.items[2] == ("refund_to", {"a": r})
        return "cancel"
    return "commit"


def run_failing(fp: FakeProvider, endpoint: str, behaviour: Behaviour,
                error: type[BaseException]) -> tuple[str, impl.BudgetPool]:
    pool = impl.BudgetPool(BIG)
    client = budgeted_client(fp, endpoint, pool)
    steps = Steps(pool)
    fp.push(behaviour)
    with pytest.raises(error):
        call(client, endpoint)
    assert fp.requests == 1
    return outcome(steps), pool


# Row: a response with usage -> settled at the billed charge.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("stream", [False, True])
def test_response_with_usage_settles_at_the_billed_charge(fake: FakeProvider, endpoint: str,
                                                          stream: bool) -> None:
    pool = impl.BudgetPool(BIG)
    client = budgeted_client(fake, endpoint, pool)
    steps = Steps(pool)
    fake.push(Behaviour(input_tokens=1_000, output_tokens=50))
    call(client, endpoint, stream)
    assert outcome(steps) == "commit"
    rates = impl.integrations.price_of(kwargs(endpoint)["model"], {})
    assert pool.ledger().total_charged == impl.charge_from_tokens(1_000, 50, rates)
    assert pool.ledger().outstanding_receipts == 0


# Row: connection refused (the request never left) -> cancel.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_connection_refused_cancels(endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    port = closed_port()
    if endpoint == "messages":
        raw: Any = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="t",
                                       max_retries=0)
        client = budgeted_anthropic.budgeted(raw, pool)
    else:
        raw = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="t",
                            max_retries=0)
        client = budgeted_openai.budgeted(raw, pool)
    steps = Steps(pool)
    err = anthropic.APIConnectionError if endpoint == "messages" else openai.APIConnectionError
    with pytest.raises(err):
        call(client, endpoint)
    assert outcome(steps) == "cancel"
    assert pool.available == BIG


# Row: a connect timeout (the request never left) -> cancel. A listening socket that
# never accepts, its backlog full, makes a real connect time out on loopback.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_connect_timeout_cancels(endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for f in fillers:
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
        try:
            if endpoint == "messages":
                raw: Any = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}",
                                               api_key="t", max_retries=0, timeout=0.2)
                client = budgeted_anthropic.budgeted(raw, pool)
                err: type[Exception] = anthropic.APITimeoutError
            else:
                raw = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="t",
                                    max_retries=0, timeout=0.2)
                client = budgeted_openai.budgeted(raw, pool)
                err = openai.APITimeoutError
            steps = Steps(pool)
            with pytest.raises(err) as info:
                call(client, endpoint)
        finally:
            for f in fillers:
                f.close()
    assert type(info.value.__cause__).__name__ == "ConnectTimeout"
    assert outcome(steps) == "cancel"
    assert pool.available == BIG


# Row: a 4xx rejection -> cancel.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 429])
def test_rejected_4xx_cancels(fake: FakeProvider, endpoint: str, status: int) -> None:
    err = anthropic.APIStatusError if endpoint == "messages" else openai.APIStatusError
    got, pool = run_failing(fake, endpoint, Behaviour("status", status), err)
    assert got == "cancel"
    assert pool.available == BIG


# Row: 408 and 499 (the server may have started) -> forfeit.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", [408, 499])
def test_408_and_499_forfeit(fake: FakeProvider, endpoint: str, status: int) -> None:
    err = anthropic.APIStatusError if endpoint == "messages" else openai.APIStatusError
    assert run_failing(fake, endpoint, Behaviour("status", status), err)[0] == "forfeit"


# Row: a 5xx -> forfeit.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_5xx_forfeits(fake: FakeProvider, endpoint: str, status: int) -> None:
    err = anthropic.APIStatusError if endpoint == "messages" else openai.APIStatusError
    got, pool = run_failing(fake, endpoint, Behaviour("status", status), err)
    assert got == "forfeit"
    assert pool.ledger().total_unrecoverable > 0


# Row: a read timeout after the request was sent -> forfeit.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_timeout_forfeits(fake: FakeProvider, endpoint: str) -> None:
    err = anthropic.APITimeoutError if endpoint == "messages" else openai.APITimeoutError
    assert run_failing(fake, endpoint, Behaviour("slow", delay=2.0), err)[0] == "forfeit"


# Row: the connection dropped before an answer -> forfeit.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_dropped_connection_forfeits(fake: FakeProvider, endpoint: str) -> None:
    err = (anthropic.APIConnectionError if endpoint == "messages"
           else openai.APIConnectionError)
    assert run_failing(fake, endpoint, Behaviour("drop"), err)[0] == "forfeit"


# Row: a stream cut off before its usage -> forfeit.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_stream_cut_off_forfeits(fake: FakeProvider, endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    client = budgeted_client(fake, endpoint, pool)
    steps = Steps(pool)
    fake.push(Behaviour("cut"))
    stream = method(client, endpoint)(**kwargs(endpoint, stream=True))
    with pytest.raises(Exception) as info:
        list(stream)
    assert "incomplete chunked read" in str(info.value) or info.value.__cause__ is not None
    assert outcome(steps) == "forfeit"


# Row: an error event in the stream (Anthropic ``overloaded_error``) -> forfeit.
def test_stream_error_event_forfeits(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    client = budgeted_client(fake, "messages", pool)
    steps = Steps(pool)
    fake.push(Behaviour("error_event"))
    with pytest.raises(anthropic.APIStatusError):
        call(client, "messages", stream=True)
    assert outcome(steps) == "forfeit"


# Row: a stream abandoned before its usage (closed, or dropped) -> forfeit.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("how", ["close", "drop"])
def test_stream_abandoned_forfeits(fake: FakeProvider, endpoint: str, how: str) -> None:
    pool = impl.BudgetPool(BIG)
    client = budgeted_client(fake, endpoint, pool)
    steps = Steps(pool)
    stream = method(client, endpoint)(**kwargs(endpoint, stream=True))
    next(iter(stream))
    if how == "close":
        stream.close()
    else:
        del stream
        gc.collect()
    assert outcome(steps) == "forfeit"
    assert pool.ledger().outstanding_receipts == 0


# Row: a response without usage -> forfeit, with a warning (never read as zero).
@pytest.mark.parametrize("endpoint", ["chat", "responses"])
def test_response_without_usage_forfeits_with_a_warning(fake: FakeProvider,
                                                        endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    client = budgeted_client(fake, endpoint, pool)
    steps = Steps(pool)
    fake.push(Behaviour("no_usage"))
    with pytest.warns(BudgetWarning, match="forfeited"):
        result = call(client, endpoint)
    assert result.usage is None
    assert outcome(steps) == "forfeit"


# Row: billed above the reservation -> the excess is reserved and charged if it fits.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_charge_above_the_reservation_is_charged_in_full(fake: FakeProvider,
                                                         endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    client = budgeted_client(fake, endpoint, pool)
    steps = Steps(pool)
    fake.push(Behaviour(output_tokens=100_000))
    call(client, endpoint)
    rates = impl.integrations.price_of(kwargs(endpoint)["model"], {})
    billed = impl.charge_from_tokens(12, 100_000, rates)
    r = steps.items[0][1]["r"]
    assert steps.names() == ["reserve", "confirm_with_refund", "reserve",
                             "confirm_with_refund"]
    assert steps.items[1][1] == {"r": r, "c": r}
    assert pool.ledger().total_charged == billed


def test_charge_above_the_reservation_warns_when_the_pool_cannot_cover_it(
        fake: FakeProvider) -> None:
    client0 = budgeted_client(fake, "chat", impl.BudgetPool(BIG))
    probe = impl.BudgetPool(BIG)
    steps = Steps(probe)
    budgeted_client(fake, "chat", probe).chat.completions.create(**kwargs("chat"))
    r = steps.items[0][1]["r"]
    pool = impl.BudgetPool(r)
    client = budgeted_client(fake, "chat", pool)
    fake.push(Behaviour(output_tokens=100_000))
    with pytest.warns(BudgetWarning, match="could not cover"):
        client.chat.completions.create(**kwargs("chat"))
    assert pool.ledger().total_charged == r
    assert client0 is not client


# Row: the call does not fit the pool -> InsufficientBudget, nothing sent.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("stream", [False, True])
def test_refused_by_the_pool_sends_nothing(fake: FakeProvider, endpoint: str,
                                           stream: bool) -> None:
    pool = impl.BudgetPool(3)
    client = budgeted_client(fake, endpoint, pool)
    steps = Steps(pool)
    with pytest.raises(impl.InsufficientBudget, match="refused"):
        call(client, endpoint, stream)
    assert fake.requests == 0
    assert steps.names() == ["spend_insufficient"]
    assert pool.ledger() == impl.Ledger(3, 0, 0, 0, 0, 0)


# The policy is the user's to override.
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_user_policy_overrides_the_default(fake: FakeProvider, endpoint: str) -> None:
    pool = impl.BudgetPool(BIG)
    seen: list[BaseException] = []

    def lenient(exc: BaseException) -> impl.integrations.Outcome:
        seen.append(exc)
        return "cancel"

    client = budgeted_client(fake, endpoint, pool, on_failure=lenient)
    steps = Steps(pool)
    fake.push(Behaviour("status", 503))
    with pytest.raises(Exception, match="503"):
        call(client, endpoint)
    assert outcome(steps) == "cancel"
    assert len(seen) == 1 and getattr(seen[0], "status_code", None) == 503


def test_policy_returning_nonsense_forfeits_and_says_so(fake: FakeProvider) -> None:
    pool = impl.BudgetPool(BIG)
    client = budgeted_client(fake, "chat", pool, on_failure=lambda e: "refund")
    steps = Steps(pool)
    fake.push(Behaviour("status", 500))
    with warnings.catch_warnings(), pytest.raises(impl.BudgetTypeError, match="'refund'"):
        call(client, "chat")
    assert outcome(steps) == "forfeit"


# Row: the request never left, the other causes (DNS failure: httpx's ConnectError;
# pool timeout), classified from the exception chain the SDKs build.
@pytest.mark.parametrize("module", [openai, anthropic])
@pytest.mark.parametrize(("cause", "sdk_error", "expected"), [
    ("ConnectError", "APIConnectionError", "cancel"),
    ("PoolTimeout", "APITimeoutError", "cancel"),
    ("ConnectTimeout", "APITimeoutError", "cancel"),
    ("ReadTimeout", "APITimeoutError", "forfeit"),
    ("WriteTimeout", "APITimeoutError", "forfeit"),
    ("RemoteProtocolError", "APIConnectionError", "forfeit"),
    ("ReadError", "APIConnectionError", "forfeit"),
])
def test_transport_causes_are_classified(module: Any, cause: str, sdk_error: str,
                                         expected: str) -> None:
    import httpx2

    from impl.integrations import classify_failure

    request = httpx2.Request("POST", "http://127.0.0.1/v1/messages")
    try:
        try:
            raise getattr(httpx2, cause)("[Errno -2] Name or service not known")
        except Exception as inner:
            cls = getattr(module, sdk_error)
            raise cls(request=request) from inner
    except Exception as e:
        assert classify_failure(e) == expected
