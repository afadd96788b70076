"""Benchmark: per-operation cost of the impl library against a locked counter.

    python -m benchmarks.bench_impl            # full run (about 10 s)
    python -m benchmarks.bench_impl --quick    # smoke run (about 1 s)
    python -m benchmarks.bench_impl --json     # machine-readable output

The baseline, measured in the same run, is the paper's single-agent baseline: a
4-line counter with a ``threading.Lock`` (check-and-add under the lock before the
call, refund under the lock after it). Every figure is wall time per operation
(``time.perf_counter_ns``) over ``n`` operations, repeated ``reps`` times; the table
gives the minimum and the median over the repetitions, loop overhead included in
every row alike. The ratio that matters is pool ``reserve``+``commit`` over the
baseline (target: at most 2x), uncontended and with 4 threads on one pool.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `impl` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import impl

CAP = 1 << 62
R, ACTUAL = 10, 7


class LockedCounter:
    """The baseline: check-and-add under a lock, then refund under the lock."""

    def __init__(self, cap: int) -> None:
        self.cap, self.used, self.lock = cap, 0, threading.Lock()

    def reserve(self, r: int) -> None:
        with self.lock:
            if self.used + r > self.cap:
                raise RuntimeError("over cap")
            self.used += r

    def refund(self, a: int) -> None:
        with self.lock:
            self.used -= a


def _baseline(n: int) -> int:
    c = LockedCounter(CAP)
    reserve, refund = c.reserve, c.refund
    t0 = time.perf_counter_ns()
    for _ in range(n):
        reserve(R)
        refund(R - ACTUAL)
    return time.perf_counter_ns() - t0


def _pool(n: int) -> int:
    p = impl.BudgetPool(CAP)
    reserve = p.reserve
    t0 = time.perf_counter_ns()
    for _ in range(n):
        reserve(R).commit(ACTUAL)
    return time.perf_counter_ns() - t0


def _spend(n: int) -> int:
    b = impl.Session(CAP).take()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        b = b.spend(R, charged=ACTUAL)
    return time.perf_counter_ns() - t0


def _receipt(n: int) -> int:
    b = impl.Session(CAP).take()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        b, rc = b.reserve(R)
        b = rc.confirm(ACTUAL).apply_to(b)
    return time.perf_counter_ns() - t0


def _threaded(make: Callable[[], Callable[[int], None]], n: int, threads: int) -> int:
    """Wall time of ``threads`` threads each running ``n`` operations on one object."""
    work = make()
    barrier = threading.Barrier(threads + 1)

    def run() -> None:
        barrier.wait()
        work(n)

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter_ns()
    for t in ts:
        t.join()
    return time.perf_counter_ns() - t0


def _baseline_worker() -> Callable[[int], None]:
    c = LockedCounter(CAP)

    def work(n: int) -> None:
        reserve, refund = c.reserve, c.refund
        for _ in range(n):
            reserve(R)
            refund(R - ACTUAL)

    return work


def _pool_worker() -> Callable[[int], None]:
    p = impl.BudgetPool(CAP)

    def work(n: int) -> None:
        reserve = p.reserve
        for _ in range(n):
            reserve(R).commit(ACTUAL)

    return work


def measure(n: int, reps: int, threads: int = 4) -> dict[str, dict[str, float]]:
    """Per-operation ns (min, median over ``reps``) of every benchmarked operation."""
    single: dict[str, Callable[[int], int]] = {
        "baseline: locked counter reserve+refund": _baseline,
        "pool reserve+commit": _pool,
        "Budget.spend": _spend,
        "Budget.reserve+confirm+apply_to": _receipt,
    }
    multi: dict[str, Callable[[], Callable[[int], None]]] = {
        f"baseline: locked counter, {threads} threads": _baseline_worker,
        f"pool reserve+commit, {threads} threads": _pool_worker,
    }
    samples: dict[str, list[float]] = {k: [] for k in [*single, *multi]}
    for _ in range(reps):  # interleave the rows so drift hits them alike
        for name, fn in single.items():
            samples[name].append(fn(n) / n)
        for name, mk in multi.items():
            samples[name].append(_threaded(mk, n // threads, threads) / (n // threads * threads))
    return {k: {"min_ns": min(v), "median_ns": statistics.median(v)}
            for k, v in samples.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small n and few repetitions")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("-n", type=int, default=None, help="operations per repetition")
    ap.add_argument("--reps", type=int, default=None, help="repetitions")
    args = ap.parse_args(argv)
    n = args.n or (10_000 if args.quick else 50_000)
    reps = args.reps or (3 if args.quick else 15)
    res = measure(n, reps)
    names = list(res)
    base1, pool1, base4, pool4 = names[0], names[1], names[4], names[5]
    ratios = {
        "pool/baseline uncontended (min)": res[pool1]["min_ns"] / res[base1]["min_ns"],
        "pool/baseline uncontended (median)":
            res[pool1]["median_ns"] / res[base1]["median_ns"],
        "pool/baseline 4 threads (min)": res[pool4]["min_ns"] / res[base4]["min_ns"],
        "pool/baseline 4 threads (median)": res[pool4]["median_ns"] / res[base4]["median_ns"],
    }
    if args.json:
        print(json.dumps({"n": n, "reps": reps, "python": sys.version.split()[0],
                          "per_op": res, "ratios": ratios}, indent=2))
        return 0
    print(f"per-operation wall time, n={n} ops x {reps} reps, Python {sys.version.split()[0]}")
    w = max(map(len, names))
    print(f"{'operation':<{w}}  {'min ns':>8}  {'median ns':>9}  {'x baseline':>10}")
    for k in names:
        base = res[base4 if "threads" in k else base1]["median_ns"]
        print(f"{k:<{w}}  {res[k]['min_ns']:8.0f}  {res[k]['median_ns']:9.0f}  "
              f"{res[k]['median_ns'] / base:10.2f}")
    for k, v in ratios.items():
        print(f"{k}: {v:.2f}x (target <= 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
