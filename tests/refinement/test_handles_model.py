"""The per-handle model explored: exact counts, coverage, and the SEMANTICS.md subtleties."""

from __future__ import annotations

from math import comb

import pytest

from model.cli.refinement import MIN_B0, cli_b0, exploration_check
from model.handles import HandlesModel, action_text, normalise, successor
from model.refinement import RefinementExploration, edge_failure, explore_refinement
from spec import LEDGER
from spec.handles import OPERATIONS, Handles, abstraction, initial


@pytest.fixture(scope="module")
def at_6() -> RefinementExploration:
    return explore_refinement(6)


def test_b0_6_every_edge_refines_the_ledger_with_exact_counts(
        at_6: RefinementExploration) -> None:
    run = at_6
    res = run.exploration
    assert run.ok and not res.violations and not run.edges.failures
    # pinned: any change in the table or the state shape must show up here
    assert (res.distinct_states, res.transitions) == (2_682, 81_087)
    assert sum(run.edges.per_transition.values()) == res.transitions
    # every spec transition is claimed by some edge, and stutters occur
    assert set(run.edges.per_transition) == {t.name for t in LEDGER.transitions} | {"stutter"}
    # the values reach every ledger state: the refinement is not vacuous
    assert len(run.edges.ledger_states) == comb(6 + 5, 5)


@pytest.mark.parametrize("b0", [1, 2, 3, 4])
def test_small_caps_refine_and_cover_every_ledger_state(b0: int) -> None:
    run = explore_refinement(b0)
    assert run.ok
    assert len(run.edges.ledger_states) == comb(b0 + 5, 5)


def test_every_operation_fires_at_b0_6_except_those_on_empty_values(
        at_6: RefinementExploration) -> None:
    run = at_6
    on_empty = {"apply_empty_refund", "consume_empty", "close_empty_stream",
                "forfeit_empty_stream"}
    assert set(run.edges.per_operation) == {
        op.name for op in OPERATIONS if "session" in op.on} - on_empty


def test_a_pool_refines_the_ledger_and_every_pool_operation_fires() -> None:
    run = explore_refinement(4, owner="pool")
    assert run.ok
    assert set(run.edges.per_operation) == {
        op.name for op in OPERATIONS if "pool" in op.on} - {
        "forfeit_empty_stream", "pool_close_empty_stream"}
    # commit and cancel are two claimed steps each: confirm_with_refund, then refund_to
    assert run.edges.per_transition["refund_to"] > 0


def test_cli_explores_at_least_b0_6() -> None:
    assert MIN_B0 == 6
    assert cli_b0(1) == 6 and cli_b0(5) == 6 and cli_b0(6) == 6
    assert 6 <= cli_b0(200) <= 7


def test_check_result_figures() -> None:
    r = exploration_check(3)
    assert r.ok and r.kind == "explore"
    f = r.figures
    assert f["b0"] == 3 and f["distinct_states"] > 0 and f["transitions"] > 0
    assert sum(f["per_transition"].values()) == f["transitions"]
    assert set(f["per_transition"]) == {t.name for t in LEDGER.transitions} | {"stutter"}


def _session(live: tuple[int, ...]) -> Handles:
    return Handles(live, (), (), (), 0, 0, 0)


def test_refusal_by_a_handle_is_a_stutter_unless_the_session_lacks_the_money() -> None:
    """SEMANTICS.md subtlety: live=[1, 3] refuses r=2 on the handle of 1 (money in a sibling)."""
    state = _session((1, 3))
    acts = [a for a in HandlesModel(6).actions(state) if a.op.name.startswith("refused")]
    by_r = {(a.taken[0], a.params[0]): a.claimed for a in acts}
    assert by_r[(1, 2)] == ()  # 2 <= live_sum 4: stutter
    assert by_r[(1, 4)] == ()
    assert by_r[(1, 5)] == (("spend_insufficient", (5,)),)  # 5 > live_sum 4
    assert by_r[(3, 5)] == (("spend_insufficient", (5,)),)
    assert (3, 2) not in by_r  # the handle of 3 does not refuse 2
    for a in acts:
        assert successor(state, a) == state
        assert edge_failure(state, a, state) is None


def test_empty_values_are_not_kept_and_receipts_are() -> None:
    h = Handles(live=(0, 2, 0), receipts=(3,), streams=(0, 4), refunds=(0, 1),
                total_charged=0, total_unrecoverable=0, total_released=0)
    assert normalise(h) == Handles((2,), (3,), (4,), (1,), 0, 0, 0)
    assert abstraction(normalise(h)) == abstraction(h)
    assert initial(0) == Handles((), (), (), (), 0, 0, 0)


def test_actions_are_described_with_their_claim() -> None:
    acts = list(HandlesModel(2).actions(initial(2)))
    shown = {action_text(a) for a in acts}
    assert "spend_success(h=2, r=2, c=1) => spend_success(r=2, c=1)" in shown
    assert "split(h=2, a=1) => stutter" in shown
    assert "refused_insufficient(h=2, r=3) => spend_insufficient(r=3)" in shown
