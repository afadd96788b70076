"""Real signals: ``SIGALRM`` every ~100 us across threads, sessions and pools.

The every-line walks (``test_impl_interrupts.py``) interrupt one operation at a time at
each of its lines; this soak lets the interpreter deliver real signals wherever it
does, while other threads contend for the same locks. Python runs signal handlers in
the main thread only, so the main thread does ledger work on every session and pool,
and its handler, by turns, raises (an :class:`Alarm`, a ``BaseException`` like
``KeyboardInterrupt``, or an :class:`AlarmError`, an ``Exception`` like a timeout
library's), or reads ``ledger()`` and runs operations of its own on the same books
(re-entering critical sections the main thread may be inside). Worker threads run the
same operations meanwhile, and an observer on one pool and one session re-enters
``ledger()`` at every step. Bounded in time: 2.5 s under the ``ci`` Hypothesis profile,
20 s under ``exhaustive``.

At the end every handle is dropped and collected, and each ledger must be exact: the
six fields sum to the cap, ``total_charged <= cap``, ``outstanding_receipts == 0``,
``outstanding_refunds`` is exactly what the refunds still alive hold plus what the
book took over from refunds collected unapplied (each warned at most once: a warning,
unlike money, may be lost to an exception raised while it is being issued), and a
last operation on every book completes (in a thread with a timeout, so a lock left
held fails the test instead of hanging the suite). Every ``ledger()`` read during the
soak (by the handler and the observers) must be consistent too.
"""

from __future__ import annotations

import faulthandler
import gc
import signal
import sys
import threading
import time
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import settings
from test_impl_interrupts import ALL_CODES, _refunds_of

import impl
import impl.pool
import impl.receipts

CAP = 10**15
PIECE = 10**7
"""What a loop's budget starts with; a round spends well under 100 uc of it."""


class Alarm(BaseException):
    """Raised by the handler, like ``KeyboardInterrupt``."""


class AlarmError(Exception):
    """Raised by the handler, like a timeout library's exception."""


INJECTED = (Alarm, AlarmError)


def _soak_seconds() -> float:
    return 20.0 if settings.get_current_profile_name() == "exhaustive" else 2.5


def pool_work(p: impl.BudgetPool) -> None:
    """Every pool operation, including the ways a reservation is left unresolved."""
    p.reserve(10).commit(7)
    with p.reserve(5) as r:
        r.cancel()
    with p.reserve(4):
        pass  # forfeited at the end of the block
    p.reserve(2).forfeit()
    p.reserve_with_reasoning(2, 3).commit(4)
    st = p.reserve_stream(9)
    st.confirm_chunk(4)
    st.close()
    with p.reserve_stream(6) as st2:
        st2.confirm_chunk(1)  # the rest is forfeited at the end of the block
    p.reserve(3)  # dropped unresolved: forfeited by its finalizer
    try:  # the provider billed 2 uc more than the pool charged
        p.reconcile(p.ledger().total_charged + 2)
    except impl.BilledTotalBelowCharged:
        pass  # another thread charged more meanwhile


def session_work(b: impl.Budget, kept: list[impl.Refund]) -> impl.Budget:
    """Every session operation; returns the budget to go on with. Keeps up to 20
    refunds alive in ``kept`` and drops one unapplied now and then."""
    b, rc = b.reserve(10)
    b = rc.confirm(6).apply_to(b)
    b, rest = b.split(2)
    b = b.merge(rest)
    b = b.spend(3, charged=2)
    b = b.spend(2, charged=1, failed=True)
    b, rr = b.reserve_with_reasoning(1, 2)
    rr.forfeit()
    b, rc = b.reserve(4)
    with rc:
        pass  # forfeited at the end of the block
    b, st = b.reserve_stream(8)
    st.confirm_chunk(3)
    rf = st.close()
    if len(kept) < 20:
        kept.append(rf)
    else:
        b = rf.apply_to(b)
    b, rc = b.reserve(2)
    del rc  # dropped unresolved: forfeited by its finalizer
    b, rc = b.reserve(5)
    if len(kept) % 3 == 0:
        rc.confirm(1)  # its refund of 4 is dropped unapplied: it warns
    else:
        b = rc.confirm(1).apply_to(b)
    c, b = b.split(1)
    c.consume()
    s = b.session
    try:
        b = s.reconcile(s.ledger().total_charged + 2, b)
    except impl.BilledTotalBelowCharged:
        pass  # another thread charged more meanwhile
    return b


@dataclass
class Soak:
    """The books, the handles each party holds, and what happened."""

    pools: list[impl.BudgetPool]
    sessions: list[impl.Session]
    banks: list[impl.Budget] = field(default_factory=list)
    kept: list[impl.Refund] = field(default_factory=list)
    handler_budgets: list[impl.Budget] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("signals", "raised", "handler ops", "rounds", "lost budgets"), 0))
    quiet: bool = False
    depth: int = 0

    def fresh(self, j: int) -> impl.Budget:
        """A new budget of session ``j``, split off its bank with the handler quiet."""
        was, self.quiet = self.quiet, True
        try:
            piece, self.banks[j] = self.banks[j].split(PIECE)
        finally:
            self.quiet = was
        return piece

    def check(self, book: impl.Session | impl.BudgetPool, where: str) -> None:
        led = book.ledger()
        if led.total != book.cap or led.total_charged > book.cap or min(led._values()) < 0:
            self.violations.append(f"{where}: {led}")


def _observer(soak: Soak, book: impl.Session | impl.BudgetPool) -> Callable[[impl.Step], None]:
    """The natural observer: logs each step with the balance (re-enters ledger())."""

    def log(step: impl.Step) -> None:
        soak.check(book, f"observer of {step!r}")

    return log


def _handler(soak: Soak, work: set[types.CodeType]) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: types.FrameType | None) -> None:
        soak.counts["signals"] += 1
        n = soak.counts["signals"]
        if soak.quiet:
            return
        # Raise only inside impl or the work functions, which the loops' try statements
        # cover, never in the loops' own handlers or in pytest's machinery.
        if n % 6 < 2 and frame is not None and frame.f_code in work:
            soak.counts["raised"] += 1
            raise Alarm() if n % 6 else AlarmError()
        if soak.depth:  # a signal delivered inside this handler's own work
            return
        soak.depth += 1
        j = n % 2
        try:
            soak.check((*soak.pools, *soak.sessions)[n % 4], "signal handler")
            if n % 6 == 2:
                pool_work(soak.pools[j])
            elif n % 6 == 3:
                soak.handler_budgets[j] = session_work(soak.handler_budgets[j], [])
            soak.counts["handler ops"] += 1
        except INJECTED:
            pass  # a signal delivered inside the handler's work raised there
        except impl.AffineViolation:  # the interrupted work consumed this budget
            soak.handler_budgets[j] = soak.fresh(j)
        finally:
            soak.depth -= 1

    return handler


def _worker(soak: Soak, i: int, b: impl.Budget, stop: threading.Event) -> None:
    try:
        p = soak.pools[i % 2]
        while not stop.is_set():
            pool_work(p)
            b = session_work(b, [])
    except BaseException as exc:  # reported by the soak
        soak.errors.append(exc)


def _main_loop(soak: Soak, seconds: float) -> None:
    budgets = [soak.fresh(j) for j in range(2)]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for j in range(2):
            try:
                pool_work(soak.pools[j])
                budgets[j] = session_work(budgets[j], soak.kept)
                soak.counts["rounds"] += 1
            except INJECTED:
                pass
            except impl.AffineViolation:
                # An interrupted operation consumed this budget and its result was
                # lost: that money stays in live_sum (cap-safe). Go on with a new one.
                soak.counts["lost budgets"] += 1
                budgets[j] = soak.fresh(j)


def _final_operations(soak: Soak, done: list[str]) -> None:
    """One more operation on every book (each must be able to take its lock); applies
    the refunds kept alive."""
    for p in soak.pools:
        with p.reserve(1) as r:
            r.commit(1)
        done.append(repr(p))
    for j, s in enumerate(soak.sessions):
        b = soak.fresh(j)
        for rf in soak.kept:
            if rf._book is s:
                b = rf.apply_to(b)
        b.spend(1)
        done.append(repr(s))


def run_soak(seconds: float, hang_timeout: float = 30.0) -> tuple[list[str], Soak]:
    """Run the soak for ``seconds``; returns what went wrong (nothing, if impl holds)
    and the soak's state."""
    soak = Soak([impl.BudgetPool(CAP) for _ in range(2)], [impl.Session(CAP) for _ in range(2)])
    soak.banks = [s.take() for s in soak.sessions]
    soak.handler_budgets = [soak.fresh(j) for j in range(2)]
    for book in (soak.pools[0], soak.sessions[0]):
        book.observe(_observer(soak, book))
    work = ALL_CODES | {c.__code__ for c in (pool_work, session_work, Soak.check,
                                              _observer(soak, soak.pools[0]))}
    stop = threading.Event()
    workers = [threading.Thread(target=_worker, daemon=True,
                                args=(soak, i, soak.fresh(i % 2), stop))
               for i in range(2)]
    problems: list[str] = []
    # A hang the timeouts below cannot see (the main thread stuck) ends the run with
    # every thread's traceback instead of a stuck CI job.
    faulthandler.dump_traceback_later(seconds * 10 + 4 * hang_timeout + 60, exit=True)
    switch = sys.getswitchinterval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = signal.signal(signal.SIGALRM, _handler(soak, work))
        sys.setswitchinterval(1e-4)  # threads take turns often: more contention
        try:
            for t in workers:
                t.start()
            signal.setitimer(signal.ITIMER_REAL, 1e-4, 1e-4)
            _main_loop(soak, seconds)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            # An alarm the kernel generated just before may still be on its way to
            # some thread: let it find a harmless handler, not the default action
            # (which ends the process).
            signal.signal(signal.SIGALRM, lambda signum, frame: None)
            sys.setswitchinterval(switch)
            stop.set()
            for t in workers:
                t.join(hang_timeout)
            for _ in range(100):
                if signal.SIGALRM not in signal.sigpending():
                    break
                time.sleep(0.001)
            signal.signal(signal.SIGALRM, old)
        problems += [f"{t.name} never finished: a lock was left held"
                     for t in workers if t.is_alive()]
        soak.handler_budgets.clear()
        del workers
        gc.collect()
        books = (*soak.pools, *soak.sessions)
        led = {id(b): b.ledger() for b in books}  # applies what finalizers queued
        kept = {id(s): sum(rf.amount for rf in soak.kept if rf._book is s)
                for s in soak.sessions}
        done: list[str] = []
        final = threading.Thread(target=_final_operations, args=(soak, done), daemon=True)
        final.start()
        final.join(hang_timeout)
        after = {id(b): b.ledger() for b in books if repr(b) in done}
    faulthandler.cancel_dump_traceback_later()
    if final.is_alive():
        problems.append(f"a last operation did not finish after {done}: a lock was left "
                        f"held")
    problems += [f"{type(e).__name__}: {e}" for e in soak.errors]
    problems += soak.violations[:5]
    for b in books:
        got, where = led[id(b)], f"in {b!r}"
        if got.total != b.cap or got.total_charged > b.cap:
            problems.append(f"conservation or cap broken {where}: {got}")
        if got.outstanding_receipts:
            problems.append(f"stranded in outstanding_receipts {where}: {got}")
        claimed = kept.get(id(b), 0) + b._abandoned
        if got.outstanding_refunds != claimed:
            problems.append(f"stranded in outstanding_refunds {where}: {got}; refunds "
                            f"alive {kept.get(id(b), 0)}, collected {b._abandoned}")
        if id(b) in after and after[id(b)].outstanding_refunds != b._abandoned:
            problems.append(f"kept refunds not applied {where}: {after[id(b)]}")
    if sum(_refunds_of(caught)) > sum(b._abandoned for b in books):
        problems.append("a collected refund warned twice")
    return problems, soak


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_real_signals_strand_nothing() -> None:
    problems, soak = run_soak(_soak_seconds())
    assert not problems, (problems, soak.counts)
    counts = soak.counts  # the soak did interrupt operations and re-enter books
    assert counts["raised"] >= 20 and counts["handler ops"] >= 20, counts
    assert counts["rounds"] + counts["lost budgets"] >= 20, counts


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_the_soak_finds_stranded_money(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded: a finalizer that does nothing strands every reservation dropped
    unresolved (``p.reserve(3)`` in every round)."""
    monkeypatch.setattr(impl.receipts.Ticket, "__del__", lambda self: None)
    problems, _ = run_soak(0.3)
    assert any(p.startswith("stranded in outstanding_receipts in <BudgetPool")
               for p in problems), problems


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_the_soak_finds_a_lock_left_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded: a cancel that, once, takes its pool's lock and never releases it (what
    a signal between ``acquire()`` and ``try:`` does)."""
    cancel = impl.pool.Reservation.cancel
    leaked: list[Any] = []

    def leaky_cancel(self: impl.pool.Reservation) -> None:
        if not leaked and threading.current_thread() is threading.main_thread():
            self._book._lock.acquire()
            leaked.append(self._book._lock)
        cancel(self)

    monkeypatch.setattr(impl.pool.Reservation, "cancel", leaky_cancel)
    try:
        problems, _ = run_soak(0.3, hang_timeout=1.0)
    finally:
        for lock in leaked:
            lock.release()  # let the stuck threads finish
    assert leaked and any("a lock was left held" in p for p in problems), problems
