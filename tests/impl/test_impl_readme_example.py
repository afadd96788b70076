"""The README example of the impl library, run verbatim from README.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_block() -> str:
    """The first ```python block of README.md that uses impl.Session."""
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S):
        if "impl.Session(" in block:
            return str(block)
    raise AssertionError("README.md has no impl example block")


def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(_readme_block(), "README.md", "exec"), {"__name__": "readme_example"})
    assert "spend(5000) refused: budget holds 2000 uc" in capsys.readouterr().out


def test_readme_hardening_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
              if "impl.ObserverWarning" in b]
    assert len(blocks) == 1
    exec(compile(blocks[0], "README.md", "exec"), {"__name__": "readme_example"})
    assert "cap=<an int of about 5001 digits> is not below 2**63" in capsys.readouterr().out
