"""``python -m model.check``: exit codes, the table, the JSON schema, --spec, --dot."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from readme import file_block, python_blocks_containing

from model.check import main
from proofs.obligations import count_obligations
from spec import LEDGER

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "model.check", "-q", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_default_run_proves_and_explores(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "--only", "proofs,explore"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"proofs: ledger \(unbounded B0\) +PASS", out)
    assert re.search(r"proofs: Proposition 1 \(impl pricing\) +PASS", out)
    assert "252 states" in out and "all passed" in out


def test_json_b0_20_reports_53130_states(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "--b0", "20", "--only", "explore", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    (check,) = doc["checks"]
    assert {"name", "kind", "ok", "b0", "distinct_states", "transitions"} <= set(check)
    assert (check["kind"], check["b0"], check["distinct_states"]) == ("explore", 20, 53_130)


def test_json_proof_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "--only", "proofs", "--json"]) == 0
    ledger, safety, prop1, bound = json.loads(capsys.readouterr().out)["checks"]
    n = count_obligations(LEDGER)
    assert ledger["kind"] == "proof" and ledger["obligations"] == ledger["proved"] == n
    assert safety["kind"] == "safety" and safety["status"] == "proved"
    assert prop1["kind"] == "proof" and prop1["obligations"] == prop1["proved"] > 0
    assert bound["name"] == "proofs: reconciliation overshoot bound (A7)"
    assert bound["kind"] == "proof" and bound["obligations"] == bound["proved"] > 0


def test_mutants_are_all_killed_by_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "--mutants", "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)["checks"]
    assert len(checks) >= 6
    for c in checks:
        assert c["kind"] == "mutant" and c["ok"]
        assert c["killed_by_z3"] and c["killed_by_model_checker"]


def test_a_surviving_mutant_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import model.cli.mutants as mm
    from spec import LEDGER

    monkeypatch.setattr(mm, "MUTANTS", (LEDGER,))  # the correct spec "survives"
    assert main(["-q", "--mutants"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "survived" in out


@pytest.mark.parametrize("argv", [["--only", "nope"], ["--b0", "0"], ["--b0", "x"],
                                  ["--spec", "nomodule"], ["--spec", "no_such_mod:X"],
                                  ["--spec", "spec.ledger:VARIABLES"],
                                  ["--spec", "spec.ledger:LEDGER", "--mutants"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    r = run(*argv)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "error:" in r.stderr


def test_help_explains_checks_and_exit_status() -> None:
    r = run("--help")
    assert r.returncode == 0
    for word in ("--b0", "--spec", "--only", "--mutants", "--dot", "--json", "proofs",
                 "explore", "exit status"):
        assert word in r.stdout


def test_readme_user_spec_passes_and_its_bug_is_caught(tmp_path: Path) -> None:
    (tmp_path / "tickets.py").write_text(file_block("tickets.py"))
    good = run("--spec", "tickets.py:TICKETS", cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "proofs: tickets" in good.stdout and "explore: tickets at B0=5" in good.stdout
    # a dotted module name works too, from the current directory
    assert run("--spec", "tickets:TICKETS", cwd=tmp_path).returncode == 0
    bad = run("--spec", "tickets.py:OVERSOLD", "--dot", "t.dot", cwd=tmp_path)
    assert bad.returncode == 1
    assert "TypeOK violated after 2 step(s)" in bad.stdout
    assert "sell(n=5)" in bad.stdout and "left=-1 sold=6" in bad.stdout
    assert "step sell preserves TypeOK" in bad.stdout
    dot = (tmp_path / "t.dot").read_text()
    assert dot.startswith("digraph") and "sell(n=5)" in dot


def test_dot_without_violation_writes_the_state_graph(tmp_path: Path) -> None:
    r = run("--only", "explore", "--b0", "2", "--dot", str(tmp_path / "g.dot"), "--whole-graph")
    assert r.returncode == 0
    dot = (tmp_path / "g.dot").read_text()
    assert dot.count("[label=") > 21  # 21 states plus edges


def test_readme_networkx_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = python_blocks_containing("state_graph(LEDGER, 3)")
    exec(compile(block, "README.md", "exec"), {})
    assert "['spend_success(r=3, c=3)']" in capsys.readouterr().out


def test_a_surviving_handle_mutant_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import model.cli.mutants as mm
    from spec.handle_mutants import HandleMutant
    from spec.handles import OPERATIONS

    correct = HandleMutant("no_bug", "split", "the unmodified table", OPERATIONS)
    monkeypatch.setattr(mm, "MUTANTS", ())
    monkeypatch.setattr(mm, "HANDLE_MUTANTS", (correct,))
    assert main(["-q", "--mutants", "--json"]) == 1
    (check,) = json.loads(capsys.readouterr().out)["checks"]
    assert check["name"] == "handle mutant no_bug" and not check["ok"]
    assert not check["killed_by_z3"] and not check["killed_by_model_checker"]
