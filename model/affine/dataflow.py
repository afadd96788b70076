"""The dataflow analysis: a worklist fixpoint over each scope's CFG.

For every node the in-state is the join of what its predecessors send: a ``normal``
edge sends the node's out-state, a ``back`` edge the out-state with that loop's
consumptions marked as coming from an earlier iteration, an ``exc`` edge the node's
*in*-state (see :mod:`model.affine.cfg`). The lattice is finite (allocation sites,
their summaries, consumption sites), so the fixpoint is reached; then every reachable
node is evaluated once more with reporting on.

Closures are summarised by analysing their body with each captured variable bound to
a live handle of its class: the summary says which captured variables the body uses,
and which it consumes on some or on every path to its end. Running a closure (calling
it, or handing it to any other code, which the checker assumes will call it) applies
that summary to the variables' current values, as Python's late binding does.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from model.affine import scopes
from model.affine.cfg import Graph, graph
from model.affine.evaluate import Eval
from model.affine.lattice import LIVE, Consumed, Handles, Obj, State, carry, join
from model.affine.names import Names
from model.affine.rules import Sink

MAX_VISITS = 400
"""Worklist visits per node before the analysis gives up on a scope (never reached on
a finite lattice this small; a guard, reported as a note if it ever is)."""


@dataclass(frozen=True)
class Summary:
    """What a closure does to the variables it captures."""

    uses: frozenset[str] = frozenset()
    consumes: frozenset[str] = frozenset()
    consumes_always: frozenset[str] = frozenset()
    returns: tuple[str, ...] | str | None = None
    """The impl classes of the fresh handles it returns on every path, if it does."""


@dataclass
class FileContext:
    """What the analyses of one file share."""

    names: Names
    authority: bool
    sink: Sink
    defs: dict[int, ast.AST] = field(default_factory=dict)
    summaries: dict[tuple[int, frozenset[tuple[str, str]]], Summary] = field(
        default_factory=dict)
    frees: dict[int, frozenset[str]] = field(default_factory=dict)
    loop_ids: dict[int, int] = field(default_factory=dict)
    analysed: set[int] = field(default_factory=set)
    kept: frozenset[str] = frozenset()
    module_defs: dict[str, ast.AST] = field(default_factory=dict)
    """Module-level functions whose name is bound once (calls to them are analysed)."""

    def free(self, fn: ast.AST) -> frozenset[str]:
        """Variables ``fn`` captures (cached)."""
        key = id(fn)
        if key not in self.frees:
            self.frees[key] = scopes.free(fn)
        return self.frees[key]

    def summary(self, fn: ast.AST, captured: dict[str, str]) -> Summary:
        """Analyse ``fn`` with ``captured`` live (reporting inside it); its summary."""
        key = (id(fn), frozenset(captured.items()))
        if key not in self.summaries:
            self.summaries[key] = Summary()  # a recursive reference sees no effect
            self.summaries[key] = Analysis(self, fn, captured).run()
        return self.summaries[key]


class Analysis:
    """The analysis of one scope (module, function, lambda or class body)."""

    def __init__(self, ctx: FileContext, scope: ast.AST, captured: dict[str, str]) -> None:
        self.ctx = ctx
        self.scope = scope
        self.captured = captured
        self.graph: Graph = graph(scope, ctx.names)
        self.shared = scopes.shared(scope)
        self.kept: frozenset[str] = (ctx.kept if isinstance(scope, ast.Module) else
                                     frozenset(scopes.bound(scope))
                                     if isinstance(scope, ast.ClassDef) else frozenset())
        self.bound = frozenset(scopes.bound(scope)) if not isinstance(scope, ast.Module) \
            else frozenset()
        self.used_captures: set[str] = set()
        self.returned: list[tuple[str, ...] | str | None] = []
        ctx.analysed.add(id(scope))

    def pseudo_loop(self, e: ast.AST) -> int:
        """A loop id for a comprehension (CFG loop ids are node ids, so these are
        negative)."""
        return self.ctx.loop_ids.setdefault(id(e), -1 - len(self.ctx.loop_ids))

    def initial(self) -> State:
        """Handles given (captured variables, parameters a call passes handles to) and
        parameters annotated with an impl class: live."""
        env: dict[str, Handles] = {}
        objs: dict[str, Obj] = {}
        line = getattr(self.scope, "lineno", 0)
        col = getattr(self.scope, "col_offset", 0)
        for p in scopes.parameters(self.scope):
            kind = self.ctx.names.annotation_kind(p.annotation)
            if kind is not None and p.arg not in self.shared and p.arg not in self.captured:
                key = f"param:{p.arg}"
                objs[key] = Obj(kind, frozenset({LIVE}), p.lineno, p.col_offset,
                                "a parameter", -1, escaped=True)
                env[p.arg] = Handles(frozenset({key}))
        for name, kind in self.captured.items():
            key = f"cap:{name}"
            objs[key] = Obj(kind, frozenset({LIVE}), line, col, "an enclosing scope", -1,
                            escaped=True)
            env[name] = Handles(frozenset({key}))
        return State(dict(env), objs)

    def solve(self) -> dict[int, State]:
        """The fixpoint: the in-state of every reachable node."""
        nodes = self.graph.nodes
        states: dict[int, State] = {0: self.initial()}
        work = [0]
        visits = [0] * len(nodes)
        while work:
            n = nodes[work.pop()]
            visits[n.id] += 1
            if visits[n.id] > MAX_VISITS:
                self.ctx.sink.add(n.line, n.col, "AFF905",
                                  "analysis of this scope stopped early: no fixpoint reached "
                                  "(a bug of the checker: please report it)")
                break
            before = states[n.id]
            ev = Eval(self, n, before, report=False)
            out = ev.run()
            for target, kind in n.succ:
                if kind == "exc":
                    catches = nodes[target].catches
                    if (catches is not None and ev.raises is not None
                            and not ev.raises & catches):
                        continue  # none of the exceptions it may raise is caught there
                    sent: State | None = before
                elif out is None:
                    continue
                else:
                    sent = carry(out, target) if kind == "back" else out
                old = states.get(target)
                new = join(old, sent)
                if new is not None and new != old:
                    states[target] = new
                    if target not in work:
                        work.append(target)
        return states

    def run(self) -> Summary:
        """Solve, report, and summarise the scope's effect on captured variables."""
        states = self.solve()
        for node in self.graph.nodes:
            if node.id in states:
                Eval(self, node, states[node.id], report=True).run()
        ends = [states[n.id] for n in self.graph.nodes if n.kind == "end" and n.id in states]
        consumes, always = set(), set()
        for name in self.captured:
            facts = [s.objs[f"cap:{name}"].facts for s in ends if f"cap:{name}" in s.objs]
            if any(any(isinstance(f, Consumed) for f in fs) for fs in facts):
                consumes.add(name)
                if all(LIVE not in fs for fs in facts):
                    always.add(name)
        shapes = set(self.returned)
        returns = shapes.pop() if len(shapes) == 1 else None
        return Summary(frozenset(self.used_captures), frozenset(consumes), frozenset(always),
                       returns)
