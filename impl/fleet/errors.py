"""The errors of the shared pool, in :mod:`impl.errors`'s hierarchy.

Every class is an :class:`impl.BudgetError`; each also subclasses the matching
built-in exception, so generic handlers keep working:

- :class:`StoreUnavailable` (also ``ConnectionError``): the store could not be reached
  or did not answer within the pool's timeout. Nothing was spent: the operation either
  did not happen, or happened and is safe to retry by id (every operation is
  idempotent by reservation id).
- :class:`PoolNotFound` (also ``LookupError``): no pool of that name in the store,
  or its data was lost (deleted key, emptied table, store restarted without
  persistence). Never re-created silently: only :meth:`SharedPool.create` creates.
- :class:`PoolExists` (also ``ValueError``): :meth:`SharedPool.create` of a name taken.
- :class:`LeaseExpired`: a settlement (commit or cancel) of a reservation whose lease
  ran out on the store's clock; the reservation was already forfeited (its whole
  amount counts as unrecoverable, which covers any bill) and nothing changed.
- :class:`UnknownReservation` (also ``LookupError``): no reservation of that id in the pool.
- :class:`AlreadySettled` (an :class:`impl.AffineViolation`): a reservation settled
  one way was asked to settle another way (commit after cancel, commit at another
  amount...). The same settlement repeated is not an error: it returns the same outcome.
- :class:`InvalidLease` (also ``ValueError``): a lease that is not a finite number of
  seconds in ``(0, MAX_LEASE]``.
- :class:`InvalidName` (also ``ValueError``): a pool or share name outside
  ``[A-Za-z0-9_.:-]{1,64}``, or a malformed store URL.
- :class:`MissingDriver` (also ``ImportError``): the store's client library is not
  installed; the message names the extra to install.
"""

from __future__ import annotations

from impl.errors import AffineViolation, BudgetError


class StoreUnavailable(BudgetError, ConnectionError):
    """The store did not answer within the timeout; nothing was spent."""


class PoolNotFound(BudgetError, LookupError):
    """The pool does not exist in the store (never created, or its data was lost)."""


class PoolExists(BudgetError, ValueError):
    """``SharedPool.create`` of a pool name that already exists in the store."""


class LeaseExpired(BudgetError):
    """A settlement arrived after the reservation's lease expired; nothing changed.

    Attributes: ``id`` (the reservation id) and ``amount`` (int uc, already forfeited).
    """

    def __init__(self, message: str, id: str, amount: int) -> None:
        super().__init__(message)
        self.id = id
        self.amount = amount


class UnknownReservation(BudgetError, LookupError):
    """No reservation with this id exists in the pool."""


class AlreadySettled(AffineViolation):
    """The reservation was already settled in a different way; nothing changed."""


class InvalidLease(BudgetError, ValueError):
    """A lease is not a finite number of seconds in ``(0, MAX_LEASE]``."""


class InvalidName(BudgetError, ValueError):
    """A pool or share name, or a store URL, is malformed."""


class MissingDriver(BudgetError, ImportError):
    """The store's Python client is not installed."""
