"""The audit log: events written by the background thread, queried with filters; a full queue or a
failing database never blocks the caller and is counted, never silent."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import text

from carbon254.metadata import AuditEvent, AuditLog, MetadataDatabase, query_events, write_events


def event(tenant: str, action: str = "request", **fields: object) -> AuditEvent:
    values: dict[str, object] = {
        "tenant": tenant,
        "subject": "k1",
        "method": "GET",
        "action": action,
        "target": "/v1/lmp",
        "status": 200,
        "parameters": {"iso": "ERCOT"},
        "rows": 24,
        "duration_ms": 1.5,
        "request_id": "r-1",
    }
    values.update(fields)
    return AuditEvent(**values)  # type: ignore[arg-type]


@pytest.fixture
def audit_log(db: MetadataDatabase) -> Iterator[AuditLog]:
    log = AuditLog(db, max_queue=5)
    yield log
    log.close()


@contextmanager
def writes_blocked(db: MetadataDatabase) -> Iterator[None]:
    """Hold a lock that makes every insert into audit_events wait until the block ends."""
    with db.session(write=True) as session:
        if db.backend == "postgresql":
            session.execute(text("LOCK TABLE audit_events IN EXCLUSIVE MODE"))
        else:
            session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: this connection holds the write lock
        yield


def test_events_are_written_and_queried(db: MetadataDatabase, audit_log: AuditLog) -> None:
    tenant = f"audit-{uuid.uuid4().hex[:8]}"
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for minute, action in enumerate(["request", "admin.key.revoke", "request"]):
        assert audit_log.record(event(tenant, action, at=base + timedelta(minutes=minute), rows=minute))
    assert audit_log.flush(10)
    counts = audit_log.counts()
    assert counts.written >= 3 and counts.queued == 0 and counts.dropped == 0 and counts.failed == 0

    found = audit_log.query(tenant=tenant)
    assert [r.event.rows for r in found] == [2, 1, 0]  # newest first
    first = found[-1].event
    assert first == event(tenant, "request", at=base, rows=0)
    assert [r.event.action for r in audit_log.query(tenant=tenant, action="admin.key.revoke")] == [
        "admin.key.revoke"
    ]
    window = audit_log.query(
        tenant=tenant, since=base + timedelta(minutes=1), until=base + timedelta(minutes=2)
    )
    assert [r.event.rows for r in window] == [1]
    assert len(audit_log.query(tenant=tenant, limit=2)) == 2
    with pytest.raises(ValueError, match="limit"):
        audit_log.query(limit=0)


def test_write_events_is_synchronous(db: MetadataDatabase) -> None:
    tenant = f"cli-{uuid.uuid4().hex[:8]}"
    write_events(db, [event(tenant, "admin.tenant.create", method="cli")])
    assert [r.event.method for r in query_events(db, tenant=tenant)] == ["cli"]


def test_a_batch_is_a_few_multi_row_statements_not_one_per_event(db: MetadataDatabase) -> None:
    # One statement per row would make SQLite's driver retake the GIL per row (see write_events).
    tenant = f"batch-{uuid.uuid4().hex[:8]}"
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            statements.append(statement)

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", seen)
    try:
        write_events(db, [event(tenant, request_id=f"r-{i}") for i in range(300)])
    finally:
        sqlalchemy_event.remove(db.engine, "before_cursor_execute", seen)
    assert 1 <= len(statements) <= 3
    written = query_events(db, tenant=tenant, limit=1000)
    assert sorted(r.event.request_id or "" for r in written) == sorted(f"r-{i}" for i in range(300))


def test_a_full_queue_drops_without_blocking_and_counts(
    db: MetadataDatabase, audit_log: AuditLog, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = f"full-{uuid.uuid4().hex[:8]}"
    total = 50
    with caplog.at_level(logging.ERROR, logger="carbon254.audit"), writes_blocked(db):
        # The writer is stuck on the lock: the queue (5) fills and the rest is dropped.
        # Every call returns at once; none waits for the database.
        accepted = [audit_log.record(event(tenant, rows=i)) for i in range(total)]
    # At most one queueful is in the writer's hands (blocked) and one more in the queue.
    assert accepted.count(False) >= total - 2 * 5
    assert "audit queue full" in caplog.text
    assert audit_log.flush(30)
    counts = audit_log.counts()
    assert counts.dropped == accepted.count(False)
    assert counts.written == accepted.count(True)
    assert counts.failed == 0
    assert len(audit_log.query(tenant=tenant)) == accepted.count(True)


def test_failed_writes_are_logged_and_counted(
    db: MetadataDatabase, audit_log: AuditLog, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = f"fail-{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_events RENAME TO audit_events_away"))
    try:
        with caplog.at_level(logging.ERROR, logger="carbon254.audit"):
            assert audit_log.record(event(tenant))
            assert audit_log.flush(10)
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_events_away RENAME TO audit_events"))
    counts = audit_log.counts()
    assert counts.failed == 1 and counts.written == 0 and counts.queued == 0
    assert "could not write 1 audit events" in caplog.text
    # The writer survives a failure: the next event is written.
    assert audit_log.record(event(tenant, rows=7))
    assert audit_log.flush(10)
    assert [r.event.rows for r in audit_log.query(tenant=tenant)] == [7]


def test_close_writes_what_is_queued_and_start_resumes(db: MetadataDatabase) -> None:
    tenant = f"close-{uuid.uuid4().hex[:8]}"
    log = AuditLog(db)
    log.record(event(tenant, rows=1))
    log.close()
    assert len(query_events(db, tenant=tenant)) == 1
    log.start()
    log.record(event(tenant, rows=2))
    assert log.flush(10)
    log.close()
    assert [r.event.rows for r in query_events(db, tenant=tenant)] == [2, 1]
