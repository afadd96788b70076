"""An explicit-state, breadth-first model checker.

Its shape follows stateright's ``Model``: a model offers initial states, the
actions enabled in a state, the next state of an action, and properties: named
state predicates that must *always* hold, and (optionally) named *sometimes*
properties that at least one explored step must witness (stateright's
``Property::sometimes``; e.g. "transition ``reserve`` fires", which a dead
transition never witnesses).  The checker knows nothing about what the states mean.
It visits every reachable state once, records every step as a labelled edge, checks
every property in every state, reports deadlocks and unwitnessed sometimes
properties, and on a violation returns the shortest trace from an initial state.

Two engines share that contract:

* ``explore`` walks a ``Model`` one state at a time (any hashable states);
* ``explore_batched`` walks a ``BatchModel`` a whole BFS level at a time, with
  states as rows of a NumPy integer array.  It is the fast path: the work per
  level is a handful of vector operations per action, whatever the frontier size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

S = TypeVar("S", bound=Hashable)
A = TypeVar("A")
Rows = npt.NDArray[np.int64]
Progress = Callable[[str], None]


class ExplorationError(RuntimeError):
    """The search cannot go on (state limit reached, values outside the packable range)."""


@dataclass(frozen=True)
class Step:
    """One edge of a trace: ``label`` is how the model names the action."""

    label: str
    state: Any


@dataclass
class Violation:
    """A property that fails in some reachable state, with the shortest trace to it."""

    property: str
    trace: list[Step]  # trace[0] is the initial state (label "Init")

    def render(self, show: Callable[[Any], str] = str) -> list[str]:
        """The trace as numbered lines: ``0 Init``, then one line per action."""
        lines = [f"{self.property} violated after {len(self.trace) - 1} step(s):"]
        for i, st in enumerate(self.trace):
            lines.append(f"  {i:>3}  {st.label}")
            lines.append(f"       {show(st.state)}")
        return lines


@dataclass
class Exploration:
    """What a search found: counts, violations, deadlocks, and optionally the graph."""

    distinct_states: int = 0
    transitions: int = 0  # enabled (state, action) pairs, self-loops included
    depth: int = 0  # BFS levels below the initial states
    violations: list[Violation] = field(default_factory=list)
    deadlocks: int = 0
    deadlock_trace: list[Step] | None = None
    seconds: float = 0.0
    complete: bool = True
    stopped: str = ""  # which limit ended an incomplete search, e.g. "max states 10,000"
    graph: Any = None  # a networkx.MultiDiGraph when requested
    #: sometimes properties no explored step witnessed (only set when the search ran
    #: to the end: a search stopped by a violation proves nothing about them)
    unwitnessed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No property violated, no deadlock, every sometimes property witnessed, and
        the whole space was visited."""
        return (not self.violations and self.deadlocks == 0 and self.complete
                and not self.unwitnessed)


@dataclass(frozen=True)
class Limits:
    """Where a search may stop before it has seen every state (``None``: no limit).

    ``max_states`` caps the distinct states visited, ``max_depth`` the BFS levels
    below the initial states, ``time_limit`` the seconds spent.  A search stopped
    by one of them is *incomplete*: ``Exploration.complete`` is false and
    ``Exploration.stopped`` names the limit.
    """

    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None


NO_LIMITS = Limits()


# --------------------------------------------------------------------------
# The one-state-at-a-time engine


class Model(Protocol[S, A]):
    """stateright's ``Model``: the checker's whole view of a system.

    A model may also define ``sometimes() -> Sequence[tuple[str, Callable[[S, A, S],
    bool]]]``: named predicates over steps ``(s, a, t)``, each of which some explored
    step must satisfy.
    """

    def init_states(self) -> Iterable[S]: ...
    def actions(self, state: S) -> Iterable[A]: ...
    def next_state(self, state: S, action: A) -> S | None: ...
    def properties(self) -> Sequence[tuple[str, Callable[[S], bool]]]: ...
    def format_action(self, action: A) -> str: ...


#: ``check_edge(s, a, t)``: the name of an edge property that the step from ``s``
#: by ``a`` to ``t`` violates, or ``None`` when the edge is fine.
EdgeCheck = Callable[[S, A, S], str | None]


def explore(
    model: Model[S, A],
    *,
    max_states: int = 10_000_000,
    check_deadlock: bool = True,
    build_graph: bool = False,
    progress: Progress | None = None,
    check_edge: EdgeCheck[S, A] | None = None,
) -> Exploration:
    """Breadth-first search of ``model``; stops at the first level with a violation.

    Guarantees: every reachable state is visited once (up to ``max_states``, past
    which ``ExplorationError`` is raised), every enabled action is counted as a
    transition, each returned trace is a shortest path from an initial state.
    With ``check_edge``, every edge ``(s, a, t)`` is also passed to it; a returned
    name is an edge property violated there: the violation's trace is a shortest
    trace to ``s`` followed by the step to ``t`` (one violation per name, and the
    search stops after the level in which it was found).  When the search ends
    without a violation, ``unwitnessed`` names the model's sometimes properties that
    no edge satisfied.
    """
    t0 = time.perf_counter()
    res = Exploration()
    parent: dict[S, tuple[S, A] | None] = {}
    graph = _new_graph() if build_graph else None
    props = model.properties()
    # a sometimes property is evaluated only until a step witnesses it
    pending: dict[str, Callable[[S, A, S], bool]] = dict(getattr(model, "sometimes",
                                                                 lambda: [])())
    level: list[S] = []
    for s in model.init_states():
        if s not in parent:
            parent[s] = None
            level.append(s)
    depth = 0
    while level:
        _check_level(level, props, parent, model, res)
        if res.violations:
            break
        nxt: list[S] = []
        for s in level:
            enabled = 0
            for a in model.actions(s):
                t = model.next_state(s, a)
                if t is None:
                    continue
                enabled += 1
                if pending:
                    for name in [n for n, p in pending.items() if p(s, a, t)]:
                        del pending[name]
                if check_edge is not None:
                    _check_edge(check_edge, s, a, t, parent, model, res)
                if graph is not None:
                    graph.add_edge(s, t, label=model.format_action(a))
                if t not in parent:
                    parent[t] = (s, a)
                    nxt.append(t)
                    if len(parent) > max_states:
                        raise ExplorationError(f"more than {max_states:,} states; raise max_states")
            res.transitions += enabled
            if enabled == 0 and check_deadlock:
                if res.deadlocks == 0:
                    res.deadlock_trace = _scalar_trace(s, parent, model)
                res.deadlocks += 1
        if res.violations:  # an edge property failed while expanding this level
            break
        if nxt:
            depth += 1
        level = nxt
        if progress is not None:
            progress(f"depth {depth}: {len(parent):,} states, {res.transitions:,} transitions")
    res.distinct_states = len(parent)
    res.depth = depth
    res.graph = graph
    if not res.violations:
        res.unwitnessed = list(pending)
    if graph is not None:
        graph.add_nodes_from(parent)
    res.seconds = time.perf_counter() - t0
    return res


def _check_level(
    level: list[S],
    props: Sequence[tuple[str, Callable[[S], bool]]],
    parent: dict[S, tuple[S, A] | None],
    model: Model[S, A],
    res: Exploration,
) -> None:
    for name, holds in props:
        for s in level:
            if not holds(s):
                res.violations.append(Violation(name, _scalar_trace(s, parent, model)))
                break


def _check_edge(
    check: EdgeCheck[S, A],
    s: S,
    a: A,
    t: S,
    parent: dict[S, tuple[S, A] | None],
    model: Model[S, A],
    res: Exploration,
) -> None:
    broken = check(s, a, t)
    if broken is None or any(v.property == broken for v in res.violations):
        return
    trace = [*_scalar_trace(s, parent, model), Step(model.format_action(a), t)]
    res.violations.append(Violation(broken, trace))


def _scalar_trace(s: S, parent: dict[S, tuple[S, A] | None], model: Model[S, A]) -> list[Step]:
    steps: list[Step] = []
    cur: S | None = s
    while cur is not None:
        link = parent[cur]
        if link is None:
            steps.append(Step("Init", cur))
            cur = None
        else:
            steps.append(Step(model.format_action(link[1]), cur))
            cur = link[0]
    return steps[::-1]


# --------------------------------------------------------------------------
# The batched engine


@dataclass
class Successors:
    """Successors of a batch of rows under one action family.

    ``parents[i]`` is the row (index into the batch) that ``rows[i]`` comes from,
    ``choices[i]`` says which parameter choice of action ``action`` produced it.
    """

    action: int
    parents: npt.NDArray[np.intp]
    choices: npt.NDArray[np.intp]
    rows: Rows


class BatchModel(Protocol):
    """A model whose states are fixed-width integer rows, expanded a batch at a time.

    It may also define ``sometimes() -> Sequence[tuple[str, int]]``: named properties
    "action family ``i`` fires", each of which some explored step must witness.
    """

    width: int

    def init_rows(self) -> Rows: ...
    def expand(self, rows: Rows) -> Iterator[Successors]: ...
    def property_names(self) -> Sequence[str]: ...
    def violations(self, rows: Rows) -> Sequence[npt.NDArray[np.bool_]]: ...
    def format_action(self, action: int, choice: int) -> str: ...
    def format_row(self, row: Sequence[int]) -> Any: ...


class _Packer:
    """Packs a row of small integers into one int64 (the visited-set key)."""

    def __init__(self, width: int) -> None:
        self.bits = 63 // width
        if self.bits < 4:
            raise ExplorationError(f"{width} state components are too many to pack into 63 bits")
        self.offset = 1 << (self.bits - 1)
        self.shifts = np.array([self.bits * i for i in range(width)], dtype=np.int64)

    def pack(self, rows: Rows) -> npt.NDArray[np.int64]:
        if rows.size and (rows.min() < -self.offset or rows.max() >= self.offset):
            raise ExplorationError(
                f"a state component left the packable range [{-self.offset}, {self.offset}); "
                "explore a smaller bound"
            )
        # column by column: no (rows x width) temporaries on the hot path
        code = rows[:, 0] + self.offset
        for j in range(1, rows.shape[1]):
            code = code + ((rows[:, j] + self.offset) << int(self.shifts[j]))
        return np.asarray(code, dtype=np.int64)


@dataclass
class _Level:
    rows: Rows
    parents: npt.NDArray[np.intp]  # index into the previous level
    actions: npt.NDArray[np.intp]
    choices: npt.NDArray[np.intp]


def explore_batched(
    model: BatchModel,
    *,
    max_states: int = 50_000_000,
    check_deadlock: bool = True,
    build_graph: bool = False,
    progress: Progress | None = None,
    limits: Limits = NO_LIMITS,
) -> Exploration:
    """Breadth-first search of ``model``, one vectorised BFS level at a time.

    Same guarantees as ``explore``: every reachable state once, every enabled
    (state, action, choice) counted, shortest traces, stop at the first level
    that holds a violation.  With ``build_graph`` every edge is also kept and a
    ``networkx.MultiDiGraph`` returned (meant for small bounds).

    ``limits`` stop the search early, never with an exception: at most
    ``limits.max_states`` states are kept (the last level cut short), no level
    deeper than ``limits.max_depth`` is added, and no new level or batch of
    successors is started after ``limits.time_limit`` seconds.  Every state kept
    is checked against every property; the result is then marked incomplete
    (unless nothing was left to visit).  ``max_states`` alone raises
    ``ExplorationError`` when exceeded, as before.
    """
    t0 = time.perf_counter()

    def out_of_time() -> bool:
        return limits.time_limit is not None and time.perf_counter() - t0 > limits.time_limit

    res = Exploration()
    packer = _Packer(model.width)
    init = np.unique(model.init_rows().astype(np.int64), axis=0)
    levels = [
        _Level(init, np.full(len(init), -1, np.intp), np.full(len(init), -1, np.intp),
               np.full(len(init), -1, np.intp))
    ]
    visited = np.sort(packer.pack(init))
    edges: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int, npt.NDArray[np.intp]]] = []
    names = model.property_names()
    sometimes: list[tuple[str, int]] = list(getattr(model, "sometimes", lambda: [])())
    fired: set[int] = set()
    count = len(init)
    stop = ""
    while True:
        cur = levels[-1]
        for name, bad in zip(names, model.violations(cur.rows), strict=True):
            hit = np.flatnonzero(bad)
            if hit.size:
                res.violations.append(Violation(name, _batched_trace(model, levels, int(hit[0]))))
        if res.violations or stop:
            break
        if out_of_time():
            stop = f"time limit {limits.time_limit:g} s"
            break
        out_degree = np.zeros(len(cur.rows), np.int64)
        parts: list[tuple[npt.NDArray[np.int64], Successors]] = []
        for succ in model.expand(cur.rows):
            if out_of_time():
                stop = f"time limit {limits.time_limit:g} s"
                break
            res.transitions += len(succ.parents)
            if len(succ.parents):
                fired.add(succ.action)
            out_degree += np.bincount(succ.parents, minlength=len(cur.rows))
            if build_graph:
                edges.append((packer.pack(cur.rows[succ.parents]), packer.pack(succ.rows),
                              succ.action, succ.choices))
            # keep only what is new, right away: a level's raw successors can be
            # two orders of magnitude more than its distinct states
            codes, idx = _fresh(packer, visited, succ)
            if codes.size:
                parts.append((codes, Successors(succ.action, succ.parents[idx],
                                                succ.choices[idx], succ.rows[idx])))
        if stop:
            break  # a level cut short: its out-degrees say nothing about deadlocks
        if check_deadlock:
            dead = np.flatnonzero(out_degree == 0)
            if dead.size:
                if res.deadlocks == 0:
                    res.deadlock_trace = _batched_trace(model, levels, int(dead[0]))
                res.deadlocks += int(dead.size)
        if not parts:
            break
        if limits.max_depth is not None and res.depth >= limits.max_depth:
            stop = f"max depth {limits.max_depth:,}"
            break
        codes = np.concatenate([c for c, _ in parts])
        rows = np.concatenate([f.rows for _, f in parts])
        parents = np.concatenate([f.parents for _, f in parts])
        choices = np.concatenate([f.choices for _, f in parts])
        actions = np.concatenate([np.full(len(c), f.action, np.intp) for c, f in parts])
        _, pick = np.unique(codes, return_index=True)
        pick.sort()  # discovery order: deterministic, earliest action first
        if limits.max_states is not None and count + len(pick) > limits.max_states:
            pick = pick[: limits.max_states - count]
            stop = f"max states {limits.max_states:,}"
            if not pick.size:
                break
        levels.append(_Level(rows[pick], parents[pick], actions[pick], choices[pick]))
        new = np.sort(codes[pick])
        visited = np.insert(visited, np.searchsorted(visited, new), new)
        count += len(pick)
        res.depth += 1
        if count > max_states:
            raise ExplorationError(f"more than {max_states:,} states; raise max_states")
        if progress is not None:
            progress(f"depth {res.depth}: {count:,} states, {res.transitions:,} transitions")
    res.distinct_states = count
    res.complete = not stop
    res.stopped = stop
    if not res.violations and res.complete:
        res.unwitnessed = [name for name, action in sometimes if action not in fired]
    if build_graph:
        res.graph = _batched_graph(model, levels, edges, packer)
    res.seconds = time.perf_counter() - t0
    return res


def _fresh(
    packer: _Packer, visited: npt.NDArray[np.int64], succ: Successors
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """Codes of ``succ``'s rows not yet visited, one per distinct state, and their indices."""
    codes = packer.pack(succ.rows)
    uniq, first = np.unique(codes, return_index=True)
    keep = ~_sorted_contains(visited, uniq)
    return uniq[keep], first[keep]


def _sorted_contains(
    haystack: npt.NDArray[np.int64], needles: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    if haystack.size == 0:
        return np.zeros(needles.shape, bool)
    pos = np.searchsorted(haystack, needles)
    pos[pos == haystack.size] = 0
    return np.asarray(haystack[pos] == needles)


def _batched_trace(model: BatchModel, levels: list[_Level], index: int) -> list[Step]:
    steps: list[Step] = []
    for depth in range(len(levels) - 1, -1, -1):
        lv = levels[depth]
        row = model.format_row(lv.rows[index].tolist())
        if depth == 0:
            steps.append(Step("Init", row))
        else:
            label = model.format_action(int(lv.actions[index]), int(lv.choices[index]))
            steps.append(Step(label, row))
            index = int(lv.parents[index])
    return steps[::-1]


def _new_graph() -> Any:
    import networkx as nx  # only when a graph is asked for: the fast path never builds one

    return nx.MultiDiGraph()


def _batched_graph(
    model: BatchModel,
    levels: list[_Level],
    edges: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int, npt.NDArray[np.intp]]],
    packer: _Packer,
) -> Any:
    graph = _new_graph()
    node_of: dict[int, Any] = {}
    for lv in levels:
        for code, row in zip(packer.pack(lv.rows).tolist(), lv.rows.tolist(), strict=True):
            node_of[code] = model.format_row(row)
            graph.add_node(node_of[code])
    graph.graph["init"] = [model.format_row(r) for r in levels[0].rows.tolist()]
    for src, dst, action, choices in edges:
        for s, d, c in zip(src.tolist(), dst.tolist(), choices.tolist(), strict=True):
            if d in node_of:  # a successor of the violating level may be unvisited
                graph.add_edge(node_of[s], node_of[d], label=model.format_action(action, c))
    return graph
