"""Budgeted calls through the official ``openai`` SDK (sync and async clients).

::

    from openai import OpenAI
    import impl
    from impl.integrations.openai import budgeted

    pool = impl.BudgetPool(100_000)               # 1 USD
    client = budgeted(OpenAI(), pool)
    r = client.chat.completions.create(model="gpt-4o-mini", max_completion_tokens=200,
                                       messages=[{"role": "user", "content": "Hi"}])

``chat.completions.create`` / ``.parse`` and ``responses.create`` / ``.parse`` (also
through ``with_raw_response``, and streamed) reserve before the request leaves and
settle from its usage; see :func:`budgeted`. This module imports ``openai`` only when
:func:`budgeted` is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from impl.estimators import Estimator
from impl.integrations._sdk import (
    DENY,
    BudgetedClient,
    Config,
    Plan,
    UnboundedInput,
    body_of,
    is_async_client,
    make_config,
    output_limit,
    plan_call,
    referenced_input,
    require_extra_input,
    wrap_client,
)
from impl.integrations.policy import FailurePolicy
from impl.pricing import Rates

_SERVER_STATE = ("previous_response_id", "conversation", "prompt")
_CLIENT_TOOLS = frozenset({"function", "custom"})


class ChatMeter:
    """A chat stream: usage comes in the last chunk (``stream_options.include_usage``);
    that chunk (no choices) is hidden when the wrapper asked for it, not the caller."""

    __slots__ = ("_hide", "_usage")

    def __init__(self, hide: bool) -> None:
        self._hide = hide
        self._usage: object | None = None

    def feed(self, item: Any) -> bool:
        usage = getattr(item, "usage", None)
        if usage is None:
            return True
        self._usage = usage
        return not (self._hide and not getattr(item, "choices", None))

    def usage(self) -> object | None:
        return self._usage


_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesMeter:
    """A Responses stream: usage comes with the final ``response.*`` event."""

    __slots__ = ("_usage",)

    def __init__(self) -> None:
        self._usage: object | None = None

    def feed(self, item: Any) -> bool:
        if getattr(item, "type", None) in _FINAL_EVENTS:
            self._usage = getattr(getattr(item, "response", None), "usage", None)
        return True

    def usage(self) -> object | None:
        return self._usage


def _tools_check(cfg: Config, body: Mapping[str, Any], model: object) -> None:
    tools = body.get("tools") or ()
    server = [t.get("type") for t in tools
              if isinstance(t, Mapping) and t.get("type") not in _CLIENT_TOOLS]
    require_extra_input(cfg, f"server-side tools {server}" if server else None, model)


def plan_chat(cfg: Config, kwargs: dict[str, Any]) -> Plan:
    """Plan a ``chat.completions.create``: output cap times ``n``; include_usage added."""
    out = output_limit(cfg, kwargs, ("max_completion_tokens", "max_tokens"),
                       "max_completion_tokens", "chat.completions.create")
    n = kwargs.get("n")
    out *= n if type(n) is int and n > 1 else 1
    meter = None
    if kwargs.get("stream") is True:
        opts = kwargs.get("stream_options")
        opts = dict(opts) if isinstance(opts, Mapping) else {}
        asked = opts.get("include_usage") is True
        if not asked:
            kwargs["stream_options"] = {**opts, "include_usage": True}
        meter = ChatMeter(hide=not asked)
    body = body_of(kwargs)
    require_extra_input(cfg, referenced_input(body.get("messages")), body.get("model"))
    _tools_check(cfg, body, body.get("model"))
    return plan_call(cfg, "chat.completions.create", kwargs, body, out, 0, meter)


def plan_responses(cfg: Config, kwargs: dict[str, Any]) -> Plan:
    """Plan a ``responses.create``: ``max_output_tokens``; stored state needs an allowance."""
    out = output_limit(cfg, kwargs, ("max_output_tokens",), "max_output_tokens",
                       "responses.create")
    body = body_of(kwargs)
    model = body.get("model")
    state = [k for k in _SERVER_STATE if body.get(k) is not None]
    require_extra_input(cfg, f"stored state {state}" if state else None, model)
    require_extra_input(cfg, referenced_input(body.get("input")), model)
    _tools_check(cfg, body, model)
    meter = ResponsesMeter() if kwargs.get("stream") is True else None
    return plan_call(cfg, "responses.create", kwargs, body, out, 0, meter)


_RESOURCE_DENY = {"stream": DENY, "with_streaming_response": DENY}

LAYOUT: Mapping[str, Any] = {
    "chat": {"completions": {"create": plan_chat, "parse": plan_chat, **_RESOURCE_DENY}},
    "responses": {"create": plan_responses, "parse": plan_responses, **_RESOURCE_DENY},
    **{name: DENY for name in ("completions", "embeddings", "images", "audio", "beta",
                               "batches", "realtime", "videos", "fine_tuning",
                               "with_streaming_response")},
}
"""Which methods are budgeted (planners) and which refused (DENY)."""


def budgeted(client: Any, pool: Any, prices: Mapping[str, Rates] | None = None, *,
             estimator: Estimator | None = None, on_failure: FailurePolicy | None = None,
             default_max_tokens: int | None = None, reasoning_tokens: int = 0,
             extra_input_tokens: int = 0) -> BudgetedClient:
    """Wrap an ``openai.OpenAI`` or ``openai.AsyncOpenAI`` client: used like the client,
    every ``chat.completions.create``/``parse`` and ``responses.create``/``parse`` is
    budgeted against ``pool`` (an :class:`impl.BudgetPool` or any pool with the same
    reserve/commit/cancel/forfeit API).

    Guarantees, per call:

    - before the request leaves, reserves ``estimator`` (default
      :class:`impl.ByteLength`) over the serialized request body (plus
      ``extra_input_tokens``) at the input rate, plus the output cap
      (``max_completion_tokens``/``max_tokens`` times ``n``, or ``max_output_tokens``)
      plus ``reasoning_tokens`` at the output rate, at the model's price in ``prices``
      or the built-in table (:class:`impl.integrations.MissingPrice` if neither has
      it); a call that does not fit raises :class:`impl.InsufficientBudget` and
      nothing is sent; a request without an output cap raises
      :class:`impl.integrations.MissingOutputLimit` unless ``default_max_tokens`` is
      set (then that cap is sent); a request whose input the provider adds itself
      (file ids, URLs, ``previous_response_id``, server-side tools) raises
      :class:`impl.integrations.UnboundedInput` unless ``extra_input_tokens`` is set;
    - settles from the response's ``usage`` at the exact price, the rest returning to
      the pool; a streamed call (``stream=True``) settles from its final usage
      (``stream_options.include_usage`` is added when the caller did not ask, and the
      extra chunk hidden), and forfeits if the stream is cut off or abandoned first;
    - on an exception, resolves by ``on_failure`` (default
      :func:`impl.integrations.classify_failure`): cancelled if rejected before
      processing, forfeited if it may have been billed; then re-raises it unchanged;
    - retries as the client's ``max_retries`` says, reserving each attempt.

    Return values and exceptions are the SDK's own.
    """
    import openai

    is_async = is_async_client(client, openai.OpenAI, openai.AsyncOpenAI, "openai.budgeted")
    cfg = make_config(pool, prices, estimator, on_failure, default_max_tokens,
                      reasoning_tokens, extra_input_tokens, "openai.budgeted")
    return wrap_client(client, cfg, LAYOUT, "client", is_async)


__all__ = ["ChatMeter", "ResponsesMeter", "UnboundedInput", "budgeted"]
