"""The exceptions of the library, and the helpers that build their messages.

Hierarchy (every class is an :class:`BudgetError`, so ``except impl.BudgetError``
catches everything the library raises on purpose):

- :class:`AffineViolation` (also ``RuntimeError``): a consumed value was used, copied,
  pickled or re-classed, a receipt/reservation was resolved twice, a refund applied
  twice, or a session's root budget taken twice. It is a bug in the caller, like using
  a closed resource, hence ``RuntimeError`` and not ``ValueError``. :class:`NotMinted`
  is the case of a Session or BudgetPool subclass whose ``__init__`` skipped the
  library's.
- :class:`InsufficientBudget` (no builtin base on purpose): an amount does not fit in
  what the handle or pool holds. It is an expected outcome to handle (refuse the LLM
  call), not bad input, so an ``except ValueError`` written for bad input never
  swallows it. :class:`LedgerClosed` is the case of a ledger closed by an
  :class:`Overdraft`: every later reservation or spend is refused.
- :class:`Overdraft` (also ``RuntimeError``): ``reconcile(billed_total)`` found a drift
  larger than the ledger's ``live_sum``; the ledger is unchanged and closed (fail
  closed, docs/SEMANTICS.md "The ninth transition").
- :class:`InvalidAmount` (also ``ValueError``): an amount out of range (``<= 0`` where
  the spec needs ``> 0``, negative, ``>= 2**63``, a charge above its reservation).
  :class:`ChargeExceedsReservation` is the case ``charged/actual > r``;
  :class:`BilledTotalBelowCharged` the case of a billed total below what the ledger
  already charged.
- :class:`BudgetTypeError` (also ``TypeError``): a value of the wrong type;
  :class:`AmountTypeError` is the case of an amount that is not an ``int`` (``bool``,
  ``float``, ``str``, ``None``... are refused).
- :class:`SessionMismatch` (also ``ValueError``): merging budgets of two sessions, or
  applying a refund to a budget of another session.
- :class:`EstimatorError` (also ``ValueError``): an estimator that cannot be built (a
  tokenizer encoding that is not available locally, a margin below 1).
- :class:`MissingUsage` (also ``ValueError``): a provider usage report without the
  token counts needed to price it (never read as a silent zero).

Every refused or invalid operation leaves every handle usable and the ledger unchanged.

:class:`ObserverWarning` (a ``RuntimeWarning``, not an error) reports an exception
raised by an observer (see :meth:`impl.Session.observe`).
"""

from __future__ import annotations

AMOUNT_LIMIT = 1 << 63
"""Every amount must be strictly below this (paper assumption A2, ``u64`` headroom)."""


class BudgetError(Exception):
    """Base class of every error the library raises on purpose."""


class AffineViolation(BudgetError, RuntimeError):
    """A consumed (moved) value was used again, copied, or pickled."""


class NotMinted(AffineViolation, AttributeError):
    """A value the library did not make (a bare ``Budget()``, a clone made by
    ``copyreg.__newobj__``, a subclass that skipped ``__init__``) was used: it holds
    nothing and cannot touch a ledger. Also an ``AttributeError``: what such a value
    lacks is the library's private state."""


class InsufficientBudget(BudgetError):
    """The requested amount exceeds what the handle or pool holds; nothing changed.

    Attributes: ``operation`` (e.g. ``"reserve"``), ``requested`` and ``available``
    (both int uc).
    """

    def __init__(self, message: str, operation: str, requested: int, available: int) -> None:
        super().__init__(message)
        self.operation = operation
        self.requested = requested
        self.available = available


class InvalidAmount(BudgetError, ValueError):
    """An amount is out of range for the operation; nothing changed."""


class ChargeExceedsReservation(InvalidAmount):
    """A charge is above its reservation (``c > r``): the estimate was unsound.

    Assumption A1 (input estimate) or A6 (output cap) was broken for this call. The
    receipt or reservation stays open so the caller can decide (forfeit it, or confirm
    it at its full amount and reconcile the difference out of band).
    """


class BilledTotalBelowCharged(InvalidAmount):
    """``reconcile(billed_total)`` with ``billed_total < total_charged``; nothing changed.

    Providers do not refund usage, so a true cumulative bill never falls below what
    the ledger already charged: a lower figure is a wrong input (typically a bill for
    one period instead of the cumulative total). Attributes: ``billed_total`` and
    ``total_charged`` (int uc).
    """

    def __init__(self, message: str, billed_total: int, total_charged: int) -> None:
        super().__init__(message)
        self.billed_total = billed_total
        self.total_charged = total_charged


class Overdraft(BudgetError, RuntimeError):
    """The provider billed more than the ledger can absorb: the drift
    ``billed_total - total_charged`` exceeds ``live_sum``.

    The six ledger fields are unchanged (taking the drift anyway would break
    CapSoundness or the money in-flight handles own); the ledger is closed: every
    later reservation or spend raises :class:`LedgerClosed`, while settling what is in
    flight stays allowed. Attributes (int uc): ``billed_total``, ``total_charged``,
    ``drift`` (their difference), ``live_sum`` and ``overdraft`` (what could not be
    absorbed: ``drift - live_sum`` of the worst reconciliation so far).
    """

    def __init__(self, message: str, *, billed_total: int, total_charged: int, drift: int,
                 live_sum: int, overdraft: int) -> None:
        super().__init__(message)
        self.billed_total = billed_total
        self.total_charged = total_charged
        self.drift = drift
        self.live_sum = live_sum
        self.overdraft = overdraft


class LedgerClosed(InsufficientBudget):
    """A reservation or spend on a ledger closed by an :class:`Overdraft`; nothing
    changed. ``available`` is 0 (nothing can be reserved any more); ``overdraft`` is
    the ledger's recorded overdraft (int uc)."""

    def __init__(self, message: str, operation: str, requested: int, overdraft: int) -> None:
        super().__init__(message, operation, requested, 0)
        self.overdraft = overdraft


class BudgetTypeError(BudgetError, TypeError):
    """A value of the wrong type was passed; nothing changed."""


class AmountTypeError(BudgetTypeError):
    """An amount is not an ``int`` (``bool``, ``float``, ``str``, ``None``... are refused)."""


class SessionMismatch(BudgetError, ValueError):
    """Two values of different sessions were combined; nothing changed."""


class EstimatorError(BudgetError, ValueError):
    """An estimator cannot be built as asked."""


class MissingUsage(BudgetError, ValueError):
    """A usage report lacks the token counts needed to compute a charge."""


class ObserverWarning(RuntimeWarning):
    """An observer raised: reported, never propagated (the step stays applied)."""


_SHOWN_DIGITS = 40
"""Longer ints are shown by their size: formatting a huge int is slow, and Python
refuses to format one of more than 4,300 digits."""


def show(value: object) -> str:
    """``repr(value)`` for messages, bounded: a huge int is shown by its size."""
    if isinstance(value, int) and not isinstance(value, bool):
        n = int(value)
        if n.bit_length() > _SHOWN_DIGITS * 3:
            digits = int(n.bit_length() * 0.30103) + 1
            return f"{'-' if n < 0 else ''}<an int of about {digits} digits>"
        return str(n)
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not replace the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def amount_error(op: str, name: str, value: object, *, minimum: int = 1,
                 maximum: int | None = None, remedy: str = "") -> BudgetError:
    """Build the error for an amount ``value`` that failed the fast check.

    The fast check is ``type(value) is int and minimum <= value (<= maximum) < 2**63``;
    this function only runs on failure, to classify it and write the message.
    """
    if type(value) is not int:
        kind = type(value).__name__
        hint = " (bool is not an amount)" if type(value) is bool else ""
        return AmountTypeError(
            f"{op}: {name} must be an int number of micro-cents, got {kind} {show(value)}{hint}; "
            f"pass an int such as {name}=100"
        )
    if value < minimum:
        bound = "> 0" if minimum == 1 else f">= {minimum}"
        return InvalidAmount(
            f"{op}: {name} must be {bound}, got {show(value)}"
            + (f"; {remedy}" if remedy else "")
        )
    if value >= AMOUNT_LIMIT:
        return InvalidAmount(
            f"{op}: {name}={show(value)} is not below 2**63; amounts must fit in 63 bits"
        )
    if maximum is not None and value > maximum:
        return InvalidAmount(
            f"{op}: {name}={show(value)} exceeds {maximum}" + (f"; {remedy}" if remedy else "")
        )
    return InvalidAmount(f"{op}: invalid {name}={show(value)}")  # pragma: no cover


def charge_error(op: str, name: str, value: object, r: int, *, remedy: str,
                 of: str = "the reservation") -> BudgetError:
    """Build the error for a charge ``value`` that is not an int in ``0..r``."""
    if type(value) is int and 0 <= value < AMOUNT_LIMIT and value > r:
        return ChargeExceedsReservation(
            f"{op}: {name}={value} exceeds {of} of {r} uc "
            f"(the estimate was unsound: assumption A1 or A6 broken); {remedy}"
        )
    return amount_error(op, name, value, minimum=0)


def closed_error(op: str, r: int, overdraft: int) -> LedgerClosed:
    """Build the refusal of ``op(r)`` on a ledger closed by an overdraft."""
    return LedgerClosed(
        f"{op}({show(r)}) refused: the ledger is closed, the provider billed {overdraft} uc "
        f"more than it could absorb (Overdraft); settle what is in flight and start a new "
        f"session or pool with a cap that covers the true bill", op, r, overdraft)


def below_charged_error(op: str, billed: int, charged: int) -> BilledTotalBelowCharged:
    """Build the refusal of ``op(billed)``: a billed total below the ``charged`` total."""
    return BilledTotalBelowCharged(
        f"{op}({billed}) refused: billed_total is below the {charged} uc the "
        f"ledger already charged; providers do not refund usage, so pass the "
        f"provider's cumulative bill for this ledger (not one period's bill)",
        billed, charged)


def overdraft_error(op: str, billed: int, charged: int, d: int, live: int, over: int, *,
                    closed_before: bool) -> Overdraft:
    """Build the :class:`Overdraft` of ``op(billed)``: a drift ``d`` above ``live``, or
    any drift on a ledger ``closed_before``; ``over`` is the overdraft now recorded."""
    state = ("the ledger was already closed and stays closed" if closed_before else
             "the ledger is unchanged and now closed")
    return Overdraft(
        f"{op}({billed}): the provider billed {d} uc more than the ledger charged "
        f"({charged} uc) and only {live} uc is live, so {over} uc cannot be "
        f"absorbed; {state}: every later reservation is refused; settle what is "
        f"in flight and continue with a new session or pool whose cap covers "
        f"the true bill",
        billed_total=billed, total_charged=charged, drift=d, live_sum=live, overdraft=over)


def consumed(what: str, op: str) -> AffineViolation:
    """Build the error for using a consumed value."""
    return AffineViolation(
        f"{op} on a consumed {what}: it was already spent, split, merged, resolved or "
        f"applied; use the value that operation returned instead"
    )


def no_copy(what: str) -> AffineViolation:
    """Build the error for copying or pickling an affine value."""
    return AffineViolation(
        f"a {what} cannot be copied or pickled: it is affine (used at most once); "
        f"split a Budget to share it, or pass the value itself"
    )
