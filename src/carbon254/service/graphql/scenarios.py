"""GraphQL scenarios: `validateScenario`, `saveScenario`, `runScenario`; `scenarios`, `scenarioRuns`.

The same calls as `/v1/scenarios` (`carbon254.application.scenarios`), so a
scenario is refused for the same reasons with the same codes
(`INVALID_SCENARIO` listing every problem with its line, `SCENARIO_FAILED`
naming the step, `SCENARIO_NOT_FOUND`, `CURVE_NOT_FOUND` for an unmarked hub,
`NOT_ENTITLED` without the `scenarios` feature) and a run is recorded the
same way. A run's rows count against the request's row budget. Sweeps over
the inline limit are the `scenario_sweep` job (`submitJob`).
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from carbon254.application.curves import parse_day
from carbon254.application.errors import ApiError, renamed
from carbon254.application.scenarios import (
    INLINE_SWEEP_MAX,
    check_definition,
    monthly_changes,
    recorded_run,
    recorded_runs,
    run_request,
    save_definition,
    saved_scenarios,
    summary_rows,
)
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.scenarios import ScenarioRun as RunRecord
from carbon254.service.graphql.context import GraphQLContext
from carbon254.service.graphql.errors import from_api_error

GraphQLInfo = Info[GraphQLContext, None]
# The names GraphQL gives the fields errors name.
_RENAMES = {"as_of": "asOf", "run_id": "id"}


@strawberry.type(description="A valid scenario: its name, steps and how many points its sweep expands to.")
class ScenarioChecked:
    name: str
    steps: int
    points: int = strawberry.field(description="Points of the sweep (1 without one).")


@strawberry.type(description="A saved scenario version of the caller's tenant.")
class SavedScenario:
    name: str
    version: int
    created_at: datetime = strawberry.field(description="When it was saved (UTC).")


@strawberry.type(description="One point's yearly means for a hub, $/MWh (null for a block the curve lacks).")
class ScenarioYear:
    scenario: str
    hub: str
    year: int
    onpeak: float | None
    offpeak: float | None
    atc: float | None
    p5: float | None = strawberry.field(description="5th percentile of atc across paths (null without).")
    p50: float | None
    p95: float | None


@strawberry.type(description="One point's price for a hub, delivery month and block: base, scenario, change.")
class ScenarioMonth:
    scenario: str
    hub: str
    month: str = strawberry.field(description="Delivery month, YYYY-MM.")
    block: str
    base_price: float = strawberry.field(description="$/MWh before the scenario.")
    price: float = strawberry.field(description="$/MWh after it.")
    change: float = strawberry.field(description="price - basePrice, $/MWh.")


@strawberry.type(description="A recorded run with its rows: yearly summaries and monthly changes.")
class ScenarioRunResult:
    id: strawberry.ID
    fingerprint: str = strawberry.field(description="SHA-256 of the inputs; the same inputs give the same.")
    engine_version: str
    base_marks: list[int] = strawberry.field(description="Ids of the marks the run started from.")
    simulated: bool
    summary: list[ScenarioYear]
    months: list[ScenarioMonth]


@strawberry.type(description="A run as recorded (without its rows).")
class ScenarioRunRecord:
    id: strawberry.ID
    scenario_name: str | None = strawberry.field(description="The saved scenario's name (null if inline).")
    scenario_version: int | None
    base_marks: list[int]
    engine_version: str
    fingerprint: str
    status: str
    summary: JSON
    artifact_key: str | None
    job_id: str | None = strawberry.field(description="The scenario_sweep job that made it (null if inline).")
    created_at: datetime


def _metadata(context: GraphQLContext) -> MetadataDatabase:
    db = context.metadata()
    if db is None:
        raise RuntimeError("a scenario field ran outside an app request: the metadata database is not open")
    return db


def _record(run: RunRecord) -> ScenarioRunRecord:
    return ScenarioRunRecord(
        id=strawberry.ID(run.id),
        scenario_name=run.scenario_name,
        scenario_version=run.scenario_version,
        base_marks=list(run.base_marks),
        engine_version=run.engine_version,
        fingerprint=run.fingerprint,
        status=run.status.value,
        summary=JSON(dict(run.summary)),
        artifact_key=run.artifact_key,
        job_id=run.job_id,
        created_at=run.created_at,
    )


def resolve_validate_scenario(info: GraphQLInfo, text: str) -> ScenarioChecked:
    try:
        checked = check_definition(info.context.caller(), text)
    except ApiError as exc:
        raise from_api_error(exc) from None
    return ScenarioChecked(name=checked.name, steps=checked.steps, points=checked.points)


def resolve_save_scenario(info: GraphQLInfo, text: str) -> SavedScenario:
    context = info.context
    try:
        record = save_definition(_metadata(context), context.caller(), text)
    except ApiError as exc:
        raise from_api_error(exc) from None
    return SavedScenario(name=record.name, version=record.version, created_at=record.created_at)


def resolve_run_scenario(
    info: GraphQLInfo,
    hubs: list[str],
    text: str | None = None,
    name: str | None = None,
    version: int | None = None,
    iso: str | None = None,
    as_of: str | None = None,
    hourly: bool = False,
) -> ScenarioRunResult:
    context = info.context
    try:
        outcome = run_request(
            _metadata(context),
            context.store,
            context.settings,
            context.caller(),
            text=text,
            name=name,
            version=version,
            hubs=hubs,
            iso=iso,
            as_of=parse_day("as_of", as_of) if as_of else None,
            hourly=hourly,
        )
    except ApiError as exc:
        raise from_api_error(renamed(exc, _RENAMES)) from None
    summary = summary_rows(outcome.summaries)
    months = monthly_changes(outcome)
    context.rows.charge(summary.num_rows + months.num_rows)
    return ScenarioRunResult(
        id=strawberry.ID(outcome.run.id),
        fingerprint=outcome.run.fingerprint,
        engine_version=outcome.run.engine_version,
        base_marks=list(outcome.run.base_marks),
        simulated=any(m.curve.simulated for m in outcome.base.marks),
        summary=[ScenarioYear(**row) for row in summary.to_pylist()],
        months=[ScenarioMonth(**row) for row in months.to_pylist()],
    )


def resolve_scenarios(info: GraphQLInfo) -> list[SavedScenario]:
    context = info.context
    try:
        records = saved_scenarios(_metadata(context), context.caller())
    except ApiError as exc:
        raise from_api_error(exc) from None
    return [SavedScenario(name=r.name, version=r.version, created_at=r.created_at) for r in records]


def resolve_scenario_runs(info: GraphQLInfo, limit: int = INLINE_SWEEP_MAX) -> list[ScenarioRunRecord]:
    context = info.context
    try:
        if not 1 <= limit <= INLINE_SWEEP_MAX:
            raise ApiError(
                422, "invalid_parameter", f"limit: between 1 and {INLINE_SWEEP_MAX}, not {limit}", "limit"
            )
        runs = recorded_runs(_metadata(context), context.caller(), limit)
    except ApiError as exc:
        raise from_api_error(exc) from None
    context.rows.charge(len(runs))
    return [_record(r) for r in runs]


def resolve_scenario_run(info: GraphQLInfo, id: strawberry.ID) -> ScenarioRunRecord:
    context = info.context
    try:
        run = recorded_run(_metadata(context), context.caller(), str(id))
    except ApiError as exc:
        raise from_api_error(renamed(exc, _RENAMES)) from None
    return _record(run)


SCENARIO_QUERIES = {
    "scenarios": strawberry.field(
        resolver=resolve_scenarios,
        description="The caller's tenant's saved scenarios, the latest version of each; "
        "as `GET /v1/scenarios`.",
    ),
    "scenario_runs": strawberry.field(
        resolver=resolve_scenario_runs,
        description="The tenant's latest recorded scenario runs (interactive and sweep jobs), newest first; "
        "as `GET /v1/scenarios/runs` (`limit` 1-200).",
    ),
    "scenario_run": strawberry.field(
        resolver=resolve_scenario_run,
        description="One recorded run of the tenant; as `GET /v1/scenarios/runs/{id}` (`RUN_NOT_FOUND`).",
    ),
}
VALIDATE_SCENARIO = strawberry.field(
    resolver=resolve_validate_scenario,
    description="Check a scenario (YAML or JSON text) against the published schema and count its sweep's "
    "points; as `POST /v1/scenarios/validate`.",
)
SAVE_SCENARIO = strawberry.field(
    resolver=resolve_save_scenario,
    description="Save a scenario (YAML or JSON text) under its name; again makes a new version. "
    "As `POST /v1/scenarios`.",
)
RUN_SCENARIO = strawberry.field(
    resolver=resolve_run_scenario,
    description="Run a scenario (`text`, or a saved `name` and optional `version`) on hubs' marked curves "
    "($/MWh) and record the run; as `POST /v1/scenarios/run` (sweeps of up to 200 points).",
)
