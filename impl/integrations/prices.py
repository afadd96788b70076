"""A small, dated price table of current OpenAI and Anthropic models, as :class:`impl.Rates`.

Prices are USD per million tokens of the providers' standard tier, as published on
:data:`PRICES_AS_OF`. Prices change: pass ``prices={"model": impl.Rates(...)}`` to
:func:`impl.integrations.openai.budgeted` / :func:`impl.integrations.anthropic.budgeted`
to override an entry or add a model. A model found neither in ``prices`` nor in the
table raises :class:`MissingPrice` naming it: a call is never priced at zero by default.

Each row also records the cache tiers (cache reads; Anthropic's 5-minute and 1-hour
cache writes), carried by its :class:`impl.Rates`: a call is charged each billed token
class at its tier, and a reservation for a request that may write the cache prices its
input at the dearest tier, so it stays an upper bound of the bill.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from impl.errors import BudgetError, BudgetTypeError
from impl.pricing import Rates

PRICES_AS_OF = "2025-11-30"
"""The date the table's prices were taken from the providers' pricing pages."""


class MissingPrice(BudgetError, LookupError):
    """No price is known for a model; the call was not made and nothing was reserved."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """One row of the table, in USD per million tokens (decimal strings, exact).

    ``cache_read`` is the price of an input token read from the prompt cache;
    ``cache_write_5m`` / ``cache_write_1h`` the price of an input token written to it
    (Anthropic; OpenAI writes the cache at the plain input price).
    """

    input: str
    output: str
    cache_read: str
    cache_write_5m: str
    cache_write_1h: str

    @property
    def rates(self) -> Rates:
        """The row as :class:`impl.Rates`, cache tiers included."""
        return Rates(self.input, self.output, cache_write_5m=self.cache_write_5m,
                     cache_write_1h=self.cache_write_1h, cache_read=self.cache_read)


def _openai(inp: str, cached: str, out: str) -> ModelPrice:
    return ModelPrice(inp, out, cached, inp, inp)


def _anthropic(inp: str, out: str) -> ModelPrice:
    # Anthropic's published multipliers: 5-minute writes 1.25x, 1-hour writes 2x,
    # reads 0.1x the base input price.
    base = Decimal(inp)
    return ModelPrice(inp, out, str(base / 10), str(base * Decimal("1.25")), str(base * 2))


TABLE: Mapping[str, ModelPrice] = {
    # OpenAI: input, cached input, output
    "gpt-5.1": _openai("1.25", "0.125", "10.00"),
    "gpt-5": _openai("1.25", "0.125", "10.00"),
    "gpt-5-mini": _openai("0.25", "0.025", "2.00"),
    "gpt-5-nano": _openai("0.05", "0.005", "0.40"),
    "gpt-4.1": _openai("2.00", "0.50", "8.00"),
    "gpt-4.1-mini": _openai("0.40", "0.10", "1.60"),
    "gpt-4.1-nano": _openai("0.10", "0.025", "0.40"),
    "gpt-4o": _openai("2.50", "1.25", "10.00"),
    "gpt-4o-mini": _openai("0.15", "0.075", "0.60"),
    "o3": _openai("2.00", "0.50", "8.00"),
    "o4-mini": _openai("1.10", "0.275", "4.40"),
    # Anthropic: input, output (cache tiers from the published multipliers)
    "claude-opus-4-5": _anthropic("5", "25"),
    "claude-opus-4-1": _anthropic("15", "75"),
    "claude-opus-4-0": _anthropic("15", "75"),
    "claude-sonnet-4-5": _anthropic("3", "15"),
    "claude-sonnet-4-0": _anthropic("3", "15"),
    "claude-haiku-4-5": _anthropic("1", "5"),
    "claude-3-5-haiku": _anthropic("0.80", "4"),
}
"""Built-in prices, keyed by model name without a date suffix."""

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")
_ALIASES = {"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"}


def _key(model: str) -> str:
    base = _DATE_SUFFIX.sub("", model)
    if base.endswith("-latest"):
        base = base[: -len("-latest")]
    return _ALIASES.get(base, base)


def check_prices(prices: Mapping[str, Rates] | None) -> Mapping[str, Rates]:
    """Validate a user ``prices`` mapping (model name -> :class:`impl.Rates`)."""
    if prices is None:
        return {}
    if not isinstance(prices, Mapping):
        raise BudgetTypeError(
            f"budgeted: prices must be a mapping from model name to impl.Rates, got "
            f"{type(prices).__name__}; e.g. prices={{'my-model': impl.Rates('1.00', '4.00')}}")
    for name, rates in prices.items():
        if type(name) is not str or not isinstance(rates, Rates):
            raise BudgetTypeError(
                f"budgeted: prices[{name!r}] must map a str model name to impl.Rates, got "
                f"{type(rates).__name__}; e.g. impl.Rates('1.00', '4.00') (USD/Mtok)")
    return dict(prices)


def price_of(model: object, prices: Mapping[str, Rates]) -> Rates:
    """The prices of ``model``: the user's ``prices`` first (exact name, then without a
    date suffix), then :data:`TABLE`. Raises :class:`MissingPrice` naming the model."""
    if type(model) is not str or not model:
        raise MissingPrice(
            f"budgeted call refused: the request names no model (model={model!r}); pass "
            f"model='...' as a str")
    key = _key(model)
    for name in (model, key):
        user = prices.get(name)
        if user is not None:
            return user
    cached = _RATES.get(key)
    if cached is not None:
        return cached
    row = TABLE.get(key)
    if row is None:
        raise MissingPrice(
            f"budgeted call refused: no price for model {model!r} (the built-in table of "
            f"{PRICES_AS_OF} has {', '.join(sorted(TABLE))}); pass "
            f"prices={{{model!r}: impl.Rates(input_usd_per_mtok, output_usd_per_mtok)}}")
    rates = _RATES[key] = row.rates  # a racing duplicate is equal
    return rates


_RATES: dict[str, Rates] = {}
"""Table rows already converted to Rates (building Rates costs more than a whole plan)."""
