"""Budgeted LLM calls: wrappers for the official SDKs and helpers for any client.

- :func:`impl.integrations.openai.budgeted`, :func:`impl.integrations.anthropic.budgeted`:
  wrap an SDK client (sync or async) so every call reserves before it leaves and
  settles from the provider's usage (the SDKs are imported only by those modules).
- :func:`reserve_call` (context manager) and :func:`budgeted_call` (decorator): the
  same settlement and failure policy for any other client.
- :func:`classify_failure`: the default failure policy (cancel or forfeit).
- :data:`~impl.integrations.prices.TABLE`: the dated built-in price table.
"""

from impl.integrations._sdk import MissingOutputLimit, UnboundedInput, Unbudgeted
from impl.integrations.core import (
    BudgetedCall,
    BudgetWarning,
    PoolLike,
    ReservationLike,
    budgeted_call,
    reserve_call,
)
from impl.integrations.policy import FailurePolicy, Outcome, classify_failure
from impl.integrations.prices import PRICES_AS_OF, TABLE, MissingPrice, ModelPrice, price_of

__all__ = [
    "PRICES_AS_OF",
    "TABLE",
    "BudgetWarning",
    "BudgetedCall",
    "FailurePolicy",
    "MissingOutputLimit",
    "MissingPrice",
    "ModelPrice",
    "Outcome",
    "PoolLike",
    "ReservationLike",
    "UnboundedInput",
    "Unbudgeted",
    "budgeted_call",
    "classify_failure",
    "price_of",
    "reserve_call",
]
