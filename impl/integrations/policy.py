"""Failure classification: was a failed call possibly billed?

A failed call's reservation is resolved one of two ways:

- ``"cancel"``: the request was rejected before the provider processed it (it never
  left, the connection was refused, or a 4xx rejection such as 400/401/403/404/409/
  422/429): nothing was billed, the money returns to the pool.
- ``"forfeit"``: the request may have been processed (a timeout after it was sent, a
  dropped connection, a 5xx, 408/499, a stream cut off, anything unknown): it may have
  been billed, so the reservation is given up (``total_unrecoverable``).

:func:`classify_failure` is the default; pass your own ``on_failure`` function (an
exception to ``"cancel"`` or ``"forfeit"``) to override it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal, cast

from impl.errors import BudgetTypeError

Outcome = Literal["cancel", "forfeit"]
FailurePolicy = Callable[[BaseException], Outcome]

_NOT_SENT = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol",
                       "InvalidURL", "ProxyError"})
"""httpx / httpx2 transport errors raised before any byte of the request was sent."""

_MAYBE_PROCESSED_4XX = frozenset({408, 499})
"""4xx statuses sent after the server may have started on the request."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of an SDK / httpx status error, or None."""
    code = getattr(exc, "status_code", None)
    if type(code) is not int:
        code = getattr(getattr(exc, "response", None), "status_code", None)
    return code if type(code) is int else None


def classify_failure(exc: BaseException) -> Outcome:
    """``"cancel"`` if ``exc`` shows the request was rejected before processing, else
    ``"forfeit"``.

    Cancel: an HTTP status error 400-499 except 408 and 499; a connection refused or
    any transport error raised before the request was sent (httpx ``ConnectError``,
    ``ConnectTimeout``, ``PoolTimeout``...), found anywhere in the exception's cause
    chain. Everything else (5xx, read/write timeouts, dropped connections, errors in a
    stream, interrupts) is forfeit: it may have been billed.
    """
    code = status_code(exc)
    if code is not None:
        return "cancel" if 400 <= code < 500 and code not in _MAYBE_PROCESSED_4XX else "forfeit"
    for e in _chain(exc):
        if isinstance(e, ConnectionRefusedError) or type(e).__name__ in _NOT_SENT:
            return "cancel"
    return "forfeit"


def check_policy(on_failure: object) -> FailurePolicy:
    """Validate a user failure policy (None: :func:`classify_failure`)."""
    if on_failure is None:
        return classify_failure
    if not callable(on_failure):
        raise BudgetTypeError(
            f"budgeted: on_failure must be a function from an exception to 'cancel' or "
            f"'forfeit', got {type(on_failure).__name__}")
    return cast(FailurePolicy, on_failure)
