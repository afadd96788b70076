"""The shared-pool protocol as a model: clients, a lossy network, a store with leases.

Clients reserve, make their call, settle (commit at any ``c <= r``, cancel or
forfeit), crash at any point, lose replies and retry (a retry resends the same
request under the same id, so a request can be delivered twice). The store applies
each request atomically: it first forfeits the leases that lapsed on *its* clock,
then runs the request, idempotently by id. The store's ledger moves only through
``spec.LEDGER``'s transitions (``spec.step``), never re-typed here.

Properties checked in every reachable state (stateright's ``always``):

- ``TypeOK``, ``Conservation``, ``CapSoundness``: the spec's own invariants;
- ``OutstandingIsOpen``: ``outstanding_receipts`` is the sum of open reservations;
- ``AtMostOnce``: no reservation was reserved, or settled, more than once;
- ``ChargedIsCommitted``: ``total_charged`` is the sum of the committed charges;
- ``NoEarlyExpiry``: no reservation was expired before its deadline on the store's clock;
- ``ResolvedOnceLeaseCanExpire``: from every state, the store alone (its clock
  running, ``expire()``; no client, they may all have crashed) resolves every open
  reservation: nobody's money is stranded for longer than a lease.

Seeded bugs (``bug=``): ``"no_idempotency"`` (a repeated request is applied again)
and ``"client_clock"`` (leases judged by the timestamps clients send: a client whose
clock runs ahead expires others' leases early, and when clients stop sending,
expiry stops).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import spec
from spec import LEDGER

BUGS = ("no_idempotency", "client_clock")

# client phases
IDLE, WAIT_RES, HOLD, WAIT_SET, DONE, CRASHED = "idle", "wait_res", "hold", "wait_set", \
    "done", "crashed"

# A request is "" (none), "r" (reserve), "c<charge>" (commit), "x" (cancel), "f" (forfeit);
# a reply "" (none) or the store's answer. Plain strings and tuples keep states cheap to
# hash and to sort (symmetry reduction).
Client = tuple[str, str, int, str]  # phase, request in flight, copies, reply
Record = tuple[()] | tuple[str, int, int]  # () or (state o/c/x/f/e, deadline, charge)
Action = tuple[Any, ...]


class State(NamedTuple):
    """One state of the protocol: the store's clock, ledger and records, the clients."""

    clock: int
    seen: int  # the latest client timestamp the store saw (used only by client_clock)
    ledger: Any  # a spec.LEDGER state
    clients: tuple[Client, ...]
    records: tuple[Record, ...]  # reservation of client i (its id is i)
    applied: tuple[tuple[int, int], ...]  # per id: (reserves applied, settlements applied)


class FleetProtocol:
    """The protocol for ``len(amounts)`` clients as a :class:`model.checker.Model`.

    Client ``i`` reserves ``amounts[i]`` once; its clock runs ``skews[i]`` ticks
    ahead of the store's. ``lease`` is in ticks; the store's clock stops at
    ``max_clock`` (the liveness property runs it further). ``copies`` bounds the
    duplicates of one request in flight.
    """

    def __init__(self, amounts: Sequence[int], b0: int, *, skews: Sequence[int] | None = None,
                 lease: int = 1, max_clock: int = 2, copies: int = 2,
                 bug: str | None = None) -> None:
        if bug is not None and bug not in BUGS:
            raise ValueError(f"unknown bug {bug!r}; one of {BUGS}")
        self.amounts = tuple(amounts)
        self.b0 = b0
        self.skews = tuple(skews) if skews is not None else (0,) * len(self.amounts)
        self.lease, self.max_clock, self.copies, self.bug = lease, max_clock, copies, bug
        self.n = len(self.amounts)
        self._classes = list(zip(self.amounts, self.skews, strict=True))
        # canonical order is sound only when the classes already come sorted
        self._symmetric = len(set(self._classes)) < self.n and \
            self._classes == sorted(self._classes)

    # -- the Model interface ------------------------------------------------------

    def init_states(self) -> list[State]:
        return [State(0, 0, LEDGER.initial_state(self.b0),
                      ((IDLE, "", 0, ""),) * self.n, ((),) * self.n,
                      ((0, 0),) * self.n)]

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
        if s.clock < self.max_clock:
            yield ("tick",)
        yield ("expire",)

    def next_state(self, s: State, a: Action) -> State | None:
        t = self._next(s, a)
        return None if t is None else self._canonical(t)

    def _canonical(self, s: State) -> State:
        """Clients with the same amount and skew are interchangeable: keep their rows
        in one order (symmetry reduction; every property is symmetric in them)."""
        if not self._symmetric:
            return s
        rows = sorted(zip(self._classes, s.clients, s.records, s.applied, strict=True))
        return s._replace(clients=tuple(r[1] for r in rows),
                          records=tuple(r[2] for r in rows), applied=tuple(r[3] for r in rows))

    def _next(self, s: State, a: Action) -> State | None:
        kind, args = a[0], a[1:]
        if kind == "tick":
            return s._replace(clock=s.clock + 1)
        if kind == "expire":
            t = self._expire(s, s.seen if self.bug == "client_clock" else s.clock)
            return None if t == s else t
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
            ("ChargedIsCommitted", lambda s: s.ledger.total_charged == sum(
                rec[2] for rec in s.records if rec and rec[0] == "c")),
            ("NoEarlyExpiry", lambda s: all(
                rec[1] <= s.clock for rec in s.records if rec and rec[0] == "e")),
            ("ResolvedOnceLeaseCanExpire", self._resolves_alone),
        ]

    def format_action(self, a: Action) -> str:
        if a[0] == "commit":
            return f"client {a[1]}: commit(c={a[2]})"
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
            elif r <= ledger.live_sum:
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


def _set(t: tuple[Client, ...], i: int, v: Client) -> tuple[Client, ...]:
    return (*t[:i], v, *t[i + 1:])

