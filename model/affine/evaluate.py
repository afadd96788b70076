"""Transfer functions: what one CFG node does to the abstract state.

Expressions are evaluated left to right as Python does. The events that matter:

- a *use* of a tracked handle (reading any attribute, calling any method, entering it
  in a ``with``, handing it to a function, returning it) checks its facts: consumed on
  every path is AFF001 (and the node certainly raises, so it has no normal
  successor), on some path AFF002, in an earlier loop iteration AFF003, by a closure
  AFF004;
- a consuming call (:mod:`model.affine.api`) consumes the receiver (and a consumed
  argument) and allocates the returned handles;
- a handle that becomes unreachable while it may still be an unresolved receipt,
  reservation or refund is AFF007 (AFF008 when it was never bound to a name);
- a handle stored where the checker does not follow it (a container, an attribute, a
  callee) *escapes*: later uses are still checked against what the checker saw, but
  it is never reported as unresolved (note AFF900/AFF901).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from model.affine import api, scopes
from model.affine.cfg import Node
from model.affine.lattice import (
    LIVE,
    Closure,
    Const,
    Consumed,
    Handles,
    Obj,
    State,
    Tup,
    Value,
    carry,
    join,
    join_values,
    objects,
)

if TYPE_CHECKING:
    from model.affine.dataflow import Analysis, Summary

QUIET = frozenset({"print", "repr", "str", "id", "type", "isinstance", "hash", "format"})
"""Builtins that never touch a handle's state (``repr`` of a consumed handle works)."""

_FOLD: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
}


class Unreachable(Exception):
    """The node certainly raises here: it has no normal successor."""


def _name(e: ast.AST) -> str:
    text = ast.unparse(e)
    return text if len(text) <= 40 else text[:37] + "..."


def _describe(f: Consumed) -> str:
    if f.closure:
        return f"`{f.closure}` consumed it ({f.op} at line {f.line})"
    return f"{f.op}() consumed it at line {f.line}"


_HINT = {
    "AFF001": "rebind the result (`b = b.spend(...)`) and use the new handle",
    "AFF002": "make every path rebind it, or use it only where it is still live",
    "AFF003": "rebind it in the loop (`b = b.spend(...)`) or make a fresh one per iteration",
    "AFF004": "give each function or closure its own handle (split the budget first), "
              "or rebind what it returns",
}


class Eval:
    """Evaluates one node on a copy of its in-state.

    ``report``: findings go to the analysis' sink (the solver runs without, then once
    with, on the fixpoint).
    """

    def __init__(self, an: Analysis, node: Node, state: State, report: bool) -> None:
        self.an = an
        self.node = node
        self.s = state.copy()
        self.report = report
        self.loops = node.loops
        self.raises: set[str] | None = set()
        """impl exceptions the node may raise; ``None``: any exception (unknown code)."""

    def may_raise(self, errors: frozenset[str] | None) -> None:
        if errors is None or self.raises is None:
            self.raises = None
        else:
            self.raises |= errors

    # -- reporting ---------------------------------------------------------------

    def emit(self, e: ast.AST | None, code: str, message: str) -> None:
        if not self.report:
            return
        line = getattr(e, "lineno", self.node.line)
        col = getattr(e, "col_offset", self.node.col)
        if self.node.expects_affine and code < "AFF007":
            code, message = "AFF903", f"expected violation, not reported: {message}"
        self.an.ctx.sink.add(line, col, code, message)

    # -- facts -------------------------------------------------------------------

    def kind(self, v: Value) -> str | None:
        """The impl class of ``v`` when every object it may be shares one."""
        if not isinstance(v, Handles) or not v.objs:
            return None
        kinds = {self.s.objs[k].kind for k in v.objs if k in self.s.objs}
        return kinds.pop() if len(kinds) == 1 else None

    def amount(self, v: Value) -> int | None:
        if isinstance(v, Const):
            return v.value
        if isinstance(v, Handles) and len(v.objs) == 1 and not v.other:
            (k,) = v.objs
            o = self.s.objs.get(k)
            return o.amount if o is not None else None
        return None

    def use(self, v: Value, op: str, e: ast.AST, *, closure: str = "",
            code: str | None = None, label: str = "") -> None:
        """Check a use of ``v``; raises :class:`Unreachable` when it certainly fails."""
        if isinstance(v, Tup):
            for item in v.items:
                self.use(item, op, e, closure=closure, code=code, label=label)
            return
        if not isinstance(v, Handles):
            return
        facts: set[object] = set()
        for k in v.objs:
            if k in self.s.objs:
                facts |= self.s.objs[k].facts
                if k.startswith("cap:"):
                    self.an.used_captures.add(k[4:])
        done = sorted((f for f in facts if isinstance(f, Consumed)),
                      key=lambda f: (f.line, f.col, f.op))
        if not done:
            return
        self.may_raise(frozenset({"AffineViolation"}))
        definite = LIVE not in facts and not v.other
        if code is None:
            if closure or any(f.closure for f in done):
                code = "AFF004"
            elif any(f.carried and set(f.loops) & set(self.loops) for f in done):
                code = "AFF003"
            else:
                code = "AFF001" if definite else "AFF002"
        who = f"`{label or _name(e)}`"
        what = (f"{who} is used by `{closure}` ({op})" if closure
                else f"{who} is used ({op})")
        when = "after" if definite else "but may already be consumed:"
        if code == "AFF003":
            f = next(f for f in done if f.carried)
            text = (f"{what} but {f.op}() at line {f.line} consumed it in an earlier "
                    f"iteration of the loop")
        elif code == "AFF006":
            text = (f"take() on session {who}, whose root budget was already taken at "
                    f"line {done[0].line}{'' if definite else ' on some path'}: it exists "
                    f"once; split() it to share it, or start a new Session")
        else:
            text = f"{what} {when} {_describe(done[0])}"
        hint = _HINT.get(code)
        if code == "AFF001" and self.kind(v) != "Budget":
            hint = "a receipt, reservation or refund is resolved exactly once"
        self.emit(e, code, f"{text}; {hint}" if hint else text)
        if definite:
            raise Unreachable

    def consume(self, v: Value, op: str, e: ast.AST, closure: str = "",
                strong: bool = True) -> None:
        """``v`` is consumed by ``op`` at ``e`` (on every path when ``strong``)."""
        if not isinstance(v, Handles):
            return
        fact = Consumed(op, getattr(e, "lineno", 0), getattr(e, "col_offset", 0),
                        self.loops, False, closure)
        strong = strong and len(v.objs) == 1 and not v.other
        for k in v.objs:
            o = self.s.objs.get(k)
            if o is not None:
                facts = frozenset({fact}) if strong else o.facts | {fact}
                self.s.objs[k] = replace(o, facts=facts, amount=None if not strong else
                                         o.amount)

    def escape(self, v: Value, code: str, why: str, e: ast.AST) -> None:
        """Objects of ``v`` go where the checker does not follow them."""
        if isinstance(v, Closure):
            self.run_closure(v, f"handed over ({why})", e)
            return
        keys = [k for k in objects(v) if k in self.s.objs]
        for k in keys:
            self.s.objs[k] = replace(self.s.objs[k], escaped=True)
        if keys:
            kinds = ", ".join(sorted({self.s.objs[k].kind for k in keys}))
            self.emit(e, code, f"stopped tracking a {kinds}: {why}")

    def escape_keys(self, keys: set[str]) -> None:
        for k in keys:
            if k in self.s.objs:
                self.s.objs[k] = replace(self.s.objs[k], escaped=True)

    def alloc(self, kinds: tuple[str, ...] | str, amounts: tuple[int | None, ...],
              e: ast.AST, origin: str) -> Value:
        """Fresh live handles made at ``e`` (a tuple when ``kinds`` is)."""
        many = isinstance(kinds, tuple)
        ks = kinds if isinstance(kinds, tuple) else (kinds,)
        vals: list[Value] = []
        line, col = getattr(e, "lineno", 0), getattr(e, "col_offset", 0)
        for i, kind in enumerate(ks):
            amt = amounts[i] if i < len(amounts) else None
            if kind == "int":
                vals.append(Const(amt) if amt is not None else None)
                continue
            key = f"n{self.node.id}@{line}:{col}#{i}"
            self.retire(key)
            self.s.objs[key] = Obj(kind, frozenset({LIVE}), line, col, origin,
                                   self.node.id, amt)
            vals.append(Handles(frozenset({key})))
        return Tup(tuple(vals)) if many else vals[0]

    def retire(self, key: str) -> None:
        """Rename the object of an earlier run of this allocation site to its summary."""
        if key not in self.s.objs:
            return
        old = self.s.objs.pop(key)
        summary = key + "'"
        prev = self.s.objs.get(summary)
        self.s.objs[summary] = prev.join(old) if prev is not None else old
        self.s.env = {n: _rename(v, key, summary) for n, v in self.s.env.items()}

    def gc(self) -> None:
        """Drop unreachable objects; an unresolved receipt among them is a finding."""
        reach: set[str] = set()
        for v in self.s.env.values():
            reach |= objects(v)
        for k in [k for k in self.s.objs if k not in reach]:
            o = self.s.objs.pop(k)
            if (o.kind in api.MUST_RESOLVE and LIVE in o.facts and not o.escaped
                    and not o.managed and not (o.kind == "Refund" and o.amount == 0)):
                self.leak(o, fresh=not k.endswith("'"))

    def leak(self, o: Obj, fresh: bool) -> None:
        resolve = ("apply_to() it" if o.kind == "Refund" else
                   "commit(), cancel() or forfeit() it" if "Reservation" in o.kind else
                   "close() or forfeit() it" if o.kind.startswith("Stream") else
                   "confirm() or forfeit() it")
        advice = f"{resolve}, return it, or use it in a `with` block"
        a = f"the {o.kind} returned by {o.origin}"
        if fresh and o.node == self.node.id and self.node.kind != "end":
            self.emit_at(o, "AFF008", f"{a} is discarded: {advice}")
            return
        where = (f"on the path that leaves at line {self.node.line}"
                 if self.node.kind == "end" else
                 f"when its last reference is dropped at line {self.node.line}")
        maybe = "" if o.facts == {LIVE} else " on some path"
        self.emit_at(o, "AFF007", f"{a} at line {o.line} is never resolved{maybe} ({where}): "
                                  f"{advice}")

    def emit_at(self, o: Obj, code: str, message: str) -> None:
        if self.report:
            self.an.ctx.sink.add(o.line, o.col, code, message)

    # -- statements --------------------------------------------------------------

    def run(self) -> State | None:
        """The out-state of the node, ``None`` when it certainly raises."""
        try:
            self.statement()
        except Unreachable:
            return None
        self.gc()
        return self.s

    def statement(self) -> None:
        n, t = self.node, self.node.tree
        if n.kind == "end":
            self.s.env = {k: v for k, v in self.s.env.items() if k in self.an.kept}
        elif n.kind in ("test", "iter") and isinstance(t, ast.expr):
            v = self.expr(t)
            if n.kind == "iter":
                self.escape(v, "AFF901", f"`{_name(t)}` iterated over", t)
        elif n.kind == "target" and isinstance(t, ast.For | ast.AsyncFor):
            self.assign(t.target, None)
        elif n.kind == "with_enter" and isinstance(t, ast.withitem):
            self.with_enter(t, n.extra)
        elif n.kind == "with_exit":
            self.with_exit(n.extra)
        elif n.kind == "handler" and isinstance(t, ast.ExceptHandler) and t.name:
            self.bind(t.name, None, t)
        elif n.kind == "case" and isinstance(t, ast.match_case):
            for node in ast.walk(t.pattern):
                if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
                    self.bind(node.name, None, node)
            if t.guard is not None:
                self.expr(t.guard)
        elif n.kind == "return" and isinstance(t, ast.Return) and t.value is not None:
            v = self.expr(t.value)
            if self.report:
                self.an.returned.append(self.shape(v))
            if isinstance(v, Closure):
                self.run_closure(v, "returned", t)
            self.use_affine(v, "return", t.value)
            for k in objects(v):
                self.s.objs[k] = replace(self.s.objs[k], escaped=True)
        elif n.kind == "stmt" and isinstance(t, ast.stmt):
            self.simple(t)

    def simple(self, t: ast.stmt) -> None:
        if isinstance(t, ast.Assign):
            v = self.expr(t.value)
            for target in t.targets:
                self.assign(target, v)
        elif isinstance(t, ast.AnnAssign):
            v = self.expr(t.value) if t.value is not None else None
            kind = self.an.ctx.names.annotation_kind(t.annotation)
            if t.value is not None and kind is not None and not objects(v):
                v = self.alloc(kind, (), t, "an annotated assignment")
                for k in objects(v):
                    self.s.objs[k] = replace(self.s.objs[k], escaped=True)
            if t.value is not None:
                self.assign(t.target, v)
        elif isinstance(t, ast.AugAssign):
            self.expr(t.value)
            self.assign(t.target, None)
        elif isinstance(t, ast.Expr):
            self.expr(t.value)
        elif isinstance(t, ast.Delete):
            for target in t.targets:
                if isinstance(target, ast.Name):
                    self.s.env.pop(target.id, None)
                else:
                    self.expr(target)
        elif isinstance(t, ast.Raise):
            self.may_raise(None)
            for part in (t.exc, t.cause):
                if part is not None:
                    self.expr(part)
        elif isinstance(t, ast.Assert):
            self.expr(t.test)
            if t.msg is not None:
                self.expr(t.msg)
        elif isinstance(t, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.define(t)
        elif isinstance(t, ast.Import | ast.ImportFrom):
            for alias in t.names:
                self.s.env.pop((alias.asname or alias.name).split(".")[0], None)

    def shape(self, v: Value) -> tuple[str, ...] | str | None:
        """The kinds of ``v`` when it is made of handles created in this scope."""
        if isinstance(v, Tup):
            items = [self.shape(x) for x in v.items]
            return tuple(x for x in items if isinstance(x, str)) if all(
                isinstance(x, str) for x in items) else None
        if not isinstance(v, Handles) or v.other or any(
                k not in self.s.objs or self.s.objs[k].node < 0 for k in v.objs):
            return None
        return self.kind(v)

    def define(self, t: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for d in t.decorator_list:
            self.expr(d)
        if isinstance(t, ast.ClassDef):
            for b in t.bases:
                self.expr(b)
            self.s.env.pop(t.name, None)
            return
        for d in t.args.defaults + [x for x in t.args.kw_defaults if x is not None]:
            self.expr(d)
        value = Closure(frozenset({id(t)}))
        if self.report:  # report inside its body, with what it captures from here
            self.an.ctx.summary(t, self.captured(t))
        if t.decorator_list:
            self.run_closure(value, f"decorated by @{_name(t.decorator_list[0])}", t)
            self.s.env.pop(t.name, None)
        else:
            self.bind(t.name, value, t)

    def with_enter(self, item: ast.withitem, hidden: str) -> None:
        v = self.expr(item.context_expr)
        kind = self.kind(v)
        if kind not in api.TICKETS:
            self.may_raise(None)  # an unknown __enter__
        if kind in api.TICKETS and isinstance(v, Handles):
            self.use(v, "with", item.context_expr)
            for k in v.objs:
                self.s.objs[k] = replace(self.s.objs[k], managed=True)
            self.s.env[hidden] = v
        else:
            v = None
        if item.optional_vars is not None:
            self.assign(item.optional_vars, v)

    def with_exit(self, hidden: str) -> None:
        v = self.s.env.pop(hidden, None)
        n = self.node
        for k in objects(v):
            o = self.s.objs[k]
            if LIVE in o.facts:
                facts = (o.facts - {LIVE}) | {Consumed("end of with", n.line, n.col,
                                                        self.loops)}
                self.s.objs[k] = replace(o, facts=frozenset(facts))

    # -- binding -----------------------------------------------------------------

    def bind(self, name: str, v: Value, e: ast.AST) -> None:
        if name in self.an.shared:
            self.escape(v, "AFF902", f"bound to `{name}`, which another scope may rebind "
                                     f"(global/nonlocal)", e)
            self.s.env.pop(name, None)
        elif v is None:
            self.s.env.pop(name, None)
        else:
            self.s.env[name] = v

    def assign(self, target: ast.expr, v: Value) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, v, target)
        elif isinstance(target, ast.Tuple | ast.List):
            elts = target.elts
            if (isinstance(v, Tup) and len(v.items) == len(elts)
                    and not any(isinstance(x, ast.Starred) for x in elts)):
                for x, item in zip(elts, v.items, strict=True):
                    self.assign(x, item)
                return
            self.escape(v, "AFF900", "unpacked into an unknown shape", target)
            for x in elts:
                self.assign(x.value if isinstance(x, ast.Starred) else x, None)
        elif isinstance(target, ast.Attribute | ast.Subscript):
            self.expr(target.value)
            if isinstance(target, ast.Subscript):
                self.expr(target.slice)
            self.escape(v, "AFF900", f"stored in `{_name(target)}`", target)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, None)

    # -- expressions -------------------------------------------------------------

    def expr(self, e: ast.expr) -> Value:
        """The abstract value of ``e``, applying its effects to the state."""
        if isinstance(e, ast.Name):
            return self.s.env.get(e.id)
        if isinstance(e, ast.Constant):
            c = e.value
            return Const(c) if isinstance(c, int) and not isinstance(c, bool) else None
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Attribute):
            v = self.expr(e.value)
            kind = self.kind(v)
            if kind is not None and (api.method(kind, e.attr) is not None
                                     or e.attr.startswith("__")):
                # a bound method: only calling it touches the handle
                self.escape(v, "AFF901", f"bound method `{_name(e)}` taken", e)
            elif kind in api.AFFINE:
                self.use(v, e.attr, e.value)
                if e.attr in ("available", "amount", "outstanding"):
                    amt = self.amount(v)
                    return Const(amt) if amt is not None else None
            return None
        if isinstance(e, ast.Tuple):
            if any(isinstance(x, ast.Starred) for x in e.elts):
                for x in e.elts:
                    self.escape(self.expr(x), "AFF900", "stored in a tuple", x)
                return None
            return Tup(tuple(self.expr(x) for x in e.elts))
        if isinstance(e, ast.List | ast.Set):
            for x in e.elts:
                self.escape(self.expr(x), "AFF900", "stored in a container", x)
            return None
        if isinstance(e, ast.Dict):
            for part in [*e.keys, *e.values]:
                if part is not None:
                    self.escape(self.expr(part), "AFF900", "stored in a dict", part)
            return None
        if isinstance(e, ast.Subscript):
            v = self.expr(e.value)
            i = self.expr(e.slice)
            if isinstance(v, Tup) and isinstance(i, Const) and -len(v.items) <= i.value < len(
                    v.items):
                return v.items[i.value]
            return None
        if isinstance(e, ast.UnaryOp):
            v = self.expr(e.operand)
            if isinstance(e.op, ast.USub) and isinstance(v, Const):
                return Const(-v.value)
            return None
        if isinstance(e, ast.BinOp):
            a, b = self.expr(e.left), self.expr(e.right)
            fold = _FOLD.get(type(e.op))
            if fold is not None and isinstance(a, Const) and isinstance(b, Const):
                return Const(fold(a.value, b.value))
            return None
        if isinstance(e, ast.Lambda):
            for d in e.args.defaults + [x for x in e.args.kw_defaults if x is not None]:
                self.expr(d)
            if self.report:
                self.an.ctx.summary(e, self.captured(e))
            return Closure(frozenset({id(e)}))
        if isinstance(e, ast.NamedExpr):
            v = self.expr(e.value)
            self.assign(e.target, v)
            return v
        if isinstance(e, ast.BoolOp):
            self.expr(e.values[0])
            for operand in e.values[1:]:
                self.branch(partial(self.expr, operand))
            return None
        if isinstance(e, ast.IfExp):
            self.expr(e.test)
            before = self.s.copy()
            ok_a, a = self.attempt(lambda: self.expr(e.body))
            after_a, self.s = self.s, before
            ok_b, b = self.attempt(lambda: self.expr(e.orelse))
            if not (ok_a or ok_b):
                raise Unreachable
            if not ok_a:
                return b
            if not ok_b:
                self.s = after_a
                return a
            joined = join(after_a, self.s)
            assert joined is not None
            self.s = joined
            lost: set[str] = set()
            v = join_values(a, b, lost)
            self.escape_keys(lost)
            return v
        if isinstance(e, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            self.comprehension(e)
            return None
        if isinstance(e, ast.Await):
            return self.expr(e.value)  # a coroutine of a known function: its result
        if isinstance(e, ast.Starred | ast.Yield | ast.YieldFrom):
            v = self.expr(e.value) if e.value is not None else None
            self.escape(v, "AFF901", "yielded or unpacked", e)
            return None
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                v = self.expr(child)
                if isinstance(e, ast.Compare | ast.JoinedStr | ast.FormattedValue):
                    continue
                self.escape(v, "AFF901", f"used in a `{type(e).__name__}` expression", child)
        return None

    def attempt(self, f: Callable[[], Value]) -> tuple[bool, Value]:
        """``(True, f())``, or ``(False, None)`` when ``f`` certainly raises."""
        try:
            return True, f()
        except Unreachable:
            return False, None

    def branch(self, f: Callable[[], Value]) -> None:
        """Run ``f`` on some paths only (a short-circuit operand)."""
        before = self.s.copy()
        ok, _ = self.attempt(f)
        if not ok:
            self.s = before
            return
        joined = join(before, self.s)
        assert joined is not None
        self.s = joined

    def comprehension(self, e: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
                      ) -> None:
        """Zero or more runs of the body, to a fixpoint (a loop of its own)."""
        gens = e.generators
        self.escape(self.expr(gens[0].iter), "AFF901", "iterated over", gens[0].iter)
        loop = self.an.pseudo_loop(e)
        outer_loops = self.loops
        self.loops = (*outer_loops, loop)

        def body() -> Value:
            for i, g in enumerate(gens):
                if i:
                    self.escape(self.expr(g.iter), "AFF901", "iterated over", g.iter)
                self.assign(g.target, None)
                for cond in g.ifs:
                    self.expr(cond)
            if isinstance(e, ast.DictComp):
                self.escape(self.expr(e.key), "AFF900", "stored in a dict", e.key)
                self.escape(self.expr(e.value), "AFF900", "stored in a dict", e.value)
            else:
                self.escape(self.expr(e.elt), "AFF900", "collected by a comprehension", e.elt)
            return None

        report, self.report = self.report, False
        cur = self.s
        for _ in range(50):
            self.s = cur.copy()
            ok, _ = self.attempt(body)
            nxt = join(cur, carry(self.s, loop)) if ok else cur
            assert nxt is not None
            if nxt == cur:
                break
            cur = nxt
        self.report = report
        if report:
            self.s = cur.copy()
            self.attempt(body)
        self.s = cur
        self.loops = outer_loops

    # -- calls -------------------------------------------------------------------

    def call(self, e: ast.Call) -> Value:
        names = self.an.ctx.names
        f = e.func
        cls = names.impl_class(f)
        if cls is not None:
            args = [self.expr(a) for a in e.args]
            for k in e.keywords:
                self.expr(k.value)
            if cls in api.CONSTRUCTORS:
                self.may_raise(api.errors(cls, "__init__"))
                cap = self.amount(args[0]) if args else None
                if cap is not None and cap < 0:
                    raise Unreachable
                return self.alloc(cls, (cap,), e, f"{cls}()")
            if not self.an.ctx.authority:
                self.emit(e, "AFF006", f"`{_name(f)}()` mints a {cls} outside impl: handles "
                                       f"come only from Session.take(), BudgetPool.reserve() "
                                       f"and operations on handles (the constructor makes "
                                       f"an inert blank, or raises TypeError)")
            return None
        copier = names.is_copier(f)
        if copier is not None:
            vals = [self.expr(a) for a in e.args]
            for a, v in zip(e.args, vals, strict=True):
                kind = self.kind(v)
                if kind is not None:
                    self.emit(a, "AFF005", f"{copier}() of {kind} `{_name(a)}` always raises "
                                           f"AffineViolation: impl values cannot be copied "
                                           f"or pickled; split() a budget to share it")
                    raise Unreachable
            return None
        if isinstance(f, ast.Attribute):
            recv = self.expr(f.value)
            kind = self.kind(recv)
            if kind is not None:
                m = api.method(kind, f.attr)
                if m is not None:
                    return self.api_call(recv, kind, f.attr, m, e)
                if kind in api.AFFINE:
                    self.use(recv, f.attr, f.value)
            return self.unknown_call(e, f"{_name(f)}()")
        if isinstance(f, ast.Name) and f.id in QUIET and f.id not in self.s.env:
            for a in e.args:
                self.expr(a)
            return None
        fv = self.expr(f)
        fn = self.known_function(f, fv)
        if fn is not None:
            return self.call_known(fn, e)
        return self.unknown_call(e, f"{_name(f)}()")

    def unknown_args(self, e: ast.Call, callee: str) -> None:
        self.may_raise(None)
        for a in [*e.args, *(k.value for k in e.keywords)]:
            v = self.expr(a)
            if isinstance(v, Closure):
                self.run_closure(v, f"handed to {callee}", a)
                continue
            self.use_affine(v, f"passed to {callee}", a)
            self.escape(v, "AFF901", f"`{_name(a)}` handed to {callee}", a)

    def unknown_call(self, e: ast.Call, callee: str) -> Value:
        self.unknown_args(e, callee)
        return None

    def use_affine(self, v: Value, op: str, e: ast.AST) -> None:
        if isinstance(v, Tup):
            for item in v.items:
                self.use_affine(item, op, e)
        elif self.kind(v) in api.AFFINE:
            self.use(v, op, e)

    def api_call(self, recv: Value, kind: str, name: str, m: api.Method, e: ast.Call
                 ) -> Value:
        f = e.func
        assert isinstance(f, ast.Attribute)
        self.may_raise(api.errors(kind, name))
        if kind in api.AFFINE:
            self.use(recv, name, f.value)
        elif name == "take":
            self.use(recv, name, f.value, code="AFF006")
        args = [self.expr(a) for a in e.args]
        kw = {k.arg: self.expr(k.value) for k in e.keywords if k.arg is not None}
        for k in e.keywords:
            if k.arg is None:
                self.expr(k.value)
        other: Value = None
        if m.consumed_arg is not None:
            at = m.consumed_at
            other = args[at] if len(args) > at else kw.get(m.consumed_arg)
            arg_e = e.args[at] if len(e.args) > at else f
            if isinstance(other, Handles) and isinstance(recv, Handles):
                self.same_handle(recv, other, f.value, arg_e, name)
            self.use_affine(other, f"{name} (argument)", arg_e)
        params = api.AMOUNT_ARGS.get(name, ())
        amounts = tuple(self.amount(args[i]) if i < len(args) else self.amount(kw.get(p))
                        for i, p in enumerate(params))
        held = self.amount(recv)
        if api.raises(kind, name, held, amounts, self.amount(kw.get("charged"))):
            raise Unreachable
        if m.consumes_self:
            self.consume(recv, name, e)
        if m.consumed_arg is not None:
            self.consume(other, name, e)
        if name == "confirm_chunk" and isinstance(recv, Handles):
            for key in recv.objs:
                o = self.s.objs[key]
                c = amounts[0] if amounts else None
                rest = None if o.amount is None or c is None or len(recv.objs) > 1 else (
                    o.amount - c)
                self.s.objs[key] = replace(o, amount=rest)
        results = api.result_amounts(kind, name, held, amounts, self.amount(other))
        if m.results == ():
            return None
        return self.alloc(m.results, results, e, f"{name}()")

    def same_handle(self, recv: Handles, other: Handles, recv_e: ast.expr, arg_e: ast.expr,
                    name: str) -> None:
        """``b.merge(b)``, ``rf.apply_to(...)`` on its own receiver: impl refuses."""
        same_name = (isinstance(arg_e, ast.Name) and isinstance(recv_e, ast.Name)
                     and arg_e.id == recv_e.id)
        single = other.objs == recv.objs and len(other.objs) == 1 and not other.other
        if not (same_name or single or recv.objs & other.objs):
            return
        definite = same_name or single
        self.may_raise(frozenset({"AffineViolation"}))
        code, how = ("AFF001", "is") if definite else ("AFF002", "may be")
        self.emit(arg_e, code, f"`{_name(arg_e)}` {how} both the receiver and the argument of "
                               f"{name}(): that raises AffineViolation; {_HINT['AFF001']}")
        if definite:
            raise Unreachable

    # -- closures ----------------------------------------------------------------

    def captured(self, fn: ast.AST) -> dict[str, str]:
        """The tracked variables ``fn`` reads from here, with their impl class."""
        out = {}
        for name in self.an.ctx.free(fn):
            kind = self.kind(self.s.env.get(name))
            if kind is not None:
                out[name] = kind
        return out

    def known_function(self, f: ast.expr, fv: Value) -> ast.AST | None:
        """The function or lambda a call's callee names, when the checker knows it: one
        defined in this scope, or a module-level function this scope does not shadow."""
        if isinstance(fv, Closure):
            if len(fv.defs) == 1:
                (ident,) = fv.defs
                return self.an.ctx.defs.get(ident)
            return None
        if isinstance(f, ast.Name) and fv is None and f.id not in self.an.bound:
            return self.an.ctx.module_defs.get(f.id)
        return None

    def call_known(self, fn: ast.AST, e: ast.Call) -> Value:
        """A call of a function the checker can analyse: its effect on the handles it
        captures and on those passed to its parameters, and the handles it returns."""
        positional = [p.arg for p in scopes.parameters(fn)[:_n_positional(fn)]]
        args: dict[str, tuple[Value, ast.expr]] = {}
        given = self.captured(fn)
        for i, a in enumerate(e.args):
            v = self.expr(a)
            if isinstance(a, ast.Starred) or i >= len(positional):
                self.escape(v, "AFF901", f"`{_name(a)}` passed as *args", a)
                positional = []
                continue
            args[positional[i]] = (v, a)
        names = {p.arg for p in scopes.parameters(fn)}
        for k in e.keywords:
            v = self.expr(k.value)
            if k.arg in names:
                args[k.arg] = (v, k.value)
            else:
                self.escape(v, "AFF901", f"`{_name(k.value)}` passed as **kwargs", k.value)
        for name, (v, a) in args.items():
            if isinstance(v, Closure):
                self.run_closure(v, f"handed to {_label(fn)}()", a)
            kind = self.kind(v)
            if kind is not None:
                given[name] = kind
            for key in objects(v):
                self.s.objs[key] = replace(self.s.objs[key], escaped=True)
        self.may_raise(None)
        summary = self.an.ctx.summary(fn, given)
        values = {name: v for name, (v, _) in args.items()}
        self.apply_summary(summary, _label(fn), "called", e, values)
        if summary.returns is None:
            return None
        return self.alloc(summary.returns, (), e, f"{_label(fn)}()")

    def apply_summary(self, summary: Summary, label: str, how: str, e: ast.AST,
                      args: dict[str, Value]) -> None:
        """Uses and consumptions of a function's run, on the variables it captures from
        here and on the values passed to its parameters (``args``)."""
        def value(name: str) -> Value:
            return args[name] if name in args else self.s.env.get(name)

        for name in sorted(summary.uses | summary.consumes):
            self.use(value(name), how, e, closure=label, label=name)
        for name in sorted(summary.consumes):
            self.consume(value(name), how, e, closure=label,
                         strong=name in summary.consumes_always)

    def run_closure(self, v: Closure, how: str, e: ast.AST) -> tuple[str, ...] | str | None:
        """The effect of running the closure now (a call, or handing it to code that
        may call it): its uses and consumptions of the variables it captures. Returns
        the kinds of the fresh handles it returns, if known."""
        if len(v.defs) != 1:
            return None
        (ident,) = v.defs
        fn = self.an.ctx.defs.get(ident)
        if fn is None:
            return None
        summary = self.an.ctx.summary(fn, self.captured(fn))
        self.apply_summary(summary, _label(fn), how, e, {})
        return summary.returns


def _label(fn: ast.AST) -> str:
    return getattr(fn, "name", f"lambda at line {getattr(fn, 'lineno', 0)}")


def _n_positional(fn: ast.AST) -> int:
    if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return len(fn.args.posonlyargs) + len(fn.args.args)
    return 0


def _rename(v: Value, old: str, new: str) -> Value:
    if isinstance(v, Handles) and old in v.objs:
        return Handles((v.objs - {old}) | {new}, v.other)
    if isinstance(v, Tup):
        return Tup(tuple(_rename(x, old, new) for x in v.items))
    return v
