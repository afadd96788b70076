"""The shared-pool protocol as a model: clients, a lossy network, a store with leases.

Clients reserve, make their call, settle (commit at any ``c <= r``, cancel or
forfeit), crash at any point, lose replies and retry (a retry resends the same
request under the same id, so a request can be delivered twice). The store applies
each request atomically: it first forfeits the leases that lapsed on *its* clock,
then runs the request, idempotently by id. The store's ledger moves only through
``spec.LEDGER``'s transitions (``spec.step``, ``spec.enabled``), never re-typed here.

With ``drift=`` (the amount the provider billed beyond what clients committed),
``reconcilers`` more actors each read the provider's *cumulative* true bill once
(``billed_total`` = the charges committed at the store so far + ``drift``) and send
``reconcile(billed_total)`` over the same network (lost replies, retries, duplicates,
crashes). The store handles it as ``impl.fleet``'s stores do (``backend.py``):
``d = billed_total - total_charged``; ``d < 0`` is refused (``below``, nothing
changes) unless ``billed_total`` is the bill the store accepted last (a repeat after
charges landed: a stutter); on a closed pool, or when ``reconcile(d)`` is not enabled
for ``d > 0`` (``d > live_sum``), nothing changes but the recorded overdraft, and the
pool is closed; otherwise ``reconcile(d)`` (a stutter when ``d == 0``) and the bill is
remembered. A closed pool refuses every new reserve (no spec step); settlements go on.

Properties checked in every reachable state (stateright's ``always``):

- ``TypeOK``, ``Conservation``, ``CapSoundness``: the spec's own invariants;
- ``OutstandingIsOpen``: ``outstanding_receipts`` is the sum of open reservations;
- ``AtMostOnce``: no reservation was reserved, or settled, more than once;
- ``ChargedIsCommitted``: ``total_charged`` is the sum of the committed charges plus
  the drift the store's reconciliations applied, and that drift never exceeds
  ``drift``, what the provider billed beyond the commits (each accepted bill is applied
  at most once, whatever duplicates are delivered);
- ``ClosedAdmitsNoReserve``: no reserve is applied once the pool is closed;
- ``NoEarlyExpiry``: no reservation was expired before its deadline on the store's clock;
- ``ResolvedOnceLeaseCanExpire``: from every state, the store alone (its clock
  running, ``expire()``; no client, they may all have crashed) resolves every open
  reservation: nobody's money is stranded for longer than a lease.

With reconcilers, sometimes properties (some explored step must witness each) check
that every branch of the store's reconcile is reachable: a drift applied, the last bill
repeated after charges landed, a stale bill refused as below the charges, an overdraft
closing the pool, a reserve refused by the closed pool.

Seeded bugs (``bug=``): ``"no_idempotency"`` (a repeated request is applied again),
``"client_clock"`` (leases judged by the timestamps clients send: a client whose
clock runs ahead expires others' leases early, and when clients stop sending,
expiry stops), ``"reconcile_as_delta"`` (the store takes the billed total for the
drift itself, an increment: a duplicate delivery applies it again) and
``"reserve_when_closed"`` (the store's reserve forgets the overdraft check).
``RECONCILE_BUGS`` need a model with reconcilers to show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

import spec
from spec import LEDGER

BUGS = ("no_idempotency", "client_clock", "reconcile_as_delta", "reserve_when_closed")
RECONCILE_BUGS = ("reconcile_as_delta", "reserve_when_closed")

# client phases
IDLE, WAIT_RES, HOLD, WAIT_SET, DONE, CRASHED = "idle", "wait_res", "hold", "wait_set", \
    "done", "crashed"

# A request is "" (none), "r" (reserve), "c<charge>" (commit), "x" (cancel), "f" (forfeit);
# a reply "" (none) or the store's answer. Plain strings and tuples keep states cheap to
# hash and to sort (symmetry reduction).
Client = tuple[str, str, int, str]  # phase, request in flight, copies, reply
Bill = tuple[str, int, int, str]  # a reconciler's phase, billed total sent, copies, reply
Record = tuple[()] | tuple[str, int, int]  # () or (state o/c/x/f/e, deadline, charge)
Action = tuple[Any, ...]
Row = TypeVar("Row")
# the reconcilers' actions (a bill read and sent; its network; a crash)
RECONCILER_ACTIONS = frozenset(("bill", "deliver_bill", "retry_bill", "lose_bill_reply",
                                "receive_bill", "crash_reconciler"))


class Recon(NamedTuple):
    """The reconcilers and what the store keeps of reconciliation (one field of
    :class:`State`, constant without reconcilers: fewer fields to hash and copy)."""

    bills: tuple[Bill, ...] = ()  # the reconcilers
    last: int = -1  # the billed total the store accepted last (-1: none yet)
    over: int = 0  # the overdraft the store recorded (> 0: the pool is closed)
    drifted: int = 0  # history: the sum of the drifts d the store applied
    late: bool = False  # history: a reserve was applied on a closed pool


class State(NamedTuple):
    """One state of the protocol: the store's clock, ledger and records, the clients,
    the reconcilers."""

    clock: int
    seen: int  # the latest client timestamp the store saw (used only by client_clock)
    ledger: Any  # a spec.LEDGER state
    clients: tuple[Client, ...]
    records: tuple[Record, ...]  # reservation of client i (its id is i)
    applied: tuple[tuple[int, int], ...]  # per id: (reserves applied, settlements applied)
    recon: Recon = Recon()


class FleetProtocol:
    """The protocol for ``len(amounts)`` clients as a :class:`model.checker.Model`.

    Client ``i`` reserves ``amounts[i]`` once; its clock runs ``skews[i]`` ticks
    ahead of the store's. ``lease`` is in ticks; the store's clock stops at
    ``max_clock`` (the liveness property runs it further). ``copies`` bounds the
    duplicates of one request in flight. With ``drift`` (``>= 0``), ``reconcilers``
    reconcilers each send one bill: the charges committed at the store when it reads
    the bill, plus ``drift``.
    """

    def __init__(self, amounts: Sequence[int], b0: int, *, skews: Sequence[int] | None = None,
                 lease: int = 1, max_clock: int = 2, copies: int = 2,
                 drift: int | None = None, reconcilers: int = 1,
                 bug: str | None = None) -> None:
        if bug is not None and bug not in BUGS:
            raise ValueError(f"unknown bug {bug!r}; one of {BUGS}")
        if drift is not None and drift < 0:
            raise ValueError(f"drift must be >= 0, not {drift}")
        self.amounts = tuple(amounts)
        self.b0 = b0
        self.skews = tuple(skews) if skews is not None else (0,) * len(self.amounts)
        self.lease, self.max_clock, self.copies, self.bug = lease, max_clock, copies, bug
        self.drift = drift or 0
        self.m = 0 if drift is None else reconcilers  # the reconcilers' rows
        self.n = len(self.amounts)
        self._classes = list(zip(self.amounts, self.skews, strict=True))
        # canonical order is sound only when the classes already come sorted
        self._symmetric = len(set(self._classes)) < self.n and \
            self._classes == sorted(self._classes)

    # -- the Model interface ------------------------------------------------------

    def init_states(self) -> list[State]:
        return [State(0, 0, LEDGER.initial_state(self.b0),
                      ((IDLE, "", 0, ""),) * self.n, ((),) * self.n,
                      ((0, 0),) * self.n, Recon(((IDLE, 0, 0, ""),) * self.m))]

    def actions(self, s: State) -> Iterator[Action]:
        for i, (phase, _, copies, reply) in enumerate(s.clients):
            if phase == IDLE:
                yield ("reserve", i)
            if phase == HOLD:
                r = self.amounts[i]
                for c in range(r + 1):
                    yield ("commit", i, c)
                yield ("cancel", i)
                yield ("forfeit", i)
            if copies:
                yield ("deliver", i)
            if reply:
                yield ("lose_reply", i)
                yield ("receive", i)
            if phase in (WAIT_RES, WAIT_SET) and not reply and copies < self.copies:
                yield ("retry", i)
            if phase not in (DONE, CRASHED):
                yield ("crash", i)
        for j, (phase, _, copies, reply) in enumerate(s.recon.bills):
            if phase == IDLE:
                yield ("bill", j, _committed(s) + self.drift)
            if copies:
                yield ("deliver_bill", j)
            if reply:
                yield ("lose_bill_reply", j)
                yield ("receive_bill", j)
            if phase == WAIT_RES and not reply and copies < self.copies:
                yield ("retry_bill", j)
            if phase not in (DONE, CRASHED):
                yield ("crash_reconciler", j)
        if s.clock < self.max_clock:
            yield ("tick",)
        yield ("expire",)

    def next_state(self, s: State, a: Action) -> State | None:
        t = self._next(s, a)
        return None if t is None else self._canonical(t)

    def _canonical(self, s: State) -> State:
        """Clients with the same amount and skew are interchangeable, and so are the
        reconcilers: keep their rows in one order (symmetry reduction; every property
        is symmetric in them)."""
        recon = s.recon
        if self.m > 1:
            recon = recon._replace(bills=tuple(sorted(recon.bills)))
        if not self._symmetric:
            return s if recon is s.recon else s._replace(recon=recon)
        rows = sorted(zip(self._classes, s.clients, s.records, s.applied, strict=True))
        # built directly, not by _replace: this runs on every step
        return State(s.clock, s.seen, s.ledger, tuple(r[1] for r in rows),
                     tuple(r[2] for r in rows), tuple(r[3] for r in rows), recon)

    def _next(self, s: State, a: Action) -> State | None:
        kind, args = a[0], a[1:]
        if kind == "tick":
            return s._replace(clock=s.clock + 1)
        if kind == "expire":
            t = self._expire(s, s.seen if self.bug == "client_clock" else s.clock)
            return None if t == s else t
        if kind in RECONCILER_ACTIONS:
            return self._reconciler(s, kind, *args)
        i = args[0]
        phase, req, copies, reply = s.clients[i]
        if kind == "reserve":
            return self._client(s, i, (WAIT_RES, "r", 1, ""))
        if kind in ("commit", "cancel", "forfeit"):
            req = f"c{args[1]}" if kind == "commit" else kind[0].replace("c", "x")
            return self._client(s, i, (WAIT_SET, req, 1, ""))
        if kind == "retry":
            return self._client(s, i, (phase, req, copies + 1, reply))
        if kind == "crash":
            return self._client(s, i, (CRASHED, req, copies, ""))
        if kind == "lose_reply":
            return self._client(s, i, (phase, req, copies, ""))
        if kind == "receive":
            return self._receive(s, i)
        return self._deliver(s, i)  # "deliver"

    def properties(self) -> Sequence[tuple[str, Callable[[State], bool]]]:
        def inv(name: str) -> Callable[[State], bool]:
            return lambda s: name not in spec.broken_invariants(LEDGER, s.ledger, self.b0)

        return [
            *[(v.name, inv(v.name)) for v in LEDGER.invariants],
            ("OutstandingIsOpen", lambda s: s.ledger.outstanding_receipts == sum(
                self.amounts[i] for i, rec in enumerate(s.records) if rec and rec[0] == "o")),
            ("AtMostOnce", lambda s: all(a <= 1 and b <= 1 for a, b in s.applied)),
            ("ChargedIsCommitted", lambda s: s.ledger.total_charged == _committed(s)
             + s.recon.drifted and s.recon.drifted <= self.drift),
            ("ClosedAdmitsNoReserve", lambda s: not s.recon.late),
            ("NoEarlyExpiry", lambda s: all(
                rec[1] <= s.clock for rec in s.records if rec and rec[0] == "e")),
            ("ResolvedOnceLeaseCanExpire", self._resolves_alone),
        ]

    def sometimes(self) -> Sequence[tuple[str, Callable[[State, Action, State], bool]]]:
        """With reconcilers: every branch of the store's reconcile is taken somewhere."""
        if not self.m:
            return []

        def bill(s: State, a: Action) -> int | None:  # the bill a delivery hands the store
            return s.recon.bills[a[1]][1] if a[0] == "deliver_bill" else None

        def below(s: State, a: Action) -> bool:
            b = bill(s, a)
            return b is not None and b < s.ledger.total_charged

        return [
            ("ReconcileApplied", lambda s, a, t: t.recon.drifted > s.recon.drifted),
            ("LastBillRepeated", lambda s, a, t: below(s, a) and bill(s, a) == s.recon.last),
            ("StaleBillRefused", lambda s, a, t: below(s, a) and bill(s, a) != s.recon.last),
            ("OverdraftCloses", lambda s, a, t: t.recon.over > 0 == s.recon.over),
            ("ClosedRefusesReserve", lambda s, a, t: s.recon.over > 0 and a[0] == "deliver"
             and s.clients[a[1]][1] == "r" and not s.records[a[1]]),
        ]

    def format_action(self, a: Action) -> str:
        if a[0] == "commit":
            return f"client {a[1]}: commit(c={a[2]})"
        if a[0] == "bill":
            return f"reconciler {a[1]}: reconcile(billed_total={a[2]})"
        if a[0] in RECONCILER_ACTIONS:
            return f"reconciler {a[1]}: {a[0].replace('_bill', '').replace('_reconciler', '')}"
        return a[0] if len(a) == 1 else f"client {a[1]}: {a[0]}"

    # -- the store ----------------------------------------------------------------

    def _expire(self, s: State, now: int) -> State:
        """Forfeit every open reservation whose deadline has passed at ``now``."""
        ledger, records = s.ledger, list(s.records)
        for i, rec in enumerate(records):
            if rec and rec[0] == "o" and rec[1] <= now:
                if not spec.enabled(LEDGER, ledger, "forfeit", self.amounts[i]):
                    continue  # only a seeded bug gets here; the store's constraint refuses
                ledger = spec.step(LEDGER, ledger, "forfeit", self.amounts[i])
                records[i] = ("e", rec[1], 0)
        return s._replace(ledger=ledger, records=tuple(records))

    def _deliver(self, s: State, i: int) -> State:
        """The store handles one copy of client ``i``'s request, atomically."""
        phase, req, copies, _ = s.clients[i]
        if self.bug == "client_clock":
            seen = max(s.seen, s.clock + self.skews[i])
            s = s._replace(seen=seen)
            now = seen
        else:
            now = s.clock
        s = self._expire(s, now)
        rec, r = s.records[i], self.amounts[i]
        ledger, records, applied = s.ledger, list(s.records), list(s.applied)
        res_n, set_n = applied[i]
        if req == "r":
            if rec and self.bug != "no_idempotency":
                reply = "ok" if rec[0] == "o" else "gone"
            elif s.recon.over and self.bug != "reserve_when_closed":
                reply = "closed"  # no spec step: the closed pool admits nothing new
            elif r <= ledger.live_sum:
                if s.recon.over:  # only a seeded bug gets here
                    s = s._replace(recon=s.recon._replace(late=True))
                ledger = spec.step(LEDGER, ledger, "reserve", r)
                records[i] = ("o", now + self.lease, 0)
                applied[i] = (res_n + 1, set_n)
                if rec and rec[0] == "o":  # the bug re-reserved an open id
                    ledger = spec.step(LEDGER, ledger, "forfeit", r)
                reply = "ok"
            else:
                ledger = spec.step(LEDGER, ledger, "spend_insufficient", r)
                reply = "refused"
        else:
            assert rec
            how, c = req[0], int(req[1:] or 0)
            state = rec[0]
            if state == "e":
                reply = "expired"
            elif state != "o" and self.bug != "no_idempotency":
                reply = "ok" if state == how and rec[2] == c else "settled"
            elif r > ledger.outstanding_receipts:  # the bug's repeat cannot apply at all
                reply = "settled"
            else:
                ledger = _settle(ledger, how, r, c)
                records[i] = (how, rec[1], c)
                applied[i] = (res_n, set_n + 1)
                reply = "ok"
        client = (phase, req, copies - 1, "" if phase == CRASHED else reply)
        return s._replace(ledger=ledger, records=tuple(records), applied=tuple(applied),
                          clients=_set(s.clients, i, client))

    def _reconciler(self, s: State, kind: str, j: int, billed: int = 0) -> State:
        """Reconciler ``j``'s step: a bill read and sent, or a network or crash step."""
        phase, sent, copies, reply = s.recon.bills[j]
        if kind == "bill":
            row = (WAIT_RES, billed, 1, "")
        elif kind == "deliver_bill":
            return self._deliver_bill(s, j)
        elif kind == "retry_bill":
            row = (phase, sent, copies + 1, reply)
        elif kind == "crash_reconciler":
            row = (CRASHED, sent, copies, "")
        elif kind == "lose_bill_reply":
            row = (phase, sent, copies, "")
        else:  # "receive_bill": only a waiting reconciler holds a reply; it is done
            row = (DONE, sent, 0, "")
        return s._replace(recon=s.recon._replace(bills=_set(s.recon.bills, j, row)))

    def _deliver_bill(self, s: State, j: int) -> State:
        """The store handles one copy of reconciler ``j``'s bill, atomically (as
        ``impl.fleet``'s stores do: expiry first, then reconcile)."""
        phase, billed, copies, _ = s.recon.bills[j]
        s = self._expire(s, s.seen if self.bug == "client_clock" else s.clock)
        ledger, (bills, last, over, drifted, late) = s.ledger, s.recon
        if self.bug == "reconcile_as_delta":
            d = billed  # the bug: the cumulative total taken for an increment
        else:
            d = billed - ledger.total_charged
        if d < 0 and billed != last:
            reply = "below"  # nothing changes
        else:
            d = max(d, 0)  # the bill accepted last, again after charges landed: a stutter
            if over or (d and not spec.enabled(LEDGER, ledger, "reconcile", d)):
                over = max(over, d - ledger.live_sum)  # the pool is closed; nothing else
                reply = "overdraft"
            else:
                if d:
                    ledger = spec.step(LEDGER, ledger, "reconcile", d)
                last, drifted, reply = billed, drifted + d, "ok"
        row = (phase, billed, copies - 1, "" if phase == CRASHED else reply)
        return s._replace(ledger=ledger,
                          recon=Recon(_set(bills, j, row), last, over, drifted, late))

    def _receive(self, s: State, i: int) -> State:
        phase, req, copies, reply = s.clients[i]
        if phase == WAIT_RES:
            nxt = HOLD if reply == "ok" else DONE
        elif phase == WAIT_SET:
            nxt = DONE
        else:  # a duplicate's reply after the client moved on: dropped
            nxt = phase
        return self._client(s, i, (nxt, req if nxt == phase else "",
                                   copies if nxt == phase else 0, ""))

    def _client(self, s: State, i: int, c: Client) -> State:
        return s._replace(clients=_set(s.clients, i, c))

    def _resolves_alone(self, s: State) -> bool:
        """The store alone (clock running, expire) resolves every open reservation."""
        horizon = self.lease + max(self.skews, default=0) + 2
        for _ in range(horizon + 1):
            now = s.seen if self.bug == "client_clock" else s.clock
            s = self._expire(s, now)
            if not any(rec and rec[0] == "o" for rec in s.records):
                return True
            s = s._replace(clock=s.clock + 1)
        return False


def _settle(ledger: Any, how: str, r: int, c: int) -> Any:
    """The ledger steps of settlement ``how`` (c, x, f) of ``r`` at charge ``c``
    (SEMANTICS.md's mapping for a pool reservation)."""
    if how == "f":
        return spec.step(LEDGER, ledger, "forfeit", r)
    ledger = spec.step(LEDGER, ledger, "confirm_with_refund", r, c)
    return spec.step(LEDGER, ledger, "refund_to", r - c) if r - c else ledger


def _committed(s: State) -> int:
    """The charges committed at the store (what the provider billed for the calls)."""
    return sum(rec[2] for rec in s.records if rec and rec[0] == "c")


def _set(t: tuple[Row, ...], i: int, v: Row) -> tuple[Row, ...]:
    return (*t[:i], v, *t[i + 1:])

