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
    """The sum over ``bills`` of each answer's cost in uc, rounded up per answer: input
    tokens (with Anthropic's cache writes and reads, at the input price) and output
    tokens at the table's USD/Mtok (1 USD/Mtok = 1/10 uc per token)."""
    total = 0
    for b in bills:
        if prices and b.model in prices:
            rin, rout = (Decimal(x) for x in prices[b.model])
        else:
            row = TABLE[b.model]
            rin, rout = Decimal(row.input), Decimal(row.output)
        tokens_in = b.input_tokens + b.cache_write + b.cache_read
        total += math.ceil(Fraction(tokens_in * rin + b.output_tokens * rout) / 10)
    return total
