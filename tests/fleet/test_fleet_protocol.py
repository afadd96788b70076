"""The shared-pool protocol model, explored exhaustively, and its seeded bugs.

Figures (ci): 2 clients (up to 2 copies of a request in flight, store clock 0..2):
every reachable state explored. The correct store never reads a client's clock, so its
model runs with equal clocks (the clients are then symmetric); the client-clock bug
runs with one client a tick ahead. A reconciler (drift 1) runs with 2 clients of 1 and
2 (one copy in flight, clock 0): every branch of the store's reconcile witnessed, and
the two reconcile bugs caught. The exhaustive profile adds 3 clients (one copy in
flight, store clock 0..1), and the reconciler with the clock at 0..1 and with two
reconcilers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from hypothesis import settings

from model.checker import explore
from model.fleet_protocol import BUGS, RECONCILE_BUGS, FleetProtocol, State

EXHAUSTIVE = settings._current_profile == "exhaustive"
PROPERTIES = {"TypeOK", "Conservation", "CapSoundness", "OutstandingIsOpen", "AtMostOnce",
              "ChargedIsCommitted", "ClosedAdmitsNoReserve", "NoEarlyExpiry",
              "ResolvedOnceLeaseCanExpire"}
SOMETIMES = {"ReconcileApplied", "LastBillRepeated", "StaleBillRefused", "OverdraftCloses",
             "ClosedRefusesReserve"}


def two_clients(bug: str | None = None) -> FleetProtocol:
    skews = (0, 1) if bug == "client_clock" else (0, 0)
    return FleetProtocol((1, 1), 1, skews=skews, copies=2, max_clock=2, bug=bug)


def with_reconciler(bug: str | None = None, *, max_clock: int = 0,
                    reconcilers: int = 1) -> FleetProtocol:
    return FleetProtocol((1, 2), 2, drift=1, reconcilers=reconcilers, copies=1,
                         max_clock=max_clock, bug=bug)


def test_the_protocol_keeps_every_property_for_two_clients() -> None:
    model = two_clients()
    assert {name for name, _ in model.properties()} == PROPERTIES
    assert not model.sometimes()  # no reconciler, nothing to witness
    res = explore(model, check_deadlock=False)
    assert res.complete and not res.violations
    # crashes, losses, retries and expiry all interleave; an absent reconciler adds none
    assert res.distinct_states == 19_122
    labels = {model.format_action(a) for s in model.init_states() for a in model.actions(s)}
    assert {"client 0: reserve", "tick", "expire"} <= labels


@pytest.mark.skipif(not EXHAUSTIVE, reason="3 clients: under the exhaustive profile")
def test_the_protocol_keeps_every_property_for_three_clients() -> None:
    res = explore(FleetProtocol((1, 1, 1), 1, copies=1, max_clock=1), check_deadlock=False)
    assert res.complete and not res.violations


def test_reconciliation_keeps_every_property_and_takes_every_branch() -> None:
    model = with_reconciler()
    assert {name for name, _ in model.properties()} == PROPERTIES
    assert {name for name, _ in model.sometimes()} == SOMETIMES
    res = explore(model, check_deadlock=False)
    # no violation, and every sometimes property witnessed: a drift applied, the last
    # bill repeated after charges landed (a stutter), a stale bill refused, an overdraft
    # closing the pool, a reserve refused by the closed pool
    assert res.ok, ([v.property for v in res.violations], res.unwitnessed)
    assert res.distinct_states == 26_696
    labels = {model.format_action(a) for s in model.init_states() for a in model.actions(s)}
    assert "reconciler 0: reconcile(billed_total=1)" in labels


@pytest.mark.skipif(not EXHAUSTIVE, reason="larger reconciler runs: under the exhaustive "
                    "profile")
@pytest.mark.parametrize("max_clock, reconcilers", [(1, 1), (0, 2)])
def test_reconciliation_with_expiry_or_two_reconcilers(max_clock: int,
                                                       reconcilers: int) -> None:
    res = explore(with_reconciler(max_clock=max_clock, reconcilers=reconcilers),
                  check_deadlock=False)
    assert res.ok, ([v.property for v in res.violations], res.unwitnessed)


class _Only:
    """``model`` checked for the named properties only (to see each bug's other faces)."""

    def __init__(self, model: FleetProtocol, names: set[str]) -> None:
        self.model, self.names = model, names

    def __getattr__(self, attr: str) -> object:
        return getattr(self.model, attr)

    def properties(self) -> Sequence[tuple[str, Callable[[State], bool]]]:
        return [p for p in self.model.properties() if p[0] in self.names]


@pytest.mark.parametrize("bug, names, expected", [
    # a retried settlement or reserve applied twice
    ("no_idempotency", PROPERTIES, {"AtMostOnce", "OutstandingIsOpen"}),
    # leases judged by the clients' timestamps: when clients stop, expiry stops...
    ("client_clock", PROPERTIES, {"ResolvedOnceLeaseCanExpire"}),
    # ...and a client whose clock runs ahead expires another's lease early
    ("client_clock", PROPERTIES - {"ResolvedOnceLeaseCanExpire"}, {"NoEarlyExpiry"}),
    # the billed total taken for an increment: a duplicate delivery applies it again
    ("reconcile_as_delta", PROPERTIES, {"ChargedIsCommitted"}),
    # the reserve forgets the overdraft: a closed pool admits a reserve
    ("reserve_when_closed", PROPERTIES, {"ClosedAdmitsNoReserve"}),
])
def test_seeded_protocol_bugs_are_caught(bug: str, names: set[str], expected: set[str]) -> None:
    model = with_reconciler(bug) if bug in RECONCILE_BUGS else two_clients(bug)
    res = explore(_Only(model, names), check_deadlock=False)  # type: ignore[arg-type]
    assert expected <= {v.property for v in res.violations}
    trace = res.violations[0].render(str)
    assert trace[0].endswith("step(s):") and "Init" in trace[1]


def test_a_duplicate_bill_applied_twice_is_a_five_step_trace() -> None:
    res = explore(with_reconciler("reconcile_as_delta"), check_deadlock=False)
    labels = [st.label for st in res.violations[0].trace]
    assert labels == ["Init", "reconciler 0: reconcile(billed_total=1)",
                      "reconciler 0: deliver", "reconciler 0: lose_reply",
                      "reconciler 0: retry", "reconciler 0: deliver"]


def test_an_unknown_bug_name_or_a_negative_drift_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bug"):
        FleetProtocol((1,), 1, bug="other")
    with pytest.raises(ValueError, match="drift"):
        FleetProtocol((1,), 1, drift=-1)


def test_the_cli_seeds_every_bug_once() -> None:
    from model.cli.fleet import CONFIGS

    seeded = [bug for _, _, bugs in CONFIGS for bug in bugs]
    assert sorted(seeded) == sorted(BUGS)


def test_model_check_only_fleet_reports_the_models_and_the_bugs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import model.cli.fleet as cli_fleet
    from model.cli.checks import CHECKS, Options
    from spec import LEDGER

    small = (("fleet protocol: 1 client", lambda bug: FleetProtocol(
        (1,), 2, skews=(1,) if bug else (0,), copies=2, max_clock=2, bug=bug),
        ("no_idempotency", "client_clock")),
        ("fleet protocol: 1 client, a reconciler", lambda bug: FleetProtocol(
            (2,), 2, drift=1, copies=1, max_clock=0, bug=bug), ("reconcile_as_delta",)))
    monkeypatch.setattr(cli_fleet, "CONFIGS", small)
    rows = CHECKS["fleet"].run(Options(LEDGER))
    # one client reserving once: no charge lands after a bill is accepted, no reserve
    # comes after an overdraft; the row fails on what it never witnessed
    assert [(r.kind, r.ok) for r in rows] == [("explore", True), ("explore", False),
                                              ("mutant", True), ("mutant", True),
                                              ("mutant", True)]
    assert rows[1].figures["unwitnessed"] == ["LastBillRepeated", "ClosedRefusesReserve"]
    assert "never witnessed: ClosedRefusesReserve" in rows[1].details
    assert all(r.figures["caught_by"] for r in rows[2:])
