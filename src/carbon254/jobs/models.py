"""What the job state hands across module boundaries: statuses, progress, jobs and their tasks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from carbon254.jobs.kinds import JobResult


class JobStatus(StrEnum):
    """Where a job is in its life: queued -> running -> succeeded | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the job has stopped (successfully or not) and no worker will run it again by itself."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class TaskStatus(StrEnum):
    """A planned task: not yet run (or lost with its worker), done (checkpointed), or failed."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a job is: `done` of `total` units (tasks, unless the kind says otherwise) and a message."""

    done: int = 0
    total: int = 0
    message: str = ""

    @property
    def fraction(self) -> float | None:
        """`done / total` between 0 and 1, or None while the total is not known yet."""
        return None if self.total <= 0 else min(1.0, self.done / self.total)


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job as stored (times are UTC; `result` only once it succeeded, `error` once it failed).

    `worker` and `lease_until` name the worker process running it and until
    when its claim holds; `cancel_requested` is set when a running job was
    asked to stop and its worker has not noticed yet. `expired_at` is when the
    retention sweep deleted its artifacts (None while they are kept).
    """

    id: str
    tenant: str
    kind: str
    request: Mapping[str, Any]
    status: JobStatus
    progress: Progress
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    planned: bool
    result: JobResult | None
    error: str | None
    worker: str | None
    lease_until: datetime | None
    cancel_requested: bool
    expired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One planned task: its key, place in the plan, input and (once done) output, as JSON."""

    job_id: str
    key: str
    position: int
    input: Mapping[str, Any]
    status: TaskStatus
    output: Mapping[str, Any] | None
    error: str | None
    attempts: int
    finished_at: datetime | None
