"""Sometimes properties: a transition that can never fire fails the exploration.

Z3's nonvacuity obligation shows a guard is satisfiable *together with the
invariants*; that is not the same as reachable.  ``LATCHED`` has a transition,
``unlatch``, whose guard holds in states that satisfy every invariant but that no
step from ``Init`` reaches: the proofs accept it, the exploration names it as dead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.check import main
from model.checker import explore, explore_batched
from model.cli.proofs import spec_check
from model.spec_model import SpecBatchModel, SpecModel
from spec import LEDGER, Invariant, Spec, Transition

move = Transition(
    "move", ("n",),
    guard=lambda s, n: (n > 0, n <= s.left),
    update=lambda s, n: {"left": s.left - n, "moved": s.moved + n},
)
back = Transition(
    "back", ("n",),
    guard=lambda s, n: (n > 0, n <= s.moved),
    update=lambda s, n: {"left": s.left + n, "moved": s.moved - n},
)
unlatch = Transition(  # needs latch == 1, and nothing ever sets it
    "unlatch", (),
    guard=lambda s: (s.latch == 1,),
    update=lambda s: {"latch": s.latch - 1},
)
LATCHED = Spec(
    name="latched",
    variables=("left", "moved", "latch"),
    init=lambda b0: {"left": b0, "moved": 0, "latch": 0},
    transitions=(move, back, unlatch),
    invariants=(
        Invariant("TypeOK", lambda s, b0: (s.left >= 0, s.moved >= 0, s.latch >= 0)),
        Invariant("Conservation", lambda s, b0: (s.left + s.moved == b0,)),
    ),
)


def test_both_engines_report_the_transition_that_never_fires() -> None:
    fast = explore_batched(SpecBatchModel(LATCHED, 3))
    slow = explore(SpecModel(LATCHED, 3))
    for res in (fast, slow):
        assert not res.violations and res.unwitnessed == ["unlatch fires"]
        assert not res.ok


def test_the_proofs_alone_do_not_see_it() -> None:
    """The nonvacuity obligation of ``unlatch`` is proved: its guard is satisfiable
    with the invariants (``latch = 1``); only reachability tells it is dead."""
    check = spec_check(LATCHED)
    assert check.ok, check.details


def test_the_ledger_has_no_dead_transition_and_a_dead_one_is_allowed_on_request() -> None:
    assert explore_batched(SpecBatchModel(LEDGER, 1)).unwitnessed == []
    assert explore_batched(SpecBatchModel(LATCHED, 3, live=False)).ok


def test_a_violation_stops_the_search_before_anything_is_called_dead() -> None:
    broken = LATCHED.with_transition(
        Transition("move", ("n",), guard=lambda s, n: (n > 0,), update=move.update))
    res = explore_batched(SpecBatchModel(broken, 2))
    assert res.violations and res.unwitnessed == []


def test_the_cli_fails_naming_it_and_allow_dead_accepts_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    target = f"{Path(__file__).stem}:LATCHED"
    assert main(["-q", "--spec", target, "--only", "explore", "--json"]) == 1
    (check,) = json.loads(capsys.readouterr().out)["checks"]
    assert check["dead_transitions"] == ["unlatch"] and not check["ok"]
    assert "dead transition(s) at B0=5: unlatch" in "\n".join(check["details"])
    assert main(["-q", "--spec", target, "--only", "explore", "--allow-dead"]) == 0
    out = capsys.readouterr().out
    assert "dead: unlatch" in out and "allowed by --allow-dead" in out
