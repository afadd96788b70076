"""The explicit-state checker: exact counts, shortest traces, deadlocks, graphs."""

from __future__ import annotations

from math import comb

import networkx as nx
import pytest

from model.checker import explore, explore_batched
from model.graph import graph_to_dot, state_graph, trace_to_dot
from model.spec_model import SpecBatchModel, SpecModel
from spec import LEDGER, MUTANTS, Invariant, Spec, Transition, broken_invariants, step


@pytest.mark.parametrize("b0", [1, 2, 3, 5, 10, 20])
def test_ledger_state_count_is_c_b0_plus_5_choose_5(b0: int) -> None:
    res = explore_batched(SpecBatchModel(LEDGER, b0))
    assert res.ok
    assert res.distinct_states == comb(b0 + 5, 5)


@pytest.mark.parametrize("b0", [1, 2, 4, 6])
def test_batched_engine_agrees_with_the_one_state_engine(b0: int) -> None:
    fast = explore_batched(SpecBatchModel(LEDGER, b0))
    slow = explore(SpecModel(LEDGER, b0))
    assert (fast.distinct_states, fast.transitions, fast.depth) == (
        slow.distinct_states, slow.transitions, slow.depth)


def test_reachable_states_are_exactly_the_six_tuples_summing_to_b0() -> None:
    g = state_graph(LEDGER, 3)
    assert all(sum(s) == 3 and min(s) >= 0 for s in g.nodes)
    assert g.number_of_nodes() == comb(3 + 5, 5)
    init = g.graph["init"][0]
    # every state is reachable from Init, and Init is reachable from nowhere but itself
    assert nx.descendants(g, init) | {init} == set(g.nodes)


def _replay(spec: Spec, b0: int, trace: list) -> object:
    """Re-run a trace with spec.concrete (ints), independently of the checker."""
    state = spec.initial_state(b0)
    assert trace[0].state == state
    for st in trace[1:]:
        name, _, rest = st.label.partition("(")
        args = [int(kv.split("=")[1]) for kv in rest.rstrip(")").split(", ") if kv]
        state = step(spec, state, name, *args)
        assert state == st.state
    return state


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.name)
def test_every_mutant_is_caught_with_a_trace_that_replays(m: Spec) -> None:
    res = explore_batched(SpecBatchModel(m, 5))
    assert not res.ok and res.violations
    v = res.violations[0]
    last = _replay(m, 5, v.trace)
    assert v.property in broken_invariants(m, last, 5)
    # shortest: no prefix of the trace already violates anything
    for st in v.trace[:-1]:
        assert broken_invariants(m, st.state, 5) == []


def test_one_state_engine_catches_the_same_mutant_at_the_same_depth() -> None:
    m = MUTANTS[0]
    fast = explore_batched(SpecBatchModel(m, 4))
    slow = explore(SpecModel(m, 4))
    assert [v.property for v in fast.violations] == [v.property for v in slow.violations]
    assert len(fast.violations[0].trace) == len(slow.violations[0].trace)


LOCK = Spec(
    name="lock",
    variables=("held", "waiting"),
    init=lambda b0: {"held": 0, "waiting": b0},
    transitions=(
        Transition("acquire", (), lambda s: (s.held == 0, s.waiting > 0),
                   lambda s: {"held": 1, "waiting": s.waiting - 1}),
    ),
    invariants=(Invariant("AtMostOne", lambda s, b0: (s.held <= 1,)),),
)


def test_deadlocks_are_reported_with_a_trace() -> None:
    res = explore_batched(SpecBatchModel(LOCK, 2))
    assert res.deadlocks == 1 and not res.ok
    assert res.deadlock_trace is not None
    assert [st.label for st in res.deadlock_trace] == ["Init", "acquire()"]
    assert explore(SpecModel(LOCK, 2)).deadlocks == 1


def test_dot_output_names_the_steps() -> None:
    g = state_graph(LEDGER, 1)
    dot = graph_to_dot(g)
    assert dot.startswith("digraph") and "reserve(r=1)" in dot and "live_sum=1" in dot
    res = explore_batched(SpecBatchModel(MUTANTS[0], 3))
    tdot = trace_to_dot(res.violations[0].trace, "t")
    assert "refund_to(a=1)" in tdot and "color=red" in tdot


def test_graph_refuses_large_bounds() -> None:
    with pytest.raises(ValueError, match="graph limit"):
        state_graph(LEDGER, 20, limit=1000)
