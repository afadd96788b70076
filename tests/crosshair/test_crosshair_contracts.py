"""CrossHair checks impl's arithmetic contracts (issue 4, item 4): they all hold on impl.

The full run is the one ``python -m model.check --only crosshair`` reports. Contracts
whose inputs stay symbolic (pricing with symbolic rates, the rounding core, the
ledger amounts) must be *confirmed over all paths*; the rest must at least be searched
without a counterexample.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.cli.crosshair import CHECK_NAME, check
from model.cli.report import CheckResult
from proofs import contracts
from proofs.crosshair_check import ContractResult, postconditions, replay

ROOT = Path(__file__).resolve().parents[2]

# Contracts that CrossHair exhausts in a fraction of a second each: a proof within
# their bounds, whatever the machine's speed (the others may only be searched).
MUST_CONFIRM = {
    "cost_ceil_exact", "cost_ceil_monotone", "reservation_rounds_up", "charge_rounds_up",
    "proposition1_tokens", "charge_tiers_exact", "usage_openai_names",
    "usage_openai_chat", "usage_responses", "usage_gemini", "usage_gateway",
    "rates_price_points", "margin_forms", "margin_integer", "split_amounts",
    "merge_amounts", "spend_amounts", "confirm_refund", "forfeit_amounts",
    "reasoning_total", "stream_refund", "pool_commit",
}


@pytest.fixture(scope="module")
def run() -> CheckResult:
    lines: list[str] = []
    (result,) = check(progress=lines.append)
    assert len(lines) == len(contracts.CONTRACTS)
    return result


def test_every_contract_holds_on_impl(run: CheckResult) -> None:
    assert run.ok, "\n".join(run.details)
    assert run.name == CHECK_NAME and run.kind == "crosshair"
    figures = run.figures
    assert figures["functions"] == len(contracts.CONTRACTS) == figures["passed"]
    results = figures["results"]
    assert [r["function"] for r in results] == [f.__name__ for f in contracts.CONTRACTS]
    for r in results:
        assert r["status"] in ("confirmed", "no counterexample found"), r
        assert r["counterexample"] is None and r["paths"] > 0, r
    confirmed = {r["function"] for r in results if r["status"] == "confirmed"}
    assert MUST_CONFIRM <= confirmed, MUST_CONFIRM - confirmed
    assert figures["confirmed"] == len(confirmed)
    json.dumps(run.to_json())  # the --json report can serialise it


def test_report_names_every_function_and_what_its_status_means(run: CheckResult) -> None:
    text = "\n".join(run.notes + run.details)
    for fn in contracts.CONTRACTS:
        assert fn.__name__ in text
    assert "not a proof" in text
    assert "confirmed over all paths" in run.summary


def test_proposition1_is_among_the_contracts() -> None:
    names = {f.__name__ for f in contracts.CONTRACTS}
    assert {"proposition1_tokens", "proposition1_usage", "proposition1_price_points",
            "proposition1_call"} <= names
    doc = inspect.getdoc(contracts.proposition1_tokens) or ""
    assert "pre: 0 <= billed_in <= est_in" in doc  # A1
    assert "pre: 0 <= billed_out <= max_out" in doc  # A6
    assert postconditions(contracts.proposition1_tokens) == ["__return__"]


def test_every_contract_has_pre_and_postconditions_and_calls_impl() -> None:
    for fn in contracts.CONTRACTS:
        doc = inspect.getdoc(fn) or ""
        assert "pre:" in doc and postconditions(fn), fn.__name__
        src = inspect.getsource(fn)
        impl_uses = ("_pricing.", "_estimators.", "_usage.", "_session.", "_pool.",
                     "_micro_rates(",
                     "PRICE_RATES[", "MARGIN_ESTIMATORS[")
        assert any(u in src for u in impl_uses), fn.__name__


def test_price_points_were_built_by_impl() -> None:
    """The table's hand-written micro-USD rates are an independent oracle."""
    import impl

    for (i, o, mi, mo), rates in zip(contracts.PRICE_POINTS, contracts.PRICE_RATES,
                                     strict=True):
        assert rates == impl.Rates(i, o)
        assert rates.in_num * contracts.UC_SCALE == mi * rates.den
        assert rates.out_num * contracts.UC_SCALE == mo * rates.den


def test_replay_reports_a_false_postcondition_and_accepts_a_good_call() -> None:
    assert replay(contracts.split_amounts, "split_amounts(5, 2)") is None
    assert replay(contracts.proposition1_tokens, "proposition1_tokens(3, 4, 3, 4, 1, 1, 3)") \
        is None
    # outside the preconditions a harness may fail its postcondition: replay says so
    out = replay(contracts.proposition1_tokens, "proposition1_tokens(0, 0, 1, 0, 1, 0, 1)")
    assert out is not None and out.startswith("post: __return__ is false")


def test_contract_result_json_shape() -> None:
    r = ContractResult("f", "confirmed", 0.5, 2, 2, 10)
    assert r.ok and r.to_json() == {
        "function": "f", "status": "confirmed", "seconds": 0.5, "conditions": 2,
        "confirmed_conditions": 2, "paths": 10, "counterexample": None, "replayed": None}


def test_the_contracts_file_checks_with_the_crosshair_cli_too() -> None:
    """``python -m crosshair check`` on two contracts of the file: confirmed, exit 0."""
    # The per-condition timeout is generous: confirming needs the whole path space
    # explored, which a loaded machine can slow; an unloaded run takes a few seconds.
    proc = subprocess.run(
        [sys.executable, "-m", "crosshair", "check", "--report_all",
         "--per_condition_timeout", "60", "proofs.contracts.proposition1_tokens",
         "proofs.contracts.confirm_refund"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1 + 4, proc.stdout  # one postcondition + four
    assert all("Confirmed over all paths." in ln for ln in lines), proc.stdout


def test_model_check_only_crosshair_lists_the_suite() -> None:
    from model.cli.checks import CHECKS

    suite = CHECKS["crosshair"]
    assert suite.ledger_only and suite.default
