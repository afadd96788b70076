"""What every Z3 proof run shares: a list of results, each proved or not, and how a
result is printed.  ``proofs.obligations`` and ``proofs.refinement`` build on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar


class Result(Protocol):
    """One obligation's outcome, as the run and the printer need it."""

    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def seconds(self) -> float: ...
    @property
    def message(self) -> str: ...
    @property
    def ok(self) -> bool: ...


R = TypeVar("R", bound=Result)


@dataclass
class Run(Generic[R]):
    """The results of one proof run, in the order they were discharged."""

    results: list[R] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True exactly when every obligation is proved."""
        return all(r.ok for r in self.results)

    @property
    def proved(self) -> int:
        """How many obligations are proved."""
        return sum(1 for r in self.results if r.ok)

    @property
    def failed(self) -> list[R]:
        """The obligations that are not proved, in order."""
        return [r for r in self.results if not r.ok]


def format_outcome(result: R, evidence: Callable[[R], list[str]]) -> list[str]:
    """``proved NAME (t s)``, or ``FAILED NAME [status]`` followed by ``evidence(result)``
    (the counterexample lines) and the result's message."""
    if result.ok:
        return [f"proved {result.name} ({result.seconds:.3f} s)"]
    head = f"FAILED {result.name}"
    if result.status != "violated":
        head += f" [{result.status}]"
    lines = [head, *evidence(result)]
    if result.message:
        lines.append(f"  {result.message}")
    return lines
