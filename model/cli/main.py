"""``python -m model.check``: argument parsing, the selected checks, the report.

Run with no options it proves the ledger's invariants for every cap B0 with Z3
and explores every reachable state at B0 = 5, then prints one table.  Exit
status: 0 when every check passes, 1 when one fails, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from model.cli.checks import CHECKS, Options, timed
from model.cli.loader import SpecLoadError, load_spec
from model.cli.report import CheckResult, dump_json, print_table

EPILOG = """\
checks (--only):
{checks}

examples:
  python -m model.check                          proofs + exploration at B0=5
  python -m model.check --b0 20 --only explore --json
  python -m model.check --mutants                every built-in bug must be caught
  python -m model.check --spec myspecs:COUNTER   check your own spec (README, "Writing a spec")
  python -m model.check --spec myspecs:COUNTER --dot trace.dot

exit status: 0 all checks passed, 1 a check failed, 2 usage error.
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError(
            f"--b0 must be between 1 and 200, got {value} (the state space grows as C(B0+5, 5))"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    checks = "\n".join(f"  {s.name:<14}{s.help}{'' if s.default else ' (not run by default)'}"
                       for s in CHECKS.values())
    p = argparse.ArgumentParser(
        prog="python -m model.check",
        description="Prove (Z3, any B0) and model-check (every state at one B0) a spec; by "
                    "default the six-variable Budget ledger of SPEC.md.",
        epilog=EPILOG.format(checks=checks),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--b0", type=_positive_int, default=5, metavar="N",
                   help="cap for the explicit-state exploration (default: 5)")
    p.add_argument("--spec", metavar="MODULE:NAME",
                   help="check a spec.Spec value of your own instead of the ledger "
                        "(MODULE may be a dotted module or a path to a .py file)")
    p.add_argument("--only", metavar="CHECK[,CHECK]",
                   help=f"run only these checks: {', '.join(CHECKS)}")
    p.add_argument("--mutants", action="store_true",
                   help="run the mutant self-check (alone, unless --only names more)")
    p.add_argument("--dot", type=Path, metavar="FILE",
                   help="write the counterexample trace (or, if none, the state graph "
                        "of a small space) as Graphviz DOT")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object instead of the table (schema in README)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print the details of passing checks too (counterexamples that "
                        "killed mutants, obligation times)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    return p


def _select(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[str]:
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in CHECKS]
        if unknown:
            parser.error(f"--only: unknown check(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(CHECKS)}")
        if args.mutants and "mutants" not in names:
            names.append("mutants")
    elif args.mutants:
        names = ["mutants"]
    else:
        names = [s.name for s in CHECKS.values() if s.default]
    if args.spec:
        about_ledger = [n for n in names if CHECKS[n].ledger_only]
        if about_ledger and (args.only or args.mutants):
            parser.error(f"--spec: {', '.join(about_ledger)} check(s) the built-in ledger "
                         "and library only; drop them or drop --spec")
        names = [n for n in names if not CHECKS[n].ledger_only]
    return names


class _Progress:
    """Progress lines on stderr, at most a few per second, erased when done."""

    def __init__(self, out: TextIO, enabled: bool) -> None:
        self.out, self.enabled, self.last = out, enabled, 0.0
        self.tty = out.isatty()

    def __call__(self, msg: str) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.5:
            return
        self.last = now
        if self.tty:
            self.out.write(f"\r\x1b[K... {msg}")
        else:
            self.out.write(f"... {msg}\n")
        self.out.flush()

    def done(self) -> None:
        if self.enabled and self.tty and self.last:
            self.out.write("\r\x1b[K")
            self.out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the selected checks, print the report; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    names = _select(args, parser)
    if args.spec:
        try:
            spec = load_spec(args.spec)
        except SpecLoadError as e:
            parser.error(str(e))
        except Exception as e:
            parser.error(f"--spec {args.spec!r}: importing it raised {type(e).__name__}: {e}")
    else:
        from spec import LEDGER

        spec = LEDGER
    progress = _Progress(sys.stderr, not args.quiet)
    opts = Options(spec=spec, b0=args.b0, dot=args.dot, progress=progress,
                   builtin_spec=not args.spec)
    results: list[CheckResult] = []
    for name in names:
        progress.last = 0.0
        progress(f"{name} ...")
        results += [r for r in _run(name, opts)]
    progress.done()
    if args.json:
        dump_json(results, sys.stdout, spec=spec.name, b0=args.b0)
    else:
        print_table(results, sys.stdout, verbose=args.verbose)
    return 0 if all(r.ok for r in results) else 1


def _run(name: str, opts: Options) -> list[CheckResult]:
    out: list[CheckResult] = []

    def once() -> CheckResult:
        out.extend(CHECKS[name].run(opts))
        return CheckResult(name, name, True, 0.0)

    crashed = timed(name, name, once)
    rows = out if crashed.ok else [crashed]
    for row in rows:
        row.check = name
    return rows


if __name__ == "__main__":
    sys.exit(main())
