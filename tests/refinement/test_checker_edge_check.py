"""The generic edge check of model.checker.explore: shortest traces to a bad edge."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from model.checker import explore


class Counter:
    """0..n with +1 and +2 steps; the edge property: never jump over 3."""

    def init_states(self) -> list[int]:
        return [0]

    def actions(self, state: int) -> list[int]:
        return [1, 2] if state < 6 else []

    def next_state(self, state: int, action: int) -> int:
        return state + action

    def properties(self) -> Sequence[tuple[str, Callable[[int], bool]]]:
        return [("Small", lambda s: s <= 7)]

    def format_action(self, action: int) -> str:
        return f"add({action})"


def test_edge_violation_has_a_shortest_trace_ending_with_the_bad_step() -> None:
    seen: list[tuple[int, int, int]] = []

    def jumps_over_3(s: int, a: int, t: int) -> str | None:
        seen.append((s, a, t))
        return "NoJumpOver3" if s < 3 < t else None

    res = explore(Counter(), check_edge=jumps_over_3, check_deadlock=False)
    assert not res.ok
    [v] = res.violations
    assert v.property == "NoJumpOver3"
    assert [st.state for st in v.trace] == [0, 2, 4]
    assert [st.label for st in v.trace] == ["Init", "add(2)", "add(2)"]
    assert len(seen) == res.transitions


def test_without_a_failing_edge_the_search_is_unchanged() -> None:
    plain = explore(Counter(), check_deadlock=False)
    checked = explore(Counter(), check_deadlock=False, check_edge=lambda s, a, t: None)
    assert checked.ok and plain.ok
    assert (checked.distinct_states, checked.transitions, checked.depth) == (
        plain.distinct_states, plain.transitions, plain.depth)
