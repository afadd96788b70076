"""Fixtures of the fleet tests: a store URL per backend, a fresh pool name."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_stores import BACKENDS, cleanup, store_url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(backend: str, tmp_path: Path) -> str:
    """This run's store URL for ``backend`` (parametrized over the three stores)."""
    return store_url(backend, tmp_path)


@pytest.fixture
def name() -> str:
    """A pool name no other test uses."""
    return f"p{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    cleanup()
