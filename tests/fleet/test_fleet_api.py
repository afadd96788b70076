"""The SharedPool API on every store: reserve and settle, ids, leases, shares, errors."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import time

import pytest

import impl
from impl.fleet import AMOUNT_LIMIT, Settlement


def fields(pool: impl.SharedPool) -> tuple[int, ...]:
    led = pool.ledger()
    return tuple(getattr(led, f) for f in impl.FIELDS)


def test_reserve_commit_cancel_forfeit_follow_the_ledger(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    assert pool.available == 1000 and pool.cap == 1000
    assert fields(pool) == (1000, 0, 0, 0, 0, 0)
    a, b, c = pool.reserve(300), pool.reserve(200), pool.reserve(100)
    assert len({a.id, b.id, c.id}) == 3 and all(isinstance(x.id, str) for x in (a, b, c))
    assert pool.available == 400 and fields(pool) == (400, 600, 0, 0, 0, 0)
    assert a.commit(120) == Settlement(a.id, "committed", 300, 120)
    assert b.cancel() == Settlement(b.id, "cancelled", 200, 0)
    assert c.forfeit() == Settlement(c.id, "forfeited", 100, None)
    assert fields(pool) == (780, 0, 0, 120, 100, 0)
    assert pool.audit() == impl.fleet.Audit(0, 0, 0)


def test_refusal_changes_nothing_and_names_the_amounts(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 500)
    pool.reserve(400)
    with pytest.raises(impl.InsufficientBudget, match=r"reserve\(200\) refused.*holds 100 uc") as e:
        pool.reserve(200)
    assert (e.value.requested, e.value.available) == (200, 100)
    assert fields(pool) == (100, 400, 0, 0, 0, 0)


def test_settlement_by_id_from_another_handle_is_exactly_once(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    other = impl.SharedPool.open(url, name)
    res = pool.reserve(500)
    first = other.commit(res.id, 300)
    assert other.commit(res.id, 300) == first == res.commit(300)  # retries: same outcome
    assert fields(pool) == (700, 0, 0, 300, 0, 0)
    for wrong in (lambda: other.commit(res.id, 299), lambda: other.cancel(res.id),
                  lambda: pool.forfeit(res.id)):
        with pytest.raises(impl.AlreadySettled, match="already committed at 300 uc"):
            wrong()
    assert fields(pool) == (700, 0, 0, 300, 0, 0)
    x = pool.reserve(100)
    assert other.cancel(x.id) == pool.cancel(x.id)
    with pytest.raises(impl.AlreadySettled, match="already cancelled"):
        other.forfeit(x.id)
    f = pool.reserve(50)
    assert pool.forfeit(f.id) == other.forfeit(f.id) == Settlement(f.id, "forfeited", 50, None)
    with pytest.raises(impl.UnknownReservation, match="no reservation of that id"):
        pool.commit("nosuchid", 1)


def test_reserve_is_idempotent_by_id(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    a = pool.reserve(300, id="job-1")
    again = pool.reserve(300, id="job-1")  # a retry after a lost reply
    assert again.id == a.id == "job-1" and fields(pool) == (700, 300, 0, 0, 0, 0)
    with pytest.raises(impl.AlreadySettled, match="already names a reservation of 300 uc"):
        pool.reserve(301, id="job-1")
    a.cancel()
    with pytest.raises(impl.AlreadySettled, match="already cancelled"):
        pool.reserve(300, id="job-1")
    assert fields(pool) == (1000, 0, 0, 0, 0, 0)


def test_charge_above_the_reservation_leaves_it_open(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    res = pool.reserve(100)
    with pytest.raises(impl.ChargeExceedsReservation, match="actual=101 exceeds"):
        res.commit(101)
    assert fields(pool) == (900, 100, 0, 0, 0, 0)
    assert res.commit(100).actual == 100


def test_lapsed_lease_is_forfeited_and_later_settlements_refused(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    res = pool.reserve(100, lease=0.05)
    keep = pool.reserve(10, lease=60)
    time.sleep(0.2)
    assert pool.expire() == 1 and pool.expire() == 0
    assert fields(pool) == (890, 10, 0, 0, 100, 0)
    for settle in (lambda: res.commit(50), res.cancel, lambda: pool.commit(res.id, 0)):
        with pytest.raises(impl.LeaseExpired, match="expired and it was forfeited") as e:
            settle()
        assert (e.value.id, e.value.amount) == (res.id, 100)
    assert res.forfeit() == Settlement(res.id, "expired", 100, None)
    assert fields(pool) == (890, 10, 0, 0, 100, 0)
    keep.commit(10)


def test_any_operation_forfeits_lapsed_leases(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    seen: list[impl.Step] = []
    pool.observe(seen.append)
    pool.reserve(70, lease=0.05)
    time.sleep(0.2)
    assert pool.available == 930  # the read forfeits it first
    assert [repr(s) for s in seen] == ["reserve(r=70)", "forfeit(r=70)"]
    assert pool.ledger().total_unrecoverable == 70


def test_with_block_forfeits_what_is_left_unsettled(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    with pool.reserve(100) as res:
        pass
    assert res.outcome is not None and res.outcome.state == "forfeited"
    with pytest.raises(RuntimeError), pool.reserve(50):
        raise RuntimeError("the call failed")
    with pool.reserve(30) as ok:
        ok.commit(20)
    assert fields(pool) == (830, 0, 0, 20, 150, 0)


def test_shares_split_reserve_merge_inside_one_ledger(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    tenant = pool.split("tenant-a", 300)
    assert (tenant.available, pool.available) == (300, 700)
    assert fields(pool) == (1000, 0, 0, 0, 0, 0)  # a split is a stutter
    res = tenant.reserve(250)
    with pytest.raises(impl.InsufficientBudget, match=r"share 'tenant-a'.*holds 50 uc"):
        tenant.reserve(100)  # the pool has 700 more, the share does not
    res.commit(100)  # the refund goes back to the share
    assert (tenant.available, pool.available) == (200, 700)
    with pytest.raises(impl.InsufficientBudget, match="outside its shares"):
        pool.split("tenant-b", 701)
    assert pool.merge("tenant-a") == 200
    assert pool.available == 900 and fields(pool) == (900, 0, 0, 100, 0, 0)
    with pytest.raises(impl.PoolNotFound, match="no share"):
        tenant.reserve(1)
    assert pool.audit().shares == 0


def test_merge_with_open_reservations_refunds_to_the_pool(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    tenant = pool.split("t", 100)
    res = tenant.reserve(60)
    assert pool.merge("t") == 40
    res.cancel()
    assert pool.available == 1000 and fields(pool) == (1000, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("bad, error", [
    (0, impl.InvalidAmount), (-5, impl.InvalidAmount), (AMOUNT_LIMIT, impl.InvalidAmount),
    (1.5, impl.AmountTypeError), (True, impl.AmountTypeError), ("10", impl.AmountTypeError)])
def test_invalid_amounts_are_refused_before_the_store(url: str, name: str, bad: object,
                                                      error: type[Exception]) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    with pytest.raises(error):
        pool.reserve(bad)  # type: ignore[arg-type]
    with pytest.raises(error):
        pool.split("s", bad)  # type: ignore[arg-type]
    assert fields(pool) == (1000, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("lease", [0, -1, float("nan"), float("inf"), "5", 10**9])
def test_invalid_leases_are_refused(url: str, name: str, lease: object) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    with pytest.raises(impl.fleet.InvalidLease, match="lease must be a number of seconds"):
        pool.reserve(1, lease=lease)  # type: ignore[arg-type]
    assert pool.available == 1000


def test_create_and_open_are_explicit(url: str, name: str) -> None:
    with pytest.raises(impl.PoolNotFound, match="not found"):
        impl.SharedPool.open(url, name)
    impl.SharedPool.create(url, name, 10)
    with pytest.raises(impl.PoolExists, match="already exists"):
        impl.SharedPool.create(url, name, 10)
    for bad in ("", "a b", "x" * 65, 5):
        with pytest.raises(impl.fleet.InvalidName):
            impl.SharedPool.open(url, bad)  # type: ignore[arg-type]
    assert isinstance(impl.StoreUnavailable("x"), impl.BudgetError)
    assert issubclass(impl.PoolNotFound, impl.BudgetError)
    assert issubclass(impl.LeaseExpired, impl.BudgetError)


def test_pool_pickles_as_a_reference_to_the_store(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 1000)
    tenant = pool.split("t", 10)
    copy, tcopy = pickle.loads(pickle.dumps((pool, tenant)))
    copy.reserve(5)
    assert pool.available == 985 and tcopy.available == 10 and tcopy.share_name == "t"


def test_asyncio_callers_are_not_blocked(url: str, name: str) -> None:
    pool = impl.SharedPool.create(url, name, 10_000)

    async def main() -> tuple[int, int]:
        ticks = 0
        stop = False

        async def heartbeat() -> None:
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        beat = asyncio.create_task(heartbeat())

        async def worker() -> None:
            for _ in range(5):
                res = await pool.areserve(10)
                await pool.acommit(res.id, 7)

        await asyncio.gather(*(worker() for _ in range(4)))
        stop = True
        await beat
        return ticks, (await pool.aledger()).total_charged

    ticks, charged = asyncio.run(main())
    assert charged == 4 * 5 * 7
    assert ticks > 20  # the loop kept running while store calls were in flight


def test_import_impl_loads_no_driver_and_a_missing_driver_names_the_extra() -> None:
    code = (
        "import sys, impl\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('psycopg', 'redis')]\n"
        "sys.modules['psycopg'] = None\n"
        "try:\n"
        "    impl.SharedPool.open('postgresql://127.0.0.1:1/x', 'p')\n"
        "except impl.fleet.MissingDriver as e:\n"
        "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "pip install" in out and "[postgres]" in out
