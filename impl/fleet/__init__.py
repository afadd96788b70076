"""Fleet budgets: one budget shared by many processes and machines through a store.

``SharedPool.create(url, name, cap)`` once, ``SharedPool.open(url, name)`` from any
process; ``sqlite:///path`` (standard library), ``postgresql://...`` (needs the
``postgres`` extra: psycopg 3) and ``redis://...`` (the ``redis`` extra). See
:mod:`impl.fleet.api` for the ledger mapping and the settlement rules, and README's
"Fleet budgets" section. The drivers are imported only when their store is used.
"""

from impl.fleet.api import (
    AMOUNT_LIMIT,
    DEFAULT_LEASE,
    MAX_LEASE,
    Audit,
    Reservation,
    Settlement,
    SharedPool,
)
from impl.fleet.errors import (
    AlreadySettled,
    InvalidLease,
    InvalidName,
    LeaseExpired,
    MissingDriver,
    PoolExists,
    PoolNotFound,
    StoreUnavailable,
    UnknownReservation,
)

__all__ = [
    "AMOUNT_LIMIT",
    "DEFAULT_LEASE",
    "MAX_LEASE",
    "AlreadySettled",
    "Audit",
    "InvalidLease",
    "InvalidName",
    "LeaseExpired",
    "MissingDriver",
    "PoolExists",
    "PoolNotFound",
    "Reservation",
    "Settlement",
    "SharedPool",
    "StoreUnavailable",
    "UnknownReservation",
]
