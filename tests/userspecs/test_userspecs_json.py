"""``--json`` against the JSON Schema in the repo: every kind of row, passing and failing."""

from __future__ import annotations

import contextlib
import functools
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from model.check import main
from model.cli.checks import timed
from model.cli.crosshair import check as crosshair_check
from model.cli.interleavings import run_case
from model.cli.mutants import handle_mutant_checks, mutant_checks
from model.cli.report import CheckResult, dump_json
from model.interleave.cases import cases
from proofs import contracts

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "model" / "cli" / "report.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def problems(doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:300]}" for e in VALIDATOR.iter_errors(doc)]


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["-q", "--json", *argv])
    return code, json.loads(capsys.readouterr().out)


def rows_json(rows: list[CheckResult], check: str) -> dict[str, Any]:
    for r in rows:
        r.check = check
    out = io.StringIO()
    dump_json(rows, out, spec="ledger", b0=5)
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_proof_safety_and_explore_rows_of_the_ledger(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = cli_json(capsys, "--only", "proofs,explore,refinement")
    assert code == 0 and problems(doc) == []
    kinds = [c["kind"] for c in doc["checks"]]
    assert kinds[:2] == ["proof", "safety"] and set(kinds) == {"proof", "safety", "explore"}
    assert all("details" not in c for c in doc["checks"])  # passing rows carry none


def test_failing_and_incomplete_rows_of_user_specs(
    user_specs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, bonus = cli_json(capsys, "--spec", "bonus.py:BONUS")
    assert code == 1 and problems(bonus) == []
    proof, safety, _ = bonus["checks"]
    [cex] = proof["counterexamples"]
    assert cex["pre"] == {"left": 0, "sold": 7} and cex["post"] == {"left": 0, "sold": 8}
    assert cex["step"] == {"transition": "bonus", "params": {}}
    assert cex["classification"] == "reachable" and proof["details"]
    assert safety["b0"] == 7 and [s["step"] for s in safety["trace"]] == [
        "Init", "sell(n=7)", "bonus()"]
    assert safety["trace"][1]["params"] == {"n": 7}
    code, oversold = cli_json(capsys, "--spec", "tickets.py:OVERSOLD")
    assert code == 1 and problems(oversold) == []
    [violation] = oversold["checks"][2]["violations"]
    assert violation["trace"][0] == {"step": "Init", "state": {"left": 5, "sold": 0}}
    code, cycle = cli_json(capsys, "--spec", "cycle.py:CYCLE")
    assert code == 0 and problems(cycle) == []
    assert cycle["checks"][0]["counterexamples"][0]["classification"] == "unreachable"
    code, up = cli_json(capsys, "--spec", "up.py:UP", "--only", "explore",
                        "--max-states", "50")
    assert code == 1 and problems(up) == []
    [row] = up["checks"]
    assert (row["ok"], row["complete"], row["stopped"]) == (False, False, "max states 50")


def test_mutant_rows() -> None:
    ledger = mutant_checks(5)
    doc = rows_json(ledger + handle_mutant_checks(), "mutants")
    assert problems(doc) == []
    assert all(c["z3"] and c["model_checker"] for c in doc["checks"])
    rows = {r.name: r for r in ledger}
    assert rows["mutant refund_to_no_debit"].summary == (
        "killed by Z3 (obligation step refund_to preserves Conservation failed) | "
        "killed by BFS (Conservation broken after 3 steps)")


def test_crosshair_rows() -> None:
    doc = rows_json(crosshair_check(contracts=[contracts.proposition1_tokens]), "crosshair")
    assert problems(doc) == [] and doc["checks"][0]["functions"] == 1


def test_interleaving_rows_name_runs_and_schedules() -> None:
    case = next(c for c in cases() if c.scenario == "forgetful_operator" and c.cap == 60)
    _, row = run_case(case)
    doc = rows_json([row], "interleavings")
    assert problems(doc) == []
    [c] = doc["checks"]
    # the README's Table VI row for A at cap 60: 29 runs of 90 schedules, 72 overshoot
    assert (c["runs"], c["schedules"], c["overshooting_schedules"]) == (29, 90, 72)
    assert c["overshooting_schedules"] <= c["schedules"]


def test_a_crashed_check_is_a_valid_error_row() -> None:
    def boom() -> CheckResult:
        raise RuntimeError("boom")

    doc = rows_json([timed("explore: x", "explore", boom)], "explore")
    assert problems(doc) == [] and doc["checks"][0]["error"] == "RuntimeError: boom"


@functools.cache
def ledger_proofs_json() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["-q", "--json", "--only", "proofs"]) == 0
    return out.getvalue()


@pytest.mark.parametrize("change", [
    lambda c: c.update(details=["on a passing row"]),
    lambda c: c.update(bogus=1),
    lambda c: c.pop("obligations"),
    lambda c: c.update(kind="prooof"),
])
def test_the_schema_rejects_drift(change: Any) -> None:
    doc = json.loads(ledger_proofs_json())
    assert problems(doc) == []
    change(doc["checks"][0])
    assert problems(doc)
