"""Lockstep property: whatever the provider does, the pool's ledger is the spec's and
it charged exactly what the provider reported as billed.

Each example draws a pool cap and a sequence of calls (endpoint, streamed or not, and
how the local fake provider behaves: answers with any usage within the request's
limits, every error status, dropped connections, timeouts, cut streams and bodies,
stream error events, answers without usage). The calls go through the real SDK
clients and the budgeted wrappers. After every call the steps the pool emitted are
replayed through ``spec.LEDGER`` (``spec.step``, which checks each guard) and the
pool's six fields must equal the spec state's; a call the pool refused must not have
reached the server; at the end ``total_charged`` equals the bills the server reported,
priced independently (``billing.billed_uc``).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from billing import billed_uc
from calls import MAX_OUT, call
from fakeprovider import Behaviour, FakeProvider
from hypothesis import given, settings
from hypothesis import strategies as st
from sdk_clients import Steps

import impl
import spec
from impl.integrations import anthropic as budgeted_anthropic
from impl.integrations import openai as budgeted_openai
from spec import LEDGER, VARIABLES

ENDPOINTS = ["chat", "responses", "messages"]
STATUSES = [400, 401, 403, 404, 408, 409, 413, 422, 429, 499, 500, 502, 503, 529]
CLIENT_TIMEOUT = 0.15


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, bool, Behaviour]:
    """One call: endpoint, streamed or not, and a server behaviour valid for it (usage
    with cache reads, charged at their tier)."""
    endpoint = draw(st.sampled_from(ENDPOINTS))
    stream = draw(st.booleans())
    kinds = ["ok", "ok", "ok", "status", "drop", "cut"]
    if endpoint == "messages" and stream:
        kinds.append("error_event")
    if endpoint != "messages" and not stream:
        kinds.append("no_usage")
    kind = draw(st.sampled_from(kinds))
    if draw(st.integers(0, 19)) == 0:
        kind = "slow"  # rare: each costs a client timeout
    return endpoint, stream, Behaviour(
        kind,
        status=draw(st.sampled_from(STATUSES)) if kind == "status" else 200,
        input_tokens=draw(st.integers(0, 40)),  # with cache reads: within the request's
        cache_read=draw(st.integers(0, 20)),     # serialized bytes
        output_tokens=draw(st.integers(0, MAX_OUT)),
        delay=3 * CLIENT_TIMEOUT)


_CLIENTS: dict[int, dict[str, Any]] = {}


def bare_clients(fp: FakeProvider) -> dict[str, Any]:
    """Real SDK clients of the fake provider, built once (no retries, short timeout)."""
    if fp.port not in _CLIENTS:
        import anthropic
        import openai

        o = openai.OpenAI(base_url=fp.openai_url, api_key="t", max_retries=0,
                          timeout=CLIENT_TIMEOUT)
        a = anthropic.Anthropic(base_url=fp.anthropic_url, api_key="t", max_retries=0,
                                timeout=CLIENT_TIMEOUT)
        _CLIENTS[fp.port] = {"chat": o, "responses": o, "messages": a}
    return _CLIENTS[fp.port]


def run_in_lockstep(fp: FakeProvider, cap: int,
                    sequence: list[tuple[str, bool, Behaviour]]) -> None:
    """Make ``sequence``'s calls on a fresh pool of ``cap``; assert the property."""
    fp.reset()
    pool = impl.BudgetPool(cap)
    steps = Steps(pool)
    bare = bare_clients(fp)
    clients = {e: (budgeted_anthropic if e == "messages" else budgeted_openai).budgeted(
        c, pool) for e, c in bare.items()}
    state = LEDGER.initial_state(cap)
    for endpoint, stream, behaviour in sequence:
        sent = fp.requests
        fp.push(behaviour)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                call(clients[endpoint], endpoint, stream)
            except impl.InsufficientBudget:
                assert fp.requests == sent, "a refused call reached the server"
                fp.script.clear()
            except Exception:  # the SDK's own error: the ledger decides
                pass
        for name, params in steps.items:
            args = [params[p] for p in LEDGER.transition(name).params]
            state = spec.step(LEDGER, state, name, *args)
        steps.clear()
        led = pool.ledger()
        assert tuple(getattr(led, v) for v in VARIABLES) == tuple(state), (led, state)
        assert led.outstanding_receipts == 0, "a call left its reservation open"
    assert pool.ledger().total_charged == billed_uc(fp.billed)


def _examples() -> int:
    return 250 if settings.get_current_profile_name() == "exhaustive" else 25


@settings(max_examples=_examples())
@given(cap=st.integers(0, 300), sequence=st.lists(calls(), min_size=1, max_size=6))
def test_pool_ledger_is_the_specs_and_charges_what_was_billed(
        fake_server: FakeProvider, cap: int, sequence: list[tuple[str, bool, Behaviour]]
) -> None:
    run_in_lockstep(fake_server, cap, sequence)


EVERY_KIND = [("chat", False, Behaviour()), ("chat", True, Behaviour()),
              ("responses", True, Behaviour()),
              ("messages", True, Behaviour("error_event")),
              ("chat", False, Behaviour("no_usage")), ("messages", False, Behaviour("drop")),
              ("chat", True, Behaviour("cut")), ("responses", False, Behaviour("status", 503)),
              ("messages", False, Behaviour("status", 429)),
              ("messages", True, Behaviour(output_tokens=MAX_OUT))]


def test_the_property_holds_on_every_kind_of_behaviour(fake_server: FakeProvider) -> None:
    run_in_lockstep(fake_server, 10**6, EVERY_KIND)


@pytest.mark.parametrize("bug", ["output_only", "stream_never_settles"])
def test_the_property_catches_a_seeded_settlement_bug(fake_server: FakeProvider, bug: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded bugs: a charge that forgets the input tokens; a stream meter that never
    sees the usage (every stream forfeited). The property must fail on each."""
    if bug == "output_only":
        import impl.integrations.core as core

        real = core.charge_uc
        monkeypatch.setattr(core, "charge_uc", lambda usage, rates: real(
            {"input_tokens": 0, "output_tokens": impl.usage_tokens(usage)[1]}, rates))
    else:
        from impl.integrations.openai import ChatMeter

        monkeypatch.setattr(ChatMeter, "usage", lambda self: None)
    with pytest.raises(AssertionError):
        run_in_lockstep(fake_server, 10**6, EVERY_KIND)
