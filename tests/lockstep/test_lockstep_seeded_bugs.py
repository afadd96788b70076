"""The lockstep machine can fail: it finds bugs seeded into impl, with short examples.

Each test monkeypatches one impl method with a plausible bug (for the duration of the
test only), runs :class:`LockstepMachine` with fixed, bounded settings (derandomized,
no example database), and shows that Hypothesis reports a failure, that the check
expected to catch the bug is the one that fired, and that the shrunk program
Hypothesis prints is short: at most ``MAX_STEPS`` rule calls, the ``start`` rule
included. A machine that could not fail would make the lockstep test worthless.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from lockstep_machine import COVERAGE, TRANSITION_LABELS, LockstepMachine

import impl
import impl.budget as ib
from impl._affine import Affine
from impl.errors import amount_error, charge_error, consumed
from impl.ledger import Book, Tally
from impl.pool import Reservation
from impl.receipts import Receipt, Ticket, new_refund

MAX_STEPS = 8
"""The longest shrunk program accepted (rule calls, ``start`` included)."""

SEEDED = settings(
    max_examples=500, stateful_step_count=10, derandomize=True, database=None,
    deadline=None, report_multiple_bugs=False, suppress_health_check=list(HealthCheck),
    phases=(Phase.generate, Phase.shrink),
)
"""Fixed and bounded whatever the profile: each search is deterministic and quick.
Every bug below is found within the first 226 examples when generating only (measured
by counting machines built). With shrinking on, Hypothesis draws a different sequence,
which a budget of 300 once let "refund applied twice" slip through after a rule was
added; 500 leaves room for new rules to shift the search (a search stops at its first
failure, so the budget costs nothing while every bug is found)."""

# ---------------------------------------------------------------------------------
# The seeded bugs: each a copy of impl's method with one plausible mistake.
# ---------------------------------------------------------------------------------


def _mint(s: Any, amount: int) -> impl.Budget:
    b = impl.Budget()
    b._session, b._amount, b._live = s, amount, True
    return b


def _step(book: Any, *entry: Any) -> None:
    if book._observers:
        book._outbox.append((book._observers, *entry))


def absorb_without_consuming_the_refund(self: impl.Budget, refund: impl.Refund) -> Any:
    """``apply_to`` that forgets to consume the refund: it can be applied twice."""
    s = self._session
    if refund._book is not s:
        raise impl.SessionMismatch("apply_to refused: another session")
    nb = _mint(s, 0)
    nb._live = False
    with s._lock:
        if not refund._live:
            raise consumed("Refund", "apply_to")
        if not self._live:
            raise consumed("Budget", "apply_to (argument)")
        a = refund._owed
        nb._amount = self._amount + a
        if not a:
            self._live, nb._live = False, True  # BUG: refund._live stays True
        else:
            s._refund_to(a, refund, self, nb)  # BUG: refund._live stays True
    s._deliver()
    return nb


def absorb_without_debiting(self: impl.Budget, refund: impl.Refund) -> Any:
    """``apply_to`` that credits the budget but never debits ``outstanding_refunds``."""
    s = self._session
    if refund._book is not s:
        raise impl.SessionMismatch("apply_to refused: another session")
    with s._lock:
        if not refund._live:
            raise consumed("Refund", "apply_to")
        if not self._live:
            raise consumed("Budget", "apply_to (argument)")
        refund._live = False
        self._live = False
        a = refund._owed
        if a:
            s._live_sum += a  # BUG: s._outstanding_refunds -= a is missing
            _step(s, "refund_to", a)
    s._deliver()
    return _mint(s, self._amount + a)


def forfeit_crediting_live(self: Ticket) -> None:
    """``forfeit`` that puts the money back into ``live_sum`` (unrecoverable money
    would become spendable again)."""
    book = self._book
    with book._lock:
        r = self._claim
        if not r:
            raise consumed(type(self).__name__, "forfeit")
        self._claim = 0
        book._outstanding_receipts -= r
        book._live_sum += r  # BUG: should be book._total_unrecoverable += r
        _step(book, "forfeit", r)
    book._deliver()


def split_losing_a_unit(self: impl.Budget, a: int) -> tuple[impl.Budget, impl.Budget]:
    """``split`` whose second half is one uc short (off by one in the remainder)."""
    s = self._session
    with s._lock:
        if not self._live:
            raise consumed("Budget", "split")
        held = self._amount
        if type(a) is not int or a < 0 or a > held:
            raise impl.InvalidAmount(f"split: bad a={a!r}")
        self._live = False
    return _mint(s, a), _mint(s, max(0, held - a - 1))  # BUG: - 1


def confirm_accepting_more_than_r(self: Receipt, actual: int) -> impl.Refund:
    """``confirm`` that checks ``actual >= 0`` but not ``actual <= r``."""
    book = self._book
    refund = new_refund(book)
    with book._lock:
        r = self._claim
        if not r:
            raise consumed(type(self).__name__, "confirm")
        if type(actual) is not int or actual < 0:  # BUG: actual > r accepted
            raise charge_error("confirm", "actual", actual, r, remedy="")
        self._claim = 0
        book._outstanding_receipts -= r
        book._total_charged += actual
        book._outstanding_refunds += r - actual
        refund._owed = r - actual
        _step(book, "confirm_with_refund", r, actual)
    book._deliver()
    return refund


def commit_refunding_nothing(self: Reservation, actual: int) -> None:
    """Pool ``commit`` that reports the refund of ``r - actual`` but never puts it
    back into the pool."""
    pool = self._book
    with pool._lock:
        r = self._claim
        if not r:
            raise consumed(type(self).__name__, "commit")
        if type(actual) is not int or actual < 0 or actual > r:
            raise charge_error("commit", "actual", actual, r, remedy="")
        self._claim = 0
        pool._outstanding_receipts -= r
        pool._total_charged += actual
        rest = r - actual  # BUG: pool._live_sum += rest is missing
        _step(pool, "confirm_with_refund", r, actual)
        if rest:
            _step(pool, "refund_to", rest)
    pool._deliver()


def spend_reported_as_failed(self: impl.Budget, r: int, *, charged: int | None = None,
                             failed: bool = False) -> impl.Budget:
    """``spend`` that applies ``spend_fail_post_check`` for a successful call (the
    ledger moves the same way: only the reported step name is wrong)."""
    s = self._session
    b = _mint(s, 0)
    b._live = False
    try:
        with s._lock:
            if not self._live:
                raise consumed("Budget", "spend")
            if type(r) is not int or r <= 0:
                raise amount_error("spend", "r", r)
            if charged is None:
                c = r
            elif type(charged) is not int or charged < 0 or charged > r:
                raise charge_error("spend", "charged", charged, r, remedy="")
            else:
                c = charged
            if failed is not False and failed is not True:
                raise impl.BudgetTypeError(f"spend: failed must be a bool, not {failed!r}")
            held = self._amount
            if r > held:
                if r >= 2**63:
                    raise amount_error("spend", "r", r)
                raise ib._refusal(s, "spend", r, held)
            b._amount = held - r
            s._spend_fail_post_check(r, c, self, b)  # BUG: ignores failed
    finally:
        s._deliver()
    return b


def refusal_always_insufficient(book: Any, op: str, r: int, held: int
                                ) -> impl.InsufficientBudget:
    """A handle's refusal always reported as ``spend_insufficient(r)``, even when the
    session holds ``r`` in siblings (SEMANTICS.md's subtlety ignored)."""
    _step(book, "spend_insufficient", r)  # BUG: only when r > live_sum
    return impl.InsufficientBudget(f"{op}({r}) refused", op, r, held)


def reserve_consuming_on_refusal(original: Callable[..., Any]) -> Callable[..., Any]:
    """``reserve`` that refuses correctly but leaves the handle consumed, so a refused
    reservation destroys the budget (its money is stranded)."""

    def reserve(self: impl.Budget, r: int) -> Any:
        try:
            return original(self, r)
        except impl.InsufficientBudget:
            self._live = False  # BUG: a refusal must leave the handle usable
            raise

    return reserve


def copy_allowed(self: Affine) -> Any:
    """``copy.copy`` that clones an affine value (the money could be spent twice)."""
    clone = type(self)()
    for cls in type(self).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if hasattr(self, slot):
                setattr(clone, slot, getattr(self, slot))
    return clone


def reconcile_not_charged(self: Any, d: int, old: Any, new: Any) -> bool:
    """``reconcile(d)`` that takes the drift out of ``live_sum`` but never books it in
    ``total_charged`` (the ledger keeps under-reporting the bill)."""
    ls = self._live_sum
    if not (0 < d <= ls and (old is None or old._live)):
        return False
    if old is not None:
        old._live = False
    self._live_sum = ls - d  # BUG: total_charged + d is missing
    if new is not None:
        new._live = True
    _step(self, "reconcile", d)
    return True


def overdraft_left_open(original: Callable[..., Any]) -> Callable[..., Any]:
    """A reconciliation that raises Overdraft but does not close the ledger, so later
    reservations keep spending money the provider already billed."""

    def check(self: Any, op: str, billed: int, held: int | None) -> Any:
        was = self._overdraft
        out = original(self, op, billed, held)
        self._overdraft = was  # BUG: the overdraft is never recorded
        return out

    return check


def show_slots_to_copyreg(mp: pytest.MonkeyPatch) -> None:
    """The no-copy mixin forgets to hide the slots: ``copyreg`` and
    ``object.__getstate__`` then report every slot, so ``copyreg.__newobj__`` plus
    those attributes clones a live value."""
    todo = [Affine]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if "__slotnames__" in vars(cls):
            mp.delattr(cls, "__slotnames__")


@dataclass(frozen=True)
class Bug:
    """A seeded bug: how to plant it, and what the check that finds it says."""

    name: str
    plant: Callable[[pytest.MonkeyPatch], None]
    finds: str  # a fragment of the failure's message (or the exception's class name)


BUGS = [
    Bug("refund applied twice",
        lambda mp: mp.setattr(impl.Budget, "_absorb_refund",
                              absorb_without_consuming_the_refund),
        "nothing was raised"),
    Bug("refund applied without debiting outstanding_refunds",
        lambda mp: mp.setattr(impl.Budget, "_absorb_refund", absorb_without_debiting),
        "ledger mismatch"),
    Bug("forfeit credits the live budget",
        lambda mp: mp.setattr(Ticket, "forfeit", forfeit_crediting_live),
        "ledger mismatch"),
    Bug("split loses a unit",
        lambda mp: mp.setattr(impl.Budget, "split", split_losing_a_unit),
        "handle mismatch"),
    Bug("confirm accepts actual > r",
        lambda mp: mp.setattr(Receipt, "confirm", confirm_accepting_more_than_r),
        "nothing was raised"),
    Bug("pool commit refunds nothing",
        lambda mp: mp.setattr(Reservation, "commit", commit_refunding_nothing),
        "ledger mismatch"),
    Bug("spend recorded as spend_fail_post_check",
        lambda mp: mp.setattr(impl.Budget, "spend", spend_reported_as_failed),
        "steps mismatch"),
    Bug("handle-only refusal reported as spend_insufficient",
        lambda mp: mp.setattr(ib, "_refusal", refusal_always_insufficient),
        "steps mismatch"),
    Bug("refused reserve consumes the budget",
        lambda mp: mp.setattr(impl.Budget, "reserve",
                              reserve_consuming_on_refusal(ib.Budget.reserve)),
        "AffineViolation"),
    Bug("copy.copy clones an affine value",
        lambda mp: mp.setattr(Affine, "__copy__", copy_allowed),
        "nothing was raised"),
    Bug("reconcile forgets total_charged",
        lambda mp: mp.setattr(Tally, "_reconcile", reconcile_not_charged),
        "ledger mismatch"),
    Bug("an overdraft leaves the ledger open",
        lambda mp: mp.setattr(Book, "_reconcile_check",
                              overdraft_left_open(Book._reconcile_check)),
        "closed=False"),
    Bug("copyreg sees the slots", show_slots_to_copyreg, "nothing was raised"),
]

STEP = re.compile(r"^(?:[\w, ()]+ = )?state\.(\w+)\(")


def shrunk_program(err: BaseException) -> list[str]:
    """The rule calls of the minimal program Hypothesis attached to ``err``."""
    notes = getattr(err, "__notes__", [])
    calls = []
    for line in notes:
        m = STEP.match(line)
        if m and m.group(1) not in ("lockstep", "teardown"):
            calls.append(line)
    return calls


def find(bug: Bug, monkeypatch: pytest.MonkeyPatch) -> tuple[BaseException, list[str]]:
    """Plant ``bug``, run the machine; return the failure and its shrunk program."""
    bug.plant(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # values the bug left open
        with pytest.raises(Exception) as info:
            run_state_machine_as_test(LockstepMachine, settings=SEEDED)
    return info.value, shrunk_program(info.value)


@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_the_lockstep_machine_finds_the_seeded_bug(bug: Bug,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``bug`` planted the machine fails, through the check meant to catch it,
    and Hypothesis shrinks the failing program to at most MAX_STEPS calls."""
    err, program = find(bug, monkeypatch)
    text = f"{type(err).__name__}: {err}"
    shown = "\n".join(getattr(err, "__notes__", []))
    assert bug.finds in text, f"failed for another reason: {text}\n{shown}"
    assert program, f"no program in the report:\n{shown}"
    assert program[0].split(" = ")[-1].startswith("state.start(")
    assert len(program) <= MAX_STEPS, f"{len(program)} steps:\n{shown}"
    print(f"{bug.name}: {len(program)} steps", *program, sep="\n    ")  # pytest -s shows


def test_without_a_bug_the_same_search_passes() -> None:
    """The control: the same settings on the real impl find nothing (while exercising
    every transition), so every failure above is the seeded bug's."""
    COVERAGE.clear()
    run_state_machine_as_test(LockstepMachine, settings=SEEDED)
    assert TRANSITION_LABELS <= set(COVERAGE)
