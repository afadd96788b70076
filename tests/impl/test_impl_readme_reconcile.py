"""The README example of reconciliation, run verbatim from README.md."""

from __future__ import annotations

import pytest
from readme import python_blocks_containing


def test_readme_reconcile_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = python_blocks_containing("pool.reconcile(")
    assert len(blocks) == 1
    exec(compile(blocks[0], "README.md", "exec"), {"__name__": "readme_example"})
    assert capsys.readouterr().out.splitlines() == [
        "BilledTotalBelowCharged 40 160", "Overdraft 340 40 300", "LedgerClosed 0"]
