"""README's pricing and pricing-errors examples, run verbatim from README.md."""

from __future__ import annotations

import re

import pytest
from readme import python_blocks_containing


def _one_block(marker: str) -> str:
    (block,) = python_blocks_containing(marker)
    return block


def test_readme_pricing_example_runs() -> None:
    block = _one_block("impl.billed_tokens(")
    assert "cache_write_5m=" in block and "cache_writes=True" in block
    exec(compile(block, "README.md", "exec"), {"__name__": "readme_pricing"})


def test_readme_errors_example_prints_what_it_shows(capsys: pytest.CaptureFixture[str]) -> None:
    """Each printed error matches the comment line shown under the block (up to its
    ``...``), in order: the README shows what the library really says."""
    block = _one_block("def refused(")
    exec(compile(block, "README.md", "exec"), {"__name__": "readme_errors"})
    printed = capsys.readouterr().out.splitlines()
    shown = [line[2:] for line in block.splitlines() if re.match(r"# \w+: ", line)]
    assert len(printed) == len(shown) == block.count("print(refused(")
    for out, want in zip(printed, shown, strict=True):
        assert out.startswith(want.removesuffix("...").rstrip()), (out, want)
