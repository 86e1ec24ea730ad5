"""`/v1/forecast/train` and `/v1/backtests`: forecasting's long work, as jobs with their own addresses.

`GET /v1/forecast` (the forecast itself) is the `forecast` operation's
generated route. Training and backtests run as the `forecast_train` and
`forecast_backtest` job kinds: these routes submit them exactly as
`POST /v1/jobs` does (same checks, audit and tenant scoping) and read a
finished backtest's stored results back: its metrics and the chart PNG.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel

import carbon254.forecast_jobs  # noqa: F401  (registers the forecast job kinds)
from carbon254.application.errors import ApiError
from carbon254.application.jobs import find_job, submit_job
from carbon254.config import Settings
from carbon254.forecast_jobs.backtest import NAME as BACKTEST
from carbon254.forecast_jobs.backtest import ForecastBacktestRequest
from carbon254.forecast_jobs.train import NAME as TRAIN
from carbon254.forecast_jobs.train import ForecastTrainRequest
from carbon254.jobs import JobRegistry, JobState, JobStatus
from carbon254.objects.base import ObjectStore
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.service.job_audit import audited_submit
from carbon254.service.job_view import JobOut, base_url, job_out
from carbon254.service.jobs import get_job_registry, get_job_state, get_objects
from carbon254.store.base import Store

router = APIRouter(tags=["forecast"])

States = Annotated[JobState, Depends(get_job_state)]
Kinds = Annotated[JobRegistry, Depends(get_job_registry)]
Objects = Annotated[ObjectStore, Depends(get_objects)]
CurrentSettings = Annotated[Settings, Depends(get_settings)]
Stored = Annotated[Store, Depends(get_store)]
BacktestId = Annotated[str, Path(description="The backtest's id, as `POST /v1/backtests` answered it.")]


class Queued(BaseModel):
    """A job just queued: its id and where to follow it."""

    id: str
    status: JobStatus
    url: str


class BacktestOut(BaseModel):
    """A backtest: the job (status, progress) and, once it succeeded, each model's scores."""

    job: JobOut
    metrics: list[dict[str, Any]] | None
    chart_url: str | None


def _submit(
    kind: str, follow: str, body: BaseModel, request: Request, principal: CurrentPrincipal, **deps: Any
) -> Queued:
    """Submit as `POST /v1/jobs` does; the job's id and its address under `follow` (`/v1/jobs`, ...)."""
    job = audited_submit(
        request,
        kind,
        lambda: submit_job(kind, body.model_dump(mode="json", exclude_none=True), principal, **deps),
    )
    return Queued(id=job.id, status=job.status, url=f"{base_url(request)}{follow}/{job.id}")


@router.post(
    "/v1/forecast/train",
    status_code=202,
    summary="Train and register a forecast model (a forecast_train job)",
    responses=error_responses(401, 403, 404, 422, 429),
)
def post_train(
    body: ForecastTrainRequest,
    request: Request,
    principal: CurrentPrincipal,
    state: States,
    kinds: Kinds,
    objects: Objects,
    settings: CurrentSettings,
    store: Stored,
) -> Queued:
    """Fit a model on a stored location, score it on a holdout and register it as a candidate version.

    202 with the job's id; when it succeeds its summary names the version
    (promote it with `POST /v1/models/{name}/promote`).
    """
    deps = {"state": state, "kinds": kinds, "objects": objects, "settings": settings, "store": store}
    return _submit(TRAIN, "/v1/jobs", body, request, principal, **deps)


@router.post(
    "/v1/backtests",
    status_code=202,
    summary="Backtest and compare forecast models on a stored location (a forecast_backtest job)",
    responses=error_responses(401, 403, 404, 422, 429),
)
def post_backtest(
    body: ForecastBacktestRequest,
    request: Request,
    principal: CurrentPrincipal,
    state: States,
    kinds: Kinds,
    objects: Objects,
    settings: CurrentSettings,
    store: Stored,
) -> Queued:
    """Queue a backtest: each test day forecast from the prices known the morning before; 202 with its id."""
    deps = {"state": state, "kinds": kinds, "objects": objects, "settings": settings, "store": store}
    return _submit(BACKTEST, "/v1/backtests", body, request, principal, **deps)


def _backtest_job(state: JobState, principal: CurrentPrincipal, backtest_id: str) -> Any:
    job = find_job(state, principal, backtest_id)
    if job.kind != BACKTEST:
        raise ApiError(404, "not_found", f"backtest_id: {backtest_id} is a {job.kind} job, not a backtest")
    return job


@router.get(
    "/v1/backtests/{backtest_id}",
    summary="A backtest's status and, once done, each model's scores",
    responses=error_responses(401, 404),
)
def get_backtest(
    backtest_id: BacktestId,
    request: Request,
    principal: CurrentPrincipal,
    state: States,
    settings: CurrentSettings,
) -> BacktestOut:
    """The job and, once it succeeded, MAE, RMSE, sMAPE, MAPE, rMAE, pinball, coverage and DM per model."""
    job = _backtest_job(state, principal, backtest_id)
    done = job.status is JobStatus.SUCCEEDED and job.result is not None
    return BacktestOut(
        job=job_out(job, base_url(request), settings),
        metrics=list(job.result.summary["metrics"]) if done else None,
        chart_url=f"{base_url(request)}/v1/backtests/{backtest_id}/chart" if done else None,
    )


@router.get(
    "/v1/backtests/{backtest_id}/chart",
    summary="A finished backtest's chart: forecasts and the P10-P90 band against actuals (PNG)",
    responses={**error_responses(401, 404, 409), 200: {"content": {"image/png": {}}}},
    response_class=Response,
)
def get_backtest_chart(
    backtest_id: BacktestId, principal: CurrentPrincipal, state: States, objects: Objects
) -> Response:
    """The last two test weeks: actual prices, each model's forecast and the first model's band."""
    job = _backtest_job(state, principal, backtest_id)
    if job.status is not JobStatus.SUCCEEDED or job.result is None:
        raise ApiError(
            409, "not_finished", f"backtest_id: {backtest_id} is {job.status.value}, not succeeded"
        )
    return Response(objects.get(job.result.artifacts["chart"]), media_type="image/png")
