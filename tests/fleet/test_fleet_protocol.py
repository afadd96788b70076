"""The shared-pool protocol model, explored exhaustively, and its seeded bugs.

Figures (ci): 2 clients (up to 2 copies of a request in flight, store clock 0..2):
every reachable state explored. The correct store never reads a client's clock, so its
model runs with equal clocks (the clients are then symmetric); the client-clock bug
runs with one client a tick ahead. The exhaustive profile adds 3
clients (one copy in flight, store clock 0..1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from hypothesis import settings

from model.checker import explore
from model.fleet_protocol import FleetProtocol, State

EXHAUSTIVE = settings._current_profile == "exhaustive"
PROPERTIES = {"TypeOK", "Conservation", "CapSoundness", "OutstandingIsOpen", "AtMostOnce",
              "ChargedIsCommitted", "NoEarlyExpiry", "ResolvedOnceLeaseCanExpire"}


def two_clients(bug: str | None = None) -> FleetProtocol:
    skews = (0, 1) if bug == "client_clock" else (0, 0)
    return FleetProtocol((1, 1), 1, skews=skews, copies=2, max_clock=2, bug=bug)


def test_the_protocol_keeps_every_property_for_two_clients() -> None:
    model = two_clients()
    assert {name for name, _ in model.properties()} == PROPERTIES
    res = explore(model, check_deadlock=False)
    assert res.complete and not res.violations
    assert res.distinct_states > 10_000  # crashes, losses, retries and expiry all interleave
    labels = {model.format_action(a) for s in model.init_states() for a in model.actions(s)}
    assert {"client 0: reserve", "tick", "expire"} <= labels


@pytest.mark.skipif(not EXHAUSTIVE, reason="3 clients: under the exhaustive profile")
def test_the_protocol_keeps_every_property_for_three_clients() -> None:
    res = explore(FleetProtocol((1, 1, 1), 1, copies=1, max_clock=1), check_deadlock=False)
    assert res.complete and not res.violations


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
])
def test_seeded_protocol_bugs_are_caught(bug: str, names: set[str], expected: set[str]) -> None:
    model = two_clients(bug)
    res = explore(_Only(model, names), check_deadlock=False)  # type: ignore[arg-type]
    assert expected <= {v.property for v in res.violations}
    trace = res.violations[0].render(str)
    assert trace[0].endswith("step(s):") and "Init" in trace[1]


def test_an_unknown_bug_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bug"):
        FleetProtocol((1,), 1, bug="other")


def test_model_check_only_fleet_reports_the_models_and_the_bugs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import model.cli.fleet as cli_fleet
    from model.cli.checks import CHECKS, Options
    from spec import LEDGER

    small = (("fleet protocol: 1 client", lambda bug: FleetProtocol(
        (1,), 2, skews=(1,) if bug else (0,), copies=2, max_clock=2, bug=bug)),)
    monkeypatch.setattr(cli_fleet, "CONFIGS", small)
    rows = CHECKS["fleet"].run(Options(LEDGER))
    assert [(r.kind, r.ok) for r in rows] == [("explore", True), ("mutant", True),
                                              ("mutant", True)]
    assert rows[1].figures["caught_by"] and rows[2].figures["caught_by"]
