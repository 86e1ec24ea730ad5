"""`carbon254 export`: the `query` command's rows written to a CSV, Parquet or XLSX file, as a job.

It takes `query`'s options, checked with the same messages, and submits an
`export` job to the data dir's metadata database for the local user (the
tenant `anonymous`, entitled to everything, as the CLI's other commands), with
the checks and limits every surface applies. The job runs in this process on
`CARBON254_COMPUTE` with a progress bar (`cli/local_job.py`); Ctrl+C cancels
it. Its file is then copied from the object store to `--output` through a
temporary file renamed into place, so a failed or interrupted export leaves
nothing at that path. The job stays listed (`carbon254 jobs list --tenant
anonymous`) and its file is kept until the retention sweep.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

import carbon254.exports  # noqa: F401  (registers the export kind in the process-wide registry)
from carbon254.application.datasets import SHAPES
from carbon254.application.jobs import download_artifact
from carbon254.cli.console import CliError, console, fail
from carbon254.cli.export_remote import export_remote
from carbon254.cli.local_job import run_job_here, submit_here
from carbon254.cli.names import BadList
from carbon254.cli.options import (
    DEFAULT_DATA_DIR,
    DEFAULT_STORE,
    AsOfOption,
    BlockOption,
    DataDir,
    DatasetOption,
    EndOption,
    IsoOption,
    LocationsOption,
    MarketOption,
    ResampleOption,
    StartOption,
    StoreUrl,
    TzOption,
)
from carbon254.cli.query import QueryRequest, parse_request, read_query, stored_names
from carbon254.cli.stores import open_cli_store
from carbon254.cli.tenants import open_metadata
from carbon254.config import Settings
from carbon254.exports import ExportRequest
from carbon254.exports.writers import ExportFormat
from carbon254.jobs import JobRecord, JobState, JobStatus, registry
from carbon254.names import UnknownName
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.schema import Dataset

# Bytes copied at a time from the object store to the output file.
COPY_CHUNK = 1 << 20


def export(
    iso: IsoOption,
    start: StartOption,
    end: EndOption,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The file to write: .csv, .parquet or .xlsx (the format, unless --format says).",
            dir_okay=False,
            show_default=False,
        ),
    ],
    fmt: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            help="File format; by default the --output suffix's.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    dataset: DatasetOption = Dataset.LMP,
    market: MarketOption = None,
    locations: LocationsOption = None,
    tz: TzOption = None,
    resample: ResampleOption = None,
    block: BlockOption = None,
    as_of: AsOfOption = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store_url: StoreUrl = DEFAULT_STORE,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Run the export on this 254Carbon service (e.g. http://127.0.0.1:8000) instead of here.",
            show_default=False,
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="CARBON254_API_KEY",
            help="API key for --server (else the SDK's config file).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export stored rows (the `query` options) to a CSV, Parquet or XLSX file, as a job with progress.

    Ctrl+C cancels the job; `carbon254 jobs resume ID` queues it again.
    Prices are $/MWh (ancillary $/MW-h, capacity $/MW-day); load is MW.
    With --server the service runs it, and reads its own data.
    """
    if server is not None:
        try:
            chosen = export_format(output, fmt)
        except CliError as exc:
            fail(exc.message, exc.hint)
        export_remote(
            server,
            api_key,
            output,
            chosen,
            dataset=dataset,
            iso=iso,
            start=start,
            end=end,
            market=market,
            locations=locations,
            tz=tz,
            resample=resample.value if resample is not None else None,
            block=block.value if block is not None else None,
            as_of=as_of,
        )
        return
    try:
        chosen = export_format(output, fmt)
        request = parse_request(iso, start, end, dataset, market, locations, tz, resample, block, as_of)
        job_request = _job_request(store_url, data_dir, request, chosen)
        settings = Settings(data_dir=data_dir, store=store_url)
    except UnknownName as exc:
        fail(exc.message, exc.hint())
    except BadList as exc:
        fail(str(exc))
    except CliError as exc:
        fail(exc.message, exc.hint)

    market_name = job_request.market or job_request.auction or job_request.kind
    label = " ".join(p for p in (request.iso.value, market_name or "", dataset.value) if p)
    objects = open_object_store(settings.object_store, data_dir=data_dir, s3_endpoint=settings.s3_endpoint)
    db = open_metadata(data_dir)
    try:
        state = JobState(db)
        job = submit_here("export", job_request, state, registry, objects, settings)
        console.print(f"Job {job.id}: exporting {escape(label)} to {escape(str(output))}")
        done = run_job_here(job, state, registry, objects, settings, console, f"export {job.id[:8]}")
    finally:
        db.close()
    _deliver(done, objects, output)


def export_format(output: Path, given: ExportFormat | None) -> ExportFormat:
    """The format to write: `given`, else `output`'s suffix; CliError for a mismatch or an unknown suffix."""
    if str(output) == "-":
        raise CliError(
            "--output: export writes a file; use `carbon254 query --output -` for CSV on standard output"
        )
    suffix = output.suffix.lower().lstrip(".")
    by_suffix = next((f for f in ExportFormat if f.extension == suffix), None)
    if given is None:
        if by_suffix is None:
            raise CliError(
                f"--output must end in .csv, .parquet or .xlsx (or give --format), got {output.name!r}"
            )
        chosen = by_suffix
    elif by_suffix is not None and by_suffix is not given:
        raise CliError(
            f"--format {given.value} does not match --output {output.name!r}, a .{suffix} file; "
            f"name a .{given.extension} file or drop --format"
        )
    else:
        chosen = given
    if not output.parent.is_dir():
        raise CliError(f"--output: directory {output.parent} does not exist")
    return chosen


def _job_request(url: str, data_dir: Path, request: QueryRequest, fmt: ExportFormat) -> ExportRequest:
    """The export job's request: the parsed query, with names as the store holds them."""
    if request.locations is not None and request.dataset is not Dataset.LMP:
        # Regions and zones have no catalog: query checks them against the window's rows, and so
        # does this (those datasets hold a few dozen names per ISO, so the read is small).
        read_query(url, data_dir, request)
    store = open_cli_store(url, data_dir, create=False)
    try:
        names = stored_names(store, request)
    finally:
        store.close()
    shape = SHAPES[request.dataset]
    fields: dict[str, Any] = {
        "dataset": request.dataset.value,
        "iso": request.iso.value,
        "start": request.start.isoformat(),
        "end": request.end.isoformat(),
        "tz": request.tz,
        "as_of": request.as_of.isoformat() if request.as_of is not None else None,
        "resample": request.resample.value if request.resample is not None else None,
        "block": request.block.value if request.block is not None else None,
        "format": fmt,
    }
    if shape.market_parameter is not None and names.market is not None:
        fields[shape.market_parameter] = names.market
    if shape.names_parameter is not None and names.locations is not None:
        fields[shape.names_parameter] = ",".join(names.locations)
    return ExportRequest.model_validate(fields)


def _deliver(job: JobRecord, objects: ObjectStore, output: Path) -> None:
    """Copy a succeeded job's file to `output` and report it; exit with the job's error otherwise."""
    if job.status is JobStatus.FAILED:
        fail(
            f"job {job.id} failed: {job.error}",
            f"`carbon254 jobs resume {job.id}` runs its unfinished tasks again once the cause is fixed.",
        )
    if job.status is not JobStatus.SUCCEEDED:
        fail(f"job {job.id} was {job.status.value} before it finished; nothing was written to {output}")
    key = download_artifact(job)
    if key is None:
        fail(f"job {job.id} succeeded without a file to write to {output}")
    try:
        copy_object(objects, key, output)
    except OSError as exc:
        fail(f"--output: cannot write {output} ({exc.strerror or exc})")
    summary = job.result.summary if job.result is not None else {}
    rows, size = summary.get("rows", 0), summary.get("bytes", 0)
    console.print(f"Job {job.id}: wrote {rows:,} rows ({size:,} bytes) to {escape(str(output))}")


def copy_object(objects: ObjectStore, key: str, path: Path) -> None:
    """Copy the object `key` to `path` in chunks through a temporary file renamed into place.

    Raises OSError if it cannot; a partial copy never appears at `path`.
    """
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temp.open("wb") as sink:
            for chunk in objects.iter_bytes(key, chunk=COPY_CHUNK):
                sink.write(chunk)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
