"""Benchmark: the interleaving explorer on the whole scenario set.

    python -m benchmarks.bench_interleave            # every case, brute force up to 20,000
    python -m benchmarks.bench_interleave --quick    # a few cases, brute force up to 2,000
    python -m benchmarks.bench_interleave --json

For each case: with reduction (state caching with exact counts), the wall time, the
runs executed and runs per second; without reduction, every schedule is executed when
there are at most ``--brute-limit`` of them (measured schedules per second); above
that, the first ``--sample`` schedules are run by brute force and the whole is
*estimated* from that rate (marked ``est``).  Totals: the whole set's wall time with
reduction, and without (measured plus estimated).  Thread handoffs dominate the cost,
so the figures move with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from model.cli.interleavings import run_case
from model.interleave.cases import Case, cases
from model.interleave.search import explore

QUICK = ("forgetful_operator A cap=60", "forgetful_operator E cap=60",
         "split_spawn_spend_merge", "split_drop_in_spawned_task", "shared_handle threads")


def measure(case: Case, brute_limit: int, sample: int) -> dict[str, Any]:
    """One case with reduction, then by brute force (all of it, or a sample)."""
    ex, res = run_case(case)
    row: dict[str, Any] = {
        "check": case.name.removeprefix("interleavings: "), "ok": res.ok,
        "runs": ex.runs, "schedules_unreduced": ex.schedules, "states": ex.states,
        "wall_s": ex.seconds, "runs_per_s": ex.runs / ex.seconds if ex.seconds else 0.0,
        "steps": ex.steps,
    }
    full = ex.schedules <= brute_limit
    t0 = time.perf_counter()
    bf = explore(case.build, reduction=False, max_runs=None if full else sample)
    wall = time.perf_counter() - t0
    rate = bf.runs / wall
    row.update(brute_schedules_per_s=rate, brute_estimated=not full,
               brute_wall_s=wall if full else ex.schedules / rate)
    if full:
        row["brute_agrees"] = bf.schedules == ex.schedules and bf.stats == ex.stats
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a few small cases (a smoke run)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--sample", type=int, default=1000, metavar="N",
                   help="schedules run by brute force to estimate a larger case "
                        "(default 1,000)")
    p.add_argument("--brute-limit", type=int, default=None, metavar="N",
                   help="run brute force when a case has at most N schedules "
                        "(default 20,000; 2,000 with --quick)")
    args = p.parse_args()
    limit = args.brute_limit if args.brute_limit is not None else (
        2000 if args.quick else 20000)
    chosen = [c for c in cases()
              if not args.quick or c.name.removeprefix("interleavings: ") in QUICK]
    t0 = time.perf_counter()
    rows = [measure(c, limit, args.sample) for c in chosen]
    total = time.perf_counter() - t0
    summary = {
        "cases": len(rows),
        "reduced_wall_s": sum(r["wall_s"] for r in rows),
        "reduced_runs": sum(r["runs"] for r in rows),
        "reduced_runs_per_s": sum(r["runs"] for r in rows) / sum(r["wall_s"] for r in rows),
        "unreduced_schedules": sum(r["schedules_unreduced"] for r in rows),
        "unreduced_wall_s": sum(r["brute_wall_s"] for r in rows),
        "unreduced_wall_estimated": any(r["brute_estimated"] for r in rows),
        "bench_wall_s": total,
        "brute_limit": limit,
        "sample": args.sample,
    }
    if args.json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=2))
        return
    head = (f"{'check':<38} {'runs':>7} {'runs/s':>7} {'wall':>8}   "
            f"{'schedules':>22} {'brute wall':>13} {'sched/s':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        bw = r["brute_wall_s"]
        if r["brute_estimated"]:
            brute_s = f"~{_human(bw)} est"
        else:
            brute_s = _human(bw)
        rate = f"{r['brute_schedules_per_s']:.0f}"
        print(f"{r['check']:<38} {r['runs']:>7} {r['runs_per_s']:>7.0f} "
              f"{r['wall_s']:>7.2f}s   {r['schedules_unreduced']:>22,} {brute_s:>13} "
              f"{rate:>8}")
    s = summary
    print(f"\nwhole set with reduction: {s['reduced_wall_s']:.2f} s for {s['reduced_runs']:,} "
          f"runs ({s['reduced_runs_per_s']:.0f} runs/s)")
    est = " (estimated in part)" if s["unreduced_wall_estimated"] else ""
    print(f"whole set without reduction: {s['unreduced_schedules']:,} schedules, "
          f"{_human(s['unreduced_wall_s'])}{est}")


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.2f} s"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    years = seconds / (365.25 * 86400)
    return f"{years:.3g} y" if years < 1e4 else f"{years:.1e} y"


if __name__ == "__main__":
    main()
