"""One budgeted call per provider and endpoint, written once for every test module."""

from __future__ import annotations

from typing import Any

MODEL = {"chat": "gpt-4o-mini", "responses": "gpt-4o-mini", "messages": "claude-haiku-4-5"}
MAX_OUT = 64
MESSAGES = [{"role": "user", "content": "Say hello."}]


def kwargs(endpoint: str, stream: bool = False, **extra: Any) -> dict[str, Any]:
    """The arguments of a minimal call of ``endpoint`` (chat, responses, messages)."""
    if endpoint == "chat":
        kw: dict[str, Any] = {"model": MODEL[endpoint], "messages": MESSAGES,
                              "max_completion_tokens": MAX_OUT}
    elif endpoint == "responses":
        kw = {"model": MODEL[endpoint], "input": "Say hello.", "max_output_tokens": MAX_OUT}
    else:
        kw = {"model": MODEL[endpoint], "messages": MESSAGES, "max_tokens": MAX_OUT}
    if stream:
        kw["stream"] = True
    kw.update(extra)
    return kw


def method(client: Any, endpoint: str) -> Any:
    """The create method of ``endpoint`` on a (budgeted or bare) client."""
    if endpoint == "chat":
        return client.chat.completions.create
    if endpoint == "responses":
        return client.responses.create
    return client.messages.create


def call(client: Any, endpoint: str, stream: bool = False, **extra: Any) -> Any:
    """Make the call; a stream is read to its end. Returns the SDK's result."""
    result = method(client, endpoint)(**kwargs(endpoint, stream, **extra))
    if stream:
        return list(result)
    return result


async def acall(client: Any, endpoint: str, stream: bool = False, **extra: Any) -> Any:
    """:func:`call` on an async client."""
    result = await method(client, endpoint)(**kwargs(endpoint, stream, **extra))
    if stream:
        return [item async for item in result]
    return result
