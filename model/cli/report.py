"""What every check reports, and how the CLI prints it.

A check (a name ``--only`` accepts: ``proofs``, ``explore``, ``refinement``, ...)
yields one or more rows, each a ``CheckResult``; a row's ``kind`` says what sort of
evidence it is (``proof``, ``explore``, ``mutant``, ``crosshair``, ``interleaving``)
and its ``check`` which check produced it.  The CLI only prints and serialises rows;
it knows nothing about what a check did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from model.cli.traces import Picture


@dataclass
class CheckResult:
    """The outcome of one check.

    ``figures`` is merged into the check's JSON object (e.g. ``b0``,
    ``distinct_states``, ``transitions``, ``obligations``, ``proved``);
    ``summary`` is the one-line "key figures" column of the table;
    ``details`` are printed below the table (counterexamples, traces);
    ``check`` is the name of the check that produced the row (set by the driver).
    ``details`` go into the JSON of failing rows only (the table prints them for
    passing rows too with ``-v``).
    """

    @property
    def verdict(self) -> str:
        """``PASS``, ``FAIL``, or ``INCOMPLETE`` (a search stopped by a limit)."""
        if self.incomplete:
            return "INCOMPLETE"
        return "PASS" if self.ok else "FAIL"


    name: str
    kind: str
    ok: bool
    seconds: float
    summary: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    check: str = ""
    picture: Picture | None = None  # a counterexample trace for --dot/--svg (not in JSON)
    incomplete: bool = False  # a bounded search that stopped early: never a PASS

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this row: name, kind, check, ok, seconds, then the figures."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.check:
            out["check"] = self.check
        out |= {
            "ok": self.ok,
            "seconds": round(self.seconds, 4),
        }
        out.update(self.figures)
        if self.details and not self.ok:
            out["details"] = self.details
        if self.notes:
            out["notes"] = self.notes
        return out


Progress = Callable[[str], None]


def print_table(results: Sequence[CheckResult], out: TextIO, verbose: bool = False) -> None:
    """A fixed-width table: check, result, key figures, time; then notes, and the
    details (counterexamples, traces) of failing checks, or of all with ``verbose``."""
    rows = [("check", "result", "key figures", "time")]
    for r in results:
        rows.append((r.name, r.verdict, r.summary, f"{r.seconds:.2f} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for i, row in enumerate(rows):
        line = "  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row[:3]))
        out.write(f"{line}  {row[3]:>9}\n")
        if i == 0:
            out.write("-" * (sum(widths) + 6 + 9) + "\n")
    for r in results:
        shown = r.notes + (r.details if (verbose or not r.ok) else [])
        if shown:
            out.write(f"\n== {r.name}: {r.verdict}\n")
            for d in shown:
                out.write(d.rstrip("\n") + "\n")
    failed = [r.name for r in results if not r.ok and not r.incomplete]
    incomplete = [r.name for r in results if r.incomplete]
    total = sum(r.seconds for r in results)
    verdict = "all passed" if not failed else f"{len(failed)} failed: {', '.join(failed)}"
    if incomplete:
        verdict = (f"{len(incomplete)} incomplete: {', '.join(incomplete)}"
                   + ("" if not failed else f"; {verdict}"))
    out.write(f"\n{len(results)} checks, {verdict} ({total:.2f} s)\n")


def dump_json(results: Sequence[CheckResult], out: TextIO, **top: Any) -> None:
    """One JSON object: ``{"ok": bool, ..., "checks": [...]}``."""
    doc: dict[str, Any] = {"ok": all(r.ok for r in results)}
    doc.update(top)
    doc["checks"] = [r.to_json() for r in results]
    json.dump(doc, out, indent=2)
    out.write("\n")
