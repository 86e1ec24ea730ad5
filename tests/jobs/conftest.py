"""Job tests: a fresh metadata database per test (SQLite, or PostgreSQL where a test asks for both)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from carbon254.jobs import JobState
from carbon254.metadata import MetadataDatabase

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of this test's own, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'metadata.db'}"


@pytest.fixture
def state(any_url: str) -> Iterator[JobState]:
    db = MetadataDatabase(any_url)
    yield JobState(db)
    db.close()


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    path = tmp_path / "markers"
    path.mkdir()
    return path
