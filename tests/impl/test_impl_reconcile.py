"""reconcile(billed_total): the ninth transition on pools and sessions, its refusals,
idempotence, the overdraft that closes a ledger, and the steps observers see."""

from __future__ import annotations

import pytest

import impl


def _fields(book: impl.Session | impl.BudgetPool) -> tuple[int, ...]:
    return tuple(getattr(book.ledger(), f) for f in impl.FIELDS)


# -- BudgetPool -----------------------------------------------------------------------


def test_pool_reconcile_moves_the_drift_into_total_charged(recorder) -> None:
    p = impl.BudgetPool(1_000)
    rec = recorder(p)
    p.reserve(300).commit(100)
    rec.take()
    assert p.reconcile(160) == 60
    assert rec.take() == [("reconcile", {"d": 60})]
    assert rec.check() == impl.Ledger(840, 0, 0, 160, 0, 0)
    assert p.available == 840 and not p.closed and p.overdraft == 0


def test_pool_reconcile_is_idempotent_for_the_same_billed_total(recorder) -> None:
    p = impl.BudgetPool(1_000)
    p.reserve(300).commit(100)
    assert p.reconcile(100) == 0  # the ledger already charged exactly that
    rec = recorder(p)
    assert p.reconcile(250) == 150
    assert p.reconcile(250) == 0
    assert p.reconcile(250) == 0
    assert rec.take() == [("reconcile", {"d": 150})]
    assert rec.check() == impl.Ledger(750, 0, 0, 250, 0, 0)


def test_pool_reconcile_of_all_that_is_live(recorder) -> None:
    p = impl.BudgetPool(500)
    rec = recorder(p)
    res = p.reserve(200)
    assert p.reconcile(300) == 300  # d == live_sum: absorbed, nothing left to reserve
    assert p.available == 0 and not p.closed
    res.commit(50)
    assert rec.check() == impl.Ledger(150, 0, 0, 350, 0, 0)
    assert rec.names() == ["reserve", "reconcile", "confirm_with_refund", "refund_to"]


def test_a_billed_total_below_total_charged_is_refused_and_changes_nothing(recorder) -> None:
    p = impl.BudgetPool(1_000)
    p.reserve(300).commit(200)
    rec = recorder(p)
    before = _fields(p)
    with pytest.raises(impl.BilledTotalBelowCharged) as info:
        p.reconcile(150)
    e = info.value
    assert isinstance(e, ValueError) and isinstance(e, impl.InvalidAmount)
    assert (e.billed_total, e.total_charged) == (150, 200)
    assert "reconcile(150) refused" in str(e) and "200 uc" in str(e)
    assert "cumulative" in str(e)
    assert _fields(p) == before and rec.steps == [] and not p.closed
    assert p.reconcile(200) == 0  # still usable


@pytest.mark.parametrize("bad", [-1, 2**63, 1.5, True, "10", None])
def test_pool_reconcile_rejects_bad_amounts(bad: object) -> None:
    p = impl.BudgetPool(100)
    with pytest.raises((impl.InvalidAmount, impl.AmountTypeError)) as info:
        p.reconcile(bad)  # type: ignore[arg-type]
    assert "reconcile" in str(info.value) and "billed_total" in str(info.value)
    assert _fields(p) == (100, 0, 0, 0, 0, 0) and not p.closed


def test_pool_overdraft_closes_the_pool_and_keeps_the_ledger(recorder) -> None:
    p = impl.BudgetPool(1_000)
    res = p.reserve(700)
    p.reserve(100).commit(100)
    rec = recorder(p)
    before = _fields(p)  # live 200, charged 100
    with pytest.raises(impl.Overdraft) as info:
        p.reconcile(450)  # drift 350 > live 200
    e = info.value
    assert isinstance(e, RuntimeError) and isinstance(e, impl.BudgetError)
    assert (e.billed_total, e.total_charged, e.drift, e.live_sum, e.overdraft) == (
        450, 100, 350, 200, 150)
    assert "150 uc cannot be absorbed" in str(e) and "closed" in str(e)
    assert _fields(p) == before and rec.steps == []
    assert p.closed and p.overdraft == 150 and "closed" in repr(p)
    for reserve in (lambda: p.reserve(1), lambda: p.reserve_stream(5),
                    lambda: p.reserve_with_reasoning(1, 1)):
        with pytest.raises(impl.LedgerClosed) as closed:
            reserve()
        assert isinstance(closed.value, impl.InsufficientBudget)
        assert closed.value.available == 0 and closed.value.overdraft == 150
        assert "closed" in str(closed.value)
    assert _fields(p) == before and rec.steps == []  # refusals are stutters
    res.commit(300)  # settling in flight is allowed: it only lowers the risk
    assert rec.check() == impl.Ledger(600, 0, 0, 400, 0, 0)
    with pytest.raises(impl.LedgerClosed):
        p.reserve(1)


def test_a_closed_pool_reconciles_to_overdraft_again_never_changing_the_ledger() -> None:
    p = impl.BudgetPool(1_000)
    p.reserve(10).commit(10)
    res = p.reserve(900)
    with pytest.raises(impl.Overdraft):
        p.reconcile(310)  # drift 300 > live 90: overdraft 210
    res.cancel()  # live back to 990: the drift would fit now, but closed stays closed
    before = _fields(p)
    for billed, drift, over in ((310, 300, 210), (1_510, 1_500, 510), (10, 0, 510)):
        with pytest.raises(impl.Overdraft) as info:
            p.reconcile(billed)
        e = info.value
        assert (e.drift, e.live_sum, e.overdraft) == (drift, 990, over)
        assert "already closed" in str(e)
        assert _fields(p) == before and p.overdraft == over and p.closed
    with pytest.raises(impl.BilledTotalBelowCharged):  # wrong input is reported first
        p.reconcile(9)


def test_ledger_after_replays_a_reconcile_step() -> None:
    led = impl.Ledger(600, 100, 0, 300, 0, 0)
    assert led.after(impl.Step("reconcile", {"d": 600})) == impl.Ledger(0, 100, 0, 900, 0, 0)
    assert repr(impl.Step("reconcile", {"d": 5})) == "reconcile(d=5)"
    with pytest.raises(ValueError, match="guard"):
        led.after(impl.Step("reconcile", {"d": 601}))
    with pytest.raises(ValueError, match="guard"):
        led.after(impl.Step("reconcile", {"d": 0}))
    with pytest.raises(ValueError, match=r"not a SEMANTICS\.md step"):
        led.after(impl.Step("reconcile", {"a": 1}))
    assert impl.TRANSITIONS["reconcile"] == ("d",)


# -- Session ----------------------------------------------------------------------------


def test_session_reconcile_pays_the_drift_from_the_budget(recorder) -> None:
    s = impl.Session(1_000)
    rec = recorder(s)
    b = s.take()
    b = b.spend(200, charged=150)
    rec.take()
    nb = s.reconcile(400, b)  # drift 250
    assert nb.available == 800 - 250
    with pytest.raises(impl.AffineViolation):
        b.available  # noqa: B018 - the paying budget is consumed
    assert rec.take() == [("reconcile", {"d": 250})]
    assert rec.check() == impl.Ledger(550, 0, 0, 400, 50, 0)


def test_session_reconcile_with_no_drift_hands_back_a_fresh_budget(recorder) -> None:
    s = impl.Session(100)
    rec = recorder(s)
    b = s.take()
    nb = s.reconcile(0, b)
    assert nb is not b and nb.available == 100
    with pytest.raises(impl.AffineViolation):
        b.split(1)
    nb = s.reconcile(30, nb)
    again = s.reconcile(30, nb)  # idempotent
    assert again.available == 70
    assert rec.take() == [("reconcile", {"d": 30})]
    assert rec.check() == impl.Ledger(70, 0, 0, 30, 0, 0)


def test_session_reconcile_refused_by_the_handle_is_a_stutter(recorder) -> None:
    s = impl.Session(1_000)
    b, sibling = s.take().split(100)
    rec = recorder(s)
    with pytest.raises(impl.InsufficientBudget) as info:
        s.reconcile(300, b)
    e = info.value
    assert type(e) is impl.InsufficientBudget
    assert (e.operation, e.requested, e.available) == ("reconcile", 300, 100)
    assert "merge" in str(e) and "300 uc" in str(e)
    assert b.available == 100 and rec.steps == [] and not s.closed
    nb = s.reconcile(300, b.merge(sibling))  # the remedy
    assert nb.available == 700
    assert rec.check() == impl.Ledger(700, 0, 0, 300, 0, 0)


def test_session_reconcile_below_charged_and_bad_input_change_nothing(recorder) -> None:
    s = impl.Session(1_000)
    b = s.take().spend(100)
    rec = recorder(s)
    before = _fields(s)
    with pytest.raises(impl.BilledTotalBelowCharged) as info:
        s.reconcile(99, b)
    assert (info.value.billed_total, info.value.total_charged) == (99, 100)
    for bad in (-5, 2**63, 3.0, False):
        with pytest.raises((impl.InvalidAmount, impl.AmountTypeError)):
            s.reconcile(bad, b)  # type: ignore[arg-type]
    with pytest.raises(impl.BudgetTypeError):
        s.reconcile(100, "budget")  # type: ignore[arg-type]
    with pytest.raises(impl.BudgetTypeError, match="not made by a Session"):
        s.reconcile(100, impl.Budget.__new__(impl.Budget))
    other = impl.Session(1_000).take()
    with pytest.raises(impl.SessionMismatch):
        s.reconcile(100, other)
    assert other.available == 1_000 and b.available == 900
    assert _fields(s) == before and rec.steps == []
    spent = b.split(0)[1]
    with pytest.raises(impl.AffineViolation):
        s.reconcile(100, b)  # consumed by the split
    assert s.reconcile(100, spent).available == 900


def test_session_overdraft_closes_every_budget_of_the_session(recorder) -> None:
    s = impl.Session(1_000)
    b = s.take()
    b, rc = b.reserve(600)
    b, other = b.split(100)
    rec = recorder(s)
    before = _fields(s)  # live 400
    with pytest.raises(impl.Overdraft) as info:
        s.reconcile(500, b)
    e = info.value
    assert (e.billed_total, e.total_charged, e.drift, e.live_sum, e.overdraft) == (
        500, 0, 500, 400, 100)
    assert b.available == 100 and other.available == 300  # refused: handles usable
    assert _fields(s) == before and rec.steps == [] and s.closed and s.overdraft == 100
    assert "closed" in repr(s)
    for use in (lambda: b.spend(1), lambda: other.reserve(1),
                lambda: other.reserve_stream(1), lambda: b.reserve_with_reasoning(0, 1),
                lambda: other.spend(1000)):
        with pytest.raises(impl.LedgerClosed):
            use()
    with pytest.raises(impl.InvalidAmount):
        b.spend(2**63)  # bad input is still reported as such
    assert b.available == 100 and other.available == 300 and rec.steps == []
    # settling and moving money between handles still work
    rf = rc.confirm(200)
    m = rf.apply_to(b.merge(other))
    x, y = m.split(50)
    assert x.consume() == 50
    with pytest.raises(impl.Overdraft):
        s.reconcile(700, y)
    assert y.available == 750
    assert rec.names() == ["confirm_with_refund", "refund_to", "consume"]
    assert rec.check() == impl.Ledger(750, 0, 0, 200, 0, 50)


def test_a_refused_reconcile_leaves_the_handle_usable_for_the_next_one() -> None:
    s = impl.Session(100)
    b = s.take()
    b, sib = b.spend(5).split(50)
    with pytest.raises(impl.BilledTotalBelowCharged):
        s.reconcile(4, b)
    with pytest.raises(impl.InsufficientBudget):
        s.reconcile(60, b)
    assert s.reconcile(10, b).available == 45 and sib.available == 45


def test_the_bill_accepted_last_repeated_after_charges_is_a_stutter(recorder) -> None:
    """A retry, or a second task passing the same cumulative bill after a commit
    landed, applies its drift once: 0, not BilledTotalBelowCharged (as SharedPool)."""
    p = impl.BudgetPool(1_000)
    p.reserve(300).commit(100)
    assert p.reconcile(150) == 50
    p.reserve(100).commit(80)                     # total_charged 230 > 150 now
    rec = recorder(p)
    before = _fields(p)
    assert p.reconcile(150) == 0
    assert _fields(p) == before and rec.take() == []
    with pytest.raises(impl.BilledTotalBelowCharged):
        p.reconcile(149)                          # any other lower bill is still wrong
    s = impl.Session(1_000)
    b = s.take()
    b = s.reconcile(40, b)
    b = b.spend(10)
    b = s.reconcile(40, b)                        # charged 50 > 40: the same bill again
    assert b.available == 950 and s.ledger().total_charged == 50
    with pytest.raises(impl.BilledTotalBelowCharged):
        s.reconcile(39, b)
    assert b.available == 950
