"""Adding a tenth transition: which checks fail until the library claims it.

A copy of the project gets one more ledger transition, ``give_up_refund`` (a refund
given up for good: ``outstanding_refunds`` to ``total_unrecoverable``), written in
``spec/ledger.py`` alone.  The proofs and the exploration accept it (it preserves
every invariant and it fires), but ``python -m model.check`` fails: the refinement
check names the transition no library operation claims.  Once an entry of
``spec/handles.py`` claims it, every check passes again.  README ("Contributing:
adding a transition") walks through the same steps.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TRANSITION = '''
give_up_refund = Transition(
    "give_up_refund", ("a",),
    guard=lambda s, a: (a > 0, a <= s.outstanding_refunds),
    update=lambda s, a: {
        "outstanding_refunds": s.outstanding_refunds - a,
        "total_unrecoverable": s.total_unrecoverable + a,
    },
    doc="a refund of a is given up for good",
)
'''

ENTRY = '''
    _op("give_up_refund", "refund.give_up()", ("refund",), ("refund",), (),
        pre=lambda s, a: (a > 0,),
        effect=lambda a: Effect(unrecoverable=a),
        claim="give_up_refund", args=lambda a: (a,),
        doc="the refund is given up for good"),
'''


def _copy(tmp: Path) -> Path:
    for pkg in ("spec", "model", "proofs", "impl"):
        shutil.copytree(ROOT / pkg, tmp / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp


def _insert(path: Path, before: str, text: str) -> None:
    source = path.read_text()
    assert before in source, f"{path} no longer contains {before!r}"
    path.write_text(source.replace(before, text + before, 1))


def _check(root: Path) -> tuple[int, dict[str, dict[str, object]]]:
    proc = subprocess.run(
        [sys.executable, "-m", "model.check", "-q", "--json", "--b0", "3",
         "--only", "proofs,explore,refinement"],
        cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, {c["name"]: c for c in json.loads(proc.stdout)["checks"]}


@pytest.fixture(scope="module")
def tenth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _copy(tmp_path_factory.mktemp("tenth"))
    ledger = root / "spec" / "ledger.py"
    _insert(ledger, "type_ok = Invariant(", TRANSITION + "\n")
    _insert(ledger, "    ),\n    invariants=(type_ok,", "        give_up_refund,\n")
    return root


def test_a_transition_in_the_spec_alone_fails_the_refinement_naming_it(tenth: Path) -> None:
    code, checks = _check(tenth)
    assert code == 1
    failed = {name for name, c in checks.items() if not c["ok"]}
    assert failed == {"refinement: handles refine ledger (Z3)"}
    proof = checks["refinement: handles refine ledger (Z3)"]
    assert proof["unclaimed"] == ["give_up_refund"]
    assert "give_up_refund is claimed by no library operation" in "\n".join(proof["details"])
    ledger = checks["proofs: ledger (unbounded B0)"]
    assert ledger["ok"] and ledger["obligations"] == 3 + 10 * 3 + 10  # the new one is proved
    assert checks["explore: ledger at B0=3"]["dead_transitions"] == []


def test_once_a_library_operation_claims_it_every_check_passes(tenth: Path) -> None:
    _insert(tenth / "spec" / "handles.py", "\n    # -- a BudgetPool", ENTRY)
    code, checks = _check(tenth)
    assert code == 0, [n for n, c in checks.items() if not c["ok"]]
    bfs = checks["refinement: handles explored at B0=6"]
    assert bfs["per_transition"]["give_up_refund"] > 0
