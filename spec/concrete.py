"""Evaluating a spec on Python ints: one step at a time, as the lockstep tests do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spec.format import Spec, SpecError, holds


class GuardFalse(SpecError):
    """A transition was applied in a state where its guard does not hold."""


def enabled(spec: Spec, s: Any, name: str, *args: int) -> bool:
    """Whether transition ``name`` with ``args`` is enabled in state ``s``."""
    t = spec.transition(name)
    _check_arity(t.name, t.params, args)
    return holds(t.guard(s, *args))


def step(spec: Spec, s: Any, name: str, *args: int) -> Any:
    """The successor of ``s`` under ``name(*args)``; ``GuardFalse`` if not enabled."""
    t = spec.transition(name)
    _check_arity(t.name, t.params, args)
    if not holds(t.guard(s, *args)):
        raise GuardFalse(f"{step_text(spec, name, args)} is not enabled in {s}")
    return spec.successor(s, t, args)


def step_text(spec: Spec, name: str, args: Sequence[Any]) -> str:
    """How a step is shown everywhere (traces, reports, errors): ``reserve(r=2)``."""
    params = spec.transition(name).params
    return f"{name}({', '.join(f'{p}={a}' for p, a in zip(params, args, strict=True))})"


def broken_invariants(spec: Spec, s: Any, b0: int) -> list[str]:
    """Names of the invariants that ``s`` violates (empty when all hold)."""
    return [inv.name for inv in spec.invariants if not holds(inv.holds(s, b0))]


def _check_arity(name: str, params: tuple[str, ...], args: tuple[int, ...]) -> None:
    if len(params) != len(args):
        raise SpecError(f"{name} takes {len(params)} parameter(s) {params}, got {len(args)}")
