"""Traces as report rows show them: numbered text lines, and structured JSON.

A trace is a list of ``(label, state)`` pairs, ``Init`` first, each state a
mapping from the spec's variable names to values (a spec ``State`` or a dict),
whichever checker found it: the explorer, Spacer, or a reachability search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model.checker import Step, Violation

Trace = Sequence[tuple[str, Mapping[str, int]]]


def as_dict(state: Any) -> dict[str, int]:
    """A spec ``State`` (or any mapping) as a plain dict of ints."""
    items = state._asdict().items() if hasattr(state, "_asdict") else dict(state).items()
    return {k: int(v) for k, v in items}


def from_steps(steps: Sequence[Step]) -> list[tuple[str, dict[str, int]]]:
    """An engine trace (``model.checker.Step`` values) as ``(label, state)`` pairs."""
    return [(st.label, as_dict(st.state)) for st in steps]


def show(state: Mapping[str, int]) -> str:
    """``name=value`` pairs."""
    return " ".join(f"{k}={v}" for k, v in state.items())


def trace_lines(what: str, trace: Trace, suffix: str = "") -> list[str]:
    """``WHAT violated after N step(s)SUFFIX:`` and one numbered step per two lines."""
    lines = Violation(what, [Step(label, dict(s)) for label, s in trace]).render(show)
    if suffix:
        lines[0] = lines[0].rstrip(":") + f"{suffix}:"
    return lines


def trace_json(trace: Trace) -> list[dict[str, Any]]:
    """The trace as ``[{"step": "Init", "state": {...}}, {"step": "sell(n=5)", ...}]``."""
    return [{"step": label, "state": dict(state)} for label, state in trace]


@dataclass(frozen=True)
class Picture:
    """A counterexample trace to draw (``--dot``, ``--svg``): a title, the steps, and
    the invariants broken in the last state."""

    title: str
    trace: list[tuple[str, dict[str, int]]]
    broken: tuple[str, ...] = ()
