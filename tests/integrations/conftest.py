"""Fixtures: the local fake provider, one per session, reset for every test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakeprovider import FakeProvider


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeProvider]:
    with FakeProvider() as fp:
        yield fp


@pytest.fixture
def fake(fake_server: FakeProvider) -> FakeProvider:
    """The session's fake provider, reset for this test."""
    fake_server.reset()
    return fake_server
