"""Rules of affine misuse: consumed values, copies, other sessions, wrong types."""

from __future__ import annotations

import copy
import copyreg
import pickle
from collections.abc import Callable
from functools import partial
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)
from lockstep_oracle import (
    note,
)
from lockstep_values import (
    AFFINE,
    BUDGET,
    OPEN,
    RECEIPT,
    REFUND,
    RESERVATION,
    Dead,
    Held,
    budgets,
    budgets_or_refunds,
    expect_error,
    has,
)

import impl

# ---------------------------------------------------------------------------------
# Clone paths
# ---------------------------------------------------------------------------------

def _expect_affine(fn: Callable[[], object], what: str) -> None:
    expect_error(AFFINE, fn, what)


def _every_protocol(fn: Callable[[int], object], what: str) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        _expect_affine(partial(fn, protocol), f"{what} at protocol {protocol}")


def _newobj(obj: Any) -> Any:
    """``copyreg.__newobj__`` (what pickle and copy call) plus every attribute the
    copy protocol reports: ``object.__getstate__`` (a dict, or dict and slots) and the
    slot names ``copyreg`` finds. None is reported, so this is a blank."""
    clone = copyreg.__newobj__(type(obj))
    state = object.__getstate__(obj)
    parts = state if isinstance(state, tuple) else (state, None)
    for part in parts:
        for name, value in (part or {}).items():
            setattr(clone, name, value)
    for name in copyreg._slotnames(type(obj)):  # type: ignore[attr-defined]
        if hasattr(obj, name):
            setattr(clone, name, getattr(obj, name))
    return clone


_SKIPPING: dict[type, type] = {}


def _skipping_init(obj: Any) -> Any:
    """An instance of a subclass of ``type(obj)`` whose ``__init__`` does nothing: a
    Session or BudgetPool refuses to be made (NotMinted), any other value is a blank."""
    cls = type(obj)
    if cls not in _SKIPPING:
        _SKIPPING[cls] = type(f"Skipping{cls.__name__}", (cls,),
                              {"__init__": lambda self, *args, **kw: None})
    sub = _SKIPPING[cls]
    if isinstance(obj, impl.Session | impl.BudgetPool):
        expect_error((impl.NotMinted, *AFFINE), sub, f"a {sub.__name__}")
        return None
    return sub()


class _Bare:
    __slots__ = ()


def _reclass(obj: Any) -> None:
    """``__class__`` assignment, plain and through ``object.__setattr__``, to another
    library class and to a bare slotted one."""
    for target in (impl.Refund if type(obj) is not impl.Refund else impl.Budget, _Bare):
        _expect_affine(partial(setattr, obj, "__class__", target), f"__class__ = {target}")
        _expect_affine(partial(object.__setattr__, obj, "__class__", target),
                       f"object.__setattr__ __class__ = {target}")
    assert obj.__class__ is type(obj)


def _raises(fn: Callable[[Any], object], what: str) -> Callable[[Any], None]:
    def path(obj: Any) -> None:
        _expect_affine(lambda: fn(obj), f"{what} of {type(obj).__name__}")

    return path


def _protocols(fn: Callable[[Any, int], object], what: str) -> Callable[[Any], None]:
    def path(obj: Any) -> None:
        _every_protocol(lambda p: fn(obj, p), f"{what} of {type(obj).__name__}")

    return path


CLONE_PATHS: dict[str, Callable[[Any], Any]] = {
    "pickle_every_protocol": _protocols(pickle.dumps, "pickle.dumps"),
    "reduce_ex_every_protocol": _protocols(object.__reduce_ex__, "object.__reduce_ex__"),
    "own_reduce_ex": _protocols(lambda o, p: o.__reduce_ex__(p), "__reduce_ex__"),
    "reduce": _raises(lambda o: o.__reduce__(), "__reduce__"),
    "getstate": _raises(lambda o: o.__getstate__(), "__getstate__"),
    "setstate": _raises(lambda o: o.__setstate__({}), "__setstate__"),
    "newobj": _newobj,
    "subclass_skipping_init": _skipping_init,
    "class_assignment": _reclass,
}
"""The clone paths beyond ``copy``/``deepcopy``/default ``pickle`` (rule ``duplicate``):
each raises AffineViolation (returns None) or returns a blank for ``clone`` to use."""


class MisuseRules:
    """Rules of affine misuse: consumed values, copies, other sessions, wrong types."""

    # -- affine misuse ------------------------------------------------------------

    @precondition(lambda self: bool(self.dead_of(BUDGET)))
    @rule(data=st.data())
    def use_consumed_budget(self, data: st.DataObject) -> None:
        """Any call on a split, merged, spent, reserved-from, consumed or refunded
        budget raises AffineViolation."""
        d = self.draw_dead(data, BUDGET)
        v = d.value
        calls: dict[str, Callable[[], object]] = {
            "available": lambda: v.available,
            "session": lambda: v.session,
            "spend": lambda: v.spend(1),
            "reserve": lambda: v.reserve(1),
            "reserve_with_reasoning": lambda: v.reserve_with_reasoning(1, 0),
            "reserve_stream": lambda: v.reserve_stream(1),
            "split": lambda: v.split(0),
            "consume": lambda: v.consume(),
            "reconcile": lambda: self.session.reconcile(self.s.state.total_charged, v),
        }
        op = data.draw(st.sampled_from(sorted(calls)), label="call")
        with self.unchanged():
            expect_error(AFFINE, calls[op], f"{op} of {d!r}")
        note(f"misuse:use_after_{d.how}")

    @precondition(lambda self: bool(self.dead_of(BUDGET)) and has(BUDGET, REFUND)(self))
    @rule(h=budgets_or_refunds, data=st.data())
    def combine_with_consumed_budget(self, h: Held, data: st.DataObject) -> None:
        """Merging a live budget with a consumed one (either way round), or applying a
        live refund to a consumed budget, raises AffineViolation; the live value stays
        usable."""
        d = self.draw_dead(data, BUDGET)
        v, live = d.value, h.value
        if h.kind == REFUND:
            mode, call = "refund_to_consumed_budget", lambda: live.apply_to(v)
        elif data.draw(st.booleans(), label="consumed one is the argument"):
            mode, call = "merge_consumed_argument", lambda: live.merge(v)
        else:
            mode, call = "merge", lambda: v.merge(live)
        with self.unchanged(h):
            expect_error(AFFINE, call, f"{mode} with {d!r}")
        note(f"misuse:use_after_{d.how}")
        if mode != "merge":
            note(f"misuse:{mode}")

    @precondition(lambda self: bool(self.dead_of(*OPEN)))
    @rule(data=st.data())
    def resolve_twice(self, data: st.DataObject) -> None:
        """Resolving a resolved receipt, reservation or stream (or reading it, or
        entering a ``with`` block on it) raises AffineViolation."""
        d = self.draw_dead(data, *OPEN)
        v = d.value

        def enter() -> None:
            with v:
                raise AssertionError("entered a with block on a resolved value")

        calls: dict[str, Callable[[], object]] = {
            "forfeit": lambda: v.forfeit(), "amount": lambda: v.amount, "with": enter}
        if d.kind == RECEIPT:
            calls["confirm"] = lambda: v.confirm(0)
        elif d.kind == RESERVATION:
            calls["commit"] = lambda: v.commit(0)
            calls["cancel"] = lambda: v.cancel()
        else:
            calls["close"] = lambda: v.close()
            calls["confirm_chunk"] = lambda: v.confirm_chunk(0)
            calls["outstanding"] = lambda: v.outstanding
        op = data.draw(st.sampled_from(sorted(calls)), label="call")
        with self.unchanged():
            expect_error(AFFINE, calls[op], f"{op} of {d!r}")
        note("misuse:second_resolve")

    @precondition(lambda self: bool(self.dead_of(REFUND)) and has(BUDGET)(self))
    @rule(b=budgets, data=st.data())
    def apply_refund_twice(self, b: Held, data: st.DataObject) -> None:
        """Applying an applied refund raises AffineViolation; the budget stays usable."""
        d = self.draw_dead(data, REFUND)
        calls: dict[str, Callable[[], object]] = {
            "apply_to": lambda: d.value.apply_to(b.value), "amount": lambda: d.value.amount}
        op = data.draw(st.sampled_from(sorted(calls)), label="call")
        with self.unchanged(b):
            expect_error(AFFINE, calls[op], f"{op} of {d!r}")
        note("misuse:refund_applied_twice")

    @precondition(lambda self: self.started)
    @rule(how=st.sampled_from(["copy", "deepcopy", "pickle"]), data=st.data())
    def duplicate(self, how: str, data: st.DataObject) -> None:
        """``copy.copy``, ``copy.deepcopy`` or ``pickle.dumps`` of any value, live or
        consumed, or of the session or pool, raises AffineViolation; a live value
        stays usable."""
        targets: list[Any] = [*self.live.values(), *self.dead, self.session, self.pool]
        target = data.draw(st.sampled_from(targets), label="value")
        obj = target.value if isinstance(target, Held | Dead) else target
        fns: dict[str, Callable[[Any], object]] = {
            "copy": copy.copy, "deepcopy": copy.deepcopy, "pickle": pickle.dumps}
        fn = fns[how]
        touched = (target,) if isinstance(target, Held) else ()
        with self.unchanged(*touched):
            expect_error(AFFINE, lambda: fn(obj), f"{how} of {target!r}")
        note(f"misuse:{how}")

    @precondition(lambda self: self.started)
    @rule(data=st.data())
    def clone(self, data: st.DataObject) -> None:
        """Every other way Python offers to copy a value (:data:`CLONE_PATHS`), tried on
        a live value of every kind held, on the session and on the pool, raises
        AffineViolation or yields a blank whose every use raises NotMinted; no ledger
        moves and every original stays usable."""
        live = self.of(BUDGET)
        other = data.draw(st.sampled_from(live), label="argument") if live else None
        arg = other.value if other is not None else self.other_budget
        targets: dict[str, tuple[Held | None, Any]] = {
            "session": (None, self.session), "pool": (None, self.pool)}
        for kind in sorted({h.kind for h in self.live.values()}):
            h = data.draw(st.sampled_from(self.of(kind)), label=kind)
            targets[kind] = (h, h.value)
        touched = [h for h, _ in targets.values() if h is not None]
        with self.unchanged(*touched, *([other] if other is not None else [])):
            for kind, (_, obj) in targets.items():
                for path, attempt in CLONE_PATHS.items():
                    blank = attempt(obj)
                    if blank is not None:
                        assert blank is not obj
                        op, use = self.use_blank(blank, arg, data)
                        expect_error((impl.NotMinted, *AFFINE), use,
                                     f"{op} of a {path} clone of {kind}")
                    note(f"misuse:clone_{path}")
                note(f"misuse:clone_of_{kind}")

    def use_blank(self, blank: Any, arg: impl.Budget, data: st.DataObject
                  ) -> tuple[str, Callable[[], object]]:
        """One operation of ``blank`` (drawn); ``arg`` is a live budget it may be given."""
        calls: dict[str, Callable[[], object]]
        if isinstance(blank, impl.Session):
            calls = {"take": blank.take, "ledger": blank.ledger,
                     "observe": lambda: blank.observe(print),
                     "reconcile": lambda: blank.reconcile(0, arg)}
        elif isinstance(blank, impl.BudgetPool):
            calls = {"reserve": lambda: blank.reserve(1), "ledger": blank.ledger,
                     "reserve_stream": lambda: blank.reserve_stream(1),
                     "reconcile": lambda: blank.reconcile(0)}
        elif isinstance(blank, impl.Budget):
            calls = {"spend": lambda: blank.spend(1), "reserve": lambda: blank.reserve(1),
                     "split": lambda: blank.split(0), "consume": blank.consume,
                     "available": lambda: blank.available, "merge": lambda: blank.merge(arg)}
        elif isinstance(blank, impl.Refund):
            calls = {"amount": lambda: blank.amount, "apply_to": lambda: blank.apply_to(arg)}
        elif isinstance(blank, impl.Receipt | impl.Reservation):
            calls = {"amount": lambda: blank.amount, "forfeit": blank.forfeit,
                     "with": lambda: blank.__enter__()}
            if isinstance(blank, impl.Receipt):
                calls["confirm"] = lambda: blank.confirm(0)
            else:
                calls.update(commit=lambda: blank.commit(0), cancel=blank.cancel)
        else:
            calls = {"outstanding": lambda: blank.outstanding, "forfeit": blank.forfeit,
                     "confirm_chunk": lambda: blank.confirm_chunk(0), "close": blank.close}
        op = data.draw(st.sampled_from(sorted(calls)), label="use")
        return op, calls[op]

    @precondition(has(BUDGET))
    @rule(b=budgets)
    def merge_with_self(self, b: Held) -> None:
        """``b.merge(b)`` raises AffineViolation (it would count the money twice)."""
        with self.unchanged(b):
            expect_error(AFFINE, lambda: b.value.merge(b.value), "merge with itself")
        note("misuse:merge_with_self")

    @precondition(lambda self: self.started)
    @rule()
    def take_twice(self) -> None:
        """A second ``Session.take()`` raises AffineViolation."""
        with self.unchanged():
            expect_error(AFFINE, self.session.take, "second take")
        note("misuse:second_take")

    @precondition(has(BUDGET))
    @rule(b=budgets, data=st.data())
    def mix_sessions(self, b: Held, data: st.DataObject) -> None:
        """Merging budgets, or applying refunds, across two sessions raises
        SessionMismatch (a ValueError); every value involved stays usable."""
        v, ob, orf = b.value, self.other_budget, self.other_refund
        calls: dict[str, Callable[[], object]] = {
            "merge ours into theirs": lambda: ob.merge(v),
            "merge theirs into ours": lambda: v.merge(ob),
            "their refund to our budget": lambda: orf.apply_to(v),
        }
        touched = [b]
        live_refunds = self.of(REFUND)
        if live_refunds:
            refund = data.draw(st.sampled_from(live_refunds), label="our refund")
            calls["our refund to their budget"] = lambda: refund.value.apply_to(ob)
            touched.append(refund)
        op = data.draw(st.sampled_from(sorted(calls)), label="call")
        with self.unchanged(*touched):
            expect_error((impl.SessionMismatch, impl.BudgetError, ValueError), calls[op], op)
        note("misuse:other_session")

    @precondition(lambda self: bool(self.of(BUDGET) or self.of(REFUND)))
    @rule(data=st.data())
    def wrong_type(self, data: st.DataObject) -> None:
        """``merge``/``apply_to`` with something that is not a Budget raise
        BudgetTypeError (a TypeError); nothing changes."""
        h = data.draw(st.sampled_from(self.of(BUDGET) + self.of(REFUND)), label="value")
        # Held wrappers, not impl values: Hypothesis may keep a drawn-from strategy
        # alive, and an impl receipt must not outlive its wrapper (see ``abandon``).
        others = [x for x in self.live.values() if x.kind != BUDGET]
        drawn = data.draw(st.sampled_from([42, "budget", None, 1.5, self.session, *others]),
                          label="argument")
        wrong = drawn.value if isinstance(drawn, Held) else drawn
        call = h.value.merge if h.kind == BUDGET else h.value.apply_to
        with self.unchanged(h):
            expect_error((impl.BudgetTypeError, impl.BudgetError, TypeError),
                         lambda: call(wrong), f"{h!r} with {wrong!r}")
        note("misuse:wrong_type")

