"""Hostile use of impl: clone paths, huge amounts, dropped refunds, re-entrant
observers and finalizers. Each test here fails on the library before the hardening."""

from __future__ import annotations

import copy
import copyreg
import gc
import pickle
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import impl

HUGE = 10**5000


def _live_values() -> list[tuple[str, Callable[[], Any]]]:
    """Fresh live values of every affine kind (each with the book that owns it)."""

    def budget() -> Any:
        return impl.Session(100).take()

    def receipt() -> Any:
        return impl.Session(100).take().reserve(10)[1]

    def refund() -> Any:
        return impl.Session(100).take().reserve(10)[1].confirm(4)

    def stream() -> Any:
        return impl.Session(100).take().reserve_stream(10)[1]

    def reservation() -> Any:
        return impl.BudgetPool(100).reserve(10)

    def pool_stream() -> Any:
        return impl.BudgetPool(100).reserve_stream(10)

    return [("Budget", budget), ("Receipt", receipt), ("Refund", refund),
            ("StreamReceipt", stream), ("Reservation", reservation),
            ("StreamReservation", pool_stream),
            ("Session", lambda: impl.Session(100)), ("BudgetPool", lambda: impl.BudgetPool(100))]


VALUES = _live_values()


def _book(v: Any) -> Any:
    for attr in ("_session", "_book"):
        book = getattr(v, attr, None)
        if book is not None:
            return book
    return v


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("make", [m for _, m in VALUES], ids=[n for n, _ in VALUES])
def test_every_clone_path_is_closed(make: Callable[[], Any]) -> None:
    v = make()
    book = _book(v)
    before = book.ledger()
    for clone in (copy.copy, copy.deepcopy, lambda x: x.__getstate__(),
                  lambda x: x.__setstate__({}), lambda x: x.__reduce__()):
        with pytest.raises(impl.AffineViolation):
            clone(v)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(impl.AffineViolation):
            pickle.dumps(v, protocol)
        with pytest.raises(impl.AffineViolation):
            object.__reduce_ex__(v, protocol)
    # copyreg.__newobj__ plus the attributes object.__getstate__ reveals: a blank.
    state = object.__getstate__(v)
    clone = copyreg.__newobj__(type(v))
    if isinstance(state, tuple):
        for name, value in (state[1] or {}).items():
            setattr(clone, name, value)
    assert state is None  # no slot is listed: nothing to copy, the clone is a blank
    with pytest.raises(impl.NotMinted, match="not made by the library"):
        clone.ledger() if isinstance(clone, impl.Session | impl.BudgetPool) else \
            _first_operation(clone)
    for target in (impl.Refund, type("Other", (), {"__slots__": ()})):
        with pytest.raises(impl.AffineViolation):
            v.__class__ = target
        with pytest.raises(impl.AffineViolation):
            object.__setattr__(v, "__class__", target)
    assert type(v).__name__ == v.__class__.__name__
    assert book.ledger() == before


def _first_operation(v: Any) -> None:
    for op in ("spend", "confirm", "apply_to", "confirm_chunk", "commit"):
        fn = getattr(type(v), op, None)
        if fn is not None:
            fn(v, 1)
            return
    raise AssertionError(f"no operation for {type(v).__name__}")


def test_subclasses_that_skip_init_cannot_touch_a_ledger() -> None:
    class Quiet(impl.Session):
        def __init__(self) -> None:  # skips Session.__init__
            pass

    class QuietPool(impl.BudgetPool):
        def __init__(self) -> None:
            pass

    with pytest.raises(impl.NotMinted, match=r"Quiet.__init__ did not call Book's"):
        Quiet()
    with pytest.raises(impl.NotMinted):
        QuietPool()

    class Fine(impl.BudgetPool):
        def __init__(self) -> None:
            super().__init__(10)

    Fine().reserve(3).commit(3)

    class MyBudget(impl.Budget):
        pass

    blank = MyBudget()
    with pytest.raises(impl.NotMinted):
        blank.spend(1)  # a blank holds nothing and reaches no ledger
    with pytest.raises(impl.NotMinted):
        blank.available  # noqa: B018 - a property of a blank: NotMinted too
    with pytest.raises(AttributeError) as info:
        blank.no_such_name  # noqa: B018 - a plain typo stays a plain AttributeError
    assert not isinstance(info.value, impl.NotMinted)
    assert repr(blank) == "<blank Budget>"
    s = impl.Session(10)
    with pytest.raises(impl.BudgetTypeError):
        s.take().merge(blank)


@pytest.mark.parametrize("call", [
    lambda: impl.Session(HUGE),
    lambda: impl.BudgetPool(-HUGE),
    lambda: impl.BudgetPool(100).reserve(HUGE),
    lambda: impl.BudgetPool(100).reserve(-HUGE),
    lambda: impl.BudgetPool(100).reserve_stream(HUGE),
    lambda: impl.BudgetPool(100).reserve_with_reasoning(HUGE, 1),
    lambda: impl.Session(100).take().spend(HUGE),
    lambda: impl.Session(100).take().spend(5, charged=-HUGE),
    lambda: impl.Session(100).take().reserve(HUGE),
    lambda: impl.Session(100).take().split(HUGE),
    lambda: impl.Session(100).take().reserve(10)[1].confirm(HUGE),
    lambda: impl.BudgetPool(100).reserve(10).commit(-HUGE),
    lambda: impl.Session(100).take().reserve_stream(10)[1].confirm_chunk(HUGE),
])
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_huge_amounts_get_a_typed_error_that_shows_their_size(call: Callable[[], Any]) -> None:
    with pytest.raises(impl.InvalidAmount, match=r"<an int of about 5001 digits>"):
        call()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_wrong_types_get_typed_errors() -> None:
    s = impl.Session(100)
    b = s.take()
    with pytest.raises(impl.AmountTypeError):
        impl.Session("100")  # type: ignore[arg-type]
    with pytest.raises(impl.AmountTypeError):
        b.spend(2.0)  # type: ignore[arg-type]
    with pytest.raises(impl.BudgetTypeError):
        b.merge(None)  # type: ignore[arg-type]
    with pytest.raises(impl.BudgetTypeError):
        s.observe(None)  # type: ignore[arg-type]
    with pytest.raises(impl.BudgetTypeError):
        impl.Ledger.initial(5).after(("reserve", {"r": 1}))  # type: ignore[arg-type]
    assert b.available == 100 and s.ledger() == impl.Ledger.initial(100)


def test_a_dropped_refund_warns_naming_its_amount() -> None:
    s = impl.Session(100)
    b, rc = s.take().reserve(30)
    rf = rc.confirm(12)
    with pytest.warns(ResourceWarning, match=r"Refund of 18 uc .*outstanding_refunds"):
        del rf
        gc.collect()
        s.ledger()
    b, st = b.reserve_stream(20)
    st.confirm_chunk(5)
    with pytest.warns(ResourceWarning, match=r"Refund of 15 uc"):
        st.close()  # the refund close() returns is dropped at once
        gc.collect()
        s.ledger()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b, rc = b.reserve(10)
        rc.confirm(10)  # a zero refund holds nothing: no warning
        b, rc = b.reserve(10)
        b = rc.confirm(3).apply_to(b)
        gc.collect()
        s.ledger()
    assert s.ledger().outstanding_refunds == 18 + 15


def test_step_params_cannot_be_changed_by_an_observer() -> None:
    p = impl.BudgetPool(10)
    seen: list[impl.Step] = []

    def vandal(step: impl.Step) -> None:
        with pytest.raises(TypeError):
            step.params["r"] = 999  # type: ignore[index]
        with pytest.raises(AttributeError):
            step.name = "forfeit"  # type: ignore[misc]

    p.observe(vandal)
    p.observe(seen.append)
    p.reserve(4).cancel()
    assert [repr(s) for s in seen] == ["reserve(r=4)", "confirm_with_refund(r=4, c=0)",
                                       "refund_to(a=4)"]
    assert impl.Step("reserve", {"r": 314}) == seen[0].__class__("reserve", {"r": 314})
    assert repr(impl.Step("reserve", {"r": 314})) == "reserve(r=314)"


def _in_thread(fn: Callable[[], object], seconds: float = 20.0) -> None:
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it deadlocks."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "deadlock: the operation never returned"
    if errors:
        raise errors[0]


def test_reentrant_observers_never_deadlock_and_see_one_total_order() -> None:
    p = impl.BudgetPool(100)
    log: list[tuple[str, int]] = []
    second: list[str] = []
    unsubscribe: list[Callable[[], None]] = []

    def logger(step: impl.Step) -> None:
        log.append((repr(step), p.ledger().live_sum))  # reads the ledger
        if step.name == "reserve" and step.params["r"] == 10:
            p.reserve(1).commit(1)  # an operation of the same pool, from an observer
            p.observe(second.append)  # subscribes another observer
        if step.name == "forfeit":
            unsubscribe[0]()  # its own unsubscribe

    def run() -> None:
        unsubscribe.append(p.observe(logger))
        p.reserve(10).forfeit()
        p.reserve(2).commit(2)

    _in_thread(run)
    names = [name for name, _ in log]
    assert names == ["reserve(r=10)", "reserve(r=1)", "confirm_with_refund(r=1, c=1)",
                     "forfeit(r=10)"]
    # observe() inside a delivery: the new observer gets the steps applied after it.
    assert [repr(s) for s in second] == ["forfeit(r=10)", "reserve(r=2)",
                                         "confirm_with_refund(r=2, c=2)"]
    assert p.ledger() == impl.Ledger(87, 0, 0, 3, 10, 0)


def test_concurrent_deliveries_keep_one_total_order(recorder: Any) -> None:
    """Several threads applying steps: every observer sees every step once, in one
    order that the spec can replay (Ledger.after raises on any illegal order)."""
    p = impl.BudgetPool(1000)
    a, b = recorder(p), recorder(p)

    def work() -> None:
        for _ in range(200):
            try:
                p.reserve(7).commit(3)
            except impl.InsufficientBudget:
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert a.pairs() == b.pairs()
    a.check()
    b.check()


def test_user_finalizer_calling_ledger_inside_a_critical_section_does_not_hang() -> None:
    """The cyclic GC fires inside a critical section (here: while confirm builds its
    update) and runs a user ``__del__`` that calls ``ledger()`` on the same session."""
    s = impl.Session(100)
    b = s.take()
    seen: list[impl.Ledger] = []

    class Logger:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the cyclic collector frees it

        def __del__(self) -> None:
            seen.append(s.ledger())

    def run() -> None:
        nonlocal b
        old = gc.get_threshold()
        gc.collect()
        try:
            b, rc = b.reserve(10)
            Logger()
            gc.set_threshold(1)  # the next container allocation collects
            rc.confirm(4).apply_to(b)
        finally:
            gc.set_threshold(*old)

    _in_thread(run)
    assert seen and all(led.total == 100 for led in seen)
