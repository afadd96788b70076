"""State graphs for analysis at small bounds, and DOT output of graphs and traces.

The fast path of the checker never builds a graph; these helpers ask for one.
DOT is written by hand (no pydot/pygraphviz dependency): nodes are states in the
spec's names, edges are labelled with the step (``reserve(r=2)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx

from model.checker import Step, explore_batched
from model.spec_model import SpecBatchModel
from spec.format import Spec

GRAPH_LIMIT = 20_000


def state_graph(spec: Spec, b0: int, *, limit: int = GRAPH_LIMIT) -> nx.MultiDiGraph:
    """Every reachable state of ``spec`` at ``b0`` and every labelled step between them.

    Nodes are the spec's ``State`` namedtuples; each edge has a ``label``
    attribute; ``graph.graph["init"]`` lists the initial states.  Raises
    ``ValueError`` when the space has more than ``limit`` states (use the
    checker's counting path for large bounds).
    """
    probe = explore_batched(SpecBatchModel(spec, b0), check_deadlock=False)
    if probe.distinct_states > limit:
        raise ValueError(
            f"{spec.name} at b0={b0} has {probe.distinct_states:,} states, more than the "
            f"graph limit {limit:,}; use a smaller b0 or pass limit="
        )
    result = explore_batched(SpecBatchModel(spec, b0), check_deadlock=False, build_graph=True)
    graph: nx.MultiDiGraph = result.graph
    return graph


def _state_label(state: Any) -> str:
    fields = getattr(state, "_fields", None)
    if fields is None:
        return str(state)
    return "\\n".join(f"{f}={v}" for f, v in zip(fields, state, strict=True))


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def graph_to_dot(graph: nx.MultiDiGraph, name: str = "states") -> str:
    """The graph in DOT; initial states are drawn bold."""
    ids = {node: f"s{i}" for i, node in enumerate(graph.nodes)}
    init = set(graph.graph.get("init", []))
    lines = [f"digraph {_quote(name)} {{", "  node [shape=box, fontname=monospace];"]
    for node, nid in ids.items():
        style = ", style=bold" if node in init else ""
        lines.append(f"  {nid} [label={_quote(_state_label(node))}{style}];")
    for src, dst, data in graph.edges(data=True):
        lines.append(f"  {ids[src]} -> {ids[dst]} [label={_quote(str(data.get('label', '')))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def trace_to_dot(trace: Sequence[Step], title: str) -> str:
    """A counterexample trace as a DOT chain; the last (violating) state is red."""
    lines = [f"digraph {_quote(title)} {{", "  node [shape=box, fontname=monospace];",
             f"  label={_quote(title)}; labelloc=t;"]
    for i, st in enumerate(trace):
        colour = ", color=red, penwidth=2" if i == len(trace) - 1 else ""
        lines.append(f"  s{i} [label={_quote(f'{i}: ' + _state_label(st.state))}{colour}];")
        if i:
            lines.append(f"  s{i - 1} -> s{i} [label={_quote(st.label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
