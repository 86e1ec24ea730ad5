"""Fleet screen tests: a store of hand-solvable nodes, a local pool, and a job state on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from screen_data import write_nodes

from carbon254.compute import LocalExecutor
from carbon254.config import Settings
from carbon254.jobs import JobState
from carbon254.metadata import MetadataDatabase
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("screen-data")
    write_nodes(path)
    return path


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="module")
def executor() -> Iterator[LocalExecutor]:
    pool = LocalExecutor(2)
    yield pool
    pool.close()


@pytest.fixture
def objects(settings: Settings) -> ObjectStore:
    return open_object_store(settings.object_store, data_dir=settings.data_dir, s3_endpoint=None)


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobState]:
    """A job state in an empty metadata database of this test's own, on SQLite and on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("fresh_postgres_url")
    db = MetadataDatabase(url)
    yield JobState(db)
    db.close()
