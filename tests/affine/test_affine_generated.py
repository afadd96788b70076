"""Generated programs: whatever raises AffineViolation (or forfeits a receipt when
collected) on some path at run time was flagged by the checker beforehand."""

from __future__ import annotations

from generated import missed, programs, verdicts
from hypothesis import given


@given(programs())
def test_every_runtime_violation_was_flagged(source: str) -> None:
    assert missed(verdicts(source)) == [], source
