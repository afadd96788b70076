"""Pricing: reservations and charges in integer micro-cents (SEMANTICS.md "Cap soundness").

Rates are quoted in USD per million tokens; ``1 USD/Mtok = 0.1 uc per token``
(``1 uc = 1e-5 USD``). :class:`Rates` keeps them exact (read by :mod:`impl._exact`,
bounded), as rational uc per token over one common denominator ``den``: ``in_num``,
``out_num`` and the cache tiers ``write_5m_num``, ``write_1h_num``, ``read_num``.

Rounding: both the reservation and the charge are the exact rational cost rounded *up*
(:func:`cost_uc_ceil`). The exact cost is monotone in the token counts and ceil is
monotone, so a call whose billed input tokens are within the estimate (A1) and whose
billed output tokens are within ``max_output_tokens`` (A6) is charged at most its
reservation, at the same rates (A8) -- paper Proposition 1. With cache tiers the
reservation prices every estimated input token at the dearest input-side rate the call
may be billed (cache reads, and cache writes when ``cache_writes=True``), so the
proposition holds however the provider splits the input among the tiers
(:mod:`proofs.proposition1` proves it for all counts and rates). Rounding the charge up
also keeps it at least the exact price, so it never under-reports (A7) because of
rounding.

The arithmetic cores (:func:`cost_uc_ceil`, :func:`reservation_from_tokens`,
:func:`charge_from_tokens`) are small pure functions over ints, meant to carry
contracts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import lcm

from impl._exact import bounded_decimal
from impl.errors import AMOUNT_LIMIT, BudgetTypeError, InvalidAmount
from impl.estimators import ByteLength, Estimator
from impl.usage import BilledTokens, billed_tokens, count_error, token_count

_TEN = Fraction(10)


def _nonneg(op: str, name: str, value: object) -> int:
    """``value`` if it is an int ``>= 0`` (no upper bound: rate numerators may be large)."""
    if type(value) is not int or value < 0:
        raise count_error(op, name, value)
    return value


def cost_uc_ceil(input_tokens: int, output_tokens: int, in_num: int, out_num: int,
                 den: int) -> int:
    """``ceil((input_tokens * in_num + output_tokens * out_num) / den)``, in ints.

    Every argument must be an int (bool refused: :class:`impl.AmountTypeError`); the
    token counts in ``[0, 2**63)``, the numerators ``>= 0`` and ``den > 0`` (else
    :class:`impl.InvalidAmount`). The result is the least integer ``>=`` the exact
    cost, and it is monotone non-decreasing in ``input_tokens`` and ``output_tokens``.
    """
    op = "cost_uc_ceil"
    i = token_count(op, "input_tokens", input_tokens)
    o = token_count(op, "output_tokens", output_tokens)
    a = _nonneg(op, "in_num", in_num)
    b = _nonneg(op, "out_num", out_num)
    d = _nonneg(op, "den", den)
    if d == 0:
        raise InvalidAmount(f"{op}: den must be > 0, got 0 (a rate's denominator)")
    return _ceil_div(i * a + o * b, d)


@dataclass(frozen=True, slots=True, init=False)
class Rates:
    """Per-token prices of one model, exact, in USD per million tokens.

    ``Rates(input, output)``; the cache tiers are keywords: ``cache_write_5m`` (a
    5-minute prompt-cache write), ``cache_write_1h`` (a 1-hour write) and ``cache_read``
    (a cached input token). Each rate may be an int, Decimal, decimal str (``"2.50"``)
    or a float read through its shortest repr; finite, ``>= 0``, below ``10**9`` with
    at most 40 decimals (:mod:`impl._exact`: no real price is refused, an absurd one
    is refused in microseconds).

    A tier left out is priced conservatively, never below what OpenAI, Anthropic or
    Gemini bill for it: a cache write at 2x the input rate (Anthropic bills 1.25x for 5
    minutes, 2x for 1 hour), a 1-hour write at no less than a 5-minute one, a cache
    read at the input rate (every provider discounts reads). Give the provider's tier
    prices to be charged exactly what it bills, e.g. Anthropic at 3/15 USD/Mtok:
    ``Rates(3, 15, cache_write_5m="3.75", cache_write_1h=6, cache_read="0.30")``.

    ``in_num / den``, ``out_num / den``, ``write_5m_num / den``, ``write_1h_num / den``
    and ``read_num / den`` are the exact prices in uc per token. Hidden reasoning is
    output (every provider bills it at the output rate).
    """

    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    cache_write_5m_usd_per_mtok: Decimal
    cache_write_1h_usd_per_mtok: Decimal
    cache_read_usd_per_mtok: Decimal
    in_num: int = field(repr=False, compare=False)
    out_num: int = field(repr=False, compare=False)
    write_5m_num: int = field(repr=False, compare=False)
    write_1h_num: int = field(repr=False, compare=False)
    read_num: int = field(repr=False, compare=False)
    den: int = field(repr=False, compare=False)

    def __init__(self, input_usd_per_mtok: object, output_usd_per_mtok: object, *,
                 cache_write_5m: object = None, cache_write_1h: object = None,
                 cache_read: object = None) -> None:
        di = _rate(input_usd_per_mtok, "input_usd_per_mtok")
        do = _rate(output_usd_per_mtok, "output_usd_per_mtok")
        w5 = 2 * di if cache_write_5m is None else _rate(cache_write_5m, "cache_write_5m")
        w1h = (max(2 * di, w5) if cache_write_1h is None
               else _rate(cache_write_1h, "cache_write_1h"))
        rd = di if cache_read is None else _rate(cache_read, "cache_read")
        decimals = (di, do, w5, w1h, rd)
        per_token = [Fraction(d) / _TEN for d in decimals]
        den = lcm(*(f.denominator for f in per_token))
        nums = [f.numerator * (den // f.denominator) for f in per_token]
        names = ("input_usd_per_mtok", "output_usd_per_mtok", "cache_write_5m_usd_per_mtok",
                 "cache_write_1h_usd_per_mtok", "cache_read_usd_per_mtok", "in_num",
                 "out_num", "write_5m_num", "write_1h_num", "read_num", "den")
        for name, value in zip(names, (*decimals, *nums, den), strict=True):
            object.__setattr__(self, name, value)

    @property
    def write_num(self) -> int:
        """Numerator of a cache write whose duration is not reported: the dearer tier."""
        return max(self.write_5m_num, self.write_1h_num)

    def reservation_input_num(self, cache_writes: bool = False) -> int:
        """Numerator of the rate a reservation prices each estimated input token at.

        The dearest rate an input token may be billed at: input or cache read, and the
        cache-write tiers too when the call may write a prompt cache.
        """
        n = max(self.in_num, self.read_num)
        return max(n, self.write_5m_num, self.write_1h_num) if cache_writes else n


def _rate(value: object, name: str) -> Decimal:
    """Read a rate exactly as a bounded finite Decimal ``>= 0`` (float through its repr)."""
    what = f"Rates: {name} (USD per million tokens)"
    d = bounded_decimal(value, what, InvalidAmount)
    if d < 0:
        raise InvalidAmount(f"{what} must be >= 0, got {value!r}")
    return d


def _rates(op: str, rates: object) -> Rates:
    if not isinstance(rates, Rates):
        raise BudgetTypeError(
            f"{op}: rates must be an impl.Rates, got {type(rates).__name__}; e.g. "
            f"impl.Rates('2.50', '10.00') (USD per million tokens in, out)")
    return rates


def _flag(op: str, name: str, value: object) -> bool:
    if type(value) is not bool:
        raise BudgetTypeError(f"{op}: {name} must be a bool, got {type(value).__name__}")
    return value


def _ceil_div(x: int, den: int) -> int:
    """``ceil(x / den)`` for ``x >= 0``, ``den > 0``: the one rounding of every price."""
    return -(-x // den)


def reservation_from_tokens(input_tokens: int, output_tokens: int, rates: Rates, *,
                            cache_writes: bool = False) -> int:
    """The reservation (int uc) for ``input_tokens`` in and ``output_tokens`` out.

    Input tokens at :meth:`Rates.reservation_input_num` (the plain input rate unless a
    cache tier is dearer), output at the output rate, rounded up. ``cache_writes``:
    the call may write a prompt cache (Anthropic ``cache_control``): the input is then
    reserved at the dearest write tier. Token counts must be ints in ``[0, 2**63)``.
    """
    op = "reservation_from_tokens"
    r = _rates(op, rates)
    in_num = r.reservation_input_num(_flag(op, "cache_writes", cache_writes))
    return cost_uc_ceil(token_count(op, "input_tokens", input_tokens),
                        token_count(op, "output_tokens", output_tokens),
                        in_num, r.out_num, r.den)


def charge_from_tokens(input_tokens: int, output_tokens: int, rates: Rates) -> int:
    """The charge (int uc) of a call billed ``input_tokens`` uncached in and
    ``output_tokens`` out, at the plain input and output rates, rounded up.

    For the same rates ``charge_from_tokens(i, o) <= reservation_from_tokens(I, O)``
    whenever ``i <= I`` and ``o <= O``.
    """
    op = "charge_from_tokens"
    r = _rates(op, rates)
    return cost_uc_ceil(token_count(op, "input_tokens", input_tokens),
                        token_count(op, "output_tokens", output_tokens),
                        r.in_num, r.out_num, r.den)


_DEFAULT_ESTIMATOR = ByteLength()


def reservation_uc(prompt: str, max_output_tokens: int, rates: Rates,
                   estimator: Estimator = _DEFAULT_ESTIMATOR, *,
                   reasoning_tokens: int = 0, cache_writes: bool = False) -> int:
    """The reservation (int uc, rounded up) for one call.

    ``estimator.estimate(prompt)`` input tokens (an upper bound under A1) plus
    ``max_output_tokens`` output tokens (the cap sent to the provider, A6), per
    :func:`reservation_from_tokens` (``cache_writes`` as there: pass ``True`` when the
    request asks the provider to write a prompt cache). ``reasoning_tokens`` adds an
    allowance of hidden reasoning tokens billed at the output rate (paper section
    6.8): use it when the provider's output cap does not bound reasoning tokens (with
    OpenAI ``max_completion_tokens`` and Anthropic ``max_tokens`` it already does:
    leave it 0). Raises :class:`impl.BudgetTypeError` for rates or an estimator of the
    wrong type, :class:`impl.AmountTypeError` / :class:`impl.InvalidAmount` for bad
    counts or an estimate that is not an int ``>= 0``, and :class:`impl.InvalidAmount`
    if the result is not below 2**63. A zero result (free model) cannot be reserved.
    """
    op = "reservation_uc"
    r = _rates(op, rates)
    estimate = getattr(estimator, "estimate", None)
    if not callable(estimate):
        raise BudgetTypeError(
            f"{op}: estimator must have an estimate(text) method, got "
            f"{type(estimator).__name__}; e.g. impl.ByteLength()")
    in_num = r.reservation_input_num(_flag(op, "cache_writes", cache_writes))
    est = token_count(op, "estimator result", estimate(prompt))
    out = (token_count(op, "max_output_tokens", max_output_tokens)
           + token_count(op, "reasoning_tokens", reasoning_tokens))
    c = _ceil_div(est * in_num + out * r.out_num, r.den)
    if c >= AMOUNT_LIMIT:
        raise InvalidAmount(f"{op}: the reservation ({c.bit_length()} bits of uc) is not "
                            f"below 2**63; lower max_output_tokens or split the prompt")
    return c


def usage_tokens(usage: object) -> tuple[int, int]:
    """Read ``(input_tokens, output_tokens)`` from a provider usage report.

    The totals of :func:`impl.billed_tokens` (every shape of :mod:`impl.usage`): all
    input-side tokens (uncached, cache reads and writes, each counted once) and all
    output tokens (hidden reasoning included). A missing or ``None`` count raises
    :class:`impl.MissingUsage`: never a silent zero.
    """
    t = billed_tokens(usage)
    return t.input_total, t.output


def charge_uc(usage: object, rates: Rates) -> int:
    """The charge (int uc, rounded up) of a call from its provider usage report.

    ``usage`` is the report as the provider or SDK returns it (``response.usage``,
    Gemini's ``usageMetadata``; a dict, an object or an SDK model) or a
    :class:`impl.BilledTokens`; read by :func:`impl.billed_tokens`, each token counted
    once. Each class is priced at its rate: uncached input at the input rate, cache
    reads at the read rate, 5-minute / 1-hour cache writes at their tiers, writes of
    unreported duration at the dearer write tier, output (hidden reasoning included) at
    the output rate; tiers the rates leave out are priced as :class:`Rates` says (writes
    2x input, reads at input), so the charge is never below what the provider bills
    when the rates given are its prices.

    If the input-side tokens are within the estimate of the reservation and the output
    within its ``max_output_tokens`` (+ ``reasoning_tokens``), the result is at most
    :func:`reservation_uc` of that call (same rates; ``cache_writes=True`` there if the
    call may write a cache). Raises :class:`impl.MissingUsage` for a report without
    the counts, :class:`impl.BudgetTypeError` for rates or a report of the wrong type,
    :class:`impl.AmountTypeError` / :class:`impl.InvalidAmount` for a bad count (a
    charge of 2**63 uc or more is refused by ``confirm``).
    """
    op = "charge_uc"
    r = _rates(op, rates)
    t = billed_tokens(usage)
    x = (t.input * r.in_num + t.cache_read * r.read_num + t.cache_write_5m * r.write_5m_num
         + t.cache_write_1h * r.write_1h_num + t.cache_write * r.write_num
         + t.output * r.out_num)
    return _ceil_div(x, r.den)


__all__ = [
    "BilledTokens",
    "Rates",
    "billed_tokens",
    "charge_from_tokens",
    "charge_uc",
    "cost_uc_ceil",
    "reservation_from_tokens",
    "reservation_uc",
    "usage_tokens",
]
