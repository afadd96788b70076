"""Budgeted calls through the official ``anthropic`` SDK (sync and async clients).

::

    from anthropic import Anthropic
    import impl
    from impl.integrations.anthropic import budgeted

    pool = impl.BudgetPool(100_000)               # 1 USD
    client = budgeted(Anthropic(), pool)
    m = client.messages.create(model="claude-haiku-4-5", max_tokens=200,
                               messages=[{"role": "user", "content": "Hi"}])

``messages.create`` (also through ``with_raw_response``, and streamed) and the
``messages.stream(...)`` helper reserve before the request leaves and settle from its
usage; see :func:`budgeted`. This module
imports ``anthropic`` only when :func:`budgeted` is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from impl.estimators import Estimator
from impl.integrations._sdk import (
    DENY,
    BudgetedClient,
    Config,
    Helper,
    Plan,
    Unbudgeted,
    body_of,
    call_async,
    call_sync,
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

TOOL_PROMPT_TOKENS = 600
"""Input tokens reserved for the system prompt Anthropic adds when ``tools`` are given
(published: 346 tokens for ``auto``/``none`` and 313 for ``any``/``tool`` on Claude 4
models); it is not in the request body."""

_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                 "cache_read_input_tokens", "cache_creation")


def _fields(usage: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _USAGE_FIELDS:
        v = getattr(usage, name, None)
        if v is not None:
            dump = getattr(v, "model_dump", None)
            out[name] = dump() if callable(dump) else v
    return out


class MessagesMeter:
    """A Messages stream: ``message_start`` carries the input usage, ``message_delta``
    the cumulative final counts; the usage is complete once ``message_delta`` arrived."""

    __slots__ = ("_done", "_usage")

    def __init__(self) -> None:
        self._usage: dict[str, Any] = {}
        self._done = False

    def feed(self, item: Any) -> bool:
        kind = getattr(item, "type", None)
        if kind == "message_start":
            self._usage.update(_fields(getattr(item.message, "usage", None)))
        elif kind == "message_delta":
            self._usage.update(_fields(getattr(item, "usage", None)))
            self._done = True
        return True

    def usage(self) -> object | None:
        return dict(self._usage) if self._done else None


def plan_messages(cfg: Config, kwargs: dict[str, Any]) -> Plan:
    """Plan a ``messages.create``: ``max_tokens`` (which also bounds thinking); tools
    add :data:`TOOL_PROMPT_TOKENS`; server tools and fetched content need an allowance."""
    out = output_limit(cfg, kwargs, ("max_tokens",), "max_tokens", "messages.create")
    body = body_of(kwargs)
    model = body.get("model")
    require_extra_input(cfg, referenced_input(body.get("messages"))
                        or referenced_input(body.get("system")), model)
    tools = body.get("tools") or ()
    server = [t.get("type") for t in tools
              if isinstance(t, Mapping) and t.get("type") not in (None, "custom")]
    require_extra_input(cfg, f"server or built-in tools {server}" if server else None, model)
    if body.get("mcp_servers") or body.get("container"):
        require_extra_input(cfg, "MCP servers or a container", model)
    meter = MessagesMeter() if kwargs.get("stream") is True else None
    overhead = TOOL_PROMPT_TOKENS if tools else 0
    return plan_call(cfg, "messages.create", kwargs, body, out, overhead, meter)


def _stream_helper(cfg: Config, messages: Any, retries: int,
                   is_async: bool) -> Callable[..., Any]:
    """``messages.stream(...)``: the SDK's stream manager over a budgeted
    ``messages.create(stream=True)``, reserved when the ``with`` block is entered."""
    from anthropic import NOT_GIVEN
    from anthropic.lib.streaming import AsyncMessageStreamManager, MessageStreamManager

    def stream(**kwargs: Any) -> Any:
        if kwargs.get("output_format") is not None and not _omitted(kwargs["output_format"]):
            raise Unbudgeted(
                "client.messages.stream(output_format=...) is not budgeted; call "
                "messages.create(stream=True, ...) and parse the result")
        kw = {k: v for k, v in kwargs.items() if k != "output_format"}
        kw["stream"] = True
        if is_async:
            return AsyncMessageStreamManager(
                call_async(cfg, plan_messages, messages.create, False, retries, kw))
        return MessageStreamManager(
            lambda: call_sync(cfg, plan_messages, messages.create, False, retries, kw),
            output_format=NOT_GIVEN)

    return stream


def _omitted(v: object) -> bool:
    return type(v).__name__ in ("NotGiven", "Omit")


LAYOUT: Mapping[str, Any] = {
    "messages": {"create": plan_messages, "stream": Helper(_stream_helper), "batches": DENY,
                 "parse": DENY,
                 "with_streaming_response": DENY},
    "beta": DENY,
    "completions": DENY,
    "with_streaming_response": DENY,
}
"""Which methods are budgeted (planners) and which refused (DENY)."""


def budgeted(client: Any, pool: Any, prices: Mapping[str, Rates] | None = None, *,
             estimator: Estimator | None = None, on_failure: FailurePolicy | None = None,
             default_max_tokens: int | None = None, reasoning_tokens: int = 0,
             extra_input_tokens: int = 0) -> BudgetedClient:
    """Wrap an ``anthropic.Anthropic`` or ``anthropic.AsyncAnthropic`` client: used like
    the client, every ``messages.create`` (and the ``messages.stream(...)`` helper,
    reserved when its ``with`` block is entered) is budgeted against ``pool``.

    The guarantees of :func:`impl.integrations.openai.budgeted`, with ``max_tokens``
    as the output cap (it bounds extended thinking too); a request with ``tools``
    reserves :data:`TOOL_PROMPT_TOKENS` more input; a request that may write the
    prompt cache (``cache_control``) is reserved at the 1-hour cache-write price; a
    stream settles from ``message_start`` + ``message_delta`` usage, and forfeits if
    cut off or abandoned before ``message_delta``.
    """
    import anthropic

    is_async = is_async_client(client, anthropic.Anthropic, anthropic.AsyncAnthropic,
                               "anthropic.budgeted")
    cfg = make_config(pool, prices, estimator, on_failure, default_max_tokens,
                      reasoning_tokens, extra_input_tokens, "anthropic.budgeted")
    return wrap_client(client, cfg, LAYOUT, "client", is_async)


__all__ = ["MessagesMeter", "budgeted"]
