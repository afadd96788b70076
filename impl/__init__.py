"""impl: affine LLM budgets whose every operation is one step of the SEMANTICS.md ledger.

Quick start::

    import impl
    s = impl.Session(10_000)               # B0 = 10,000 uc (0.10 USD)
    b = s.take()                           # the root Budget
    b, rc = b.reserve(500)                 # reserve(500) before the call
    rf = rc.confirm(320)                   # confirm_with_refund(500, 320) after it
    b = rf.apply_to(b)                     # refund_to(180)
    assert s.ledger().total_charged == 320

See the docstrings of :class:`Budget`, :class:`BudgetPool`, :mod:`impl.pricing` and
:mod:`impl._sched` (hooks for a concurrency explorer). The package never imports the
workbench's ``spec``, ``model`` or ``proofs``.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

from impl.budget import Budget
from impl.errors import (
    AffineViolation,
    AmountTypeError,
    BilledTotalBelowCharged,
    BudgetError,
    BudgetTypeError,
    ChargeExceedsReservation,
    EstimatorError,
    InsufficientBudget,
    InvalidAmount,
    LedgerClosed,
    MissingUsage,
    NotMinted,
    ObserverWarning,
    Overdraft,
    SessionMismatch,
)
from impl.estimators import ByteLength, Estimator, Tiktoken, WithMargin, local_encodings
from impl.fleet import (
    AlreadySettled,
    LeaseExpired,
    PoolExists,
    PoolNotFound,
    SharedPool,
    StoreUnavailable,
    UnknownReservation,
)
from impl.ledger import FIELDS, TRANSITIONS, Ledger, Step
from impl.pool import BudgetPool, ReasoningReservation, Reservation, StreamReservation
from impl.pricing import (
    BilledTokens,
    Rates,
    billed_tokens,
    charge_from_tokens,
    charge_uc,
    cost_uc_ceil,
    reservation_from_tokens,
    reservation_uc,
    usage_tokens,
)
from impl.receipts import ReasoningReceipt, Receipt, Refund, StreamReceipt
from impl.session import Session

try:
    __version__: str = _dist_version("token-budgets-workbench")
except PackageNotFoundError:  # a source tree used without installing the project
    __version__ = "0+unknown"

__all__ = [
    "FIELDS",
    "TRANSITIONS",
    "AffineViolation",
    "AlreadySettled",
    "AmountTypeError",
    "BilledTokens",
    "BilledTotalBelowCharged",
    "Budget",
    "BudgetError",
    "BudgetPool",
    "BudgetTypeError",
    "ByteLength",
    "ChargeExceedsReservation",
    "Estimator",
    "EstimatorError",
    "InsufficientBudget",
    "InvalidAmount",
    "LeaseExpired",
    "Ledger",
    "LedgerClosed",
    "MissingUsage",
    "NotMinted",
    "ObserverWarning",
    "Overdraft",
    "PoolExists",
    "PoolNotFound",
    "Rates",
    "ReasoningReceipt",
    "ReasoningReservation",
    "Receipt",
    "Refund",
    "Reservation",
    "Session",
    "SessionMismatch",
    "SharedPool",
    "Step",
    "StoreUnavailable",
    "StreamReceipt",
    "StreamReservation",
    "Tiktoken",
    "UnknownReservation",
    "WithMargin",
    "billed_tokens",
    "charge_from_tokens",
    "charge_uc",
    "cost_uc_ceil",
    "local_encodings",
    "reservation_from_tokens",
    "reservation_uc",
    "usage_tokens",
]
