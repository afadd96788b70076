"""Exact, bounded reading of prices and margins (rates in USD per million tokens).

Every rate of :class:`impl.Rates` and every margin of :class:`impl.WithMargin` is read
here into an exact value. Reading is *bounded*: before any conversion whose cost grows
with the value (``Fraction(Decimal("1e10000000"))`` builds a ten-million-digit integer),
the size of the input is checked with constant-time tests (the length of a str,
``sys.getsizeof`` of a Decimal, ``int.bit_length``), and then its magnitude and
resolution:

- magnitude: ``|value| < 10**9`` (:data:`MAX_MAGNITUDE`);
- resolution: at most 40 decimal places once trailing zeros are dropped, i.e. the exact
  value's denominator divides ``10**40`` (a Fraction: its denominator is at most
  ``10**40``) (:data:`MAX_DECIMALS`);
- a str of at most 100 characters, a Decimal of at most 150 digits (:data:`MAX_CHARS`).

Why no real price or margin is ever refused: published LLM prices are quoted with at
most six decimals of a USD per million tokens and the dearest is below 10**3 USD/Mtok,
a million times below the magnitude bound; 40 decimal places is 34 more than any price
list uses (the ledger's unit, 1 uc = 1e-5 USD, is 11 orders of magnitude coarser than
1e-6 USD/Mtok). A margin is a small factor (1.1, 1.5, 2); a margin of 10**9 would
multiply every estimate by a billion. Everything beyond the bounds is rejected in
microseconds with an error that names the bound.
"""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from impl.errors import BudgetError, BudgetTypeError

MAX_MAGNITUDE = 10**9
"""Every rate and margin is strictly below this in absolute value."""

MAX_DECIMALS = 40
"""Every rate and margin has at most this many decimal places (denominator <= 10**40)."""

MAX_CHARS = 100
"""A rate or margin given as a str has at most this many characters."""

_MAX_DIGITS = 150
_MAX_DECIMAL_SIZE = sys.getsizeof(Decimal("9" * _MAX_DIGITS))
_MAX_DEN = 10**MAX_DECIMALS
_MAX_DEN_BITS = _MAX_DEN.bit_length()
_MAX_MAG_BITS = MAX_MAGNITUDE.bit_length()
_BOUNDS = (f"|value| < 10**9 with at most {MAX_DECIMALS} decimal places "
           f"(a str of at most {MAX_CHARS} characters)")


def _out_of_bounds(what: str, shown: str, error: type[BudgetError]) -> BudgetError:
    return error(f"{what} is out of bounds: got {shown}; a price or margin must have "
                 f"{_BOUNDS}")


def _short(value: object) -> str:
    """``repr`` of a small value, only the size of a large one (never a huge string)."""
    if isinstance(value, str) and len(value) > MAX_CHARS:
        return f"a str of {len(value)} characters"
    if isinstance(value, Decimal) and sys.getsizeof(value) > _MAX_DECIMAL_SIZE:
        return f"a Decimal of {sys.getsizeof(value)} bytes"
    if isinstance(value, Fraction) and max(value.numerator.bit_length(),
                                           value.denominator.bit_length()) > 256:
        return (f"a Fraction of {value.numerator.bit_length()}-bit numerator and "
                f"{value.denominator.bit_length()}-bit denominator")
    if isinstance(value, int) and value.bit_length() > 256:
        return f"an int of {value.bit_length()} bits"
    return repr(value)


def _check_decimal(d: Decimal, value: object, what: str,
                   error: type[BudgetError]) -> Decimal:
    if not d.is_finite():
        raise error(f"{what} must be finite, got {_short(value)}")
    if sys.getsizeof(d) > _MAX_DECIMAL_SIZE:
        raise _out_of_bounds(what, _short(value), error)
    if d.is_zero():
        return d
    if d.adjusted() >= 9:  # adjusted() is the exponent of the leading digit: O(1)
        raise _out_of_bounds(what, _short(value), error)
    _sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if exponent + trailing < -MAX_DECIMALS:
        raise _out_of_bounds(what, _short(value), error)
    return d


def bounded_decimal(value: object, what: str, error: type[BudgetError]) -> Decimal:
    """Read ``value`` (int, Decimal, decimal str, or float through its shortest repr)
    as a finite Decimal within the bounds of this module.

    Raises :class:`impl.BudgetTypeError` for another type (bool included) and
    ``error`` (a ValueError subclass of impl) for text that is not a decimal number, a
    non-finite value, or a value out of bounds; in time independent of the value's
    size.
    """
    if type(value) is bool or not isinstance(value, int | float | str | Decimal):
        raise BudgetTypeError(
            f"{what} must be a decimal number (Decimal, decimal str, int or float), got "
            f"{type(value).__name__}")
    if isinstance(value, int):
        if value.bit_length() > _MAX_MAG_BITS or abs(value) >= MAX_MAGNITUDE:
            raise _out_of_bounds(what, _short(value), error)
        return Decimal(value)
    text: str | Decimal = repr(value) if isinstance(value, float) else value
    if isinstance(text, str):
        if len(text) > MAX_CHARS:
            raise _out_of_bounds(what, _short(value), error)
        try:
            text = Decimal(text.strip())
        except InvalidOperation:
            raise error(f"{what} must be a decimal number, got {value!r}") from None
    return _check_decimal(text, value, what, error)


def bounded_ratio(value: object, what: str, error: type[BudgetError]) -> Fraction:
    """Read ``value`` as an exact Fraction within the bounds of this module.

    Like :func:`bounded_decimal`, and also accepts a :class:`~fractions.Fraction`
    (denominator at most ``10**40``). A float is read through its shortest repr
    (``1.1`` is ``11/10``, not the binary double).
    """
    if isinstance(value, Fraction):
        num, den = value.numerator, value.denominator
        if (den.bit_length() > _MAX_DEN_BITS or den > _MAX_DEN
                or num.bit_length() > _MAX_DEN_BITS + _MAX_MAG_BITS
                or abs(value) >= MAX_MAGNITUDE):
            raise _out_of_bounds(what, _short(value), error)
        return value
    return Fraction(bounded_decimal(value, what, error))
