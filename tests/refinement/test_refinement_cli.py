"""``python -m model.check --only refinement``: two checks, at least B0 = 6, JSON figures."""

from __future__ import annotations

import json

import pytest

from model.check import main
from model.cli.checks import CHECKS


def test_refinement_suite_reports_proof_and_exploration(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "--only", "refinement", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    proof, bfs, pool = doc["checks"]
    assert proof["kind"] == "proof"
    assert proof["name"] == "refinement: handles refine ledger (Z3)"
    assert proof["obligations"] == proof["proved"] > 0
    assert bfs["kind"] == "explore"
    assert bfs["name"] == "refinement: handles explored at B0=6"
    assert bfs["b0"] == 6  # the default --b0 is 5: the suite explores at least 6
    assert bfs["distinct_states"] > 0 and bfs["transitions"] > 0
    assert sum(bfs["per_transition"].values()) == bfs["transitions"]
    assert bfs["per_transition"]["stutter"] > 0
    assert pool["name"] == "refinement: pool explored at B0=6" and pool["ok"]
    assert proof["unclaimed"] == [] and bfs["unwitnessed"] == pool["unwitnessed"] == []


def test_refinement_is_a_default_suite_about_the_library() -> None:
    suite = CHECKS["refinement"]
    assert suite.default and suite.ledger_only
