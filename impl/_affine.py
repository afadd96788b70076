"""Shared machinery of affine values: the no-copy mixin.

Minting. Value classes (Budget, Receipt, Refund, Reservation, ...) have no
``__init__``: the library creates them with ``cls()`` and fills their slots (about
100 ns cheaper per object than a Python ``__init__``, which matters on the pool's hot
path). Consequences for callers: ``Budget(100)`` raises ``TypeError`` ("takes no
arguments"), and a bare ``Budget()`` is an inert blank that holds no money, is not
counted anywhere, and whose every operation raises :class:`impl.NotMinted` (an
``AffineViolation`` and an ``AttributeError``; passed as an argument to an operation,
it gets :class:`impl.BudgetTypeError`). A subclass of Session or
BudgetPool whose ``__init__`` does not call the library's raises
:class:`impl.NotMinted` when constructed. Budgets with money come only from
:meth:`impl.Session.take` and from operations on budgets and refunds; reservations
only from :class:`impl.BudgetPool` (paper section 4.5: an auditable minting surface).

Clone paths. Every way Python offers to copy an object without naming a private
attribute is closed: ``copy.copy``/``deepcopy``, ``pickle`` at every protocol,
``object.__reduce_ex__(v, protocol)`` and ``__reduce__``, ``v.__getstate__()`` and
``__setstate__`` raise :class:`impl.AffineViolation`; ``object.__getstate__(v)`` lists
no slot (``__slotnames__`` is empty), so ``copyreg.__newobj__(type(v))`` plus the
attributes it returns gives a blank; assigning ``v.__class__`` raises. Private
attributes (``_amount``, ...) are not part of the API: Python cannot stop code that
writes them on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from impl.errors import AffineViolation, NotMinted, no_copy


class Affine:
    """Mixin: copying, pickling or re-classing raises :class:`impl.AffineViolation`."""

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # object.__getstate__ and copyreg read the slots to copy from here.
        cls.__slotnames__ = []  # type: ignore[attr-defined]

    def __copy__(self) -> NoReturn:
        raise no_copy(type(self).__name__)

    def __deepcopy__(self, memo: object) -> NoReturn:
        raise no_copy(type(self).__name__)

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise no_copy(type(self).__name__)

    def __reduce__(self) -> NoReturn:
        raise no_copy(type(self).__name__)

    def __getstate__(self) -> NoReturn:
        raise no_copy(type(self).__name__)

    def __setstate__(self, state: object) -> NoReturn:
        raise no_copy(type(self).__name__)

    if not TYPE_CHECKING:  # a type checker would then accept any attribute name

        def __getattr__(self, name: str) -> NoReturn:
            # Python calls this only when the normal lookup failed (no cost otherwise).
            # For a name the class defines (a slot, or a property reading one), that
            # means a blank: a value the library did not make.
            cls = type(self)
            if any(name in vars(c) for c in cls.__mro__):
                raise NotMinted(
                    f"this {cls.__name__} was not made by the library (it has no "
                    f"{name}): it holds nothing and cannot touch a ledger; values come "
                    f"only from a Session or BudgetPool and the operations on their "
                    f"values")
            raise AttributeError(f"{cls.__name__!r} object has no attribute {name!r}",
                                 name=name, obj=self)

    @property
    def __class__(self) -> type:
        return type(self)

    @__class__.setter
    def __class__(self, cls: type) -> NoReturn:
        raise AffineViolation(
            f"cannot change the class of a {type(self).__name__}: its class decides "
            f"how it moves money; make a new value through the library instead")
