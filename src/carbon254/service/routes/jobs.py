"""`/v1/jobs`: submit long work as a job of a registered kind, follow it, cancel and resume it.

Thin over `carbon254.jobs.JobState`: every route sees only the caller's
tenant's jobs (another tenant's job is a 404, like a missing one). A submit
is checked in this order: the kind exists (404 with suggestions), its request
is valid (422 naming the field), the tenant is entitled to it (403), the
tenant is under its limits of active jobs (429) and stored artifact bytes
(413). Submits, cancels and resumes are audit-logged with their outcome.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, ValidationError

from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError
from carbon254.application.identity import Principal
from carbon254.config import Settings
from carbon254.jobs import (
    InvalidTransition,
    JobRecord,
    JobRegistry,
    JobState,
    JobStatus,
    UnknownJob,
    UnknownJobKind,
)
from carbon254.objects.base import ObjectNotFound, ObjectStore
from carbon254.service.audit import audit_action
from carbon254.service.deps import get_settings, get_store
from carbon254.service.download_links import download_path
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.jobs import get_job_registry, get_job_state, get_objects
from carbon254.service.strict_query import StrictQueryRoute
from carbon254.store.base import Store

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=StrictQueryRoute)

MAX_PAGE = 500
# The artifact a job's download link serves when it has one by this name (else its first).
DOWNLOAD_ARTIFACT = "export"

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


class ProgressOut(BaseModel):
    """`done` of `total` units (tasks, unless the kind counts otherwise) and a message."""

    done: int
    total: int
    message: str


class JobOut(BaseModel):
    """A job: status, progress, and once finished its result (summary, artifacts, `download_url`) or error."""

    id: str
    kind: str
    status: JobStatus
    request: dict[str, Any]
    progress: ProgressOut
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobList(BaseModel):
    """A page of the tenant's jobs, newest first; `next_offset` asks for the next page (null: none)."""

    data: list[JobOut]
    count: int
    next_offset: int | None


def download_artifact(job: JobRecord) -> str | None:
    """The object-store key a finished job's download serves: its `export` artifact, else its first."""
    if job.result is None or not job.result.artifacts:
        return None
    artifacts = job.result.artifacts
    return artifacts.get(DOWNLOAD_ARTIFACT) or next(iter(artifacts.values()))


def job_out(job: JobRecord, request: Request, settings: Settings) -> JobOut:
    """The JSON view of `job`; a succeeded job with an artifact gets a freshly signed `download_url`."""
    result: dict[str, Any] | None = None
    if job.result is not None:
        result = {"summary": dict(job.result.summary), "artifacts": sorted(job.result.artifacts)}
        if download_artifact(job) is not None:
            base = str(request.base_url).rstrip("/")
            result["download_url"] = base + download_path(settings, job.id, job.tenant)
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


def stored_bytes(state: JobState, objects: ObjectStore, tenant: str) -> int:
    """Bytes of artifacts the tenant's succeeded jobs keep in the object store (deleted ones count 0)."""
    total = 0
    offset = 0
    while True:
        page = state.list_jobs(tenant, status=JobStatus.SUCCEEDED, limit=MAX_PAGE, offset=offset)
        for job in page:
            for key in job.result.artifacts.values() if job.result is not None else ():
                try:
                    total += objects.info(key).size
                except ObjectNotFound:
                    continue
        if len(page) < MAX_PAGE:
            return total
        offset += MAX_PAGE


def _check_limits(state: JobState, objects: ObjectStore, settings: Settings, tenant: str) -> None:
    limit = settings.job_max_active
    active = sum(
        len(state.list_jobs(tenant, status=status, limit=limit))
        for status in (JobStatus.QUEUED, JobStatus.RUNNING)
    )
    if active >= limit:
        raise ApiError(
            429,
            "too_many_jobs",
            f"tenant '{tenant}' already has {active} jobs queued or running, the most it may have "
            f"({limit}); wait for one to finish or cancel one",
        )
    held = stored_bytes(state, objects, tenant)
    if held >= settings.job_max_stored_bytes:
        raise ApiError(
            413,
            "storage_full",
            f"tenant '{tenant}' keeps {held} bytes of job artifacts, the most it may keep "
            f"({settings.job_max_stored_bytes}); let old downloads expire before submitting more",
        )


def _submit(
    body: JobSubmit,
    principal: Principal,
    state: JobState,
    kinds: JobRegistry,
    objects: ObjectStore,
    settings: Settings,
    store: Store,
) -> JobRecord:
    try:
        kind = kinds.lookup(body.kind)
    except UnknownJobKind as exc:
        suggestions = difflib.get_close_matches(body.kind, exc.known, n=3)
        raise ApiError(404, "unknown_kind", str(exc), "kind", suggestions) from None
    try:
        parsed = kind.request.model_validate(body.request)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in ("request", *first["loc"]))
        raise ApiError(BAD_PARAMETER_STATUS, "invalid_parameter", f"{field}: {first['msg']}", field) from None
    refusal = kind.refusal(parsed, principal.entitlements)
    if refusal is not None:
        raise ApiError(403, "not_entitled", refusal, "kind")
    if kind.check is not None:
        kind.check(parsed, store, settings)
    _check_limits(state, objects, settings, principal.tenant)
    return state.submit(principal.tenant, kind.name, parsed.model_dump(mode="json"))


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
    try:
        job = _submit(body, principal, state, kinds, objects, settings, store)
    except ApiError as error:
        audit_action(request, "jobs.submit", body.kind, {"kind": body.kind}, status=error.status_code)
        raise
    audit_action(request, "jobs.submit", job.id, {"kind": job.kind}, status=202)
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
    jobs = [job_out(job, request, settings) for job in page]
    return JobList(data=jobs, count=len(jobs), next_offset=offset + limit if len(found) > limit else None)


@router.get("/{job_id}", summary="A job's status, progress and result", responses=error_responses(401, 404))
def get_job(
    job_id: JobId, request: Request, principal: CurrentPrincipal, state: States, settings: CurrentSettings
) -> JobOut:
    """One of the tenant's jobs; a finished one's `result` has a signed `download_url` if it has a file."""
    try:
        job = state.get(job_id, tenant=principal.tenant)
    except UnknownJob as exc:
        raise ApiError(404, "not_found", str(exc), "job_id") from None
    return job_out(job, request, settings)


def _change(request: Request, action: str, job_id: str, change: Any, settings: Settings) -> JobOut:
    """`change(job_id)` (cancel or resume), audited; 404 for an unknown job, 409 for a wrong status."""
    try:
        job: JobRecord = change(job_id)
    except UnknownJob as exc:
        audit_action(request, action, job_id, {}, status=404)
        raise ApiError(404, "not_found", str(exc), "job_id") from None
    except InvalidTransition as exc:
        audit_action(request, action, job_id, {}, status=409)
        raise ApiError(409, "conflict", str(exc), "job_id") from None
    audit_action(request, action, job_id, {"kind": job.kind, "status": job.status.value}, status=200)
    return job_out(job, request, settings)


@router.post("/{job_id}/cancel", summary="Cancel a job", responses=error_responses(401, 404, 409))
def post_cancel(
    job_id: JobId, request: Request, principal: CurrentPrincipal, state: States, settings: CurrentSettings
) -> JobOut:
    """Cancel a queued or running job (a running one stops within a heartbeat); 409 once it has finished."""

    def cancel(job: str) -> JobRecord:
        return state.cancel(job, tenant=principal.tenant)

    return _change(request, "jobs.cancel", job_id, cancel, settings)


@router.post("/{job_id}/resume", summary="Resume a job", responses=error_responses(401, 404, 409))
def post_resume(
    job_id: JobId, request: Request, principal: CurrentPrincipal, state: States, settings: CurrentSettings
) -> JobOut:
    """Queue a cancelled or failed job again; its finished tasks are not run again. 409 for other statuses."""

    def resume(job: str) -> JobRecord:
        return state.resume(job, tenant=principal.tenant)

    return _change(request, "jobs.resume", job_id, resume, settings)
