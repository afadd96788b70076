"""``python -m model.affine PATH...``: the command line.

Exit status: 0 no findings, 1 findings, 2 a usage error (no path, a path that does not
exist, a file that cannot be read or does not parse).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from model.affine.checker import check_file, python_files
from model.affine.output import as_json, text
from model.affine.rules import CODES, Finding

DESCRIPTION = """\
Flow-sensitive checker of affine misuse in code that uses impl: a handle used after it
was consumed, a receipt never resolved, a copied handle, a budget minted without its
authority. A bug finder, not a proof: see README, "Static affine checking"."""


def _epilog() -> str:
    codes = "\n".join(f"  {code}  {what}" for code, what in CODES.items())
    return f"""codes:
{codes}

paths: .py files, folders (every .py file under them), Markdown files (their ```python
blocks, with the Markdown file's line numbers).

examples:
  python -m model.affine impl/ model/ README.md
  python -m model.affine --format json agent.py
  python -m model.affine --notes agent.py      also show where tracking stopped

exit status: 0 no findings, 1 findings, 2 usage error."""


def parser() -> argparse.ArgumentParser:
    """The argument parser (``--help`` lists every code)."""
    p = argparse.ArgumentParser(prog="python -m model.affine", description=DESCRIPTION,
                                epilog=_epilog(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", type=Path,
                   help="files or folders to check")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text: path:line:col: CODE message (default); json: one object")
    p.add_argument("--notes", action="store_true",
                   help="also print notes (AFF9xx): where the checker stopped tracking "
                        "a handle; notes never change the exit status")
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit status."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        err.write(f"python -m model.affine: no such file or folder: {', '.join(missing)}\n")
        return 2
    findings: list[Finding] = []
    files = 0
    for f in python_files(args.paths):
        try:
            findings.extend(check_file(f))
        except (OSError, UnicodeDecodeError) as e:
            err.write(f"python -m model.affine: cannot read {f}: {e}\n")
            return 2
        except SyntaxError as e:
            err.write(f"python -m model.affine: {f}:{e.lineno}: does not parse: {e.msg}\n")
            return 2
        files += 1
    shown = findings if args.notes else [f for f in findings if not f.is_note]
    out.write(as_json(shown, files) if args.format == "json" else text(shown))
    return 1 if any(not f.is_note for f in findings) else 0
