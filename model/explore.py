"""A spec at one bound, through the fast batched engine."""

from __future__ import annotations

from model.checker import Exploration, Progress, explore_batched
from model.spec_model import SpecBatchModel
from spec.format import Spec


def explore_spec(spec: Spec, b0: int, progress: Progress | None = None) -> Exploration:
    """Every reachable state of ``spec`` at ``b0``, invariants checked in each."""
    return explore_batched(SpecBatchModel(spec, b0), progress=progress)


def show_state(state: object) -> str:
    """``name=value`` pairs of a spec state (``str`` of anything else)."""
    fields = getattr(state, "_asdict", None)
    if fields is None:
        return str(state)
    return " ".join(f"{k}={v}" for k, v in fields().items())
