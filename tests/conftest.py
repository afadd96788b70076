"""Hypothesis profiles for the whole suite.

``ci`` (the default) is quick: 100 examples per property, state machines of up to 50
steps; the whole suite took 3 min 14 s on the 2-core reference machine.
``exhaustive`` (``pytest --hypothesis-profile exhaustive``) runs 20x the examples
(2,000) and state machines of up to 100 steps, with no deadline; the whole suite took
14 min 5 s there (the lockstep machine alone: 2 min 49 s). Tests that pin their own
``@settings(...)`` (the seeded-bug searches, the mutant cross-check) keep them under
both profiles.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# test helpers (tests/model/readme.py, tests/lockstep/lockstep_machine.py) import by
# module name
for sub in ("model", "lockstep"):
    sys.path.insert(0, str(Path(__file__).parent / sub))

settings.register_profile(
    "ci", max_examples=100, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "exhaustive", max_examples=2000, stateful_step_count=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _collector_sees_only_this_test() -> Iterator[None]:
    """Every object alive when a test starts is moved out of the collector's reach
    until it ends (``gc.freeze``), so a full collection scans only what the test made.

    Why: the finalizer tests collect at every line of every ledger-changing method and
    the lockstep machine after every abandoned value; scanning the whole heap (pytest,
    Hypothesis, z3, every module) each time was half of the suite's time (213 s of
    418 s). What a test drops is still collected exactly as before: it was made during
    the test. Garbage left by earlier tests waits until the test ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
