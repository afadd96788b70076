"""Running checked programs for real: what impl does when they run.

:func:`run` executes Python source (or calls one of its functions) against the real
impl and reports the outcome: the exception it ended with and the lines of the
program on its traceback, the ResourceWarnings of receipts forfeited at collection,
and what the program's ``session`` (if it has one) left outstanding.
"""

from __future__ import annotations

import gc
import re
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import impl

CORPUS = Path(__file__).parent / "corpus"
EXPECT = re.compile(r"# expect: (AFF\d{3}(?:, *AFF\d{3})*)")
NOTE = re.compile(r"# note: (AFF\d{3})")
RUNTIME = re.compile(r"^# runtime: (\w+)$", re.M)


@dataclass
class Outcome:
    """How one run ended."""

    error: BaseException | None = None
    lines: list[int] = field(default_factory=list)
    resource_warnings: int = 0
    outstanding_refunds: int = 0

    @property
    def violation(self) -> bool:
        return isinstance(self.error, impl.AffineViolation)


def run(source: str, path: str, call: Callable[[dict[str, object]], object] | None = None,
        *, collect: bool = True) -> Outcome:
    """Execute ``source`` (then ``call(namespace)`` if given) and collect the outcome.

    ``collect``: run the garbage collector at the end (needed for module-level
    handles, which a reference cycle through the namespace can keep alive; a
    function's locals are freed when it returns).
    """
    out = Outcome()
    ns: dict[str, object] = {"__name__": "checked_program"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(compile(source, path, "exec"), ns)
            if call is not None:
                call(ns)
        except Exception as e:
            out.error = e
            out.lines = [f.lineno or 0 for f in traceback.extract_tb(e.__traceback__)
                         if f.filename == path]
            e.__traceback__ = None
        session = ns.get("session")
        if isinstance(session, impl.Session):
            out.outstanding_refunds = session.ledger().outstanding_refunds
        books = [v for v in ns.values() if isinstance(v, impl.Session | impl.BudgetPool)]
        ns.clear()
        del session
        if collect:
            gc.collect()
        for book in books:
            book.ledger()  # impl reports what the collector queued at the next ledger()
    out.resource_warnings = sum(issubclass(w.category, ResourceWarning) for w in caught)
    return out


def expectations(source: str) -> tuple[set[tuple[int, str]], set[tuple[int, str]], str]:
    """``# expect: CODE`` findings, ``# note: CODE`` notes and the ``# runtime:`` outcome."""
    expected, notes = set(), set()
    for i, line in enumerate(source.splitlines(), 1):
        for m in EXPECT.finditer(line):
            expected |= {(i, c.strip()) for c in m.group(1).split(",")}
        for m in NOTE.finditer(line):
            notes.add((i, m.group(1)))
    rt = RUNTIME.search(source)
    if rt is None:
        raise LookupError("a corpus program must declare '# runtime: OUTCOME'")
    return expected, notes, rt.group(1)
