"""benchmarks.table7 on a few sessions: the paper's Table VII rows through impl.BudgetPool,
every session within the proved bound, a stable JSON, and a seeded bug the bound check
catches (reconciling less often than the bound assumes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from benchmarks import table7
from proofs import reconcile_bound as rb

SESSIONS = 40
ROOT = Path(__file__).resolve().parents[2]
KEYS = {"k", "reconcile_every", "sessions", "overshooting", "mean_over_pct", "max_over_pct",
        "bound_pct"}


@pytest.fixture(scope="module")
def doc() -> dict[str, object]:
    out, broken = table7.run(SESSIONS, table7.DEFAULT_SEED)
    assert broken == []
    return out


def _rows(doc: dict[str, object]) -> dict[tuple[int, int | None], dict[str, object]]:
    rows = doc["rows"]
    assert isinstance(rows, list)
    return {(r["k"], r["reconcile_every"]): r for r in rows}


def test_the_rows_have_the_paper_shape(doc: dict[str, object]) -> None:
    rows = _rows(doc)
    assert list(rows) == [(1, None), (2, None), (5, None), (10, None), (5, 3)]
    for r in rows.values():
        assert KEYS <= set(r)
        assert r["sessions"] == SESSIONS and r["within_bound"] == SESSIONS
        assert isinstance(r["overshooting"], int) and 0 <= r["overshooting"] <= SESSIONS
        for key in ("mean_over_pct", "max_over_pct", "bound_pct"):
            assert isinstance(r[key], float)
        assert r["mean_over_pct"] <= r["max_over_pct"] <= r["bound_pct"]
    assert rows[1, None]["overshooting"] == 0 and rows[1, None]["max_over_pct"] == 0.0
    assert rows[1, None]["bound_pct"] == 0.0
    # under-reporting lets sessions overshoot, more with k; reconciling cuts it back
    assert 0 < rows[2, None]["overshooting"] <= rows[5, None]["overshooting"]
    assert rows[2, None]["mean_over_pct"] < rows[5, None]["mean_over_pct"] \
        < rows[10, None]["mean_over_pct"]
    assert rows[5, 3]["mean_over_all_pct"] < rows[5, None]["mean_over_all_pct"]
    assert rows[5, 3]["max_over_pct"] < rows[5, None]["max_over_pct"]
    # the reconciliation row ends sessions through Overdraft -> LedgerClosed
    assert rows[5, 3]["closed_by_overdraft"] > 0
    assert all(r["closed_by_overdraft"] == 0 for key, r in rows.items() if key[1] is None)
    margin = doc["corpus"]["mean_margin"]  # type: ignore[index]
    assert 1.5 < margin < 1.8


def test_the_corpus_keeps_reservation_above_actual() -> None:
    pairs = table7.corpus(table7.DEFAULT_SEED)
    assert len(pairs) == table7.CORPUS_SIZE
    assert all(1 <= a <= r for r, a in pairs)
    for k in (1, 2, 5, 10):  # the provider under-reports by a factor of at most k
        assert all(Fraction(a, k) <= table7.reported(a, k) <= a for _, a in pairs)


def test_same_seed_same_json_other_seed_other_json(capsys: pytest.CaptureFixture[str]) -> None:
    outs = []
    for seed in (3, 3, 4):
        assert table7.main(["--json", "--sessions", "15", "--seed", str(seed)]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] != outs[2]
    data = json.loads(outs[0])
    assert data["seed"] == 3 and data["sessions"] == 15
    assert all(KEYS <= set(r) for r in data["rows"])


def test_bound_agrees_with_the_proof_module() -> None:
    for k in (1, 2, 3, 5, 10):
        for every in (None, 1, 2, 3, 7):
            for largest in (0, 1, 999, 1739, 5000):
                for b0 in (0, 100, 2000):
                    assert table7.bound_uc(k, every, largest, b0) == \
                        rb.bound_uc(k, every, largest, b0), (k, every, largest, b0)


def test_reconciling_less_often_than_claimed_is_caught(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Seeded bug: the sessions reconcile every 6 calls (or never) while the bound is
    checked for every 3: the check must report broken sessions and the exit status 1."""
    for every in (6, None):
        bug = (table7.Row(5, every, claimed_every=3),)
        _, broken = table7.run(SESSIONS, table7.DEFAULT_SEED, bug)
        assert broken, f"reconciling every {every} calls passed a check claiming 3"
        assert table7.main(["--sessions", str(SESSIONS)], rows=bug) == 1
        err = capsys.readouterr().err
        assert "BOUND BROKEN" in err and "broke their proved bound" in err
    # the same sessions, checked for what they really do, are within the bound
    _, broken = table7.run(SESSIONS, table7.DEFAULT_SEED, (table7.Row(5, 6),))
    assert broken == []


def test_runs_as_a_module() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "benchmarks.table7", "--sessions", "5"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Table VII" in out.stdout and "within its proved bound" in out.stdout
    assert "666/1000" in out.stdout  # the paper's figures beside ours
    help_ = subprocess.run([sys.executable, "-m", "benchmarks.table7", "--help"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert help_.returncode == 0 and "--sessions" in help_.stdout and "--seed" in help_.stdout


def test_readme_shows_this_scripts_table() -> None:
    """README's Table VII figures are what the default run prints (a stale table fails)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Table VII"):]
    section = section[:section.index("\n## ")]
    shown = [line.split("|")[1:-1] for line in section.splitlines()
             if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    doc, broken = table7.run()
    assert broken == [] and len(shown) == len(doc["rows"])
    for cells, r in zip(shown, doc["rows"], strict=True):
        cells = [c.strip() for c in cells]
        assert int(cells[0]) == r["k"]
        assert cells[2] == f"{r['overshooting']}/{r['sessions']}"
        assert cells[4] == f"{r['mean_over_pct']:.1f}%" and cells[6] == f"{r['max_over_pct']:.1f}%"
        assert cells[8] == f"{r['bound_pct']:.1f}%"
        p = r["paper"]
        assert cells[3] == f"{p['overshooting']}/1000" and cells[5] == f"{p['mean_over_pct']:.1f}%"
