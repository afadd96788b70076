"""The abstract states of the analysis and their join.

A state maps each local variable to an abstract value and each tracked object (an impl
handle, named by its allocation site) to what may be true of it: ``LIVE`` and/or one
or more :class:`Consumed` facts (a *may* set: ``{LIVE}`` is certainly live,
``{Consumed}`` certainly consumed, both: consumed on some paths). Joining two states
unions these sets, so the analysis is a forward may-analysis whose must-part is "LIVE
is not in the set".

Objects are named by allocation site (``n12#1``: the second handle made at CFG node
12). When a site runs again (a loop), the previous object at that site, if anything
still refers to it, is renamed to its summary ``n12#1'`` (the recency abstraction), so
facts about an older handle never leak onto the fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

LIVE = "live"


@dataclass(frozen=True)
class Consumed:
    """The object was consumed by ``op`` at ``line``:``col``.

    ``carried``: the fact reached here along a loop's back edge (from an earlier
    iteration). ``loops``: the loops enclosing the consuming node. ``closure``: the
    consumption is a closure's (a call of it, or handing it to other code).
    """

    op: str
    line: int
    col: int
    loops: tuple[int, ...] = ()
    carried: bool = False
    closure: str = ""


Fact = str | Consumed


@dataclass(frozen=True)
class Obj:
    """A tracked handle: its impl class, facts, where it was made, what it holds.

    ``escaped``: something the checker does not follow holds it (a container, an
    attribute, a callee, the caller): never reported as unresolved. ``managed``: a
    ``with`` block resolves it. ``amount``: the uc it holds, when known exactly.
    """

    kind: str
    facts: frozenset[Fact]
    line: int
    col: int
    origin: str
    node: int
    amount: int | None = None
    escaped: bool = False
    managed: bool = False

    def join(self, other: Obj) -> Obj:
        """Both possibilities."""
        return replace(self, facts=self.facts | other.facts,
                       amount=self.amount if self.amount == other.amount else None,
                       escaped=self.escaped or other.escaped,
                       managed=self.managed or other.managed)


@dataclass(frozen=True)
class Handles:
    """A value that is one of ``objs`` (or, when ``other``, something untracked)."""

    objs: frozenset[str]
    other: bool = False


@dataclass(frozen=True)
class Tup:
    """A tuple of known length (``b.split(1)`` before it is unpacked)."""

    items: tuple[Value, ...]


@dataclass(frozen=True)
class Closure:
    """A function or lambda defined in this scope (ids of their AST nodes)."""

    defs: frozenset[int]


@dataclass(frozen=True)
class Const:
    """An int known exactly."""

    value: int


Value = Handles | Tup | Closure | Const | None
"""``None``: nothing known (an untracked value)."""


def objects(v: Value) -> frozenset[str]:
    """Every tracked object ``v`` may refer to."""
    if isinstance(v, Handles):
        return v.objs
    if isinstance(v, Tup):
        out: frozenset[str] = frozenset()
        for item in v.items:
            out |= objects(item)
        return out
    return frozenset()


@dataclass
class State:
    """Variables and objects at one program point (mutable while a node is evaluated;
    the solver copies before changing)."""

    env: dict[str, Value]
    objs: dict[str, Obj]

    def copy(self) -> State:
        return State(dict(self.env), dict(self.objs))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, State) and self.env == other.env
                and self.objs == other.objs)

    __hash__ = None  # type: ignore[assignment]


def join_values(a: Value, b: Value, lost: set[str]) -> Value:
    """Either value; objects whose reference cannot be kept precisely go to ``lost``."""
    if a == b:
        return a
    if isinstance(a, Tup) and isinstance(b, Tup) and len(a.items) == len(b.items):
        return Tup(tuple(join_values(x, y, lost) for x, y in zip(a.items, b.items,
                                                                strict=True)))
    if isinstance(a, Closure) and isinstance(b, Closure):
        return Closure(a.defs | b.defs)
    ha = a if isinstance(a, Handles) else None
    hb = b if isinstance(b, Handles) else None
    for v in (a, b):
        if not isinstance(v, Handles):
            lost |= objects(v)
    if ha is None and hb is None:
        return None
    objs = (ha.objs if ha else frozenset()) | (hb.objs if hb else frozenset())
    other = (ha is None or ha.other) or (hb is None or hb.other)
    return Handles(objs, other)


def join(a: State | None, b: State | None) -> State | None:
    """The state of either path (``None`` is unreachable)."""
    if a is None:
        return b
    if b is None:
        return a
    lost: set[str] = set()
    env: dict[str, Value] = {}
    for name in a.env.keys() | b.env.keys():
        v = join_values(a.env.get(name), b.env.get(name), lost)
        if v is not None:
            env[name] = v
    objs = dict(a.objs)
    for key, o in b.objs.items():
        objs[key] = objs[key].join(o) if key in objs else o
    for key in lost:
        if key in objs:
            objs[key] = replace(objs[key], escaped=True)
    return State(env, objs)


def carry(s: State, loop: int) -> State:
    """``s`` along the back edge of ``loop``: consumed facts of that loop become
    facts of an earlier iteration."""
    objs = {}
    for key, o in s.objs.items():
        facts = frozenset(replace(f, carried=True)
                          if isinstance(f, Consumed) and loop in f.loops else f
                          for f in o.facts)
        objs[key] = replace(o, facts=facts) if facts != o.facts else o
    return State(dict(s.env), objs)
