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

import io
from collections.abc import Sequence
from datetime import date

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from pydantic import Base64Bytes, BaseModel, ConfigDict, Field

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.scenarios import parse_scenario, summary_rows
from carbon254.config import Settings
from carbon254.jobs.kinds import JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.scenarios import (
    Scenario,
    ScenarioError,
    SweepTooLarge,
    apply_scenario,
    expand_sweep,
    summarize,
)
from carbon254.store import Store
from carbon254.sweeps.base import (
    StoredBase,
    combined_fingerprint,
    encoded_table,
    load_base,
    objects_of,
    record_job_run,
    scenarios_refusal,
    store_base,
)

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
    base: StoredBase


class SweepBatch(BaseModel):
    """A batch's results: each point's fingerprint, its summary rows as Arrow IPC, the marks used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprints: list[str]
    rows: Base64Bytes  # Arrow IPC: outputs are stored as JSON
    marks: list[int]


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


def plan(request: SweepRequest, context: JobContext) -> list[tuple[str, SweepTask]]:
    """Write the base curves (and replay prices) once under the job's prefix; batch the sweep's points."""
    points = _points(request)
    base, _ = store_base(
        points, context, hubs=request.hubs, iso=request.iso, as_of=request.as_of, hourly=request.hourly
    )
    texts = [p.model_dump_json() for p in points]
    return [
        (str(n), SweepTask(points=texts[start : start + POINTS_PER_TASK], base=base))
        for n, start in enumerate(range(0, len(texts), POINTS_PER_TASK))
    ]


def run_task(task: SweepTask) -> SweepBatch:
    """Apply the batch's points to the base; their summaries (one row per hub and year) and fingerprints."""
    curves, history = load_base(task.base)
    results = []
    for text in task.points:
        point = Scenario.model_validate_json(text)
        try:
            results.append(apply_scenario(point, curves, history=history or None))
        except ScenarioError as exc:
            raise ApiError(422, "scenario_failed", f"scenario {point.name!r}: {exc}", "scenario") from None
    rows = summary_rows([summarize(r) for r in results])
    encoded = encoded_table(rows)
    return SweepBatch(fingerprints=[r.fingerprint for r in results], rows=encoded, marks=task.base.marks)


def finish(request: SweepRequest, batches: Sequence[SweepBatch], context: JobContext) -> JobResult:
    """Join the batches' rows into `sweep.parquet`, record the run, and summarize the sweep."""
    tables = [ipc.open_stream(b.rows).read_all() for b in batches]
    table = pa.concat_tables(tables) if tables else summary_rows([])
    key = f"{context.artifact_prefix}sweep.parquet"
    sink = io.BytesIO()
    pq.write_table(table, sink)
    objects_of(context.settings).put(key, sink.getvalue())
    fingerprints = [f for b in batches for f in b.fingerprints]
    run = record_job_run(
        context,
        scenario=parse_scenario(request.scenario),
        marks=batches[0].marks if batches else [],
        fingerprint=combined_fingerprint(fingerprints),
        summary={"points": len(fingerprints), "rows": table.num_rows},
        artifact_key=key,
    )
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


SCENARIO_SWEEP: JobKind[SweepRequest, SweepTask, SweepBatch] = JobKind(
    name="scenario_sweep",
    request=SweepRequest,
    task_input=SweepTask,
    task_output=SweepBatch,
    plan=plan,
    task=run_task,
    finish=finish,
    description="Every point of a scenario's sweep on hubs' marked curves; summaries in sweep.parquet.",
    entitled=scenarios_refusal,
    check=check,
)
register(SCENARIO_SWEEP)
