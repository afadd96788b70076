"""The per-handle spec (:mod:`spec.handles`) as a model for the explicit-state checker.

:class:`HandlesModel` offers every entry of an operation table on every choice of
values and parameters for which its ``pre`` holds, and checks HandleOK and the
ledger invariants on the abstraction in every state (:mod:`model.refinement` adds
the edge check).  Finiteness: an empty value (a ``Budget``, ``Refund`` or stream of
0 uc) is invisible to the ledger, and ``split(0)`` can mint them forever, so the
explored states do not keep them (:func:`normalise` drops them).  What an empty value
can do is still covered: the Z3 proof treats every amount as a symbolic natural, 0
included, and the model offers ``apply_refund_to_empty``, which over-approximates the
library (there, the user needs an empty handle at hand).  More behaviours in the
model only make its refinement check stronger.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from spec.concrete import step_text
from spec.format import Conjuncts, holds
from spec.handles import (
    FIELD,
    OPERATIONS,
    Handles,
    Kind,
    Operation,
    Owner,
    abstraction,
    after,
    handle_ok,
    initial,
)
from spec.ledger import LEDGER


def normalise(h: Handles, owner: Owner = "session") -> Handles:
    """The canonical form of a concrete state: multisets sorted, empty streams and
    refunds dropped, and empty budgets too, except a pool's one budget (they are
    invisible to the ledger, see the module doc)."""
    return Handles(
        tuple(sorted(x for x in h.live if x != 0 or owner == "pool")),
        tuple(sorted(h.receipts)),
        tuple(sorted(x for x in h.streams if x != 0)),
        tuple(sorted(x for x in h.refunds if x != 0)),
        h.total_charged, h.total_unrecoverable, h.total_released,
    )


def show(h: Handles) -> str:
    """One line: the values, then the ledger they abstract to."""
    s = abstraction(h)
    ledger = " ".join(f"{k}={v}" for k, v in s._asdict().items())
    return (f"live={list(h.live)} receipts={list(h.receipts)} streams={list(h.streams)} "
            f"refunds={list(h.refunds)} "
            f"charged={h.total_charged} unrecoverable={h.total_unrecoverable} "
            f"released={h.total_released} | {ledger}")


class Action(NamedTuple):
    """One operation applied to concrete values with concrete parameters."""

    op: Operation
    taken: tuple[int, ...]
    params: tuple[int, ...]

    @property
    def claimed(self) -> tuple[tuple[str, tuple[Any, ...]], ...]:
        """The spec steps this action claims, in order: (transition, arguments) pairs
        (none for a stutter)."""
        return self.op.steps(*self.taken, *self.params)


def action_text(action: Action) -> str:
    """``spend_success(h=6, r=2, c=1) => spend_success(r=2, c=1)``; several claimed
    steps are joined by ``; ``, none is ``stutter``."""
    op = action.op
    own = ", ".join(f"{n}={v}" for n, v in zip(op.names + op.params,
                                               action.taken + action.params, strict=True))
    return f"{op.name}({own}) => {claimed_text(action.claimed)}"


def claimed_text(steps: tuple[tuple[str, tuple[Any, ...]], ...]) -> str:
    """``confirm_with_refund(r=3, c=1); refund_to(a=2)``, or ``stutter``."""
    if not steps:
        return "stutter"
    return "; ".join(step_text(LEDGER, name, args) for name, args in steps)


def claimed_somewhere(transition: str) -> str:
    """The name of the sometimes property "some explored step claims ``transition``"."""
    return f"some step claims {transition}"


def _claims(transition: str) -> Callable[[Handles, Action, Handles], bool]:
    return lambda s, a, t: any(name == transition for name, _ in a.claimed)


def _picks(state: Handles, takes: tuple[Kind, ...]) -> Iterator[tuple[int, ...]]:
    """Every choice of distinct values of the given kinds, once per tuple of amounts."""
    pools = {k: getattr(state, FIELD[k]) for k in set(takes)}
    seen: set[tuple[int, ...]] = set()
    ranges = [range(len(pools[k])) for k in takes]
    for idx in itertools.product(*ranges):
        used = list(zip(takes, idx, strict=True))
        if len(set(used)) != len(used):
            continue
        values = tuple(pools[k][i] for k, i in used)
        if values not in seen:
            seen.add(values)
            yield values


def _without(state: Handles, takes: tuple[Kind, ...], values: tuple[int, ...]) -> Handles:
    fields = {f: list(getattr(state, f)) for f in FIELD.values()}
    for kind, v in zip(takes, values, strict=True):
        fields[FIELD[kind]].remove(v)
    return state._replace(**{f: tuple(v) for f, v in fields.items()})


def successor(state: Handles, action: Action, owner: Owner = "session") -> Handles:
    """The normalised state after ``action`` (its precondition is NOT evaluated)."""
    rest = _without(state, action.op.takes, action.taken)
    return normalise(after(rest, action.op.effect(*action.taken, *action.params)), owner)


def start(b0: int, owner: Owner = "session") -> Handles:
    """The first state: a session's root budget (none when ``b0`` is 0), or a pool's
    one budget of ``b0``."""
    return initial(b0) if owner == "session" else Handles((b0,), (), (), (), 0, 0, 0)


class HandlesModel:
    """One session (or pool, with ``owner="pool"``) of cap ``b0``, value by value, as a
    :class:`model.checker.Model`.

    Every operation of ``operations`` offered by ``owner`` is offered on every choice
    of values and every parameter in ``0..b0 + 1`` for which its ``pre`` holds.
    Properties: HandleOK on the values, and every invariant of ``LEDGER`` on the
    abstraction; sometimes properties: every transition the offered operations claim
    is claimed by some explored step (:func:`claimed_somewhere`).
    """

    def __init__(self, b0: int, operations: Sequence[Operation] = OPERATIONS,
                 owner: Owner = "session") -> None:
        self.b0 = b0
        self.owner = owner
        self.operations = tuple(op for op in operations if owner in op.on)
        values = range(b0 + 2)
        self._grids = {len(op.params): list(itertools.product(values, repeat=len(op.params)))
                       for op in self.operations}
        self._abstract: dict[Handles, Any] = {}

    def abstract(self, state: Handles) -> Any:
        """:func:`abstraction` of ``state``, computed once per state."""
        s = self._abstract.get(state)
        if s is None:
            s = self._abstract[state] = abstraction(state)
        return s

    def init_states(self) -> list[Handles]:
        return [start(self.b0, self.owner)]

    def actions(self, state: Handles) -> Iterable[Action]:
        s = self.abstract(state)
        for op in self.operations:
            grid = self._grids[len(op.params)]
            for taken in _picks(state, op.takes):
                for params in grid:
                    if all(op.pre(s, *taken, *params)):
                        yield Action(op, taken, params)

    def next_state(self, state: Handles, action: Action) -> Handles:
        return successor(state, action, self.owner)

    def properties(self) -> Sequence[tuple[str, Callable[[Handles], bool]]]:
        props: list[tuple[str, Callable[[Handles], bool]]] = [
            ("HandleOK", lambda h: holds(handle_ok(h)))
        ]
        for inv in LEDGER.invariants:
            props.append((inv.name, self._on_abstraction(inv.holds)))
        return props

    def sometimes(self) -> Sequence[tuple[str, Callable[[Handles, Action, Handles], bool]]]:
        claimed = {c.transition for op in self.operations for c in op.claims}
        return [(claimed_somewhere(t.name), _claims(t.name))
                for t in LEDGER.transitions if t.name in claimed]

    def _on_abstraction(self, predicate: Callable[..., Conjuncts]) -> Callable[[Handles], bool]:
        return lambda h: holds(predicate(self.abstract(h), self.b0))

    def format_action(self, action: Action) -> str:
        return action_text(action)
