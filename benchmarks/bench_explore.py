"""Benchmark: explicit-state exploration of the ledger spec.

    python -m benchmarks.bench_explore            # B0 = 10, 20, 30 (+ baseline at 10)
    python -m benchmarks.bench_explore --quick    # B0 = 5, 10
    python -m benchmarks.bench_explore --json

Each bound runs in a fresh subprocess so its peak RSS is its own.  The baseline,
measured in the same run, is the checker's one-state-at-a-time engine on the same
spec (pure Python, the same guard/update functions on ints); TLC's figures from
shared/reference/numbers.md are printed beside ours for reference (not rerun here).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

TLC = {5: (0.97, 0.12), 10: (1.31, 0.25), 15: (2.62, 0.90), 20: (6.30, 2.15)}


def _child(b0: int, engine: str) -> None:
    from model.checker import explore, explore_batched
    from model.spec_model import SpecBatchModel, SpecModel
    from spec import LEDGER

    t0 = time.perf_counter()
    if engine == "batched":
        res = explore_batched(SpecBatchModel(LEDGER, b0))
    else:
        res = explore(SpecModel(LEDGER, b0))
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"b0": b0, "engine": engine, "ok": res.ok, "wall_s": wall,
                      "distinct_states": res.distinct_states, "transitions": res.transitions,
                      "peak_rss_mb": peak_kb / 1024}))


def measure(b0: int, engine: str) -> dict[str, float]:
    """One exploration in a fresh interpreter: wall time (in-process) and peak RSS."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_explore", "--child", str(b0), engine],
        check=True, capture_output=True, text=True,
    ).stdout
    row: dict[str, float] = json.loads(out)
    row["states_per_s"] = row["distinct_states"] / row["wall_s"]
    row["transitions_per_s"] = row["transitions"] / row["wall_s"]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small bounds only (a smoke run)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(int(args.child[0]), args.child[1])
        return
    bounds = [5, 10] if args.quick else [10, 20, 30]
    rows = [measure(b0, "batched") for b0 in bounds]
    base_b0 = 5 if args.quick else 10
    base = measure(base_b0, "one-state")
    fast = next(r for r in rows if r["b0"] == base_b0)
    if args.json:
        print(json.dumps({"rows": rows, "baseline": base}, indent=2))
        return
    print(f"{'B0':>3} {'states':>9} {'transitions':>12} {'wall s':>8} {'states/s':>10} "
          f"{'edges/s':>11} {'peak MB':>8}   TLC wall / RSS (numbers.md)")
    for r in rows:
        tlc = TLC.get(int(r["b0"]))
        ref = f"{tlc[0]:.2f} s / {tlc[1] * 1024:.0f} MB" if tlc else "-"
        print(f"{r['b0']:>3} {r['distinct_states']:>9,} {r['transitions']:>12,} "
              f"{r['wall_s']:>8.2f} {r['states_per_s']:>10,.0f} {r['transitions_per_s']:>11,.0f} "
              f"{r['peak_rss_mb']:>8.0f}   {ref}")
    print(f"\nbaseline (one-state engine, same spec) at B0={base_b0}: {base['wall_s']:.2f} s, "
          f"{base['peak_rss_mb']:.0f} MB; batched engine {fast['wall_s']:.2f} s: "
          f"{base['wall_s'] / fast['wall_s']:.0f}x faster")
    for r in rows:
        tlc = TLC.get(int(r["b0"]))
        if tlc:
            print(f"B0={r['b0']}: {r['wall_s'] / tlc[0]:.2f} of TLC's wall time, "
                  f"{r['peak_rss_mb'] / (tlc[1] * 1024):.2f} of its peak RSS")


if __name__ == "__main__":
    main()
