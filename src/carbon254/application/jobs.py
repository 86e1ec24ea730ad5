"""Jobs as every surface offers them: submit with its checks, look up, cancel and resume, for one tenant.

REST (`/v1/jobs`), GraphQL and the CLI call these functions, so a job is
refused for the same reasons with the same error everywhere. A submit is
checked in this order: the kind exists (404 with suggestions), its request is
valid (422 naming the field), the tenant is entitled to it (403), the request
could run at all (the kind's `check`, e.g. an unknown location), the tenant is
under its limits of active jobs (429) and stored artifact bytes (413). Another
tenant's job is a 404, like a missing one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

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
from carbon254.store.base import Store

# Jobs read per page when summing a tenant's stored bytes.
PAGE = 500
# The artifact a job's download link serves when it has one by this name (else its first).
DOWNLOAD_ARTIFACT = "export"


def download_artifact(job: JobRecord) -> str | None:
    """The object-store key a finished job's download serves: its `export` artifact, else its first.

    None when it has none, or when the retention sweep deleted them (`expired_at`).
    """
    if job.result is None or not job.result.artifacts or job.expired_at is not None:
        return None
    artifacts = job.result.artifacts
    return artifacts.get(DOWNLOAD_ARTIFACT) or next(iter(artifacts.values()))


def stored_bytes(state: JobState, objects: ObjectStore, tenant: str) -> int:
    """Bytes of artifacts the tenant's succeeded jobs keep in the object store (deleted ones count 0)."""
    total = 0
    offset = 0
    while True:
        page = state.list_jobs(tenant, status=JobStatus.SUCCEEDED, limit=PAGE, offset=offset)
        for job in page:
            for key in job.result.artifacts.values() if job.result is not None else ():
                try:
                    total += objects.info(key).size
                except ObjectNotFound:
                    continue
        if len(page) < PAGE:
            return total
        offset += PAGE


def check_limits(state: JobState, objects: ObjectStore, settings: Settings, tenant: str) -> None:
    """Raise 429 when `tenant` has its most active jobs, 413 when it keeps its most artifact bytes."""
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


def submit_job(
    kind_name: str,
    request: Mapping[str, Any],
    principal: Principal,
    *,
    state: JobState,
    kinds: JobRegistry,
    objects: ObjectStore,
    settings: Settings,
    store: Store,
) -> JobRecord:
    """Queue a job of `kind_name` with `request` (the kind's request as JSON) for the principal's tenant.

    Raises `ApiError` for each refusal listed in the module docstring; the
    stored request is the validated model's JSON, so defaults are explicit.
    """
    try:
        kind = kinds.lookup(kind_name)
    except UnknownJobKind as exc:
        suggestions = difflib.get_close_matches(kind_name, exc.known, n=3)
        raise ApiError(404, "unknown_kind", str(exc), "kind", suggestions) from None
    try:
        parsed = kind.request.model_validate(dict(request))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in ("request", *first["loc"]))
        raise ApiError(BAD_PARAMETER_STATUS, "invalid_parameter", f"{field}: {first['msg']}", field) from None
    refusal = kind.refusal(parsed, principal.entitlements)
    if refusal is not None:
        raise ApiError(403, "not_entitled", refusal, "kind")
    if kind.check is not None:
        kind.check(parsed, store, settings)
    check_limits(state, objects, settings, principal.tenant)
    return state.submit(principal.tenant, kind.name, parsed.model_dump(mode="json"))


def find_job(state: JobState, principal: Principal, job_id: str) -> JobRecord:
    """One of the principal's tenant's jobs; 404 for an unknown id or another tenant's job."""
    try:
        return state.get(job_id, tenant=principal.tenant)
    except UnknownJob as exc:
        raise ApiError(404, "not_found", str(exc), "job_id") from None


def _changed(change: Callable[..., JobRecord], job_id: str, principal: Principal) -> JobRecord:
    """`change(job_id, tenant=...)` (a cancel or resume); 404 for an unknown job, 409 for its status."""
    try:
        return change(job_id, tenant=principal.tenant)
    except UnknownJob as exc:
        raise ApiError(404, "not_found", str(exc), "job_id") from None
    except InvalidTransition as exc:
        raise ApiError(409, "conflict", str(exc), "job_id") from None


def cancel_job(state: JobState, principal: Principal, job_id: str) -> JobRecord:
    """Cancel a queued or running job (a running one stops within a heartbeat); 404 unknown, 409 finished."""
    return _changed(state.cancel, job_id, principal)


def resume_job(state: JobState, principal: Principal, job_id: str) -> JobRecord:
    """Queue a cancelled or failed job again (finished tasks are kept); 404 unknown, 409 other statuses."""
    return _changed(state.resume, job_id, principal)
