"""Benchmark: refusing absurd prices and margins costs no more than reading a real one.

    python -m benchmarks.bench_pricing            # full run (a few seconds)
    python -m benchmarks.bench_pricing --quick    # smoke run
    python -m benchmarks.bench_pricing --json     # machine-readable output

The baseline, measured in the same run, is reading an ordinary price,
``Rates("2.50", "10.00")``. Each row is the median wall time of one call over ``reps``
repetitions of ``n`` calls (``time.perf_counter_ns``), and its ratio to the baseline.
Target: every absurd input (``Rates("1e10000000", 1)``, which took seconds before it was
bounded, a 100,000-digit Decimal, ``WithMargin(..., "1e5000000")``) is refused in well
under a millisecond, within a small factor of the baseline. For scale, the last row is
the exact conversion the bound avoids, at an exponent 100 times smaller than the
first absurd row's (``Fraction(Decimal("1e100000"))``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `impl` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import impl

HUGE_DECIMAL = Decimal("1" * 100_000)


def _refused(call: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        try:
            call()
        except impl.BudgetError as e:
            return e
        raise AssertionError("an absurd input was accepted")

    return run


CASES: list[tuple[str, Callable[[], object]]] = [
    ('baseline: Rates("2.50", "10.00")', lambda: impl.Rates("2.50", "10.00")),
    ('refuse Rates("1e10000000", 1)', _refused(lambda: impl.Rates("1e10000000", 1))),
    ('refuse Rates(Decimal("1e-10000000"), 1)',
     _refused(lambda: impl.Rates(Decimal("1e-10000000"), 1))),
    ("refuse Rates(<100,000-digit Decimal>, 1)",
     _refused(lambda: impl.Rates(HUGE_DECIMAL, 1))),
    ('refuse WithMargin(ByteLength(), "1e5000000")',
     _refused(lambda: impl.WithMargin(impl.ByteLength(), "1e5000000"))),
    ('refuse Rates(1, 1, cache_read="1e10000000")',
     _refused(lambda: impl.Rates(1, 1, cache_read="1e10000000"))),
    ('for scale: Fraction(Decimal("1e100000")), what the bound avoids',
     lambda: Fraction(Decimal("1e100000"))),
]


def measure(call: Callable[[], object], n: int, reps: int) -> float:
    """Median ns per call of ``call`` over ``reps`` runs of ``n`` calls."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            call()
        times.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(times)


def run(quick: bool) -> list[dict[str, object]]:
    n, reps = (20, 3) if quick else (500, 9)
    rows: list[dict[str, object]] = []
    base = 0.0
    for name, call in CASES:
        k = max(1, n // 100) if name.startswith("for scale") else n
        ns = measure(call, k, reps)
        base = base or ns
        rows.append({"case": name, "median_ns": round(ns), "x_baseline": round(ns / base, 2)})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="a smoke run")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    args = ap.parse_args(argv)
    rows = run(args.quick)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(str(r["case"])) for r in rows)
    print(f"{'case':<{width}}  {'median ns/call':>14}  {'x baseline':>10}")
    for r in rows:
        print(f"{r['case']!s:<{width}}  {r['median_ns']:>14,}  {r['x_baseline']:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
