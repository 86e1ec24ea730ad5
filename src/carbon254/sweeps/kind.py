"""The `scenario_sweep` job kind: every point of a scenario's sweep, in batches, on the local pool or Dask.

`plan` builds the base curve set from the tenant's marks (with HPFCs when a
step works on hours) and the stored prices replay steps need, writes them to
the job's corner of the object store once, expands the sweep and splits its
points into batches of `POINTS_PER_TASK`. Each `task` reads the same base,
applies its points (`carbon254.scenarios`) and returns their yearly
summaries and fingerprints: a pure function of its input, so a retried or
resumed batch gives the same rows. `finish` writes every point's summary to
`jobs/<id>/sweep.parquet` and records the run (base marks, engine version,
one fingerprint over the points) beside interactive runs.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from pydantic import Base64Bytes, BaseModel, ConfigDict, Field

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import AuthMethod, Entitlements, Principal
from carbon254.application.scenarios import (
    SCENARIOS_FEATURE,
    base_curves,
    needs_hours,
    parse_scenario,
    replay_history,
    summary_rows,
)
from carbon254.config import Settings
from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.scenarios import record_run
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.scenarios import (
    ENGINE_VERSION,
    HistoryNeed,
    Scenario,
    ScenarioError,
    SweepTooLarge,
    apply_scenario,
    expand_sweep,
    history_needs,
    summarize,
)
from carbon254.store import Store, open_store
from carbon254.sweeps.curve_io import curve_set_bytes, curve_set_of

# Points one task applies: at ~2 ms a point on a 10-year hourly curve, a task of 100 is a fifth of
# a second, long enough that reading the base and the round trip to a worker stay small beside it.
POINTS_PER_TASK = 100


class SweepRequest(BaseModel):
    """A sweep to run: the scenario (YAML or JSON text with a `sweep`), the hubs, the day of their marks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str = Field(description="The scenario as YAML (or JSON) text; its `sweep` makes the grid.")
    hubs: list[str] = Field(description="Marked hubs to run on.")
    iso: str | None = Field(None, description="ISO/RTO of the hubs (needed only if two ISOs mark a name).")
    as_of: date | None = Field(None, description="Market day of the marks (default: each hub's latest).")
    hourly: bool = Field(False, description="Run on each hub's HPFC even if no step needs hours.")


class SweepTask(BaseModel):
    """One batch of points and where to read the base they all start from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    points: list[str]  # each point's scenario as JSON
    monthly_key: str
    hourly_key: str
    history: list[tuple[HistoryNeedModel, str]]
    object_store: str
    data_dir: str
    s3_endpoint: str | None


class HistoryNeedModel(BaseModel):
    """A replay's price history need, as a task input carries it (with the key of its stored table)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iso: str
    location: str
    market: str
    start: date
    end: date
    event: str = ""

    def need(self) -> HistoryNeed:
        """The engine's `HistoryNeed`."""
        return HistoryNeed(self.iso, self.location, self.market, self.start, self.end, self.event)


class SweepBatch(BaseModel):
    """A batch's results: each point's fingerprint and its summary rows as Arrow IPC bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprints: list[str]
    rows: Base64Bytes  # Arrow IPC: outputs are stored as JSON


SweepTask.model_rebuild()


def _points(request: SweepRequest) -> list[Scenario]:
    scenario = parse_scenario(request.scenario)
    if not scenario.sweep:
        raise bad_parameter(
            "scenario", "scenario: it has no `sweep`; run it directly (POST /v1/scenarios/run)"
        )
    try:
        return expand_sweep(scenario)
    except SweepTooLarge as exc:
        raise bad_parameter("scenario", f"scenario: {exc}") from None


def _objects(settings: Settings) -> ObjectStore:
    return open_object_store(
        settings.object_store, data_dir=settings.data_dir, s3_endpoint=settings.s3_endpoint
    )


def _table_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def plan(request: SweepRequest, context: JobContext) -> list[tuple[str, SweepTask]]:
    """Write the base curves (and replay prices) once under the job's prefix; batch the sweep's points."""
    points = _points(request)
    settings = context.settings
    # Entitlements were checked when the job was submitted (`refusal`); the plan reads as the tenant.
    principal = Principal(context.tenant, "job", AuthMethod.NONE, Entitlements())
    db = MetadataDatabase(settings.metadata_database_url())
    store = open_store(settings.store_url(), settings.data_dir, create=False)
    try:
        base = base_curves(
            db,
            store,
            settings,
            principal,
            iso=request.iso,
            hubs=request.hubs,
            as_of=request.as_of,
            hourly=request.hourly or any(needs_hours(p) for p in points),
        )
        needs = sorted({n for p in points for n in history_needs(p)}, key=repr)
        history = replay_history(store, settings, principal, needs)
    finally:
        store.close()
        db.close()
    objects = _objects(settings)
    monthly, hourly = curve_set_bytes(base.curves)
    prefix = context.artifact_prefix
    objects.put(f"{prefix}base/monthly.arrow", monthly)
    objects.put(f"{prefix}base/hourly.arrow", hourly)
    stored: list[tuple[HistoryNeedModel, str]] = []
    for n, (need, table) in enumerate(history.items()):
        key = f"{prefix}base/history-{n}.arrow"
        objects.put(key, _table_bytes(table))
        model = HistoryNeedModel(
            iso=need.iso,
            location=need.location,
            market=need.market,
            start=need.start,
            end=need.end,
            event=need.event,
        )
        stored.append((model, key))
    marks = ",".join(str(m.id) for m in base.marks)
    objects.put(f"{prefix}base/marks.txt", marks.encode())
    texts = [p.model_dump_json() for p in points]
    return [
        (
            str(n),
            SweepTask(
                points=texts[start : start + POINTS_PER_TASK],
                monthly_key=f"{prefix}base/monthly.arrow",
                hourly_key=f"{prefix}base/hourly.arrow",
                history=stored,
                object_store=settings.object_store,
                data_dir=str(settings.data_dir),
                s3_endpoint=settings.s3_endpoint,
            ),
        )
        for n, start in enumerate(range(0, len(texts), POINTS_PER_TASK))
    ]


def run_task(task: SweepTask) -> SweepBatch:
    """Apply the batch's points to the base; their summaries (one row per hub and year) and fingerprints."""
    objects = open_object_store(task.object_store, data_dir=Path(task.data_dir), s3_endpoint=task.s3_endpoint)
    base = curve_set_of(objects.get(task.monthly_key), objects.get(task.hourly_key))
    history = {need.need(): ipc.open_stream(objects.get(key)).read_all() for need, key in task.history}
    results = []
    for text in task.points:
        point = Scenario.model_validate_json(text)
        try:
            results.append(apply_scenario(point, base, history=history or None))
        except ScenarioError as exc:
            raise ApiError(422, "scenario_failed", f"scenario {point.name!r}: {exc}", "scenario") from None
    rows = summary_rows([summarize(r) for r in results])
    # Base64Bytes validates base64 text into bytes, so the raw IPC is handed over encoded.
    encoded = base64.b64encode(_table_bytes(rows))
    return SweepBatch(fingerprints=[r.fingerprint for r in results], rows=encoded)


def finish(request: SweepRequest, batches: Sequence[SweepBatch], context: JobContext) -> JobResult:
    """Join the batches' rows into `sweep.parquet`, record the run, and summarize the sweep."""
    tables = [ipc.open_stream(b.rows).read_all() for b in batches]
    table = pa.concat_tables(tables) if tables else summary_rows([])
    objects = _objects(context.settings)
    key = f"{context.artifact_prefix}sweep.parquet"
    sink = io.BytesIO()
    pq.write_table(table, sink)
    objects.put(key, sink.getvalue())
    digest = hashlib.sha256()
    fingerprints = [f for b in batches for f in b.fingerprints]
    for fingerprint in fingerprints:
        digest.update(fingerprint.encode())
    marks = [int(m) for m in objects.get(f"{context.artifact_prefix}base/marks.txt").decode().split(",") if m]
    scenario = parse_scenario(request.scenario)
    db = MetadataDatabase(context.settings.metadata_database_url())
    try:
        run = record_run(
            db,
            tenant=context.tenant,
            base_marks=marks,
            engine_version=ENGINE_VERSION,
            fingerprint=digest.hexdigest(),
            status="succeeded",
            summary={"points": len(fingerprints), "rows": table.num_rows},
            inline=scenario.model_dump_json(),
            artifact_key=key,
            job_id=context.job_id,
        )
    finally:
        db.close()
    for leftover in objects.list(f"{context.artifact_prefix}base/"):
        objects.delete(leftover.key)
    summary = {
        "points": len(fingerprints),
        "rows": table.num_rows,
        "run": run.id,
        "fingerprint": run.fingerprint,
    }
    return JobResult(summary=summary, artifacts={"sweep": key})


def check(request: SweepRequest, store: Store, settings: Settings) -> None:
    """Refuse at submit what could never run: a malformed scenario, no sweep, no hubs, too many points."""
    _points(request)
    if not request.hubs:
        raise bad_parameter("hubs", "hubs: name at least one marked hub to run the sweep on")


def refusal(request: SweepRequest, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not run sweeps (the `scenarios` feature), or None if it may."""
    return None if entitlements.allows_feature(SCENARIOS_FEATURE) else "not entitled to the scenarios feature"


SCENARIO_SWEEP: JobKind[SweepRequest, SweepTask, SweepBatch] = JobKind(
    name="scenario_sweep",
    request=SweepRequest,
    task_input=SweepTask,
    task_output=SweepBatch,
    plan=plan,
    task=run_task,
    finish=finish,
    description="Every point of a scenario's sweep on hubs' marked curves; summaries in sweep.parquet.",
    entitled=refusal,
    check=check,
)
register(SCENARIO_SWEEP)
