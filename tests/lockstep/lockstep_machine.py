"""A Hypothesis state machine that runs impl and the spec ledger in lockstep.

:class:`LockstepMachine` drives impl's public API on one :class:`impl.Session` and one
:class:`impl.BudgetPool`, each paired with its own ``spec.LEDGER`` state (a
:class:`Lockstep`). Every rule performs one library call and, independently, the spec
transitions SEMANTICS.md's mapping table assigns to that call (applied with ``spec.step``:
no guard or update is re-typed here). After every rule the ``lockstep`` invariant
guarantees:

- the steps impl reported through ``observe`` are exactly the transitions the model
  applied, by name and parameters (a refused call is a stutter, or
  ``spend_insufficient(r)`` exactly when that transition's guard holds, SEMANTICS.md);
- impl's ledger equals the model's state, field by field, and no spec invariant is
  broken in either;
- every live value holds what the machine expects (``available``, ``amount``,
  ``outstanding``...), and the sums of those amounts are the ledger's aggregates (the
  refinement's abstraction function, checked on the real objects).

Refused, invalid and misused calls are checked to raise the library's own exception
(with the matching builtin ``ValueError``/``TypeError``/``RuntimeError``) and to change
nothing; the values they touched stay in their bundle and keep being used.

Every kind of event the machine can produce is counted in :data:`COVERAGE` (across all
examples of a run) so that a test can assert that each one occurred: :data:`REQUIRED`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
)
from lockstep_oracle import (
    COVERAGE,
    MISUSE_LABELS,
    REQUIRED,
    TRANSITION_LABELS,
    Lockstep,
)
from lockstep_rules_budgets import BudgetRules
from lockstep_rules_invalid import InvalidRules
from lockstep_rules_misuse import MisuseRules
from lockstep_rules_pool import PoolRules
from lockstep_rules_reconcile import ReconcileRules
from lockstep_rules_refusals import RefusalRules
from lockstep_rules_settle import SettleRules
from lockstep_values import (
    BUDGET,
    CAPS,
    OPEN,
    OTHER_CAP,
    OTHER_LEDGER,
    POOL_KINDS,
    POOL_STREAM,
    RECEIPT,
    REFUND,
    RESERVATION,
    STREAM,
    STREAMS,
    Dead,
    Held,
    values,
)

import impl

__all__ = ["COVERAGE", "MISUSE_LABELS", "REQUIRED", "TRANSITION_LABELS", "LockstepMachine"]


FULL_COLLECTION_EVERY = 50
"""Examples between two collections of what earlier examples left (see ``__init__``)."""
_examples_since_collection = 0


class LockstepMachine(BudgetRules, SettleRules, PoolRules, ReconcileRules, RefusalRules,
                      InvalidRules, MisuseRules, RuleBasedStateMachine):
    """impl's Session and BudgetPool against ``spec.LEDGER``, step by step.

    Its rules come from one mixin per family (budgets, settling, the pool,
    reconciliation, refusals, invalid amounts, misuse); this class holds the
    bookkeeping they share, the ``lockstep`` invariant and the start.  Live values sit
    in the bundles of :mod:`lockstep_values`; consumed values move to ``self.dead``,
    where the misuse rules find them.
    """


    def __init__(self) -> None:
        super().__init__()
        # What earlier examples left (and Hypothesis's heap, which grows with every
        # example) leaves the collector's reach, so ``abandon``'s full collections scan
        # only this example's objects: 2,000 examples took 625 s, mostly in those
        # collections, with it about a tenth. Every FULL_COLLECTION_EVERY examples the
        # garbage frozen meanwhile is collected, keeping memory flat; the suite's
        # fixture unfreezes the rest when the test ends. Teardown resolves every open
        # value, so nothing frozen holds a claim.
        global _examples_since_collection
        _examples_since_collection += 1
        if _examples_since_collection >= FULL_COLLECTION_EVERY:
            _examples_since_collection = 0
            gc.unfreeze()
            gc.collect()
        gc.freeze()
        self.live: dict[int, Held] = {}
        self.dead: list[Dead] = []
        self.dropped_live = 0      # budgets dropped unconsumed: still in live_sum
        self.dropped_refunds = 0   # refunds dropped unapplied: still outstanding
        self.started = False

    # -- bookkeeping ------------------------------------------------------------

    def born(self, held: Held) -> Held:
        self.live[id(held)] = held
        return held

    def died(self, held: Held, how: str | None) -> None:
        """``held`` was consumed by ``how`` (``None``: dropped, no reference kept)."""
        del self.live[id(held)]
        if how is not None:
            self.dead.append(Dead(held.kind, held.value, how))
        held.value = None

    def of(self, kind: str, positive: bool = False) -> list[Held]:
        return [h for h in self.live.values()
                if h.kind == kind and (h.amount > 0 or not positive)]

    def dead_of(self, *kinds: str) -> list[Dead]:
        return [d for d in self.dead if d.kind in kinds]

    def draw_dead(self, data: st.DataObject, *kinds: str) -> Dead:
        """A consumed value of one of ``kinds``: first how it was consumed (uniformly,
        so rare ways are tried as often as common ones), then which one."""
        dead = self.dead_of(*kinds)
        how = data.draw(st.sampled_from(sorted({d.how for d in dead})), label="consumed by")
        return data.draw(st.sampled_from([d for d in dead if d.how == how]), label="value")

    def model(self, h: Held) -> Lockstep:
        return self.p if h.kind in POOL_KINDS else self.s

    def ledgers(self) -> tuple[impl.Ledger, ...]:
        return (self.session.ledger(), self.pool.ledger(), self.other.ledger())

    @contextmanager
    def unchanged(self, *touched: Held) -> Iterator[None]:
        """The block must change no ledger, and ``touched`` values must stay usable
        with the same amounts (they also stay in their bundles for later rules)."""
        before = self.ledgers()
        yield
        assert self.ledgers() == before, "a refused or invalid call changed a ledger"
        for h in touched:
            self.check_held(h)

    # -- the invariant ------------------------------------------------------------

    def check_held(self, h: Held) -> None:
        """``h``'s impl value is live and reports what the model expects."""
        v = h.value
        if h.kind == BUDGET:
            got = v.available
            assert v.session is self.session
        elif h.kind in STREAMS:
            got = v.outstanding
            assert (v.amount, v.charged) == (h.whole, h.whole - h.amount), (
                f"handle mismatch: {v!r} is not {h!r} of {h.whole}")
        else:
            got = v.amount
        assert got == h.amount, f"handle mismatch: {v!r} holds {got}, expected {h!r}"
        if h.visible is not None:
            assert (v.visible, v.reasoning) == (h.visible, h.reasoning)

    @invariant()
    def lockstep(self) -> None:
        """impl and the spec agree on steps, ledgers, invariants and every handle."""
        self.s.check()
        self.p.check()
        for h in self.live.values():
            self.check_held(h)

        def total(*kinds: str) -> int:
            return sum(h.amount for h in self.live.values() if h.kind in kinds)

        s, p = self.s.state, self.p.state
        assert s.live_sum == total(BUDGET) + self.dropped_live, "live budgets != live_sum"
        assert s.outstanding_receipts == total(RECEIPT, STREAM)
        assert s.outstanding_refunds == total(REFUND) + self.dropped_refunds
        assert p.live_sum == self.pool.available
        assert p.outstanding_receipts == total(RESERVATION, POOL_STREAM)
        assert p.outstanding_refunds == 0
        assert self.other.ledger() == OTHER_LEDGER
        assert (self.other_budget.available, self.other_refund.amount) == (5, 3)

    def teardown(self) -> None:
        """Resolve what is still open, quietly, so that nothing is forfeited by GC."""
        if not self.started:
            return
        self.s.unsubscribe()
        self.p.unsubscribe()
        for h in self.live.values():
            if h.kind in OPEN:
                try:
                    h.value.forfeit()
                except impl.BudgetError:
                    pass

    # -- start ------------------------------------------------------------------

    @initialize(target=values, b0=CAPS, pool_cap=CAPS, parts=st.integers(1, 4),
                data=st.data())
    def start(self, b0: int, pool_cap: int, parts: int, data: st.DataObject) -> Any:
        """A session of cap ``b0`` whose root budget is split into ``parts`` budgets, a
        pool of ``pool_cap``, and a second session whose values must never mix with
        the first one's."""
        self.session = impl.Session(b0)
        self.pool = impl.BudgetPool(pool_cap)
        self.other = impl.Session(OTHER_CAP)
        rest, rc = self.other.take().reserve(4)
        self.other_budget, self.other_refund = rest, rc.confirm(1)
        self.s = Lockstep(self.session, "session")
        self.p = Lockstep(self.pool, "pool")
        self.started = True
        root = self.born(Held(BUDGET, self.session.take(), b0))
        out = [root]
        for _ in range(parts - 1):
            out.extend(self.split(out.pop(), data))
        return multiple(*out)

