"""State caching stays exact when a paused frame holds values on its evaluation stack.

In ``self.x = self.shared + self._locked_read()`` the value of ``self.shared`` is
read before the call pauses at the lock: it lives on the frame's evaluation stack,
not in a local.  A key that left it out merged states with different futures (the
reduced search then disagreed with brute force on outcomes, and, when the value
decides a branch, on the number of schedules).  These tests compare reduced and
brute-force exploration on that example and on random small programs with locks and
shared reads.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Mapping
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.interleave import (
    BaseInstance,
    Outcome,
    ScheduleSearch,
    Verdict,
    explore,
    new_lock,
    point,
    thread,
)
from model.interleave import stack as stack_module
from model.interleave.stack import pending_depth, stack_values


class StackValue(BaseInstance):
    """A reader computes ``shared + locked_read()`` while a writer updates ``shared``
    under the lock; with ``branch``, the sum decides whether the reader does more."""

    def __init__(self, branch: bool) -> None:
        super().__init__()
        self.shared = 0
        self.x = 0
        self.lock = new_lock("l")
        self.add(thread("reader", partial(self._reader, branch)))
        self.add(thread("writer", self._writer))

    def _locked_read(self) -> int:
        with self.lock:
            return 1

    def _reader(self, branch: bool) -> None:
        if branch:
            if self.shared + self._locked_read() > 2:
                point("a")
                point("b")
            return
        self.x = self.shared + self._locked_read()

    def _writer(self) -> None:
        for v in (1, 2, 3):
            with self.lock:
                self.shared = v

    def fingerprint(self) -> Hashable:
        return (self.shared, self.x)

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        return Verdict(measures={f"x={v}": self.x == v for v in range(5)})


def _same(reduced: ScheduleSearch, brute: ScheduleSearch) -> None:
    assert reduced.ok and brute.ok
    assert reduced.schedules == brute.schedules
    assert dict(reduced.stats) == dict(brute.stats)


@pytest.mark.parametrize("branch", [False, True])
def test_a_value_on_the_evaluation_stack_is_part_of_the_state(branch: bool) -> None:
    reduced = explore(lambda: StackValue(branch), reduction=True)
    brute = explore(lambda: StackValue(branch), reduction=False)
    _same(reduced, brute)
    assert reduced.runs < brute.runs  # the reduction still reduces
    assert brute.schedules == (156 if branch else 120)


def test_without_the_stack_values_the_reduction_is_wrong(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The seeded bug: a key blind to the evaluation stack (as before) merges states
    whose futures differ, and the comparison above catches it."""
    monkeypatch.setattr("model.interleave.keys.stack_values", lambda frame: ())
    reduced = explore(lambda: StackValue(True), reduction=True)
    brute = explore(lambda: StackValue(True), reduction=False)
    assert reduced.schedules != brute.schedules


def test_stack_values_reads_what_the_caller_has_pending() -> None:
    seen: list[tuple[object, ...] | None] = []

    def inner() -> int:
        seen.append(stack_values(sys._getframe(1)))
        return 1

    def outer(a: int, b: int) -> int:
        return a + (b * 10) + inner()

    assert outer(7, 3) == 38
    assert seen == [(37,)]


def test_an_instruction_it_does_not_know_gives_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the stack cannot be told, the state is not cached (never guessed)."""
    def caller() -> int:
        return 5 + probe()

    got: list[object] = []

    def probe() -> int:
        got.append(stack_values(sys._getframe(1)))
        return 0

    caller()
    assert got == [(5,)]
    monkeypatch.setattr(stack_module, "_OPERANDS", {})
    monkeypatch.setattr(stack_module, "_operands", lambda ins: None)
    pending_depth.cache_clear()
    try:
        got.clear()
        caller()
        assert got == [None]
    finally:
        pending_depth.cache_clear()


# ---------------------------------------------------------------------------------
# Random small programs: two or three threads, shared cells, one lock.

Op = tuple[str, int, int, int]
OPS = st.tuples(st.sampled_from(["sum_locked", "branch_locked", "write", "write_locked",
                                 "read_point_write", "point"]),
                st.integers(0, 1), st.integers(0, 1), st.integers(0, 3))


class Program(BaseInstance):
    """Each task runs its ops in order; every op reads or writes the shared cells in
    a way that pauses mid-expression, under the lock, or between a read and a write."""

    def __init__(self, tasks: tuple[tuple[Op, ...], ...]) -> None:
        super().__init__()
        self.s = [0, 0]
        self.r = [0] * len(tasks)
        self.lock = new_lock("cells")
        for i, ops in enumerate(tasks):
            self.add(thread(f"t{i}", partial(self._run, i, ops)))

    def _locked(self, j: int) -> int:
        with self.lock:
            return self.s[j]

    def _run(self, i: int, ops: tuple[Op, ...]) -> None:
        for name, k, j, c in ops:
            if name == "sum_locked":
                self.r[i] = self.s[k] + self._locked(j)
            elif name == "branch_locked":
                if self.s[k] + self._locked(j) > c:
                    point("taken")
                    self.r[i] += 1
            elif name == "write":
                self.s[k] = c
                point("written")
            elif name == "write_locked":
                with self.lock:
                    self.s[k] = self.s[j] + c
            elif name == "read_point_write":
                v = self.s[k]
                point("between")
                self.s[j] = v + c
            else:
                point("idle")

    def fingerprint(self) -> Hashable:
        return (tuple(self.s), tuple(self.r))

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        measures = {f"r{i}": v for i, v in enumerate(self.r)}
        measures.update({f"s{k}": v for k, v in enumerate(self.s)})
        return Verdict(measures=measures)


#: Two tasks of one or two ops, or three tasks of one op: brute force stays at a few
#: hundred to a few thousand schedules per program.
PROGRAMS = st.one_of(
    st.tuples(*[st.lists(OPS, min_size=1, max_size=2).map(tuple)] * 2),
    st.tuples(*[st.tuples(OPS)] * 3),
)


@settings(max_examples=300 if settings.get_current_profile_name() == "exhaustive" else 20,
          deadline=None)
@given(PROGRAMS)
def test_reduced_equals_brute_force_on_random_programs(
        tasks: tuple[tuple[Op, ...], ...]) -> None:
    reduced = explore(lambda: Program(tasks), reduction=True)
    brute = explore(lambda: Program(tasks), reduction=False)
    _same(reduced, brute)


def test_the_random_programs_find_the_blind_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The smallest program the property test shrinks to when the key is blind to the
    evaluation stack: a locked sum against a locked write."""
    tasks: tuple[tuple[Op, ...], ...] = ((("sum_locked", 0, 0, 0),),
                                         (("write_locked", 0, 0, 1),))
    _same(explore(lambda: Program(tasks), reduction=True),
          explore(lambda: Program(tasks), reduction=False))
    monkeypatch.setattr("model.interleave.keys.stack_values", lambda frame: ())
    reduced = explore(lambda: Program(tasks), reduction=True)
    brute = explore(lambda: Program(tasks), reduction=False)
    assert dict(reduced.stats) != dict(brute.stats)
