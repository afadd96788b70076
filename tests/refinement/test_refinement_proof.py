"""The Z3 refinement proof: one obligation per operation, all proved, with real content."""

from __future__ import annotations

from model.cli.refinement import PROOF as CHECK_NAME
from model.cli.refinement import proof_check as refinement_check
from model.cli.refinement import to_check_result
from proofs.refinement import format_result, obligation_name, prove_refinement
from spec.handles import OPERATIONS, Claim, Effect, operation, with_operation


def test_every_operation_refines_its_claim_for_any_number_of_handles() -> None:
    run = prove_refinement()
    assert run.ok, "\n".join(line for r in run.failed for line in format_result(r))
    assert [r.name for r in run.results] == [obligation_name(op) for op in OPERATIONS]
    assert run.proved == len(OPERATIONS)
    names = {r.name for r in run.results}
    assert "spend_success refines spend_success(r, c)" in names
    assert "refused_insufficient refines spend_insufficient(r)" in names
    assert "refused_by_handle refines stutter" in names
    assert "confirm_chunk refines confirm_with_refund(r, c)" in names


def test_check_result_shape() -> None:
    r = refinement_check()
    assert r.ok and r.kind == "proof" and r.name == CHECK_NAME
    assert r.figures["obligations"] == r.figures["proved"] == len(OPERATIONS)
    assert r.figures["failed"] == [] and r.figures["unknown"] == []
    assert len(r.figures["obligation_times"]) == len(OPERATIONS)


def test_an_operation_that_can_never_fire_is_not_proved_vacuously() -> None:
    ops = with_operation(operation("consume"), pre=lambda s, h: (h > 0, h < 0))
    run = prove_refinement(ops)
    [bad] = run.failed
    assert bad.operation == "consume" and bad.status == "violated"
    assert "can never fire" in bad.message


def test_a_stutter_that_moves_money_is_refuted_with_the_rest_of_the_session() -> None:
    ops = with_operation(operation("merge"), effect=lambda h1, h2: Effect(live=(h1,)))
    run = prove_refinement(ops)
    [bad] = run.failed
    cex = bad.counterexample
    assert cex is not None and cex.claim == "stutter"
    assert cex.taken["h2"] > 0
    assert cex.post["live_sum"] == cex.pre["live_sum"] - cex.taken["h2"]
    assert cex.expected == cex.pre
    text = "\n".join(format_result(bad))
    assert text.startswith("FAILED merge refines stutter")
    assert "rest of the session: rest_live=" in text
    report = to_check_result(run)
    assert not report.ok and report.figures["failed"] == ["merge refines stutter"]
    assert any("broken: abstraction(post).live_sum == spec.live_sum" in d
               for d in report.details)


def test_an_unknown_claim_is_rejected_when_the_table_is_built() -> None:
    import pytest

    from spec import SpecError

    with pytest.raises(SpecError, match="no transition 'spend'"):
        with_operation(operation("spend_success"),
                       claims=(Claim("spend", lambda h, r, c: (r, c)),))
