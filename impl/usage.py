"""Provider usage reports read as billed token classes, each token counted once.

:func:`billed_tokens` turns the usage report of one call into a :class:`BilledTokens`:
uncached input, cache reads, cache writes (5-minute, 1-hour, duration not reported) and
output (visible + hidden reasoning). Shapes understood, as a mapping (parsed JSON), an
object with attributes, or a pydantic model of the ``openai`` / ``anthropic`` SDKs
(read through ``model_dump()``):

=====================  ================================================================
OpenAI chat            ``prompt_tokens`` (includes ``prompt_tokens_details.cached_tokens``
                       and ``.cache_write_tokens``), ``completion_tokens`` (includes
                       ``completion_tokens_details.reasoning_tokens``)
OpenAI Responses       ``input_tokens`` (includes ``input_tokens_details.cached_tokens``
                       and ``.cache_write_tokens``), ``output_tokens`` (includes
                       ``output_tokens_details.reasoning_tokens``)
Anthropic messages     ``input_tokens`` (*excludes* the cache tokens),
                       ``cache_creation_input_tokens`` (split by
                       ``cache_creation.ephemeral_5m_input_tokens`` /
                       ``ephemeral_1h_input_tokens``), ``cache_read_input_tokens``,
                       ``output_tokens``
Gemini usageMetadata   ``promptTokenCount`` (includes ``cachedContentTokenCount``),
                       ``toolUsePromptTokenCount`` (not in the prompt count),
                       ``candidatesTokenCount`` and ``thoughtsTokenCount`` (billed as
                       output, *not* part of the candidates count); snake_case names of
                       the google-genai SDK too; ``totalTokenCount`` bounds the output
                       from below when Gemini omits a zero count
gateway-normalised     OpenAI names whose ``prompt_tokens`` already include the cache
                       tokens, with Anthropic's cache fields passed through as well
=====================  ================================================================

Rules, all conservative (never fewer tokens in a dearer class than the provider bills):

- a count that a total *includes* (OpenAI, Responses, Gemini, gateway) is subtracted
  from that total once; Anthropic's ``input_tokens`` (recognised by its cache fields)
  is taken as excluding them. A total smaller than the cache counts it should include
  cannot include them: it is then read as excluding them.
- the same quantity reported under several names (a gateway passing both) is the
  largest of its reports, never their sum; cache writes whose duration is not
  reported (OpenAI ``cache_write_tokens``, a bare ``cache_creation_input_tokens``) are
  priced at the dearer write tier by :func:`impl.charge_uc`.
- reasoning tokens are output tokens (OpenAI, Responses, Anthropic: already inside
  the output count; Gemini: ``thoughtsTokenCount`` added to it).
- a missing or ``None`` count that the price needs raises :class:`impl.MissingUsage`:
  never a silent zero (Gemini omits zero optional counts: those read as 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from impl.errors import (
    AMOUNT_LIMIT,
    AmountTypeError,
    BudgetTypeError,
    InvalidAmount,
    MissingUsage,
)

_NOT_USAGE = (str, bytes, bytearray, int, float, complex, list, tuple, set, frozenset)


def count_error(op: str, name: str, value: object) -> Exception:
    """The error for a token count that is not an int in ``[0, 2**63)``; never formats a
    huge int (its bit length is shown instead)."""
    if isinstance(value, int) and value.bit_length() >= 128:
        shown = f"an int of {value.bit_length()} bits"
    else:
        shown = f"{value!r:.80}"
    if type(value) is not int:
        return AmountTypeError(
            f"{op}: {name} must be an int number of tokens, got {type(value).__name__} "
            f"{shown}")
    return InvalidAmount(f"{op}: {name} must be a token count in [0, 2**63), got {shown}")


def token_count(op: str, name: str, value: object) -> int:
    """``value`` if it is an int in ``[0, 2**63)``, else the typed error of :func:`count_error`."""
    if type(value) is not int or not 0 <= value < AMOUNT_LIMIT:
        raise count_error(op, name, value)
    return value


@dataclass(frozen=True, slots=True)
class BilledTokens:
    """The tokens of one call by billing class, each token in exactly one class.

    ``input``: uncached input (input rate); ``cache_read``: input read from a prompt
    cache; ``cache_write_5m`` / ``cache_write_1h``: input written to a 5-minute /
    1-hour cache; ``cache_write``: input written to a cache whose duration the report
    does not give; ``output``: output, hidden reasoning included. Every field is an int
    in ``[0, 2**63)`` (else :class:`impl.AmountTypeError` / :class:`impl.InvalidAmount`).
    """

    input: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_write: int = 0
    output: int = 0

    def __post_init__(self) -> None:
        for name in self.__slots__:
            token_count("BilledTokens", name, getattr(self, name))

    @property
    def input_total(self) -> int:
        """Every input-side token: uncached input, cache reads and cache writes."""
        return (self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h
                + self.cache_write)


def _get(obj: object, name: str) -> object:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


class _Report:
    """One usage report, read field by field with validation."""

    def __init__(self, usage: object) -> None:
        if isinstance(usage, _NOT_USAGE):
            raise BudgetTypeError(
                f"charge_uc: usage must be the provider's usage report (a mapping, an "
                f"object with token-count attributes, or an SDK model), got "
                f"{type(usage).__name__}")
        self.kind = type(usage).__name__
        dump = None if isinstance(usage, Mapping) else getattr(usage, "model_dump", None)
        if callable(dump):
            usage = dump()
            if not isinstance(usage, Mapping):
                raise BudgetTypeError(
                    f"charge_uc: usage.model_dump() returned {type(usage).__name__}, "
                    f"not a mapping")
        self.usage = usage

    def count(self, *paths: str) -> int | None:
        """The largest of the counts at ``paths`` (``"a.b"`` is field b of field a), or
        ``None`` when none is present."""
        found: int | None = None
        for path in paths:
            obj: object = self.usage
            for part in path.split("."):
                obj = _get(obj, part) if obj is not None else None
            if obj is not None:
                n = token_count("charge_uc", path, obj)
                found = n if found is None else max(found, n)
        return found

    def missing(self, side: str, names: tuple[str, ...]) -> MissingUsage:
        wrapped = [n for n in ("usage", "usageMetadata", "usage_metadata")
                   if _get(self.usage, n) is not None]
        hint = (f"; it has a {wrapped[0]!r} field: pass response.{wrapped[0]} itself"
                if wrapped else "")
        return MissingUsage(
            f"charge_uc: the usage report has no {side} token count (looked for "
            f"{' or '.join(names)} in {self.kind}){hint}; it is never "
            f"read as zero")


_INPUT_TOTALS = ("prompt_tokens", "input_tokens", "promptTokenCount", "prompt_token_count")
_OUTPUT_TOTALS = ("completion_tokens", "output_tokens", "candidatesTokenCount",
                  "candidates_token_count")


def billed_tokens(usage: object) -> BilledTokens:
    """Read one call's usage report (any shape of the module docstring) by billing class.

    Every token is counted once; where a shape is ambiguous the reading that bills more
    is taken. ``usage`` may be a :class:`BilledTokens` (returned as is). ``None``, or a
    report without an input or an output count, raises :class:`impl.MissingUsage`; a
    value that is not a usage report raises :class:`impl.BudgetTypeError`; a count that
    is not an int in ``[0, 2**63)`` raises :class:`impl.AmountTypeError` or
    :class:`impl.InvalidAmount`.
    """
    if isinstance(usage, BilledTokens):
        return usage
    if usage is None:
        raise MissingUsage(
            "charge_uc: usage is None: the provider sent no usage report; it is never "
            "read as zero: confirm the full reservation or forfeit it, and reconcile "
            "against provider billing")
    u = _Report(usage)
    w5 = u.count("cache_creation.ephemeral_5m_input_tokens") or 0
    w1h = u.count("cache_creation.ephemeral_1h_input_tokens") or 0
    anthropic_writes = u.count("cache_creation_input_tokens")
    anthropic_reads = u.count("cache_read_input_tokens")
    writes = max(w5 + w1h, anthropic_writes or 0,
                 u.count("prompt_tokens_details.cache_write_tokens",
                         "input_tokens_details.cache_write_tokens") or 0)
    reads = max(anthropic_reads or 0,
                u.count("prompt_tokens_details.cached_tokens",
                        "input_tokens_details.cached_tokens",
                        "cachedContentTokenCount", "cached_content_token_count") or 0)
    cached = writes + reads
    anthropic = (anthropic_writes is not None or anthropic_reads is not None
                 or _get(u.usage, "cache_creation") is not None)
    prompt = u.count("prompt_tokens")
    gemini_prompt = u.count("promptTokenCount", "prompt_token_count")
    input_tokens = u.count("input_tokens")
    inclusive = [t for t in (prompt, gemini_prompt, None if anthropic else input_tokens)
                 if t is not None]
    readings = [t - cached if t >= cached else t for t in inclusive]
    if anthropic and input_tokens is not None:
        readings.append(input_tokens)
    if not readings:
        raise u.missing("input", _INPUT_TOTALS)
    tool_prompt = u.count("toolUsePromptTokenCount", "tool_use_prompt_token_count") or 0

    outputs = [n for n in (u.count("completion_tokens"), u.count("output_tokens"))
               if n is not None]
    candidates = u.count("candidatesTokenCount", "candidates_token_count")
    thoughts = u.count("thoughtsTokenCount", "thoughts_token_count")
    gemini_total = u.count("totalTokenCount", "total_token_count")
    if candidates is not None or thoughts is not None:
        outputs.append((candidates or 0) + (thoughts or 0))
    if gemini_total is not None and gemini_prompt is not None:
        outputs.append(max(0, gemini_total - gemini_prompt - tool_prompt))
    if not outputs:
        raise u.missing("output", _OUTPUT_TOTALS)
    reasoning = u.count("completion_tokens_details.reasoning_tokens",
                        "output_tokens_details.reasoning_tokens") or 0
    return BilledTokens(
        input=max(readings) + tool_prompt, cache_read=reads, cache_write_5m=w5,
        cache_write_1h=w1h, cache_write=writes - w5 - w1h,
        output=max(*outputs, reasoning))
