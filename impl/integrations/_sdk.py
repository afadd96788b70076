"""The machinery both SDK wrappers share: request planning, the call driver (reserve,
send, retry, settle), stream metering and the client proxy.

The wrappers send every request with the SDK's own retries off and retry here
instead, with the client's ``max_retries`` and the SDK's rules (408/409/429/5xx,
connection errors, ``x-should-retry``, ``retry-after``): each attempt is reserved and
resolved on its own, so an attempt that may have been billed is never hidden by a
retry that succeeds.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import random
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from impl.errors import (
    AMOUNT_LIMIT,
    BudgetError,
    BudgetTypeError,
    InsufficientBudget,
    InvalidAmount,
)
from impl.estimators import ByteLength, Estimator
from impl.integrations.core import BudgetedCall, PoolLike, check_pool
from impl.integrations.policy import FailurePolicy, check_policy, status_code
from impl.integrations.prices import check_prices, price_of
from impl.pricing import Rates, reservation_from_tokens


class MissingOutputLimit(BudgetError, ValueError):
    """A request has no output-token limit, so no sound reservation exists for it."""


class UnboundedInput(BudgetError, ValueError):
    """A request makes the provider add input the request does not contain (a file or
    URL it refers to, a stored conversation, a server-side tool)."""


class Unbudgeted(BudgetError, AttributeError):
    """A billed SDK method the wrapper does not budget: calling it would bypass the pool."""


class Meter(Protocol):
    """Reads a stream's items for its usage report."""

    def feed(self, item: Any) -> bool:
        """Record ``item``; return whether the caller sees it."""
        ...

    def usage(self) -> object | None:
        """The complete usage report, or None while it is incomplete."""
        ...


@dataclass(frozen=True, slots=True)
class Plan:
    """One request, ready to send: what is sent, reserved and priced."""

    kwargs: dict[str, Any]
    amount: int
    rates: Rates
    meter: Meter | None


@dataclass(frozen=True, slots=True)
class Config:
    """A wrapper's settings (see ``budgeted``)."""

    pool: PoolLike
    prices: Mapping[str, Rates]
    estimator: Estimator
    policy: FailurePolicy
    default_max_tokens: int | None
    reasoning_tokens: int
    extra_input_tokens: int


def make_config(pool: object, prices: object, estimator: object, on_failure: object,
                default_max_tokens: object, reasoning_tokens: object,
                extra_input_tokens: object, who: str) -> Config:
    """Validate ``budgeted``'s arguments into a :class:`Config`."""
    est = ByteLength() if estimator is None else estimator
    if not callable(getattr(est, "estimate", None)):
        raise BudgetTypeError(
            f"{who}: estimator must have .estimate(text) -> int, got {type(est).__name__}; "
            f"e.g. impl.ByteLength() or impl.WithMargin(impl.Tiktoken(), 2)")
    for name, v, low in (("reasoning_tokens", reasoning_tokens, 0),
                         ("extra_input_tokens", extra_input_tokens, 0),
                         ("default_max_tokens", default_max_tokens, 1)):
        if (v is not None or name != "default_max_tokens") and (type(v) is not int or v < low):
            raise BudgetTypeError(f"{who}: {name} must be an int >= {low}, got {v!r}")
    return Config(check_pool(pool, who), check_prices(prices), est,  # type: ignore[arg-type]
                  check_policy(on_failure), default_max_tokens,  # type: ignore[arg-type]
                  reasoning_tokens, extra_input_tokens)  # type: ignore[arg-type]


def _jsonable(v: object) -> object:
    dump = getattr(v, "model_dump", None)
    if callable(dump):
        return dump(exclude_unset=True)
    if isinstance(v, bytes | bytearray):
        return v.decode("latin-1")
    if isinstance(v, Mapping):
        return dict(v)
    if isinstance(v, Iterator | tuple | set | frozenset):
        return list(v)
    return str(v)


_NOT_BODY = frozenset({"extra_headers", "extra_query", "timeout", "extra_body"})


def body_of(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The request body the SDK sends for ``kwargs`` (omitted values left out)."""
    body = {k: v for k, v in kwargs.items()
            if k not in _NOT_BODY and type(v).__name__ not in ("NotGiven", "Omit")}
    extra = kwargs.get("extra_body")
    if isinstance(extra, Mapping):
        body.update(extra)
    return body


def serialize(body: Mapping[str, Any]) -> str:
    """The JSON text of a request body, the text the estimator bounds (A1)."""
    return json.dumps(body, default=_jsonable, ensure_ascii=False, separators=(",", ":"))


_REF_KEYS = frozenset({"url", "image_url", "file_url"})


def referenced_input(v: object) -> str | None:
    """The first content the provider fetches itself (a file id, an http(s) URL)."""
    if isinstance(v, Mapping):
        for k, x in v.items():
            if k == "file_id" and isinstance(x, str):
                return f"file_id {x!r}"
            if k in _REF_KEYS and isinstance(x, str) and x.startswith(("http://", "https://")):
                return f"{k} {x!r}"
            found = referenced_input(x)
            if found:
                return found
    elif isinstance(v, list | tuple):
        for x in v:
            found = referenced_input(x)
            if found:
                return found
    return None


def require_extra_input(cfg: Config, what: str | None, model: object) -> None:
    """Refuse a request with input not in its body unless ``extra_input_tokens`` is set."""
    if what and not cfg.extra_input_tokens:
        raise UnboundedInput(
            f"budgeted call to {model!r} refused before sending: the request uses {what}, "
            f"whose tokens are not in the request, so no sound reservation exists; pass "
            f"extra_input_tokens=N to budgeted() to reserve N more input tokens per call")


def plan_call(cfg: Config, who: str, kwargs: dict[str, Any], body: Mapping[str, Any],
              output_tokens: int, overhead_tokens: int, meter: Meter | None) -> Plan:
    """Price a request: estimator over the serialized body, plus ``overhead_tokens`` and
    ``extra_input_tokens`` in (at the dearest cache-write tier if the body has
    ``cache_control``), plus ``output_tokens`` and ``reasoning_tokens`` out."""
    rates = price_of(body.get("model"), cfg.prices)
    text = serialize(body)
    est = cfg.estimator.estimate(text)
    if type(est) is not int or est < 0:
        raise BudgetTypeError(f"{who}: estimator returned {est!r}, not an int >= 0")
    inp = est + overhead_tokens + cfg.extra_input_tokens
    out = output_tokens + cfg.reasoning_tokens
    r = reservation_from_tokens(inp, out, rates, cache_writes="cache_control" in text)
    if r >= AMOUNT_LIMIT:
        raise InvalidAmount(f"{who}: the reservation {r} uc is not below 2**63")
    if r == 0:
        r = 1  # a free model: reserve a token amount so the call still goes through the pool
    return Plan(kwargs, r, rates, meter)


def output_limit(cfg: Config, kwargs: dict[str, Any], names: tuple[str, ...],
                 inject: str, who: str) -> int:
    """The request's output-token cap (the largest of ``names`` given); without one, the
    configured default is injected as ``inject``, else :class:`MissingOutputLimit`."""
    given = [v for n in names if type(v := kwargs.get(n)) is int]
    if given:
        return max(given)
    if cfg.default_max_tokens is None:
        raise MissingOutputLimit(
            f"{who}({kwargs.get('model')!r}) refused before sending: the request has no "
            f"output limit ({' or '.join(names)}), so its cost has no bound; pass "
            f"{inject}=N, or budgeted(..., default_max_tokens=N)")
    kwargs[inject] = cfg.default_max_tokens
    return cfg.default_max_tokens


def _retry_delay(e: BaseException, attempt: int, max_retries: int) -> float | None:
    """The delay before retrying after ``e`` (the SDK's rules), or None: do not retry."""
    if attempt >= max_retries:
        return None
    code = status_code(e)
    headers: Any = getattr(getattr(e, "response", None), "headers", None) or {}
    if code is None:
        if not any(c.__name__ == "APIConnectionError" for c in type(e).__mro__):
            return None
    else:
        should = headers.get("x-should-retry")
        if should == "false" or (should != "true" and code not in (408, 409, 429)
                                 and code < 500):
            return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            after = float(headers.get(name)) * scale
        except (TypeError, ValueError):
            continue
        if 0 < after <= 60:
            return after
    return min(0.5 * 2.0 ** attempt, 8.0) * (1 - 0.25 * random.random())


def _next_attempt(cfg: Config, plan: Plan, e: BaseException) -> BudgetedCall:
    try:
        return BudgetedCall(cfg.pool, plan.amount, plan.rates, cfg.policy)
    except InsufficientBudget as ib:
        e.add_note(f"impl: not retried: the retry's reservation was refused: {ib}")
        raise e from None


def _finish(call: BudgetedCall, meter: Meter) -> None:
    """A stream ended: settle from its usage if complete, else forfeit (conservative)."""
    if call.open:
        usage = meter.usage()
        if usage is None:
            call.forfeit()
        else:
            call.settle(usage)


def _meter_sync(stream: Any, call: BudgetedCall, meter: Meter) -> Any:
    inner: Any = stream._iterator

    def metered() -> Generator[Any, None, None]:
        try:
            for item in inner:
                if meter.feed(item):
                    yield item
        finally:
            _finish(call, meter)
            close = getattr(inner, "close", None)
            if close is not None:
                close()

    gen = metered()
    stream._iterator = gen
    original_close = stream.close

    def close() -> None:
        gen.close()
        _finish(call, meter)
        original_close()

    stream.close = close
    return stream


def _meter_async(stream: Any, call: BudgetedCall, meter: Meter) -> Any:
    inner: Any = stream._iterator

    async def metered() -> AsyncGenerator[Any, None]:
        try:
            async for item in inner:
                if meter.feed(item):
                    yield item
        finally:
            _finish(call, meter)
            aclose = getattr(inner, "aclose", None)
            if aclose is not None:
                await aclose()

    gen = metered()
    stream._iterator = gen
    original_close = stream.close

    async def close() -> None:
        await gen.aclose()
        _finish(call, meter)
        await original_close()

    stream.close = close
    return stream


def _deliver(parsed: Any, call: BudgetedCall, plan: Plan, is_async: bool) -> None:
    if plan.meter is not None:
        (_meter_async if is_async else _meter_sync)(parsed, call, plan.meter)
    else:
        call.settle(getattr(parsed, "usage", None))


Planner = Callable[[Config, dict[str, Any]], Plan]


def call_sync(cfg: Config, planner: Planner, send: Callable[..., Any], raw: bool,
              max_retries: int, kwargs: dict[str, Any]) -> Any:
    """Reserve, send with retries, settle; the SDK's result or exception unchanged."""
    plan = planner(cfg, dict(kwargs))
    call = BudgetedCall(cfg.pool, plan.amount, plan.rates, cfg.policy)
    attempt = 0
    while True:
        try:
            result = send(**plan.kwargs)
        except BaseException as e:
            call.fail(e)
            delay = _retry_delay(e, attempt, max_retries) if isinstance(e, Exception) else None
            if delay is None:
                raise
            time.sleep(delay)
            attempt += 1
            call = _next_attempt(cfg, plan, e)
            continue
        try:
            _deliver(result.parse() if raw else result, call, plan, False)
        except BaseException:
            call.forfeit()
            raise
        return result


async def call_async(cfg: Config, planner: Planner, send: Callable[..., Any], raw: bool,
                     max_retries: int, kwargs: dict[str, Any]) -> Any:
    """:func:`call_sync` for an async client."""
    plan = planner(cfg, dict(kwargs))
    call = BudgetedCall(cfg.pool, plan.amount, plan.rates, cfg.policy)
    attempt = 0
    while True:
        try:
            result = await send(**plan.kwargs)
        except BaseException as e:
            call.fail(e)
            delay = _retry_delay(e, attempt, max_retries) if isinstance(e, Exception) else None
            if delay is None:
                raise
            await asyncio.sleep(delay)
            attempt += 1
            call = _next_attempt(cfg, plan, e)
            continue
        try:
            parsed = result.parse() if raw else result
            if inspect.isawaitable(parsed):
                parsed = await parsed
            _deliver(parsed, call, plan, True)
        except BaseException:
            call.forfeit()
            raise
        return result


DENY = object()
"""A layout entry for a billed method the wrapper does not budget."""


@dataclass(frozen=True, slots=True)
class Helper:
    """A layout entry for an SDK helper method built over a budgeted method:
    ``build(cfg, resource, retries, is_async)`` returns the method (e.g. a ``.stream()``
    helper whose request goes through :func:`call_sync` / :func:`call_async`)."""

    build: Callable[[Config, Any, int, bool], Callable[..., Any]]

Layout = Mapping[str, Any]


class Node:
    """A proxy of an SDK client or resource: the methods named in its layout are
    budgeted, the ones marked :data:`DENY` refused, everything else the SDK's own."""

    __slots__ = ("_async", "_cache", "_cfg", "_layout", "_raw", "_retries", "_target",
                 "_where")

    def __init__(self, target: Any, cfg: Config, layout: Layout, raw: bool, retries: int,
                 where: str, is_async: bool) -> None:
        self._target = target
        self._async = is_async
        self._cfg = cfg
        self._layout = layout
        self._raw = raw
        self._retries = retries
        self._where = where
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        spec = self._layout.get(name)
        where = f"{self._where}.{name}"
        if spec is DENY or (self._raw and isinstance(spec, Helper)):
            raise Unbudgeted(
                f"{where} is not budgeted: its calls would bypass the pool; call it on "
                f"budgeted_client.unbudgeted (no reservation), or wrap it with "
                f"impl.integrations.reserve_call")
        if spec is None and name != "with_raw_response":
            return getattr(self._target, name)
        if isinstance(spec, Helper):
            helper = spec.build(self._cfg, self._target, self._retries, self._async)
            self._cache[name] = helper
            return helper
        target = getattr(self._target, name)
        if name == "with_raw_response":
            value: Any = Node(target, self._cfg, self._layout, True, self._retries, where,
                              self._async)
        elif isinstance(spec, Mapping):
            value = Node(target, self._cfg, spec, self._raw, self._retries, where, self._async)
        else:
            value = self._method(spec, target)  # spec: a Planner
        self._cache[name] = value
        return value

    def _method(self, planner: Any, send: Callable[..., Any]) -> Callable[..., Any]:
        cfg, raw, retries = self._cfg, self._raw, self._retries
        if self._async:
            async def acall(**kwargs: Any) -> Any:
                return await call_async(cfg, planner, send, raw, retries, kwargs)
            return acall

        def call(**kwargs: Any) -> Any:
            return call_sync(cfg, planner, send, raw, retries, kwargs)
        return call

    def __repr__(self) -> str:
        return f"<budgeted {self._target!r}>"


class BudgetedClient(Node):
    """A budgeted SDK client (see ``impl.integrations.openai.budgeted``)."""

    __slots__ = ("_client",)

    _client: Any

    @property
    def unbudgeted(self) -> Any:
        """The SDK client itself, as given: its calls do not touch the pool."""
        return self._client

    @property
    def config(self) -> Config:
        """The wrapper's settings."""
        return self._cfg

    def with_options(self, **options: Any) -> BudgetedClient:
        """``client.with_options(...)``, budgeted against the same pool."""
        return wrap_client(self._client.with_options(**options), self._cfg, self._layout,
                           self._where, self._async)

    copy = with_options


def wrap_client(client: Any, cfg: Config, layout: Layout, where: str,
                is_async: bool) -> BudgetedClient:
    """Proxy ``client``; its requests go out with the SDK's retries off (see module doc)."""
    retries = client.max_retries
    if type(retries) is not int or retries < 0:  # pragma: no cover - the SDKs validate it
        raise BudgetTypeError(f"{where}: client.max_retries is {retries!r}")
    inner = client.with_options(max_retries=0) if retries else client
    node = BudgetedClient(inner, cfg, layout, False, retries, where, is_async)
    node._client = client
    return node


def is_async_client(client: object, sync_cls: type, async_cls: type, op: str) -> bool:
    """Whether ``client`` is the SDK's async client (``async_cls``) rather than its sync
    one (``sync_cls``); :class:`impl.BudgetTypeError` naming both when it is neither."""
    if isinstance(client, async_cls):
        return True
    if isinstance(client, sync_cls):
        return False
    raise BudgetTypeError(
        f"impl.integrations.{op}: client must be an {sync_cls.__module__.split('.')[0]}."
        f"{sync_cls.__name__} or {async_cls.__module__.split('.')[0]}.{async_cls.__name__}, "
        f"got {type(client).__name__}")
