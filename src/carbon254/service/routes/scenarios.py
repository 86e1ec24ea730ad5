"""`/v1/scenarios`: the published schema, validation, saved scenarios, runs and the replay presets.

Thin over `application.scenarios`, as `carbon254 scenario` is. A scenario
body is its YAML (or JSON) text; a run names hubs whose marked curves it
shocks. Sweeps larger than the inline limit run as the `scenario_sweep` job
(`POST /v1/jobs`), with progress, cancel and resume.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from carbon254.application.curves import parse_day
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.scenarios import (
    check_definition,
    monthly_changes,
    recorded_run,
    recorded_runs,
    run_request,
    save_definition,
    saved_scenarios,
    summary_rows,
)
from carbon254.config import Settings
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.scenarios import ScenarioRun
from carbon254.scenarios import list_presets, scenario_schema
from carbon254.service.deps import get_settings, get_store
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal
from carbon254.store.base import Store

router = APIRouter(prefix="/v1/scenarios", tags=["analytics"])

MAX_SCENARIO_BYTES = 256 * 1024  # a scenario is a page of YAML; this refuses a mistaken upload early


def _metadata(request: Request) -> MetadataDatabase:
    db: MetadataDatabase = request.app.state.metadata
    return db


async def _text(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_SCENARIO_BYTES:
        raise ApiError(413, "too_large", f"scenario: the body is over {MAX_SCENARIO_BYTES // 1024} KB")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad_parameter("scenario", "scenario: the body is not UTF-8 text") from None


class ScenarioChecked(BaseModel):
    """A valid scenario: its name, steps and, for a sweep, how many points it expands to."""

    name: str
    steps: int
    points: int


class ScenarioSaved(BaseModel):
    """A saved scenario version."""

    name: str
    version: int
    created_at: datetime


class Preset(BaseModel):
    """A historical replay preset (`replay: {preset: NAME}`): where and when prices moved."""

    name: str
    iso: str
    location: str
    market: str
    start: str
    end: str
    description: str


class RunRequest(BaseModel):
    """A run: a scenario (inline `text`, or a saved `name`), the hubs it shocks and the day of their marks."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="The scenario as YAML (or JSON) text.")
    name: str | None = Field(None, description="A saved scenario's name (instead of text).")
    version: int | None = Field(None, description="The saved scenario's version (default: latest).")
    hubs: list[str] = Field(description='Marked hubs to run on, e.g. ["HB_NORTH"].')
    iso: str | None = Field(None, description="ISO/RTO (needed only if two ISOs mark a hub name).")
    as_of: str | None = Field(None, description="Market day of the marks, YYYY-MM-DD (default: latest).")
    hourly: bool = Field(False, description="Run on each hub's HPFC even if no step needs hours.")


class RunOut(BaseModel):
    """A recorded run: its id and fingerprint, yearly summaries and the monthly changes by hub and block."""

    id: str
    fingerprint: str
    engine_version: str
    base_marks: list[int]
    simulated: bool
    summary: list[dict[str, Any]]
    months: list[dict[str, Any]]


class RunRecordOut(BaseModel):
    """A run as recorded (without its rows)."""

    id: str
    scenario_name: str | None
    scenario_version: int | None
    base_marks: list[int]
    engine_version: str
    fingerprint: str
    status: str
    summary: dict[str, Any]
    artifact_key: str | None
    job_id: str | None
    created_at: datetime


@router.get("/schema", summary="The published JSON Schema of scenario files")
async def get_schema() -> dict[str, Any]:
    """The JSON Schema every scenario (YAML or JSON) is validated against."""
    return scenario_schema()


@router.get("/presets", summary="Historical replay presets")
async def get_presets() -> list[Preset]:
    """Named historical events a `replay` step re-applies (their prices must be in the store)."""
    return [
        Preset(
            name=p.name,
            iso=p.iso,
            location=p.location,
            market=p.market,
            start=p.start.isoformat(),
            end=p.end.isoformat(),
            description=p.description,
        )
        for p in list_presets()
    ]


@router.post("/validate", summary="Validate a scenario", responses=error_responses(401, 403, 413, 422))
async def post_validate(request: Request, principal: CurrentPrincipal) -> ScenarioChecked:
    """Check a YAML (or JSON) scenario against the schema; 422 lists every problem with its line."""
    checked = check_definition(principal, await _text(request))
    return ScenarioChecked(name=checked.name, steps=checked.steps, points=checked.points)


@router.post("", status_code=201, summary="Save a scenario", responses=error_responses(401, 403, 413, 422))
async def post_scenario(request: Request, principal: CurrentPrincipal) -> ScenarioSaved:
    """Store a scenario under its name for the caller's tenant; saving a name again makes a new version."""
    text = await _text(request)
    db = _metadata(request)
    record = await run_in_threadpool(lambda: save_definition(db, principal, text))
    return ScenarioSaved(name=record.name, version=record.version, created_at=record.created_at)


@router.get("", summary="Saved scenarios", responses=error_responses(401, 403))
async def get_scenarios(request: Request, principal: CurrentPrincipal) -> list[ScenarioSaved]:
    """The tenant's saved scenarios, the latest version of each."""
    db = _metadata(request)
    records = await run_in_threadpool(lambda: saved_scenarios(db, principal))
    return [ScenarioSaved(name=r.name, version=r.version, created_at=r.created_at) for r in records]


@router.post("/run", summary="Run a scenario on marked curves", responses=error_responses(401, 403, 404, 422))
async def post_run(
    body: RunRequest,
    request: Request,
    principal: CurrentPrincipal,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> RunOut:
    """Apply a scenario (or each point of a sweep of up to 200) to hubs' marks and record the run.

    Larger sweeps: submit the `scenario_sweep` job (`POST /v1/jobs`).
    """
    db = _metadata(request)
    day = parse_day("as_of", body.as_of) if body.as_of else None
    outcome = await run_in_threadpool(
        lambda: run_request(
            db,
            store,
            settings,
            principal,
            text=body.text,
            name=body.name,
            version=body.version,
            hubs=body.hubs,
            iso=body.iso,
            as_of=day,
            hourly=body.hourly,
        )
    )
    return RunOut(
        id=outcome.run.id,
        fingerprint=outcome.run.fingerprint,
        engine_version=outcome.run.engine_version,
        base_marks=list(outcome.run.base_marks),
        simulated=any(m.curve.simulated for m in outcome.base.marks),
        summary=summary_rows(outcome.summaries).to_pylist(),
        months=monthly_changes(outcome).to_pylist(),
    )


@router.get("/runs", summary="Recorded scenario runs", responses=error_responses(401, 403))
async def get_runs(request: Request, principal: CurrentPrincipal) -> list[RunRecordOut]:
    """The tenant's latest runs (interactive and sweep jobs), newest first."""
    db = _metadata(request)
    runs = await run_in_threadpool(lambda: recorded_runs(db, principal))
    return [_record(r) for r in runs]


@router.get("/runs/{run_id}", summary="One recorded run", responses=error_responses(401, 403, 404))
async def get_one_run(
    run_id: Annotated[str, Path(description="The run's id.")], request: Request, principal: CurrentPrincipal
) -> RunRecordOut:
    """A run as recorded: its inputs (marks, scenario), engine version, fingerprint and summary."""
    db = _metadata(request)
    return _record(await run_in_threadpool(lambda: recorded_run(db, principal, run_id)))


def _record(run: ScenarioRun) -> RunRecordOut:
    return RunRecordOut(
        id=run.id,
        scenario_name=run.scenario_name,
        scenario_version=run.scenario_version,
        base_marks=list(run.base_marks),
        engine_version=run.engine_version,
        fingerprint=run.fingerprint,
        status=run.status.value,
        summary=dict(run.summary),
        artifact_key=run.artifact_key,
        job_id=run.job_id,
        created_at=run.created_at,
    )
