"""impl's tiered pricing, its reading of provider usage reports, and the providers' bills,
as Z3 terms (the one place they are restated; :mod:`proofs.proposition1` proves with them).

- :func:`parse` restates :func:`impl.usage.billed_tokens` over a :data:`Report` (field
  path to count term; an absent field is absent from the mapping), returning the billed
  classes :class:`Classes`; :func:`charge` and :func:`reservation` restate
  :func:`impl.charge_uc` and :func:`impl.reservation_from_tokens`; :func:`impl_tiers`
  restates the defaults of :class:`impl.Rates`. Tests check each against impl's code on
  concrete values, so a theorem about these terms is a theorem about impl.
- :class:`Call` is what really happened in one call (uncached input, cache writes by
  TTL or of unreported TTL, cache reads, tool-use prompt, visible output, hidden
  reasoning); each :class:`Shape` turns a call into the report its provider sends
  (:data:`SHAPES`) and prices it by the provider's documented rule (:func:`bill`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import z3

Term = Any
Report = Mapping[str, Term]


def zmax(*xs: Term) -> Term:
    """The largest of ``xs`` (Python ints stay ints; one Z3 term makes an ``If`` chain)."""
    out = xs[0]
    for x in xs[1:]:
        out = max(out, x) if not (z3.is_expr(out) or z3.is_expr(x)) else z3.If(x > out, x, out)
    return out


def ceil_div(x: Term, den: Term) -> Term:
    """``-((-x) div den)``: impl's ``_ceil_div`` (Z3's ``div`` floors for ``den > 0``)."""
    return -((-x) / den)


@dataclass(frozen=True)
class Classes:
    """:class:`impl.BilledTokens` as terms: uncached input, cache reads, 5-minute,
    1-hour and unreported-TTL cache writes, output."""

    fresh: Term
    read: Term
    w5: Term
    w1h: Term
    w: Term
    out: Term


def parse(f: Report) -> Classes:
    """:func:`impl.usage.billed_tokens`, field for field (see its rules)."""

    def count(*paths: str) -> Term | None:
        present = [f[p] for p in paths if p in f]
        return zmax(*present) if present else None

    def or0(x: Term | None) -> Term:
        return 0 if x is None else x

    w5 = or0(count("cache_creation.ephemeral_5m_input_tokens"))
    w1h = or0(count("cache_creation.ephemeral_1h_input_tokens"))
    anthropic_writes = count("cache_creation_input_tokens")
    anthropic_reads = count("cache_read_input_tokens")
    writes = zmax(w5 + w1h, or0(anthropic_writes),
                  or0(count("prompt_tokens_details.cache_write_tokens",
                            "input_tokens_details.cache_write_tokens")))
    reads = zmax(or0(anthropic_reads),
                 or0(count("prompt_tokens_details.cached_tokens",
                           "input_tokens_details.cached_tokens", "cachedContentTokenCount",
                           "cached_content_token_count")))
    cached = writes + reads
    anthropic = (anthropic_writes is not None or anthropic_reads is not None
                 or any(p.startswith("cache_creation.") for p in f))
    input_tokens = count("input_tokens")
    gemini_prompt = count("promptTokenCount", "prompt_token_count")
    inclusive = [t for t in (count("prompt_tokens"), gemini_prompt,
                             None if anthropic else input_tokens) if t is not None]
    readings = [z3.If(t >= cached, t - cached, t) for t in inclusive]
    if anthropic and input_tokens is not None:
        readings.append(input_tokens)
    tool = or0(count("toolUsePromptTokenCount", "tool_use_prompt_token_count"))
    outputs = [t for t in (count("completion_tokens"), count("output_tokens"))
               if t is not None]
    candidates = count("candidatesTokenCount", "candidates_token_count")
    thoughts = count("thoughtsTokenCount", "thoughts_token_count")
    if candidates is not None or thoughts is not None:
        outputs.append(or0(candidates) + or0(thoughts))
    total = count("totalTokenCount", "total_token_count")
    if total is not None and gemini_prompt is not None:
        outputs.append(zmax(0, total - gemini_prompt - tool))
    if not readings or not outputs:
        raise ValueError("a report without an input or an output count")
    reasoning = or0(count("completion_tokens_details.reasoning_tokens",
                          "output_tokens_details.reasoning_tokens"))
    return Classes(zmax(*readings) + tool, reads, w5, w1h, writes - w5 - w1h,
                   zmax(*outputs, reasoning))


@dataclass(frozen=True)
class Tiers:
    """A :class:`impl.Rates` as per-token numerators over ``den``: input, output,
    5-minute write, 1-hour write, cache read."""

    inp: Term
    out: Term
    w5: Term
    w1h: Term
    rd: Term
    den: Term


def impl_tiers(inp: Term, out: Term, den: Term, w5: Term | None = None,
               w1h: Term | None = None, rd: Term | None = None) -> Tiers:
    """The tiers :class:`impl.Rates` holds when a tier is given (a term) or left out
    (``None``: writes at twice the input, a 1-hour write no cheaper than a 5-minute
    one, reads at the input)."""
    w5_ = 2 * inp if w5 is None else w5
    return Tiers(inp, out, w5_, zmax(2 * inp, w5_) if w1h is None else w1h,
                 inp if rd is None else rd, den)


def charge_numerator(c: Classes, r: Tiers) -> Term:
    """The exact charge times ``den``: each class at its tier, an unreported-TTL write
    at the dearer write tier."""
    return (c.fresh * r.inp + c.read * r.rd + c.w5 * r.w5 + c.w1h * r.w1h
            + c.w * zmax(r.w5, r.w1h) + c.out * r.out)


def charge(c: Classes, r: Tiers) -> Term:
    """:func:`impl.charge_uc` of the billed classes ``c`` (rounded up)."""
    return ceil_div(charge_numerator(c, r), r.den)


def reservation_numerator(est_in: Term, out_cap: Term, r: Tiers, cache_writes: bool) -> Term:
    """The exact reservation times ``den``: the estimate at the dearest input-side tier
    (the write tiers only with ``cache_writes``), the output cap at the output rate."""
    rate_in = zmax(r.inp, r.rd, *((r.w5, r.w1h) if cache_writes else ()))
    return est_in * rate_in + out_cap * r.out


def reservation(est_in: Term, out_cap: Term, r: Tiers, cache_writes: bool) -> Term:
    """:func:`impl.reservation_from_tokens` (rounded up)."""
    return ceil_div(reservation_numerator(est_in, out_cap, r, cache_writes), r.den)


@dataclass(frozen=True)
class Call:
    """What one call consumed, by the class its provider bills it in."""

    fresh: Term
    w5: Term
    w1h: Term
    wu: Term
    read: Term
    tool: Term
    visible: Term
    reasoning: Term

    @property
    def input_total(self) -> Term:
        return self.fresh + self.w5 + self.w1h + self.wu + self.read + self.tool

    @property
    def output_total(self) -> Term:
        return self.visible + self.reasoning


@dataclass(frozen=True)
class Prices:
    """The provider's per-token prices (numerators over the rates' ``den``)."""

    inp: Term
    out: Term
    w5: Term
    w1h: Term
    wu: Term
    rd: Term


def bill(call: Call, p: Prices) -> Term:
    """The provider's bill of ``call`` times ``den``: tool-use prompt tokens are input,
    hidden reasoning is output."""
    return ((call.fresh + call.tool) * p.inp + call.w5 * p.w5 + call.w1h * p.w1h
            + call.wu * p.wu + call.read * p.rd + call.output_total * p.out)


def anthropic_prices(p: Prices) -> list[Term]:
    """Anthropic's published structure: 5-minute writes 1.25x input, 1-hour writes 2x,
    reads 0.1x."""
    return [4 * p.w5 == 5 * p.inp, p.w1h == 2 * p.inp, p.wu == p.w1h, 10 * p.rd == p.inp]


def openai_prices(p: Prices) -> list[Term]:
    """OpenAI: cached input at a discount (0.5x, 0.25x or 0.1x by model: at most 1x); a
    cache write of any TTL at one price, at most 2x input."""
    return [p.rd <= p.inp, p.w5 == p.wu, p.w1h == p.wu, p.wu <= 2 * p.inp]


def gemini_prices(p: Prices) -> list[Term]:
    """Gemini: cached input at a discount; no writes are billed per call."""
    return [p.rd <= p.inp, p.w5 == p.inp, p.w1h == p.inp, p.wu == p.inp]


@dataclass(frozen=True)
class Shape:
    """One provider's usage report: ``report`` builds it from a call, ``unused`` lists
    the call's classes this provider never reports (premised zero), ``prices`` the
    provider's price structure."""

    name: str
    report: Callable[[Call], dict[str, Term]]
    unused: tuple[str, ...]
    prices: Callable[[Prices], list[Term]]
    ttl_split: bool = False

    def classes(self, c: Call) -> Classes:
        """The billing classes of ``c`` this report carries, each token once: writes by
        TTL when the report splits them, else as writes of unreported TTL."""
        if self.ttl_split:
            return Classes(c.fresh + c.tool, c.read, c.w5, c.w1h, c.wu, c.output_total)
        return Classes(c.fresh + c.tool, c.read, 0, 0, c.w5 + c.w1h + c.wu, c.output_total)


def _anthropic(c: Call) -> dict[str, Term]:
    return {"input_tokens": c.fresh, "output_tokens": c.output_total,
            "cache_creation_input_tokens": c.w5 + c.w1h,
            "cache_creation.ephemeral_5m_input_tokens": c.w5,
            "cache_creation.ephemeral_1h_input_tokens": c.w1h,
            "cache_read_input_tokens": c.read}


def _anthropic_bare(c: Call) -> dict[str, Term]:
    return {"input_tokens": c.fresh, "output_tokens": c.output_total,
            "cache_creation_input_tokens": c.w5 + c.w1h, "cache_read_input_tokens": c.read}


def _openai_chat(c: Call) -> dict[str, Term]:
    return {"prompt_tokens": c.fresh + c.wu + c.read, "completion_tokens": c.output_total,
            "prompt_tokens_details.cached_tokens": c.read,
            "prompt_tokens_details.cache_write_tokens": c.wu,
            "completion_tokens_details.reasoning_tokens": c.reasoning}


def _responses(c: Call) -> dict[str, Term]:
    return {"input_tokens": c.fresh + c.wu + c.read, "output_tokens": c.output_total,
            "input_tokens_details.cached_tokens": c.read,
            "input_tokens_details.cache_write_tokens": c.wu,
            "output_tokens_details.reasoning_tokens": c.reasoning}


def _gemini(c: Call) -> dict[str, Term]:
    return {"promptTokenCount": c.fresh + c.read, "cachedContentTokenCount": c.read,
            "toolUsePromptTokenCount": c.tool, "candidatesTokenCount": c.visible,
            "thoughtsTokenCount": c.reasoning,
            "totalTokenCount": c.input_total + c.output_total}


def _gateway(c: Call) -> dict[str, Term]:
    return {"prompt_tokens": c.fresh + c.w5 + c.w1h + c.read,
            "completion_tokens": c.output_total,
            "prompt_tokens_details.cached_tokens": c.read,
            "cache_creation_input_tokens": c.w5 + c.w1h, "cache_read_input_tokens": c.read}


SHAPES: tuple[Shape, ...] = (
    Shape("Anthropic messages", _anthropic, ("wu", "tool"), anthropic_prices, True),
    Shape("Anthropic messages without the TTL split", _anthropic_bare, ("wu", "tool"),
          anthropic_prices),
    Shape("OpenAI chat completions", _openai_chat, ("w5", "w1h", "tool"), openai_prices),
    Shape("OpenAI Responses", _responses, ("w5", "w1h", "tool"), openai_prices),
    Shape("Gemini usageMetadata", _gemini, ("w5", "w1h", "wu"), gemini_prices),
    Shape("gateway-normalised (Anthropic behind OpenAI names)", _gateway, ("wu", "tool"),
          anthropic_prices),
)
"""Every usage shape impl understands, with its provider's billing rule."""
