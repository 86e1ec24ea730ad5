"""A connection's subscription to its tenant's jobs: a snapshot, then each change, as `job` messages.

Subscribing registers with the process's `JobFeed` first, then reads the
snapshot (the tenant's queued and running jobs, or the requested ids), so
no change is lost between the two: changes arriving meanwhile wait in a
buffer and follow the snapshot. Each job is sent only when what it shows
changed, and never older than what was already sent of it, so a change the
feed reads again, or one the snapshot already showed, is not repeated.
Changes of another tenant's jobs never get past `on_jobs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import orjson

from carbon254.config import Settings
from carbon254.jobs import JobRecord
from carbon254.jobs.state import JobChange
from carbon254.service.job_view import job_out
from carbon254.service.stream.job_feed import Shown
from carbon254.service.stream.protocol import JobsRequest


class JobSink(Protocol):
    """Where a jobs subscription's frames go: the connection's send queue."""

    def offer(self, frame: str, owner: JobSubscription | None = None) -> None:
        """Queue a frame for the client without waiting (a full queue drops the client)."""
        ...

    def drop_slow_consumer(self) -> None:
        """Close a client that fell too far behind."""
        ...


def job_frame(job: JobRecord, base: str, settings: Settings) -> str:
    """The `job` message: `{"type": "job", ...}` with the fields `GET /v1/jobs/{id}` answers."""
    # Not `control_frame`: a job has a field named `kind` of its own.
    return orjson.dumps({"type": "job", **job_out(job, base, settings).model_dump(mode="json")}).decode()


class JobSubscription:
    """One connection's subscription to `tenant`'s jobs (those `request` names); the feed's listener.

    `base` is the service's HTTP address as the client reached it, for the
    download links of finished jobs.
    """

    def __init__(
        self, sink: JobSink, request: JobsRequest, tenant: str, base: str, settings: Settings
    ) -> None:
        self.sink = sink
        self.request = request
        self.tenant = tenant
        self.base = base
        self.settings = settings
        # Changes held while the snapshot is read; None once it has been sent.
        self.buffer: list[JobChange] | None = []
        # Set once unsubscribed, replaced or no longer the caller's: nothing more of it is sent.
        self.ended = False
        self._shown: dict[str, Shown] = {}

    def on_jobs(self, changes: Sequence[JobChange], horizon: datetime) -> None:
        """Send (or hold, during the snapshot) the changes of this tenant's followed jobs."""
        if self.ended:
            return
        mine = [c for c in changes if c.job.tenant == self.tenant and self.request.wants(c.job.id)]
        # The feed never hands out a change older than `horizon` again: no need to remember it.
        self._shown = {job_id: s for job_id, s in self._shown.items() if s.updated_at >= horizon}
        if self.buffer is not None:
            self.buffer += mine
            if len(self.buffer) > self.settings.stream_queue_max:
                self.sink.drop_slow_consumer()
            return
        for change in mine:
            self._send(change)

    def begin(self, snapshot: Sequence[JobChange]) -> None:
        """Send the snapshot, then the changes held meanwhile; from now on changes go out as they come."""
        if self.ended:
            return
        for change in snapshot:
            self._send(change)
        held, self.buffer = self.buffer or [], None
        for change in held:
            self._send(change)

    def end(self) -> None:
        """Send nothing more, including what is held or already queued."""
        self.ended = True
        self.buffer = None

    def _send(self, change: JobChange) -> None:
        shown = Shown.of(change)
        before = self._shown.get(change.job.id)
        if before is not None and (shown.updated_at < before.updated_at or shown.same_as(before)):
            return
        self._shown[change.job.id] = shown
        self.sink.offer(job_frame(change.job, self.base, self.settings), self)
