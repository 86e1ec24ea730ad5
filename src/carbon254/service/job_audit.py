"""Job submits, cancels and resumes as every surface audit-logs them, with their tenant and outcome.

REST (`/v1/jobs`) and GraphQL (`submitJob`, `cancelJob`, `resumeJob`) both
wrap their call into `carbon254.application.jobs` here, so the audit trail
reads the same whichever surface acted: `jobs.submit` of the new job's id
(status 202), or of the kind when refused (the refusal's status);
`jobs.cancel` / `jobs.resume` of the job's id with its kind and new status
(200), or the refusal's status.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from carbon254.application.errors import ApiError
from carbon254.jobs import JobRecord
from carbon254.service.audit import audit_action

SUBMITTED = 202  # the status a queued job is audited with, whatever the surface answered


def audited_submit(request: Request, kind: str, submit: Callable[[], JobRecord]) -> JobRecord:
    """`submit()` (a `submit_job` call for `kind`), audit-logged as `jobs.submit` with its outcome."""
    try:
        job = submit()
    except ApiError as error:
        audit_action(request, "jobs.submit", kind, {"kind": kind}, status=error.status_code)
        raise
    audit_action(request, "jobs.submit", job.id, {"kind": job.kind}, status=SUBMITTED)
    return job


def audited_change(request: Request, action: str, job_id: str, change: Callable[[], JobRecord]) -> JobRecord:
    """`change()` (a cancel or resume of `job_id`), audit-logged as `action` with its outcome."""
    try:
        job = change()
    except ApiError as error:
        audit_action(request, action, job_id, {}, status=error.status_code)
        raise
    audit_action(request, action, job_id, {"kind": job.kind, "status": job.status.value}, status=200)
    return job
