"""A spec, seen by the checker: the bridge between ``spec.Spec`` and ``model.checker``.

``SpecBatchModel`` evaluates the spec's own guard, update and invariant functions
on NumPy arrays: a frontier of states against every parameter choice at once.
``SpecModel`` evaluates the same functions on Python ints, one state at a time
(the reference the fast path is tested against).  Neither re-types the spec.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from model.checker import Rows, Successors
from spec.concrete import step_text
from spec.format import Invariant, Spec, Transition, holds

# Upper bound on (frontier rows x parameter choices) evaluated in one go: keeps
# the temporaries of one vector step near 8 MB whatever the bound.
CHUNK = 1 << 20


def _conjoin(conjuncts: Sequence[Any], shape: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    mask = np.ones(shape, dtype=bool)
    for c in conjuncts:
        mask &= np.asarray(c, dtype=bool)
    return mask


def fires(t: Transition) -> str:
    """The name of the sometimes property "transition ``t`` fires somewhere"."""
    return f"{t.name} fires"


class SpecBatchModel:
    """``spec`` at bound ``b0`` as a ``BatchModel`` (states are int64 rows).

    With ``live`` (the default), every transition must fire somewhere in the explored
    graph: one sometimes property per transition, :func:`fires`.
    """

    def __init__(self, spec: Spec, b0: int, *, live: bool = True) -> None:
        self.spec = spec
        self.b0 = b0
        self.live = live
        self.width = len(spec.variables)
        values = np.array(list(spec.param_range(b0)), dtype=np.int64)
        # every parameter tuple of every transition, as one column per parameter
        self._choices: list[list[npt.NDArray[np.int64]]] = []
        for t in spec.transitions:
            k = len(t.params)
            grid = np.array(list(itertools.product(values, repeat=k)), dtype=np.int64)
            self._choices.append([grid[:, j] for j in range(k)] if k else [])

    def init_rows(self) -> Rows:
        s = self.spec.initial_state(self.b0)
        return np.array([list(s)], dtype=np.int64)

    def expand(self, rows: Rows) -> Iterator[Successors]:
        n = len(rows)
        for ti, t in enumerate(self.spec.transitions):
            cols = self._choices[ti]
            p = len(cols[0]) if cols else 1
            step = max(1, CHUNK // p)
            for lo in range(0, n, step):
                block = rows[lo : lo + step]
                yield self._expand_block(ti, t, block, cols, lo)

    def _expand_block(
        self, ti: int, t: Transition, block: Rows, cols: list[npt.NDArray[np.int64]], lo: int
    ) -> Successors:
        m = len(block)
        p = len(cols[0]) if cols else 1
        s = self.spec.State(*(block[:, j : j + 1] for j in range(self.width)))
        args = [c[np.newaxis, :] for c in cols]
        mask = _conjoin(t.guard(s, *args), (m, p))
        si, pi = np.nonzero(mask)
        src = block[si]
        s1 = self.spec.State(*(src[:, j] for j in range(self.width)))
        new = self.spec.successor(s1, t, [c[pi] for c in cols])
        out = np.empty_like(src)
        for j, v in enumerate(new):
            out[:, j] = v  # a constant update broadcasts
        return Successors(ti, si + lo, pi, out)

    def property_names(self) -> Sequence[str]:
        return [inv.name for inv in self.spec.invariants]

    def sometimes(self) -> Sequence[tuple[str, int]]:
        return [(fires(t), i) for i, t in enumerate(self.spec.transitions)] if self.live else []

    def violations(self, rows: Rows) -> Sequence[npt.NDArray[np.bool_]]:
        s = self.spec.State(*(rows[:, j] for j in range(self.width)))
        return [~_conjoin(inv.holds(s, self.b0), (len(rows),)) for inv in self.spec.invariants]

    def format_action(self, action: int, choice: int) -> str:
        t = self.spec.transitions[action]
        return step_text(self.spec, t.name, [int(c[choice]) for c in self._choices[action]])

    def format_row(self, row: Sequence[int]) -> Any:
        return self.spec.State(*row)


class SpecModel:
    """``spec`` at bound ``b0`` as a one-state-at-a-time ``Model`` over ints (with the
    same sometimes properties as :class:`SpecBatchModel`)."""

    def __init__(self, spec: Spec, b0: int, *, live: bool = True) -> None:
        self.spec = spec
        self.b0 = b0
        self.live = live
        self._values = list(spec.param_range(b0))

    def init_states(self) -> list[Any]:
        return [self.spec.initial_state(self.b0)]

    def actions(self, state: Any) -> Iterator[tuple[Transition, tuple[int, ...]]]:
        for t in self.spec.transitions:
            for args in itertools.product(self._values, repeat=len(t.params)):
                if holds(t.guard(state, *args)):
                    yield t, args

    def next_state(self, state: Any, action: tuple[Transition, tuple[int, ...]]) -> Any:
        t, args = action
        return self.spec.successor(state, t, args)

    def properties(self) -> Sequence[tuple[str, Callable[[Any], bool]]]:
        def predicate(inv: Invariant) -> Callable[[Any], bool]:
            return lambda s: holds(inv.holds(s, self.b0))

        return [(inv.name, predicate(inv)) for inv in self.spec.invariants]

    def sometimes(self) -> Sequence[tuple[str, Callable[[Any, Any, Any], bool]]]:
        def fired(t: Transition) -> Callable[[Any, Any, Any], bool]:
            return lambda s, a, u: a[0] is t

        return [(fires(t), fired(t)) for t in self.spec.transitions] if self.live else []

    def format_action(self, action: tuple[Transition, tuple[int, ...]]) -> str:
        return step_text(self.spec, action[0].name, action[1])
