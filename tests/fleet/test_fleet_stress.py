"""Many processes on one pool, some SIGKILLed; and the gateway race side by side.

Figures: 8 worker processes on every store; ci: 2 s of random operations, 3 workers
killed at random moments; exhaustive: 15 s, 4 killed.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from fleet_stress import LEASE, read_logs, run_workers
from hypothesis import settings

import impl
from benchmarks.fleet_naive import race

EXHAUSTIVE = settings._current_profile == "exhaustive"
WORKERS = 8


def test_processes_killed_at_random_lose_nothing(url: str, name: str, tmp_path: Path) -> None:
    cap = 5_000
    pool = impl.SharedPool.create(url, name, cap)
    logs = tmp_path / "logs"
    logs.mkdir()
    seconds, kills = (15.0, 4) if EXHAUSTIVE else (2.0, 3)
    codes = run_workers(url, name, logs, WORKERS, seconds, kills, seed=int(name[1:], 16) % 997)
    assert sorted(codes).count(-9) == kills, codes  # the others finished cleanly
    assert all(c in (0, -9) for c in codes), codes
    time.sleep(LEASE + 0.2)  # every lease, on the store's clock, has lapsed
    pool.expire()
    led = pool.ledger()
    assert led.total == cap and led.outstanding_receipts == 0 and led.outstanding_refunds == 0
    assert pool.audit().open_count == 0
    intents, acks = read_logs(logs)
    assert len(acks) > 20  # the workers did commit under the load
    applied: dict[str, int] = {}
    for rid, c in intents.items():
        try:
            out = pool.commit(rid, c)  # a retry: the outcome the commit had, if it had one
        except impl.LeaseExpired:
            assert rid not in acks, f"acknowledged commit {rid} not applied"
            continue
        except impl.AlreadySettled:
            raise AssertionError(f"{rid} settled otherwise than its logged commit") from None
        assert out.state == "committed" and out.actual == c
        applied[rid] = c
    assert set(acks) <= set(applied) and all(applied[k] == v for k, v in acks.items())
    assert led.total_charged == sum(applied.values()) <= cap
    assert pool.ledger() == led  # the retries changed nothing


def test_naive_gateway_overshoots_the_shared_pool_never_does(url: str, tmp_path: Path) -> None:
    cap, cost = 1_000, 100
    calls, spent = race(url, f"n{uuid.uuid4().hex[:10]}", False, cap, cost, WORKERS,
                        str(tmp_path))
    shared_calls, charged = race(url, f"s{uuid.uuid4().hex[:10]}", True, cap, cost, WORKERS,
                                 str(tmp_path))
    print(f"naive: {calls} calls admitted, spent {spent} of a {cap} cap; shared pool: "
          f"{shared_calls} calls, charged {charged}")
    assert spent > cap, "the race did not show: the naive gateway stayed under its cap"
    assert spent == calls * cost  # every admitted call was billed
    assert shared_calls == cap // cost and charged == cap  # all of the cap, never more
