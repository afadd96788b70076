"""Thread races: one handle used by two threads, many threads hammering one pool or
session; conservation, cap soundness and a legal step order checked at the end."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

import impl


@pytest.fixture(autouse=True)
def _fast_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # make the interpreter switch threads very often
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _race(first: Callable[[], object], second: Callable[[], object]
          ) -> list[tuple[str, object]]:
    """Run both at once (a barrier releases them together); return (outcome, result)s."""
    barrier = threading.Barrier(2)
    out: list[tuple[str, object]] = [("", None), ("", None)]

    def run(i: int, fn: Callable[[], object]) -> None:
        barrier.wait()
        try:
            out[i] = ("ok", fn())
        except impl.AffineViolation:
            out[i] = ("affine", None)

    ts = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate((first, second))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(o for o, _ in out) == ["affine", "ok"], out
    return out


def _winner(out: list[tuple[str, object]]) -> Any:
    return next(v for o, v in out if o == "ok")


ROUNDS = 150


def test_two_threads_one_budget_exactly_one_succeeds(recorder) -> None:
    s = impl.Session(ROUNDS * 10)
    rec = recorder(s)
    b = s.take()
    for _ in range(ROUNDS):
        mine, b = b.split(10)
        _race(partial(mine.spend, 7, charged=5), partial(mine.split, 3))
    led = rec.check()
    spends = rec.names().count("spend_success")
    assert led.total_charged == 5 * spends
    assert led.total == s.cap


def test_two_threads_one_receipt_and_one_refund(recorder) -> None:
    s = impl.Session(ROUNDS * 10)
    rec = recorder(s)
    b = s.take()
    for _ in range(ROUNDS):
        b, rc = b.reserve(10)
        rf = _winner(_race(partial(rc.confirm, 4), rc.forfeit))
        if rf is not None:
            x, y = b.split(0)
            b = _merge_live(_winner(_race(partial(rf.apply_to, x), partial(rf.apply_to, y))),
                            x, y)
    led = rec.check()
    assert led.outstanding_receipts == 0 and led.outstanding_refunds == 0


def _merge_live(result: impl.Budget, x: impl.Budget, y: impl.Budget) -> impl.Budget:
    """Merge the race's result with whichever of x, y was not consumed."""
    for other in (x, y):
        try:
            return result.merge(other)
        except impl.AffineViolation:
            continue
    raise AssertionError("both handles consumed")


def test_two_threads_one_reservation() -> None:
    p = impl.BudgetPool(100)
    for _ in range(ROUNDS):
        res = p.reserve(10)
        _race(partial(res.commit, 3), res.cancel)
    led = p.ledger()
    assert led.outstanding_receipts == 0 and led.total == 100
    assert led.live_sum + led.total_charged == 100


def test_threads_hammering_one_pool(recorder) -> None:
    cap, threads, ops = 500, 8, 1500
    p = impl.BudgetPool(cap)
    rec = recorder(p)
    charged = [0] * threads
    unrecoverable = [0] * threads
    refused = [0] * threads
    snapshots: list[impl.Ledger] = []
    stop = threading.Event()

    def worker(i: int) -> None:
        rnd = random.Random(i)
        for _ in range(ops):
            r = rnd.randint(1, 60)
            try:
                res = p.reserve(r)
            except impl.InsufficientBudget:
                refused[i] += 1
                continue
            k = rnd.random()
            if k < 0.6:
                c = rnd.randint(0, r)
                res.commit(c)
                charged[i] += c
            elif k < 0.8:
                res.cancel()
            elif k < 0.9:
                res.forfeit()
                unrecoverable[i] += r
            else:
                with res:  # unresolved at exit: forfeited
                    unrecoverable[i] += r

    def monitor() -> None:
        while not stop.is_set():
            snapshots.append(p.ledger())

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    mon = threading.Thread(target=monitor)
    mon.start()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.set()
    mon.join()
    led = rec.check()  # every step replayed legally, in the order applied
    assert led == impl.Ledger(cap - sum(charged) - sum(unrecoverable), 0, 0, sum(charged),
                              sum(unrecoverable), 0)
    assert sum(refused) > 0  # the pool was contended enough to refuse
    assert rec.names().count("spend_insufficient") == sum(refused)
    assert snapshots
    for snap in snapshots:
        assert snap.total == cap and snap.total_charged <= cap and snap.live_sum >= 0


def test_threads_on_split_budgets_of_one_session(recorder) -> None:
    cap, threads = 40_000, 6
    s = impl.Session(cap)
    rec = recorder(s)
    root = s.take()
    parts: list[impl.Budget] = []
    for _ in range(threads - 1):
        part, root = root.split(cap // threads)
        parts.append(part)
    parts.append(root)
    results: list[impl.Budget | None] = [None] * threads

    def worker(i: int, b: impl.Budget) -> None:
        rnd = random.Random(100 + i)
        for _ in range(400):
            r = rnd.randint(1, 40)
            try:
                k = rnd.random()
                if k < 0.4:
                    b, rc = b.reserve(r)
                    b = rc.confirm(rnd.randint(0, r)).apply_to(b)
                elif k < 0.6:
                    b = b.spend(r, charged=rnd.randint(0, r), failed=rnd.random() < 0.2)
                elif k < 0.8:
                    b, st = b.reserve_stream(r)
                    st.confirm_chunk(rnd.randint(0, r))
                    b = st.close().apply_to(b)
                else:
                    x, y = b.split(rnd.randint(0, b.available))
                    b = y.merge(x)
            except impl.InsufficientBudget:
                pass
        results[i] = b

    ts = [threading.Thread(target=worker, args=(i, b)) for i, b in enumerate(parts)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    merged = results[0]
    assert merged is not None
    for other in results[1:]:
        assert other is not None
        merged = merged.merge(other)
    led = rec.check()
    assert merged.available == led.live_sum
    assert led.outstanding_receipts == 0 and led.outstanding_refunds == 0
