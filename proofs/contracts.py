"""CrossHair contracts on impl's arithmetic core (issue 4, item 4).

Every public function below is a *contract harness*: a PEP 316 docstring states its
preconditions (``pre:``) and postconditions (``post:``; ``__return__`` is the value
returned), and its body calls impl's real code -- :mod:`impl.pricing`,
:mod:`impl.estimators`, :class:`impl.Session` budgets, receipts and refunds,
:class:`impl.BudgetPool` -- so what CrossHair checks is impl, not a restatement of
it. A postcondition states the value the code must produce in mathematical terms
(e.g. ``q`` is the ceiling of ``x / d`` iff ``(q - 1) * d < x <= q * d``): that is
the specification, written without the code's own formula.

Calls go through impl's module objects (``_pricing.reservation_from_tokens``, not a
name imported into this module), so a test that swaps a function of impl for a
seeded buggy copy (``monkeypatch.setattr(impl.pricing, ...)``) is seen by the
in-process CrossHair run of :mod:`proofs.crosshair_check`.

How rates reach the code. impl's :class:`~impl.pricing.Rates` converts USD per
million tokens to exact uc-per-token fractions ``in_num/den``, ``out_num/den``
through Decimal and Fraction. CrossHair runs symbolic values through its own slow
pure-Python Decimal or makes them concrete, one per execution path, and cannot exhaust
those paths. So the contracts come in three kinds:

- *symbolic rates*: the pricing functions receive a ``Rates`` whose per-token
  numerators (input, output, the cache tiers) and denominator are symbolic ints
  (:func:`_sym_rates` sets them without the Decimal parsing): CrossHair can confirm
  these over all paths, i.e. for every token count and every rate within the bounds;
- *price points*: real ``Rates`` objects that impl builds at import (outside
  CrossHair) from :data:`PRICE_POINTS`, a fixed table of rate pairs written in every
  input form ``Rates`` accepts, indexed by a symbolic ``k``: confirmed over every
  table entry and every token count (for the table's entries the unit conversion
  itself is thus checked like a table test);
- *searched*: arbitrary rates or margins pushed through ``Rates``/``WithMargin``
  themselves, and symbolic strings: CrossHair explores concrete values until its
  time limit; "no counterexample found" there is evidence, not a proof.

Bounds: token counts below ``10**7``, rate numerators and denominators below
``10**12``, ledger amounts below ``2**63`` (assumption A2, the library's own limit).
:data:`CONTRACTS` lists every harness in the order it is checked. The mathematical
statement of paper Proposition 1 for *all* token counts and rates (unbounded) is
proved with Z3 in :mod:`proofs.proposition1`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from impl import errors as _errors
from impl import estimators as _estimators
from impl import pool as _pool
from impl import pricing as _pricing
from impl import session as _session
from impl import usage as _usage

UC_SCALE = 10**7
"""``m`` micro-USD per million tokens is ``m / UC_SCALE`` uc per token.

``1 USD/Mtok = 10**-6 USD/token = 0.1 uc/token`` (``1 uc = 10**-5 USD``, SEMANTICS.md),
so ``1`` micro-USD/Mtok is ``10**-7`` uc per token."""

PRICE_POINTS: tuple[tuple[object, object, int, int], ...] = (
    # (input rate, output rate as given to Rates, the same two in micro-USD/Mtok)
    (0, 0, 0, 0),
    ("0", "0.000001", 0, 1),
    ("0.0375", "0.15", 37_500, 150_000),
    (Decimal("0.15"), Decimal("0.60"), 150_000, 600_000),
    (Decimal("2.50"), Decimal("10.00"), 2_500_000, 10_000_000),
    (3, 15, 3_000_000, 15_000_000),
    (1.1, 4.4, 1_100_000, 4_400_000),
    (0.3, 2.5, 300_000, 2_500_000),
    ("0.000001", "999.999999", 1, 999_999_999),
    ("123.456789", "0.000007", 123_456_789, 7),
)
"""Rate pairs checked with real :class:`~impl.pricing.Rates` objects.

Each entry is ``(input, output, input_micro, output_micro)``: the two rates in the
form handed to ``Rates`` (int, decimal str, Decimal, float read through its shortest
repr), then the same rates written by hand in micro-USD per million tokens, the
independent oracle of the unit conversion. The entries are chosen to cover zero,
the smallest six-decimal rate, rates whose uc-per-token value is not a whole number
(so rounding matters), typical published price levels and a large output rate; they
are test points, not a price list."""

PRICE_RATES: tuple[_pricing.Rates, ...] = tuple(
    _pricing.Rates(i, o) for i, o, _mi, _mo in PRICE_POINTS)
"""``Rates`` of each :data:`PRICE_POINTS` entry, built once, concretely, at import."""

MARGINS: tuple[tuple[object, Fraction], ...] = (
    # (margin as given to WithMargin, its exact value written by hand)
    (1, Fraction(1)),
    (2, Fraction(2)),
    ("1.5", Fraction(3, 2)),
    (Decimal("1.88"), Fraction(47, 25)),
    (2.5, Fraction(5, 2)),
    (1.1, Fraction(11, 10)),
    (Fraction(7, 3), Fraction(7, 3)),
    ("1.000001", Fraction(1_000_001, 1_000_000)),
    (Fraction(10**4 + 1, 10**4), Fraction(10**4 + 1, 10**4)),
)
"""Margins checked with real :class:`~impl.estimators.WithMargin` objects: ints, a
decimal str, a Decimal, floats (read through their shortest repr: ``1.1`` is
``11/10``, not the binary double), Fractions, and margins just above 1 where a wrong
rounding direction shows at once; each with its exact value written by hand."""

MARGIN_ESTIMATORS: tuple[_estimators.WithMargin, ...] = tuple(
    _estimators.WithMargin(_estimators.ByteLength(), m) for m, _exact in MARGINS)
"""``WithMargin`` of each :data:`MARGINS` entry as given, built once at import."""


_RATE_FIELDS = ("in_num", "out_num", "write_5m_num", "write_1h_num", "read_num", "den")


def _sym_rates(in_num: int, out_num: int, den: int, write_5m_num: int | None = None,
               write_1h_num: int | None = None, read_num: int | None = None
               ) -> _pricing.Rates:
    """An :class:`impl.pricing.Rates` holding the given (symbolic) per-token numerators
    over ``den``, built without its Decimal parsing so CrossHair can keep them symbolic.

    A tier left out takes the default ``Rates`` gives it (writes at twice the input,
    reads at the input); ``Rates`` itself guarantees ``den > 0`` and numerators
    ``>= 0``: checked on the real constructor by :func:`rates_price_points` and
    :func:`rates_any_micro`. The Decimal fields are not set: the pricing functions
    read only the numerators."""
    w5 = 2 * in_num if write_5m_num is None else write_5m_num
    w1h = max(2 * in_num, w5) if write_1h_num is None else write_1h_num
    rd = in_num if read_num is None else read_num
    r = object.__new__(_pricing.Rates)
    for name, value in zip(_RATE_FIELDS, (in_num, out_num, w5, w1h, rd, den), strict=True):
        object.__setattr__(r, name, value)
    return r


def _micro_rates(in_micro: int, out_micro: int) -> _pricing.Rates:
    """impl's ``Rates`` for rates quoted in micro-USD per million tokens."""
    return _pricing.Rates(Decimal(in_micro).scaleb(-6), Decimal(out_micro).scaleb(-6))


def _is_ceil(q: int, x: int, d: int) -> bool:
    """``q == ceil(x / d)`` for ``d > 0``, stated without division: ``(q-1)*d < x <= q*d``."""
    return (q - 1) * d < x <= q * d


def _tiered(fresh: int, write_5m: int, write_1h: int, write: int, read: int, out: int,
            in_num: int, out_num: int, w5_num: int, w1h_num: int, read_num: int) -> int:
    """The exact tiered cost times ``den``: each class at its tier, a write of unreported
    duration at the dearer write tier (the specification of ``charge_uc``)."""
    return (fresh * in_num + write_5m * w5_num + write_1h * w1h_num
            + write * max(w5_num, w1h_num) + read * read_num + out * out_num)


def _same_ratios(got: tuple[int, int, int], want: tuple[int, int, int]) -> bool:
    """``got = (a, b, d)`` and ``want = (x, y, e)`` give ``a/d == x/e`` and ``b/d == y/e``,
    with ``d > 0`` and ``a, b >= 0``: two rates over a common positive denominator."""
    a, b, d = got
    x, y, e = want
    return d > 0 and a >= 0 and b >= 0 and a * e == x * d and b * e == y * d


class _Fixed:
    """A stand-in base estimator whose estimate is a given int (for WithMargin)."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def estimate(self, text: str) -> int:
        """Return the fixed estimate, whatever the text."""
        return self.n


# ------------------------------------------------------------------ pricing: rounding


def cost_ceil_exact(i: int, o: int, in_num: int, out_num: int, den: int) -> int:
    """``cost_uc_ceil`` is exactly the ceiling of the rational cost (symbolic rates).

    The result is the least integer ``>=`` ``(i*in_num + o*out_num) / den``: never
    below the exact cost (neither a reservation nor a charge is rounded below the
    price) and less than one uc above it.

    pre: 0 <= i < 10**7 and 0 <= o < 10**7
    pre: 0 <= in_num < 10**12 and 0 <= out_num < 10**12 and 0 < den < 10**12
    post: _is_ceil(__return__, i * in_num + o * out_num, den)
    """
    return _pricing.cost_uc_ceil(i, o, in_num, out_num, den)


def cost_ceil_monotone(ei: int, mo: int, bi: int, bo: int,
                       in_num: int, out_num: int, den: int) -> bool:
    """The rounding core is monotone: fewer tokens never cost more (symbolic rates).

    ``cost_uc_ceil(bi, bo) <= cost_uc_ceil(ei, mo)`` at the same rates whenever
    ``bi <= ei`` and ``bo <= mo``.

    pre: 0 <= bi <= ei < 10**7
    pre: 0 <= bo <= mo < 10**7
    pre: 0 <= in_num < 10**12 and 0 <= out_num < 10**12 and 0 < den < 10**12
    post: __return__
    """
    charge = _pricing.cost_uc_ceil(bi, bo, in_num, out_num, den)
    reservation = _pricing.cost_uc_ceil(ei, mo, in_num, out_num, den)
    return charge <= reservation


# ------------------------------------------------- pricing: the formulas impl exposes


def reservation_rounds_up(i: int, o: int, in_num: int, out_num: int, den: int) -> int:
    """``reservation_from_tokens`` is the exact cost rounded *up* (symbolic rates).

    Reservations must round up (SEMANTICS.md): the result is the least integer ``>=``
    ``(i*in_num + o*out_num) / den``.

    pre: 0 <= i < 10**7 and 0 <= o < 10**7
    pre: 0 <= in_num < 10**12 and 0 <= out_num < 10**12 and 0 < den < 10**12
    post: _is_ceil(__return__, i * in_num + o * out_num, den)
    """
    return _pricing.reservation_from_tokens(i, o, _sym_rates(in_num, out_num, den))


def charge_rounds_up(i: int, o: int, in_num: int, out_num: int, den: int) -> int:
    """``charge_from_tokens`` is the exact price rounded up (symbolic rates).

    Never below the exact price (rounding never under-reports a charge, A7) and
    less than one uc above it.

    pre: 0 <= i < 10**7 and 0 <= o < 10**7
    pre: 0 <= in_num < 10**12 and 0 <= out_num < 10**12 and 0 < den < 10**12
    post: _is_ceil(__return__, i * in_num + o * out_num, den)
    """
    return _pricing.charge_from_tokens(i, o, _sym_rates(in_num, out_num, den))


def proposition1_tokens(est_in: int, max_out: int, billed_in: int, billed_out: int,
                        in_num: int, out_num: int, den: int) -> bool:
    """Paper Proposition 1 on impl's reservation and charge formulas (symbolic rates).

    Under A1 (``billed_in <= est_in``), A6 (``billed_out <= max_out``) and A8 (the
    same rates for both): ``charge_from_tokens(billed) <= reservation_from_tokens(est)``.

    pre: 0 <= billed_in <= est_in < 10**7
    pre: 0 <= billed_out <= max_out < 10**7
    pre: 0 <= in_num < 10**12 and 0 <= out_num < 10**12 and 0 < den < 10**12
    post: __return__
    """
    rates = _sym_rates(in_num, out_num, den)
    charge = _pricing.charge_from_tokens(billed_in, billed_out, rates)
    reservation = _pricing.reservation_from_tokens(est_in, max_out, rates)
    return charge <= reservation


def _billed(fresh: int = 0, read: int = 0, write_5m: int = 0, write_1h: int = 0,
            write: int = 0, out: int = 0) -> _usage.BilledTokens:
    return _usage.BilledTokens(input=fresh, cache_read=read, cache_write_5m=write_5m,
                               cache_write_1h=write_1h, cache_write=write, output=out)


def proposition1_usage(est_in: int, max_out: int, reasoning: int, fresh: int,
                       write_5m: int, write_1h: int, read: int, billed_out: int,
                       in_num: int, out_num: int, w5_num: int, w1h_num: int,
                       read_num: int, den: int) -> bool:
    """Paper Proposition 1 through ``charge_uc`` of a tiered usage report (symbolic rates).

    An Anthropic report bills ``input_tokens`` (uncached), 5-minute and 1-hour cache
    writes and cache reads in, ``output_tokens`` out, each at its own rate. When the
    input-side tokens are within the estimate (A1) and the output within ``max_out +
    reasoning`` (A6 with the reasoning allowance), ``charge_uc(report) <=
    reservation_from_tokens(est_in, max_out + reasoning, cache_writes=True)``: the
    reservation prices the estimate at the dearest input-side tier.

    pre: 0 <= fresh and 0 <= write_5m and 0 <= write_1h and 0 <= read
    pre: fresh + write_5m + write_1h + read <= est_in < 10**7
    pre: 0 <= max_out < 10**7 and 0 <= reasoning < 10**7
    pre: 0 <= billed_out <= max_out + reasoning
    pre: 0 <= in_num < 10**12 and 0 <= out_num < 10**12 and 0 < den < 10**12
    pre: 0 <= w5_num < 10**12 and 0 <= w1h_num < 10**12 and 0 <= read_num < 10**12
    post: __return__
    """
    rates = _sym_rates(in_num, out_num, den, w5_num, w1h_num, read_num)
    usage = {"input_tokens": fresh, "output_tokens": billed_out,
             "cache_creation_input_tokens": write_5m + write_1h,
             "cache_creation": {"ephemeral_5m_input_tokens": write_5m,
                                "ephemeral_1h_input_tokens": write_1h},
             "cache_read_input_tokens": read}
    charge = _pricing.charge_uc(usage, rates)
    reservation = _pricing.reservation_from_tokens(est_in, max_out + reasoning, rates,
                                                   cache_writes=True)
    return charge <= reservation


def charge_tiers_exact(fresh: int, w5: int, w1h: int, write: int, read: int, out: int,
                       a: int, b: int, c5: int, c1: int, cr: int, den: int) -> int:
    """``charge_uc`` of billed token classes prices each class at its tier, rounded up.

    Rates (per-token numerators over ``den``): ``a`` input, ``b`` output, ``c5`` / ``c1``
    5-minute / 1-hour cache write, ``cr`` cache read. Writes of unreported duration at
    the dearer write tier; the result is the least integer at least the exact tiered
    cost (never under the bill, less than 1 uc over).

    pre: 0 <= fresh < 10**7 and 0 <= w5 < 10**7 and 0 <= w1h < 10**7
    pre: 0 <= write < 10**7 and 0 <= read < 10**7 and 0 <= out < 10**7
    pre: 0 <= a < 10**12 and 0 <= b < 10**12 and 0 < den < 10**12
    pre: 0 <= c5 < 10**12 and 0 <= c1 < 10**12 and 0 <= cr < 10**12
    post: _is_ceil(__return__, _tiered(fresh, w5, w1h, write, read, out, a, b, c5, c1, cr), den)
    """
    billed = _billed(fresh, read, w5, w1h, write, out)
    return _pricing.charge_uc(billed, _sym_rates(a, b, den, c5, c1, cr))


def reservation_tiers_exact(i: int, o: int, in_num: int, out_num: int, w5_num: int,
                            w1h_num: int, read_num: int, den: int) -> int:
    """``reservation_from_tokens(..., cache_writes=True)`` prices the estimate at the
    dearest input-side tier (input, cache read, 5-minute and 1-hour write), rounded up.

    pre: 0 <= i < 10**7 and 0 <= o < 10**7
    pre: 0 <= in_num < 10**12 and 0 <= out_num < 10**12 and 0 < den < 10**12
    pre: 0 <= w5_num < 10**12 and 0 <= w1h_num < 10**12 and 0 <= read_num < 10**12
    post: _is_ceil(__return__, i * max(in_num, w5_num, w1h_num, read_num) + o * out_num, den)
    """
    rates = _sym_rates(in_num, out_num, den, w5_num, w1h_num, read_num)
    return _pricing.reservation_from_tokens(i, o, rates, cache_writes=True)


def usage_anthropic(fresh: int, write_5m: int, write_1h: int, read: int,
                    out: int) -> _usage.BilledTokens:
    """An Anthropic report: ``input_tokens`` excludes the cache tokens, the writes are
    split by TTL; each token lands in its class once.

    pre: 0 <= fresh < 10**7 and 0 <= write_5m < 10**7 and 0 <= write_1h < 10**7
    pre: 0 <= read < 10**7 and 0 <= out < 10**7
    post: __return__ == _billed(fresh, read, write_5m, write_1h, 0, out)
    """
    return _usage.billed_tokens({
        "input_tokens": fresh, "output_tokens": out,
        "cache_creation_input_tokens": write_5m + write_1h,
        "cache_creation": {"ephemeral_5m_input_tokens": write_5m,
                           "ephemeral_1h_input_tokens": write_1h},
        "cache_read_input_tokens": read})


def usage_openai_chat(fresh: int, write: int, read: int, visible: int,
                      reasoning: int) -> _usage.BilledTokens:
    """An OpenAI chat report: cached and cache-write tokens are inside ``prompt_tokens``,
    reasoning inside ``completion_tokens``; each counted once.

    pre: 0 <= fresh < 10**7 and 0 <= write < 10**7 and 0 <= read < 10**7
    pre: 0 <= visible < 10**7 and 0 <= reasoning < 10**7
    post: __return__ == _billed(fresh, read, 0, 0, write, visible + reasoning)
    """
    return _usage.billed_tokens({
        "prompt_tokens": fresh + write + read, "completion_tokens": visible + reasoning,
        "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": write},
        "completion_tokens_details": {"reasoning_tokens": reasoning}})


def usage_responses(fresh: int, read: int, visible: int,
                    reasoning: int) -> _usage.BilledTokens:
    """An OpenAI Responses report: ``input_tokens`` includes the cached tokens,
    ``output_tokens`` the reasoning; each counted once.

    pre: 0 <= fresh < 10**7 and 0 <= read < 10**7
    pre: 0 <= visible < 10**7 and 0 <= reasoning < 10**7
    post: __return__ == _billed(fresh, read, 0, 0, 0, visible + reasoning)
    """
    return _usage.billed_tokens({
        "input_tokens": fresh + read, "output_tokens": visible + reasoning,
        "input_tokens_details": {"cached_tokens": read},
        "output_tokens_details": {"reasoning_tokens": reasoning}})


def usage_gemini(fresh: int, read: int, candidates: int,
                 thoughts: int) -> _usage.BilledTokens:
    """Gemini ``usageMetadata``: the cached tokens are inside ``promptTokenCount``;
    ``thoughtsTokenCount`` is output *on top of* ``candidatesTokenCount``.

    pre: 0 <= fresh < 10**7 and 0 <= read < 10**7
    pre: 0 <= candidates < 10**7 and 0 <= thoughts < 10**7
    post: __return__ == _billed(fresh, read, 0, 0, 0, candidates + thoughts)
    """
    return _usage.billed_tokens({
        "promptTokenCount": fresh + read, "cachedContentTokenCount": read,
        "candidatesTokenCount": candidates, "thoughtsTokenCount": thoughts,
        "totalTokenCount": fresh + read + candidates + thoughts})


def usage_gateway(fresh: int, write: int, read: int, out: int) -> _usage.BilledTokens:
    """A gateway-normalised report: OpenAI ``prompt_tokens`` already includes the cache
    tokens that Anthropic's fields also report; counted once, not twice.

    pre: 0 <= fresh < 10**7 and 0 <= write < 10**7 and 0 <= read < 10**7
    pre: 0 <= out < 10**7
    post: __return__ == _billed(fresh, read, 0, 0, write, out)
    """
    return _usage.billed_tokens({
        "prompt_tokens": fresh + write + read, "completion_tokens": out,
        "prompt_tokens_details": {"cached_tokens": read},
        "cache_creation_input_tokens": write, "cache_read_input_tokens": read})


def usage_openai_names(prompt_tokens: int, completion_tokens: int,
                       in_num: int, out_num: int, den: int) -> int:
    """``charge_uc`` of an OpenAI-style usage report prices exactly its token counts.

    ``charge_uc({"prompt_tokens": i, "completion_tokens": o})`` is the exact cost of
    ``i`` in and ``o`` out rounded up: no count is dropped or read as zero.

    pre: 0 <= prompt_tokens < 10**7 and 0 <= completion_tokens < 10**7
    pre: 0 <= in_num < 10**12 and 0 <= out_num < 10**12 and 0 < den < 10**12
    post: _is_ceil(__return__, prompt_tokens * in_num + completion_tokens * out_num, den)
    """
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    return _pricing.charge_uc(usage, _sym_rates(in_num, out_num, den))


# ---------------------------------------------- pricing with real Rates objects


def rates_price_points(k: int) -> tuple[int, int, int]:
    """``Rates`` converts USD/Mtok to uc per token exactly, at every price point.

    For entry ``k`` of :data:`PRICE_POINTS`, the ``Rates`` impl built from the rates
    as given (:data:`PRICE_RATES`) has ``in_num/den`` and ``out_num/den`` equal to the
    hand-written micro-USD/Mtok rates times ``10**-7`` (``1 USD/Mtok = 0.1 uc`` per
    token), ``den > 0`` and non-negative numerators: no float, no rounding.

    pre: 0 <= k < len(PRICE_RATES)
    post: _same_ratios(__return__, (PRICE_POINTS[k][2], PRICE_POINTS[k][3], UC_SCALE))
    """
    r = PRICE_RATES[k]
    return r.in_num, r.out_num, r.den


def proposition1_price_points(est_in: int, max_out: int, billed_in: int, billed_out: int,
                              k: int) -> bool:
    """Paper Proposition 1 with real ``Rates`` (every price point, any token counts).

    ``charge_from_tokens(billed) <= reservation_from_tokens(est)`` at the rates of
    :data:`PRICE_POINTS` entry ``k``, under A1 and A6.

    pre: 0 <= billed_in <= est_in < 10**7
    pre: 0 <= billed_out <= max_out < 10**7
    pre: 0 <= k < len(PRICE_RATES)
    post: __return__
    """
    rates = PRICE_RATES[k]
    charge = _pricing.charge_from_tokens(billed_in, billed_out, rates)
    reservation = _pricing.reservation_from_tokens(est_in, max_out, rates)
    return charge <= reservation


def charge_price_points(i: int, o: int, k: int) -> int:
    """``charge_from_tokens`` with real ``Rates``: the exact USD price, rounded up to uc.

    ``i`` input and ``o`` output tokens at entry ``k`` of :data:`PRICE_POINTS` cost
    exactly ``(i*in_micro + o*out_micro) / 10**7`` uc (from the hand-written
    micro-USD rates); the charge is the least integer at least that.

    pre: 0 <= i < 10**7 and 0 <= o < 10**7
    pre: 0 <= k < len(PRICE_RATES)
    post: _is_ceil(__return__, i * PRICE_POINTS[k][2] + o * PRICE_POINTS[k][3], UC_SCALE)
    """
    return _pricing.charge_from_tokens(i, o, PRICE_RATES[k])


def rates_any_micro(in_micro: int, out_micro: int) -> tuple[int, int, int]:
    """``Rates`` converts any six-decimal USD/Mtok rate exactly (searched).

    Like :func:`rates_price_points` for arbitrary rates below 1000 USD/Mtok given as
    Decimals; CrossHair runs impl's Decimal/Fraction code on concrete values here.

    pre: 0 <= in_micro < 10**9 and 0 <= out_micro < 10**9
    post: _same_ratios(__return__, (in_micro, out_micro, UC_SCALE))
    """
    r = _micro_rates(in_micro, out_micro)
    return r.in_num, r.out_num, r.den


def proposition1_call(prompt: str, max_out: int, reasoning: int, billed_in: int,
                      billed_out: int, k: int) -> bool:
    """Paper Proposition 1 through the per-call API: ``charge_uc <= reservation_uc``.

    ``reservation_uc(prompt, max_out, rates, reasoning_tokens=reasoning)`` with the
    default estimator (UTF-8 byte length, A1 for byte-level BPE) against
    ``charge_uc`` of a usage report billing at most the prompt's byte length in and
    at most ``max_out + reasoning`` out, at price point ``k`` (searched: the prompt
    is a symbolic string, which CrossHair encodes concretely).

    pre: len(prompt) <= 16
    pre: 0 <= billed_in <= len(prompt.encode("utf-8", "surrogatepass"))
    pre: 0 <= max_out < 10**7 and 0 <= reasoning < 10**7
    pre: 0 <= billed_out <= max_out + reasoning
    pre: 0 <= k < len(PRICE_RATES)
    post: __return__
    """
    rates = PRICE_RATES[k]
    r = _pricing.reservation_uc(prompt, max_out, rates, reasoning_tokens=reasoning)
    c = _pricing.charge_uc({"input_tokens": billed_in, "output_tokens": billed_out}, rates)
    return c <= r


# ------------------------------------------------------------------------ estimators


def margin_forms(k: int) -> Fraction:
    """``WithMargin`` reads every margin form exactly (ints, str, Decimal, float, Fraction).

    The estimator impl built from entry ``k`` of :data:`MARGINS` as given
    (:data:`MARGIN_ESTIMATORS`) holds the hand-written exact value: a float margin
    means the decimal literal written (``1.1`` is ``11/10``), not the binary double.

    pre: 0 <= k < len(MARGIN_ESTIMATORS)
    post: __return__ == MARGINS[k][1]
    """
    return MARGIN_ESTIMATORS[k].margin


def margin_table(n: int, k: int) -> int:
    """``WithMargin(base, m).estimate`` is ``ceil(n * m)`` exactly, for every margin
    of :data:`MARGINS` and every base estimate ``n``, and never below ``n``.

    A margin ``>= 1`` keeps a sound estimate sound (A1).

    pre: 0 <= n < 10**7
    pre: 0 <= k < len(MARGINS)
    post: _is_ceil(__return__, n * MARGINS[k][1].numerator, MARGINS[k][1].denominator)
    post: __return__ >= n
    """
    return _estimators.WithMargin(_Fixed(n), MARGINS[k][1]).estimate("")


def margin_integer(n: int, m: int) -> int:
    """``WithMargin(base, m)`` with an integer margin ``m >= 1`` is exactly ``n * m``.

    pre: 0 <= n < 10**7 and 1 <= m <= 100
    post: __return__ == n * m
    """
    return _estimators.WithMargin(_Fixed(n), m).estimate("")


def margin_any_fraction(n: int, margin: Fraction) -> int:
    """``WithMargin`` with an arbitrary Fraction margin in ``[1, 100]`` (searched).

    pre: 0 <= n < 10**7
    pre: 1 <= margin <= 100 and margin.denominator <= 10**4
    post: _is_ceil(__return__, n * margin.numerator, margin.denominator) and __return__ >= n
    """
    return _estimators.WithMargin(_Fixed(n), margin).estimate("")


def byte_length_bound(text: str) -> int:
    """``ByteLength`` counts at least one per character (each is 1 to 4 bytes) (searched).

    pre: len(text) <= 16
    post: len(text) <= __return__ <= 4 * len(text)
    """
    return _estimators.ByteLength().estimate(text)


# ----------------------------------------------------- ledger amounts (one session)


def _fields(s: _session.Session) -> tuple[int, int, int, int, int, int]:
    led = s.ledger()
    return (led.live_sum, led.outstanding_receipts, led.outstanding_refunds,
            led.total_charged, led.total_unrecoverable, led.total_released)


def split_amounts(n: int, a: int) -> tuple[int, int, tuple[int, ...]]:
    """``Budget.split(a)`` of a budget holding ``n`` gives ``a`` and ``n - a``.

    Both parts are ``>= 0`` and sum to ``n``; the ledger is unchanged (a stutter).

    pre: 0 <= a <= n < 2**63
    post: __return__[0] == a and __return__[1] == n - a
    post: __return__[0] >= 0 and __return__[1] >= 0 and __return__[0] + __return__[1] == n
    post: __return__[2] == (n, 0, 0, 0, 0, 0)
    """
    s = _session.Session(n)
    x, y = s.take().split(a)
    return x.available, y.available, _fields(s)


def merge_amounts(n: int, a: int, b: int) -> tuple[int, tuple[int, ...]]:
    """``Budget.merge`` sums: split ``n`` into ``a``, ``b``, rest, merge two back.

    ``merge`` of the budgets holding ``a`` and ``b`` holds ``a + b``; the ledger is
    unchanged (a stutter).

    pre: 0 <= a and 0 <= b and a + b <= n < 2**63
    post: __return__[0] == a + b
    post: __return__[1] == (n, 0, 0, 0, 0, 0)
    """
    s = _session.Session(n)
    x, rest = s.take().split(a)
    y, _rest = rest.split(b)
    return x.merge(y).available, _fields(s)


def spend_amounts(n: int, r: int, c: int) -> tuple[int, tuple[int, ...]]:
    """``Budget.spend(r, charged=c)`` leaves ``n - r`` and books ``c`` and ``r - c``.

    ``spend_success(r, c)``: live ``n - r``, charged ``c``, unrecoverable ``r - c``.

    pre: 0 < r <= n < 2**63 and 0 <= c <= r
    post: __return__[0] == n - r
    post: __return__[1] == (n - r, 0, 0, c, r - c, 0)
    """
    s = _session.Session(n)
    rest = s.take().spend(r, charged=c)
    return rest.available, _fields(s)


def confirm_refund(n: int, r: int, c: int) -> tuple[int, tuple[int, ...], int,
                                                      tuple[int, ...]]:
    """Reserve ``r``, ``confirm(c)``, apply the refund: the refund is ``r - c``.

    The refund lies in ``[0, r]``; after ``confirm_with_refund(r, c)`` the ledger
    holds ``c`` charged and ``r - c`` outstanding as refund; applying it gives a
    budget of ``n - c`` and moves the refund back to ``live_sum``.

    pre: 0 < r <= n < 2**63 and 0 <= c <= r
    post: __return__[0] == r - c and 0 <= __return__[0] <= r
    post: __return__[1] == (n - r, 0, r - c, c, 0, 0)
    post: __return__[2] == n - c
    post: __return__[3] == (n - c, 0, 0, c, 0, 0)
    """
    s = _session.Session(n)
    rest, receipt = s.take().reserve(r)
    refund = receipt.confirm(c)
    amount = refund.amount
    after_confirm = _fields(s)
    back = refund.apply_to(rest)
    return amount, after_confirm, back.available, _fields(s)


def confirm_rejects_overcharge(n: int, r: int, c: int) -> tuple[bool, int, tuple[int, ...]]:
    """``confirm(c)`` with ``c > r`` raises ChargeExceedsReservation, changes nothing.

    The receipt stays open (its amount still ``r``) and the ledger is as after the
    reservation.

    pre: 0 < r <= n < 2**63 and r < c < 2**63
    post: __return__ == (True, r, (n - r, r, 0, 0, 0, 0))
    """
    s = _session.Session(n)
    _rest, receipt = s.take().reserve(r)
    refused = False
    try:
        receipt.confirm(c)
    except _errors.ChargeExceedsReservation:
        refused = True
    amount = receipt.amount
    fields = _fields(s)
    receipt.forfeit()
    return refused, amount, fields


def forfeit_amounts(n: int, r: int) -> tuple[int, ...]:
    """``Receipt.forfeit()`` books the whole reservation as unrecoverable.

    pre: 0 < r <= n < 2**63
    post: __return__ == (n - r, 0, 0, 0, r, 0)
    """
    s = _session.Session(n)
    _rest, receipt = s.take().reserve(r)
    receipt.forfeit()
    return _fields(s)


def reasoning_total(n: int, visible: int, reasoning: int) -> tuple[int, int, int]:
    """``reserve_with_reasoning(v, w)`` reserves exactly ``v + w`` (paper 6.8).

    pre: 0 <= visible and 0 <= reasoning and 0 < visible + reasoning <= n < 2**63
    post: __return__ == (visible + reasoning, n - visible - reasoning, visible + reasoning)
    """
    s = _session.Session(n)
    rest, receipt = s.take().reserve_with_reasoning(visible, reasoning)
    amount = receipt.amount
    receipts = s.ledger().outstanding_receipts
    receipt.forfeit()
    return amount, rest.available, receipts


def stream_refund(n: int, r: int, c1: int, c2: int) -> tuple[int, tuple[int, ...]]:
    """A stream reserving ``r`` with chunks ``c1``, ``c2`` refunds ``r - c1 - c2``.

    pre: 0 < r <= n < 2**63 and 0 <= c1 and 0 <= c2 and c1 + c2 <= r
    post: __return__[0] == r - c1 - c2
    post: __return__[1] == (n - r, 0, r - c1 - c2, c1 + c2, 0, 0)
    """
    s = _session.Session(n)
    _rest, stream = s.take().reserve_stream(r)
    stream.confirm_chunk(c1)
    stream.confirm_chunk(c2)
    refund = stream.close()
    amount = refund.amount
    fields = _fields(s)
    return amount, fields


def pool_commit(n: int, r: int, c: int) -> tuple[int, tuple[int, ...]]:
    """``BudgetPool``: reserve ``r`` then ``commit(c)`` gives ``r - c`` back to the pool.

    pre: 0 < r <= n < 2**63 and 0 <= c <= r
    post: __return__[0] == n - c
    post: __return__[1] == (n - c, 0, 0, c, 0, 0)
    """
    p = _pool.BudgetPool(n)
    p.reserve(r).commit(c)
    led = p.ledger()
    return p.available, (led.live_sum, led.outstanding_receipts, led.outstanding_refunds,
                         led.total_charged, led.total_unrecoverable, led.total_released)


Contract = Callable[..., object]

CONTRACTS: tuple[Contract, ...] = (
    # pricing, symbolic rates
    cost_ceil_exact,
    cost_ceil_monotone,
    reservation_rounds_up,
    charge_rounds_up,
    proposition1_tokens,
    proposition1_usage,
    charge_tiers_exact,
    reservation_tiers_exact,
    usage_openai_names,
    usage_anthropic,
    usage_openai_chat,
    usage_responses,
    usage_gemini,
    usage_gateway,
    # pricing, real Rates
    rates_price_points,
    proposition1_price_points,
    charge_price_points,
    rates_any_micro,
    proposition1_call,
    # estimators
    margin_forms,
    margin_table,
    margin_integer,
    margin_any_fraction,
    byte_length_bound,
    # ledger amounts
    split_amounts,
    merge_amounts,
    spend_amounts,
    confirm_refund,
    confirm_rejects_overcharge,
    forfeit_amounts,
    reasoning_total,
    stream_refund,
    pool_commit,
)
"""Every contract harness, in the order :mod:`proofs.crosshair_check` checks them."""
