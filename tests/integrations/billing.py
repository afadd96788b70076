"""What the fake provider billed, priced independently of impl (exact fractions)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction

from fakeprovider import Billed

from impl.integrations.prices import TABLE


def billed_uc(bills: Iterable[Billed], prices: Mapping[str, tuple[str, str]] | None = None
              ) -> int:
    """The sum over ``bills`` of each answer's cost in uc, rounded up per answer, at the
    table's USD/Mtok (1 USD/Mtok = 1/10 uc per token): uncached input at the input price,
    cache reads at the read price, cache writes (5-minute, as the fake reports them) at
    the 5-minute write price, output at the output price. ``prices`` (model -> (input,
    output)) prices a model outside the table with no cache tokens."""
    total = 0
    for b in bills:
        if prices and b.model in prices:
            assert b.cache_read == b.cache_write == 0
            rin, rout = (Decimal(x) for x in prices[b.model])
            cost = b.input_tokens * rin + b.output_tokens * rout
        else:
            row = TABLE[b.model]
            cost = (b.input_tokens * Decimal(row.input) + b.cache_read * Decimal(row.cache_read)
                    + b.cache_write * Decimal(row.cache_write_5m)
                    + b.output_tokens * Decimal(row.output))
        total += math.ceil(Fraction(cost) / 10)
    return total
