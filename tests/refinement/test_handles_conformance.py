"""The per-handle spec describes impl: random walks of the model replayed on impl.

Each walk picks random enabled actions of ``HandlesModel`` (a session's, or a pool's)
and performs the same call on impl objects of the same amounts, taken from
:data:`IMPL_CALLS`, the table of impl calls keyed by the names of
``spec.handles.OPERATIONS`` (exactly the same keys).  After each step: impl reported
exactly the spec steps the entry claims (none for a stutter), impl's ledger is the
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
from model.handles import Action, HandlesModel, start, successor
from spec.handle_mutants import handle_mutant
from spec.handles import FIELD, OPERATIONS, Operation, Owner, abstraction

Objs = dict[str, list[Any]]  # field of Handles -> impl objects of that kind


class Produced:
    """What one call produced, by field of ``Handles``."""

    def __init__(self, **objs: list[Any]) -> None:
        self.objs: Objs = {f: list(objs.get(f, [])) for f in FIELD.values()}


def refused(exc: type[Exception], fn: Callable[[], object], back: str, obj: Any,
            *also: tuple[str, Any]) -> Produced:
    """``fn`` must raise ``exc``; the value it was called on comes back unchanged."""
    with pytest.raises(exc):
        fn()
    out = Produced(**{back: [obj]})
    for f, o in also:
        out.objs[f].append(o)
    return out


def _reserve(b: Any, call: Callable[[Any], tuple[Any, Any]], field: str) -> Produced:
    rest, rc = call(b)
    return Produced(live=[rest], **{field: [rc]})


def _refuse_on_budget(b: Any, r: int, rng: random.Random) -> Produced:
    how = rng.choice([lambda: b.spend(r), lambda: b.reserve(r), lambda: b.reserve_stream(r)])
    return refused(impl.InsufficientBudget, how, "live", b)


def _refuse_on_pool(pool: Any, r: int, rng: random.Random) -> Produced:
    how = rng.choice([lambda: pool.reserve(r), lambda: pool.reserve_stream(r),
                      lambda: pool.reserve_with_reasoning(0, r)])
    return refused(impl.InsufficientBudget, how, "live", pool)


def _settle(o: list[Any], fn: Callable[[Any], object]) -> Produced:
    """Resolve a pool reservation or stream ``o[0]``; the pool ``o[1]`` stays."""
    fn(o[0])
    return Produced(live=[o[1]])


def _chunk(s: Any, c: int) -> Produced:
    s.confirm_chunk(c)
    return Produced(streams=[s])


def _gone(fn: Callable[[], object]) -> Produced:
    fn()
    return Produced()


#: ``call(mirror, taken objects, parameters, rng)`` per entry of ``OPERATIONS``.
Call = Callable[["Mirror", list[Any], tuple[int, ...], random.Random], Produced]
IMPL_CALLS: dict[str, Call] = {
    "split": lambda m, o, p, rng: Produced(live=list(o[0].split(p[0]))),
    "split_refused": lambda m, o, p, rng: refused(
        impl.InsufficientBudget, lambda: o[0].split(p[0]), "live", o[0]),
    "merge": lambda m, o, p, rng: Produced(live=[o[0].merge(o[1])]),
    "spend_success": lambda m, o, p, rng: Produced(live=[o[0].spend(p[0], charged=p[1])]),
    "spend_fail_post_check": lambda m, o, p, rng: Produced(
        live=[o[0].spend(p[0], charged=p[1], failed=True)]),
    "reserve": lambda m, o, p, rng: _reserve(o[0], lambda b: b.reserve(p[0]), "receipts"),
    "reserve_with_reasoning": lambda m, o, p, rng: _reserve(
        o[0], lambda b: b.reserve_with_reasoning(p[0], p[1]), "receipts"),
    "refused_insufficient": lambda m, o, p, rng: _refuse_on_budget(o[0], p[0], rng),
    "refused_by_handle": lambda m, o, p, rng: _refuse_on_budget(o[0], p[0], rng),
    "confirm": lambda m, o, p, rng: Produced(refunds=[o[0].confirm(p[0])]),
    "confirm_refused": lambda m, o, p, rng: refused(
        impl.ChargeExceedsReservation, lambda: o[0].confirm(p[0]), "receipts", o[0]),
    "forfeit": lambda m, o, p, rng: _gone(o[0].forfeit),
    "reserve_stream": lambda m, o, p, rng: _reserve(
        o[0], lambda b: b.reserve_stream(p[0]), "streams"),
    "confirm_chunk": lambda m, o, p, rng: _chunk(o[0], p[0]),
    "confirm_chunk_zero": lambda m, o, p, rng: _chunk(o[0], p[0]),
    "confirm_chunk_refused": lambda m, o, p, rng: refused(
        impl.ChargeExceedsReservation, lambda: o[0].confirm_chunk(p[0]), "streams", o[0]),
    "close_stream": lambda m, o, p, rng: Produced(refunds=[o[0].close()]),
    "close_empty_stream": lambda m, o, p, rng: Produced(refunds=[o[0].close()]),
    "forfeit_stream": lambda m, o, p, rng: _gone(o[0].forfeit),
    "forfeit_empty_stream": lambda m, o, p, rng: _gone(o[0].forfeit),
    "apply_refund": lambda m, o, p, rng: Produced(live=[o[0].apply_to(o[1])]),
    "apply_refund_to_empty": lambda m, o, p, rng: Produced(live=[o[0].apply_to(m.spare())]),
    "apply_empty_refund": lambda m, o, p, rng: Produced(live=[o[0].apply_to(o[1])]),
    "consume": lambda m, o, p, rng: _gone(o[0].consume),
    "consume_empty": lambda m, o, p, rng: _gone(o[0].consume),
    "pool_reserve": lambda m, o, p, rng: Produced(live=[o[0]], receipts=[o[0].reserve(p[0])]),
    "pool_reserve_with_reasoning": lambda m, o, p, rng: Produced(
        live=[o[0]], receipts=[o[0].reserve_with_reasoning(p[0], p[1])]),
    "pool_reserve_stream": lambda m, o, p, rng: Produced(
        live=[o[0]], streams=[o[0].reserve_stream(p[0])]),
    "pool_refused": lambda m, o, p, rng: _refuse_on_pool(o[0], p[0], rng),
    "commit": lambda m, o, p, rng: _settle(o, lambda r: r.commit(p[0])),
    "commit_whole": lambda m, o, p, rng: _settle(o, lambda r: r.commit(p[0])),
    "commit_refused": lambda m, o, p, rng: refused(
        impl.ChargeExceedsReservation, lambda: o[0].commit(p[0]), "receipts", o[0]),
    "cancel": lambda m, o, p, rng: _settle(o, lambda r: r.cancel()),
    "pool_close_stream": lambda m, o, p, rng: _settle(o, lambda s: s.close()),
    "pool_close_empty_stream": lambda m, o, p, rng: _settle(o, lambda s: s.close()),
    "reconcile": lambda m, o, p, rng: Produced(live=[m.book.reconcile(m.billed(p[0]), o[0])]),
    "reconcile_zero": lambda m, o, p, rng: Produced(
        live=[m.book.reconcile(m.billed(p[0]), o[0])]),
    "reconcile_refused_by_handle": lambda m, o, p, rng: refused(
        impl.InsufficientBudget, lambda: m.book.reconcile(m.billed(p[0]), o[0]), "live", o[0]),
    "pool_reconcile": lambda m, o, p, rng: _pool_reconcile(o[0], m.billed(p[0]), p[0]),
    "pool_reconcile_zero": lambda m, o, p, rng: _pool_reconcile(o[0], m.billed(p[0]), p[0]),
}


def _pool_reconcile(pool: Any, billed: int, d: int) -> Produced:
    assert pool.reconcile(billed) == d
    return Produced(live=[pool])


def test_the_call_table_has_exactly_the_operations_of_the_spec_table() -> None:
    assert sorted(IMPL_CALLS) == sorted(op.name for op in OPERATIONS)


def _amount(field: str, obj: Any) -> int:
    if field == "live":
        return int(obj.available)
    if field == "streams":
        return int(obj.outstanding)
    return int(obj.amount)


class Mirror:
    """impl objects standing for the values of one model state: a session's handles,
    or a pool (its one budget value is the ``BudgetPool`` itself)."""

    def __init__(self, b0: int, owner: Owner) -> None:
        self.book: impl.Session | impl.BudgetPool
        self.values: Objs = {f: [] for f in FIELD.values()}
        self.empties: list[Any] = []  # budgets of 0 uc (the model does not keep them)
        if owner == "pool":
            self.book = impl.BudgetPool(b0)
            self.values["live"].append(self.book)
        else:
            self.book = impl.Session(b0)
        self.steps: list[impl.Step] = []
        self.book.observe(self.steps.append)
        if isinstance(self.book, impl.Session):
            self.keep(self.book.take(), "live")

    def keep(self, obj: Any, field: str) -> None:
        if obj is not self.book and _amount(field, obj) == 0 and field != "receipts":
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

    def billed(self, d: int) -> int:
        """The billed total whose drift is ``d``."""
        return self.book.ledger().total_charged + d

    def can_spare(self) -> bool:
        return bool(self.empties or self.values["live"])

    def amounts(self) -> dict[str, tuple[int, ...]]:
        return {f: tuple(sorted(_amount(f, o) for o in objs)) for f, objs in self.values.items()}


def _walk(b0: int, steps: int, rng: random.Random, owner: Owner = "session",
          operations: tuple[Operation, ...] = OPERATIONS) -> set[str]:
    model = HandlesModel(b0, operations, owner)
    state = start(b0, owner)
    mirror = Mirror(b0, owner)
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
            produced = IMPL_CALLS[action.op.name](mirror, objs, action.params, rng)
            objs = []
            for f, new in produced.objs.items():
                for obj in new:
                    mirror.keep(obj, f)
            state = successor(state, action, owner)
            fired.add(action.op.name)
            reported = [(s.name, tuple(s.params.values())) for s in mirror.steps[before:]]
            assert reported == list(action.claimed), action
            led = mirror.book.ledger()
            assert tuple(getattr(led, f) for f in impl.FIELDS) == tuple(abstraction(state)), \
                action
            assert mirror.amounts() == {f: getattr(state, f) for f in FIELD.values()}, action
    finally:  # resolve what is open: no ResourceWarning when the walk ends
        for obj in mirror.values["receipts"] + mirror.values["streams"] + objs:
            if hasattr(obj, "forfeit"):
                with contextlib.suppress(impl.AffineViolation):
                    obj.forfeit()
    return fired


def test_random_walks_of_the_model_are_runs_of_impl() -> None:
    rng = random.Random(20240611)
    fired: set[str] = set()
    for owner in ("session", "pool"):
        for _ in range(300 if owner == "session" else 150):
            fired |= _walk(rng.choice([3, 5, 6, 8]), 40, rng, owner)
    on_empty = {"apply_empty_refund", "consume_empty", "close_empty_stream",
                "forfeit_empty_stream", "pool_close_empty_stream"}
    assert fired == {op.name for op in OPERATIONS} - on_empty


@pytest.mark.parametrize("name", ["forfeit_credits_live", "sibling_refusal_reported_insufficient",
                                  "chunk_not_charged", "reconcile_keeps_the_drift"])
def test_a_model_that_misdescribes_impl_is_caught(name: str) -> None:
    rng = random.Random(7)
    with pytest.raises(AssertionError):
        for _ in range(300):
            _walk(6, 40, rng, operations=handle_mutant(name).operations)
