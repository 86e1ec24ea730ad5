"""`/v1/jobs`: submit long work as a job of a registered kind, follow it, cancel and resume it.

Thin over `carbon254.application.jobs`, which checks a submit and scopes
every job to the caller's tenant the same way for every surface. Submits,
cancels and resumes are audit-logged with their outcome.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from carbon254.application.jobs import cancel_job, find_job, resume_job, submit_job
from carbon254.config import Settings
from carbon254.jobs import JobRegistry, JobState, JobStatus
from carbon254.objects.base import ObjectStore
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.job_audit import audited_change, audited_submit
from carbon254.service.job_view import MAX_PAGE, JobOut, base_url, job_out
from carbon254.service.jobs import get_job_registry, get_job_state, get_objects
from carbon254.service.strict_query import StrictQueryRoute
from carbon254.store.base import Store

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=StrictQueryRoute)

States = Annotated[JobState, Depends(get_job_state)]
Kinds = Annotated[JobRegistry, Depends(get_job_registry)]
Objects = Annotated[ObjectStore, Depends(get_objects)]
CurrentSettings = Annotated[Settings, Depends(get_settings)]
JobId = Annotated[str, Path(description="The job's id, as `POST /v1/jobs` answered it.")]


class JobSubmit(BaseModel):
    """A job to run: its kind and the kind's request (see each kind's request model)."""

    kind: str = Field(description="A registered job kind, e.g. `export`.", examples=["export"])
    request: dict[str, Any] = Field(default_factory=dict, description="The kind's request, as JSON.")


class JobQueued(BaseModel):
    """A job just queued: its id, to follow it with `GET /v1/jobs/{id}`."""

    id: str
    status: JobStatus


class JobList(BaseModel):
    """A page of the tenant's jobs, newest first; `next_offset` asks for the next page (null: none)."""

    data: list[JobOut]
    count: int
    next_offset: int | None


@router.post(
    "",
    status_code=202,
    summary="Submit a job",
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
def post_job(
    body: JobSubmit,
    request: Request,
    principal: CurrentPrincipal,
    state: States,
    kinds: Kinds,
    objects: Objects,
    settings: CurrentSettings,
    store: Annotated[Store, Depends(get_store)],
) -> JobQueued:
    """Queue a job of `kind` for the caller's tenant; 202 with its id. Follow it with `GET /v1/jobs/{id}`."""
    job = audited_submit(
        request,
        body.kind,
        lambda: submit_job(
            body.kind,
            body.request,
            principal,
            state=state,
            kinds=kinds,
            objects=objects,
            settings=settings,
            store=store,
        ),
    )
    return JobQueued(id=job.id, status=job.status)


@router.get("", summary="List the tenant's jobs", responses=error_responses(401, 422))
def get_jobs(
    request: Request,
    principal: CurrentPrincipal,
    state: States,
    settings: CurrentSettings,
    kind: Annotated[str | None, Query(description="Only jobs of this kind.")] = None,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Most jobs in this page.")] = 50,
    offset: Annotated[int, Query(ge=0, description="Jobs to skip (the previous page's `next_offset`).")] = 0,
) -> JobList:
    """The caller's tenant's jobs, newest first, optionally of one kind and/or in one status."""
    found = state.list_jobs(principal.tenant, kind=kind, status=status, limit=limit + 1, offset=offset)
    page = found[:limit]
    jobs = [job_out(job, base_url(request), settings) for job in page]
    return JobList(data=jobs, count=len(jobs), next_offset=offset + limit if len(found) > limit else None)


@router.get("/{job_id}", summary="A job's status, progress and result", responses=error_responses(401, 404))
def get_job(
    job_id: JobId, request: Request, principal: CurrentPrincipal, state: States, settings: CurrentSettings
) -> JobOut:
    """One of the tenant's jobs; a finished one's `result` has a signed `download_url` if it has a file."""
    return job_out(find_job(state, principal, job_id), base_url(request), settings)


@router.post("/{job_id}/cancel", summary="Cancel a job", responses=error_responses(401, 404, 409))
def post_cancel(
    job_id: JobId, request: Request, principal: CurrentPrincipal, state: States, settings: CurrentSettings
) -> JobOut:
    """Cancel a queued or running job (a running one stops within a heartbeat); 409 once it has finished."""
    job = audited_change(request, "jobs.cancel", job_id, lambda: cancel_job(state, principal, job_id))
    return job_out(job, base_url(request), settings)


@router.post("/{job_id}/resume", summary="Resume a job", responses=error_responses(401, 404, 409))
def post_resume(
    job_id: JobId, request: Request, principal: CurrentPrincipal, state: States, settings: CurrentSettings
) -> JobOut:
    """Queue a cancelled or failed job again; its finished tasks are not run again. 409 for other statuses."""
    job = audited_change(request, "jobs.resume", job_id, lambda: resume_job(state, principal, job_id))
    return job_out(job, base_url(request), settings)
