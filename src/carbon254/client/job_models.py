"""Pydantic models of the service's job answers: a job's status, progress and result.

They mirror the JSON of `GET /v1/jobs/{id}` (and of the list, submit,
cancel and resume answers) and ignore fields they do not know, so a newer
service does not break an older SDK.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, JsonValue


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class JobStatus(StrEnum):
    """Where a job is in its life: queued -> running -> succeeded | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the job has stopped; no worker runs it again unless it is resumed."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobProgress(_Answer):
    """`done` of `total` units (tasks unless the kind counts otherwise; 0 of 0 until planned), a message."""

    done: int
    total: int
    message: str


class JobResult(_Answer):
    """What a succeeded job produced: its kind's `summary` (an export's rows, bytes, format, sheets),
    the names of its stored `artifacts`, and a signed `download_url` when it has a file.

    The link expires (an hour by default); `Job.download` asks for a fresh one.
    """

    summary: dict[str, JsonValue]
    artifacts: tuple[str, ...] = ()
    download_url: str | None = None


class JobInfo(_Answer):
    """One job as the service reports it: `GET /v1/jobs/{id}`.

    `request` is the kind's request as the service stored it (defaults
    filled in); `result` is set once the job succeeded, `error` once it
    failed. Times are UTC; `started_at` and `finished_at` are None until
    the job starts and ends.
    """

    id: str
    kind: str
    status: JobStatus
    request: dict[str, JsonValue]
    progress: JobProgress
    result: JobResult | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobQueued(_Answer):
    """The answer of `POST /v1/jobs`: the new job's id and status."""

    id: str
    status: JobStatus


class JobPage(_Answer):
    """A page of `GET /v1/jobs`: the tenant's jobs, newest first."""

    data: tuple[JobInfo, ...]
    count: int
    next_offset: int | None
