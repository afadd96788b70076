"""A spec at one bound, through the fast batched engine."""

from __future__ import annotations

from model.checker import NO_LIMITS, Exploration, Limits, Progress, explore_batched
from model.spec_model import SpecBatchModel
from spec.format import Spec


def explore_spec(spec: Spec, b0: int, progress: Progress | None = None, *,
                 limits: Limits = NO_LIMITS) -> Exploration:
    """Every reachable state of ``spec`` at ``b0`` (within ``limits``), invariants
    checked in each, deadlocks counted."""
    return explore_batched(SpecBatchModel(spec, b0), progress=progress, limits=limits)


def show_state(state: object) -> str:
    """``name=value`` pairs of a spec state (``str`` of anything else)."""
    fields = getattr(state, "_asdict", None)
    if fields is None:
        return str(state)
    return " ".join(f"{k}={v}" for k, v in fields().items())
