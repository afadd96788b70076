"""The spec format: state variables, an initial state, transitions and invariants.

A spec is a plain value, written the way a TLA+ module is: named state variables,
``Init``, one guard and one update per action, invariants as predicates.  Every
definition is written once, as a Python function over *any* carrier of integers:

* Python ``int`` (lockstep tests, concrete replay),
* NumPy integer arrays (the model checker evaluates a whole frontier at once),
* Z3 integer terms (the proofs).

To stay carrier-neutral, a definition may only use ``+ - * == != < <= > >=`` on
its arguments, and a guard or invariant returns a *tuple of conjuncts* rather than
combining them with ``and`` (which would force a Python ``bool``).  Each consumer
conjoins them in its own carrier: ``all`` for ints, ``numpy.logical_and`` for
arrays, ``z3.And`` for terms.  Nothing here knows about searching or proving.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# A carrier value: int, numpy array or z3 ArithRef.  Kept as Any on purpose: the
# same function must accept all three.
Value = Any
Conjuncts = tuple[Value, ...]
Guard = Callable[..., Conjuncts]
Update = Callable[..., Mapping[str, Value]]
Predicate = Callable[..., Conjuncts]


class SpecError(ValueError):
    """A spec value is malformed (unknown variable, wrong arity, missing part)."""


@dataclass(frozen=True)
class Transition:
    """One parameterised action: ``guard(s, *params)`` and ``update(s, *params)``.

    ``guard`` returns a tuple of conjuncts; ``update`` returns a mapping from the
    variables it changes to their new values (the others are UNCHANGED, as in
    TLA+).  Parameters are natural numbers; the model checker enumerates each
    over ``spec.param_range(b0)``.
    """

    name: str
    params: tuple[str, ...]
    guard: Guard
    update: Update
    doc: str = ""

    def renamed(self, name: str, doc: str | None = None) -> Transition:
        """The same guard and update under another name (e.g. a failure variant)."""
        return replace(self, name=name, doc=self.doc if doc is None else doc)


@dataclass(frozen=True)
class Invariant:
    """A named state predicate ``holds(s, b0)`` returning a tuple of conjuncts."""

    name: str
    holds: Predicate
    doc: str = ""


@dataclass(frozen=True)
class Spec:
    """A complete specification, parameterised by one natural-number bound ``b0``.

    ``init(b0)`` maps every variable to its initial value.  ``param_range(b0)``
    gives the values each transition parameter ranges over when a state space is
    enumerated (``0..b0`` by default, as in a TLC model of ``\\E r \\in 0..B0``).
    ``allow_deadlock`` says whether a reachable state in which no transition is
    enabled is expected (``True``: a terminal state) or a failure (``False``, the
    default, as in TLC).
    """

    name: str
    variables: tuple[str, ...]
    init: Callable[[Value], Mapping[str, Value]]
    transitions: tuple[Transition, ...]
    invariants: tuple[Invariant, ...]
    doc: str = ""
    param_range: Callable[[int], range] = field(default=lambda b0: range(b0 + 1))
    allow_deadlock: bool = False

    def __post_init__(self) -> None:
        if not self.variables:
            raise SpecError(f"spec {self.name!r} declares no state variables")
        if len(set(self.variables)) != len(self.variables):
            raise SpecError(f"spec {self.name!r} declares a state variable twice")
        names = [t.name for t in self.transitions]
        if len(set(names)) != len(names):
            raise SpecError(f"spec {self.name!r} has two transitions with one name")
        if not self.transitions:
            raise SpecError(f"spec {self.name!r} declares no transitions")
        if not self.invariants:
            raise SpecError(f"spec {self.name!r} declares no invariants")

    @property
    def State(self) -> type:  # noqa: N802 - it is a class, named like one
        """The namedtuple class of this spec's states (fields = ``variables``)."""
        return _state_class(self.name, self.variables)

    def transition(self, name: str) -> Transition:
        """The transition called ``name``; ``SpecError`` naming the choices if none."""
        for t in self.transitions:
            if t.name == name:
                return t
        known = ", ".join(t.name for t in self.transitions)
        raise SpecError(f"spec {self.name!r} has no transition {name!r}; it has: {known}")

    def with_transition(self, new: Transition, *, name: str | None = None) -> Spec:
        """A copy of this spec with the transition of the same name replaced by ``new``."""
        self.transition(new.name)  # raises if absent
        ts = tuple(new if t.name == new.name else t for t in self.transitions)
        return replace(self, name=name or self.name, transitions=ts)

    def initial_state(self, b0: Value) -> Any:
        """``Init`` evaluated at ``b0``, as a ``State`` (works for ints and Z3 terms)."""
        values = self.init(b0)
        unknown = set(values) - set(self.variables)
        missing = set(self.variables) - set(values)
        if unknown or missing:
            raise SpecError(
                f"spec {self.name!r}: init must set exactly {self.variables}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        return self.State(**values)

    def successor(self, s: Any, t: Transition, args: Sequence[Value]) -> Any:
        """The state after ``t(*args)`` from ``s`` (the guard is NOT evaluated)."""
        changes = t.update(s, *args)
        bad = set(changes) - set(self.variables)
        if bad:
            raise SpecError(f"{t.name} updates unknown variable(s) {sorted(bad)}")
        return s._replace(**changes)


_STATE_CLASSES: dict[tuple[str, tuple[str, ...]], type] = {}


def _state_class(name: str, variables: tuple[str, ...]) -> type:
    key = (name, variables)
    known: type | None = _STATE_CLASSES.get(key)
    if known is not None:
        return known
    new: type = namedtuple("State", variables)  # type: ignore[misc]
    _STATE_CLASSES[key] = new
    return new


def holds(conjuncts: Conjuncts) -> bool:
    """Conjunction of conjuncts evaluated on Python ints."""
    return all(bool(c) for c in conjuncts)
