"""The built-in price table: dated, overridable, never a silent zero."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

import impl
from impl.integrations import PRICES_AS_OF, TABLE, MissingPrice, price_of
from impl.integrations.prices import reservation_rates


def test_table_is_dated_and_covers_both_providers() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", PRICES_AS_OF)
    assert any(m.startswith("gpt-") for m in TABLE)
    assert any(m.startswith("claude-") for m in TABLE)
    for row in TABLE.values():
        assert Decimal(row.output) > Decimal(row.input) > Decimal(row.cache_read) > 0
        assert row.max_input >= Decimal(row.input)


@pytest.mark.parametrize("name", ["gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929",
                                  "claude-sonnet-4-0", "claude-3-5-haiku-latest"])
def test_dated_and_alias_names_find_their_row(name: str) -> None:
    assert price_of(name, {}).rates.output_usd_per_mtok > 0


def test_missing_price_names_the_model_and_the_remedy() -> None:
    with pytest.raises(MissingPrice, match="'gpt-99'") as info:
        price_of("gpt-99", {})
    assert "prices=" in str(info.value) and PRICES_AS_OF in str(info.value)
    assert isinstance(info.value, LookupError) and isinstance(info.value, impl.BudgetError)
    with pytest.raises(MissingPrice, match="no model"):
        price_of(None, {})


def test_user_prices_win_over_the_table() -> None:
    mine = impl.Rates("1", "2")
    assert price_of("gpt-4o", {"gpt-4o": mine}).rates is mine
    assert price_of("gpt-4o-2024-08-06", {"gpt-4o": mine}).rates is mine


def test_cache_writes_raise_only_the_reservation_input_rate() -> None:
    p = price_of("claude-sonnet-4-5", {})
    assert reservation_rates(p, False) == p.rates
    hi = reservation_rates(p, True)
    assert hi.input_usd_per_mtok == Decimal("6") and hi.output_usd_per_mtok == Decimal("15")
    o = price_of("gpt-4o", {})
    assert reservation_rates(o, True) == o.rates
