"""Pricing: reservations and charges in integer micro-cents (SPEC.md "Cap soundness").

Rates are quoted in USD per million tokens; ``1 USD/Mtok = 0.1 uc per token``
(``1 uc = 1e-5 USD``). :class:`Rates` keeps them exact (Decimal in, rational uc per
token inside: ``in_num/den`` and ``out_num/den`` with int numerators and a common
denominator), so no float rounding can creep in.

Rounding: both the reservation and the charge are the exact rational cost rounded *up*
(:func:`cost_uc_ceil`). The exact cost is monotone in the token counts and ceil is
monotone, so a call whose billed input tokens are within the estimate (A1) and whose
billed output tokens are within ``max_output_tokens`` (A6) is charged at most its
reservation, at the same rates (A8) -- paper Proposition 1. Rounding the charge up also
keeps it at least the exact price, so it never under-reports (A7) because of rounding.

The arithmetic cores (:func:`cost_uc_ceil`, :func:`reservation_from_tokens`,
:func:`charge_from_tokens`) are small pure functions over ints, meant to carry
contracts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from math import lcm

from impl.errors import (
    AMOUNT_LIMIT,
    BudgetTypeError,
    InvalidAmount,
    MissingUsage,
    amount_error,
)
from impl.estimators import ByteLength, Estimator

_TEN = Fraction(10)


def cost_uc_ceil(input_tokens: int, output_tokens: int, in_num: int, out_num: int,
                 den: int) -> int:
    """``ceil((input_tokens * in_num + output_tokens * out_num) / den)``, in ints.

    Preconditions: every argument is an int, the token counts and numerators are
    ``>= 0`` and ``den > 0``. Postconditions: the result is the least integer ``>=`` the
    exact cost, and it is monotone non-decreasing in ``input_tokens`` and in
    ``output_tokens``.
    """
    return -(-(input_tokens * in_num + output_tokens * out_num) // den)


def _tokens(op: str, name: str, n: object) -> int:
    if type(n) is not int or n < 0:
        raise amount_error(op, name, n, minimum=0)
    assert type(n) is int
    return n


@dataclass(frozen=True, slots=True, init=False)
class Rates:
    """Per-token prices of one model, exact. Build with ``Rates(in, out)`` in USD/Mtok.

    Each rate may be an int, Decimal, decimal str (``"2.50"``) or a float read through
    its shortest repr; it must be finite and ``>= 0``. ``in_num / den`` and
    ``out_num / den`` are the exact prices in uc per token.
    """

    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    in_num: int = field(repr=False, compare=False)
    out_num: int = field(repr=False, compare=False)
    den: int = field(repr=False, compare=False)

    def __init__(self, input_usd_per_mtok: object, output_usd_per_mtok: object) -> None:
        di = _rate(input_usd_per_mtok, "input_usd_per_mtok")
        do = _rate(output_usd_per_mtok, "output_usd_per_mtok")
        i = Fraction(di) / _TEN
        o = Fraction(do) / _TEN
        den = lcm(i.denominator, o.denominator)
        object.__setattr__(self, "input_usd_per_mtok", di)
        object.__setattr__(self, "output_usd_per_mtok", do)
        object.__setattr__(self, "in_num", i.numerator * (den // i.denominator))
        object.__setattr__(self, "out_num", o.numerator * (den // o.denominator))
        object.__setattr__(self, "den", den)


def _rate(value: object, name: str) -> Decimal:
    """Read a rate exactly as a finite Decimal ``>= 0`` (float through its repr)."""
    what = f"Rates: {name}"
    if type(value) is bool or not isinstance(value, int | float | str | Decimal):
        raise BudgetTypeError(
            f"{what} must be a decimal number of USD per million tokens (Decimal, "
            f"decimal str, int or float), got {type(value).__name__}")
    try:
        d = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        raise InvalidAmount(f"{what} must be a decimal number, got {value!r}") from None
    if not d.is_finite() or d < 0:
        raise InvalidAmount(
            f"{what} must be a finite number >= 0 USD per million tokens, got {value!r}")
    return d


def reservation_from_tokens(input_tokens: int, output_tokens: int, rates: Rates) -> int:
    """The reservation (int uc) for ``input_tokens`` in and ``output_tokens`` out.

    ``cost_uc_ceil`` at ``rates``: rounded up. Token counts must be ints ``>= 0``.
    """
    return cost_uc_ceil(_tokens("reservation_from_tokens", "input_tokens", input_tokens),
                        _tokens("reservation_from_tokens", "output_tokens", output_tokens),
                        rates.in_num, rates.out_num, rates.den)


def charge_from_tokens(input_tokens: int, output_tokens: int, rates: Rates) -> int:
    """The charge (int uc) of a call billed ``input_tokens`` in and ``output_tokens`` out.

    The same rounding as :func:`reservation_from_tokens` (up), so for the same rates
    ``charge_from_tokens(i, o) <= reservation_from_tokens(I, O)`` whenever ``i <= I`` and
    ``o <= O``.
    """
    return cost_uc_ceil(_tokens("charge_from_tokens", "input_tokens", input_tokens),
                        _tokens("charge_from_tokens", "output_tokens", output_tokens),
                        rates.in_num, rates.out_num, rates.den)


_DEFAULT_ESTIMATOR = ByteLength()


def reservation_uc(prompt: str, max_output_tokens: int, rates: Rates,
                   estimator: Estimator = _DEFAULT_ESTIMATOR, *,
                   reasoning_tokens: int = 0) -> int:
    """The reservation (int uc, rounded up) for one call.

    ``estimator.estimate(prompt)`` input tokens (an upper bound under A1) plus
    ``max_output_tokens`` output tokens (the cap sent to the provider, A6), at
    ``rates``. ``reasoning_tokens`` adds an allowance of hidden reasoning tokens billed
    at the output rate (paper section 6.8): use it when the provider's output cap does
    not bound reasoning tokens (with OpenAI ``max_completion_tokens`` and Anthropic
    ``max_tokens`` it already does: leave it 0). Raises :class:`impl.InvalidAmount` if
    the result is not below 2**63. A zero result (free model) cannot be reserved.
    """
    op = "reservation_uc"
    est = estimator.estimate(prompt)
    if type(est) is not int or est < 0:
        raise amount_error(op, "estimator result", est, minimum=0)
    out = (_tokens(op, "max_output_tokens", max_output_tokens)
           + _tokens(op, "reasoning_tokens", reasoning_tokens))
    r = cost_uc_ceil(est, out, rates.in_num, rates.out_num, rates.den)
    if r >= AMOUNT_LIMIT:
        raise InvalidAmount(f"{op}: the reservation {r} uc is not below 2**63; lower "
                            f"max_output_tokens or split the prompt")
    return r


_INPUT_NAMES = ("prompt_tokens", "input_tokens")
_OUTPUT_NAMES = ("completion_tokens", "output_tokens")
_CACHE_NAMES = ("cache_creation_input_tokens", "cache_read_input_tokens")
_MISSING = object()


def _field(usage: object, name: str) -> object:
    if isinstance(usage, Mapping):
        return usage.get(name, _MISSING)
    return getattr(usage, name, _MISSING)


def usage_tokens(usage: object) -> tuple[int, int]:
    """Read ``(input_tokens, output_tokens)`` from a provider usage report.

    ``usage`` is a mapping or an object with OpenAI names (``prompt_tokens``,
    ``completion_tokens``) or Anthropic / Responses names (``input_tokens``,
    ``output_tokens``). If both names of a side are present, the larger is used.
    Anthropic's ``cache_creation_input_tokens`` and ``cache_read_input_tokens`` (not
    included in its ``input_tokens``) are added to the input when present. A missing
    or ``None`` count raises :class:`impl.MissingUsage`: never a silent zero. Counts
    must be ints ``>= 0``.
    """
    if usage is None:
        raise MissingUsage(
            "charge_uc: usage is None: the provider sent no usage report; it is never "
            "read as zero: confirm the full reservation or forfeit it, and reconcile "
            "against provider billing")
    sides: list[int] = []
    for names, side in ((_INPUT_NAMES, "input"), (_OUTPUT_NAMES, "output")):
        found = [(n, _field(usage, n)) for n in names]
        present = [(n, v) for n, v in found if v is not _MISSING and v is not None]
        if not present:
            hint = ""
            if _field(usage, "usage") is not _MISSING:
                hint = "; it has a 'usage' field: pass response.usage itself"
            raise MissingUsage(
                f"charge_uc: the usage report has no {side} token count (looked for "
                f"{' or '.join(names)} in {type(usage).__name__}){hint}; it is never "
                f"read as zero")
        sides.append(max(_tokens("charge_uc", n, v) for n, v in present))
    for n in _CACHE_NAMES:
        v = _field(usage, n)
        if v is not _MISSING and v is not None:
            sides[0] += _tokens("charge_uc", n, v)
    return sides[0], sides[1]


def charge_uc(usage: object, rates: Rates) -> int:
    """The charge (int uc, rounded up) of a call from its provider usage report.

    Tokens per :func:`usage_tokens`, priced per :func:`charge_from_tokens`. If the
    billed input is within the estimate used for the reservation and the output within
    its ``max_output_tokens`` (+ ``reasoning_tokens``), the result is at most
    :func:`reservation_uc` of that call (same rates). Prompt-cache writes are priced at
    the plain input rate: a provider that bills them at a premium needs rates that
    include it.
    """
    i, o = usage_tokens(usage)
    return cost_uc_ceil(i, o, rates.in_num, rates.out_num, rates.den)
