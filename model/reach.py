"""Is one given state reachable?  A shortest path to it at one bound, by bounded BFS.

Used to classify a failed induction step: when Z3 finds a pre-state from which a
transition breaks an invariant, the question is whether a run from ``Init`` can
get there at all.  The search is the batched engine's, over the same parameter
values as an exploration (``spec.param_range(b0)``), with every invariant ignored
(the target must be found even past states that break them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from model.checker import ExplorationError, Limits, Rows, Step, Successors, explore_batched
from model.spec_model import SpecBatchModel
from spec.format import Spec

#: States visited at most by default before the search gives up.
DEFAULT_MAX_STATES = 200_000
#: Seconds spent at most by default before the search gives up.
DEFAULT_TIME_LIMIT = 5.0


@dataclass(frozen=True)
class Reachability:
    """The answer for one target state at one ``b0``.

    ``trace`` (``Init`` first, the target last) is a shortest path when the target
    was found; it is ``None`` otherwise.  ``complete`` says that every state
    reachable at ``b0`` (with parameters in ``spec.param_range(b0)``) was visited,
    so a missing trace means "unreachable there"; ``states`` is how many were.
    """

    b0: int
    trace: list[Step] | None
    complete: bool
    states: int

    @property
    def found(self) -> bool:
        """Whether the target is reachable (a trace was found)."""
        return self.trace is not None


class _TargetModel:
    """``SpecBatchModel`` whose only property is "this row is not the target"."""

    def __init__(self, spec: Spec, b0: int, target: Sequence[int]) -> None:
        self.inner = SpecBatchModel(spec, b0)
        self.width = self.inner.width
        self.target = np.array(target, dtype=np.int64)

    def init_rows(self) -> Rows:
        return self.inner.init_rows()

    def expand(self, rows: Rows) -> Iterator[Successors]:
        return self.inner.expand(rows)

    def property_names(self) -> Sequence[str]:
        return ["target"]

    def violations(self, rows: Rows) -> Sequence[npt.NDArray[np.bool_]]:
        return [np.all(rows == self.target, axis=1)]

    def format_action(self, action: int, choice: int) -> str:
        return self.inner.format_action(action, choice)

    def format_row(self, row: Sequence[int]) -> Any:
        return self.inner.format_row(row)


def find_path(
    spec: Spec, b0: int, target: Mapping[str, int], *, max_states: int = DEFAULT_MAX_STATES,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> Reachability:
    """A shortest trace from ``Init`` at ``b0`` to the state ``target``, if one exists
    among the states a breadth-first search visits within ``max_states`` states and
    ``time_limit`` seconds."""
    row = [int(target[v]) for v in spec.variables]
    model = _TargetModel(spec, b0, row)
    limits = Limits(max_states=max_states, time_limit=time_limit)
    try:
        res = explore_batched(model, check_deadlock=False, limits=limits)
    except ExplorationError:  # values beyond the packable range: as good as a limit
        return Reachability(b0, None, False, 0)
    if res.violations:
        return Reachability(b0, res.violations[0].trace, True, res.distinct_states)
    return Reachability(b0, None, res.complete, res.distinct_states)
