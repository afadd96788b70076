"""The checker's codes, their meaning, and the finding record.

``AFF0xx`` codes are findings (exit status 1, flake8 errors). ``AFF9xx`` are notes:
where the checker stopped tracking a handle or saw a violation the code expects; they
never change the exit status and are shown with ``--notes``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

CODES: dict[str, str] = {
    "AFF001": "use of a handle consumed on every path to this point",
    "AFF002": "use of a handle consumed on some path to this point (after a branch, "
              "an except clause, a loop exit)",
    "AFF003": "use in a loop of a handle consumed in an earlier iteration (no rebinding)",
    "AFF004": "a handle consumed by a function or closure and used again (handed twice to "
              "a function that consumes it, captured by two closures, a closure run twice, "
              "used after a closure that consumes it was handed off)",
    "AFF005": "copy, deepcopy or pickle of an impl value (always raises AffineViolation)",
    "AFF006": "a handle minted without its authority (Budget(), Receipt(), ... outside "
              "impl, or a second Session.take())",
    "AFF007": "a receipt, reservation or refund never resolved or applied on some path",
    "AFF008": "a receipt, reservation or refund returned by a call and discarded",
    "AFF900": "note: stopped tracking a handle stored in a container or an attribute",
    "AFF901": "note: stopped tracking a handle handed to code the checker does not follow",
    "AFF902": "note: a variable shared with another scope (global, nonlocal) is not tracked",
    "AFF903": "note: a violation inside code that expects AffineViolation (except, "
              "pytest.raises) is not reported",
    "AFF904": "note: a Markdown code block that is not Python was skipped",
    "AFF905": "note: the analysis of a scope stopped before its fixpoint (a checker bug)",
}


@dataclass(frozen=True, order=True)
class Finding:
    """One report: ``line`` is 1-based, ``col`` 1-based (as flake8 prints them)."""

    path: str
    line: int
    col: int
    code: str
    message: str

    @property
    def is_note(self) -> bool:
        """Notes (``AFF9xx``) do not count as findings."""
        return self.code.startswith("AFF9")

    def as_dict(self) -> dict[str, object]:
        """JSON form: path, line, col, code, message, kind (``finding`` or ``note``)."""
        d: dict[str, object] = asdict(self)
        d["kind"] = "note" if self.is_note else "finding"
        return d


class Sink:
    """Collects the findings of one file, once each."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: set[tuple[int, int, str]] = set()
        self.items: list[Finding] = []

    def add(self, line: int, col: int, code: str, message: str) -> None:
        """Record ``code`` at ``line`` (1-based) and ``col`` (0-based, as in :mod:`ast`)."""
        key = (line, col, code)
        if key not in self.seen:
            self.seen.add(key)
            self.items.append(Finding(self.path, line, col + 1, code, message))
