"""The built-in price table: dated, overridable, never a silent zero."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

import impl
from impl.integrations import PRICES_AS_OF, TABLE, MissingPrice, price_of


def test_table_is_dated_and_covers_both_providers() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", PRICES_AS_OF)
    assert any(m.startswith("gpt-") for m in TABLE)
    assert any(m.startswith("claude-") for m in TABLE)
    for row in TABLE.values():
        assert Decimal(row.output) > Decimal(row.input) > Decimal(row.cache_read) > 0
        assert row.rates.cache_write_1h_usd_per_mtok >= row.rates.input_usd_per_mtok


@pytest.mark.parametrize("name", ["gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929",
                                  "claude-sonnet-4-0", "claude-3-5-haiku-latest"])
def test_dated_and_alias_names_find_their_row(name: str) -> None:
    assert price_of(name, {}).output_usd_per_mtok > 0


def test_missing_price_names_the_model_and_the_remedy() -> None:
    with pytest.raises(MissingPrice, match="'gpt-99'") as info:
        price_of("gpt-99", {})
    assert "prices=" in str(info.value) and PRICES_AS_OF in str(info.value)
    assert isinstance(info.value, LookupError) and isinstance(info.value, impl.BudgetError)
    with pytest.raises(MissingPrice, match="no model"):
        price_of(None, {})


def test_user_prices_win_over_the_table() -> None:
    mine = impl.Rates("1", "2")
    assert price_of("gpt-4o", {"gpt-4o": mine}) is mine
    assert price_of("gpt-4o-2024-08-06", {"gpt-4o": mine}) is mine


def test_cache_writes_raise_only_the_reservation_input_rate() -> None:
    sonnet = price_of("claude-sonnet-4-5", {})
    assert impl.reservation_from_tokens(1_000, 0, sonnet) == 300
    assert impl.reservation_from_tokens(1_000, 0, sonnet, cache_writes=True) == 600  # 1h: 2x
    assert impl.reservation_from_tokens(0, 1_000, sonnet, cache_writes=True) == 1_500
    gpt = price_of("gpt-4o", {})  # OpenAI writes its cache at the input price
    assert (impl.reservation_from_tokens(1_000, 0, gpt, cache_writes=True)
            == impl.reservation_from_tokens(1_000, 0, gpt) == 250)


def test_table_tiers_price_each_token_class() -> None:
    sonnet = price_of("claude-sonnet-4-5", {})
    usage = {"input_tokens": 1_000, "output_tokens": 100, "cache_read_input_tokens": 10_000,
             "cache_creation_input_tokens": 2_000,
             "cache_creation": {"ephemeral_5m_input_tokens": 1_000,
                                "ephemeral_1h_input_tokens": 1_000}}
    # 1000*3 + 10000*0.30 + 1000*3.75 + 1000*6 + 100*15 USD/Mtok = 17,250 -> 1,725 uc
    assert impl.charge_uc(usage, sonnet) == 1_725
