"""The controlled scheduler on tiny hand-countable programs (no budget code)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Hashable, Mapping
from functools import partial
from math import factorial
from typing import ClassVar

import pytest

from impl import _sched
from model.interleave import (
    BaseInstance,
    ExplorerError,
    Outcome,
    ReplayDivergence,
    Stalled,
    UsageError,
    Verdict,
    ajoin,
    coroutine,
    explore,
    join,
    new_lock,
    point,
    replay,
    thread,
)


def multinomial(*parts: int) -> int:
    out = factorial(sum(parts))
    for p in parts:
        out //= factorial(p)
    return out


class Points(BaseInstance):
    """``n`` tasks, each logging then hitting ``p`` points; records the order."""

    seen: ClassVar[set[tuple[tuple[int, int], ...]]] = set()

    def __init__(self, n: int, p: int, kinds: str = "t") -> None:
        super().__init__()
        self.log: list[tuple[int, int]] = []
        for i in range(n):
            if kinds[i % len(kinds)] == "t":
                self.add(thread(f"t{i}", partial(self._sync, i, p)))
            else:
                self.add(coroutine(f"t{i}", partial(self._async, i, p)))

    def _sync(self, i: int, p: int) -> int:
        for k in range(p):
            self.log.append((i, k))
            point("p")
        self.log.append((i, p))
        return i

    async def _async(self, i: int, p: int) -> int:
        for k in range(p):
            self.log.append((i, k))
            await point("p")
        self.log.append((i, p))
        return i

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        Points.seen.add(tuple(self.log))
        return Verdict(measures={"first": self.log[0][0]})


@pytest.mark.parametrize("kinds", ["t", "a", "ta"])
@pytest.mark.parametrize(("n", "p"), [(2, 1), (2, 2), (3, 1), (2, 3)])
def test_every_schedule_exactly_once(n: int, p: int, kinds: str) -> None:
    # A task with p points has p + 1 steps (its start is a scheduling point too):
    # 2 tasks x 1 point = C(4, 2) = 6 schedules, 2 x 2 = C(6, 3) = 20, 3 x 1 = 90.
    Points.seen = set()
    ex = explore(lambda: Points(n, p, kinds), reduction=False)
    want = multinomial(*[p + 1] * n)
    assert ex.ok
    assert ex.runs == ex.schedules == ex.complete_runs == want
    assert len(Points.seen) == want  # all distinct: every interleaving, once each
    assert ex.stat("first").lo == 0 and ex.stat("first").hi == n - 1


def test_state_caching_counts_exactly() -> None:
    plain = explore(lambda: Points(3, 2), reduction=False)
    # Points has no fingerprint: nothing is cached, the counts are the same
    cached = explore(lambda: Points(3, 2), reduction=True)
    assert plain.schedules == cached.schedules == multinomial(3, 3, 3)
    assert cached.states == 0


class Counter(BaseInstance):
    """Two tasks increment a shared counter: racy (read, point, write) or locked."""

    def __init__(self, locked: bool, kinds: str = "tt", cache: bool = True) -> None:
        super().__init__()
        self.locked = locked
        self.cache = cache
        self.value = 0
        self.inside = 0
        self.lock = new_lock("counter")
        self.done = [False, False]
        for i, k in enumerate(kinds):
            if k == "t":
                self.add(thread(f"t{i}", partial(self._inc, i)))
            else:
                self.add(coroutine(f"t{i}", partial(self._ainc, i)))

    def _body(self, i: int) -> None:
        if self.locked:
            self.lock.acquire()
        self.inside += 1
        v = self.value
        point("between read and write")
        self.value = v + 1
        self.inside -= 1
        if self.locked:
            self.lock.release()
        self.done[i] = True

    def _inc(self, i: int) -> None:
        self._body(i)

    async def _ainc(self, i: int) -> None:
        self._body(i)  # synchronous pauses: the coroutine keeps the event loop

    def check_step(self) -> str | None:
        if self.locked and self.inside > 1:
            return "two tasks inside the critical section"
        return None

    def fingerprint(self) -> Hashable | None:
        return (self.value, self.inside, tuple(self.done)) if self.cache else None

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        problems = [] if self.value == 2 else [f"lost update: value={self.value}"]
        return Verdict(problems, {"value": self.value})


def test_lock_gives_mutual_exclusion_in_every_schedule() -> None:
    ex = explore(lambda: Counter(locked=True), reduction=False)
    assert ex.ok and ex.schedules > 1
    assert ex.stat("value").lo == 2


def test_lost_update_found_and_replayed() -> None:
    ex = explore(lambda: Counter(locked=False))
    v = ex.violation
    assert v is not None and v.kind == "assertion" and "lost update" in v.message
    lines = v.render()
    assert lines[2].strip().startswith("1. (t")  # numbered (task, step) list
    rec = replay(lambda: Counter(locked=False), v.schedule)
    assert rec.end == "complete"
    assert rec.violation is not None and rec.violation.message == v.message
    assert rec.schedule == v.schedule
    # the printed (task, step) pairs replay too
    rec2 = replay(lambda: Counter(locked=False), [(s.task, s.k) for s in v.steps])
    assert rec2.violation is not None and rec2.violation.message == v.message


def test_coroutines_do_not_interleave_inside_synchronous_code() -> None:
    # Two coroutines: their synchronous read/point()/write cannot be split by the
    # other coroutine (one event loop), so the racy counter never loses an update...
    ex = explore(lambda: Counter(locked=False, kinds="aa"), reduction=False)
    assert ex.ok and ex.stat("value").lo == 2
    # ...but a thread can run in the middle of a coroutine's synchronous code.
    ex = explore(lambda: Counter(locked=False, kinds="at"), reduction=False)
    assert ex.violation is not None and "lost update" in ex.violation.message


def test_state_caching_matches_brute_force_with_locks() -> None:
    for kinds in ("tt", "ta", "aa"):
        plain = explore(partial(Counter, True, kinds, cache=False), reduction=False)
        cached = explore(partial(Counter, True, kinds), reduction=True)
        assert plain.ok and cached.ok
        assert plain.schedules == cached.schedules
        assert plain.stats == cached.stats
        assert cached.runs <= plain.runs


class Inversion(BaseInstance):
    """Two threads take two locks in opposite orders."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = new_lock("a"), new_lock("b")
        self.add(thread("ab", lambda: self._two(self.a, self.b)))
        self.add(thread("ba", lambda: self._two(self.b, self.a)))

    @staticmethod
    def _two(x: object, y: object) -> None:
        with x, y:  # type: ignore[attr-defined]
            pass


def test_deadlock_is_a_failure_with_a_replayable_schedule() -> None:
    base = threading.active_count()
    ex = explore(Inversion)
    v = ex.violation
    assert v is not None and v.kind == "deadlock"
    assert "waits for" in v.message
    rec = replay(Inversion, v.schedule)
    assert rec.end == "deadlock" and rec.violation is not None
    assert threading.active_count() == base  # the blocked tasks were unwound


class Joins(BaseInstance):
    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.got: list[object] = []
        self.add(thread("child", self._child))
        self.add(thread("parent", self._parent))
        self.add(coroutine("watcher", self._watch))

    def _child(self) -> int:
        point("work")
        if self.fail:
            raise ValueError("child failed")
        return 7

    def _parent(self) -> object:
        try:
            self.got.append(join("child"))
        except ValueError as e:
            self.got.append(repr(e))
        return "parent done"

    async def _watch(self) -> object:
        return await ajoin("parent")

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        return Verdict(measures={"n": len(self.got)})


def test_join_waits_and_exceptions_are_captured() -> None:
    results: list[Mapping[str, Outcome]] = []

    class Recording(Joins):
        def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
            results.append(dict(outcomes))
            return super().finish(outcomes)

    ex = explore(lambda: Recording(fail=True), reduction=False)
    assert ex.ok and ex.schedules > 1
    for out in results:
        assert isinstance(out["child"].error, ValueError)
        assert out["parent"].value == "parent done"
        assert out["watcher"].value == "parent done"


class Misuse(BaseInstance):
    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how
        self.add(coroutine("c", self._c))

    async def _c(self) -> None:
        if self.how == "unawaited":
            point("forgot the await")
        else:
            await asyncio.sleep(0)

    def finish(self, outcomes: Mapping[str, Outcome]) -> Verdict:
        err = outcomes["c"].error
        return Verdict([] if isinstance(err, UsageError) else [f"got {err!r}"])


@pytest.mark.parametrize("how", ["unawaited", "foreign await"])
def test_misuse_is_reported_in_the_task(how: str) -> None:
    assert explore(lambda: Misuse(how)).ok


def test_stalled_task_is_reported() -> None:
    real = threading.Lock()
    real.acquire()

    class Stuck(BaseInstance):
        def __init__(self) -> None:
            super().__init__()
            self.add(thread("stuck", lambda: real.acquire()))

    with pytest.raises(Stalled, match="does not control"):
        explore(Stuck, stall_timeout=0.3)
    real.release()  # let the stuck thread finish: it unwinds, then exits
    for t in threading.enumerate():
        if t.name.startswith("interleave-"):
            t.join(5)
            assert not t.is_alive()


def test_nondeterminism_is_detected() -> None:
    flips = iter(range(10**6))

    class Flaky(BaseInstance):
        def __init__(self) -> None:
            super().__init__()
            n = next(flips)
            self.add(thread("a", lambda: point()))
            self.add(thread("b", lambda: point()))
            if n % 2:
                self.add(thread("c", lambda: None))

    with pytest.raises(ExplorerError):
        explore(Flaky, reduction=False)
    with pytest.raises(ReplayDivergence):
        replay(lambda: Points(2, 1), ["t0", "t0", "t0"])


def test_points_are_no_ops_outside_the_explorer() -> None:
    async def main() -> int:
        await point("llm call")
        return 1

    assert asyncio.run(main()) == 1
    assert point("x") is not None
    assert isinstance(new_lock(), type(threading.Lock()))


def test_hooks_restored_and_no_thread_left() -> None:
    base = threading.active_count()
    explore(lambda: Counter(locked=False))  # stops on a violation, mid-search
    explore(lambda: Counter(locked=True))
    assert _sched.lock_factory() is None
    assert threading.active_count() == base
    assert not [t for t in threading.enumerate() if t.name.startswith("interleave-")]


def test_max_runs_truncates() -> None:
    ex = explore(lambda: Points(3, 2), reduction=False, max_runs=5)
    assert ex.truncated and not ex.ok and ex.runs == 5


class Asymmetric(BaseInstance):
    """Two threads run the same code; exactly one reservation fits; only task0 does
    more work after succeeding.  "task0 got it" and "task1 got it" pause at the same
    line with the same ledger: only the exception in flight (a refusal) tells them
    apart, so the state key must include it."""

    def __init__(self) -> None:
        import impl

        super().__init__()
        self.pool = impl.BudgetPool(10)
        self.done = [0, 0]
        for i in range(2):
            self.add(thread(f"t{i}", partial(self._go, i)))

    def _go(self, i: int) -> None:
        import impl

        try:
            self.pool.reserve(10).commit(10)
        except impl.InsufficientBudget:
            pass
        else:
            if i == 0:
                point("extra work")
                point("more work")
        self.done[i] = 1

    def fingerprint(self) -> Hashable | None:
        led = self.pool.ledger()
        return (led.live_sum, led.total_charged, tuple(self.done))


def test_state_key_tells_a_refusal_from_a_success() -> None:
    plain = explore(Asymmetric, reduction=False)
    cached = explore(Asymmetric, reduction=True)
    assert cached.schedules == plain.schedules
    assert cached.runs < plain.runs
