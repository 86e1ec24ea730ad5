"""GraphQL job fields: `jobs` and `job` queries, `submitJob`, `cancelJob` and `resumeJob` mutations.

The same operations as `/v1/jobs`, through the same calls
(`carbon254.application.jobs`), so a job is refused for the same reasons
with the same codes (`UNKNOWN_KIND` with suggestions, `INVALID_PARAMETER`
naming the request field, `NOT_ENTITLED`, `TOO_MANY_JOBS`, `STORAGE_FULL`,
`NOT_FOUND` for another tenant's job, `CONFLICT` for a cancel or resume its
status does not allow), and audit-logged the same way (`job_audit`). A job
reads as `GET /v1/jobs/{id}` answers it, its `downloadUrl` the same signed
link. Resolvers are plain functions: the router already runs every
operation off the server's event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from carbon254.application.errors import ApiError, bad_parameter, renamed
from carbon254.application.identity import Principal
from carbon254.application.jobs import cancel_job, find_job, resume_job, submit_job
from carbon254.jobs import JobRecord, JobState, JobStatus
from carbon254.service.graphql.context import GraphQLContext
from carbon254.service.graphql.curves import MARK_CURVE, CurveMark
from carbon254.service.graphql.errors import from_api_error
from carbon254.service.graphql.job_types import Job, JobStatusValue
from carbon254.service.graphql.scenarios import (
    RUN_SCENARIO,
    SAVE_SCENARIO,
    VALIDATE_SCENARIO,
    SavedScenario,
    ScenarioChecked,
    ScenarioRunResult,
)
from carbon254.service.job_audit import audited_change, audited_submit
from carbon254.service.job_view import MAX_PAGE, base_url, job_out

GraphQLInfo = Info[GraphQLContext, None]
# `cancel_job` or `resume_job`: a change of one of a principal's jobs.
Change = Callable[[JobState, Principal, str], JobRecord]


def _job(context: GraphQLContext, job: JobRecord) -> Job:
    """`job` as GraphQL shows it, its download link signed for the address the caller used."""
    return Job.of(job_out(job, base_url(context.http_request()), context.settings))


def _answer(context: GraphQLContext, call: Callable[[], JobRecord]) -> Job:
    """The job `call()` gives; a refusal raised as the GraphQL error of the same code, naming `id`."""
    try:
        return _job(context, call())
    except ApiError as exc:
        raise from_api_error(renamed(exc, {"job_id": "id"})) from None


def _change(info: GraphQLInfo, action: str, job_id: str, change: Change) -> Job:
    """A cancel or resume of one of the caller's jobs, audit-logged as REST's is."""
    context = info.context
    state, principal = context.jobs().state, context.caller()
    return _answer(
        context,
        lambda: audited_change(
            context.http_request(), action, job_id, lambda: change(state, principal, job_id)
        ),
    )


def resolve_jobs(
    info: GraphQLInfo,
    kind: str | None = None,
    status: JobStatusValue | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Job]:
    context = info.context
    try:
        if not 1 <= limit <= MAX_PAGE:
            raise bad_parameter("limit", f"limit must be between 1 and {MAX_PAGE}; got {limit}")
        if offset < 0:
            raise bad_parameter("offset", f"offset must be 0 or more; got {offset}")
    except ApiError as exc:
        raise from_api_error(exc) from None
    found = context.jobs().state.list_jobs(
        context.caller().tenant,
        kind=kind,
        status=JobStatus(status.value) if status is not None else None,
        limit=limit,
        offset=offset,
    )
    context.rows.charge(len(found))
    return [_job(context, job) for job in found]


def resolve_job(info: GraphQLInfo, id: strawberry.ID) -> Job | None:
    context = info.context
    return _answer(context, lambda: find_job(context.jobs().state, context.caller(), str(id)))


def resolve_submit_job(info: GraphQLInfo, kind: str, request: JSON) -> Job:
    context = info.context
    jobs = context.jobs()
    body: Any = request

    def submit() -> JobRecord:
        if not isinstance(body, dict):
            raise bad_parameter("request", "request must be a JSON object: the kind's request fields")
        return submit_job(
            kind,
            body,
            context.caller(),
            state=jobs.state,
            kinds=jobs.kinds,
            objects=jobs.objects,
            settings=context.settings,
            store=context.store,
        )

    return _answer(context, lambda: audited_submit(context.http_request(), kind, submit))


def resolve_cancel_job(info: GraphQLInfo, id: strawberry.ID) -> Job:
    return _change(info, "jobs.cancel", str(id), cancel_job)


def resolve_resume_job(info: GraphQLInfo, id: strawberry.ID) -> Job:
    return _change(info, "jobs.resume", str(id), resume_job)


JOB_QUERIES: dict[str, Any] = {
    "jobs": strawberry.field(
        resolver=resolve_jobs,
        description="The caller's tenant's jobs, newest first, optionally of one kind and/or status; "
        "as `GET /v1/jobs` (`limit` 1-500).",
    ),
    "job": strawberry.field(
        resolver=resolve_job,
        description="One of the caller's tenant's jobs; as `GET /v1/jobs/{id}` (`NOT_FOUND` otherwise).",
    ),
}


@strawberry.type(
    name="Mutation",
    description="Long work as jobs: submit, cancel and resume, as `/v1/jobs`; marking forward curves; "
    "validating, saving and running scenarios.",
)
class Mutation:
    submit_job: Job = strawberry.field(
        resolver=resolve_submit_job,
        description="Queue a job of `kind` (e.g. `export`) with the kind's `request`; as `POST /v1/jobs`. "
        "Follow it with `job(id)` or the stream's `jobs` subscription.",
    )
    cancel_job: Job = strawberry.field(
        resolver=resolve_cancel_job,
        description="Cancel a queued or running job; as `POST /v1/jobs/{id}/cancel` "
        "(`CONFLICT` once finished).",
    )
    resume_job: Job = strawberry.field(
        resolver=resolve_resume_job,
        description="Queue a cancelled or failed job again, keeping its finished tasks; "
        "as `POST /v1/jobs/{id}/resume`.",
    )
    mark_curve: CurveMark = MARK_CURVE
    validate_scenario: ScenarioChecked = VALIDATE_SCENARIO
    save_scenario: SavedScenario = SAVE_SCENARIO
    run_scenario: ScenarioRunResult = RUN_SCENARIO
