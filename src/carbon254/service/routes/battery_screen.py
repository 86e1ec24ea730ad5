"""`POST /v1/battery/screen`: queue a fleet screen, the `battery_screen` job, and answer 202 with the job.

The same job as `POST /v1/jobs {"kind": "battery_screen", "request": ...}`,
submitted through `carbon254.application.jobs.submit_job` with the same
checks and audit entry; this route only spares the envelope and documents
the request's fields. Follow the job with `GET /v1/jobs/{id}`; its result
has the top ten in `summary.top` and a signed `download_url` to the whole
ranking (Parquet, or CSV with `"format": "csv"`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from carbon254.application.jobs import submit_job
from carbon254.config import Settings
from carbon254.jobs import JobRegistry, JobState
from carbon254.objects.base import ObjectStore
from carbon254.screening import ScreenRequest
from carbon254.screening.kind import NAME
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.job_audit import audited_submit
from carbon254.service.job_view import JobOut, base_url, job_out
from carbon254.service.jobs import get_job_registry, get_job_state, get_objects
from carbon254.service.strict_query import StrictQueryRoute
from carbon254.store.base import Store

router = APIRouter(tags=["jobs"], route_class=StrictQueryRoute)


@router.post(
    "/v1/battery/screen",
    status_code=202,
    summary="Screen a battery at every node of an ISO (a job)",
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
def post_screen(
    body: ScreenRequest,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    state: Annotated[JobState, Depends(get_job_state)],
    kinds: Annotated[JobRegistry, Depends(get_job_registry)],
    objects: Annotated[ObjectStore, Depends(get_objects)],
    settings: Annotated[Settings, Depends(get_settings)],
    store: Annotated[Store, Depends(get_store)],
) -> JobOut:
    """Queue one battery's perfect-foresight energy arbitrage at each node, ranked by net revenue ($).

    202 with the job (`status` queued); `GET /v1/jobs/{id}` follows it.
    """
    job = audited_submit(
        request,
        NAME,
        lambda: submit_job(
            NAME,
            body.model_dump(mode="json", exclude_none=True),
            principal,
            state=state,
            kinds=kinds,
            objects=objects,
            settings=settings,
            store=store,
        ),
    )
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_out(job, base_url(request), settings)
