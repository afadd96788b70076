"""Budget scenarios for the interleaving explorer, on the real impl.

Every class here is an :class:`~model.interleave.program.Instance`: a fresh copy of
shared state and tasks, built once per run (so ``lambda: ForgetfulOperator("B", 60)``
is a scenario).  Scenarios know nothing about search: they say what runs, what must
hold after every step (the ledger invariants, read through the library's public
``ledger()`` only), what must hold at the end, what to measure, and their state's
fingerprint for state caching (ledger fields plus the task-local facts the tasks'
program counters do not determine).

- :class:`ForgetfulOperator`: paper section 4.3, conditions A to E;
- :class:`SplitSpend`: Loom's three scenarios of the Rust crate (OS threads);
- :class:`PoolContention`: reserve/commit cycles on one pool while a reservation is
  cancelled;
- :class:`SharedHandle`: one Budget handle used by two tasks without the discipline;
- :class:`ReconcileRace`: ``reconcile(billed_total)`` racing reservations and commits
  on one pool (the ninth transition, and the overdraft that closes the pool).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from functools import partial

import impl
from model.interleave.api import join, point
from model.interleave.locks import new_lock
from model.interleave.program import BaseInstance, Outcome, Verdict, coroutine, thread

ESTIMATE = 31
"""Pre-flight estimate of one child's call (uc), paper section 4.3."""
ACTUAL = 23
"""What one child's call actually costs (uc)."""
CAPS = (50, 60, 69, 100)
CONDITIONS = ("A", "B", "C", "D", "E")
CHILDREN = 3


def ledger_fields(book: impl.Session | impl.BudgetPool) -> tuple[int, ...]:
    """The six SEMANTICS.md fields of a session or pool, through its public ``ledger()``."""
    led = book.ledger()
    return tuple(getattr(led, f) for f in impl.FIELDS)


def ledger_problem(book: impl.Session | impl.BudgetPool) -> str | None:
    """``None`` when the ledger holds TypeOK, Conservation and CapSoundness, else why not."""
    vals = ledger_fields(book)
    cap = book.cap
    shown = ", ".join(f"{f}={v}" for f, v in zip(impl.FIELDS, vals, strict=True))
    if any(v < 0 for v in vals):
        return f"a ledger field is negative: {shown}"
    if sum(vals) != cap:
        return f"conservation broken: the fields sum to {sum(vals)}, not B0={cap}: {shown}"
    if vals[3] > cap:
        return f"cap soundness broken: total_charged={vals[3]} > B0={cap}"
    return None


def _failures(outcomes: Mapping[str, Outcome], allowed: tuple[type[BaseException], ...] = ()
              ) -> list[str]:
    return [f"task {name} {o!r}" for name, o in outcomes.items()
            if o.error is not None and not isinstance(o.error, allowed)]


class ForgetfulOperator(BaseInstance):
    """Paper section 4.3: three asyncio children, estimate 31 uc, actual cost 23 uc.

    - ``A``: a plain shared counter; each child checks ``spent + 31 <= cap``, awaits
      its LLM call, then records 23 (no lock: the racy baseline);
    - ``B``: the same counter with a lock around check-and-reserve (31), and after the
      call a refund of the unused 8 (the lock is a plain lock of the explorer);
    - ``C`` / ``D``: the root impl Budget split into three sub-budgets of ``cap // 3``
      (the remainder stays with the parent); each child reserves 31, confirms 23 and
      applies its refund to its own sub-budget (C and D differ only in cap);
    - ``E``: one impl BudgetPool shared by the three children (reserve, then commit).

    Measures: ``spend`` (what was charged), ``admitted`` (children whose call went
    ahead), ``overshoot`` (spend > cap).  Asserted in every schedule: the ledger
    invariants after every step (C, D, E), and no overshoot (B to E).
    """

    def __init__(self, condition: str, cap: int) -> None:
        super().__init__()
        if condition not in CONDITIONS:
            raise ValueError(f"condition must be one of {CONDITIONS}, got {condition!r}")
        self.condition = condition
        self.cap = cap
        self.admitted = [False] * CHILDREN
        self.spent = 0
        self.reserved = 0
        self.book: impl.Session | impl.BudgetPool | None = None
        self.subs: list[impl.Budget | None] = []
        child = {"A": self._child_a, "B": self._child_b, "C": self._child_split,
                 "D": self._child_split, "E": self._child_pool}[condition]
        if condition == "B":
            self.lock = new_lock("B")
        elif condition in ("C", "D"):
            session = impl.Session(cap)
            self.book = session
            rest = session.take()
            for _ in range(CHILDREN):
                sub, rest = rest.split(cap // CHILDREN)
                self.subs.append(sub)
            self.parent = rest  # cap - 3 * (cap // 3) stays with the parent
        elif condition == "E":
            self.book = impl.BudgetPool(cap)
        for i in range(CHILDREN):
            self.add(coroutine(f"child{i}", partial(child, i)))

    async def _child_a(self, i: int) -> str:
        if self.spent + ESTIMATE > self.cap:  # can_admit(estimate)
            return "refused"
        self.admitted[i] = True
        await point("llm call")
        self.spent += ACTUAL  # record_spend(actual)
        return "admitted"

    async def _child_b(self, i: int) -> str:
        with self.lock:  # try_reserve(estimate), atomically
            ok = self.reserved + ESTIMATE <= self.cap
            if ok:
                self.reserved += ESTIMATE
                self.admitted[i] = True
        if not ok:
            return "refused"
        await point("llm call")
        with self.lock:  # refund the unused part, record the spend
            self.reserved -= ESTIMATE - ACTUAL
            self.spent += ACTUAL
        return "admitted"

    async def _child_split(self, i: int) -> str:
        b = self.subs[i]
        self.subs[i] = None
        assert b is not None
        try:
            b, receipt = b.reserve(ESTIMATE)
        except impl.InsufficientBudget:
            return "refused"
        self.admitted[i] = True
        await point("llm call")
        refund = receipt.confirm(ACTUAL)
        b = refund.apply_to(b)
        return "admitted"

    async def _child_pool(self, i: int) -> str:
        pool = self.book
        assert isinstance(pool, impl.BudgetPool)
        try:
            res = pool.reserve(ESTIMATE)
        except impl.InsufficientBudget:
            return "refused"
        self.admitted[i] = True
        await point("llm call")
        res.commit(ACTUAL)
        return "admitted"

    def check_step(self) -> str | None:
        """Ledger invariants (C, D, E); the lock discipline's bound (B)."""
        if self.book is not None:
            return ledger_problem(self.book)
        if self.condition == "B" and not 0 <= self.reserved <= self.cap:
            return f"reserved={self.reserved} outside 0..{self.cap}"
        return None

    def fingerprint(self) -> Hashable:
        """Counters or ledger, and who was admitted."""
        shared = (ledger_fields(self.book) if self.book is not None
                  else (self.spent, self.reserved))
        return (shared, tuple(self.admitted))

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        """Measures spend/admitted/overshoot; no overshoot asserted for B to E."""
        spend = self.spent if self.book is None else ledger_fields(self.book)[3]
        problems = _failures(outcomes)
        if self.condition != "A" and spend > self.cap:
            problems.append(f"overshoot: spent {spend} uc > cap {self.cap} uc")
        if self.book is not None:
            led = ledger_fields(self.book)
            if led[1] or led[2]:
                problems.append(f"unresolved at the end: receipts={led[1]}, "
                                f"refunds={led[2]}")
        return Verdict(problems, {"spend": spend, "admitted": sum(self.admitted),
                                  "overshoot": int(spend > self.cap)})


class SplitSpend(BaseInstance):
    """Loom's scenarios: a session split among a parent and child threads.

    ``parts`` are the children's shares of ``cap`` (the parent keeps the rest);
    child ``i`` spends ``unit`` ``child_spends[i]`` times (``None``: it drops its
    budget instead) and returns what is left; the parent spends ``unit``
    ``parent_spends`` times, joins every child and merges what they return.
    Asserted in every schedule: ledger invariants after every step; at the end
    ``total_charged == expect_total`` and the merged budget holds ``expect_left``.
    """

    def __init__(self, cap: int, parts: tuple[int, ...], child_spends: tuple[int | None, ...],
                 parent_spends: int, *, unit: int = 10, expect_total: int,
                 expect_left: int = 0) -> None:
        super().__init__()
        self.session = impl.Session(cap)
        self.unit = unit
        self.expect_total = expect_total
        self.expect_left = expect_left
        rest = self.session.take()
        self.held = [0] * (len(parts) + 1)
        self.merged: int | None = None
        self.children = [f"child{i}" for i in range(len(parts))]
        for i, (share, n) in enumerate(zip(parts, child_spends, strict=True)):
            sub, rest = rest.split(share)
            self.held[i] = share
            self.add(thread(self.children[i], partial(self._child, i, sub, n)))
        self.held[-1] = rest.available
        self.add(thread("parent", partial(self._parent, rest, parent_spends)))

    def _child(self, i: int, b: impl.Budget, n: int | None) -> impl.Budget | None:
        if n is None:
            self.held[i] = -1
            del b  # drop the budget: it keeps counting in live_sum, nothing is spent
            return None
        for _ in range(n):
            b = b.spend(self.unit)
            self.held[i] -= self.unit
        return b

    def _parent(self, b: impl.Budget, n: int) -> int:
        for _ in range(n):
            b = b.spend(self.unit)
            self.held[-1] -= self.unit
        for name in self.children:
            got = join(name)
            if got is not None:
                b = b.merge(got)
        self.merged = b.available
        return self.merged

    def check_step(self) -> str | None:
        """The session ledger invariants."""
        return ledger_problem(self.session)

    def fingerprint(self) -> Hashable:
        """Ledger and what every task holds."""
        return (ledger_fields(self.session), tuple(self.held), self.merged)

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        """Total spent and what the merged budget holds."""
        led = ledger_fields(self.session)
        problems = _failures(outcomes)
        if led[3] != self.expect_total:
            problems.append(f"total spent {led[3]} != {self.expect_total}")
        if self.merged != self.expect_left:
            problems.append(f"merged budget holds {self.merged}, not {self.expect_left}")
        return Verdict(problems, {"spend": led[3], "left": self.merged or 0,
                                  "live_sum": led[0]})


def split_spawn_spend_merge() -> SplitSpend:
    """Loom: B0=100 split 40/60; child spends 10 four times, parent 10 six times; merge."""
    return SplitSpend(100, (40,), (4,), 6, expect_total=100)


def three_way_split_concurrent_spend() -> SplitSpend:
    """Loom: B0=100 split 30/30/40; two children spend 10 three times, parent four."""
    return SplitSpend(100, (30, 30), (3, 3), 4, expect_total=100)


def split_drop_in_spawned_task() -> SplitSpend:
    """Loom: B0=100 split 30/70; the child drops its budget, the parent spends 10 x 7."""
    return SplitSpend(100, (30,), (None,), 7, expect_total=70)


LOOM = {
    "split_spawn_spend_merge": (split_spawn_spend_merge, 432),
    "three_way_split_concurrent_spend": (three_way_split_concurrent_spend, 5530),
    "split_drop_in_spawned_task": (split_drop_in_spawned_task, 4),
}
"""Loom's scenarios: constructor, and the interleavings Loom explored (numbers.md)."""


class PoolContention(BaseInstance):
    """Threads doing reserve/commit cycles on one BudgetPool while another cancels.

    A reservation of ``held`` is made before the threads start; ``workers`` threads
    each try ``cycles`` times to reserve ``r`` and commit ``c`` (a refused reservation
    skips its call); one more thread cancels the first reservation (with ``held=0``
    there is neither that reservation nor the canceller).  Asserted: the
    ledger invariants after every step (conservation in every state), and at the end
    nothing outstanding, ``total_charged == c * commits <= cap``, and
    ``live_sum == cap - total_charged``.
    """

    def __init__(self, cap: int = 100, held: int = 40, r: int = 30, c: int = 20,
                 cycles: int = 2, workers: int = 3) -> None:
        super().__init__()
        self.pool = impl.BudgetPool(cap)
        self.first = self.pool.reserve(held) if held else None
        self.r, self.c, self.cycles = r, c, cycles
        self.cycle = [0] * workers
        self.holding = [False] * workers
        self.commits = [0] * workers
        self.refused = [0] * workers
        self.cancelled = False
        for i in range(workers):
            self.add(thread(f"worker{i}", partial(self._worker, i)))
        if self.first is not None:
            self.add(thread("canceller", self._cancel))

    def _worker(self, i: int) -> int:
        for k in range(self.cycles):
            self.cycle[i] = k
            try:
                res = self.pool.reserve(self.r)
            except impl.InsufficientBudget:
                self.refused[i] += 1
                continue
            self.holding[i] = True
            res.commit(self.c)
            self.holding[i] = False
            self.commits[i] += 1
        self.cycle[i] = self.cycles
        return self.commits[i]

    def _cancel(self) -> None:
        assert self.first is not None
        self.first.cancel()
        self.cancelled = True

    def check_step(self) -> str | None:
        """The pool ledger invariants."""
        return ledger_problem(self.pool)

    def fingerprint(self) -> Hashable:
        """Ledger and every thread's cycle, reservation and counts."""
        return (ledger_fields(self.pool), tuple(self.cycle), tuple(self.holding),
                tuple(self.commits), tuple(self.refused), self.cancelled)

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        """Nothing outstanding; charged is exactly what was committed."""
        live, receipts, refunds, charged, unrec, released = ledger_fields(self.pool)
        cap = self.pool.cap
        commits = sum(self.commits)
        problems = _failures(outcomes)
        if receipts or refunds:
            problems.append(f"outstanding at the end: receipts={receipts}, refunds={refunds}")
        if charged != self.c * commits:
            problems.append(f"total_charged={charged} != {self.c} x {commits} commits")
        if charged > cap:
            problems.append(f"overshoot: total_charged={charged} > cap={cap}")
        if live != cap - charged - unrec - released:
            problems.append(f"live_sum={live} != cap - charged = {cap - charged}")
        return Verdict(problems, {"spend": charged, "admitted": commits,
                                  "refused": sum(self.refused),
                                  "overshoot": int(charged > cap)})


class SharedHandle(BaseInstance):
    """One Budget handle given to two tasks without the discipline (both spend it).

    ``mixed``: one OS thread and one coroutine; otherwise two threads.  Asserted in
    every schedule: exactly one spend succeeds and the other raises
    ``impl.AffineViolation``; the session charged the amount once (no double-spend).
    """

    def __init__(self, mixed: bool = False, amount: int = 10) -> None:
        super().__init__()
        self.session = impl.Session(100)
        self.budget = self.session.take()
        self.amount = amount
        self.result: list[str | None] = [None, None]
        self.add(thread("task0", partial(self._spend, 0)))
        if mixed:
            self.add(coroutine("task1", partial(self._aspend, 1)))
        else:
            self.add(thread("task1", partial(self._spend, 1)))

    def _spend(self, i: int) -> str:
        try:
            self.budget.spend(self.amount)
        except impl.AffineViolation:
            self.result[i] = "affine"
        else:
            self.result[i] = "spent"
        return self.result[i] or ""

    async def _aspend(self, i: int) -> str:
        return self._spend(i)

    def check_step(self) -> str | None:
        """The session ledger invariants."""
        return ledger_problem(self.session)

    def fingerprint(self) -> Hashable:
        """Ledger and each task's result."""
        return (ledger_fields(self.session), tuple(self.result))

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        """Exactly one success, one AffineViolation, charged once."""
        charged = ledger_fields(self.session)[3]
        problems = _failures(outcomes)
        if sorted(r or "none" for r in self.result) != ["affine", "spent"]:
            problems.append(f"results {self.result}: expected one 'spent' and one "
                            f"'affine' (AffineViolation)")
        if charged != self.amount:
            problems.append(f"charged {charged} uc, expected {self.amount} (double-spend?)")
        return Verdict(problems, {"spend": charged,
                                  "admitted": self.result.count("spent"),
                                  "overshoot": int(charged > self.amount)})


class ReconcileRace(BaseInstance):
    """``pool.reconcile(billed_total)`` racing reserve/commit cycles of other threads.

    ``workers`` threads each reserve ``r`` and commit ``c`` once (a refused
    reservation skips its call: :class:`impl.InsufficientBudget`, or
    :class:`impl.LedgerClosed` once the pool is closed); one reconciler thread
    reconciles against the cumulative bills ``billed`` in order. Whether a
    reconciliation is absorbed, finds no drift, is refused as below what was charged,
    or finds an overdraft and closes the pool depends on the schedule: with the
    defaults the second bill (95 of a cap of 100) is absorbed only when no reservation
    is outstanding at that moment, and a closed pool may still hold enough live money
    for a reservation (which it must refuse).

    Asserted after every step: the ledger invariants (TypeOK, Conservation,
    CapSoundness), ``closed == (overdraft > 0)``, a closed pool stays closed with its
    overdraft never decreasing, and no reservation is made while it is closed
    (``outstanding_receipts`` never grows). At the end: nothing outstanding,
    ``total_charged`` is exactly the commits plus the drifts the reconciler was told
    were absorbed, the pool is closed exactly when a reconciliation raised
    :class:`impl.Overdraft`, and a ``LedgerClosed`` refusal came only from a closed pool.
    """

    def __init__(self, cap: int = 100, r: int = 20, c: int = 15, workers: int = 2,
                 billed: tuple[int, ...] = (40, 95)) -> None:
        super().__init__()
        self.pool = impl.BudgetPool(cap)
        self.r, self.c, self.billed = r, c, billed
        self.done = [False] * workers
        self.holding = [False] * workers
        self.commits = [0] * workers
        self.refusals = [""] * workers
        self.outcomes: list[str] = []   # per reconciliation: absorbed/zero/below/overdraft
        self.absorbed = 0
        self.seen: tuple[bool, int, int] = (False, 0, 0)  # closed, overdraft, receipts
        for i in range(workers):
            self.add(thread(f"worker{i}", partial(self._worker, i)))
        self.add(thread("reconciler", self._reconciler))

    def _worker(self, i: int) -> int:
        try:
            res = self.pool.reserve(self.r)
        except impl.LedgerClosed:
            self.refusals[i] = "closed"
        except impl.InsufficientBudget:
            self.refusals[i] = "insufficient"
        else:
            self.holding[i] = True
            res.commit(self.c)
            self.holding[i] = False
            self.commits[i] += 1
        self.done[i] = True
        return self.commits[i]

    def _reconciler(self) -> list[str]:
        for billed in self.billed:
            try:
                d = self.pool.reconcile(billed)
            except impl.Overdraft:
                self.outcomes.append("overdraft")
            except impl.BilledTotalBelowCharged:
                self.outcomes.append("below")
            else:
                self.absorbed += d
                self.outcomes.append("absorbed" if d else "zero")
        return self.outcomes

    def check_step(self) -> str | None:
        """The ledger invariants, and closed-ness consistent and monotone."""
        problem = ledger_problem(self.pool)
        if problem is not None:
            return problem
        pool = self.pool
        closed, over = pool.closed, pool.overdraft
        receipts = ledger_fields(pool)[1]
        was_closed, was_over, was_receipts = self.seen
        self.seen = (closed, over, receipts)
        if closed != (over > 0):
            return f"closed={closed} but overdraft={over}"
        if was_closed and not closed:
            return "a closed pool reopened"
        if over < was_over:
            return f"the overdraft fell from {was_over} to {over}"
        if was_closed and receipts > was_receipts:
            return (f"a reservation was made while the pool was closed: outstanding_receipts "
                    f"{was_receipts} -> {receipts}")
        return None

    def fingerprint(self) -> Hashable:
        """Ledger, closed-ness, and every thread's progress and results."""
        pool = self.pool
        return (ledger_fields(pool), pool.overdraft, tuple(self.done), tuple(self.holding),
                tuple(self.commits), tuple(self.refusals), tuple(self.outcomes),
                self.absorbed, self.seen)

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        """Nothing outstanding; charged = commits + absorbed drift; closed iff an
        overdraft was raised; LedgerClosed only from a closed pool."""
        live, receipts, refunds, charged, unrec, released = ledger_fields(self.pool)
        cap = self.pool.cap
        commits = sum(self.commits)
        closed = self.pool.closed
        problems = _failures(outcomes)
        if receipts or refunds:
            problems.append(f"outstanding at the end: receipts={receipts}, refunds={refunds}")
        if charged != self.c * commits + self.absorbed:
            problems.append(f"total_charged={charged} != {self.c} x {commits} commits + "
                            f"{self.absorbed} absorbed drift")
        if charged > cap:
            problems.append(f"overshoot: total_charged={charged} > cap={cap}")
        if closed != ("overdraft" in self.outcomes):
            problems.append(f"closed={closed} but the reconciliations gave {self.outcomes}")
        if "closed" in self.refusals and not closed:
            problems.append("a reservation was refused as LedgerClosed by an open pool")
        if live != cap - charged - unrec - released:
            problems.append(f"live_sum={live} != cap - charged = {cap - charged}")
        return Verdict(problems, {"spend": charged, "admitted": commits,
                                  "closed": int(closed),
                                  "absorbed": self.absorbed,
                                  "overshoot": int(charged > cap)})
