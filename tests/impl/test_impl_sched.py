"""The concurrency-explorer hook: every lock comes from impl._sched.new_lock()."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import impl
from impl import _sched

IMPL = Path(impl.__file__).parent


class CountingLock:
    """A lock that counts its acquisitions (stands in for an explorer's lock)."""

    created = 0

    def __init__(self) -> None:
        CountingLock.created += 1
        self._lock = threading.RLock()
        self.acquisitions = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        self.acquisitions += got
        return got

    def release(self) -> None:
        self._lock.release()

    def _is_owned(self) -> bool:
        return self._lock._is_owned()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def test_default_is_a_plain_rlock() -> None:
    assert _sched.lock_factory() is None
    assert type(_sched.new_lock()) is type(threading.RLock())


def test_factory_is_resolved_at_construction() -> None:
    before = impl.BudgetPool(10)
    previous = _sched.set_lock_factory(CountingLock)
    try:
        CountingLock.created = 0
        s = impl.Session(100)
        p = impl.BudgetPool(100)
        assert CountingLock.created == 2
        assert isinstance(s._lock, CountingLock) and isinstance(p._lock, CountingLock)
        assert not isinstance(before._lock, CountingLock)
        b, rc = s.take().reserve(10)
        b = rc.confirm(5).apply_to(b)
        p.reserve(5).commit(1)
        s.ledger()
        assert CountingLock.created == 2  # no lock per operation
        assert s._lock.acquisitions == 5 and p._lock.acquisitions == 2  # take..ledger
    finally:
        assert _sched.set_lock_factory(previous) is CountingLock
    assert _sched.lock_factory() is None
    assert not isinstance(impl.Session(1)._lock, CountingLock)


def test_no_other_synchronization_primitive_in_impl() -> None:
    """impl creates locks only through _sched.new_lock, and never imports spec/model/proofs."""
    for path in IMPL.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                        else [node.module or ""])
                for m in mods:
                    assert m.split(".")[0] not in {"spec", "model", "proofs"}, path
                    assert m not in {"asyncio", "queue", "multiprocessing"}, path
                    if m == "threading":
                        assert path.name == "_sched.py", path
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "threading":
                    assert path.name == "_sched.py" and node.attr == "RLock", (path, node.attr)
