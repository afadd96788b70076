"""The corpus: each misuse flagged with its code on its line, and each flagged program
really fails when run; each legitimate program checks clean and runs clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from programs import CORPUS, Outcome, expectations, run

from model.affine.checker import check_file

CASES = sorted(CORPUS.glob("*.py"))
USE_CODES = {"AFF001", "AFF002", "AFF003", "AFF004", "AFF005", "AFF006"}


def test_corpus_covers_the_rust_and_plugin_cases() -> None:
    names = {p.stem for p in CASES}
    rust = {n for n in names if n.startswith("rust_")}
    plugin = {n for n in names if n.startswith("plugin_")}
    assert len(rust) == 10  # nine situations, minting in both of its Python forms
    assert {"plugin_double_spend", "plugin_use_after_split", "plugin_use_after_merge",
            "plugin_module_level_budget"} <= plugin
    assert sum(n.startswith("clean_") for n in names) >= 10


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_checker_verdict(path: Path) -> None:
    expected, notes, _ = expectations(path.read_text())
    found = check_file(path)
    assert {(f.line, f.code) for f in found if not f.is_note} == expected
    assert notes <= {(f.line, f.code) for f in found if f.is_note}


def _matches(outcome: Outcome, declared: str, flagged: set[int] | None) -> None:
    if declared == "AffineViolation":
        assert outcome.violation, f"expected AffineViolation, got {outcome.error!r}"
        if flagged is not None:
            assert flagged & set(outcome.lines), "the raising line is not a flagged one"
    elif declared == "TypeError":
        assert isinstance(outcome.error, TypeError), repr(outcome.error)
    else:
        assert outcome.error is None, repr(outcome.error)
        # a dropped refund that holds money warns too (ResourceWarning naming its amount)
        assert outcome.resource_warnings == (declared in ("ResourceWarning", "refund"))
        assert (outcome.outstanding_refunds > 0) == (declared == "refund")


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_runtime_agrees(path: Path) -> None:
    source = path.read_text()
    expected, notes, declared = expectations(source)
    if path.stem.startswith("limit_"):  # a documented limit: a note, no finding
        assert notes and not expected and declared != "clean"
        _matches(run(source, str(path)), declared, None)
        return
    assert (declared == "clean") == (not expected)
    flagged = {line for line, code in expected if code in USE_CODES}
    _matches(run(source, str(path)), declared, flagged)
