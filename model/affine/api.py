"""What impl's public API does to handles: which calls consume, what they return.

This table is the checker's whole knowledge of impl (read from impl's docstrings:
``impl/budget.py``, ``impl/receipts.py``, ``impl/pool.py``, ``impl/session.py``). A
method not listed here, called or read on a tracked handle, counts as a plain *use*
(every method and property of a consumed impl value raises ``AffineViolation``).

Amounts: when every amount involved is an int literal, :func:`raises` says whether the
call is certain to raise (a refusal or an invalid amount, after which impl leaves every
handle as it was) and :func:`result_amounts` what the new handles hold.
"""

from __future__ import annotations

from dataclasses import dataclass

TICKETS = frozenset({"Receipt", "ReasoningReceipt", "StreamReceipt",
                     "Reservation", "ReasoningReservation", "StreamReservation"})
"""Reserved money awaiting resolution (forfeited, with a ResourceWarning, if dropped)."""
MUST_RESOLVE = TICKETS | {"Refund"}
"""Values that must be resolved or applied (the counterpart of Rust's ``#[must_use]``)."""
AFFINE = MUST_RESOLVE | {"Budget"}
"""Values consumed by their operations: any use after that raises AffineViolation."""
BOOKS = frozenset({"Session", "BudgetPool"})
"""Ledgers: not consumed by their operations (a Session's take() works once)."""
KINDS = AFFINE | BOOKS
"""Every impl class the checker tracks."""
STREAMS = frozenset({"StreamReceipt", "StreamReservation"})


@dataclass(frozen=True)
class Method:
    """One method of an impl class, as the checker models it.

    ``consumes_self``: the receiver is consumed on success. ``consumed_arg``: the name
    of a Budget parameter (positional number ``consumed_at``) that is consumed too.
    ``results``: kinds of the returned handles (one kind, a tuple for a returned tuple,
    ``()`` for none).
    """

    consumes_self: bool
    results: tuple[str, ...] | str = ()
    consumed_arg: str | None = None
    consumed_at: int = 0


_RESERVE = Method(True, ("Budget", "Receipt"))
_RESOLVE = Method(True)
_CHUNK = Method(False)

METHODS: dict[str, dict[str, Method]] = {
    "Budget": {
        "spend": Method(True, "Budget"),
        "reserve": _RESERVE,
        "reserve_with_reasoning": Method(True, ("Budget", "ReasoningReceipt")),
        "reserve_stream": Method(True, ("Budget", "StreamReceipt")),
        "split": Method(True, ("Budget", "Budget")),
        "merge": Method(True, "Budget", consumed_arg="other"),
        "consume": Method(True, "int"),
    },
    "Receipt": {"confirm": Method(True, "Refund"), "forfeit": _RESOLVE},
    "StreamReceipt": {"confirm_chunk": _CHUNK, "close": Method(True, "Refund"),
                      "forfeit": _RESOLVE},
    "Reservation": {"commit": _RESOLVE, "cancel": _RESOLVE, "forfeit": _RESOLVE},
    "StreamReservation": {"confirm_chunk": _CHUNK, "close": _RESOLVE, "forfeit": _RESOLVE},
    "Refund": {"apply_to": Method(True, "Budget", consumed_arg="budget")},
    "Session": {"take": Method(True, "Budget"),
                "reconcile": Method(False, "Budget", consumed_arg="budget", consumed_at=1)},
    "BudgetPool": {
        "reserve": Method(False, "Reservation"),
        "reserve_with_reasoning": Method(False, "ReasoningReservation"),
        "reserve_stream": Method(False, "StreamReservation"),
    },
}
METHODS["ReasoningReceipt"] = METHODS["Receipt"]
METHODS["ReasoningReservation"] = METHODS["Reservation"]

_LEAVES = ("AffineViolation", "InsufficientBudget", "InvalidAmount", "ChargeExceedsReservation",
           "BudgetTypeError", "AmountTypeError", "SessionMismatch", "EstimatorError",
           "MissingUsage", "BilledTotalBelowCharged", "Overdraft", "LedgerClosed")
ERRORS: dict[str, frozenset[str]] = {name: frozenset({name}) for name in _LEAVES}
"""impl's exception classes (``impl.errors``): each with the classes it catches."""
ERRORS["InvalidAmount"] = frozenset({"InvalidAmount", "ChargeExceedsReservation",
                                     "BilledTotalBelowCharged"})
ERRORS["InsufficientBudget"] = frozenset({"InsufficientBudget", "LedgerClosed"})
ERRORS["BudgetTypeError"] = frozenset({"BudgetTypeError", "AmountTypeError"})
ERRORS["BudgetError"] = frozenset(_LEAVES)

_AMOUNT = frozenset({"InvalidAmount", "ChargeExceedsReservation", "AmountTypeError",
                     "BudgetTypeError"})
_REFUSING = _AMOUNT | {"InsufficientBudget", "LedgerClosed", "AffineViolation"}
_PAIRING = frozenset({"AffineViolation", "SessionMismatch", "BudgetTypeError"})
_ONLY_AFFINE = frozenset({"AffineViolation"})
_RECONCILING = _PAIRING | _AMOUNT | {"BilledTotalBelowCharged", "InsufficientBudget",
                                     "Overdraft"}


def errors(kind: str, name: str) -> frozenset[str]:
    """The impl exceptions ``kind.name(...)`` may raise (a property: AffineViolation)."""
    if name in ("spend", "reserve", "reserve_stream", "reserve_with_reasoning", "split"):
        return _REFUSING
    if name in ("merge", "apply_to"):
        return _PAIRING
    if name == "reconcile":
        return _RECONCILING
    if name in ("confirm", "commit", "confirm_chunk"):
        return _AMOUNT | _ONLY_AFFINE
    if kind in CONSTRUCTORS and name == "__init__":
        return _AMOUNT
    return _ONLY_AFFINE


CONSTRUCTORS = frozenset({"Session", "BudgetPool"})
"""impl classes that user code may construct."""

AMOUNT_ARGS: dict[str, tuple[str, ...]] = {
    "spend": ("r",), "reserve": ("r",), "reserve_stream": ("r",), "split": ("a",),
    "reserve_with_reasoning": ("visible", "reasoning"), "confirm": ("actual",),
    "commit": ("actual",), "confirm_chunk": ("c",),
}
"""The int parameters of each method, in positional order."""


def method(kind: str, name: str) -> Method | None:
    """The model of ``kind.name``, or ``None`` when it is a plain attribute or property."""
    return METHODS.get(kind, {}).get(name)


def raises(kind: str, name: str, held: int | None, args: tuple[int | None, ...],
           charged: int | None = None) -> bool:
    """True when impl certainly raises on this call (nothing consumed, nothing changed).

    ``held`` is what the receiver holds (a Budget's amount, a receipt's ``r``, a
    stream's outstanding rest) and ``args`` the call's amount arguments, ``None`` where
    unknown. Only refusals and invalid amounts are predicted; anything unknown is
    "may succeed".
    """
    if name in ("spend", "reserve", "reserve_stream"):
        r = args[0] if args else None
        if r is not None and (r <= 0 or (held is not None and r > held)):
            return True
        return r is not None and charged is not None and not 0 <= charged <= r
    if name == "split":
        a = args[0] if args else None
        return a is not None and (a < 0 or (held is not None and a > held))
    if name == "reserve_with_reasoning":
        if len(args) < 2 or args[0] is None or args[1] is None:
            return False
        v, w = args[0], args[1]
        return v < 0 or w < 0 or v + w == 0 or (held is not None and v + w > held)
    if name in ("confirm", "commit", "confirm_chunk"):
        c = args[0] if args else None
        return c is not None and (c < 0 or (held is not None and c > held))
    return False


def result_amounts(kind: str, name: str, held: int | None, args: tuple[int | None, ...],
                   other: int | None = None) -> tuple[int | None, ...]:
    """What each returned handle holds after a successful call (``None``: unknown).

    ``other`` is what a consumed Budget argument holds (merge, apply_to).
    """
    first = args[0] if args else None
    if name == "reconcile":  # the drift depends on total_charged, unknown here
        return (None,)
    if kind in BOOKS:
        return (held if name == "take" else first,)
    if name in ("spend", "reserve", "reserve_stream", "split", "reserve_with_reasoning"):
        if name == "reserve_with_reasoning":
            first = None if len(args) < 2 or None in args[:2] else sum(a or 0 for a in args)
        rest = None if held is None or first is None else held - first
        return (first, rest) if name == "split" else (rest, first)
    if name in ("merge", "apply_to"):
        return (None if held is None or other is None else held + other,)
    if name == "confirm":
        return (None if held is None or first is None else held - first,)
    if name == "close":
        return (held,)
    return (None,)
