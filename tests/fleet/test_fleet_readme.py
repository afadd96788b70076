"""The README's two-process fleet example, run verbatim as a script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from readme import file_block

ROOT = Path(__file__).resolve().parents[2]


def test_readme_fleet_example_runs_in_two_processes(tmp_path: Path) -> None:
    script = tmp_path / "fleet_example.py"
    script.write_text(file_block("fleet_example.py"))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["500", "320 9680 10000"]
