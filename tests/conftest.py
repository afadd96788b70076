"""Hypothesis profiles for the whole suite.

``ci`` (the default) is quick; ``exhaustive`` (``pytest --hypothesis-profile
exhaustive``) runs far more examples and longer step sequences, deadline off.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# test helpers (tests/model/readme.py, ...) import by module name
for sub in ("model",):
    sys.path.insert(0, str(Path(__file__).parent / sub))

settings.register_profile(
    "ci", max_examples=100, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "exhaustive", max_examples=2000, stateful_step_count=80, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci")
