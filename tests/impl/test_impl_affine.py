"""Affine at run time: consumed values refuse everything; nothing copies or pickles;
invalid input gets the right error class and changes nothing."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest

import impl

# Every public attribute of every value class, and how to exercise it. A test below
# checks that this table covers all public names, so a new method cannot escape.
USES: dict[type, dict[str, Callable[[Any, Any], object]]] = {
    impl.Budget: {
        "available": lambda v, o: v.available,
        "session": lambda v, o: v.session,
        "spend": lambda v, o: v.spend(1),
        "reserve": lambda v, o: v.reserve(1),
        "reserve_with_reasoning": lambda v, o: v.reserve_with_reasoning(1, 1),
        "reserve_stream": lambda v, o: v.reserve_stream(1),
        "split": lambda v, o: v.split(0),
        "merge": lambda v, o: v.merge(o),
        "consume": lambda v, o: v.consume(),
    },
    impl.Receipt: {
        "amount": lambda v, o: v.amount,
        "confirm": lambda v, o: v.confirm(0),
        "forfeit": lambda v, o: v.forfeit(),
    },
    impl.ReasoningReceipt: {
        "visible": lambda v, o: v.visible,
        "reasoning": lambda v, o: v.reasoning,
    },
    impl.Refund: {
        "amount": lambda v, o: v.amount,
        "apply_to": lambda v, o: v.apply_to(o),
    },
    impl.StreamReceipt: {
        "amount": lambda v, o: v.amount,
        "outstanding": lambda v, o: v.outstanding,
        "charged": lambda v, o: v.charged,
        "confirm_chunk": lambda v, o: v.confirm_chunk(1),
        "close": lambda v, o: v.close(),
        "forfeit": lambda v, o: v.forfeit(),
    },
    impl.Reservation: {
        "amount": lambda v, o: v.amount,
        "commit": lambda v, o: v.commit(0),
        "cancel": lambda v, o: v.cancel(),
        "forfeit": lambda v, o: v.forfeit(),
    },
    impl.ReasoningReservation: {
        "visible": lambda v, o: v.visible,
        "reasoning": lambda v, o: v.reasoning,
    },
    impl.StreamReservation: {
        "amount": lambda v, o: v.amount,
        "outstanding": lambda v, o: v.outstanding,
        "charged": lambda v, o: v.charged,
        "confirm_chunk": lambda v, o: v.confirm_chunk(1),
        "close": lambda v, o: v.close(),
        "forfeit": lambda v, o: v.forfeit(),
    },
}


def _all_uses(cls: type) -> dict[str, Callable[[Any, Any], object]]:
    out: dict[str, Callable[[Any, Any], object]] = {}
    for k in reversed(cls.__mro__):
        out.update(USES.get(k, {}))
    return out


def test_use_table_covers_every_public_name() -> None:
    for cls in USES:
        public = {n for n in dir(cls) if not n.startswith("_")}
        assert public == set(_all_uses(cls)), cls


def _consumed_values() -> list[tuple[Any, Any]]:
    """(consumed value, a live companion of the same session) of every class."""
    s = impl.Session(1000)
    b = s.take()
    b, keep = b.split(500)
    b, rc = b.reserve(10)
    b, rrc = b.reserve_with_reasoning(5, 5)
    b, st = b.reserve_stream(10)
    rf = rc.confirm(3)
    rrc.forfeit()
    st.close().apply_to(b.split(0)[0])
    spent, other = keep.split(10)
    spent.consume()
    rf2_src = rf
    b2 = rf2_src.apply_to(other)  # consumes rf and other
    p = impl.BudgetPool(100)
    res = p.reserve(5)
    res.commit(5)
    rres = p.reserve_with_reasoning(1, 2)
    rres.cancel()
    pst = p.reserve_stream(7)
    pst.forfeit()
    return [(spent, b2), (rc, b2), (rrc, b2), (rf, b2), (st, b2), (res, None),
            (rres, None), (pst, None)]


def test_every_method_and_property_of_a_consumed_value_raises() -> None:
    for value, companion in _consumed_values():
        uses = _all_uses(type(value))
        assert uses
        for name, use in uses.items():
            with pytest.raises(impl.AffineViolation) as ei:
                use(value, companion)
            assert "consumed" in str(ei.value), (type(value), name)
        if hasattr(value, "__enter__"):
            with pytest.raises(impl.AffineViolation):
                value.__enter__()


def test_second_resolve_raises() -> None:
    s = impl.Session(100)
    b, rc = s.take().reserve(10)
    rf = rc.confirm(4)
    for again in (lambda: rc.confirm(4), rc.forfeit):
        with pytest.raises(impl.AffineViolation, match="consumed Receipt"):
            again()
    b = rf.apply_to(b)
    with pytest.raises(impl.AffineViolation, match="consumed Refund"):
        rf.apply_to(b)
    p = impl.BudgetPool(10)
    res = p.reserve(5)
    res.cancel()
    for again2 in (lambda: res.commit(1), res.cancel, res.forfeit):
        with pytest.raises(impl.AffineViolation, match="consumed Reservation"):
            again2()
    assert p.ledger() == impl.Ledger(10, 0, 0, 0, 0, 0)
    assert s.ledger() == impl.Ledger(96, 0, 0, 4, 0, 0)


def test_apply_to_consumed_budget_keeps_refund() -> None:
    s = impl.Session(100)
    b, rc = s.take().reserve(10)
    rf = rc.confirm(4)
    x, _y = b.split(5)
    with pytest.raises(impl.AffineViolation, match="consumed Budget"):
        rf.apply_to(b)
    assert rf.amount == 6
    assert rf.apply_to(x).available == 11


def _live_values() -> list[object]:
    s = impl.Session(100)
    b = s.take()
    b, rc = b.reserve(10)
    b, st = b.reserve_stream(10)
    b, rrc = b.reserve_with_reasoning(1, 1)
    rf = impl.Session(5).take().reserve(5)[1].confirm(1)
    p = impl.BudgetPool(10)
    return [s, b, rc, st, rrc, rf, p, p.reserve(1), p.reserve_stream(1),
            p.reserve_with_reasoning(1, 1)]


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle", "pickle0", "pickle5"])
def test_copy_and_pickle_raise(how: str) -> None:
    ops: dict[str, Callable[[object], object]] = {
        "copy": copy.copy,
        "deepcopy": copy.deepcopy,
        "pickle": pickle.dumps,
        "pickle0": lambda v: pickle.dumps(v, protocol=0),
        "pickle5": lambda v: pickle.dumps(v, protocol=5),
    }
    for v in _live_values():
        with pytest.raises(impl.AffineViolation, match="cannot be copied or pickled"):
            ops[how](v)
    # a copy inside a container is refused too
    b = impl.Session(3).take()
    with pytest.raises(impl.AffineViolation):
        copy.deepcopy({"budget": [b]})
    assert b.available == 3


# ---- invalid input --------------------------------------------------------------

BAD_TYPES: list[object] = [True, False, 1.0, 5.0, "5", None, b"5", 3 + 0j]
BAD_POSITIVE: list[object] = [0, -1, -(1 << 70), 1 << 63, 1 << 80]


class _Handles:
    """Fresh values of one session, and every operation taking one amount on them."""

    def __init__(self, s: impl.Session) -> None:
        b = s.take()
        b, self.rc = b.reserve(10)
        self.b, self.st = b.reserve_stream(10)
        self.ops: dict[str, Callable[[object], object]] = {
            "spend": lambda x: self.b.spend(x),  # type: ignore[arg-type]
            "spend(charged)": lambda x: self.b.spend(5, charged=x),  # type: ignore[arg-type]
            "reserve": lambda x: self.b.reserve(x),  # type: ignore[arg-type]
            "reserve_stream": lambda x: self.b.reserve_stream(x),  # type: ignore[arg-type]
            "reserve_with_reasoning":
                lambda x: self.b.reserve_with_reasoning(x, 1),  # type: ignore[arg-type]
            "split": lambda x: self.b.split(x),  # type: ignore[arg-type]
            "confirm": lambda x: self.rc.confirm(x),  # type: ignore[arg-type]
            "confirm_chunk": lambda x: self.st.confirm_chunk(x),  # type: ignore[arg-type]
        }

    def still_usable(self) -> None:
        assert self.b.available == 980 and self.rc.amount == 10 and self.st.outstanding == 10
        self.b.spend(1)
        self.rc.confirm(1)
        self.st.confirm_chunk(1)
        self.st.close()


@pytest.mark.parametrize("bad", BAD_TYPES, ids=repr)
def test_bad_types_raise_type_errors_and_change_nothing(bad: object, recorder) -> None:
    s = impl.Session(1000)
    h = _Handles(s)
    rec = recorder(s)
    before = s.ledger()
    for name, op in h.ops.items():
        if bad is None and name == "spend(charged)":
            continue  # charged=None is the documented default: charged = r
        with pytest.raises(impl.AmountTypeError) as ei:
            op(bad)
        assert isinstance(ei.value, TypeError)
        msg = str(ei.value)
        assert name.split("(")[0] in msg and "int" in msg, msg
        assert type(bad).__name__ in msg
    assert s.ledger() == before
    assert rec.names() == []
    h.still_usable()


@pytest.mark.parametrize("bad", BAD_POSITIVE, ids=repr)
def test_out_of_range_amounts_raise_value_errors_and_change_nothing(bad: int) -> None:
    s = impl.Session(1000)
    h = _Handles(s)
    before = s.ledger()
    needs_positive = {"spend", "reserve", "reserve_stream"}
    for name, op in h.ops.items():
        if bad == 0 and name not in needs_positive:
            continue  # 0 is a valid split / charge / chunk
        if bad == 0 and name == "reserve_with_reasoning":
            continue
        with pytest.raises(impl.InvalidAmount) as ei:
            op(bad)
        assert isinstance(ei.value, ValueError)
        assert str(bad) in str(ei.value) and name.split("(")[0] in str(ei.value)
    assert s.ledger() == before
    h.still_usable()


def test_amount_checked_before_availability() -> None:
    s = impl.Session(10)
    b = s.take()
    with pytest.raises(impl.InvalidAmount, match="2\\*\\*63"):
        b.spend(1 << 63)  # too large: InvalidAmount, not InsufficientBudget
    with pytest.raises(impl.InvalidAmount):
        impl.BudgetPool(10).reserve(1 << 63)


def test_charge_above_reservation_keeps_receipt_open(recorder) -> None:
    s = impl.Session(100)
    rec = recorder(s)
    b, rc = s.take().reserve(30)
    before = s.ledger()
    with pytest.raises(impl.ChargeExceedsReservation) as ei:
        rc.confirm(31)
    msg = str(ei.value)
    assert "confirm" in msg and "31" in msg and "30" in msg and "stays open" in msg
    assert "A1" in msg
    assert s.ledger() == before
    assert rc.amount == 30
    with pytest.raises(impl.ChargeExceedsReservation, match="charged=11 exceeds"):
        b.spend(10, charged=11)
    assert rc.confirm(30).amount == 0
    assert rec.names() == ["reserve", "confirm_with_refund"]


def test_failed_flag_must_be_bool() -> None:
    b = impl.Session(10).take()
    with pytest.raises(impl.BudgetTypeError, match="failed must be a bool"):
        b.spend(1, failed=1)  # type: ignore[arg-type]
    assert b.available == 10


def test_reasoning_amounts_validated() -> None:
    b = impl.Session(10).take()
    with pytest.raises(impl.InvalidAmount, match="visible \\+ reasoning"):
        b.reserve_with_reasoning(0, 0)
    with pytest.raises(impl.InvalidAmount):
        b.reserve_with_reasoning(1 << 62, 1 << 62)
    with pytest.raises(impl.AmountTypeError):
        b.reserve_with_reasoning(1, 1.5)  # type: ignore[arg-type]
    with pytest.raises(impl.InvalidAmount):
        impl.BudgetPool(10).reserve_with_reasoning(-1, 3)
    assert b.available == 10


def test_a_blank_budget_as_argument_gets_a_library_error_and_changes_nothing() -> None:
    s = impl.Session(10)
    b, rc = s.take().reserve(4)
    rf = rc.confirm(1)
    before = s.ledger()
    for call in (lambda: rf.apply_to(impl.Budget()), lambda: b.merge(impl.Budget())):
        with pytest.raises(impl.BudgetTypeError, match="not made by a Session") as info:
            call()
        assert isinstance(info.value, TypeError)
    assert s.ledger() == before
    assert rf.apply_to(b).available == 9  # both still usable
