"""`carbon254 battery screen`: one battery at every node of an ISO (or a list), ranked by net revenue.

It submits a `battery_screen` job to the data dir's metadata database for
the local user (the tenant `anonymous`, as `carbon254 export` does), with
the checks every surface applies, and runs it in this process on
`CARBON254_COMPUTE` with a progress bar (`cli/local_job.py`); Ctrl+C
cancels it and `carbon254 jobs resume ID` queues it again. It prints the
top `--top` nodes (a table, or JSON) and copies the whole ranking to
`--output` (.csv or .parquet). Net revenue is perfect-foresight energy
arbitrage less degradation ($) over the window.
"""

from __future__ import annotations

import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

import carbon254.screening  # noqa: F401  (registers the battery_screen kind in the process-wide registry)
from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS
from carbon254.application.jobs import submit_job
from carbon254.cli.battery import battery
from carbon254.cli.console import CliError, console, err_console, fail
from carbon254.cli.export import copy_object
from carbon254.cli.local_job import run_job_here
from carbon254.cli.operations import option_message
from carbon254.cli.options import (
    DEFAULT_DATA_DIR,
    DEFAULT_STORE,
    AsOfOption,
    DataDir,
    EndOption,
    IsoOption,
    StartOption,
    StoreUrl,
)
from carbon254.cli.output import print_table
from carbon254.cli.stores import open_cli_store
from carbon254.cli.tenants import open_metadata
from carbon254.config import Settings
from carbon254.jobs import JobRecord, JobState, JobStatus, registry
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.schema import LocationType
from carbon254.screening import ScreenRequest
from carbon254.screening.kind import NAME

# The ranking's columns the table shows, with their headers.
SHOWN = {
    "rank": "rank",
    "location": "location",
    "location_type": "type",
    "net_revenue": "net revenue $",
    "energy_revenue": "energy $",
    "degradation_cost": "degradation $",
    "cycles": "cycles",
    "spread_captured": "spread $/MWh",
}


class ScreenFormat(StrEnum):
    """How `battery screen` prints the top nodes."""

    TABLE = "table"
    JSON = "json"


@battery.command("screen")
def screen(
    iso: IsoOption,
    start: StartOption,
    end: EndOption,
    power_mw: Annotated[float, typer.Option("--power-mw", help="Charge and discharge power, MW.")],
    energy_mwh: Annotated[float, typer.Option("--energy-mwh", help="Energy capacity, MWh.")],
    round_trip_efficiency: Annotated[
        float, typer.Option("--round-trip-efficiency", help="Round-trip efficiency (0-1]; each way its root.")
    ],
    market: Annotated[str, typer.Option("--market", help="LMP market: DAM, RTH, RT5...")] = "DAM",
    locations: Annotated[
        str | None,
        typer.Option(
            "--locations",
            help="Comma-separated nodes; omit for every location of the ISO.",
            show_default=False,
        ),
    ] = None,
    location_type: Annotated[
        LocationType | None,
        typer.Option(
            "--location-type", help="Without --locations: only locations of this type.", case_sensitive=False
        ),
    ] = None,
    initial_soc_mwh: Annotated[
        float | None,
        typer.Option(
            "--initial-soc-mwh", help="State of charge at the start and end, MWh (default: half the energy)."
        ),
    ] = None,
    daily_cycles: Annotated[
        float | None, typer.Option("--daily-cycles", help="Most full cycles a day (default: no cap).")
    ] = None,
    degradation_cost: Annotated[
        float, typer.Option("--degradation-cost", help="Degradation cost, $/MWh discharged.")
    ] = 0.0,
    as_of: AsOfOption = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Nodes to print.")] = 10,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the whole ranking to this .csv or .parquet file.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        ScreenFormat, typer.Option("--format", help="table, or json: the top nodes as JSON.")
    ] = ScreenFormat.TABLE,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    """Screen a battery at every node of an ISO (or --locations): net revenue ($), ranked, as a job.

    Perfect-foresight energy arbitrage at each node over the window; a node
    with missing prices is skipped with the reason. Ctrl+C cancels the job;
    `carbon254 jobs resume ID` queues it again.
    """
    written = _output_name(output) if output is not None else None
    fields: dict[str, Any] = {
        "iso": iso,
        "market": market,
        "locations": locations,
        "location_type": location_type,
        "start": start,
        "end": end,
        "as_of": as_of,
        "power_mw": power_mw,
        "energy_mwh": energy_mwh,
        "round_trip_efficiency": round_trip_efficiency,
        "initial_soc_mwh": initial_soc_mwh,
        "daily_cycles": daily_cycles,
        "degradation_cost": degradation_cost,
    }
    try:
        request = ScreenRequest.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}")
    # In JSON mode standard output carries the document alone: the job's lines go to stderr.
    out = err_console if fmt is ScreenFormat.JSON else console
    settings = Settings(data_dir=data_dir, store=store_url)
    objects = open_object_store(settings.object_store, data_dir=data_dir, s3_endpoint=settings.s3_endpoint)
    db = open_metadata(data_dir)
    try:
        state = JobState(db)
        job = _submit(request, state, objects, settings)
        what = f"{len(request.locations)} location(s)" if request.locations else "every location"
        place = f"{job.request['iso']} {market}".upper()
        out.print(f"Job {job.id}: screening {what} of {escape(place)}")
        done = run_job_here(job, state, registry, objects, settings, out, f"screen {job.id[:8]}")
    finally:
        db.close()
    ranking = _ranking(done, objects)
    if written is not None:
        _write(done, objects, written)
    if fmt is ScreenFormat.JSON:
        print(json.dumps(_document(done, ranking, top)))
    else:
        _print(done, ranking, top)
    if written is not None:
        out.print(f"Wrote the ranking of {ranking.num_rows:,} locations to {escape(str(written))}")


def _output_name(path: Path) -> Path:
    """`path` checked: a .csv or .parquet file in an existing directory."""
    if path.suffix.lower() not in (".csv", ".parquet"):
        fail(f"--output must end in .csv or .parquet, got {path.name!r}")
    if not path.parent.is_dir():
        fail(f"--output: directory {path.parent} does not exist")
    return path


def _submit(request: ScreenRequest, state: JobState, objects: ObjectStore, settings: Settings) -> JobRecord:
    """Queue the screen for the local user, with every surface's checks; exits on a refusal."""
    try:
        store = open_cli_store(settings.store, settings.data_dir, create=False)
    except CliError as exc:
        fail(exc.message, exc.hint)
    try:
        return submit_job(
            NAME,
            request.model_dump(mode="json", exclude_none=True),
            ANONYMOUS,
            state=state,
            kinds=registry,
            objects=objects,
            settings=settings,
            store=store,
        )
    except ApiError as exc:
        fail(
            option_message(exc),
            f"Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else None,
        )
    finally:
        store.close()


def _ranking(job: JobRecord, objects: ObjectStore) -> pa.Table:
    """The succeeded job's ranking; exits with the job's error otherwise."""
    if job.status is JobStatus.FAILED:
        fail(
            f"job {job.id} failed: {job.error}",
            f"`carbon254 jobs resume {job.id}` runs its unfinished tasks again once the cause is fixed.",
        )
    if job.status is not JobStatus.SUCCEEDED or job.result is None:
        fail(f"job {job.id} was {job.status.value} before it finished")
    return pq.read_table(io.BytesIO(objects.get(job.result.artifacts["ranking.parquet"])))


def _write(job: JobRecord, objects: ObjectStore, path: Path) -> None:
    """Copy the ranking file of `path`'s format to `path` (through a temporary file renamed into place)."""
    assert job.result is not None
    key = job.result.artifacts[f"ranking.{path.suffix.lower().lstrip('.')}"]
    try:
        copy_object(objects, key, path)
    except OSError as exc:
        fail(f"--output: cannot write {path} ({exc.strerror or exc})")


def _document(job: JobRecord, ranking: pa.Table, top: int) -> dict[str, Any]:
    summary = job.result.summary if job.result is not None else {}
    return {
        "job": job.id,
        "nodes": summary.get("nodes"),
        "ranked": summary.get("ranked"),
        "skipped": summary.get("skipped"),
        "top": ranking.filter(pc.is_valid(ranking.column("rank"))).slice(0, top).to_pylist(),
    }


def _print(job: JobRecord, ranking: pa.Table, top: int) -> None:
    summary = job.result.summary if job.result is not None else {}
    request = job.request
    place = f"{request['iso']} {request['market']}".upper()
    title = (
        f"{request['power_mw']:g} MW / {request['energy_mwh']:g} MWh at {summary.get('ranked', 0):,} "
        f"{place} locations, {request['start']} to {request['end']}: perfect-foresight energy arbitrage"
    )
    table = Table(title=escape(title), title_justify="left")
    for name, header in SHOWN.items():
        table.add_column(header, justify="left" if name in ("location", "location_type") else "right")
    for row in ranking.slice(0, top).to_pylist():
        if row["rank"] is None:
            break
        table.add_row(*(_cell(name, row[name]) for name in SHOWN))
    print_table(console, table)
    skipped = summary.get("skipped", 0)
    if skipped:
        examples = summary.get("skipped_examples", [])
        first = f" (e.g. {examples[0]['location']}: {examples[0]['reason']})" if examples else ""
        console.print(f"{skipped:,} location(s) skipped{escape(first)}; the ranking file says why.")
    console.print(f"The job: carbon254 jobs show {job.id}")


def _cell(name: str, value: object) -> str:
    if value is None:
        return "—"
    if name in ("net_revenue", "energy_revenue", "degradation_cost"):
        return f"{value:,.0f}"
    if name in ("cycles", "spread_captured"):
        return f"{value:,.2f}"
    return escape(str(value))
