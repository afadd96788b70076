"""Fixtures for the impl tests: a step recorder that replays every step on the spec."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import impl


class Recorder:
    """Observer that records steps and replays each on its own ledger (Ledger.after).

    Replaying raises if a step's SEMANTICS.md guard fails, so every recorded run is a legal
    run of the spec; ``check()`` compares the replayed ledger with the real one.
    """

    def __init__(self, book: impl.Session | impl.BudgetPool) -> None:
        self.book = book
        self.steps: list[impl.Step] = []
        self.replayed = book.ledger()  # subscribe at a quiescent point
        self.unsubscribe = book.observe(self)

    def __call__(self, step: impl.Step) -> None:
        self.steps.append(step)
        self.replayed = self.replayed.after(step)

    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def pairs(self) -> list[tuple[str, dict[str, int]]]:
        return [(s.name, s.params) for s in self.steps]

    def take(self) -> list[tuple[str, dict[str, int]]]:
        out = self.pairs()
        self.steps.clear()
        return out

    def check(self) -> impl.Ledger:
        led = self.book.ledger()
        assert led == self.replayed
        assert led.total == self.book.cap
        assert min(led.live_sum, led.outstanding_receipts, led.outstanding_refunds,
                   led.total_charged, led.total_unrecoverable, led.total_released) >= 0
        return led


@pytest.fixture
def recorder() -> Callable[[impl.Session | impl.BudgetPool], Recorder]:
    return Recorder
