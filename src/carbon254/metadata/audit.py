"""The audit log: who read or changed what, when, with which parameters, and how it ended.

`AuditLog.record` never waits on the database: it puts the event on a
bounded in-memory queue that a background thread writes in batches, one
transaction per `BATCH_WINDOW_S` at most under load (so a busy service pays
for a few commits a second, not one per request). When
the queue is full (the database is slower than the requests) the event is
dropped; when a batch cannot be written it is lost. Both are logged and
counted (`AuditLog.counts`, read by the Prometheus collector), never silent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select

from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.models import AuditEventRow

logger = logging.getLogger("carbon254.audit")

DEFAULT_QUEUE_MAX = 10_000
BATCH_MAX = 500
# Seconds the writer lets events gather after the first one arrives, unless
# the batch fills or a flush or close asks for the events now.
BATCH_WINDOW_S = 0.1
MAX_QUERY_LIMIT = 10_000
# Seconds between two log lines about dropped events: a flood of drops is one
# line per interval with the running count, not one line per request.
DROP_LOG_INTERVAL_S = 5.0


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited request or admin action.

    `method` is the HTTP method (or `cli`); `action` what was done (`request`,
    `stream`, `admin.key.revoke`, ...); `target` the path or the object acted
    on; `parameters` the request's parameters with secrets already redacted;
    `rows` the rows returned, when known; `duration_ms` in milliseconds.
    """

    tenant: str | None
    subject: str | None
    method: str
    action: str
    target: str
    status: int
    parameters: dict[str, str] = field(default_factory=dict)
    rows: int | None = None
    duration_ms: float = 0.0
    request_id: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored audit event and its id (ids increase with insertion order)."""

    id: int
    event: AuditEvent


@dataclass(frozen=True, slots=True)
class AuditCounts:
    """Audit events written, dropped (queue full), failed (write error) and waiting, since start."""

    written: int
    dropped: int
    failed: int
    queued: int


def _row(event: AuditEvent) -> dict[str, object]:
    return {
        "at": event.at,
        "tenant": event.tenant,
        "subject": event.subject,
        "method": event.method[:16],
        "action": event.action[:64],
        "target": event.target[:500],
        "parameters": event.parameters,
        "rows": event.rows,
        "status": event.status,
        "duration_ms": event.duration_ms,
        "request_id": event.request_id[:100] if event.request_id else None,
    }


def write_events(db: MetadataDatabase, events: Sequence[AuditEvent]) -> None:
    """Insert events in one transaction, synchronously (the CLI's path; the service uses `AuditLog`).

    A Core insert of many rows, which the engine sends as multi-row
    `INSERT ... VALUES` statements (see `database._create_engine`), not as
    one statement per row.
    """
    if not events:
        return
    with db.session(write=True) as session:
        session.connection().execute(insert(AuditEventRow), [_row(e) for e in events])


def query_events(
    db: MetadataDatabase,
    *,
    tenant: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[AuditRecord]:
    """Stored events, newest first, by tenant, action and time (`since` inclusive, `until` exclusive).

    At most `limit` events (1 to 10,000).
    """
    if not 1 <= limit <= MAX_QUERY_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_QUERY_LIMIT}, got {limit}")
    query = select(AuditEventRow)
    if tenant is not None:
        query = query.where(AuditEventRow.tenant == tenant)
    if action is not None:
        query = query.where(AuditEventRow.action == action)
    if since is not None:
        query = query.where(AuditEventRow.at >= since)
    if until is not None:
        query = query.where(AuditEventRow.at < until)
    query = query.order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc()).limit(limit)
    with db.session() as session:
        return [
            AuditRecord(
                row.id,
                AuditEvent(
                    tenant=row.tenant,
                    subject=row.subject,
                    method=row.method,
                    action=row.action,
                    target=row.target,
                    status=row.status,
                    parameters=dict(row.parameters),
                    rows=row.rows,
                    duration_ms=row.duration_ms,
                    request_id=row.request_id,
                    at=row.at,
                ),
            )
            for row in session.scalars(query)
        ]


class AuditLog:
    """Writes audit events to `db` from a background thread, fed by a queue of at most `max_queue` events.

    Started on construction; `close()` writes what is queued and stops the
    thread, `start()` starts it again (an app may be started and stopped
    more than once, e.g. by tests). The thread sleeps until there is work:
    an idle log costs nothing.
    """

    def __init__(self, db: MetadataDatabase, *, max_queue: int = DEFAULT_QUEUE_MAX) -> None:
        self.db = db
        self.max_queue = max_queue
        self._queue: deque[AuditEvent] = deque()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # events queued, written, or stop asked
        self._in_flight = 0  # taken by the writer, not yet written or failed
        self._urgent = 0  # flush() calls waiting: the writer skips its gathering window
        self._written = 0
        self._dropped = 0
        self._failed = 0
        self._last_drop_log = float("-inf")
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.start()

    def start(self) -> None:
        """Start the writer thread if it is not running."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="carbon254-audit", daemon=True)
            self._thread.start()

    def record(self, event: AuditEvent) -> bool:
        """Queue `event` for writing without waiting; False (logged, counted) if the queue is full."""
        with self._lock:
            if len(self._queue) >= self.max_queue:
                self._dropped += 1
                now = time.monotonic()
                if now - self._last_drop_log >= DROP_LOG_INTERVAL_S:
                    self._last_drop_log = now
                    logger.error(
                        "audit queue full (%d events): dropped %s %s; %d audit events dropped so far",
                        self.max_queue,
                        event.action,
                        event.target,
                        self._dropped,
                    )
                return False
            self._queue.append(event)
            # Wake the writer only when it has something new to do: the first event
            # (it sleeps on an empty queue) or a full batch (it waits for one).
            if len(self._queue) in (1, BATCH_MAX):
                self._changed.notify_all()
            return True

    def counts(self) -> AuditCounts:
        """Events written, dropped, failed so far and waiting now (for metrics)."""
        with self._lock:
            return AuditCounts(self._written, self._dropped, self._failed, len(self._queue) + self._in_flight)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait up to `timeout` seconds until every queued event is written or failed; True if it is."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._urgent += 1
            self._changed.notify_all()
            try:
                while self._queue or self._in_flight:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._changed.wait(left)
                return True
            finally:
                self._urgent -= 1

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (up to `timeout` seconds), then stop the writer thread."""
        if not self.flush(timeout):
            logger.error("audit log closed with %d events not yet written", self.counts().queued)
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def query(
        self,
        *,
        tenant: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditRecord]:
        """Stored events, newest first (see `query_events`); events still queued are not included."""
        return query_events(self.db, tenant=tenant, action=action, since=since, until=until, limit=limit)

    def _take_batch(self) -> list[AuditEvent] | None:
        """Up to `BATCH_MAX` queued events, waiting for the first; None when asked to stop.

        After the first event it waits up to `BATCH_WINDOW_S` for more, so
        that many requests share one transaction.
        """
        with self._changed:
            while not self._queue:
                if self._stopping:
                    return None
                self._changed.wait()
            self._changed.wait_for(
                lambda: len(self._queue) >= BATCH_MAX or self._urgent > 0 or self._stopping,
                BATCH_WINDOW_S,
            )
            batch = [self._queue.popleft() for _ in range(min(BATCH_MAX, len(self._queue)))]
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        while (batch := self._take_batch()) is not None:
            try:
                write_events(self.db, batch)
            except Exception:
                logger.exception("could not write %d audit events; they are lost", len(batch))
                written, failed = 0, len(batch)
            else:
                written, failed = len(batch), 0
            with self._changed:
                self._written += written
                self._failed += failed
                self._in_flight = 0
                self._changed.notify_all()
