"""Suite-wide rules.

Tests that need a real backend (PostgreSQL, Redis) skip with a reason starting
with `service unavailable` on a machine without it. CI sets
`CARBON254_REQUIRE_SERVICES=1`, which turns exactly those skips into failures,
so a missing backend can never pass silently there.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager

import pytest

SERVICE_SKIP_PREFIX = "service unavailable"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and os.environ.get("CARBON254_REQUIRE_SERVICES") == "1"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if SERVICE_SKIP_PREFIX in reason:
        report.outcome = "failed"
        report.longrepr = f"{reason} (CARBON254_REQUIRE_SERVICES=1 forbids skipping this test)"


def require_service(name: str, host: str, port: int) -> None:
    """Skip the calling test unless `name` (e.g. "Redis") accepts TCP connections at `host:port`.

    The skip reason starts with `service unavailable`; with `CARBON254_REQUIRE_SERVICES=1` the test
    fails instead, so on CI a missing backend can never pass silently.
    """
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return
    except OSError as exc:
        reason = f"{SERVICE_SKIP_PREFIX}: {name} at {host}:{port} is not reachable ({exc})"
    if os.environ.get("CARBON254_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CARBON254_REQUIRE_SERVICES=1 forbids skipping this test)")
    pytest.skip(reason)


# The CI machine's PostgreSQL: trust auth, database `test`. Tests never touch its
# shared objects: each gets a schema of its own (`postgres_schema`), dropped after.
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
POSTGRES_URL = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/test"


@contextmanager
def postgres_schema(label: str = "t") -> Iterator[str]:
    """A new, empty PostgreSQL schema; yields a SQLAlchemy URL whose connections use it, drops it after.

    The URL is `POSTGRES_URL` with `options=-csearch_path=<schema>`, so every
    table made through it lands in the schema. Skips (fails under
    `CARBON254_REQUIRE_SERVICES=1`) when PostgreSQL is not reachable.
    """
    require_service("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT)
    import psycopg
    from psycopg import sql

    schema = f"{label}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            # A connection the test left inside a transaction would make the drop wait forever.
            conn.execute("SET lock_timeout = '30s'")
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL on a schema of this test module's own (see `postgres_schema`)."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A PostgreSQL URL on a schema of this test's own, for tests that need an empty database."""
    with postgres_schema() as url:
        yield url
