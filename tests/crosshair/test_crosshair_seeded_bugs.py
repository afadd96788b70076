"""CrossHair finds seeded rounding bugs in impl's charge and reservation formulas
(issue 4, item 5), with a concrete counterexample that fails again when replayed
without CrossHair and passes on the real impl.

The bugs are monkeypatched into impl's modules; the contracts call impl through its
module objects and CrossHair runs in this process, so the patch is what it checks.
One test also seeds a bug through the ``crosshair`` CLI (a plugin file executed
before the analysis), in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

import impl.pricing
import impl.usage
from impl.budget import Budget
from model.cli.crosshair import check
from proofs import contracts
from proofs.crosshair_check import ContractResult, check_contracts, replay

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 3.0  # per condition; every bug below is found in well under a second
RETRY_TIMEOUT = 30.0
"""A contract the first search missed is searched again this long: CrossHair's search
is time-bounded, and a loaded machine (CI beside other jobs) can starve it."""


def reservation_rounded_down(i: int, o: int, rates: impl.pricing.Rates) -> int:
    """Seeded bug: the reservation floors the exact cost (SEMANTICS.md: it must round up)."""
    return (i * rates.in_num + o * rates.out_num) // rates.den


def charge_rounded_per_side(i: int, o: int, rates: impl.pricing.Rates) -> int:
    """Seeded bug: the charge rounds input and output up separately, then adds."""
    return -(-(i * rates.in_num) // rates.den) + -(-(o * rates.out_num) // rates.den)


def rounded_to_nearest(x: int, den: int) -> int:
    """Seeded bug in the shared rounding core: round half up instead of ceiling."""
    return (2 * x + den) // (2 * den)


def charge_uc_rounded_down(usage: object, rates: impl.pricing.Rates) -> int:
    """Seeded bug: ``charge_uc`` floors, under-reporting the charge."""
    i, o = impl.pricing.usage_tokens(usage)
    return (i * rates.in_num + o * rates.out_num) // rates.den


def found(results: Sequence[ContractResult]) -> dict[str, ContractResult]:
    return {r.function: r for r in results if r.status == "counterexample"}


def search(fns: Sequence[contracts.Contract]) -> list[ContractResult]:
    """CrossHair on ``fns`` at :data:`TIMEOUT`, then once more at :data:`RETRY_TIMEOUT`
    on each one that came out without a counterexample (results in ``fns`` order)."""
    results = check_contracts(fns, TIMEOUT)
    return [r if r.status == "counterexample" else check_contracts([fn], RETRY_TIMEOUT)[0]
            for fn, r in zip(fns, results, strict=True)]


def assert_genuine(fn: contracts.Contract, r: ContractResult,
                   undo: Callable[[], None]) -> None:
    """The counterexample fails when replayed on the buggy impl, passes on the real one."""
    assert r.call is not None and r.call.startswith(fn.__name__ + "("), r
    assert r.replayed is not None and r.replayed.startswith("post:"), r
    assert replay(fn, r.call) == r.replayed
    undo()
    assert replay(fn, r.call) is None, f"{r.call} also fails on the real impl"


def test_reservation_rounded_down_breaks_proposition1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charge rounds up, reservation rounds down: Proposition 1 fails (charge > r)."""
    monkeypatch.setattr(impl.pricing, "reservation_from_tokens", reservation_rounded_down)
    fns: list[contracts.Contract] = [
        contracts.proposition1_tokens, contracts.proposition1_price_points,
        contracts.reservation_rounds_up]
    hits = found(search(fns))
    assert set(hits) == {f.__name__ for f in fns}
    for fn in fns[:2]:
        assert "(which returns False)" in (hits[fn.__name__].counterexample or "")
    for fn in fns:
        assert_genuine(fn, hits[fn.__name__], monkeypatch.undo)
        monkeypatch.setattr(impl.pricing, "reservation_from_tokens",
                            reservation_rounded_down)


def test_charge_rounded_per_side_breaks_proposition1(monkeypatch: pytest.MonkeyPatch) -> None:
    """ceil(a) + ceil(b) can exceed ceil(a + b): billed == estimated still overshoots."""
    monkeypatch.setattr(impl.pricing, "charge_from_tokens", charge_rounded_per_side)
    fns: list[contracts.Contract] = [
        contracts.proposition1_tokens, contracts.proposition1_price_points,
        contracts.charge_rounds_up]
    hits = found(search(fns))
    assert set(hits) == {f.__name__ for f in fns}
    for fn in fns:
        assert_genuine(fn, hits[fn.__name__], monkeypatch.undo)
        monkeypatch.setattr(impl.pricing, "charge_from_tokens", charge_rounded_per_side)


def test_round_to_nearest_in_the_core_is_caught_by_the_rounding_contracts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rounding both sides to nearest keeps Proposition 1 (the same monotone rounding on
    both sides) but under-reports charges: the rounds-up contracts catch it."""
    monkeypatch.setattr(impl.pricing, "_ceil_div", rounded_to_nearest)
    fns: list[contracts.Contract] = [contracts.cost_ceil_exact, contracts.charge_rounds_up,
           contracts.reservation_rounds_up, contracts.usage_openai_names,
           contracts.charge_tiers_exact, contracts.proposition1_tokens]
    results = {r.function: r for r in [*search(fns[:-1]), *check_contracts(fns[-1:], TIMEOUT)]}
    assert results["proposition1_tokens"].status == "confirmed"
    hits = found(list(results.values()))
    assert set(hits) == {f.__name__ for f in fns[:-1]}
    for fn in fns[:-1]:
        assert_genuine(fn, hits[fn.__name__], monkeypatch.undo)
        monkeypatch.setattr(impl.pricing, "_ceil_div", rounded_to_nearest)


def test_charge_uc_rounded_down_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(impl.pricing, "charge_uc", charge_uc_rounded_down)
    (r,) = search([contracts.usage_openai_names])
    assert r.status == "counterexample"
    assert_genuine(contracts.usage_openai_names, r, monkeypatch.undo)


def charge_writes_at_input_rate(usage: object, rates: impl.pricing.Rates) -> int:
    """Seeded bug (today's main before issue 8): cache writes priced at the input rate."""
    t = impl.usage.billed_tokens(usage)
    x = ((t.input + t.cache_write_5m + t.cache_write_1h + t.cache_write) * rates.in_num
         + t.cache_read * rates.read_num + t.output * rates.out_num)
    return -(-x // rates.den)


def usage_summed(usage: object) -> impl.usage.BilledTokens:
    """Seeded bug (today's main before issue 8): every input-side count added up, so a
    gateway's cache tokens, already inside ``prompt_tokens``, are counted twice."""
    def get(name: str) -> int:
        v = usage.get(name) if isinstance(usage, dict) else None
        return v if isinstance(v, int) else 0
    fresh = max(get("prompt_tokens"), get("input_tokens"), get("promptTokenCount"))
    return impl.usage.BilledTokens(
        input=fresh, cache_write=get("cache_creation_input_tokens"),
        cache_read=get("cache_read_input_tokens"),
        output=max(get("completion_tokens"), get("output_tokens"),
                   get("candidatesTokenCount")))


def test_cache_writes_at_the_input_rate_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(impl.pricing, "charge_uc", charge_writes_at_input_rate)
    (r,) = search([contracts.charge_tiers_exact])
    assert r.status == "counterexample"
    assert_genuine(contracts.charge_tiers_exact, r, monkeypatch.undo)


def test_usage_counted_twice_or_thoughts_dropped_are_found(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The old reading of usage: the gateway shape double-counts its cache tokens,
    Gemini loses its thoughts, OpenAI's cached tokens are billed as plain input."""
    monkeypatch.setattr(impl.usage, "billed_tokens", usage_summed)
    fns: list[contracts.Contract] = [contracts.usage_gateway, contracts.usage_gemini,
                                     contracts.usage_openai_chat]
    hits = found(search(fns))
    assert set(hits) == {f.__name__ for f in fns}
    for fn in fns:
        assert_genuine(fn, hits[fn.__name__], monkeypatch.undo)
        monkeypatch.setattr(impl.usage, "billed_tokens", usage_summed)


def test_a_lost_unit_in_split_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger contracts are not vacuous: a split that loses 1 uc is refuted."""
    real_split = Budget.split

    def lossy_split(self: Budget, a: int) -> tuple[Budget, Budget]:
        x, y = real_split(self, a)
        if y.available > 0:
            y, _lost = real_split(y, y.available - 1)
        return x, y

    monkeypatch.setattr(Budget, "split", lossy_split)
    (r,) = search([contracts.split_amounts])
    assert r.status == "counterexample"
    assert_genuine(contracts.split_amounts, r, monkeypatch.undo)


def test_the_check_result_fails_and_shows_the_counterexample(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``python -m model.check --only crosshair`` would print for the bug."""
    monkeypatch.setattr(impl.pricing, "reservation_from_tokens", reservation_rounded_down)
    (res,) = check(per_condition_timeout=TIMEOUT,
                   contracts=[contracts.proposition1_tokens, contracts.split_amounts])
    assert not res.ok
    assert res.figures["passed"] == 1 and res.figures["functions"] == 2
    (bad,) = [r for r in res.figures["results"] if r["status"] == "counterexample"]
    assert bad["function"] == "proposition1_tokens"
    assert bad["counterexample"].startswith("proposition1_tokens(")
    assert bad["replayed"] == "post: __return__ is false (returned False)"
    text = "\n".join(res.details)
    assert "counterexample: proposition1_tokens(" in text and "replayed: post:" in text


def test_the_crosshair_cli_finds_a_bug_seeded_by_a_plugin_file(tmp_path: Path) -> None:
    """The same bug through ``python -m crosshair check`` in a subprocess: a plugin file
    (executed by CrossHair before the analysis) swaps in the flooring reservation."""
    plugin = tmp_path / "seed_floor_reservation.py"
    plugin.write_text(
        "import impl.pricing\n"
        "def _floor(i, o, rates):\n"
        "    return (i * rates.in_num + o * rates.out_num) // rates.den\n"
        "impl.pricing.reservation_from_tokens = _floor\n")
    proc = subprocess.run(
        [sys.executable, "-m", "crosshair", "check", "proofs.contracts.proposition1_tokens",
         "--per_condition_timeout", "10", "--extra_plugin", str(plugin)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "false when calling proposition1_tokens(" in proc.stdout, proc.stdout
    assert "(which returns False)" in proc.stdout
