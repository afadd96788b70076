"""Seeded bugs in the checker are caught: by the corpus, and by the generated-program
property (a counterexample within 400 generated programs; shrunk to a short program
under the ``exhaustive`` profile only, because shrinking reruns thousands of them)."""

from __future__ import annotations

import contextlib
import io

import pytest
from generated import missed, programs, verdicts
from hypothesis import HealthCheck, Phase, find, settings
from programs import CORPUS, expectations

from model.affine import api
from model.affine.checker import check_file
from model.affine.lattice import LIVE, Obj

EXHAUSTIVE = settings().max_examples > 100
SEARCH = settings(max_examples=400, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck),
                  phases=list(Phase) if EXHAUSTIVE else [Phase.generate])


def _must_join(self: Obj, other: Obj) -> Obj:
    """Seeded bug: where two paths disagree, the handle is taken to be live."""
    return self if LIVE in self.facts else other


SEEDED = {
    "merge forgets its argument": lambda mp: mp.setitem(
        api.METHODS["Budget"], "merge", api.Method(True, "Budget")),
    "spend consumes nothing": lambda mp: mp.setitem(
        api.METHODS["Budget"], "spend", api.Method(False, "Budget")),
    "joins forget consumption": lambda mp: mp.setattr(Obj, "join", _must_join),
}


def _corpus_misses() -> list[str]:
    bad = []
    for path in sorted(CORPUS.glob("*.py")):
        expected, _, _ = expectations(path.read_text())
        found = {(f.line, f.code) for f in check_file(path) if not f.is_note}
        if found != expected:
            bad.append(path.stem)
    return bad


def _violating(source: str) -> bool:
    with contextlib.redirect_stdout(io.StringIO()):
        return bool(missed(verdicts(source)))


@pytest.mark.parametrize("bug", sorted(SEEDED))
def test_seeded_bug_caught(bug: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _corpus_misses() == []
    SEEDED[bug](monkeypatch)
    assert _corpus_misses() != []
    example = find(programs(), _violating, settings=SEARCH)
    if EXHAUSTIVE:
        # the generated preamble (import, helper functions) is fixed: count prog's body
        body = [ln for ln in example.split("\ndef prog(", 1)[1].splitlines()[1:] if ln.strip()]
        assert len(body) <= 8, example
