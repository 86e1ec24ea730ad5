"""The `scenario_paths` job kind: a scenario's Monte Carlo price paths, in batches, on the pool or Dask.

A `paths` step of many paths on a long hourly curve is more than one request
should hold (10,000 paths over three years of hours is 2 GB), so the job
splits the paths into batches of about `CELLS_PER_TASK` path-hours. Batch k
runs the scenario with that many paths and the seed of (scenario seed, k),
so every batch is reproducible alone and a resumed job redraws nothing it
kept. Each task writes its paths as a Parquet part (hub, path,
interval_start, price) and returns each path's yearly mean price; `finish`
joins the parts into `paths.parquet` by copying row groups (as exports do),
reports P5/P50/P95 of the yearly means per hub and year, and records the run.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Sequence
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from pydantic import Base64Bytes, BaseModel, ConfigDict, Field

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.scenarios import parse_scenario
from carbon254.config import Settings
from carbon254.exports.parquet_join import join_parquet
from carbon254.isos import iso_info
from carbon254.jobs.kinds import JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.scenarios import PathsStep, PricePaths, Scenario, ScenarioError, apply_scenario
from carbon254.scenarios.engine import scenario_seed
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
from carbon254.timeseries._clock import clock_for

# Path-hours one task simulates: 2M float64 values (16 MB) plus their Parquet part, a fraction of
# a second to draw and a few to encode.
CELLS_PER_TASK = 2_000_000
PATH_SCHEMA = pa.schema(
    [
        ("hub", pa.string()),
        ("path", pa.int64()),
        ("interval_start", pa.timestamp("us", "UTC")),
        ("price", pa.float64()),
    ]
)


class PathsRequest(BaseModel):
    """Paths to draw: a scenario (YAML or JSON text with a `paths` step), the hubs, their marks' day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str = Field(description="The scenario as YAML (or JSON) text; its last `paths` step draws.")
    hubs: list[str] = Field(description="Marked hubs to run on.")
    iso: str | None = Field(None, description="ISO/RTO of the hubs (needed only if two ISOs mark a name).")
    as_of: date | None = Field(None, description="Market day of the marks (default: each hub's latest).")


class PathsTask(BaseModel):
    """One batch: paths `first` .. `first + count - 1`, the base they are drawn on and their part's key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str  # the batch's scenario as JSON: its paths step draws `count` paths with the batch's seed
    first: int
    count: int
    part_key: str
    base: StoredBase


class PathsBatch(BaseModel):
    """A batch's results: its part, each path's yearly means (Arrow IPC), its fingerprint, the marks used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    part_key: str
    paths: int
    rows: int
    means: Base64Bytes  # Arrow IPC: outputs are stored as JSON
    fingerprint: str
    marks: list[int]


def _paths_step(scenario: Scenario) -> tuple[int, PathsStep]:
    """The scenario's last `paths` step and its index; 422 when it has none or has a sweep."""
    if scenario.sweep:
        raise bad_parameter("scenario", "scenario: paths jobs take no `sweep`; use the scenario_sweep job")
    found = [(i, s) for i, s in enumerate(scenario.steps) if isinstance(s, PathsStep)]
    if not found:
        raise bad_parameter("scenario", "scenario: it has no `paths` step to draw")
    return found[-1]


def _batch_seed(seed: int, batch: int) -> int:
    """The seed of batch `batch`: derived from the scenario's seed, so each batch is reproducible alone."""
    digest = hashlib.sha256(f"{seed}:{batch}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def plan(request: PathsRequest, context: JobContext) -> list[tuple[str, PathsTask]]:
    """Write the base once; split the paths into batches of about `CELLS_PER_TASK` path-hours."""
    scenario = parse_scenario(request.scenario)
    index, step = _paths_step(scenario)
    base, curves = store_base(
        [scenario], context, hubs=request.hubs, iso=request.iso, as_of=request.as_of, hourly=True
    )
    hours = sum(len(h.starts) for h in curves.hourly.values())
    per_task = max(1, CELLS_PER_TASK // max(hours, 1))
    seed = scenario_seed(scenario)
    tasks = []
    for n in range(math.ceil(step.n_paths / per_task)):
        first = n * per_task
        count = min(per_task, step.n_paths - first)
        steps = list(scenario.steps)
        steps[index] = step.model_copy(update={"n_paths": count})
        batch = scenario.model_copy(update={"steps": steps, "seed": _batch_seed(seed, n)})
        key = f"{context.artifact_prefix}parts/{n}.parquet"
        tasks.append(
            (
                str(n),
                PathsTask(
                    scenario=batch.model_dump_json(),
                    first=first,
                    count=count,
                    part_key=key,
                    base=base,
                ),
            )
        )
    return tasks


def _yearly_means(paths: PricePaths, first: int) -> pa.Table:
    """Each path's mean price ($/MWh) per calendar year in the ISO's market time."""
    local = clock_for(iso_info(paths.iso).timezone, paths.starts).to_local(paths.starts)
    years = (local // 1_000_000).astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    hub, path, year, mean = [], [], [], []
    for y in np.unique(years):
        inside = years == y
        means = paths.values[:, inside].mean(axis=1)
        hub += [paths.hub] * len(means)
        path += list(range(first, first + len(means)))
        year += [int(y)] * len(means)
        mean += means.tolist()
    return pa.table({"hub": hub, "path": path, "year": year, "mean": mean})


def run_task(task: PathsTask) -> PathsBatch:
    """Draw the batch's paths on the base; write them as a Parquet part; their yearly means."""
    curves, history = load_base(task.base)
    scenario = Scenario.model_validate_json(task.scenario)
    try:
        result = apply_scenario(scenario, curves, history=history or None)
    except ScenarioError as exc:
        raise ApiError(422, "scenario_failed", f"scenario {scenario.name!r}: {exc}", "scenario") from None
    tables, means = [], []
    for hub, paths in result.paths.items():
        n, hours = paths.values.shape
        tables.append(
            pa.table(
                {
                    "hub": pa.array([hub] * (n * hours), pa.string()),
                    "path": pa.array(np.repeat(np.arange(task.first, task.first + n), hours), pa.int64()),
                    "interval_start": pa.array(np.tile(paths.starts, n), pa.timestamp("us", "UTC")),
                    "price": pa.array(paths.values.reshape(-1), pa.float64()),
                },
                schema=PATH_SCHEMA,
            )
        )
        means.append(_yearly_means(paths, task.first))
    table = pa.concat_tables(tables) if tables else PATH_SCHEMA.empty_table()
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1 << 20)
    task.base.objects().put(task.part_key, sink.getvalue())
    joined = pa.concat_tables(means)
    return PathsBatch(
        part_key=task.part_key,
        paths=task.count,
        rows=table.num_rows,
        means=encoded_table(joined),
        fingerprint=result.fingerprint,
        marks=task.base.marks,
    )


def percentiles(means: pa.Table) -> list[dict[str, object]]:
    """P5, P50 and P95 across paths of the yearly mean price ($/MWh), per hub and year."""
    out: list[dict[str, object]] = []
    for hub in sorted(set(means.column("hub").to_pylist())):
        rows = means.filter(pc.equal(means.column("hub"), hub))
        for year in sorted(set(rows.column("year").to_pylist())):
            values = rows.filter(pc.equal(rows.column("year"), year)).column("mean").to_numpy()
            p5, p50, p95 = np.percentile(values, [5, 50, 95])
            out.append({"hub": hub, "year": year, "p5": p5, "p50": p50, "p95": p95, "paths": len(values)})
    return out


def finish(request: PathsRequest, batches: Sequence[PathsBatch], context: JobContext) -> JobResult:
    """Join the parts into `paths.parquet`, record the run, and summarize the yearly means' spread."""
    objects = objects_of(context.settings)
    key = f"{context.artifact_prefix}paths.parquet"
    with objects.writer(key) as sink:
        rows = join_parquet(objects, [b.part_key for b in batches], sink)
    for batch in batches:
        objects.delete(batch.part_key)
    means = pa.concat_tables([ipc.open_stream(b.means).read_all() for b in batches])
    spread = percentiles(means)
    run = record_job_run(
        context,
        scenario=parse_scenario(request.scenario),
        marks=batches[0].marks if batches else [],
        fingerprint=combined_fingerprint([b.fingerprint for b in batches]),
        summary={"paths": sum(b.paths for b in batches), "years": spread},
        artifact_key=key,
    )
    summary = {"paths": sum(b.paths for b in batches), "rows": rows, "years": spread}
    summary |= {"run": run.id, "fingerprint": run.fingerprint}
    return JobResult(summary=summary, artifacts={"paths": key})


def check(request: PathsRequest, store: Store, settings: Settings) -> None:
    """Refuse at submit what could never run: a malformed scenario, no `paths` step, a sweep, no hubs."""
    _paths_step(parse_scenario(request.scenario))
    if not request.hubs:
        raise bad_parameter("hubs", "hubs: name at least one marked hub to draw paths for")


SCENARIO_PATHS: JobKind[PathsRequest, PathsTask, PathsBatch] = JobKind(
    name="scenario_paths",
    request=PathsRequest,
    task_input=PathsTask,
    task_output=PathsBatch,
    plan=plan,
    task=run_task,
    finish=finish,
    description="A scenario's Monte Carlo hourly price paths in batches: paths.parquet, yearly P5/P50/P95.",
    entitled=scenarios_refusal,
    check=check,
)
register(SCENARIO_PATHS)
