"""`client.jobs` and `Job`: long work on the service (exports, backfills, ...) from the blocking `Client`.

    job = client.export(iso="ERCOT", market="DAM", locations=["HB_NORTH"],
                        start="2024-01-01", end="2025-01-01", format="parquet")
    job.wait(progress=True)              # a bar on stderr; JobFailed / JobCancelled if it ends badly
    job.download("hb_north.parquet")     # streamed to a temporary file, renamed when complete

`client.jobs.submit(kind, request)` queues a job of any registered kind,
`client.jobs.get(id)` finds one again (another tenant's is `NotFound`, like
a missing one), `client.jobs.list(...)` lists the tenant's jobs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from pydantic_core import to_jsonable_python

from carbon254.client.base import ClientSettings, Progress
from carbon254.client.downloads import download, link_target
from carbon254.client.errors import Carbon254Error
from carbon254.client.job_models import JobInfo, JobPage, JobQueued, JobStatus
from carbon254.client.job_wait import DEFAULT_POLL_S, Waiter, job_path
from carbon254.client.transport import send


def submit_body(kind: str, request: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON of `POST /v1/jobs`: `kind` and its request (dates and datetimes as ISO-8601 text)."""
    return {"kind": kind, "request": to_jsonable_python(dict(request or {}))}


def list_params(kind: str | None, status: JobStatus | str | None, limit: int) -> dict[str, str]:
    """The query string of `GET /v1/jobs` (unset filters left out)."""
    params = {"limit": str(limit)}
    if kind is not None:
        params["kind"] = kind
    if status is not None:
        params["status"] = status.value if isinstance(status, JobStatus) else str(status)
    return params


def no_file(info: JobInfo) -> Carbon254Error:
    """The error of downloading a succeeded job that produced no file."""
    return Carbon254Error(f"job {info.id} ({info.kind}) succeeded without a file to download")


class Jobs:
    """`client.jobs`: submit, find and list the tenant's jobs (see the module docstring).

    `prepare` runs before each request: local mode starts its in-process
    job workers there, on first use.
    """

    def __init__(self, http: httpx.Client, settings: ClientSettings, prepare: Callable[[], None]) -> None:
        self._http = http
        self._settings = settings
        self._prepare = prepare

    def _send(self, method: str, path: str, **options: Any) -> bytes:
        self._prepare()
        request = self._http.build_request(method, path, **options)
        return send(self._http, request, self._settings.retry).content

    def submit(self, kind: str, request: Mapping[str, Any] | None = None) -> Job:
        """Queue a job of `kind` with its `request` (the kind's request model as JSON); its `Job` handle.

        The service checks everything it can before queuing: an unknown
        kind is `NotFound` (with `suggestions`), a bad request
        `InvalidRequest` naming the field, a kind or dataset the tenant may
        not use `NotEntitled`, a tenant at its limit of active jobs
        `RateLimited` (code `too_many_jobs`, raised at once, not retried).
        """
        answer = self._send("POST", "/v1/jobs", json=submit_body(kind, request))
        return Job(self, JobQueued.model_validate_json(answer).id)

    def get(self, job_id: str) -> Job:
        """The handle of the tenant's job `job_id`; `NotFound` for an unknown id or another tenant's job."""
        return Job(self, self.info(job_id).id)

    def list(
        self, kind: str | None = None, status: JobStatus | str | None = None, limit: int = 50
    ) -> list[JobInfo]:
        """The tenant's latest `limit` jobs (at most 500), newest first, optionally of one kind and status."""
        answer = self._send("GET", "/v1/jobs", params=list_params(kind, status, limit))
        return list(JobPage.model_validate_json(answer).data)

    def info(self, job_id: str) -> JobInfo:
        """The job `job_id` as the service reports it now."""
        return JobInfo.model_validate_json(self._send("GET", job_path(job_id)))

    def _change(self, job_id: str, action: str) -> JobInfo:
        """`POST /v1/jobs/{id}/{action}` (cancel or resume): the job after the change."""
        return JobInfo.model_validate_json(self._send("POST", job_path(job_id, action)))

    def _fetch(self, info: JobInfo, path: str | Path) -> Path:
        """Stream the file of the succeeded job `info` (its signed link) into `path`."""
        if info.result is None or info.result.download_url is None:
            raise no_file(info)
        url = link_target(self._settings.base_url, info.result.download_url)
        return download(self._http, url, path, self._settings.retry, f"{info.kind}-{info.id}")


class Job:
    """A handle on one job of the service: follow it, wait for it, cancel or resume it, download its file.

    Holds only the id: every method asks the service afresh, so a handle
    from `client.jobs.get(id)` in another process is as good as the one
    `submit` returned.
    """

    def __init__(self, jobs: Jobs, job_id: str) -> None:
        self._jobs = jobs
        self._id = job_id

    @property
    def id(self) -> str:
        """The job's id (`GET /v1/jobs/{id}`)."""
        return self._id

    def __repr__(self) -> str:
        return f"Job({self._id!r})"

    def status(self) -> JobInfo:
        """The job now: status, progress (done of total, message), result or error."""
        return self._jobs.info(self._id)

    def wait(
        self,
        *,
        progress: bool | Progress = False,
        timeout_s: float | None = None,
        poll_s: float = DEFAULT_POLL_S,
    ) -> JobInfo:
        """Block until the job finishes; the succeeded job (its `result` holds the summary and link).

        Polls every `poll_s` seconds at first, then less often (up to every
        5 s). `progress=True` draws a bar of done/total on stderr, as
        `lmp(progress=True)` does; a callable gets `(done, total)` instead.
        Raises `JobFailed` (carrying the service's error) or `JobCancelled`
        when the job ends without success, and `JobTimeout` after
        `timeout_s` seconds (None: no limit; the job keeps running).
        """
        waiter = Waiter(self._id, progress=progress, timeout_s=timeout_s, poll_s=poll_s)
        try:
            while True:
                done = waiter.observe(self.status())
                if done is not None:
                    return done
                time.sleep(waiter.next_delay())
        finally:
            waiter.close()

    def result(self, *, timeout_s: float | None = None) -> JobInfo:
        """`wait()` without a bar: the succeeded job, or the error it ended with."""
        return self.wait(timeout_s=timeout_s)

    def download(self, path: str | Path, *, timeout_s: float | None = None) -> Path:
        """Write the job's file to `path` (a file name, or an existing directory to keep the service's name).

        Waits for the job first (as `result`), then streams the file in
        chunks to a temporary file beside `path`, renamed into place once
        complete: a failed download leaves no half file. Returns the path
        written. A job without a file raises `Carbon254Error`.
        """
        return self._jobs._fetch(self.result(timeout_s=timeout_s), path)

    def cancel(self) -> JobInfo:
        """Cancel the job: a queued one at once, a running one within its worker's heartbeat.

        Returns the job after the request (`cancelled`, or still `running`
        while it stops); `InvalidRequest` (409) once it has finished.
        """
        return self._jobs._change(self._id, "cancel")

    def resume(self) -> JobInfo:
        """Queue a cancelled or failed job again; tasks it finished do not run again.

        Returns the job, queued; `InvalidRequest` (409) for a job in another status.
        """
        return self._jobs._change(self._id, "resume")
