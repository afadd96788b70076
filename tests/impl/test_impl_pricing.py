"""Pricing: exact rates, reservations rounded up, charge <= reservation (Proposition 1)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import impl
import impl.estimators


def test_unit_conversion() -> None:
    one = impl.Rates(1, 1)  # 1 USD/Mtok = 0.1 uc per token
    assert Fraction(one.in_num, one.den) == Fraction(1, 10)
    assert impl.reservation_from_tokens(10, 0, one) == 1
    assert impl.reservation_from_tokens(11, 0, one) == 2  # 1.1 rounds up
    assert impl.reservation_from_tokens(0, 0, one) == 0
    assert impl.charge_from_tokens(1, 0, one) == 1  # 0.1 rounds up too
    r = impl.Rates("2.50", "10")
    assert (r.input_usd_per_mtok, r.output_usd_per_mtok) == (Decimal("2.50"), Decimal("10"))
    assert Fraction(r.in_num, r.den) == Fraction(1, 4) and Fraction(r.out_num, r.den) == 1
    # one million output tokens at 10 USD/Mtok is 10 USD = 1,000,000 uc
    assert impl.charge_from_tokens(0, 1_000_000, r) == 1_000_000


def test_paper_reasoning_allowance() -> None:
    """Paper 6.8: thinking.budget_tokens=1024 at $15/Mtok.

    1024 tokens x 15 USD/Mtok = 0.01536 USD = 1,536 uc (the paper prints 15,360).
    """
    rates = impl.Rates(3, 15)
    assert impl.reservation_from_tokens(0, 1024, rates) == 1_536
    r = impl.reservation_uc("", 0, rates, reasoning_tokens=1024)
    assert r == 1_536


def test_rates_are_exact_decimals() -> None:
    assert impl.Rates(0.15, 0.6).input_usd_per_mtok == Decimal("0.15")  # float via repr
    r = impl.Rates("0.1234567890123456789012345678901", 0)
    assert r.input_usd_per_mtok == Decimal("0.1234567890123456789012345678901")
    assert Fraction(r.in_num, r.den) == Fraction("0.1234567890123456789012345678901") / 10
    assert impl.Rates(Decimal("1.0"), 2) == impl.Rates("1", "2.00")


@pytest.mark.parametrize("bad,err", [
    (-1, impl.InvalidAmount),
    ("-0.5", impl.InvalidAmount),
    (float("inf"), impl.InvalidAmount),
    (Decimal("NaN"), impl.InvalidAmount),
    ("cheap", impl.InvalidAmount),
    (True, impl.BudgetTypeError),
    (None, impl.BudgetTypeError),
    (Fraction(1, 3), impl.BudgetTypeError),
])
def test_rates_refuse_bad_values(bad: object, err: type[Exception]) -> None:
    with pytest.raises(err, match="input_usd_per_mtok"):
        impl.Rates(bad, 1)


def test_reservation_uc() -> None:
    rates = impl.Rates("2.5", "10")  # 0.25 uc / input token, 1 uc / output token
    assert impl.reservation_uc("hello", 100, rates) == 2 + 100  # ceil(1.25) + 100
    assert impl.reservation_uc("héllo", 0, rates) == 2  # 6 bytes -> ceil(1.5)
    tk = impl.Tiktoken("cl100k_base")
    assert impl.reservation_uc("hello world", 10, rates, tk) == 1 + 10  # 2 tokens: 0.5
    wm = impl.WithMargin(impl.ByteLength(), 2)
    assert impl.reservation_uc("abcd", 0, rates, wm) == 2
    with pytest.raises(impl.InvalidAmount, match="2\\*\\*63"):
        impl.reservation_uc("x", 10**19, rates)
    with pytest.raises(impl.AmountTypeError, match="max_output_tokens"):
        impl.reservation_uc("x", 1.5, rates)  # type: ignore[arg-type]
    with pytest.raises(impl.InvalidAmount, match="reasoning_tokens"):
        impl.reservation_uc("x", 1, rates, reasoning_tokens=-1)
    with pytest.raises(impl.BudgetTypeError):
        impl.reservation_uc(None, 1, rates)  # type: ignore[arg-type]


def test_usage_shapes() -> None:
    rates = impl.Rates(1, 10)  # 0.1 uc in, 1 uc out
    openai = {"prompt_tokens": 30, "completion_tokens": 7, "total_tokens": 37}
    assert impl.usage_tokens(openai) == (30, 7)
    assert impl.charge_uc(openai, rates) == 3 + 7
    anthropic = SimpleNamespace(input_tokens=30, output_tokens=7,
                                cache_creation_input_tokens=5, cache_read_input_tokens=None)
    assert impl.usage_tokens(anthropic) == (35, 7)
    responses = {"input_tokens": 12, "output_tokens": 3,
                 "input_tokens_details": {"cached_tokens": 4}}
    assert impl.usage_tokens(responses) == (12, 3)
    both = {"prompt_tokens": 10, "input_tokens": 12, "completion_tokens": 3}
    assert impl.usage_tokens(both) == (12, 3)  # the larger: conservative


@pytest.mark.parametrize("usage,match", [
    (None, "usage is None"),
    ({}, "no input token count"),
    ({"prompt_tokens": 3}, "no output token count"),
    ({"prompt_tokens": None, "completion_tokens": 2}, "no input token count"),
    (SimpleNamespace(input_tokens=3), "no output token count"),
    ({"usage": {"prompt_tokens": 1, "completion_tokens": 1}}, "pass response.usage"),
    (object(), "never read as zero"),
])
def test_missing_usage_is_an_error(usage: object, match: str) -> None:
    with pytest.raises(impl.MissingUsage, match=match):
        impl.charge_uc(usage, impl.Rates(1, 1))


def test_bad_usage_counts() -> None:
    with pytest.raises(impl.AmountTypeError, match="completion_tokens"):
        impl.charge_uc({"prompt_tokens": 1, "completion_tokens": "2"}, impl.Rates(1, 1))
    with pytest.raises(impl.InvalidAmount, match="prompt_tokens"):
        impl.charge_uc({"prompt_tokens": -1, "completion_tokens": 2}, impl.Rates(1, 1))
    with pytest.raises(impl.AmountTypeError):
        impl.charge_uc({"prompt_tokens": True, "completion_tokens": 2}, impl.Rates(1, 1))


rate_st = st.decimals(min_value=0, max_value=200, places=4, allow_nan=False,
                      allow_infinity=False)


@given(rate_st, rate_st, st.text(max_size=200), st.integers(0, 100_000),
       st.integers(0, 50_000), st.data())
def test_charge_never_exceeds_reservation(in_rate: Decimal, out_rate: Decimal, prompt: str,
                                          max_out: int, reasoning: int,
                                          data: st.DataObject) -> None:
    """A1 + A6 + A8 => c <= r, for every estimator and usage shape."""
    rates = impl.Rates(in_rate, out_rate)
    estimator = data.draw(st.sampled_from([
        impl.ByteLength(), impl.WithMargin(impl.ByteLength(), "1.3")]))
    r = impl.reservation_uc(prompt, max_out, rates, estimator, reasoning_tokens=reasoning)
    billed_in = data.draw(st.integers(0, estimator.estimate(prompt)))  # A1
    billed_out = data.draw(st.integers(0, max_out + reasoning))  # A6
    usage = data.draw(st.sampled_from([
        {"prompt_tokens": billed_in, "completion_tokens": billed_out},
        SimpleNamespace(input_tokens=billed_in, output_tokens=billed_out),
    ]))
    c = impl.charge_uc(usage, rates)
    assert 0 <= c <= r
    exact = Fraction(in_rate) / 10 * billed_in + Fraction(out_rate) / 10 * billed_out
    assert exact <= c < exact + 1  # the charge is the exact price rounded up


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9),
       st.integers(0, 10**9), st.integers(0, 10**6), st.integers(0, 10**6),
       st.integers(1, 10**6))
def test_cost_ceil_is_monotone(i: int, di: int, o: int, do: int, a: int, b: int,
                               d: int) -> None:
    lo = impl.cost_uc_ceil(i, o, a, b, d)
    hi = impl.cost_uc_ceil(i + di, o + do, a, b, d)
    assert lo <= hi
    assert lo == -(-(i * a + o * b) // d) and lo * d >= i * a + o * b > (lo - 1) * d - 1


def test_end_to_end_with_a_budget() -> None:
    rates = impl.Rates("2.5", "10")
    s = impl.Session(1_000)
    b = s.take()
    r = impl.reservation_uc("Summarize this paragraph.", 200, rates)
    b, rc = b.reserve(r)
    usage = {"prompt_tokens": 6, "completion_tokens": 120}
    b = rc.confirm(impl.charge_uc(usage, rates)).apply_to(b)
    led = s.ledger()
    assert led.total_charged == 122 and led.live_sum == 878


# ------------------------------------------------------------ bounded parsing (issue 8.4)

ABSURD_RATES: list[object] = [
    "1e10000000", "1e-10000000", "-1e10000000", Decimal("1e10000000"),
    Decimal("1e-10000000"), Decimal("1" * 100_000), "9" * 101, "1" + "0" * 9,
    10**100_000, 10**9, 1e300, 5e-324, "0." + "0" * 40 + "1",
]


def bounded_work(call: Callable[[], object], err: type[Exception], match: str) -> int:
    """Run ``call`` expecting ``err``; return the peak memory it allocated (bytes).

    A deterministic stand-in for "rejected at once": converting ``1e10000000`` to an
    exact fraction allocates a 4 MB integer (and seconds of CPU) before any check."""
    tracemalloc.start()
    try:
        with pytest.raises(err, match=match):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("bad", ABSURD_RATES, ids=lambda b: type(b).__name__)
def test_absurd_rates_are_refused_before_any_big_conversion(bad: object) -> None:
    calls: list[Callable[[], object]] = [
        lambda: impl.Rates(bad, 1), lambda: impl.Rates(1, 1, cache_read=bad),
        lambda: impl.Rates(1, 1, cache_write_5m=bad),
        lambda: impl.Rates(1, 1, cache_write_1h=bad)]
    for call in calls:
        assert bounded_work(call, impl.InvalidAmount, "out of bounds|>= 0") < 32_000
    with pytest.raises(impl.InvalidAmount) as ei:
        impl.Rates(1, bad)
    assert len(str(ei.value)) < 400  # the message shows a size, not the digits


#: Published prices (USD per million tokens) of real models, in every form accepted.
REAL_PRICES: list[object] = [
    0, "0.0375", "0.075", Decimal("0.10"), "0.15", 0.3, "1.25", "2.50", 3, "3.75",
    "10.00", 15, 60, "75", 150, 600, "0.000001", "999.999999",
    "0.1234567890123456789012345678901",
]


@pytest.mark.parametrize("price", REAL_PRICES, ids=str)
def test_real_prices_are_never_refused(price: object) -> None:
    r = impl.Rates(price, price, cache_write_5m=price, cache_write_1h=price,
                   cache_read=price)
    assert Fraction(r.in_num, r.den) == Fraction(Decimal(repr(price) if isinstance(
        price, float) else price)) / 10


@given(st.decimals(min_value=0, max_value=10**8, places=6, allow_nan=False,
                   allow_infinity=False))
def test_every_six_decimal_price_below_1e8_is_accepted(d: Decimal) -> None:
    assert impl.Rates(d, str(d)).input_usd_per_mtok == d


# ------------------------------------------------------------- cache tiers (issue 8.5)


def test_cache_tiers_and_their_conservative_defaults() -> None:
    plain = impl.Rates("2.50", "10.00")
    assert plain.cache_write_5m_usd_per_mtok == plain.cache_write_1h_usd_per_mtok == 5
    assert plain.cache_read_usd_per_mtok == Decimal("2.50")
    assert Fraction(plain.write_num, plain.den) == Fraction(1, 2)  # uc per token
    tiered = impl.Rates(3, 15, cache_write_5m="3.75", cache_write_1h=6, cache_read="0.30")
    assert [Fraction(n, tiered.den) for n in (tiered.in_num, tiered.write_5m_num,
                                              tiered.write_1h_num, tiered.read_num)] == [
        Fraction(3, 10), Fraction(3, 8), Fraction(3, 5), Fraction(3, 100)]
    five = impl.Rates(1, 1, cache_write_5m=3)  # a 1-hour write never below a 5-minute one
    assert five.cache_write_1h_usd_per_mtok == 3
    # reservations price the input at the dearest tier the call may be billed at
    assert impl.reservation_from_tokens(1000, 0, tiered) == 300
    assert impl.reservation_from_tokens(1000, 0, tiered, cache_writes=True) == 600
    assert impl.reservation_uc("x" * 1000, 0, plain, cache_writes=True) == 500
    assert impl.reservation_from_tokens(10, 0, impl.Rates(1, 1, cache_read=2)) == 2
    assert impl.Rates("2.50", "10.00") == impl.Rates("2.5", 10, cache_read="2.50")


# ------------------------------------------------------ typed errors everywhere (8.4)


def test_cost_uc_ceil_refuses_what_it_cannot_price() -> None:
    with pytest.raises(impl.InvalidAmount, match="den must be > 0"):
        impl.cost_uc_ceil(1, 1, 1, 1, 0)
    with pytest.raises(impl.InvalidAmount, match="den"):
        impl.cost_uc_ceil(1, 1, 1, 1, -3)
    with pytest.raises(impl.InvalidAmount, match="input_tokens"):
        impl.cost_uc_ceil(-5, 0, 1, 1, 1)
    with pytest.raises(impl.InvalidAmount, match="in_num"):
        impl.cost_uc_ceil(5, 0, -1, 1, 1)
    with pytest.raises(impl.AmountTypeError, match="output_tokens"):
        impl.cost_uc_ceil(1, 2.0, 1, 1, 1)  # type: ignore[arg-type]
    with pytest.raises(impl.AmountTypeError, match="den"):
        impl.cost_uc_ceil(1, 2, 1, 1, 1.0)  # type: ignore[arg-type]
    with pytest.raises(impl.InvalidAmount, match="bits"):
        impl.cost_uc_ceil(-(10**5000), 0, 1, 1, 1)


def test_none_rates_and_estimators_get_typed_errors() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1}
    for call in (lambda: impl.charge_uc(usage, None),  # type: ignore[arg-type]
                 lambda: impl.reservation_uc("x", 1, None),  # type: ignore[arg-type]
                 lambda: impl.reservation_from_tokens(1, 1, None),  # type: ignore[arg-type]
                 lambda: impl.charge_from_tokens(1, 1, "2.50")):  # type: ignore[arg-type]
        with pytest.raises(impl.BudgetTypeError, match=r"rates must be an impl\.Rates"):
            call()
    with pytest.raises(impl.BudgetTypeError, match="estimator"):
        impl.reservation_uc("x", 1, impl.Rates(1, 1), None)  # type: ignore[arg-type]
    with pytest.raises(impl.BudgetTypeError, match="cache_writes"):
        impl.reservation_uc("x", 1, impl.Rates(1, 1), cache_writes=1)  # type: ignore[arg-type]


class _Returns:
    def __init__(self, value: object) -> None:
        self.value = value

    def estimate(self, text: str) -> int:
        return self.value  # type: ignore[return-value]


WRONG: list[object] = [None, "7", 1.5, -1, True, object(), [1], 10**5000, -(10**5000),
                       float("nan"), Decimal("NaN"), Fraction(1, 3)]
RATES = impl.Rates("2.50", "10.00")
USAGE = {"prompt_tokens": 3, "completion_tokens": 4}
PUBLIC_CALLS: list[tuple[str, Callable[..., object], list[object], dict[str, object]]] = [
    ("cost_uc_ceil", impl.cost_uc_ceil, [1, 2, 3, 4, 5], {}),
    ("reservation_from_tokens", impl.reservation_from_tokens, [1, 2, RATES],
     {"cache_writes": False}),
    ("charge_from_tokens", impl.charge_from_tokens, [1, 2, RATES], {}),
    ("reservation_uc", impl.reservation_uc, ["hi", 2, RATES, impl.ByteLength()],
     {"reasoning_tokens": 0, "cache_writes": False}),
    ("charge_uc", impl.charge_uc, [USAGE, RATES], {}),
    ("usage_tokens", impl.usage_tokens, [USAGE], {}),
    ("billed_tokens", impl.billed_tokens, [USAGE], {}),
    ("Rates", impl.Rates, [1, 2],
     {"cache_write_5m": 3, "cache_write_1h": 4, "cache_read": 1}),
    ("BilledTokens", impl.BilledTokens, [1, 2, 3, 4, 5, 6], {}),
    ("WithMargin", impl.WithMargin, [impl.ByteLength(), 2], {}),
    ("WithMargin.estimate", lambda base, text: impl.WithMargin(base, 2).estimate(text),
     [impl.ByteLength(), "hi"], {}),
    ("reservation_uc(estimator=...)",
     lambda v: impl.reservation_uc("hi", 1, RATES, _Returns(v)), [3], {}),
    ("WithMargin(base=...)", lambda v: impl.WithMargin(_Returns(v), 2).estimate(""),
     [3], {}),
    ("ByteLength.estimate", impl.ByteLength().estimate, ["hi"], {}),
    ("exact_ratio", lambda v: impl.estimators.exact_ratio(v, "m"), [2], {}),
    ("Tiktoken", impl.Tiktoken, ["cl100k_base"], {}),
]


@pytest.mark.parametrize("name,fn,args,kwargs", PUBLIC_CALLS, ids=[c[0] for c in
                                                                   PUBLIC_CALLS])
def test_every_wrong_argument_gets_a_typed_error(name: str, fn: Callable[..., object],
                                                 args: list[object],
                                                 kwargs: dict[str, object]) -> None:
    """Each argument in turn replaced by each wrong value: the call either accepts it
    (a float rate, say) or raises an impl error (also a TypeError or ValueError)."""
    fn(*args, **kwargs)  # the valid call works
    refused = 0
    for pos in [*range(len(args)), *kwargs]:
        for bad in WRONG:
            a = [bad if i == pos else v for i, v in enumerate(args)]
            k = {n: bad if n == pos else v for n, v in kwargs.items()}
            try:
                fn(*a, **k)
            except impl.BudgetError as e:
                assert isinstance(e, TypeError | ValueError), (name, pos, bad)
                assert len(str(e)) < 600, (name, pos, str(e)[:200])
                refused += 1
            except Exception as e:
                pytest.fail(f"{name} with {pos}={bad!r:.60}: raw {type(e).__name__}: {e}")
    assert refused >= len(WRONG) // 2
