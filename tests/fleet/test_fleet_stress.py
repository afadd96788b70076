"""Many processes on one pool, some SIGKILLed; and the gateway race side by side.

Figures: 8 worker processes on every store; ci: 2 s of random operations, 3 workers
killed at random moments; exhaustive: 15 s, 4 killed.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from pathlib import Path

from fleet_stress import LEASE, gateway_worker, read_logs, run_workers
from hypothesis import settings

import impl
from benchmarks.fleet_naive import Naive

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


def _race(url: str, name: str, shared: bool, cap: int, cost: int, tmp: Path) -> int:
    ctx = multiprocessing.get_context("fork")
    start = time.time() + 0.5
    outs = [tmp / f"{name}-{i}" for i in range(WORKERS)]
    procs = [ctx.Process(target=gateway_worker,
                         args=(url, name, shared, cap, cost, start, str(o))) for o in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    return sum(int(o.read_text()) for o in outs)


def test_naive_gateway_overshoots_the_shared_pool_never_does(url: str, tmp_path: Path) -> None:
    cap, cost = 1_000, 100
    naive_name, pool_name = f"n{uuid.uuid4().hex[:10]}", f"s{uuid.uuid4().hex[:10]}"
    naive = Naive(url, naive_name)
    naive.create()
    calls = _race(url, naive_name, False, cap, cost, tmp_path)
    overshoot = naive.spent() - cap
    naive.close()
    pool = impl.SharedPool.create(url, pool_name, cap)
    shared_calls = _race(url, pool_name, True, cap, cost, tmp_path)
    led = pool.ledger()
    print(f"naive: {calls} calls admitted, spent {calls * cost} of a {cap} cap "
          f"(overshoot {overshoot}); shared pool: {shared_calls} calls, charged "
          f"{led.total_charged}")
    assert overshoot > 0, "the race did not show: the naive gateway stayed under its cap"
    assert shared_calls == cap // cost and led.total_charged == cap
