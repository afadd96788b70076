"""Benchmark: SharedPool reserve+commit against the naive gateway pattern, per store.

    python -m benchmarks.bench_fleet                 # full run (2-4 minutes)
    python -m benchmarks.bench_fleet --quick         # smoke run
    python -m benchmarks.bench_fleet --json          # machine-readable output
    python -m benchmarks.bench_fleet --stores sqlite,redis

On each store (SQLite file; PostgreSQL and Redis from ``FLEET_POSTGRES_URL`` /
``FLEET_REDIS_URL``, default the local servers; an unreachable one is reported and
skipped), in the same run, interleaved over repetitions:

- ``shared``: ``pool.reserve(10)`` then ``pool.commit(id, 7)``: two atomic store steps;
- ``naive``: the gateway's check (read the spend) then its increment: two steps, not
  atomic together (:mod:`benchmarks.fleet_naive`);
- ``incr``: the bare atomic increment alone: one write round trip, the floor.

Each from 1 process (median latency per operation over the repetitions) and from 8
processes at once on one pool (total throughput; per-process latency). The ratio that
matters is shared over naive per reserve+commit (target: at most 1.5x). Then the race:
8 processes admit calls of 100 uc (a 10 ms call each) against a 1,000 uc cap, naive
and shared; the naive pattern's overshoot is reported beside the shared pool's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `impl` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import impl
from benchmarks.fleet_naive import Naive, race

POSTGRES_URL = os.environ.get("FLEET_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FLEET_REDIS_URL", "redis://127.0.0.1:6379/0")
NS = f"bench_fleet_{os.getpid()}"
CAP = 1 << 52
R, ACTUAL = 10, 7
OPS = ("shared", "naive", "incr")


def _sep(url: str) -> str:
    return "&" if "?" in url else "?"


def store_urls(kinds: list[str], tmp: str) -> dict[str, str]:
    """The URL of this run's namespace on each store asked for."""
    urls = {"sqlite": f"sqlite://{tmp}/bench.db",
            "postgresql": f"{POSTGRES_URL}{_sep(POSTGRES_URL)}schema={NS}",
            "redis": f"{REDIS_URL}{_sep(REDIS_URL)}prefix={NS}"}
    return {k: urls[k] for k in kinds}


def _worker(op: str, url: str, name: str) -> Callable[[int], None]:
    """A function running ``n`` operations ``op`` on pool/counter ``name``."""
    if op == "shared":
        pool = impl.SharedPool.open(url, name)

        def shared(n: int) -> None:
            for _ in range(n):
                pool.commit(pool.reserve(R, lease=60).id, ACTUAL)

        return shared
    naive = Naive(url, name)
    if op == "naive":

        def check_then_increment(n: int) -> None:
            for _ in range(n):
                if naive.admit(CAP):
                    naive.increment(ACTUAL)

        return check_then_increment

    def increment(n: int) -> None:
        for _ in range(n):
            naive.increment(ACTUAL)

    return increment


def _timed_child(op: str, url: str, name: str, n: int, start: float, out: str) -> None:
    work = _worker(op, url, name)
    work(2)  # connect, warm caches
    time.sleep(max(0.0, start - time.time()))
    t0 = time.perf_counter()
    work(n)
    Path(out).write_text(repr(time.perf_counter() - t0))


def parallel(op: str, url: str, name: str, n: int, procs: int, tmp: str) -> tuple[float, float]:
    """(total ops/s, mean seconds per op in one process) of ``procs`` processes."""
    ctx = multiprocessing.get_context("fork")
    start = time.time() + 1.0
    outs = [f"{tmp}/{op}-{uuid.uuid4().hex[:6]}-{i}" for i in range(procs)]
    ps = [ctx.Process(target=_timed_child, args=(op, url, name, n, start, o)) for o in outs]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    times = [float(Path(o).read_text()) for o in outs]
    return procs * n / max(times), statistics.mean(times) / n


def measure_store(kind: str, url: str, n: int, reps: int, procs: int, tmp: str
                  ) -> dict[str, object]:
    """Every figure of one store (see module docstring)."""
    name = f"b{uuid.uuid4().hex[:10]}"
    impl.SharedPool.create(url, name, CAP).close()
    naive = Naive(url, name)
    naive.create()
    single: dict[str, list[float]] = {op: [] for op in OPS}
    workers = {op: _worker(op, url, name) for op in OPS}
    for w in workers.values():
        w(5)
    for _ in range(reps):  # interleaved so drift hits every row alike
        for op, w in workers.items():
            t0 = time.perf_counter()
            w(n)
            single[op].append((time.perf_counter() - t0) / n)
    multi = {op: parallel(op, url, name, max(1, n // 2), procs, tmp) for op in OPS}
    cap, cost = 1_000, 100
    naive_calls, naive_spent = race(url, f"n{uuid.uuid4().hex[:10]}", False, cap, cost, procs,
                                    tmp)
    shared_calls, shared_charged = race(url, f"s{uuid.uuid4().hex[:10]}", True, cap, cost,
                                        procs, tmp)
    naive.close()
    return {
        "single_us": {op: statistics.median(v) * 1e6 for op, v in single.items()},
        "single_ops_s": {op: 1 / statistics.median(v) for op, v in single.items()},
        "multi_ops_s": {op: m[0] for op, m in multi.items()},
        "multi_us": {op: m[1] * 1e6 for op, m in multi.items()},
        "race": {"cap": cap, "naive_spent": naive_spent, "naive_overshoot": naive_spent - cap,
                 "naive_calls": naive_calls, "shared_charged": shared_charged,
                 "shared_overshoot": max(0, shared_charged - cap),
                 "shared_calls": shared_calls},
    }


def cleanup(kinds: list[str]) -> None:
    """Drop this run's PostgreSQL schema and Redis keys."""
    if "postgresql" in kinds:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {NS} CASCADE")
    if "redis" in kinds:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{NS}:*"))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i:i + 500])


def reachable(kind: str, url: str) -> str | None:
    """Why ``kind`` cannot be benchmarked, or None."""
    if kind == "sqlite":
        return None
    try:
        impl.SharedPool.open(url, "nosuchpool")
    except impl.PoolNotFound:
        return None
    except impl.BudgetError as e:
        return str(e).splitlines()[0]
    return None


def table(results: dict[str, dict[str, object]]) -> str:
    """The README table."""
    lines = ["| store | operation | 1 process: us/op | 8 processes: ops/s | "
             "8 processes: us/op | shared / naive (1 p, 8 p) |",
             "|---|---|---|---|---|---|"]
    for kind, r in results.items():
        s1, m8, u8 = r["single_us"], r["multi_ops_s"], r["multi_us"]
        assert isinstance(s1, dict) and isinstance(m8, dict) and isinstance(u8, dict)
        for op, label in (("shared", "SharedPool reserve+commit"),
                          ("naive", "naive check-then-increment"),
                          ("incr", "bare atomic increment")):
            ratio = (f"{s1['shared'] / s1['naive']:.2f}x, {u8['shared'] / u8['naive']:.2f}x"
                     if op == "shared" else "")
            lines.append(f"| {kind} | {label} | {s1[op]:,.0f} | {m8[op]:,.0f} | "
                         f"{u8[op]:,.0f} | {ratio} |")
    lines += ["", "| store | naive: calls admitted, spent of a 1,000 uc cap | overshoot | "
              "SharedPool: calls, charged | overshoot |", "|---|---|---|---|---|"]
    for kind, r in results.items():
        race_ = r["race"]
        assert isinstance(race_, dict)
        lines.append(f"| {kind} | {race_['naive_calls']}, {race_['naive_spent']:,} | "
                     f"{race_['naive_overshoot']:,} | {race_['shared_calls']}, "
                     f"{race_['shared_charged']:,} | {race_['shared_overshoot']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small n and few repetitions")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--stores", default="sqlite,postgresql,redis")
    ap.add_argument("-n", type=int, default=None, help="operations per repetition")
    ap.add_argument("--reps", type=int, default=None, help="repetitions")
    ap.add_argument("--procs", type=int, default=8, help="processes of the parallel rows")
    args = ap.parse_args(argv)
    n = args.n or (50 if args.quick else 300)
    reps = args.reps or (2 if args.quick else 5)
    kinds = [k for k in args.stores.split(",") if k]
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        urls = store_urls(kinds, tmp)
        used = []
        for kind, url in urls.items():
            why = reachable(kind, url)
            if why is not None:
                print(f"{kind}: skipped ({why})", file=sys.stderr)
                continue
            used.append(kind)
            results[kind] = measure_store(kind, url, n, reps, args.procs, tmp)
        cleanup(used)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
