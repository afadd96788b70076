"""Rules that pass invalid amounts: each raises the matching error, nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)
from lockstep_oracle import (
    LIMIT,
    note,
)
from lockstep_values import (
    BUDGET,
    OPEN,
    RECEIPT,
    RESERVATION,
    VALUE_ERROR,
    Held,
    _bad_value,
    _categories,
    _error_for,
    budgets,
    expect_error,
    has,
    open_values,
)

import impl


class InvalidRules:
    """Rules that pass invalid amounts: each raises the matching error, nothing changes."""

    # -- invalid amounts -------------------------------------------------------------

    def invalid(self, data: st.DataObject, name: str, call: Callable[[Any], object],
                touched: tuple[Held, ...], *, minimum: int, upper: int | None = None,
                none_ok: bool = False) -> None:
        """Pass a bad value of a drawn category as parameter ``name``: the matching
        error (naming the parameter) and no change at all. For a charge, half of the
        draws are ``c > r`` (the one a sound estimate must never produce)."""
        categories = _categories(minimum, upper, none_ok)
        if "charge_above_r" in categories and data.draw(st.booleans(), label="c > r"):
            category = "charge_above_r"
        else:
            category = data.draw(st.sampled_from(categories), label="category")
        value = data.draw(_bad_value(category, upper), label=name)
        with self.unchanged(*touched):
            err = expect_error(_error_for(category), lambda: call(value),
                               f"{name}={value!r} ({category})")
        if category != "charge_above_r":
            assert not isinstance(err, impl.ChargeExceedsReservation)
        assert name in str(err), f"the error does not name {name!r}: {err}"
        note(f"invalid:{category}")

    def invalid_sum(self, data: st.DataObject, call: Callable[[int, int], object],
                    touched: tuple[Held, ...]) -> None:
        """``visible + reasoning`` that is 0, or not below 2**63 (each part valid)."""
        if data.draw(st.booleans(), label="zero sum"):
            v, w, category = 0, 0, "zero"
        else:
            v = data.draw(st.integers(1, LIMIT - 1), label="visible")
            w = data.draw(st.integers(LIMIT - v, LIMIT - 1), label="reasoning")
            category = "at_least_2**63"
        with self.unchanged(*touched):
            err = expect_error(VALUE_ERROR, lambda: call(v, w), f"reasoning sum {v}+{w}")
        assert "visible + reasoning" in str(err)
        note(f"invalid:{category}")

    @precondition(has(BUDGET))
    @rule(b=budgets, data=st.data())
    def invalid_budget_amount(self, b: Held, data: st.DataObject) -> None:
        """Bad amounts to a budget's calls: AmountTypeError/InvalidAmount/
        ChargeExceedsReservation (a bad ``failed`` flag: BudgetTypeError); the budget
        stays usable and nothing changes. Parameters are checked before availability,
        so ``r`` may exceed the budget."""
        v = b.value
        r = data.draw(st.integers(1, max(1, b.amount)), label="r")
        param = data.draw(st.sampled_from([
            "spend r", "spend charged", "spend failed", "reserve r", "reserve_stream r",
            "reasoning visible", "reasoning reasoning", "reasoning sum", "split a"]),
            label="parameter")
        if param == "spend r":
            self.invalid(data, "r", lambda x: v.spend(x), (b,), minimum=1)
        elif param == "spend charged":
            self.invalid(data, "charged", lambda x: v.spend(r, charged=x), (b,),
                         minimum=0, upper=r, none_ok=True)
        elif param == "spend failed":
            flag = data.draw(st.sampled_from([0, 1, None, "yes", 1.0]), label="failed")
            with self.unchanged(b):
                err = expect_error((impl.BudgetTypeError, TypeError),
                                   lambda: v.spend(r, charged=0, failed=flag), "failed")
            assert "failed" in str(err)
            note("invalid:failed_not_bool")
        elif param == "reserve r":
            self.invalid(data, "r", lambda x: v.reserve(x), (b,), minimum=1)
        elif param == "reserve_stream r":
            self.invalid(data, "r", lambda x: v.reserve_stream(x), (b,), minimum=1)
        elif param == "reasoning visible":
            self.invalid(data, "visible", lambda x: v.reserve_with_reasoning(x, r), (b,),
                         minimum=0)
        elif param == "reasoning reasoning":
            self.invalid(data, "reasoning", lambda x: v.reserve_with_reasoning(r, x),
                         (b,), minimum=0)
        elif param == "reasoning sum":
            self.invalid_sum(data, v.reserve_with_reasoning, (b,))
        else:
            self.invalid(data, "a", lambda x: v.split(x), (b,), minimum=0)

    @precondition(has(*OPEN))
    @rule(t=open_values, data=st.data())
    def invalid_charge(self, t: Held, data: st.DataObject) -> None:
        """Bad charges to ``confirm``/``commit``/``confirm_chunk``; ``c > r`` is
        ChargeExceedsReservation; the receipt, reservation or stream stays open."""
        v = t.value
        call: Callable[[Any], object]
        if t.kind == RECEIPT:
            name, call = "actual", lambda x: v.confirm(x)
        elif t.kind == RESERVATION:
            name, call = "actual", lambda x: v.commit(x)
        else:
            name, call = "c", lambda x: v.confirm_chunk(x)
        self.invalid(data, name, call, (t,), minimum=0, upper=t.amount)

    @precondition(lambda self: self.started)
    @rule(data=st.data())
    def invalid_pool_amount(self, data: st.DataObject) -> None:
        """Bad amounts to the pool's reservations (checked before availability)."""
        pool = self.pool
        param = data.draw(st.sampled_from(
            ["reserve", "reserve_stream", "visible", "reasoning", "sum"]), label="parameter")
        if param == "reserve":
            self.invalid(data, "r", lambda x: pool.reserve(x), (), minimum=1)
        elif param == "reserve_stream":
            self.invalid(data, "r", lambda x: pool.reserve_stream(x), (), minimum=1)
        elif param == "visible":
            self.invalid(data, "visible", lambda x: pool.reserve_with_reasoning(x, 1), (),
                         minimum=0)
        elif param == "reasoning":
            self.invalid(data, "reasoning", lambda x: pool.reserve_with_reasoning(1, x), (),
                         minimum=0)
        else:
            self.invalid_sum(data, pool.reserve_with_reasoning, ())

    @rule(cls=st.sampled_from([impl.Session, impl.BudgetPool]), data=st.data())
    def invalid_cap(self, cls: type[impl.Session | impl.BudgetPool],
                    data: st.DataObject) -> None:
        """A session or pool with a bad cap is refused (and no existing ledger moves)."""
        self.invalid(data, "cap", cls, (), minimum=0)
        note("invalid:cap")

