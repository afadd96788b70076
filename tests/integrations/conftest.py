"""Fixtures: a fresh local fake provider per test, and real SDK clients pointed at it
(``max_retries=0`` unless a test asks for retries, short timeouts)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakeprovider import FakeProvider

TIMEOUT = 0.5
"""Client timeout (s): a ``slow`` behaviour of longer than this times out."""


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeProvider]:
    with FakeProvider() as fp:
        yield fp


@pytest.fixture
def fake(fake_server: FakeProvider) -> FakeProvider:
    """The session's fake provider, reset for this test."""
    fake_server.reset()
    return fake_server


_SYNC_CLIENTS: dict[tuple[str, int], Any] = {}


def _client(module: str, fp: FakeProvider, is_async: bool, kw: dict[str, Any]) -> Any:
    import anthropic
    import openai

    if module == "openai":
        cls: Any = openai.AsyncOpenAI if is_async else openai.OpenAI
        url = fp.openai_url
    else:
        cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
        url = fp.anthropic_url
    kw.setdefault("max_retries", 0)
    # Building an SDK client costs ~0.1 s (TLS context); plain sync clients are shared.
    key = (module, fp.port)
    if is_async or kw != {"max_retries": 0}:
        return cls(base_url=url, api_key="test", timeout=TIMEOUT, **kw)
    if key not in _SYNC_CLIENTS:
        _SYNC_CLIENTS[key] = cls(base_url=url, api_key="test", timeout=TIMEOUT, **kw)
    return _SYNC_CLIENTS[key]


def openai_client(fp: FakeProvider, *, is_async: bool = False, **kw: Any) -> Any:
    """A real ``openai`` client of the fake provider (``max_retries=0`` by default)."""
    return _client("openai", fp, is_async, kw)


def anthropic_client(fp: FakeProvider, *, is_async: bool = False, **kw: Any) -> Any:
    """A real ``anthropic`` client of the fake provider (``max_retries=0`` by default)."""
    return _client("anthropic", fp, is_async, kw)


class Steps:
    """The pool's ledger steps, as SPEC.md names with parameters."""

    def __init__(self, pool: Any) -> None:
        self.items: list[tuple[str, dict[str, int]]] = []
        pool.observe(lambda s: self.items.append((s.name, dict(s.params))))

    def names(self) -> list[str]:
        return [n for n, _ in self.items]

    def clear(self) -> None:
        self.items.clear()
