"""What every surface shows of a job: REST's JSON, GraphQL's `Job` and the stream's `job` message.

One view (`JobOut`), built by one function (`job_out`), so a job reads the
same whichever surface reports it: its status, progress (`done` of `total`
units and a message), request, times, and once finished its result
(summary, artifact names and a freshly signed `download_url` when it has a
file) or its error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import HTTPConnection

from carbon254.application.jobs import download_artifact
from carbon254.config import Settings
from carbon254.jobs import JobRecord, JobStatus
from carbon254.service.download_links import download_path

MAX_PAGE = 500  # most jobs one listing answers, on every surface
# A WebSocket's base URL has the ws scheme; its download links are plain HTTP(S) ones.
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


class ProgressOut(BaseModel):
    """`done` of `total` units (tasks, unless the kind counts otherwise) and a message."""

    done: int
    total: int
    message: str


class JobResultOut(BaseModel):
    """A succeeded job's result: the kind's summary, its artifacts' names and the signed link to its file."""

    summary: dict[str, Any]
    artifacts: list[str]
    download_url: str | None = None


class JobOut(BaseModel):
    """A job: status, progress, and once finished its result (summary, artifacts, `download_url`) or error."""

    id: str
    kind: str
    status: JobStatus
    request: dict[str, Any]
    progress: ProgressOut
    result: JobResultOut | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def base_url(connection: HTTPConnection) -> str:
    """The service's address as the client reached it, without a trailing slash, as an HTTP(S) URL.

    For a WebSocket (`ws://`, `wss://`) this is the matching `http://` or
    `https://` address, where its download links are served.
    """
    url = connection.base_url
    scheme = _HTTP_SCHEMES.get(url.scheme, url.scheme)
    return str(url.replace(scheme=scheme)).rstrip("/")


def job_out(job: JobRecord, base: str, settings: Settings) -> JobOut:
    """The view of `job`; a succeeded job with an artifact gets a `download_url` under `base`, signed now.

    `base` is the service's address as the client reached it (`base_url`);
    the link is valid `settings.download_link_s` seconds from now, for the
    job's tenant only.
    """
    result: JobResultOut | None = None
    if job.result is not None:
        result = JobResultOut(summary=dict(job.result.summary), artifacts=sorted(job.result.artifacts))
        if download_artifact(job) is not None:
            result.download_url = base + download_path(settings, job.id, job.tenant)
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        request=dict(job.request),
        progress=ProgressOut(done=job.progress.done, total=job.progress.total, message=job.progress.message),
        result=result,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
