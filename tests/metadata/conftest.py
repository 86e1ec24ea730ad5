"""Every metadata test runs on SQLite and on the real PostgreSQL (a schema per test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carbon254.metadata import MetadataDatabase

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="module", params=BACKENDS)
def metadata_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A URL shared by a module's tests: a SQLite file, or a PostgreSQL schema of the module's own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('metadata') / 'metadata.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="module")
def db(metadata_url: str) -> Iterator[MetadataDatabase]:
    """The migrated metadata database; tests use unique tenant names, so they do not see each other."""
    database = MetadataDatabase(metadata_url)
    yield database
    database.close()


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty, never migrated database of this test's own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'metadata.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url
