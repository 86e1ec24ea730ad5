"""The `export` job kind: a dataset query written to a CSV, Parquet or XLSX file in the object store.

`plan` splits the query, in output order (location then time), into tasks
that each read a bounded number of rows: LMP locations in sorted batches,
and a single location's long window in time slices. Each `task` opens the
store and the object store from its input (it may run in another process)
and encodes its rows as a part under `jobs/<id>/parts/<n>.<ext>`, so the
costly encoding runs on every core: CSV parts are the file's lines (the
first with the header), Parquet parts are Parquet files, and XLSX parts are
Parquet too, since a workbook can only be written by one process. `finish`
joins the parts in plan order into `jobs/<id>/export.<ext>` (bytes copied
for CSV and Parquet, rows re-encoded batch by batch for XLSX) and deletes
them: no step holds more than one task's rows, whatever the export's size.

Other datasets than LMP hold a few dozen names per ISO at most and their
reads return every name of the window, so their rows are split by time
only when the dataset has no names (ORDC adders); the others are one task.
A resampled query is never split by time: a bucket cut in two would be
averaged twice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from carbon254.application.datasets import DatasetQuery, read_rows, select_rows
from carbon254.application.errors import ApiError
from carbon254.config import Settings
from carbon254.exports.parquet_join import join_parquet
from carbon254.exports.request import ExportRequest, QuerySlice
from carbon254.exports.writers import ExportFormat, open_writer
from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.schema import SPECS, Dataset
from carbon254.store import Store, open_store

# Rows one task exports at most (estimated): enough that a task's fixed costs (opening the
# store, a round trip to its process, a checkpoint) stay small beside its work.
ROWS_PER_TASK = 500_000
# Rows a task reads from the store at once (estimated): a read holds several times its rows'
# size while the store assembles them, and a pool runs one task per core.
ROWS_PER_READ = 100_000
# Rows per batch as parts are re-encoded into an XLSX export.
FINISH_BATCH_ROWS = 65_536
# Bytes per chunk as CSV parts are copied into the export.
COPY_CHUNK = 8 << 20
# The estimate's intervals per hour when no sample tells: five-minute markets are the finest stored.
INTERVALS_PER_HOUR = 12.0


class ExportTask(BaseModel):
    """One task: its slice of the query, where to read it, and where and how its part is written.

    `part_format` is the part's encoding (the export's own, Parquet for an
    XLSX export); `header` is True for the first part only, the one whose
    CSV carries the header row; `intervals_per_hour` is the plan's estimate
    of one location's rows an hour, with which the task splits its reads.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    slice: QuerySlice
    store_url: str
    data_dir: str
    object_store: str
    s3_endpoint: str | None
    part_key: str
    part_format: ExportFormat
    header: bool
    intervals_per_hour: float = INTERVALS_PER_HOUR


class ExportPart(BaseModel):
    """A written part: its object key and rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    rows: int


def part_format(fmt: ExportFormat) -> ExportFormat:
    """How an export's parts are encoded: as the export itself, but XLSX parts as Parquet."""
    return ExportFormat.PARQUET if fmt is ExportFormat.XLSX else fmt


def plan_slices(
    query: DatasetQuery,
    locations: Sequence[str] | None,
    rows_per_task: int,
    intervals_per_hour: float = INTERVALS_PER_HOUR,
) -> list[DatasetQuery]:
    """`query` split into slices in output order, each estimated to hold at most `rows_per_task` rows.

    `locations` are the LMP locations to export in catalog spelling (None:
    the dataset has no per-location reads). A location is estimated to hold
    `intervals_per_hour` rows an hour over the whole window.
    """
    hours = max((query.end - query.start) / timedelta(hours=1), 1.0)
    per_location = math.ceil(hours * intervals_per_hour)
    splittable = query.resample is None
    if locations is None:
        if SPECS[query.dataset].location_column is not None or not splittable:
            return [query]
        return _time_slices(query, per_location, rows_per_task)
    names = sorted(locations)
    if per_location > rows_per_task and splittable:
        return [
            part
            for name in names
            for part in _time_slices(
                replace(query, locations=(name,), catalog_names=True), per_location, rows_per_task
            )
        ]
    size = max(1, rows_per_task // per_location)
    return [
        replace(query, locations=tuple(names[i : i + size]), catalog_names=True)
        for i in range(0, len(names), size)
    ]


def _intervals_per_hour(store: Store, query: DatasetQuery, locations: Sequence[str] | None) -> float:
    """Rows an hour of one location, from its shortest interval in the window's first day (a cheap read).

    Markets keep one interval length, so one location's day tells; with no
    row to sample, five-minute intervals are assumed, the finest stored.
    """
    if locations is not None and not locations:
        return INTERVALS_PER_HOUR
    names = (min(locations),) if locations is not None else query.locations
    sample = replace(
        query,
        locations=names,
        catalog_names=names is not None,
        end=min(query.end, query.start + timedelta(days=1)),
        resample=None,
        block=None,
    )
    table = read_rows(store, sample)
    if table.num_rows == 0:
        return INTERVALS_PER_HOUR
    spec = SPECS[query.dataset]
    lengths = pc.subtract(table.column(spec.end_column), table.column(spec.time_column))
    # Arrow has no min over durations: take it over their microseconds.
    shortest_us = pc.min(lengths.cast(pa.duration("us")).cast(pa.int64())).as_py()
    if not isinstance(shortest_us, int) or shortest_us <= 0:
        return INTERVALS_PER_HOUR
    return max(3_600_000_000 / shortest_us, 1 / (24 * 31))


def _time_slices(query: DatasetQuery, rows: int, rows_per_task: int) -> list[DatasetQuery]:
    count = math.ceil(rows / rows_per_task)
    step = (query.end - query.start) / count
    # Whole seconds keep the bounds exact whatever the count.
    step = timedelta(seconds=math.ceil(step.total_seconds()))
    slices = []
    start = query.start
    while start < query.end:
        end = min(start + step, query.end)
        slices.append(replace(query, start=start, end=end))
        start = end
    return slices


def plan(
    request: ExportRequest, context: JobContext, *, rows_per_task: int | None = None
) -> list[tuple[str, ExportTask]]:
    """The export's tasks, keyed `0`, `1`, ... in output order (see `plan_slices`).

    `rows_per_task` bounds the rows a task reads (None: `ROWS_PER_TASK`).
    Raises `ApiError` for a request the routes would refuse.
    """
    settings = context.settings
    store = open_store(settings.store_url(), settings.data_dir, create=False)
    try:
        query = request.resolve(store, settings)
        locations: Sequence[str] | None = None
        if query.dataset is Dataset.LMP:
            # Every location of the ISO when none is named: the catalog lists them, sorted.
            locations = (
                query.locations
                if query.locations is not None
                else store.locations(iso=query.iso.value).column("location").to_pylist()
            )
        # Only LMP and datasets without names are split by the estimate.
        splits = query.dataset is Dataset.LMP or SPECS[query.dataset].location_column is None
        intervals = _intervals_per_hour(store, query, locations) if splits else INTERVALS_PER_HOUR
    finally:
        store.close()
    slices = plan_slices(query, locations, rows_per_task or ROWS_PER_TASK, intervals)
    encoding = part_format(request.format)
    return [
        (
            str(n),
            ExportTask(
                slice=QuerySlice.of(part),
                store_url=settings.store_url(),
                data_dir=str(settings.data_dir),
                object_store=settings.object_store,
                s3_endpoint=settings.s3_endpoint,
                part_key=f"{context.artifact_prefix}parts/{n}.{encoding.extension}",
                part_format=encoding,
                header=n == 0,
                intervals_per_hour=intervals,
            ),
        )
        for n, part in enumerate(slices)
    ]


def _zone(schema: pa.Schema) -> str | None:
    """The zone rows are shown in: the store presents them in the query's (UTC when none was asked)."""
    return next((f.type.tz for f in schema if pa.types.is_timestamp(f.type)), None)


def run_task(task: ExportTask) -> ExportPart:
    """Read the task's slice, `ROWS_PER_READ` rows at a time, and encode it as a part under its key.

    The same part every run; the reads are the slice split as the plan
    splits the query, so their rows follow one another in output order.
    """
    query = task.slice.query()
    names = query.locations if query.dataset is Dataset.LMP else None
    reads = plan_slices(query, names, ROWS_PER_READ, task.intervals_per_hour) or [query]
    objects = open_object_store(task.object_store, data_dir=Path(task.data_dir), s3_endpoint=task.s3_endpoint)
    store = open_store(task.store_url, Path(task.data_dir), create=False)
    rows = 0
    try:
        with objects.writer(task.part_key) as sink:
            writer = None
            for read in reads:
                table = select_rows(read_rows(store, read), read, exact=True)
                if writer is None:
                    writer = open_writer(
                        task.part_format,
                        sink,
                        table.schema,
                        tz=_zone(table.schema),
                        metadata={"unit": SPECS[query.dataset].unit},
                        header=task.header,
                    )
                writer.write(table)
                rows += table.num_rows
            if writer is not None:
                writer.close()
    finally:
        store.close()
    return ExportPart(key=task.part_key, rows=rows)


def _copy_parts(objects: ObjectStore, parts: Sequence[ExportPart], sink: BinaryIO) -> None:
    for part in parts:
        for piece in objects.iter_bytes(part.key, chunk=COPY_CHUNK):
            sink.write(piece)


def _write_xlsx(objects: ObjectStore, parts: Sequence[ExportPart], sink: BinaryIO) -> int:
    """Re-encode the Parquet parts, batch by batch, into one workbook; the sheets written."""
    writer = None
    for part in parts:
        # A part holds one task's rows, compressed: bounded like the task itself.
        source = pq.ParquetFile(pa.BufferReader(objects.get(part.key)))
        if writer is None:
            schema = source.schema_arrow
            writer = open_writer(ExportFormat.XLSX, sink, schema, tz=_zone(schema))
        for batch in source.iter_batches(batch_size=FINISH_BATCH_ROWS):
            writer.write(batch)
    if writer is None:
        raise ValueError("an export has at least one part")
    writer.close()
    return writer.sheets


def finish(request: ExportRequest, parts: Sequence[ExportPart], context: JobContext) -> JobResult:
    """Join the parts in plan order into `jobs/<id>/export.<ext>`, delete them, and summarise."""
    fmt = request.format
    key = f"{context.artifact_prefix}export.{fmt.extension}"
    objects = context.objects
    sheets = None
    with objects.writer(key) as sink:
        if fmt is ExportFormat.CSV:
            _copy_parts(objects, parts, sink)
        elif fmt is ExportFormat.PARQUET:
            join_parquet(objects, [part.key for part in parts], sink)
        else:
            sheets = _write_xlsx(objects, parts, sink)
    for part in parts:
        objects.delete(part.key)
    summary = {
        "rows": sum(part.rows for part in parts),
        "bytes": objects.info(key).size,
        "format": fmt.value,
        "sheets": sheets,
    }
    return JobResult(summary=summary, artifacts={"export": key})


def check(request: ExportRequest, store: Store, settings: Settings) -> None:
    """Raise the route's `ApiError` for a query that could not run (unknown names, bad window)."""
    request.resolve(store, settings)


def refusal(request: ExportRequest, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not export this query (the routes' 403 reason, less the tenant), or None if it may."""
    try:
        dataset, iso = request.dataset_(), request.iso_()
    except ApiError:
        # A malformed dataset or ISO is refused with its own message when the query is checked.
        return None
    if entitlements.allows_data(iso.value, dataset.value):
        return None
    return f"not entitled to {dataset.value} data of {iso.value}"


EXPORT: JobKind[ExportRequest, ExportTask, ExportPart] = JobKind(
    name="export",
    request=ExportRequest,
    task_input=ExportTask,
    task_output=ExportPart,
    plan=plan,
    task=run_task,
    finish=finish,
    description="A dataset query (the parameters of /v1/<dataset>) written to a CSV, Parquet or XLSX file.",
    entitled=refusal,
    check=check,
)
register(EXPORT)
