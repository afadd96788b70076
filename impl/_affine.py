"""Shared machinery of affine values: the no-copy mixin.

Minting. Value classes (Budget, Receipt, Refund, Reservation, ...) have no
``__init__``: the library creates them with ``cls()`` and fills their slots (about
100 ns cheaper per object than a Python ``__init__``, which matters on the pool's hot
path). Consequences for callers: ``Budget(100)`` raises ``TypeError`` ("takes no
arguments"), and a bare ``Budget()`` is an inert blank that holds no money, is not
counted anywhere, and whose every operation raises ``AttributeError``. Budgets with
money come only from :meth:`impl.Session.take` and from operations on budgets and
refunds; reservations only from :class:`impl.BudgetPool` (paper section 4.5: an
auditable minting surface). Private attributes (``_amount``, ...) are not part of the
API: Python cannot stop code that writes them on purpose.
"""

from __future__ import annotations

from typing import NoReturn

from impl.errors import no_copy


class Affine:
    """Mixin: copying or pickling raises :class:`impl.AffineViolation`, always."""

    __slots__ = ()

    def __copy__(self) -> NoReturn:
        raise no_copy(type(self).__name__)

    def __deepcopy__(self, memo: object) -> NoReturn:
        raise no_copy(type(self).__name__)

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise no_copy(type(self).__name__)

    def __reduce__(self) -> NoReturn:
        raise no_copy(type(self).__name__)
