"""``python -m model.check``: argument parsing, the selected checks, the report.

Run with no options it proves the ledger's invariants for every cap B0 with Z3
and explores every reachable state at B0 = 5, then prints one table.  Exit
status: 0 when every check passes, 1 when one fails, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from model.checker import Limits
from model.cli import pictures
from model.cli.checks import CHECKS, Options, timed
from model.cli.loader import SpecLoadError, load_spec
from model.cli.pictures import WHOLE_GRAPH_LIMIT, first_picture, graphviz_missing
from model.cli.report import CheckResult, dump_json, print_table
from model.graph import graph_to_dot, state_graph
from spec.format import Spec

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


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _positive_int(text: str) -> int:
    value = _whole(text)
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError(
            f"--b0 must be between 1 and 200, got {value} (the state space grows as C(B0+5, 5))"
        )
    return value


def _count(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    checks = "\n".join(f"  {s.name:<14}{s.help}{'' if s.default else ' (not run by default)'}"
                       for s in CHECKS.values())
    p = argparse.ArgumentParser(
        prog="python -m model.check",
        description="Prove (Z3, any B0) and model-check (every state at one B0) a spec; by "
                    "default the six-variable Budget ledger of docs/SEMANTICS.md.",
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
    p.add_argument("--allow-dead", action="store_true",
                   help="accept transitions that fire nowhere in the explored graph "
                        "(by default a dead transition fails the explore check)")
    p.add_argument("--dot", type=Path, metavar="FILE",
                   help="write the counterexample trace as Graphviz DOT (nothing without "
                        "a violation, unless --whole-graph)")
    p.add_argument("--svg", type=Path, metavar="FILE",
                   help="render the counterexample trace as SVG (needs Graphviz's dot)")
    p.add_argument("--png", type=Path, metavar="FILE",
                   help="render the counterexample trace as PNG (needs Graphviz's dot)")
    p.add_argument("--whole-graph", action="store_true",
                   help=f"with no violation, draw the whole state graph at --b0 instead "
                        f"(at most {WHOLE_GRAPH_LIMIT} states)")
    p.add_argument("--max-states", type=_count, metavar="N",
                   help="stop the exploration after N distinct states (reported incomplete)")
    p.add_argument("--max-depth", type=_count, metavar="N",
                   help="stop the exploration N steps from Init (reported incomplete)")
    p.add_argument("--time-limit", type=_seconds, metavar="S",
                   help="stop the exploration after S seconds (reported incomplete)")
    p.add_argument("--deadlock", choices=("fail", "allow"),
                   help="whether a state with no enabled transition fails the exploration "
                        "(default: as the spec declares with allow_deadlock; the ledger "
                        "and specs that say nothing: fail)")
    p.add_argument("--safety-timeout", type=_seconds, default=30.0, metavar="S",
                   help="time limit of the Spacer safety check (default: 30)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object instead of the table (schema in README)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print the details of passing checks too (counterexamples that "
                        "killed mutants, obligation times)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    return p


def _select(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[str]:
    if args.only is not None:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        if not names:
            parser.error(f"--only {args.only!r} names no check; choose from {', '.join(CHECKS)}")
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


def _outputs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Path]:
    """The picture files asked for, each checked to be writable (else a usage error)."""
    outputs = {fmt: path for fmt in ("dot", "svg", "png")
               if (path := getattr(args, fmt)) is not None}
    for fmt, path in outputs.items():
        where = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            parser.error(f"--{fmt} {path}: is a directory; name a file")
        if not where.is_dir():
            parser.error(f"--{fmt} {path}: directory {where} does not exist")
        if not os.access(where, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            parser.error(f"--{fmt} {path}: not writable")
    if ("svg" in outputs or "png" in outputs) and graphviz_missing():
        parser.error(graphviz_missing())
    if args.whole_graph and not outputs:
        parser.error("--whole-graph: say where, with --dot, --svg or --png")
    return outputs


class _Progress:
    """Progress lines on stderr, at most a few per second, erased when done.

    Quiet (``-q``), a check that runs longer than ``QUIET_AFTER`` seconds still
    shows a line every ``QUIET_EVERY`` seconds, so a long search is never silent.
    """

    QUIET_AFTER, QUIET_EVERY = 2.0, 5.0

    def __init__(self, out: TextIO, enabled: bool) -> None:
        self.out, self.enabled, self.last = out, enabled, 0.0
        self.tty = out.isatty()
        self.started = time.monotonic()

    def start(self, name: str) -> None:
        """A new check begins (its first line is shown unless quiet)."""
        self.started, self.last = time.monotonic(), 0.0
        self(f"{name} ...")

    def __call__(self, msg: str) -> None:
        now = time.monotonic()
        if self.enabled:
            if now - self.last < 0.5:
                return
        elif now - self.started < self.QUIET_AFTER or now - self.last < self.QUIET_EVERY:
            return
        self.last = now
        if self.tty:
            self.out.write(f"\r\x1b[K... {msg}")
        else:
            self.out.write(f"... {msg}\n")
        self.out.flush()

    def done(self) -> None:
        if self.tty and self.last:
            self.out.write("\r\x1b[K")
            self.out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the selected checks, print the report; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    names = _select(args, parser)
    outputs = _outputs(args, parser)
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
    limits = Limits(args.max_states, args.max_depth, args.time_limit)
    opts = Options(spec=spec, b0=args.b0, progress=progress, builtin_spec=not args.spec,
                   limits=limits, safety_timeout=args.safety_timeout,
                   allow_deadlock=None if args.deadlock is None else args.deadlock == "allow",
                   allow_dead=args.allow_dead)
    results: list[CheckResult] = []
    for name in names:
        progress.start(name)
        results += [r for r in _run(name, opts)]
    progress.done()
    if outputs and results:
        _draw(results, outputs, spec, args)
    if args.json:
        dump_json(results, sys.stdout, spec=spec.name, b0=args.b0)
    else:
        print_table(results, sys.stdout, verbose=args.verbose)
    return 0 if all(r.ok for r in results) else 1


def _draw(results: list[CheckResult], outputs: dict[str, Path], spec: Spec,
          args: argparse.Namespace) -> None:
    """Write the pictures; the notes go to the row drawn (or the first row)."""
    whole = None
    if args.whole_graph and first_picture(results) is None:
        try:
            whole = graph_to_dot(state_graph(spec, args.b0, limit=WHOLE_GRAPH_LIMIT),
                                 f"{spec.name} at B0={args.b0}")
        except ValueError as e:
            results[0].notes.append(f"--whole-graph: nothing drawn: {e}")
            return
    drawn = first_picture(results)
    row = next((r for r in results if drawn is not None and r.picture is drawn), results[0])
    try:
        row.notes += pictures.write(results, outputs, whole)
    except (OSError, RuntimeError) as e:
        row.notes.append(f"could not write the picture: {e}")


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
