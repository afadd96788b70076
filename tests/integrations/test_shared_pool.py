"""The SDK wrappers on the fleet's SharedPool (SQLite store): the same duck-typed
reserve/commit/cancel/forfeit API, so the same settlement and failure policy."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest
from billing import billed_uc
from calls import call
from fakeprovider import Behaviour, FakeProvider
from sdk_clients import Steps, anthropic_client, openai_client

import impl
from impl.integrations import anthropic as budgeted_anthropic
from impl.integrations import openai as budgeted_openai


def test_budgeted_clients_on_a_shared_pool(fake: FakeProvider, tmp_path: Path) -> None:
    pool = impl.SharedPool.create(f"sqlite://{tmp_path / 'budget.db'}", "agents", 10_000)
    try:
        steps = Steps(pool)
        o = budgeted_openai.budgeted(openai_client(fake), pool)
        a = budgeted_anthropic.budgeted(anthropic_client(fake), pool)
        call(o, "chat")
        call(a, "messages", stream=True)
        fake.push(Behaviour("status", 500), Behaviour("status", 429))
        for _ in range(2):
            with pytest.raises(openai.APIStatusError):
                call(o, "responses")
        assert [n for n in steps.names() if n != "refund_to"] == [
            "reserve", "confirm_with_refund", "reserve", "confirm_with_refund",
            "reserve", "forfeit", "reserve", "confirm_with_refund"]
        led = pool.ledger()
        assert led.total_charged == billed_uc(fake.billed)
        assert led.outstanding_receipts == 0 and led.total == 10_000
        sent = fake.requests
        with pytest.raises(impl.InsufficientBudget):
            call(o, "chat", max_completion_tokens=10**7)
        assert fake.requests == sent
    finally:
        pool.close()
