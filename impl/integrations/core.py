"""Settlement of one budgeted call against a pool, for any client.

A call is reserved before it is made (:class:`BudgetedCall`), then resolved exactly
once: settled at its charge (``commit``), cancelled (never billed), or forfeited (may
have been billed). The pool is anything with ``reserve(r)`` returning a reservation
with ``commit(c)``, ``cancel()`` and ``forfeit()``: :class:`impl.BudgetPool` and the
fleet's shared pool.

Public helpers for clients other than the OpenAI and Anthropic SDKs:

- :func:`reserve_call`: a context manager around one call; ``settle(usage)`` after it.
- :func:`budgeted_call`: a decorator for a sync or async function, given the estimate
  and a function from its result to the provider's usage report.
"""

from __future__ import annotations

import functools
import inspect
import threading
import warnings
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar, cast

from impl.errors import (
    AffineViolation,
    BudgetError,
    BudgetTypeError,
    InsufficientBudget,
    MissingUsage,
    amount_error,
)
from impl.integrations.policy import FailurePolicy, Outcome, check_policy
from impl.pricing import Rates, charge_uc

T = TypeVar("T")


class ReservationLike(Protocol):
    """What :meth:`PoolLike.reserve` returns (an :class:`impl.Reservation`)."""

    def commit(self, actual: int) -> None: ...
    def cancel(self) -> None: ...
    def forfeit(self) -> None: ...


class PoolLike(Protocol):
    """A pool budgeted calls reserve from (:class:`impl.BudgetPool`, the shared pool)."""

    def reserve(self, r: int) -> ReservationLike: ...


class BudgetWarning(UserWarning):
    """A budgeted call settled conservatively (no usage report, a charge above its
    reservation, a call resolved by nobody)."""


def check_pool(pool: object, who: str) -> PoolLike:
    """Refuse anything that is not a pool (it must have ``reserve``)."""
    if not callable(getattr(pool, "reserve", None)):
        raise BudgetTypeError(
            f"{who}: pool must be an impl.BudgetPool (or a pool with reserve/commit/"
            f"cancel/forfeit), got {type(pool).__name__}")
    return cast(PoolLike, pool)


class BudgetedCall:
    """The reservation of one call, resolved exactly once (thread-safe).

    Built by :func:`reserve_call` (or the SDK wrappers). Resolve it with
    :meth:`settle` (from a usage report), :meth:`settle_uc`, :meth:`cancel`,
    :meth:`forfeit` or :meth:`fail` (an exception, classified by the failure policy).
    Used as a (sync or async) context manager, an exception leaving the block is
    classified by the policy and re-raised; a block left without resolving forfeits
    the reservation with a :class:`BudgetWarning`.
    """

    __slots__ = ("_lock", "_open", "_res", "amount", "outcome", "policy", "pool", "rates")

    def __init__(self, pool: PoolLike, amount: int, rates: Rates | None,
                 policy: FailurePolicy) -> None:
        if type(amount) is not int or amount <= 0:
            raise amount_error("reserve_call", "amount", amount,
                               remedy="a call costs something: reserve its estimate")
        self.pool = pool
        self.amount = amount
        self.rates = rates
        self.policy = policy
        self.outcome: str | None = None
        """``None`` while open, then ``"commit"``, ``"cancel"`` or ``"forfeit"``."""
        self._lock = threading.Lock()
        self._res = pool.reserve(amount)
        self._open = True

    def _take(self) -> ReservationLike | None:
        with self._lock:
            if not self._open:
                return None
            self._open = False
            return self._res

    @property
    def open(self) -> bool:
        """Whether the reservation is still unresolved."""
        return self._open

    def settle_uc(self, charge: int) -> None:
        """Settle at ``charge`` uc; the unused part returns to the pool.

        A charge above the reservation (the estimate was unsound) commits the whole
        reservation, then reserves and commits the excess if the pool holds it, so
        ``total_charged`` still equals the bill; if it does not, a
        :class:`BudgetWarning` reports the uncovered part. No-op when resolved.
        """
        if type(charge) is not int or charge < 0:
            raise amount_error("settle_uc", "charge", charge, minimum=0)
        res = self._take()
        if res is None:
            return
        r = self.amount
        if not self._apply(res.commit, min(charge, r)):
            return
        self.outcome = "commit"
        if charge > r:
            extra = charge - r
            try:
                self.pool.reserve(extra).commit(extra)
            except InsufficientBudget as e:
                warnings.warn(BudgetWarning(
                    f"a call was billed {charge} uc above its reservation of {r} uc and the "
                    f"pool could not cover the excess of {extra} uc ({e}); the estimate was "
                    f"unsound: raise the estimator's margin"), stacklevel=2)

    def settle(self, usage: object) -> None:
        """Settle from a provider usage report, priced by :func:`impl.charge_uc` at
        ``rates``. A report without token counts forfeits the reservation with a
        :class:`BudgetWarning` (never read as zero)."""
        if self.rates is None:
            raise BudgetTypeError(
                "settle: this call has no rates to price usage with; pass rates= to "
                "reserve_call, or use settle_uc(charge)")
        try:
            charge = charge_uc(usage, self.rates)
        except MissingUsage as e:
            if self._resolve("forfeit"):
                warnings.warn(BudgetWarning(
                    f"reservation of {self.amount} uc forfeited: {e}"), stacklevel=2)
            return
        self.settle_uc(charge)

    def cancel(self) -> None:
        """The call was never billed: the whole reservation returns. No-op when resolved."""
        self._resolve("cancel")

    def forfeit(self) -> None:
        """The call may have been billed, how much is unknown: give the reservation up."""
        self._resolve("forfeit")

    def fail(self, exc: BaseException) -> Outcome:
        """Resolve after the call raised ``exc``, as the failure policy says."""
        outcome = self.policy(exc)
        if outcome not in ("cancel", "forfeit"):
            self.forfeit()
            raise BudgetTypeError(
                f"on_failure returned {outcome!r} for {type(exc).__name__}; it must "
                f"return 'cancel' or 'forfeit' (the reservation was forfeited)") from exc
        self._resolve(outcome)
        return outcome

    def _resolve(self, outcome: Outcome) -> bool:
        res = self._take()
        if res is None:
            return False
        if outcome == "cancel":
            self._apply(res.cancel)
        else:
            try:
                self._apply(res.forfeit)
            except AffineViolation:
                # Collected together with an abandoned stream: the reservation's own
                # finalizer forfeited it first.
                pass
        self.outcome = self.outcome or outcome
        return True

    def _apply(self, op: Callable[..., object], *args: int) -> bool:
        """Run a settlement; one the pool refuses because the reservation is no longer
        held (a shared pool's expired lease: the store forfeited it) is a warning."""
        try:
            op(*args)
        except BudgetError as e:
            if type(e).__name__ != "LeaseExpired":
                raise
            self.outcome = "forfeit"
            warnings.warn(BudgetWarning(
                f"a call's reservation of {self.amount} uc could not be settled: {e}"),
                stacklevel=3)
            return False
        return True

    def _exit(self, ev: BaseException | None) -> None:
        if ev is not None:
            if self._open:
                self.fail(ev)
        elif self._resolve("forfeit"):
            warnings.warn(BudgetWarning(
                f"a reserve_call block of {self.amount} uc ended without settle(), "
                f"cancel() or forfeit(): forfeited"), stacklevel=3)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._exit(ev)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, et: type[BaseException] | None, ev: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._exit(ev)

    def __repr__(self) -> str:
        return f"<BudgetedCall {self.amount} uc, {self.outcome or 'open'}>"


def reserve_call(pool: PoolLike, amount: int, *, rates: Rates | None = None,
                 on_failure: FailurePolicy | None = None) -> BudgetedCall:
    """Reserve ``amount`` uc for one call of any client, before making it.

    Raises :class:`impl.InsufficientBudget` (nothing reserved) if it does not fit.
    Use it as a context manager::

        with reserve_call(pool, 500, rates=rates) as call:
            result = client.generate(...)        # an exception: cancel or forfeit
            call.settle(result.usage)            # by the policy, then re-raised
    """
    return BudgetedCall(check_pool(pool, "reserve_call"), amount, rates,
                        check_policy(on_failure))


def budgeted_call(pool: PoolLike, *, rates: Rates, estimate: Callable[..., int],
                  usage: Callable[[Any], object],
                  on_failure: FailurePolicy | None = None) -> Callable[[Callable[..., T]],
                                                                       Callable[..., T]]:
    """Decorate a function that makes one billed call (sync or ``async def``).

    Each call first reserves ``estimate(*args, **kwargs)`` uc (refused with
    :class:`impl.InsufficientBudget`, the function not called, if it does not fit),
    then settles from ``usage(result)`` priced at ``rates``; an exception is classified
    by ``on_failure`` (default :func:`impl.integrations.classify_failure`) and
    re-raised unchanged. The function's result is returned unchanged.
    """
    p = check_pool(pool, "budgeted_call")
    policy = check_policy(on_failure)

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        if inspect.iscoroutinefunction(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def arun(*args: Any, **kwargs: Any) -> Any:
                call = BudgetedCall(p, estimate(*args, **kwargs), rates, policy)
                try:
                    result = await afn(*args, **kwargs)
                except BaseException as e:
                    call.fail(e)
                    raise
                _settle_result(call, usage, result)
                return result

            return cast(Callable[..., T], arun)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> T:
            call = BudgetedCall(p, estimate(*args, **kwargs), rates, policy)
            try:
                result = fn(*args, **kwargs)
            except BaseException as e:
                call.fail(e)
                raise
            _settle_result(call, usage, result)
            return result

        return run

    return decorate


def _settle_result(call: BudgetedCall, usage: Callable[[Any], object], result: object) -> None:
    """The call returned, so it was billed: a failing ``usage`` forfeits, never cancels."""
    try:
        report = usage(result)
    except BaseException:
        call.forfeit()
        raise
    call.settle(report)
