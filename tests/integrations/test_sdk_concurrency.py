"""Many threads and asyncio tasks calling through budgeted SDK clients on one pool:
the pool never over-commits, every refused call sends nothing, and what the pool
charged is what the server billed."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from billing import billed_uc
from calls import acall, call
from fakeprovider import Behaviour, FakeProvider
from sdk_clients import anthropic_client, openai_client

import impl
from impl.integrations import anthropic as budgeted_anthropic
from impl.integrations import openai as budgeted_openai

N = 24
ENDPOINTS = ["chat", "responses", "messages"]


def clients(fp: FakeProvider, pool: impl.BudgetPool, is_async: bool) -> dict[str, Any]:
    o = budgeted_openai.budgeted(openai_client(fp, is_async=is_async), pool)
    a = budgeted_anthropic.budgeted(anthropic_client(fp, is_async=is_async), pool)
    return {"chat": o, "responses": o, "messages": a}


def check(fp: FakeProvider, pool: impl.BudgetPool, refused: int, ok: int) -> None:
    led = pool.ledger()
    assert refused + ok == N
    assert refused > 0 and ok > 0
    assert fp.requests == ok  # a refused call sent nothing
    assert led.total == pool.cap and led.outstanding_receipts == 0
    assert led.total_charged == billed_uc(fp.billed)
    assert led.total_unrecoverable == 0


def test_threads_share_one_pool(fake: FakeProvider) -> None:
    fake.default = Behaviour(latency=0.05)
    pool = impl.BudgetPool(300)  # a few calls' reservations at a time
    cs = clients(fake, pool, False)
    barrier = threading.Barrier(N)
    results: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        endpoint = ENDPOINTS[i % 3]
        barrier.wait()
        try:
            call(cs[endpoint], endpoint, stream=i % 2 == 0)
            outcome = "ok"
        except impl.InsufficientBudget:
            outcome = "refused"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    check(fake, pool, results.count("refused"), results.count("ok"))


def test_asyncio_tasks_share_one_pool(fake: FakeProvider) -> None:
    fake.default = Behaviour(latency=0.05)
    pool = impl.BudgetPool(300)

    async def run() -> list[str]:
        cs = clients(fake, pool, True)

        async def one(i: int) -> str:
            endpoint = ENDPOINTS[i % 3]
            try:
                await acall(cs[endpoint], endpoint, stream=i % 2 == 0)
            except impl.InsufficientBudget:
                return "refused"
            return "ok"

        return list(await asyncio.gather(*(one(i) for i in range(N))))

    results = asyncio.run(run())
    check(fake, pool, results.count("refused"), results.count("ok"))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_pool_never_goes_negative_under_mixed_failures(fake: FakeProvider,
                                                       endpoint: str) -> None:
    fake.push(*[Behaviour("status", s) for s in (429, 500, 400, 503)] * 3)
    pool = impl.BudgetPool(10**6)
    c = clients(fake, pool, False)[endpoint]
    errors = []

    def worker() -> None:
        try:
            call(c, endpoint)
        except Exception as e:  # the SDK's own errors
            errors.append(type(e).__name__)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    led = pool.ledger()
    assert len(errors) == 12 and fake.requests == 12
    assert led.outstanding_receipts == 0 and led.total_charged == 0
    assert led.total == pool.cap
