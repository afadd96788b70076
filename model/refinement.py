"""Explicit refinement check: every edge of the per-handle model is a ledger edge.

:func:`explore_refinement` explores :class:`model.handles.HandlesModel` at one cap
``b0`` with :func:`model.checker.explore` and checks, on every concrete edge
``pre --action--> post``, that ``abstraction(post)`` is the spec step the action
claims applied to ``abstraction(pre)`` by :func:`spec.concrete.step` (so the step's
guard must hold there), or ``abstraction(pre)`` itself for a stutter.  In every state
it checks HandleOK and the ledger invariants on the abstraction.  A state with no
enabled operation (every value spent, consumed or forfeited) is the end of a session,
not a failure: it is reported as a terminal state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.checker import Exploration, Progress, explore
from model.explore import show_state
from model.handles import Action, HandlesModel, claimed_text
from spec.concrete import GuardFalse, step, step_text
from spec.handles import OPERATIONS, Handles, Operation, Owner, abstraction
from spec.ledger import LEDGER

#: The name of the edge property in traces and reports.
REFINES = "RefinesLedger"
def edge_failure(pre: Handles, action: Action, post: Handles) -> list[str] | None:
    """Why the edge ``pre --action--> post`` is not the spec steps it claims, or None.

    ``None`` guarantees: the claimed transitions' arguments are naturals, each guard
    holds where its step is taken (the first in ``abstraction(pre)``) and
    ``abstraction(post)`` is the state after the last step (for a stutter:
    ``abstraction(post) == abstraction(pre)``).
    """
    return _failure(abstraction(pre), action, abstraction(post))


def _failure(s: Any, action: Action, got: Any) -> list[str] | None:
    claimed = claimed_text(action.claimed)
    expected = s
    for name, args in action.claimed:
        if any(a < 0 for a in args):
            return [f"claims {claimed}: spec parameters are natural numbers"]
        try:
            expected = step(LEDGER, expected, name, *args)
        except GuardFalse:
            return [f"claims {claimed}, but the guard of {step_text(LEDGER, name, args)} is "
                    "false where it is taken", f"  abstraction(pre): {show_state(s)}",
                    f"  at that step:     {show_state(expected)}"]
    if got == expected:
        return None
    moved = ", ".join(f"{k}: spec {e}, model {g}" for k, e, g in
                      zip(s._fields, expected, got, strict=True) if e != g)
    return [f"claims {claimed}, but abstraction(post) is not its successor",
            f"  abstraction(pre):  {show_state(s)}",
            f"  spec successor:    {show_state(expected)}",
            f"  abstraction(post): {show_state(got)}",
            f"  differs: {moved}"]


@dataclass(frozen=True)
class EdgeFailure:
    """One concrete edge that does not refine its claimed spec step, and why."""

    pre: Handles
    action: Action
    post: Handles
    reason: list[str]


@dataclass
class EdgeRefinement:
    """The ``check_edge`` callback of :func:`model.checker.explore`: checks each edge
    with :func:`edge_failure` and counts edges per claimed transition and per operation."""

    abstract: Callable[[Handles], Any] = abstraction
    per_transition: Counter[str] = field(default_factory=Counter)
    per_operation: Counter[str] = field(default_factory=Counter)
    failures: list[EdgeFailure] = field(default_factory=list)
    ledger_states: set[tuple[int, ...]] = field(default_factory=set)

    def __call__(self, pre: Handles, action: Action, post: Handles) -> str | None:
        for name, _ in action.claimed or (("stutter", ()),):
            self.per_transition[name] += 1
        self.per_operation[action.op.name] += 1
        s, got = self.abstract(pre), self.abstract(post)
        self.ledger_states.add(s)
        self.ledger_states.add(got)
        why = _failure(s, action, got)
        if why is None:
            return None
        self.failures.append(EdgeFailure(pre, action, post, why))
        return REFINES


@dataclass
class RefinementExploration:
    """An exploration of the per-handle model with the refinement edge check."""

    b0: int
    exploration: Exploration
    edges: EdgeRefinement

    @property
    def ok(self) -> bool:
        """Every visited state and edge passed, the whole space was visited, and every
        transition the explored operations claim was claimed by some edge."""
        e = self.exploration
        return not e.violations and e.complete and not e.unwitnessed


def explore_refinement(
    b0: int,
    operations: Sequence[Operation] = OPERATIONS,
    *,
    progress: Progress | None = None,
    max_states: int = 1_000_000,
    owner: Owner = "session",
) -> RefinementExploration:
    """Every reachable per-handle state of a session (or a pool) at ``b0``, every edge
    checked against the spec.

    Stops after the first BFS level holding a violation (a state property or an
    edge), whose trace is then a shortest one.
    """
    model = HandlesModel(b0, operations, owner)
    edges = EdgeRefinement(model.abstract)
    res = explore(model, max_states=max_states, progress=progress, check_edge=edges)
    return RefinementExploration(b0, res, edges)
