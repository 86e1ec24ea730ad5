"""The `battery_screen` job kind: one battery at every node of an ISO (or a list), ranked by net revenue.

`plan` checks the request against the catalog (`request.resolve`), pins
`as_of` to the planning instant when none was given (so a resumed or
retried task reads exactly the prices the first run read), and splits the
nodes into tasks of about `INTERVALS_PER_TASK` price intervals each. Each
`task` reads its nodes' LMPs in one store read, checks each node's series
is whole (a node with missing intervals is skipped with the reason, not
failed), and runs perfect-foresight energy arbitrage on one HiGHS model,
re-solved node after node from the previous node's basis: the first, cold
solve of a year of hourly prices takes a few tenths of a second, each
warm one after it a few hundredths. About twenty such nodes make a task
of one to two seconds, long enough that the store read, the cold solve
and the round trip to a worker stay small beside it, short enough that
progress moves and a cancel is quick. A task returns each node's figures:
a pure function of its input (a fresh model per task, nodes in the
plan's order, so a retried task repeats every solve exactly).
`finish` ranks the nodes by net revenue (highest first; ties by name;
skipped nodes last, unranked) and writes the ranking to
`jobs/<id>/ranking.parquet` and `jobs/<id>/ranking.csv`; the download link
serves the one the request's `format` names.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from carbon254.application.catalog import resolve_iso
from carbon254.application.errors import ApiError
from carbon254.battery import ArbitrageSolver, Battery, BatteryError
from carbon254.config import Settings
from carbon254.isos import Iso
from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.schema import Dataset
from carbon254.screening.request import (
    BATTERY_FEATURE,
    BatterySpec,
    RankingFormat,
    ScreenRequest,
    resolve,
)
from carbon254.screening.series import NodeFigures, NodeSeries, node_figures, node_series
from carbon254.store import Store, open_store

NAME = "battery_screen"
# Price intervals one task optimizes (summed over its nodes): 200,000 (a year of hourly prices at
# 22 nodes) is one cold and 21 warm solves, 1-2 s.
INTERVALS_PER_TASK = 200_000
# Nodes the summary lists (the whole ranking is in the files).
TOP = 10
# The estimate's intervals per hour when no row tells: five-minute markets are the finest stored.
INTERVALS_PER_HOUR = 12.0
US_PER_HOUR = 3_600_000_000

# The ranking's columns and what each holds (its unit is in the Parquet schema's field metadata).
RANKING_SCHEMA = pa.schema(
    [
        pa.field("rank", pa.int32(), metadata={"description": "1 = the highest net revenue; null: skipped"}),
        pa.field("location", pa.string(), nullable=False),
        pa.field("location_type", pa.string()),
        pa.field("net_revenue", pa.float64(), metadata={"unit": "$"}),
        pa.field("energy_revenue", pa.float64(), metadata={"unit": "$"}),
        pa.field("degradation_cost", pa.float64(), metadata={"unit": "$"}),
        pa.field("cycles", pa.float64(), metadata={"unit": "equivalent full cycles"}),
        pa.field("discharged_mwh", pa.float64(), metadata={"unit": "MWh"}),
        pa.field("charged_mwh", pa.float64(), metadata={"unit": "MWh"}),
        pa.field("spread_captured", pa.float64(), metadata={"unit": "$/MWh"}),
        pa.field("intervals", pa.int64()),
        pa.field("missing_intervals", pa.int64()),
        pa.field("skipped", pa.string(), metadata={"description": "why the node was not screened"}),
    ]
)


class ScreenTask(BaseModel):
    """One batch of nodes: where to read their LMPs, the window, the prices' `as_of` and the battery."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_url: str
    data_dir: str
    iso: Iso
    market: str
    locations: list[str]
    location_types: list[str | None]
    start: datetime
    end: datetime
    as_of: datetime
    battery: BatterySpec


class NodeResult(BaseModel):
    """One node's outcome: its figures ($, MWh, cycles, $/MWh), or `skipped` saying why it has none.

    `intervals` is how many intervals the window holds at the node's
    interval length, `missing_intervals` how many of them had no price.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    location: str
    location_type: str | None
    intervals: int
    missing_intervals: int
    skipped: str | None = None
    net_revenue: float | None = None
    energy_revenue: float | None = None
    degradation_cost: float | None = None
    cycles: float | None = None
    discharged_mwh: float | None = None
    charged_mwh: float | None = None
    spread_captured: float | None = None


class ScreenBatch(BaseModel):
    """A task's nodes, in its input's order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nodes: list[NodeResult]


def _intervals_per_hour(store: Store, iso: Iso, market: str, location: str, start: datetime) -> float:
    """Intervals an hour of `market`, from one node's first day in the window (a cheap read)."""
    sample = store.read(Dataset.LMP, iso.value, market, [location], start, start + timedelta(days=1))
    if sample.num_rows == 0:
        return INTERVALS_PER_HOUR
    starts = sample.column("interval_start").cast(pa.int64()).to_numpy()
    ends = sample.column("interval_end").cast(pa.int64()).to_numpy()
    shortest = int((ends - starts).min())
    return US_PER_HOUR / shortest if shortest > 0 else INTERVALS_PER_HOUR


def nodes_per_task(intervals_per_node: int) -> int:
    """How many nodes of `intervals_per_node` price intervals each one task takes (at least one)."""
    return max(1, INTERVALS_PER_TASK // max(1, intervals_per_node))


def plan(request: ScreenRequest, context: JobContext) -> list[tuple[str, ScreenTask]]:
    """The screen's tasks, keyed `0`, `1`, ... in the order of the nodes (see the module docstring).

    Raises `ApiError` for a request the surfaces would refuse at submit.
    """
    settings = context.settings
    store = open_store(settings.store_url(), settings.data_dir, create=False)
    try:
        screen = resolve(request, store, settings)
        per_hour = _intervals_per_hour(store, screen.iso, screen.market, screen.locations[0], screen.start)
    finally:
        store.close()
    hours = (screen.end - screen.start) / timedelta(hours=1)
    size = nodes_per_task(math.ceil(hours * per_hour))
    as_of = screen.as_of or datetime.now(UTC)
    spec = BatterySpec.model_validate(request.model_dump(include=set(BatterySpec.model_fields)))
    return [
        (
            str(n),
            ScreenTask(
                store_url=settings.store_url(),
                data_dir=str(settings.data_dir),
                iso=screen.iso,
                market=screen.market,
                locations=list(screen.locations[first : first + size]),
                location_types=list(screen.location_types[first : first + size]),
                start=screen.start,
                end=screen.end,
                as_of=as_of,
                battery=spec,
            ),
        )
        for n, first in enumerate(range(0, len(screen.locations), size))
    ]


def _us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


class NodeSolver:
    """Perfect-foresight energy arbitrage of one battery, node after node: one model per grid, warm-started.

    Nodes of one task share the window, so they share the grid (interval
    length and first start) and one `ArbitrageSolver` solves them all, each
    from the previous node's basis.
    """

    def __init__(self, battery: Battery) -> None:
        self._battery = battery
        self._solvers: dict[tuple[int, float, int], ArbitrageSolver] = {}

    def figures(self, series: NodeSeries) -> NodeFigures:
        """The figures of a whole series ($/MWh on its grid); `BatteryError` when it cannot be scheduled."""
        grid = (len(series.prices), series.interval_hours, series.first_start_us)
        solver = self._solvers.get(grid)
        if solver is None:
            solver = self._solvers[grid] = ArbitrageSolver(self._battery, *grid)
        schedule = solver.solve(series.prices)
        battery = self._battery
        return node_figures(
            series.prices,
            series.interval_hours,
            schedule.charge_mw,
            schedule.discharge_mw,
            battery.energy_mwh,
            battery.degradation_cost,
        )


def _screen_one(
    location: str, location_type: str | None, series: NodeSeries, solver: NodeSolver
) -> NodeResult:
    """One node's result: its figures, or why it was skipped (a gap in its prices, an infeasible battery)."""
    skipped = series.reason
    figures = None
    if skipped is None:
        try:
            figures = solver.figures(series)
        except BatteryError as exc:
            skipped = str(exc)
    return NodeResult(
        location=location,
        location_type=location_type,
        intervals=series.intervals,
        missing_intervals=series.missing,
        skipped=skipped,
        net_revenue=figures.net_revenue if figures else None,
        energy_revenue=figures.energy_revenue if figures else None,
        degradation_cost=figures.degradation_cost if figures else None,
        cycles=figures.cycles if figures else None,
        discharged_mwh=figures.discharged_mwh if figures else None,
        charged_mwh=figures.charged_mwh if figures else None,
        spread_captured=figures.spread_captured if figures else None,
    )


def run_task(task: ScreenTask) -> ScreenBatch:
    """Read the task's nodes' prices in one store read and screen each node (see the module docstring)."""
    solver = NodeSolver(task.battery.battery())
    store = open_store(task.store_url, Path(task.data_dir), create=False)
    try:
        table = store.read(
            Dataset.LMP, task.iso.value, task.market, task.locations, task.start, task.end, as_of=task.as_of
        )
    finally:
        store.close()
    names = np.asarray(table.column("location").to_pylist(), dtype=object)
    starts = table.column("interval_start").cast(pa.int64()).to_numpy()
    ends = table.column("interval_end").cast(pa.int64()).to_numpy()
    prices = table.column("lmp").to_numpy()
    # Rows come sorted by location, then time: each node's rows are one run.
    cuts = np.flatnonzero(names[1:] != names[:-1]) + 1
    runs = {str(names[a]): (a, b) for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(names)], strict=True)}
    lo, hi = _us(task.start), _us(task.end)
    results = []
    for location, location_type in zip(task.locations, task.location_types, strict=True):
        a, b = runs.get(location, (0, 0))
        series = node_series(starts[a:b], ends[a:b], prices[a:b], lo, hi)
        results.append(_screen_one(location, location_type, series, solver))
    return ScreenBatch(nodes=results)


def ranked(nodes: Sequence[NodeResult]) -> list[tuple[int | None, NodeResult]]:
    """The nodes ranked by net revenue, highest first (ties by name), then the skipped ones by name."""
    screened = sorted(
        (n for n in nodes if n.net_revenue is not None), key=lambda n: (-(n.net_revenue or 0.0), n.location)
    )
    skipped = sorted((n for n in nodes if n.net_revenue is None), key=lambda n: n.location)
    return [(rank, node) for rank, node in enumerate(screened, start=1)] + [(None, n) for n in skipped]


def ranking_table(nodes: Sequence[NodeResult]) -> pa.Table:
    """The ranking as a table of `RANKING_SCHEMA` (see `ranked` for the order)."""
    order = ranked(nodes)
    columns: dict[str, list[Any]] = {"rank": [rank for rank, _ in order]}
    for name in RANKING_SCHEMA.names[1:]:
        columns[name] = [getattr(node, name) for _, node in order]
    return pa.table(columns, schema=RANKING_SCHEMA)


def finish(request: ScreenRequest, batches: Sequence[ScreenBatch], context: JobContext) -> JobResult:
    """Rank every node, write `ranking.parquet` and `ranking.csv`, and summarize with the top ten."""
    nodes = [node for batch in batches for node in batch.nodes]
    table = ranking_table(nodes)
    files = {}
    for fmt in RankingFormat:
        sink = io.BytesIO()
        if fmt is RankingFormat.PARQUET:
            pq.write_table(table, sink)
        else:
            pacsv.write_csv(table, sink)
        key = f"{context.artifact_prefix}ranking.{fmt.extension}"
        context.objects.put(key, sink.getvalue())
        files[fmt] = key
    chosen = request.format
    # The download link serves a job's first artifact: the format the request asked for.
    artifacts = {f"ranking.{chosen.extension}": files[chosen]}
    artifacts |= {f"ranking.{fmt.extension}": key for fmt, key in files.items() if fmt is not chosen}
    order = ranked(nodes)
    top = [
        {
            "rank": rank,
            "location": node.location,
            "location_type": node.location_type,
            "net_revenue": node.net_revenue,
            "cycles": node.cycles,
            "spread_captured": node.spread_captured,
        }
        for rank, node in order[:TOP]
        if rank is not None
    ]
    skipped = [node for _, node in order if node.skipped is not None]
    summary = {
        "nodes": len(nodes),
        "ranked": len(nodes) - len(skipped),
        "skipped": len(skipped),
        "skipped_examples": [{"location": n.location, "reason": n.skipped} for n in skipped[:TOP]],
        "top": top,
        "format": chosen.value,
        "bytes": context.objects.info(files[chosen]).size,
    }
    return JobResult(summary=summary, artifacts=artifacts)


def check(request: ScreenRequest, store: Store, settings: Settings) -> None:
    """Raise the `ApiError` a screen that could never run meets (unknown names, bad window or battery)."""
    resolve(request, store, settings)


def refusal(request: ScreenRequest, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not screen (the battery feature, the ISO's LMPs), or None if it may."""
    if not entitlements.allows_feature(BATTERY_FEATURE):
        return f"not entitled to the {BATTERY_FEATURE} feature"
    try:
        iso = resolve_iso(request.iso)
    except ApiError:
        # An unknown ISO is refused with its own message (404 with suggestions) when the request is checked.
        return None
    if not entitlements.allows_data(iso.value, Dataset.LMP.value):
        return f"not entitled to lmp data of {iso.value}"
    return None


BATTERY_SCREEN: JobKind[ScreenRequest, ScreenTask, ScreenBatch] = JobKind(
    name=NAME,
    request=ScreenRequest,
    task_input=ScreenTask,
    task_output=ScreenBatch,
    plan=plan,
    task=run_task,
    finish=finish,
    description="One battery at every node of an ISO (or a list) over a window, ranked by net revenue.",
    entitled=refusal,
    check=check,
)
register(BATTERY_SCREEN)
