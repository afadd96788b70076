"""Control-flow graphs of Python scopes, built from :mod:`ast`.

One graph per scope (a module, a function, a lambda, a class body). Nodes are
statements or the parts of compound statements that evaluate something (an ``if`` or
``while`` test, a ``for`` iterable and target, a ``with`` item's entry and exit, an
``except`` clause's binding, a ``return``); nested function bodies are not part of
their parent's graph.

Edges are ``normal`` (the node completed), ``back`` (a loop's back edge: ``continue`` or
the end of the body) or ``exc`` (the node raised: the analysis passes the state from
*before* the node, which is what impl guarantees for its own refusals). An exception
goes to the innermost enclosing ``except`` clauses, through the ``finally`` blocks and
``with`` exits on the way; ``return``, ``break`` and ``continue`` also run the
``finally`` blocks and ``with`` exits they leave (each such path gets its own copy of
the ``finally`` code, so paths are not merged there).

Every path that leaves the scope normally (a ``return`` or the end of the body) ends in
an ``end`` node of its own; paths that leave by an exception end in ``exc_exit``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from model.affine.names import Names

RAISING = frozenset({"stmt", "test", "iter", "target", "with_enter", "return", "case"})
"""Node kinds that evaluate code, so may raise."""


@dataclass
class Node:
    """One CFG node. ``extra`` carries the hidden variable of a ``with`` item."""

    id: int
    kind: str
    tree: ast.AST | None
    line: int
    col: int
    loops: tuple[int, ...]
    expects_affine: bool
    succ: list[tuple[int, str]] = field(default_factory=list)
    extra: str = ""
    catches: frozenset[str] | None = None


@dataclass
class Graph:
    """A scope's CFG: ``nodes[0]`` is the entry."""

    nodes: list[Node]
    scope: ast.AST

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)


@dataclass
class _Loop:
    head: Node
    breaks: list[Node]


@dataclass
class _Try:
    landing: Node
    catches_affine: bool


@dataclass
class _Cleanup:
    landing: Node
    build: Callable[[list[Node]], list[Node]]


_Ctx = _Loop | _Try | _Cleanup


def _truth(test: ast.expr) -> bool | None:
    """The truth value of a constant test (``while True``), else ``None``."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    return None


class Builder:
    """Builds the :class:`Graph` of one scope.

    ``names`` resolves the types of ``except`` clauses: code guarded by one that names
    AffineViolation (or by ``pytest.raises(impl.AffineViolation)``) expects the
    violation; a ``try`` whose clauses all name impl exceptions records them in its
    dispatch node's ``catches``, so only nodes that may raise one of them reach it.
    """

    def __init__(self, scope: ast.AST, names: Names) -> None:
        self.scope = scope
        self.names = names
        self.catches = names.is_affine_violation
        self.nodes: list[Node] = []
        self.ctx: list[_Ctx] = []
        self.loops: list[int] = []
        self.expecting = 0
        self.entry = self._new("entry", None, 0, 0)
        self.exc_exit = self._new("exc_exit", None, 0, 0)

    def build(self, body: list[ast.stmt], end_line: int) -> Graph:
        """The graph of ``body``; falling off its end is an ``end`` node at ``end_line``."""
        out = self.block(body, [self.entry])
        end = self._new("end", None, end_line, 0)
        self._link(out, end)
        return Graph(self.nodes, self.scope)

    def _new(self, kind: str, tree: ast.AST | None, line: int, col: int) -> Node:
        node = Node(len(self.nodes), kind, tree, line, col, tuple(self.loops),
                    self.expecting > 0)
        self.nodes.append(node)
        if kind in RAISING:
            node.succ.append((self._landing().id, "exc"))
        return node

    def _at(self, kind: str, tree: ast.AST) -> Node:
        return self._new(kind, tree, getattr(tree, "lineno", 0), getattr(tree, "col_offset", 0))

    def _landing(self) -> Node:
        for c in reversed(self.ctx):
            if isinstance(c, _Try | _Cleanup):
                return c.landing
        return self.exc_exit

    @staticmethod
    def _link(frontier: list[Node], target: Node, kind: str = "normal") -> None:
        for n in frontier:
            n.succ.append((target.id, kind))

    def block(self, body: list[ast.stmt], frontier: list[Node]) -> list[Node]:
        """Append ``body`` after ``frontier``; returns the nodes that fall through."""
        for s in body:
            frontier = self.stmt(s, frontier)
        return frontier

    def stmt(self, s: ast.stmt, frontier: list[Node]) -> list[Node]:
        """Append one statement."""
        if isinstance(s, ast.If):
            return self._if(s, frontier)
        if isinstance(s, ast.While):
            return self._while(s, frontier)
        if isinstance(s, ast.For | ast.AsyncFor):
            return self._for(s, frontier)
        if isinstance(s, ast.Try | ast.TryStar):
            return self._try(s, frontier)
        if isinstance(s, ast.With | ast.AsyncWith):
            return self._with(s, frontier)
        if isinstance(s, ast.Match):
            return self._match(s, frontier)
        if isinstance(s, ast.Return):
            node = self._at("return", s)
            self._link(frontier, node)
            out = self._unwind([node], 0)
            end = self._at("end", s)
            self._link(out, end)
            return []
        if isinstance(s, ast.Raise):
            node = self._at("stmt", s)
            self._link(frontier, node)
            self._link([node], self._landing())
            return []
        if isinstance(s, ast.Break | ast.Continue):
            return self._jump(s, frontier)
        node = self._at("stmt", s)
        self._link(frontier, node)
        return [node]

    def _if(self, s: ast.If, frontier: list[Node]) -> list[Node]:
        test = self._at("test", s.test)
        self._link(frontier, test)
        truth = _truth(s.test)
        body = self.block(s.body, [test] if truth is not False else [])
        return body + self.block(s.orelse, [test] if truth is not True else [])

    def _loop_body(self, head: Node, body: list[ast.stmt], entry: list[Node]) -> _Loop:
        loop = _Loop(head, [])
        self.ctx.append(loop)
        out = self.block(body, entry)
        self._link(out, head, "back")
        self.ctx.pop()
        return loop

    def _while(self, s: ast.While, frontier: list[Node]) -> list[Node]:
        self.loops.append(len(self.nodes))
        head = self._at("test", s.test)
        self._link(frontier, head)
        truth = _truth(s.test)
        loop = self._loop_body(head, s.body, [head] if truth is not False else [])
        self.loops.pop()
        return self.block(s.orelse, [head] if truth is not True else []) + loop.breaks

    def _for(self, s: ast.For | ast.AsyncFor, frontier: list[Node]) -> list[Node]:
        it = self._at("iter", s.iter)
        self._link(frontier, it)
        self.loops.append(len(self.nodes))
        head = self._new("join", None, s.lineno, s.col_offset)
        target = self._at("target", s)
        # a loop over range(k), k >= 1, or a non-empty literal runs its body at least once
        self._link([it], target if _nonempty(s.iter) else head)
        self._link([head], target)
        loop = self._loop_body(head, s.body, [target])
        self.loops.pop()
        return self.block(s.orelse, [head]) + loop.breaks

    def _jump(self, s: ast.Break | ast.Continue, frontier: list[Node]) -> list[Node]:
        node = self._at("stmt", s)
        self._link(frontier, node)
        index = max((i for i, c in enumerate(self.ctx) if isinstance(c, _Loop)), default=-1)
        if index < 0:  # a SyntaxError Python would have reported
            return []
        loop = self.ctx[index]
        assert isinstance(loop, _Loop)
        out = self._unwind([node], index + 1)
        if isinstance(s, ast.Break):
            loop.breaks.extend(out)
        else:
            self._link(out, loop.head, "back")
        return []

    def _unwind(self, frontier: list[Node], until: int) -> list[Node]:
        """Run the cleanups (``finally`` copies, ``with`` exits) of contexts above
        ``until``, innermost first, each built in the context it sits in."""
        saved = self.ctx
        for i in range(len(saved) - 1, until - 1, -1):
            c = saved[i]
            if isinstance(c, _Cleanup):
                self.ctx = saved[:i]
                frontier = c.build(frontier)
        self.ctx = saved
        return frontier

    def _try(self, s: ast.Try | ast.TryStar, frontier: list[Node]) -> list[Node]:
        cleanup = None
        if s.finalbody:
            final = s.finalbody
            cleanup = _Cleanup(self._new("join", None, s.lineno, s.col_offset),
                               lambda fr: self.block(final, fr))
            self.ctx.append(cleanup)
        dispatch = self._new("join", None, s.lineno, s.col_offset)
        caught = [self.names.caught(h.type) for h in s.handlers]
        if caught and all(c is not None for c in caught):
            dispatch.catches = frozenset().union(*(c for c in caught if c is not None))
        expects = any(self.catches(h.type) for h in s.handlers)
        if s.handlers:
            self.ctx.append(_Try(dispatch, expects))
        self.expecting += expects
        out = self.block(s.body, frontier)
        self.expecting -= expects
        if s.handlers:
            self.ctx.pop()
        out = self.block(s.orelse, out)
        for h in s.handlers:
            hn = self._at("handler", h)
            self._link([dispatch], hn)
            out = out + self.block(h.body, [hn])
        if s.handlers and not any(_catch_all(h.type) for h in s.handlers):
            self._link([dispatch], self._landing())
        if cleanup is not None:
            self.ctx.pop()
            out = self.block(s.finalbody, out)
            self._link(self.block(s.finalbody, [cleanup.landing]), self._landing())
        return out

    def _with(self, s: ast.With | ast.AsyncWith, frontier: list[Node]) -> list[Node]:
        pads: list[tuple[Node, str | None]] = []
        expects = 0
        for item in s.items:
            enter = self._at("with_enter", item.context_expr)
            enter.extra = f"<with {enter.id}>"
            enter.tree = item
            self._link(frontier, enter)
            frontier = [enter]
            pad = self._new("with_exit", None, s.lineno, s.col_offset)
            pad.extra = enter.extra
            hidden = enter.extra
            self.ctx.append(_Cleanup(pad, partial(self._exit, hidden=hidden, s=s)))
            expr = item.context_expr
            expects += isinstance(expr, ast.Call) and any(self.catches(a) for a in expr.args)
            pads.append((pad, _swallows(expr)))
        self.expecting += expects
        out = self.block(s.body, frontier)
        self.expecting -= expects
        for pad, swallows in reversed(pads):
            self.ctx.pop()
            out = self._exit(out, hidden=pad.extra, s=s)
            self._link([pad], self._landing())
            if swallows == "raises":  # pytest.raises fails when its body does not raise
                self._link(out, self._landing())
                out = [pad]
            elif swallows == "suppress":
                out = [*out, pad]
        return out

    def _exit(self, frontier: list[Node], *, hidden: str, s: ast.stmt) -> list[Node]:
        node = self._new("with_exit", None, s.lineno, s.col_offset)
        node.extra = hidden
        self._link(frontier, node)
        return [node]

    def _match(self, s: ast.Match, frontier: list[Node]) -> list[Node]:
        subject = self._at("test", s.subject)
        self._link(frontier, subject)
        out: list[Node] = [subject]
        for case in s.cases:
            node = self._at("case", case.pattern)
            node.tree = case
            self._link([subject], node)
            out = out + self.block(case.body, [node])
        return out


def _nonempty(it: ast.expr) -> bool:
    if isinstance(it, ast.Tuple | ast.List):
        return bool(it.elts) and not any(isinstance(e, ast.Starred) for e in it.elts)
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
            and it.func.id == "range" and not it.keywords and 1 <= len(it.args) <= 2):
        return False
    bounds = [a.value for a in it.args if isinstance(a, ast.Constant)
              and type(a.value) is int]
    if len(bounds) != len(it.args):
        return False
    return bounds[0] >= 1 if len(bounds) == 1 else bounds[0] < bounds[1]


def _catch_all(t: ast.expr | None) -> bool:
    return t is None or (isinstance(t, ast.Name) and t.id in ("Exception", "BaseException"))


def _swallows(expr: ast.expr) -> str | None:
    """``"raises"`` for ``pytest.raises(...)`` (continues only if its body raised),
    ``"suppress"`` for ``contextlib.suppress(...)`` (continues either way), else None."""
    if not isinstance(expr, ast.Call):
        return None
    f = expr.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    return name if name in ("raises", "suppress") else None


def scopes(tree: ast.AST) -> Iterator[ast.AST]:
    """``tree`` and every function, lambda and class body nested in it."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                      | ast.ClassDef):
            yield node


def graph(scope: ast.AST, names: Names) -> Graph:
    """The CFG of a module, function, lambda or class body."""
    b = Builder(scope, names)
    if isinstance(scope, ast.Lambda):
        body: list[ast.stmt] = [ast.Return(scope.body, lineno=scope.lineno,
                                           col_offset=scope.col_offset)]
    else:
        assert isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef
                          | ast.ClassDef)
        body = scope.body
    last = max((getattr(n, "end_lineno", 0) or 0 for n in body), default=0)
    return b.build(body, last)
