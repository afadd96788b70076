"""Interrupt safety: an exception delivered anywhere inside impl never leaves a lock
held nor money that no live or collectable object can resolve.

Three walks over the ledger-changing operations, each repeating one operation for
every point *k* it reaches and checking, after each run, the lock, conservation, cap
safety and, after ``gc.collect()``, that nothing is stranded:

- an exception at every line: a ``sys.settrace`` hook raises at the *k*-th line event
  inside impl (every function of budget, receipts, pool, session and ledger, the
  finalizers excepted, see :mod:`impl.ledger`);
- a collection at every line: the cyclic collector fires there (it may, at any
  allocation) and finalizes a dropped ticket of the same book, whose finalizer queues
  it while the operation runs;
- a re-entry at every delivery point: where CPython may run a signal handler (after
  a call, at function entry, at a backward jump), code on the same thread reads the
  ledger, runs operations of its own on the same book and uses the interrupted
  operation's own handles again.

The real-signal soak is ``test_impl_signal_soak.py``.

The every-line walk skips one kind of line event: the re-trace of a ``with`` line when
its block is left (normally or by an exception), which CPython reports *before* calling
``__exit__`` and outside the block's exception handler. No asynchronous exception can
be delivered there (CPython raises those only at function entry, backward jumps and
after calls, and those sequences are constant loads, or the handler's entry, before
the ``__exit__`` call), so only a trace function could raise at that point; the
real-signal soak covers the points where CPython does deliver them.
"""

from __future__ import annotations

import contextlib
import dis
import gc
import re
import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from hypothesis import settings

import impl
import impl.budget
import impl.ledger
import impl.pool
import impl.receipts
import impl.session


class Injected(BaseException):
    """Stands for KeyboardInterrupt, a signal handler's exception, an async exception."""


COLLECTOR_HOOK = {"_after_collection", "_settle_dropped", "_warn_dropped"}
"""Run by the cyclic collector's callback, at times a walk cannot repeat: the walk
keeps the collector off and applies the queue through ``ledger()`` instead."""


def _codes(exclude: set[str]) -> set[types.CodeType]:
    """Every function's code in the ledger-changing modules (nested ones included)."""
    out: set[types.CodeType] = set()

    def add(code: types.CodeType) -> None:
        if code.co_name in exclude:
            return
        out.add(code)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                add(const)

    for mod in (impl.budget, impl.ledger, impl.pool, impl.receipts, impl.session):
        for obj in vars(mod).values():
            for fn in _functions(obj):
                if fn.__module__ == mod.__name__:
                    add(fn.__code__)
    return out


def _functions(obj: object) -> list[types.FunctionType]:
    if isinstance(obj, types.FunctionType):
        return [obj]
    if isinstance(obj, type):
        found = []
        for v in vars(obj).values():
            if isinstance(v, property):
                found += [f for f in (v.fget, v.fset) if isinstance(f, types.FunctionType)]
            elif isinstance(v, staticmethod | classmethod):
                found += _functions(v.__func__)
            else:
                found += _functions(v)
        return found
    return []


CODES = _codes(COLLECTOR_HOOK)
ALL_CODES = _codes(set())

_EXIT_SEQUENCE: dict[tuple[types.CodeType, int], bool] = {}


def _with_exit(code: types.CodeType, offset: int) -> bool:
    """Whether the instruction at ``offset`` starts a ``with`` block's exit: the normal
    one (``LOAD_CONST None`` three times, then the ``__exit__`` call) or the one an
    exception takes (``PUSH_EXC_INFO``, then ``WITH_EXCEPT_START`` calls ``__exit__``)."""
    key = (code, offset)
    if key not in _EXIT_SEQUENCE:
        ins = [i for i in dis.get_instructions(code) if i.offset >= offset][:4]
        names = [i.opname for i in ins]
        _EXIT_SEQUENCE[key] = (
            (len(ins) == 4 and all(i.opname == "LOAD_CONST" and i.argval is None
                                   for i in ins[:3]) and names[3] in ("PRECALL", "CALL"))
            or names[:2] == ["PUSH_EXC_INFO", "WITH_EXCEPT_START"])
    return _EXIT_SEQUENCE[key]


Hook = Callable[[types.FrameType], None]


def _raise(frame: types.FrameType) -> None:
    raise Injected(f"{frame.f_code.co_name}:{frame.f_lineno}")


_OPNAMES: dict[types.CodeType, dict[int, str]] = {}


def _opname(code: types.CodeType, offset: int) -> str:
    if code not in _OPNAMES:
        _OPNAMES[code] = {i.offset: i.opname for i in dis.get_instructions(code)}
    return _OPNAMES[code].get(offset, "")


def _delivery_point(last: dict[types.FrameType, int], frame: types.FrameType) -> bool:
    """Whether CPython 3.11 may run a signal handler (or raise an asynchronous
    exception) right before the instruction ``frame`` is at: after the function's
    ``RESUME`` (its first instruction traced), after a call returned (``CALL``,
    ``CALL_FUNCTION_EX``, or a ``PRECALL`` whose specialized form made the call
    itself), after a backward jump. ``last`` tracks the previous instruction per
    frame."""
    here, prev = frame.f_lasti, last.get(frame)
    last[frame] = here
    if prev is None or here < prev:
        return True
    op = _opname(frame.f_code, prev)
    return op in ("CALL", "CALL_FUNCTION_EX") or (
        op == "PRECALL" and _opname(frame.f_code, here) != "CALL")


def run_injected(action: Callable[[], object], k: int | None, hook: Hook = _raise,
                 at: str = "lines") -> tuple[int, bool]:
    """Run ``action`` calling ``hook`` (by default: raise :class:`Injected`) at the
    ``k``-th point inside impl (``None``: never); returns (points seen, whether the hook
    ran). The points are line events (``at="lines"``) or the points where CPython can
    deliver a signal (``at="delivery"``, see :func:`_delivery_point`)."""
    seen = 0
    fired = False
    last: dict[types.FrameType, int] = {}

    def local(frame: types.FrameType, event: str, arg: object) -> Any:
        nonlocal seen, fired
        if (event == "line" and not _with_exit(frame.f_code, frame.f_lasti)) if at == "lines" \
                else (event == "opcode" and _delivery_point(last, frame)):
            seen += 1
            if seen - 1 == k:
                fired = True
                hook(frame)  # untraced: CPython suspends tracing inside a trace function
        return local

    def tracer(frame: types.FrameType, event: str, arg: object) -> Any:
        if frame.f_code not in CODES:
            return None
        if at != "lines":
            frame.f_trace_opcodes, frame.f_trace_lines = True, False
        return local

    enabled = gc.isenabled()
    gc.disable()
    sys.settrace(tracer)
    try:
        action()
    except Injected:
        return seen, True
    finally:
        sys.settrace(None)
        if enabled:
            gc.enable()
    return seen, fired


@dataclass
class World:
    """A book and the values a scenario holds before the operation under test."""

    book: impl.Session | impl.BudgetPool
    held: dict[str, Any] = field(default_factory=dict)


REFUND = re.compile(r"Refund of (\d+) uc")


def check_reachable(w: World) -> None:
    """Right after the interrupted operation: the lock is free and what is still
    reachable never claims more than the ledger holds (no double ownership)."""
    book = w.book
    lock = book._lock
    assert not lock._is_owned(), "the lock is still held"
    assert lock.acquire(False), "the lock is held"
    lock.release()
    led = book.ledger()
    assert led.total == book.cap and min(led._values()) >= 0, led
    held = [x for v in w.held.values() for x in (v if type(v) is tuple else (v,))]
    live_budgets = sum(v._amount for v in held if type(v) is impl.Budget and v._live)
    assert live_budgets <= led.live_sum, (w.held, led)
    claims = sum(getattr(v, "_claim", 0) or 0 for v in held
                 if not isinstance(v, impl.Budget | impl.Refund))
    assert claims <= led.outstanding_receipts, (w.held, led)


def check_collected(book: impl.Session | impl.BudgetPool,
                    caught: list[warnings.WarningMessage]) -> None:
    """Once everything is dropped and collected: receipts all forfeited, refunds
    outstanding only as far as dropped refunds (each reported in ``caught``) hold them."""
    led = book.ledger()  # applies the queue of dropped values, which reports refunds
    dropped_refunds = _refunds_of(caught)
    assert led.total == book.cap
    assert led.outstanding_receipts == 0, f"stranded in outstanding_receipts: {led}"
    assert led.outstanding_refunds == sum(dropped_refunds) == book._abandoned, \
        f"stranded in outstanding_refunds: {led}, dropped refunds {dropped_refunds}, " \
        f"collected {book._abandoned}"


def _session(held: dict[str, Any]) -> impl.Session:
    s = impl.Session(1000)
    b = s.take()
    b, held["rc"] = b.reserve(100)
    b, held["st"] = b.reserve_stream(100)
    held["st"].confirm_chunk(10)
    b, rc2 = b.reserve(50)
    held["rf"] = rc2.confirm(20)
    held["b"], held["b2"] = b.split(300)
    return s


def _pool(held: dict[str, Any]) -> impl.BudgetPool:
    p = impl.BudgetPool(1000)
    held["res"] = p.reserve(100)
    held["st"] = p.reserve_stream(100)
    held["st"].confirm_chunk(10)
    return p


def _closed_session(held: dict[str, Any]) -> impl.Session:
    s = _session(held)
    with contextlib.suppress(impl.Overdraft):
        s.reconcile(5000, held["b"])
    return s


def _closed_pool(held: dict[str, Any]) -> impl.BudgetPool:
    p = _pool(held)
    with contextlib.suppress(impl.Overdraft):
        p.reconcile(5000)
    return p


def _keep(h: dict[str, Any], name: str, value: object) -> None:
    h[name] = value


SCENARIOS: dict[str, tuple[Callable[[dict[str, Any]], Any], Callable[[dict[str, Any]], Any]]] = {
    "session take": (lambda h: impl.Session(100), lambda h: _keep(h, "out", h["_book"].take())),
    "spend": (_session, lambda h: _keep(h, "out", h["b"].spend(30, charged=20))),
    "spend failed": (_session, lambda h: _keep(h, "out", h["b"].spend(30, failed=True))),
    "spend refused": (_session, lambda h: h["b"].spend(10_000)),
    "reserve": (_session, lambda h: _keep(h, "out", h["b"].reserve(40))),
    "reserve refused": (_session, lambda h: h["b"].reserve(500)),
    "reserve_with_reasoning": (_session,
                               lambda h: _keep(h, "out", h["b"].reserve_with_reasoning(5, 7))),
    "reserve_stream": (_session, lambda h: _keep(h, "out", h["b"].reserve_stream(40))),
    "confirm": (_session, lambda h: _keep(h, "out", h["rc"].confirm(60))),
    "receipt forfeit": (_session, lambda h: h["rc"].forfeit()),
    "receipt with-exit": (_session, lambda h: h["rc"].__exit__(None, None, None)),
    "apply_to": (_session, lambda h: _keep(h, "out", h.pop("rf").apply_to(h["b"]))),
    "split": (_session, lambda h: _keep(h, "out", h["b"].split(10))),
    "merge": (_session, lambda h: _keep(h, "out", h["b"].merge(h["b2"]))),
    "consume": (_session, lambda h: h["b"].consume()),
    "stream chunk": (_session, lambda h: h["st"].confirm_chunk(30)),
    "stream close": (_session, lambda h: _keep(h, "out", h["st"].close())),
    "stream forfeit": (_session, lambda h: h["st"].forfeit()),
    "ledger": (_session, lambda h: h["_book"].ledger()),
    "pool reserve": (_pool, lambda h: _keep(h, "out", h["_book"].reserve(50))),
    "pool reserve refused": (_pool, lambda h: h["_book"].reserve(5000)),
    "pool reserve_with_reasoning": (
        _pool, lambda h: _keep(h, "out", h["_book"].reserve_with_reasoning(3, 4))),
    "pool reserve_stream": (_pool, lambda h: _keep(h, "out", h["_book"].reserve_stream(50))),
    "pool commit": (_pool, lambda h: h["res"].commit(30)),
    "pool cancel": (_pool, lambda h: h["res"].cancel()),
    "pool forfeit": (_pool, lambda h: h["res"].forfeit()),
    "pool with-exit": (_pool, lambda h: h["res"].__exit__(None, None, None)),
    "pool stream chunk": (_pool, lambda h: h["st"].confirm_chunk(20)),
    "pool stream close": (_pool, lambda h: h["st"].close()),
    "pool ledger after a finalizer queued": (_pool, lambda h: _drop_while_locked(h)),
    "reconcile": (_session, lambda h: _keep(h, "out", h["_book"].reconcile(200, h["b"]))),
    "reconcile no drift": (_session,
                           lambda h: _keep(h, "out", h["_book"].reconcile(30, h["b"]))),
    "reconcile refused by the handle": (_session, lambda h: h["_book"].reconcile(600, h["b"])),
    "reconcile overdraft": (_session, lambda h: h["_book"].reconcile(5000, h["b"])),
    "spend on a closed session": (_closed_session, lambda h: h["b"].spend(10)),
    "pool reconcile": (_pool, lambda h: h["_book"].reconcile(300)),
    "pool reconcile overdraft": (_pool, lambda h: h["_book"].reconcile(5000)),
    "pool reserve when closed": (_closed_pool, lambda h: _keep(h, "out", h["_book"].reserve(5))),
}


def _drop_while_locked(h: dict[str, Any]) -> None:
    """A reservation collected while its lock is held queues its forfeit; ledger()
    applies the queue."""
    book = h["_book"]
    with book._lock:
        del h["res"]
        gc.collect(0)
    book.ledger()


def _build(setup: Callable[[dict[str, Any]], Any], observed: bool) -> World:
    held: dict[str, Any] = {}
    book = setup(held)
    if observed:
        book.observe(lambda step: None)
    return World(book, held)


def _refunds_of(caught: list[warnings.WarningMessage]) -> list[int]:
    return [int(m.group(1)) for w in caught
            if (m := REFUND.search(str(w.message))) and issubclass(w.category, ResourceWarning)]


def _act(act: Callable[[dict[str, Any]], Any], w: World) -> None:
    w.held["_book"] = w.book
    try:
        act(w.held)
    except impl.BudgetError:
        pass  # a refusal is the operation's normal outcome
    finally:
        w.held.pop("_book", None)


def walk(setup: Callable[[dict[str, Any]], Any], act: Callable[[dict[str, Any]], Any],
         observed: bool = False, hook: Callable[[World], Hook] = lambda w: _raise,
         at: str = "lines") -> tuple[int, list[str]]:
    """Run ``hook(world)`` at every point (see :func:`run_injected`) the operation
    reaches (by default: raise at every line); returns (points, failures)."""
    first = _build(setup, observed)
    total, fired = run_injected(lambda: _act(act, first), None, at=at)
    assert total > 0 and not fired
    failures = []
    enabled = gc.isenabled()
    gc.disable()  # values dropped in one run stay young: gc.collect(0) frees them
    try:
        for k in range(total):
            failures += _walk_one(setup, act, observed, k, total, hook, at)
    finally:
        if enabled:
            gc.enable()
    return total, failures


def _walk_one(setup: Callable[[dict[str, Any]], Any], act: Callable[[dict[str, Any]], Any],
              observed: bool, k: int, total: int, hook: Callable[[World], Hook],
              at: str) -> list[str]:
    failures = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = _build(setup, observed)
        _, fired = run_injected(partial(_act, act, w), k, hook(w), at)
        assert fired, f"point {k} of {total} was not reached"
        try:
            check_reachable(w)
        except AssertionError as exc:
            failures.append(f"event {k}: {exc}")
        w.held.clear()
        gc.collect(0)
        try:
            check_collected(w.book, caught)
        except AssertionError:
            gc.collect()  # slow: only when something sits in an older cycle
            try:
                check_collected(w.book, caught)
            except AssertionError as exc:
                failures.append(f"event {k}: {exc}")
    return failures


OBSERVED = ("spend refused", "confirm", "apply_to", "stream close", "pool commit",
            "pool reserve refused", "pool ledger after a finalizer queued", "reconcile",
            "pool reconcile")
"""Walked with an observer too under the ``ci`` profile (every scenario under
``exhaustive``): delivery runs after the lock, and refusals deliver on the way out."""


def _cases() -> list[tuple[str, bool]]:
    exhaustive = settings.get_current_profile_name() == "exhaustive"
    return [(name, observed) for name in SCENARIOS for observed in (False, True)
            if not observed or exhaustive or name in OBSERVED]


@pytest.mark.parametrize(("name", "observed"), _cases(),
                         ids=[f"{n}-{'observed' if o else 'plain'}" for n, o in _cases()])
def test_an_exception_at_every_line_leaves_nothing_stranded(name: str, observed: bool) -> None:
    setup, act = SCENARIOS[name]
    total, failures = walk(setup, act, observed)
    assert not failures, f"{len(failures)} of {total} line events:\n" + "\n".join(failures)


# ---------------------------------------------------------------------------------
# A collection, or an operation of the same book, at every line
# ---------------------------------------------------------------------------------


def _with_spares(setup: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """``setup``, plus a ``victim`` (an unresolved ticket only ``held`` refers to) and,
    in a session, a ``spare`` budget for the interrupting code's own operations."""

    def build(held: dict[str, Any]) -> Any:
        book = setup(held)
        if isinstance(book, impl.BudgetPool):
            held["victim"] = book.reserve(1)
        else:
            held["spare"], held["b2"] = held["b2"].split(100)
            held["b2"], held["victim"] = held["b2"].reserve(1)
        return book

    return build


def _collect(w: World) -> Hook:
    """The cyclic collector fires here (it may, at any allocation): the victim's
    finalizer queues it while the operation runs."""

    def hook(frame: types.FrameType) -> None:
        w.held.pop("victim", None)
        gc.collect(1)

    return hook


def _reenter(w: World) -> Hook:
    """What a signal handler (or a finalizer of the user's) may do on this thread
    here: read the ledger, run operations of its own on the same book, and use the
    interrupted operation's own handles again (each such use must be refused, or
    succeed once). A dropped reservation queued for the collector is part of it, so
    that the interrupting operation applies the queue."""

    def hook(frame: types.FrameType) -> None:
        book, held = w.book, w.held
        book.ledger()
        held.pop("victim", None)
        gc.collect(1)
        try:
            if isinstance(book, impl.BudgetPool):
                book.reserve(7).commit(3)
            else:
                spare, rc = held.pop("spare").reserve(7)
                held["spare"] = rc.confirm(3).apply_to(spare)
        except impl.BudgetError:
            pass
        for name, v in list(held.items()):
            try:
                _reuse(held, name, v)
            except impl.BudgetError:
                pass

    return hook


def _reuse(held: dict[str, Any], name: str, v: object) -> None:
    if isinstance(v, impl.Budget) and name != "spare":
        held[name] = v.spend(1)
    elif isinstance(v, impl.Receipt | impl.Reservation):
        v.forfeit()
    elif isinstance(v, impl.StreamReceipt | impl.StreamReservation):
        v.confirm_chunk(1)
    elif isinstance(v, impl.Refund) and "spare" in held:
        held["spare"] = v.apply_to(held["spare"])


HOOKED = ("pool ledger after a finalizer queued", "pool reserve", "reserve", "split",
          "confirm", "apply_to")
"""Walked with both hooks under the ``ci`` profile (every scenario with a session or a
pool under ``exhaustive``): the queue applied by ``ledger()`` and by a reservation."""


def _hooked_cases() -> list[tuple[str, str]]:
    exhaustive = settings.get_current_profile_name() == "exhaustive"
    return [(name, hook) for name in SCENARIOS for hook in ("collect", "reenter")
            if (exhaustive and SCENARIOS[name][0] in (_session, _pool)) or name in HOOKED]


@pytest.mark.parametrize(("name", "hook"), _hooked_cases(),
                         ids=[f"{n}-{h}" for n, h in _hooked_cases()])
def test_a_collection_or_reentry_at_every_line_leaves_nothing_stranded(
        name: str, hook: str) -> None:
    setup, act = SCENARIOS[name]
    if hook == "collect":
        total, failures = walk(_with_spares(setup), act, hook=_collect)
    else:
        total, failures = walk(_with_spares(setup), act, hook=_reenter, at="delivery")
    assert not failures, f"{len(failures)} of {total} points:\n" + "\n".join(failures)


def test_the_harness_finds_a_seeded_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reserve that updates the ledger in two statements (a plausible mistake) is
    caught: the line between them leaves conservation broken."""

    def two_step_reserve(self: Any, r: int, ticket: Any, old: Any, rest: Any) -> bool:
        ls = self._live_sum
        if not 0 < r <= ls:
            return False
        self._live_sum = ls - r
        ticket._claim, self._outstanding_receipts = r, self._outstanding_receipts + r
        return True

    monkeypatch.setattr(impl.ledger.Tally, "_reserve", two_step_reserve)
    CODES.add(two_step_reserve.__code__)
    try:
        total, failures = walk(*SCENARIOS["pool reserve"])
    finally:
        CODES.discard(two_step_reserve.__code__)
    assert any("event" in f for f in failures) and len(failures) < total


def _seeded(monkeypatch: pytest.MonkeyPatch, cls: type, name: str,
            fn: Callable[..., Any]) -> None:
    """Replace ``cls.name`` by ``fn`` for one test, and walk ``fn``'s lines too."""
    monkeypatch.setattr(cls, name, fn)
    monkeypatch.setitem(globals(), "CODES", CODES | {fn.__code__})


def _settle_from_the_end(self: Any) -> list[tuple[str, int]]:
    """The queue loop as it was: resolve the last value, then pop whatever is last."""
    pending = self._pending
    dropped = []
    while pending:
        what = impl.ledger._resolve_dropped(self, pending[-1])
        if what is not None:
            dropped.append(what)
        pending.pop()
    if self._owed:
        self._refund_to(self._owed, self, None, None)
    return dropped


def test_the_collection_walk_finds_a_finalizer_queued_mid_loop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded: the queue loop as it was (``pending[-1]`` resolved, then ``pop()``). A
    collection between the two queues another value, which the ``pop()`` removes
    unresolved: its finalizer never runs again, so its claim is stranded for good
    (the 3 uc an earlier soak left in a pool)."""
    _seeded(monkeypatch, impl.ledger.Book, "_settle", _settle_from_the_end)
    total, failures = walk(_with_spares(SCENARIOS["pool ledger after a finalizer queued"][0]),
                           SCENARIOS["pool ledger after a finalizer queued"][1], hook=_collect)
    assert any("stranded in outstanding_receipts" in f for f in failures), failures
    assert len(failures) < total


def test_the_reentry_walk_finds_a_queue_applied_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded: the same loop, interrupted by an operation that applies the queue
    itself: the outer loop then pops from an empty queue."""
    _seeded(monkeypatch, impl.ledger.Book, "_settle", _settle_from_the_end)
    with pytest.raises(IndexError):
        walk(_with_spares(SCENARIOS["pool ledger after a finalizer queued"][0]),
             SCENARIOS["pool ledger after a finalizer queued"][1], hook=_reenter, at="delivery")


def test_the_reentry_walk_finds_a_handle_used_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded: a split that checks liveness, then calls ``type(a)`` (where a signal
    handler may run and spend the same budget), then consumes without checking again:
    the parent's money is then held twice."""

    def split(self: impl.Budget, a: int) -> tuple[impl.Budget, impl.Budget]:
        s = self._session
        x, y = impl.budget._unarmed(s), impl.budget._unarmed(s)
        with s._lock:
            if not self._live:
                raise impl.AffineViolation("consumed")
            if type(a) is not int:
                raise impl.BudgetTypeError("a")
            x._amount, y._amount = a, self._amount - a
            self._live, x._live, y._live = False, True, True
        return x, y

    _seeded(monkeypatch, impl.Budget, "split", split)
    total, failures = walk(_with_spares(SCENARIOS["split"][0]), SCENARIOS["split"][1],
                           hook=_reenter, at="delivery")
    assert any("live_sum" in f for f in failures) and len(failures) < total, failures

