"""A Hypothesis state machine running a SharedPool and ``spec.LEDGER`` in lockstep.

Every rule makes one SharedPool call through one of two handles of the same pool (as
two processes would), and, independently, applies with ``spec.step`` the transitions
SEMANTICS.md's mapping assigns to it (no guard or update re-typed here). Leases that the
machine let lapse (it sleeps past them) are forfeited by the store on the next
operation: the machine applies ``forfeit(r)`` for each before that operation's own
steps. After every rule:

- the store's ledger equals the spec state, and no spec invariant is broken;
- the steps the handles reported (``observe``) are the transitions applied, as a
  multiset per rule (the store forfeits lapsed leases in its own order);
- ``available`` of the pool and of each share is what the machine expects, and the
  store's records sum to the ledger's aggregates (``audit``).

Settlement by id is checked for exactly-once behaviour: repeats return the same
outcome and change nothing; conflicting or late settlements raise the typed error
and change nothing. Reconciliation (``reconcile(d)``) is checked the same way: a bill
that fits moves its drift (out of the pool's own live amount, then the shares in name
order), the last bill repeated changes nothing, a bill below the charges is refused,
and a drift above ``live_sum`` (drawn only late in a run) closes the pool: from then
on reservations are refused with ``LedgerClosed`` and no step.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import impl
import spec
from impl.fleet import Settlement
from spec import LEDGER

LAPSE = 0.02
"""The lease of a reservation the machine lets lapse (it then sleeps 2x this)."""

COVERAGE: Counter[str] = Counter()
"""Label -> how often it occurred, over every run since the last clear."""

REQUIRED = frozenset({
    "reserve", "refused:spend_insufficient", "refused:stutter", "commit", "commit_full",
    "cancel", "forfeit", "retry", "conflict", "lapse", "late_settlement", "late_forfeit",
    "expire", "split", "merge", "share_reserve", "over_charge", "retry_reserve", "invalid",
    "reconcile", "reconcile_repeat", "reconcile_below", "overdraft", "refused:closed",
})


class FleetLockstep(RuleBasedStateMachine):
    """Subclass with ``url`` set to a store URL (one namespace per test run)."""

    url: str = ""

    @initialize(cap=st.integers(0, 1000))
    def create(self, cap: int) -> None:
        self.name = f"ls{uuid.uuid4().hex[:12]}"
        self.pool = impl.SharedPool.create(self.url, self.name, cap)
        self.handles = [self.pool, impl.SharedPool.open(self.url, self.name)]
        self.b0 = cap
        self.state: Any = LEDGER.initial_state(cap)
        self.expected: list[tuple[str, dict[str, int]]] = []
        self.observed: list[tuple[str, dict[str, int]]] = []
        for h in self.handles:
            h.observe(self._seen)
        self.open: dict[str, tuple[int, str | None]] = {}  # id -> (amount, share)
        self.done: dict[str, tuple[str, Settlement]] = {}  # id -> (how, outcome)
        self.lapsed: list[str] = []  # lapsed leases the store has not forfeited yet
        self.expired: dict[str, int] = {}
        self.shares: dict[str, int] = {}
        self.share_handles: dict[str, impl.SharedPool] = {}
        self.count = 0  # ids in creation order keep Hypothesis's draws replayable
        self.overdraft = 0  # what the store must have recorded (> 0: closed)
        self.reconciled: int | None = None  # the last billed total reconciled

    def _new_id(self) -> str:
        self.count += 1
        return f"r{self.count:05d}"

    def teardown(self) -> None:
        for h in [*getattr(self, "handles", []), *getattr(self, "share_handles", {}).values()]:
            h.close()

    # -- the spec side -------------------------------------------------------------

    def _seen(self, step: impl.Step) -> None:
        self.observed.append((step.name, dict(step.params)))

    def _apply(self, name: str, **params: int) -> None:
        self.state = spec.step(LEDGER, self.state, name, *params.values())
        self.expected.append((name, params))

    def _touch(self) -> None:
        """The store is about to run an operation: it forfeits the lapsed leases first."""
        for rid in self.lapsed:
            r, _ = self.open.pop(rid)
            self.expired[rid] = r
            self._apply("forfeit", r=r)
        self.lapsed.clear()

    def _root_available(self) -> int:
        return int(self.state.live_sum) - sum(self.shares.values())

    def _handle(self, data: st.DataObject) -> impl.SharedPool:
        return data.draw(st.sampled_from(self.handles), label="handle")

    # -- reserving -----------------------------------------------------------------

    @rule(data=st.data(), r=st.integers(1, 60) | st.integers(1, 1100))
    def reserve(self, data: st.DataObject, r: int) -> None:
        self._reserve(self._handle(data), None, r)

    @precondition(lambda self: bool(self.shares))
    @rule(data=st.data())
    def reserve_from_share(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.shares)), label="share")
        r = data.draw(st.integers(1, self.shares[name] + 10), label="r")
        self._reserve(self.share_handles[name], name, r)

    def _reserve(self, pool: impl.SharedPool, name: str | None, r: int) -> None:
        self._touch()
        if self.overdraft:
            try:
                pool.reserve(r, lease=600)
                raise AssertionError(f"reserve({r}) accepted by a closed pool")
            except impl.LedgerClosed as e:
                assert (e.requested, e.available, e.overdraft) == (r, 0, self.overdraft)
            COVERAGE["refused:closed"] += 1
            return
        avail = self.shares[name] if name else self._root_available()
        if r > avail:
            try:
                pool.reserve(r, lease=600)
                raise AssertionError(f"reserve({r}) accepted with {avail} available")
            except impl.InsufficientBudget as e:
                assert (e.requested, e.available) == (r, avail)
            if r > self.state.live_sum:
                COVERAGE["refused:spend_insufficient"] += 1
                self._apply("spend_insufficient", r=r)
            else:
                COVERAGE["refused:stutter"] += 1
            return
        res = pool.reserve(r, lease=600, id=self._new_id())
        COVERAGE["share_reserve" if name else "reserve"] += 1
        if name:
            self.shares[name] -= r
        self._apply("reserve", r=r)
        self.open[res.id] = (r, name)

    @precondition(lambda self: self._root_available() > 0 and not self.overdraft)
    @rule(data=st.data())
    def reserve_and_let_lapse(self, data: st.DataObject) -> None:
        self._touch()
        r = data.draw(st.integers(1, self._root_available()), label="r")
        res = self._handle(data).reserve(r, lease=LAPSE, id=self._new_id())
        self._apply("reserve", r=r)
        self.open[res.id] = (r, None)
        time.sleep(2 * LAPSE)
        self.lapsed.append(res.id)
        COVERAGE["lapse"] += 1

    @precondition(lambda self: any(k not in self.lapsed for k in self.open))
    @rule(data=st.data())
    def retry_reserve(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(k for k in self.open if k not in self.lapsed)))
        r, name = self.open[rid]
        pool = self.share_handles.get(name or "", self.handles[0])
        if name is not None and name not in self.shares:
            pool = self.handles[0]
        self._touch()
        again = pool.reserve(r, lease=600, id=rid)  # a retry after a lost reply
        assert again.id == rid and again.amount == r
        COVERAGE["retry_reserve"] += 1

    # -- settling ------------------------------------------------------------------

    def _pick_open(self, data: st.DataObject) -> tuple[str, int, str | None]:
        rid = data.draw(st.sampled_from(sorted(k for k in self.open if k not in self.lapsed)),
                        label="id")
        r, name = self.open[rid]
        return rid, r, name

    @precondition(lambda self: any(k not in self.lapsed for k in self.open))
    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        self._settle(data, "commit")

    @precondition(lambda self: any(k not in self.lapsed for k in self.open))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self._settle(data, "cancel")

    @precondition(lambda self: any(k not in self.lapsed for k in self.open))
    @rule(data=st.data())
    def forfeit(self, data: st.DataObject) -> None:
        self._settle(data, "forfeit")

    def _settle(self, data: st.DataObject, how: str) -> None:
        rid, r, name = self._pick_open(data)
        pool = self._handle(data)
        self._touch()
        if how == "commit":
            c = data.draw(st.just(r) | st.integers(0, r), label="c")
            out = pool.commit(rid, c)
            COVERAGE["commit"] += 1
            if c == r:
                COVERAGE["commit_full"] += 1
        elif how == "cancel":
            c = 0
            out = pool.cancel(rid)
            COVERAGE["cancel"] += 1
        else:
            out = pool.forfeit(rid)
            self._apply("forfeit", r=r)
            COVERAGE["forfeit"] += 1
        if how != "forfeit":
            self._apply("confirm_with_refund", r=r, c=c)
            if r - c:
                self._apply("refund_to", a=r - c)
                if name in self.shares:
                    self.shares[name] += r - c
        assert out == Settlement(rid, {"commit": "committed", "cancel": "cancelled",
                                       "forfeit": "forfeited"}[how], r,
                                 None if how == "forfeit" else c)
        del self.open[rid]
        self.done[rid] = (how, out)

    @precondition(lambda self: any(k not in self.lapsed for k in self.open))
    @rule(data=st.data())
    def over_charge(self, data: st.DataObject) -> None:
        rid, r, _ = self._pick_open(data)
        self._touch()
        try:
            self._handle(data).commit(rid, r + 1)
            raise AssertionError("a charge above the reservation was accepted")
        except impl.ChargeExceedsReservation:
            COVERAGE["over_charge"] += 1

    @precondition(lambda self: bool(self.done))
    @rule(data=st.data())
    def retry_settlement(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.done)), label="id")
        how, out = self.done[rid]
        pool = self._handle(data)
        self._touch()
        again = {"commit": lambda: pool.commit(rid, out.actual or 0),
                 "cancel": lambda: pool.cancel(rid), "forfeit": lambda: pool.forfeit(rid)}[how]()
        assert again == out
        COVERAGE["retry"] += 1

    @precondition(lambda self: bool(self.done))
    @rule(data=st.data(), how=st.sampled_from(["commit", "cancel", "forfeit"]))
    def conflicting_settlement(self, data: st.DataObject, how: str) -> None:
        rid = data.draw(st.sampled_from(sorted(self.done)), label="id")
        was, out = self.done[rid]
        if how == was and how != "commit":
            return
        actual = (out.actual or 0) + 1 if how == was else 0
        pool = self._handle(data)
        self._touch()
        try:
            {"commit": lambda: pool.commit(rid, actual), "cancel": lambda: pool.cancel(rid),
             "forfeit": lambda: pool.forfeit(rid)}[how]()
            raise AssertionError(f"{how} of a reservation already {was} was accepted")
        except impl.AlreadySettled:
            COVERAGE["conflict"] += 1

    @precondition(lambda self: bool(self.lapsed) or bool(self.expired))
    @rule(data=st.data(), how=st.sampled_from(["commit", "cancel", "forfeit"]))
    def late_settlement(self, data: st.DataObject, how: str) -> None:
        pool = self._handle(data)
        self._touch()
        rid = data.draw(st.sampled_from(sorted(self.expired)), label="id")
        r = self.expired[rid]
        if how == "forfeit":
            assert pool.forfeit(rid) == Settlement(rid, "expired", r, None)
            COVERAGE["late_forfeit"] += 1
            return
        try:
            pool.commit(rid, 0) if how == "commit" else pool.cancel(rid)
            raise AssertionError("a settlement after the lease lapsed was accepted")
        except impl.LeaseExpired as e:
            assert (e.id, e.amount) == (rid, r)
            COVERAGE["late_settlement"] += 1

    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        n = len(self.lapsed)
        self._touch()
        assert self._handle(data).expire() == n
        COVERAGE["expire"] += 1

    # -- reconciling against the provider's bill ---------------------------------------

    @rule(data=st.data())
    def reconcile(self, data: st.DataObject) -> None:
        self._touch()
        live = int(self.state.live_sum)
        # small drifts: draining the pool would starve the other rules
        d = data.draw(st.integers(0, min(live, 40)), label="drift")
        self._reconcile(data, int(self.state.total_charged) + d)

    @precondition(lambda self: self.state.total_charged > 0)
    @rule(data=st.data())
    def reconcile_below(self, data: st.DataObject) -> None:
        self._touch()
        last = self.reconciled
        charged = int(self.state.total_charged)
        billed = data.draw(st.integers(0, charged - 1) | st.sampled_from(
            [last] if last is not None and last < charged else [0]), label="billed")
        self._reconcile(data, billed)

    @precondition(lambda self: self.count >= 4)  # late in a run: it closes the pool
    @rule(data=st.data(), extra=st.integers(1, 50))
    def overdraft_rule(self, data: st.DataObject, extra: int) -> None:
        self._touch()
        self._reconcile(data, int(self.state.total_charged + self.state.live_sum) + extra)

    def _reconcile(self, data: st.DataObject, billed: int) -> None:
        """Reconcile ``billed`` through a handle; expect BudgetPool's outcome."""
        pool = self._handle(data)
        charged, live = int(self.state.total_charged), int(self.state.live_sum)
        d = billed - charged
        if d < 0 and billed != self.reconciled:
            try:
                pool.reconcile(billed)
                raise AssertionError(f"reconcile({billed}) below {charged} accepted")
            except impl.BilledTotalBelowCharged as e:
                assert (e.billed_total, e.total_charged) == (billed, charged)
            COVERAGE["reconcile_below"] += 1
            return
        d = max(d, 0)
        if self.overdraft or d > live:
            try:
                pool.reconcile(billed)
                raise AssertionError(f"reconcile({billed}) absorbed a drift of {d} uc")
            except impl.Overdraft as e:
                self.overdraft = max(self.overdraft, d - live)
                assert (e.drift, e.live_sum, e.overdraft) == (d, live, self.overdraft)
            COVERAGE["overdraft"] += 1
            return
        assert pool.reconcile(billed) == d
        self.reconciled = billed
        COVERAGE["reconcile" if d else "reconcile_repeat"] += 1
        if not d:
            return
        rest = d - self._root_available()
        for name in sorted(self.shares):
            take = min(self.shares[name], max(rest, 0))
            self.shares[name] -= take
            rest -= take
        self._apply("reconcile", d=d)

    # -- shares and bad input --------------------------------------------------------

    @rule(name=st.sampled_from(["a", "b"]), amount=st.integers(1, 100) | st.integers(1, 600))
    def split(self, name: str, amount: int) -> None:
        self._touch()
        avail = self._root_available()
        if amount > avail:
            try:
                self.pool.split(name, amount)
                raise AssertionError("a split above the pool's own amount was accepted")
            except impl.InsufficientBudget:
                return
        handle = self.pool.split(name, amount)
        handle.observe(self._seen)
        if name in self.share_handles:
            self.share_handles[name].close()
        self.share_handles[name] = handle
        self.shares[name] = self.shares.get(name, 0) + amount
        COVERAGE["split"] += 1

    @precondition(lambda self: bool(self.shares))
    @rule(data=st.data())
    def merge(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.shares)), label="share")
        self._touch()
        assert self._handle(data).merge(name) == self.shares.pop(name)
        COVERAGE["merge"] += 1

    @rule(data=st.data(), bad=st.sampled_from([0, -1, 2**53, 1.0, True, "5", None]))
    def invalid(self, data: st.DataObject, bad: object) -> None:
        pool = self._handle(data)
        try:
            pool.reserve(bad)  # type: ignore[arg-type]
            raise AssertionError(f"reserve({bad!r}) accepted")
        except (impl.InvalidAmount, impl.AmountTypeError):
            COVERAGE["invalid"] += 1  # refused before the store: no expiry pass either

    # -- the checks ----------------------------------------------------------------

    @invariant()
    def lockstep(self) -> None:
        if not hasattr(self, "pool"):
            return
        self._touch()
        led = self.pool.ledger()
        got = tuple(getattr(led, v) for v in LEDGER.variables)
        assert got == tuple(self.state), f"ledger {got} != spec {tuple(self.state)}"
        assert not spec.broken_invariants(LEDGER, self.state, self.b0)
        key = lambda s: (s[0], sorted(s[1].items()))
        assert sorted(self.observed, key=key) == sorted(self.expected, key=key), \
            f"steps reported {self.observed} != steps applied {self.expected}"
        self.observed.clear()
        self.expected.clear()
        assert self.pool.available == self._root_available()
        for name, amount in self.shares.items():
            assert self.share_handles[name].available == amount
        audit = self.pool.audit()
        assert audit.open_amount == led.outstanding_receipts == sum(
            r for r, _ in self.open.values())
        assert audit.shares == sum(self.shares.values())
        assert self.pool.overdraft == self.overdraft
