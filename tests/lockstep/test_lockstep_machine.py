"""impl refines the spec ledger under every sequence of API calls the machine draws.

``test_impl_runs_in_lockstep_with_the_spec`` runs :class:`LockstepMachine` with the
active Hypothesis profile: after every call (successful, refused, invalid or misused),
impl's reported steps, its ledger and every live handle agree with ``spec.LEDGER``
(see ``lockstep_machine``). Coverage is asserted, not hoped for: under ``exhaustive``
every transition, both kinds of refusal, every misuse rule, every invalid-amount
category and every operation must have occurred; under the quick ``ci`` profile every
transition and both refusal kinds must have occurred, and at least 90% of the rest.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from lockstep_machine import (
    COVERAGE,
    MISUSE_LABELS,
    REQUIRED,
    TRANSITION_LABELS,
    LockstepMachine,
)

import impl
from spec import LEDGER

MUST_ALWAYS = TRANSITION_LABELS | {"refusal:handle_only", "refusal:spend_insufficient"}


def test_impl_runs_in_lockstep_with_the_spec() -> None:
    """No sequence the active profile draws separates impl from the spec; the run
    covered what the profile demands (all of REQUIRED under ``exhaustive``)."""
    COVERAGE.clear()
    run_state_machine_as_test(LockstepMachine, settings=settings())
    seen = set(COVERAGE)
    missing = sorted(REQUIRED - seen)
    profile = settings.get_current_profile_name()
    rarest = sorted(REQUIRED, key=lambda k: COVERAGE[k])[:5]
    print(f"\nlockstep coverage under {profile}: {len(REQUIRED & seen)}/{len(REQUIRED)} "
          f"required labels; missing {missing}; rarest {[(k, COVERAGE[k]) for k in rarest]}; "
          f"transitions {sorted((k, COVERAGE[k]) for k in TRANSITION_LABELS)}")
    if profile == "exhaustive":
        assert missing == [], f"the exhaustive run never produced {missing}"
    else:
        assert sorted(MUST_ALWAYS - seen) == []
        assert len(REQUIRED & seen) >= 0.9 * len(REQUIRED), f"never produced {missing}"


def test_required_coverage_names_every_spec_transition_and_refusal_kind() -> None:
    """The coverage list is derived from the spec: each transition of ``spec.LEDGER``
    (the names impl reports) and both kinds of refusal is required."""
    assert {label.removeprefix("step:") for label in TRANSITION_LABELS} == {
        t.name for t in LEDGER.transitions} == set(impl.TRANSITIONS)
    assert len(TRANSITION_LABELS) == len(LEDGER.transitions)
    assert MUST_ALWAYS <= REQUIRED
    assert {"misuse:second_resolve", "misuse:copy", "misuse:pickle",
            "misuse:refund_applied_twice", "misuse:use_after_consume"} <= MISUSE_LABELS
