"""GraphQL object types of a job: the view `GET /v1/jobs/{id}` answers, field for field, in camelCase."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from carbon254.jobs import JobStatus
from carbon254.service.job_view import JobOut


@strawberry.enum(
    name="JobStatus", description="Where a job is: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED."
)
class JobStatusValue(Enum):
    QUEUED = JobStatus.QUEUED.value
    RUNNING = JobStatus.RUNNING.value
    SUCCEEDED = JobStatus.SUCCEEDED.value
    FAILED = JobStatus.FAILED.value
    CANCELLED = JobStatus.CANCELLED.value


@strawberry.type(
    description="How far a job is: `done` of `total` units (tasks, unless the kind says otherwise)."
)
class JobProgress:
    done: int
    total: int
    message: str


@strawberry.type(
    description="A succeeded job's result: the kind's summary, its artifacts' names and, when it has "
    "a file, a link to download it, signed for the caller's tenant and valid "
    "`CARBON254_DOWNLOAD_LINK_S` seconds."
)
class JobResult:
    summary: JSON
    artifacts: list[str]
    download_url: str | None


@strawberry.type(description="A job of the caller's tenant: as `GET /v1/jobs/{id}` answers it.")
class Job:
    id: strawberry.ID
    kind: str
    status: JobStatusValue
    request: JSON
    progress: JobProgress
    result: JobResult | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def of(view: JobOut) -> Job:
        """The GraphQL view of a job's view (`job_view.job_out`)."""
        result = None
        if view.result is not None:
            result = JobResult(
                summary=JSON(view.result.summary),
                artifacts=list(view.result.artifacts),
                download_url=view.result.download_url,
            )
        progress = view.progress
        return Job(
            id=strawberry.ID(view.id),
            kind=view.kind,
            status=JobStatusValue(view.status.value),
            request=JSON(view.request),
            progress=JobProgress(done=progress.done, total=progress.total, message=progress.message),
            result=result,
            error=view.error,
            created_at=view.created_at,
            started_at=view.started_at,
            finished_at=view.finished_at,
        )
