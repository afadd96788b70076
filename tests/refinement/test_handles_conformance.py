"""The per-handle model describes impl: random walks of the model replayed on impl.

Each walk picks random enabled actions of ``HandlesModel`` and performs the same call
on impl objects of the same amounts.  After each step: impl reported exactly the spec
step the model's entry claims (or nothing for a stutter), impl's ledger is the
abstraction of the model's state, and impl's live values have the model's amounts.
This ties the table that the refinement proof is about to the library's behaviour.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from typing import Any

import pytest

import impl
from model.handles import Action, HandlesModel, successor
from spec.handle_mutants import handle_mutant
from spec.handles import FIELD, OPERATIONS, Handles, Operation, abstraction, initial

Objs = dict[str, list[Any]]  # field of Handles -> impl objects of that kind


def _call(name: str, objs: list[Any], params: tuple[int, ...], rng: random.Random,
          spare: Callable[[], Any]) -> Objs:
    """Perform the library call of operation ``name``; return what it produced."""
    out: Objs = {f: [] for f in FIELD.values()}

    def refused(exc: type[Exception], fn: Callable[[], object], back: str) -> Objs:
        with pytest.raises(exc):
            fn()
        out[back].append(objs[0])
        return out

    p = params
    if name == "split":
        out["live"] += objs[0].split(p[0])
    elif name == "split_refused":
        return refused(impl.InsufficientBudget, lambda: objs[0].split(p[0]), "live")
    elif name == "merge":
        out["live"].append(objs[0].merge(objs[1]))
    elif name in ("spend_success", "spend_fail_post_check"):
        out["live"].append(objs[0].spend(p[0], charged=p[1],
                                         failed=name == "spend_fail_post_check"))
    elif name in ("reserve", "reserve_with_reasoning", "reserve_stream"):
        b = objs[0]
        rest, rc = (b.reserve(p[0]) if name == "reserve" else
                    b.reserve_with_reasoning(p[0], p[1]) if name == "reserve_with_reasoning"
                    else b.reserve_stream(p[0]))
        out["live"].append(rest)
        out["streams" if name == "reserve_stream" else "receipts"].append(rc)
    elif name in ("refused_insufficient", "refused_by_handle"):
        b, r = objs[0], p[0]
        how = rng.choice([lambda: b.spend(r), lambda: b.reserve(r), lambda: b.reserve_stream(r)])
        return refused(impl.InsufficientBudget, how, "live")
    elif name == "confirm":
        out["refunds"].append(objs[0].confirm(p[0]))
    elif name == "confirm_refused":
        return refused(impl.ChargeExceedsReservation, lambda: objs[0].confirm(p[0]),
                       "receipts")
    elif name in ("forfeit", "forfeit_stream", "forfeit_empty_stream"):
        objs[0].forfeit()
    elif name in ("confirm_chunk", "confirm_chunk_zero"):
        objs[0].confirm_chunk(p[0])
        out["streams"].append(objs[0])
    elif name == "confirm_chunk_refused":
        return refused(impl.ChargeExceedsReservation, lambda: objs[0].confirm_chunk(p[0]),
                       "streams")
    elif name in ("close_stream", "close_empty_stream"):
        out["refunds"].append(objs[0].close())
    elif name in ("apply_refund", "apply_empty_refund"):
        out["live"].append(objs[0].apply_to(objs[1]))
    elif name == "apply_refund_to_empty":
        out["live"].append(objs[0].apply_to(spare()))
    elif name in ("consume", "consume_empty"):
        objs[0].consume()
    else:  # a new entry in the table needs its library call here
        raise AssertionError(f"no impl call for operation {name!r}")
    return out


def _amount(field: str, obj: Any) -> int:
    if field == "live":
        return int(obj.available)
    if field == "streams":
        return int(obj.outstanding)
    return int(obj.amount)


class Mirror:
    """impl objects standing for the values of one model state."""

    def __init__(self, b0: int) -> None:
        self.session = impl.Session(b0)
        self.steps: list[impl.Step] = []
        self.session.observe(self.steps.append)
        root = self.session.take()
        self.values: Objs = {f: [] for f in FIELD.values()}
        self.empties: list[Any] = []  # budgets of 0 uc (the model does not keep them)
        self.keep(root, "live")

    def keep(self, obj: Any, field: str) -> None:
        if _amount(field, obj) == 0 and field != "receipts":
            if field == "live":
                self.empties.append(obj)
            elif field == "streams":
                obj.forfeit()  # forfeit(0): a stutter, and no ResourceWarning later
            return
        self.values[field].append(obj)

    def take(self, field: str, amount: int) -> Any:
        for i, obj in enumerate(self.values[field]):
            if _amount(field, obj) == amount:
                return self.values[field].pop(i)
        raise AssertionError(f"no impl {field} value of {amount}")

    def spare(self) -> Any:
        """An empty budget: kept from earlier, or split off a live one (a stutter)."""
        if not self.empties:
            b = self.values["live"].pop()
            empty, rest = b.split(0)
            self.values["live"].append(rest)
            self.empties.append(empty)
        return self.empties.pop()

    def can_spare(self) -> bool:
        return bool(self.empties or self.values["live"])

    def amounts(self) -> dict[str, tuple[int, ...]]:
        return {f: tuple(sorted(_amount(f, o) for o in objs)) for f, objs in self.values.items()}


def _walk(b0: int, steps: int, rng: random.Random,
          operations: tuple[Operation, ...] = OPERATIONS) -> set[str]:
    model = HandlesModel(b0, operations)
    state: Handles = initial(b0)
    mirror = Mirror(b0)
    fired: set[str] = set()
    objs: list[Any] = []
    try:
        for _ in range(steps):
            actions = [a for a in model.actions(state)
                       if a.op.name != "apply_refund_to_empty" or mirror.can_spare()]
            if not actions:
                break
            action: Action = rng.choice(actions)
            objs = [mirror.take(FIELD[k], v)
                    for k, v in zip(action.op.takes, action.taken, strict=True)]
            before = len(mirror.steps)
            produced = _call(action.op.name, objs, action.params, rng, mirror.spare)
            objs = []
            for f, new in produced.items():
                for obj in new:
                    mirror.keep(obj, f)
            state = successor(state, action)
            fired.add(action.op.name)
            reported = [(s.name, tuple(s.params.values())) for s in mirror.steps[before:]]
            name, args = action.claimed
            assert reported == ([] if name is None else [(name, args)]), action
            led = mirror.session.ledger()
            assert tuple(getattr(led, f) for f in impl.FIELDS) == tuple(abstraction(state)), \
                action
            assert mirror.amounts() == {f: getattr(state, f) for f in FIELD.values()}, action
    finally:  # resolve what is open: no ResourceWarning when the walk ends
        for obj in mirror.values["receipts"] + mirror.values["streams"] + objs:
            if isinstance(obj, impl.Receipt | impl.StreamReceipt):
                with contextlib.suppress(impl.AffineViolation):
                    obj.forfeit()
    return fired

def test_random_walks_of_the_model_are_runs_of_impl() -> None:
    rng = random.Random(20240611)
    fired: set[str] = set()
    for _ in range(300):
        fired |= _walk(rng.choice([3, 5, 6, 8]), 40, rng)
    on_empty = {"apply_empty_refund", "consume_empty", "close_empty_stream",
                "forfeit_empty_stream"}
    assert fired == {op.name for op in OPERATIONS} - on_empty


@pytest.mark.parametrize("name", ["forfeit_credits_live", "sibling_refusal_reported_insufficient",
                                  "chunk_not_charged"])
def test_a_model_that_misdescribes_impl_is_caught(name: str) -> None:
    rng = random.Random(7)
    with pytest.raises(AssertionError):
        for _ in range(300):
            _walk(6, 40, rng, handle_mutant(name).operations)
