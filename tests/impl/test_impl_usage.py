"""Provider usage shapes: every token counted once, priced never below the provider's bill.

The oracle of each test is the provider's own billing rule, written here from its
documentation and independent of impl's parser: Anthropic bills ``input_tokens`` (which
excludes the cache tokens) at the input rate, 5-minute cache writes at 1.25x, 1-hour
writes at 2x and cache reads at 0.1x the input rate; OpenAI bills the cached part of
``prompt_tokens`` / ``input_tokens`` at a discount (0.5x, 0.25x or 0.1x by model) and
reasoning as part of the completion; Gemini bills cached prompt tokens at a discount and
``thoughtsTokenCount`` at the output rate on top of ``candidatesTokenCount``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import anthropic.types as at
import openai.types as ot
import openai.types.responses as ort
import pytest
from hypothesis import given
from hypothesis import strategies as st

import impl

P_IN, P_OUT = Fraction(3), Fraction(15)  # USD per million tokens
UC_PER_USD_PER_MTOK = Fraction(1, 10)  # 1 USD/Mtok is 0.1 uc per token


def uc(tokens: int, usd_per_mtok: Fraction) -> Fraction:
    return tokens * usd_per_mtok * UC_PER_USD_PER_MTOK


@dataclass(frozen=True)
class Call:
    """What a provider billed for one call: uncached input, cache writes (5 m, 1 h),
    cache reads, visible output and hidden reasoning; and the read discount."""

    fresh: int = 0
    write_5m: int = 0
    write_1h: int = 0
    read: int = 0
    visible: int = 0
    reasoning: int = 0
    read_factor: Fraction = Fraction(1, 10)

    @property
    def input_total(self) -> int:
        return self.fresh + self.write_5m + self.write_1h + self.read

    @property
    def output_total(self) -> int:
        return self.visible + self.reasoning

    def bill(self, provider: str) -> Fraction:
        """The provider's bill in uc (exact), by its documented rule."""
        writes = (uc(self.write_5m, P_IN * Fraction(5, 4)) + uc(self.write_1h, 2 * P_IN)
                  if provider in ("anthropic", "gateway") else
                  uc(self.write_5m + self.write_1h, P_IN))
        return (uc(self.fresh, P_IN) + writes + uc(self.read, P_IN * self.read_factor)
                + uc(self.output_total, P_OUT))


def anthropic_usage(c: Call) -> dict[str, Any]:
    return {"input_tokens": c.fresh, "output_tokens": c.output_total,
            "cache_creation_input_tokens": c.write_5m + c.write_1h,
            "cache_read_input_tokens": c.read,
            "cache_creation": {"ephemeral_5m_input_tokens": c.write_5m,
                               "ephemeral_1h_input_tokens": c.write_1h}}


def openai_chat_usage(c: Call) -> dict[str, Any]:
    return {"prompt_tokens": c.input_total, "completion_tokens": c.output_total,
            "total_tokens": c.input_total + c.output_total,
            "prompt_tokens_details": {"cached_tokens": c.read,
                                      "cache_write_tokens": c.write_5m + c.write_1h},
            "completion_tokens_details": {"reasoning_tokens": c.reasoning}}


def responses_usage(c: Call) -> dict[str, Any]:
    return {"input_tokens": c.input_total, "output_tokens": c.output_total,
            "total_tokens": c.input_total + c.output_total,
            "input_tokens_details": {"cached_tokens": c.read,
                                     "cache_write_tokens": c.write_5m + c.write_1h},
            "output_tokens_details": {"reasoning_tokens": c.reasoning}}


def gemini_usage(c: Call) -> dict[str, Any]:
    u = {"promptTokenCount": c.input_total, "candidatesTokenCount": c.visible,
         "thoughtsTokenCount": c.reasoning, "cachedContentTokenCount": c.read,
         "totalTokenCount": c.input_total + c.output_total}
    # Gemini omits zero counts from its JSON
    return {k: v for k, v in u.items() if v or k in ("promptTokenCount", "totalTokenCount")}


def gemini_sdk_usage(c: Call) -> SimpleNamespace:
    return SimpleNamespace(prompt_token_count=c.input_total,
                           candidates_token_count=c.visible or None,
                           thoughts_token_count=c.reasoning or None,
                           cached_content_token_count=c.read or None,
                           total_token_count=c.input_total + c.output_total)


def gateway_usage(c: Call) -> dict[str, Any]:
    """OpenAI-shaped with ``prompt_tokens`` including the cache tokens, and Anthropic's
    cache fields passed through (what LiteLLM-style gateways return)."""
    return {"prompt_tokens": c.input_total, "completion_tokens": c.output_total,
            "total_tokens": c.input_total + c.output_total,
            "prompt_tokens_details": {"cached_tokens": c.read},
            "cache_creation_input_tokens": c.write_5m + c.write_1h,
            "cache_read_input_tokens": c.read}


SHAPES = {
    "anthropic": (anthropic_usage, "anthropic"),
    "anthropic-sdk": (lambda c: at.Usage.model_validate(anthropic_usage(c)), "anthropic"),
    "openai-chat": (openai_chat_usage, "openai"),
    "openai-chat-sdk": (lambda c: ot.CompletionUsage.model_validate(openai_chat_usage(c)),
                        "openai"),
    "responses": (responses_usage, "openai"),
    "responses-sdk": (lambda c: ort.ResponseUsage.model_validate(responses_usage(c)),
                      "openai"),
    "gemini": (gemini_usage, "gemini"),
    "gemini-sdk": (gemini_sdk_usage, "gemini"),
    "gateway": (gateway_usage, "gateway"),
}

EXACT = {  # the providers' own tier prices
    "anthropic": impl.Rates(3, 15, cache_write_5m="3.75", cache_write_1h=6,
                            cache_read="0.3"),
    "gateway": impl.Rates(3, 15, cache_write_5m="3.75", cache_write_1h=6,
                          cache_read="0.3"),
}
DEFAULT = impl.Rates(3, 15)


def calls(provider: str) -> st.SearchStrategy[Call]:
    n = st.integers(0, 10**7)
    writes = provider in ("anthropic", "gateway", "openai")
    w = n if writes else st.just(0)
    w1h = n if provider in ("anthropic", "gateway") else st.just(0)
    reasoning = n if provider != "gateway" else st.just(0)
    factor = (st.just(Fraction(1, 10)) if provider in ("anthropic", "gateway")
              else st.sampled_from([Fraction(1, 2), Fraction(1, 4), Fraction(1, 10)]))
    return st.builds(Call, n, w, w1h, n, n, reasoning, factor)


@pytest.mark.parametrize("shape", sorted(SHAPES))
@given(data=st.data())
def test_each_token_once_and_never_below_the_bill(shape: str, data: st.DataObject) -> None:
    build, provider = SHAPES[shape]
    c = data.draw(calls(provider))
    usage = build(c)
    assert impl.usage_tokens(usage) == (c.input_total, c.output_total)
    charge = impl.charge_uc(usage, DEFAULT)
    bill = c.bill(provider)
    assert charge >= bill
    if provider in EXACT:  # with the provider's tier prices: never below its bill,
        exact = impl.charge_uc(usage, EXACT[provider])
        assert exact >= bill
        if provider == "anthropic":  # and exactly that, rounded up, with the TTL split
            assert exact == -(-bill.numerator // bill.denominator)
    # Proposition 1: the input within the estimate, the output within the cap
    est = c.input_total + data.draw(st.integers(0, 100))
    cap = c.output_total + data.draw(st.integers(0, 100))
    for rates in (DEFAULT, EXACT.get(provider, DEFAULT)):
        r = impl.reservation_from_tokens(est, cap, rates,
                                         cache_writes=c.write_5m + c.write_1h > 0)
        assert impl.charge_uc(usage, rates) <= r


def test_anthropic_cache_writes_are_not_priced_as_input() -> None:
    """The issue's case: 1,000 5-minute and 1,000 1-hour writes at 3 USD/Mtok input."""
    usage = at.Usage.model_validate(anthropic_usage(Call(fresh=100, write_5m=1000,
                                                         write_1h=1000, visible=10)))
    t = impl.billed_tokens(usage)
    assert (t.input, t.cache_write_5m, t.cache_write_1h, t.cache_write) == (100, 1000, 1000, 0)
    # 100*0.3 + 1000*0.375 + 1000*0.6 + 10*1.5 = 30 + 375 + 600 + 15
    assert impl.charge_uc(usage, EXACT["anthropic"]) == 1020
    assert impl.charge_uc(usage, DEFAULT) == 30 + 600 + 600 + 15  # 5 m write at 2x
    # only the total is reported: priced at the dearer write tier
    bare = {"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 2000}
    assert impl.billed_tokens(bare).cache_write == 2000
    assert impl.charge_uc(bare, EXACT["anthropic"]) == 30 + 1200 + 15


def test_gateway_usage_is_not_counted_twice() -> None:
    """prompt_tokens already includes the cache tokens that are passed through: a
    reservation sized for the prompt covers the charge."""
    usage = gateway_usage(Call(fresh=200, write_5m=300, read=500, visible=50))
    assert impl.usage_tokens(usage) == (1000, 50)
    r = impl.reservation_from_tokens(1000, 50, DEFAULT, cache_writes=True)
    assert impl.charge_uc(usage, DEFAULT) <= r
    s = impl.Session(10_000)
    b, rc = s.take().reserve(r)
    rc.confirm(impl.charge_uc(usage, DEFAULT)).apply_to(b)  # not "exceeded"


def test_openai_cached_and_reasoning_are_subsets() -> None:
    usage = ot.CompletionUsage.model_validate(
        openai_chat_usage(Call(fresh=600, read=400, visible=20, reasoning=80)))
    t = impl.billed_tokens(usage)
    assert (t.input, t.cache_read, t.output) == (600, 400, 100)
    rates = impl.Rates("2.50", "10.00", cache_read="1.25")
    assert impl.charge_uc(usage, rates) == 150 + 50 + 100


def test_gemini_thoughts_are_output_on_top_of_candidates() -> None:
    usage = {"promptTokenCount": 1000, "cachedContentTokenCount": 600,
             "candidatesTokenCount": 50, "thoughtsTokenCount": 450,
             "toolUsePromptTokenCount": 10, "totalTokenCount": 1510}
    t = impl.billed_tokens(usage)
    assert (t.input, t.cache_read, t.output) == (410, 600, 500)
    # zero counts omitted: the total still bounds the output from below
    assert impl.usage_tokens({"promptTokenCount": 7, "totalTokenCount": 19}) == (7, 12)


def test_mixed_names_take_the_larger_reading() -> None:
    both = {"prompt_tokens": 10, "input_tokens": 12, "completion_tokens": 3}
    assert impl.usage_tokens(both) == (12, 3)
    # a total too small to include the cache counts is read as excluding them
    odd = {"prompt_tokens": 5, "completion_tokens": 1, "cache_read_input_tokens": 9}
    assert impl.billed_tokens(odd) == impl.BilledTokens(input=5, cache_read=9, output=1)


def test_billed_tokens_pass_through_and_validate() -> None:
    t = impl.BilledTokens(input=1, cache_read=2, cache_write_5m=3, cache_write_1h=4,
                          cache_write=5, output=6)
    assert impl.billed_tokens(t) is t and t.input_total == 15
    rates = impl.Rates(1, 1, cache_write_5m=2, cache_write_1h=3, cache_read=0)
    # 1*1 + 2*0 + 3*2 + 4*3 + 5*3 + 6*1 = 40 USD/Mtok-tokens = 4 uc
    assert impl.charge_uc(t, rates) == 4
    with pytest.raises(impl.InvalidAmount, match="cache_read"):
        impl.BilledTokens(cache_read=-1)
    with pytest.raises(impl.AmountTypeError, match="output"):
        impl.BilledTokens(output=1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("usage,err,match", [
    ("prompt_tokens=3", impl.BudgetTypeError, "usage report"),
    ([3, 4], impl.BudgetTypeError, "usage report"),
    (SimpleNamespace(model_dump=lambda: [1]), impl.BudgetTypeError, "model_dump"),
    ({"usageMetadata": {"promptTokenCount": 1}}, impl.MissingUsage,
     "pass response.usageMetadata"),
    ({"input_tokens": 3, "output_tokens": 2, "cache_read_input_tokens": "1"},
     impl.AmountTypeError, "cache_read_input_tokens"),
    ({"prompt_tokens": 3, "completion_tokens": 2,
      "prompt_tokens_details": {"cached_tokens": -1}}, impl.InvalidAmount,
     "prompt_tokens_details.cached_tokens"),
    ({"prompt_tokens": 10**5000, "completion_tokens": 2}, impl.InvalidAmount, "bits"),
    ({"promptTokenCount": 2}, impl.MissingUsage, "no output token count"),
    (at.MessageDeltaUsage(output_tokens=5), impl.MissingUsage,
     "no input token count .* in MessageDeltaUsage"),
])
def test_bad_reports_get_typed_errors(usage: object, err: type[Exception],
                                      match: str) -> None:
    with pytest.raises(err, match=match):
        impl.charge_uc(usage, DEFAULT)
