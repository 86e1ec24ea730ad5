"""`client.jobs` and `AsyncJob` for `AsyncClient`: the methods of `jobs.Jobs` and `jobs.Job`, awaited.

job = await client.export(iso="ERCOT", market="DAM", locations=["HB_NORTH"],
                          start="2024-01-01", end="2025-01-01", format="parquet")
await job.wait(progress=True)
await job.download("hb_north.parquet")
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from carbon254.client.base import ClientSettings, Progress
from carbon254.client.downloads import download_async, link_target
from carbon254.client.job_models import JobInfo, JobPage, JobQueued, JobStatus
from carbon254.client.job_wait import DEFAULT_POLL_S, Waiter, job_path
from carbon254.client.jobs import list_params, no_file, submit_body
from carbon254.client.transport import send_async


class AsyncJobs:
    """`client.jobs` of an `AsyncClient`: submit, find and list the tenant's jobs (see `jobs.Jobs`)."""

    def __init__(
        self, http: httpx.AsyncClient, settings: ClientSettings, prepare: Callable[[], None]
    ) -> None:
        self._http = http
        self._settings = settings
        self._prepare = prepare

    async def _send(self, method: str, path: str, **options: Any) -> bytes:
        self._prepare()
        request = self._http.build_request(method, path, **options)
        return (await send_async(self._http, request, self._settings.retry)).content

    async def submit(self, kind: str, request: Mapping[str, Any] | None = None) -> AsyncJob:
        """Queue a job of `kind` with its `request`; its `AsyncJob` handle (errors as `Jobs.submit`)."""
        answer = await self._send("POST", "/v1/jobs", json=submit_body(kind, request))
        return AsyncJob(self, JobQueued.model_validate_json(answer).id)

    async def get(self, job_id: str) -> AsyncJob:
        """The handle of the tenant's job `job_id`; `NotFound` for an unknown id or another tenant's job."""
        return AsyncJob(self, (await self.info(job_id)).id)

    async def list(
        self, kind: str | None = None, status: JobStatus | str | None = None, limit: int = 50
    ) -> list[JobInfo]:
        """The tenant's latest `limit` jobs (at most 500), newest first, optionally of one kind and status."""
        answer = await self._send("GET", "/v1/jobs", params=list_params(kind, status, limit))
        return list(JobPage.model_validate_json(answer).data)

    async def info(self, job_id: str) -> JobInfo:
        """The job `job_id` as the service reports it now."""
        return JobInfo.model_validate_json(await self._send("GET", job_path(job_id)))

    async def _change(self, job_id: str, action: str) -> JobInfo:
        """`POST /v1/jobs/{id}/{action}` (cancel or resume): the job after the change."""
        return JobInfo.model_validate_json(await self._send("POST", job_path(job_id, action)))

    async def _fetch(self, info: JobInfo, path: str | Path) -> Path:
        """Stream the file of the succeeded job `info` (its signed link) into `path`."""
        if info.result is None or info.result.download_url is None:
            raise no_file(info)
        url = link_target(self._settings.base_url, info.result.download_url)
        return await download_async(self._http, url, path, self._settings.retry, f"{info.kind}-{info.id}")


class AsyncJob:
    """A handle on one job for asyncio code: the methods of `jobs.Job`, awaited."""

    def __init__(self, jobs: AsyncJobs, job_id: str) -> None:
        self._jobs = jobs
        self._id = job_id

    @property
    def id(self) -> str:
        """The job's id (`GET /v1/jobs/{id}`)."""
        return self._id

    def __repr__(self) -> str:
        return f"AsyncJob({self._id!r})"

    async def status(self) -> JobInfo:
        """The job now: status, progress (done of total, message), result or error."""
        return await self._jobs.info(self._id)

    async def wait(
        self,
        *,
        progress: bool | Progress = False,
        timeout_s: float | None = None,
        poll_s: float = DEFAULT_POLL_S,
    ) -> JobInfo:
        """Wait, without blocking the event loop, until the job finishes (see `Job.wait`)."""
        waiter = Waiter(self._id, progress=progress, timeout_s=timeout_s, poll_s=poll_s)
        try:
            while True:
                done = waiter.observe(await self.status())
                if done is not None:
                    return done
                await asyncio.sleep(waiter.next_delay())
        finally:
            waiter.close()

    async def result(self, *, timeout_s: float | None = None) -> JobInfo:
        """`wait()` without a bar: the succeeded job, or the error it ended with."""
        return await self.wait(timeout_s=timeout_s)

    async def download(self, path: str | Path, *, timeout_s: float | None = None) -> Path:
        """Write the job's file to `path` once it succeeded (see `Job.download`); the path written."""
        return await self._jobs._fetch(await self.result(timeout_s=timeout_s), path)

    async def cancel(self) -> JobInfo:
        """Cancel the job (see `Job.cancel`); the job after the request."""
        return await self._jobs._change(self._id, "cancel")

    async def resume(self) -> JobInfo:
        """Queue a cancelled or failed job again (see `Job.resume`); the job after the request."""
        return await self._jobs._change(self._id, "resume")
