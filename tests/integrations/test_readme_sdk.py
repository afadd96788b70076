"""README's SDK quick start and generic-helper example, run verbatim against the local
fake provider (the SDKs read ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from billing import billed_uc
from fakeprovider import FakeProvider

README = Path(__file__).resolve().parents[2] / "README.md"


def block(marker: str) -> str:
    """The README ```python block containing ``marker``."""
    for text in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S):
        if marker in text:
            return str(text)
    raise AssertionError(f"README.md has no python block with {marker!r}")


def test_quick_start_runs_against_the_local_provider(fake: FakeProvider,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.anthropic_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test")
    scope: dict[str, object] = {"__name__": "readme_sdk"}
    exec(compile(block("budgeted_openai.budgeted(OpenAI(), pool)"), "README.md", "exec"), scope)
    out = capsys.readouterr().out
    assert "hello" in out and "refused" in out
    assert fake.requests == 2  # the refused call never reached the server
    led = scope["pool"].ledger()  # type: ignore[attr-defined]
    assert led.total_charged == billed_uc(fake.billed) > 0
    assert led.outstanding_receipts == 0


def test_generic_helper_example_runs() -> None:
    exec(compile(block("budgeted_call(pool"), "README.md", "exec"), {"__name__": "readme"})
