"""Real SDK clients of the fake provider, and the pool's steps, for the test modules
(imported by name: ``conftest`` is not importable reliably when several folders have one)."""

from __future__ import annotations

from typing import Any

from fakeprovider import FakeProvider

TIMEOUT = 0.5
"""Client timeout (s): a ``slow`` behaviour of longer than this times out."""


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
    """The pool's ledger steps, as SEMANTICS.md names with parameters."""

    def __init__(self, pool: Any) -> None:
        self.items: list[tuple[str, dict[str, int]]] = []
        pool.observe(lambda s: self.items.append((s.name, dict(s.params))))

    def names(self) -> list[str]:
        return [n for n, _ in self.items]

    def clear(self) -> None:
        self.items.clear()
