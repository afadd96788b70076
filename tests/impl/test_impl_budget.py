"""Session and Budget: the pinned API, the SEMANTICS.md step of every operation, refusals."""

from __future__ import annotations

import pytest

import impl


def test_session_take_once_and_ledger_init() -> None:
    s = impl.Session(1000)
    assert s.cap == 1000
    assert s.ledger() == impl.Ledger(1000, 0, 0, 0, 0, 0)
    b = s.take()
    assert b.available == 1000
    assert b.session is s
    with pytest.raises(impl.AffineViolation, match="take"):
        s.take()
    assert b.available == 1000


def test_ledger_is_frozen_with_spec_field_names() -> None:
    led = impl.Session(7).ledger()
    assert tuple(led.__dataclass_fields__) == impl.FIELDS == (
        "live_sum", "outstanding_receipts", "outstanding_refunds",
        "total_charged", "total_unrecoverable", "total_released")
    with pytest.raises(AttributeError):
        led.live_sum = 3  # type: ignore[misc]
    assert led.total == 7


def test_issue_api_walkthrough(recorder) -> None:
    s = impl.Session(10_000)
    rec = recorder(s)
    b = s.take()
    b2 = b.spend(100, charged=60)
    assert b2.available == 9_900
    b3 = b2.spend(50, charged=20, failed=True)
    b4, rc = b3.reserve(500)
    assert rc.amount == 500 and b4.available == 9_350
    rf = rc.confirm(320)
    assert rf.amount == 180
    b5 = rf.apply_to(b4)
    assert b5.available == 9_530
    x, y = b5.split(1000)
    assert (x.available, y.available) == (1000, 8_530)
    x2, rc2 = x.reserve(200)
    rc2.forfeit()
    m = x2.merge(y)
    assert m.available == 9_330
    n = m.consume()
    assert n == 9_330
    assert rec.take() == [
        ("spend_success", {"r": 100, "c": 60}),
        ("spend_fail_post_check", {"r": 50, "c": 20}),
        ("reserve", {"r": 500}),
        ("confirm_with_refund", {"r": 500, "c": 320}),
        ("refund_to", {"a": 180}),
        ("reserve", {"r": 200}),
        ("forfeit", {"r": 200}),
        ("consume", {"a": 9_330}),
    ]
    led = rec.check()
    assert led == impl.Ledger(0, 0, 0, 60 + 20 + 320, 40 + 30 + 200, 9_330)


def test_spend_charged_defaults_to_r() -> None:
    s = impl.Session(10)
    s.take().spend(4)
    assert s.ledger() == impl.Ledger(6, 0, 0, 4, 0, 0)


def test_split_merge_are_stutters(recorder) -> None:
    s = impl.Session(100)
    rec = recorder(s)
    x, y = s.take().split(0)
    assert (x.available, y.available) == (0, 100)
    z = x.merge(y)
    a, b = z.split(100)
    assert (a.available, b.available) == (100, 0)
    assert rec.names() == []
    assert s.ledger() == impl.Ledger.initial(100)


def test_zero_amounts_are_stutters(recorder) -> None:
    s = impl.Session(10)
    rec = recorder(s)
    b, rc = s.take().reserve(10)
    rf = rc.confirm(10)  # refund of 0
    assert rf.amount == 0
    b = rf.apply_to(b)  # refund_to(0) is no SPEC step: stutter
    assert b.available == 0
    assert b.consume() == 0  # consume(0) is no SPEC step: stutter
    assert rec.names() == ["reserve", "confirm_with_refund"]
    rec.check()


def test_empty_session() -> None:
    s = impl.Session(0)
    b = s.take()
    assert b.available == 0
    with pytest.raises(impl.InsufficientBudget):
        b.reserve(1)
    assert b.consume() == 0
    assert s.ledger() == impl.Ledger.initial(0)


# ---- refusals -------------------------------------------------------------------


def test_refusal_within_session_is_plain_stutter(recorder) -> None:
    """SEMANTICS.md subtlety: r fits the session (money in a sibling) but not the handle."""
    s = impl.Session(100)
    rec = recorder(s)
    x, y = s.take().split(30)
    before = s.ledger()
    for op in (lambda: x.spend(50), lambda: x.reserve(50), lambda: x.reserve_stream(50),
               lambda: x.reserve_with_reasoning(40, 10)):
        with pytest.raises(impl.InsufficientBudget) as ei:
            op()
        assert "budget holds 30 uc" in str(ei.value)
        assert "split less or merge a sibling" in str(ei.value)
    assert ei.value.requested == 50 and ei.value.available == 30
    assert rec.names() == []  # not spend_insufficient: 50 <= live_sum = 100
    assert s.ledger() == before
    assert x.available == 30 and y.available == 70  # both still usable
    x.merge(y).spend(100)


def test_refusal_beyond_session_reports_spend_insufficient(recorder) -> None:
    s = impl.Session(100)
    rec = recorder(s)
    b = s.take()
    b, rc = b.reserve(40)
    before = s.ledger()
    with pytest.raises(impl.InsufficientBudget, match=r"spend\(61\) refused: budget holds 60"):
        b.spend(61)
    with pytest.raises(impl.InsufficientBudget, match=r"reserve\(500\) refused"):
        b.reserve(500)
    assert rec.pairs()[-2:] == [("spend_insufficient", {"r": 61}),
                                ("spend_insufficient", {"r": 500})]
    assert s.ledger() == before
    rec.check()
    assert b.available == 60
    rc.forfeit()


def test_split_refusal_is_a_stutter(recorder) -> None:
    s = impl.Session(10)
    rec = recorder(s)
    b = s.take()
    with pytest.raises(impl.InsufficientBudget, match=r"split\(11\) refused"):
        b.split(11)
    assert rec.names() == []
    assert b.available == 10


def test_insufficient_budget_is_not_a_value_error() -> None:
    assert issubclass(impl.InsufficientBudget, impl.BudgetError)
    assert not issubclass(impl.InsufficientBudget, ValueError)
    assert issubclass(impl.AffineViolation, RuntimeError)
    assert issubclass(impl.InvalidAmount, ValueError)
    assert issubclass(impl.AmountTypeError, TypeError)
    assert issubclass(impl.ChargeExceedsReservation, impl.InvalidAmount)
    assert issubclass(impl.SessionMismatch, ValueError)
    assert issubclass(impl.MissingUsage, ValueError)
    assert issubclass(impl.EstimatorError, ValueError)


# ---- merge rules -----------------------------------------------------------------


def test_merge_across_sessions_refused() -> None:
    s1, s2 = impl.Session(10), impl.Session(20)
    a, b = s1.take(), s2.take()
    with pytest.raises(impl.SessionMismatch, match="different sessions") as ei:
        a.merge(b)
    assert isinstance(ei.value, ValueError)
    assert a.available == 10 and b.available == 20
    assert s1.ledger() == impl.Ledger.initial(10)


def test_merge_with_itself_refused() -> None:
    s = impl.Session(10)
    b = s.take()
    with pytest.raises(impl.AffineViolation, match="itself"):
        b.merge(b)
    assert b.available == 10


def test_merge_with_non_budget() -> None:
    b = impl.Session(10).take()
    with pytest.raises(impl.BudgetTypeError):
        b.merge(10)  # type: ignore[arg-type]
    assert b.available == 10


def test_refund_across_sessions_refused() -> None:
    s1, s2 = impl.Session(10), impl.Session(10)
    b1, rc = s1.take().reserve(5)
    rf = rc.confirm(2)
    b2 = s2.take()
    with pytest.raises(impl.SessionMismatch, match="another session"):
        rf.apply_to(b2)
    assert rf.amount == 3 and b2.available == 10
    assert rf.apply_to(b1).available == 8
    _, rc3 = impl.Session(3).take().reserve(1)
    rf3 = rc3.confirm(0)
    with pytest.raises(impl.BudgetTypeError, match="expected a Budget"):
        rf3.apply_to(s1)  # type: ignore[arg-type]
    assert rf3.amount == 1


# ---- construction ---------------------------------------------------------------


def test_values_cannot_be_minted_with_an_amount() -> None:
    for cls in (impl.Budget, impl.Receipt, impl.Refund, impl.Reservation,
                impl.StreamReceipt, impl.StreamReservation):
        with pytest.raises(TypeError):
            cls(10**6)  # type: ignore[call-arg]
    blank = impl.Budget()
    assert repr(blank) == "<blank Budget>"
    with pytest.raises(AttributeError):
        blank.spend(1)


@pytest.mark.parametrize("cap", [-1, 1 << 63, True, 1.0, "10", None])
def test_session_cap_validated(cap: object) -> None:
    with pytest.raises(impl.BudgetError) as ei:
        impl.Session(cap)  # type: ignore[arg-type]
    assert isinstance(ei.value, ValueError | TypeError)
    assert "cap" in str(ei.value)
    with pytest.raises(type(ei.value)):
        impl.BudgetPool(cap)  # type: ignore[arg-type]


def test_max_cap() -> None:
    s = impl.Session((1 << 63) - 1)
    b = s.take()
    b, rc = b.reserve((1 << 63) - 1)
    assert b.available == 0
    rc.confirm(0).apply_to(b).consume()
    assert s.ledger().total_released == (1 << 63) - 1


def test_repr() -> None:
    s = impl.Session(5)
    b = s.take()
    assert repr(b) == "<Budget 5 uc>"
    b.consume()
    assert repr(b) == "<consumed Budget>"
    assert "cap=5" in repr(s)
    assert repr(impl.Step("reserve", {"r": 3})) == "reserve(r=3)"
