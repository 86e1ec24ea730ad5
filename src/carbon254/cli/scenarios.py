"""`carbon254 scenario validate|save|run|list`: scenarios on the data dir's marked curves.

`validate` checks a YAML (or JSON) file against the published schema and
prints every problem with its line; `run` applies a file or a saved scenario
to hubs' marks and prints yearly means (a sweep: one row per point and
year), records the run, and can write the monthly changes (`--output`) and a
chart of the first hub, base against scenario (`--chart`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import typer
from rich.table import Table

from carbon254.application.curves import parse_day
from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS
from carbon254.application.jobs import submit_job
from carbon254.application.scenarios import (
    INLINE_SWEEP_MAX,
    monthly_changes,
    parse_scenario,
    run_scenario,
    save_definition,
    saved_scenario,
    summary_rows,
)
from carbon254.cli.console import CliError, console, fail
from carbon254.cli.curves import checked
from carbon254.cli.local_job import run_job_here
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import output_format, print_table, rich_table, write_table
from carbon254.cli.tenants import open_metadata
from carbon254.config import Settings
from carbon254.jobs import JobState, JobStatus, registry
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.scenarios import ScenarioRecord, list_runs, list_scenarios
from carbon254.objects import open_object_store
from carbon254.reports.curve_chart import CurveSeries, curve_png
from carbon254.scenarios import Scenario, SweepTooLarge, compose, expand_sweep, list_presets
from carbon254.store import open_store
from carbon254.sweeps import SweepRequest

scenario = typer.Typer(
    name="scenario",
    help="Scenarios: shift, shock, reshape and replay forward curves; sweeps of shock sizes ($/MWh).",
    no_args_is_help=True,
)

ScenarioFile = Annotated[Path, typer.Argument(help="The scenario, a YAML (or JSON) file.", dir_okay=False)]


def _read(path: Path) -> tuple[str, Scenario]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(f"cannot read {path} ({exc.strerror or exc})")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text")
    return text, checked(lambda: parse_scenario(text), positional="scenario")


@scenario.command("validate")
def validate(file: ScenarioFile) -> None:
    """Check a scenario file against the published JSON Schema; every problem is listed with its line."""
    _, parsed = _read(file)
    points = len(expand_sweep(parsed)) if parsed.sweep else 1
    sweep = f", a sweep of {points:,} points" if parsed.sweep else ""
    console.print(f"{file}: valid scenario {parsed.name!r}: {len(parsed.steps)} step(s){sweep}.")


@scenario.command("save")
def save(file: ScenarioFile, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Store a scenario under its name in the data dir (a new version each time); `run NAME` runs it."""
    text, _ = _read(file)
    db = open_metadata(data_dir)
    try:
        record = checked(lambda: save_definition(db, ANONYMOUS, text), positional="scenario")
    finally:
        db.close()
    console.print(f"Saved scenario {record.name!r} version {record.version}.")


@scenario.command("run")
def run(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="A scenario file (YAML or JSON) or a saved scenario's name; several are applied in turn."
        ),
    ],
    hub: Annotated[
        list[str],
        typer.Option("--hub", help="A marked hub to run on; repeat for several.", show_default=False),
    ],
    iso: Annotated[str | None, typer.Option("--iso", help="ISO/RTO (needed if two ISOs mark a hub).")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Market day of the marks (default: each hub's latest).")
    ] = None,
    hourly: Annotated[
        bool, typer.Option("--hourly", help="Run on each hub's HPFC even if no step needs hours.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the monthly changes (a sweep: every point's yearly means) to .csv or .parquet.",
            dir_okay=False,
        ),
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Draw the first hub, base and scenario, to a PNG.", dir_okay=False),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Apply a scenario to hubs' marked curves; print yearly means by hub, record the run.

    Several scenarios compose: `run A.yaml B.yaml` applies A's steps, then
    B's (their sweeps combine into one grid). A sweep prints each point's next calendar year (every year is in
    `--output`); up to 200 points run inline, larger sweeps as a
    `scenario_sweep` job with a progress bar.
    """
    if output is not None:
        try:
            output_format(output)
        except ValueError as exc:
            fail(str(exc))
    if chart is not None and chart.suffix.lower() != ".png":
        fail("--chart: the chart is a PNG; name the file *.png")
    day = checked(lambda: parse_day("as_of", as_of)) if as_of else None
    db = open_metadata(data_dir)
    store = open_store(data_dir)
    try:
        found = [_source(db, source) for source in sources]
        if len(found) == 1:
            text, parsed, saved = found[0]
        else:
            parsed = checked(lambda: _composed([p for _, p, _ in found]), positional="scenario")
            text, saved = parsed.model_dump_json(), None
        if parsed.sweep and len(checked(lambda: _points(parsed), positional="scenario")) > INLINE_SWEEP_MAX:
            store.close()
            request = SweepRequest(scenario=text, hubs=hub, iso=iso, as_of=day, hourly=hourly)
            _sweep_job(request, db, data_dir, output)
            return
        outcome = checked(
            lambda: run_scenario(
                db,
                store,
                Settings(data_dir=data_dir),
                ANONYMOUS,
                parsed,
                iso=iso,
                hubs=hub,
                as_of=day,
                hourly=hourly,
                saved=saved,
            ),
            positional="scenario",
        )
    finally:
        store.close()
        db.close()
    summary = summary_rows(outcome.summaries)
    if len(outcome.results) > 1:
        summary, year = _one_year(summary, outcome.base.marks[0].curve.as_of.year + 1)
        title = f"{parsed.name}: {len(outcome.results)} points, Cal {year} ($/MWh) · run {outcome.run.id}"
    else:
        title = f"{parsed.name} ($/MWh, yearly means) · run {outcome.run.id}"
    columns = [c for c in summary.column_names if summary.column(c).null_count < summary.num_rows]
    print_table(console, rich_table(summary, columns, 200, title))
    console.print(f"Fingerprint {outcome.run.fingerprint} (engine {outcome.run.engine_version}).")
    if output is not None:
        sweep = len(outcome.results) > 1
        rows = summary_rows(outcome.summaries) if sweep else monthly_changes(outcome)
        try:
            write_table(rows, output)
        except OSError as exc:
            raise CliError(f"--output: cannot write {output} ({exc.strerror or exc})") from None
        what = "every point's yearly means" if sweep else "the monthly changes"
        console.print(f"Wrote {what} to {output}")
    if chart is not None:
        first = outcome.base.marks[0].curve.hub
        shocked = outcome.results[0].curves.monthly[first]
        series = [
            CurveSeries(outcome.base.curves.monthly[first], "base"),
            CurveSeries(shocked, outcome.results[0].scenario.name, dashed=True),
        ]
        chart.write_bytes(
            curve_png(series, title=f"{first}: {parsed.name} against the mark of {shocked.as_of}")
        )
        console.print(f"Wrote {chart}")


def _one_year(table: pa.Table, year: int | None) -> tuple[pa.Table, int]:
    """A sweep's rows of one calendar year (`year`, else the second in the rows: the first full one).

    For a terminal: each point named by its parameters alone (`s0.gas_change=-1, s1.percent=5`),
    without the year column the title carries.
    """
    years: list[int] = sorted(set(table.column("year").to_pylist()))
    chosen = year if year is not None and year in years else years[min(1, len(years) - 1)]
    rows = table.filter(pc.equal(table.column("year"), chosen)).drop_columns(["year"])
    names = [n.partition("[")[2].rstrip("]") or n for n in rows.column("scenario").to_pylist()]
    return rows.set_column(0, "point", pa.array(names, pa.string())), chosen


def _source(db: MetadataDatabase, source: str) -> tuple[str, Scenario, ScenarioRecord | None]:
    """A scenario argument: a file (by extension, or if it exists), else a saved scenario's name."""
    path = Path(source)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        return (*_read(path), None)
    saved = checked(lambda: saved_scenario(db, ANONYMOUS, source, None), positional="scenario")
    return saved.yaml, checked(lambda: parse_scenario(saved.yaml), positional="scenario"), saved


def _composed(scenarios: list[Scenario]) -> Scenario:
    try:
        return compose(*scenarios)
    except ValueError as exc:  # e.g. a composed sweep that no longer fits its steps
        raise ApiError(422, "invalid_scenario", f"scenario: {exc}", "scenario") from None


def _points(parsed: Scenario) -> list[Scenario]:
    try:
        return expand_sweep(parsed)
    except SweepTooLarge as exc:
        raise ApiError(422, "invalid_scenario", f"scenario: {exc}", "scenario") from None


def _sweep_job(request: SweepRequest, db: MetadataDatabase, data_dir: Path, output: Path | None) -> None:
    """A sweep too large to run inline: a `scenario_sweep` job here, with a progress bar (Ctrl+C cancels)."""
    settings = Settings(data_dir=data_dir)
    objects = open_object_store(settings.object_store, data_dir=data_dir, s3_endpoint=settings.s3_endpoint)
    state = JobState(db)
    store = open_store(data_dir)
    try:
        job = checked(
            lambda: submit_job(
                "scenario_sweep",
                request.model_dump(mode="json", exclude_none=True),
                ANONYMOUS,
                state=state,
                kinds=registry,
                objects=objects,
                settings=settings,
                store=store,
            )
        )
    finally:
        store.close()
    console.print(f"Job {job.id}: a sweep too large to run inline (over {INLINE_SWEEP_MAX} points)")
    done = run_job_here(job, state, registry, objects, settings, console, f"sweep {job.id[:8]}")
    if done.status is not JobStatus.SUCCEEDED or done.result is None:
        fail(f"the sweep {done.status.value}: {done.error or 'see carbon254 jobs show ' + done.id}")
    table = pq.read_table(io.BytesIO(objects.get(done.result.artifacts["sweep"])))
    summary = done.result.summary
    year_rows, year = _one_year(table, request.as_of.year + 1 if request.as_of else None)
    title = f"{summary.get('points', '?')} points, Cal {year} ($/MWh) · run {summary.get('run')}"
    shown = [c for c in year_rows.column_names if year_rows.column(c).null_count < year_rows.num_rows]
    print_table(console, rich_table(year_rows, shown, 50, title))
    console.print(f"Fingerprint {summary.get('fingerprint')}; the job: carbon254 jobs show {done.id}")
    if output is not None:
        write_table(table, output)
        console.print(f"Wrote every point's yearly means to {output}")


@scenario.command("list")
def list_(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Saved scenarios, the latest runs, and the historical replay presets."""
    db = open_metadata(data_dir)
    try:
        saved = list_scenarios(db, owner=ANONYMOUS.tenant)
        runs = list_runs(db, tenant=ANONYMOUS.tenant, limit=20)
    finally:
        db.close()
    table = Table(title="Saved scenarios")
    for name in ("name", "version", "saved"):
        table.add_column(name)
    for record in saved:
        table.add_row(record.name, str(record.version), f"{record.created_at:%Y-%m-%d %H:%M}")
    print_table(console, table)
    runs_table = Table(title="Latest runs")
    for name in ("run", "scenario", "points", "fingerprint", "when"):
        runs_table.add_column(name)
    for item in runs:
        name = item.scenario_name or Scenario.model_validate_json(item.inline or "{}").name
        runs_table.add_row(
            item.id,
            name,
            str(item.summary.get("points", 1)),
            item.fingerprint[:12],
            f"{item.created_at:%Y-%m-%d %H:%M}",
        )
    print_table(console, runs_table)
    presets = Table(title="Historical replay presets (replay: {preset: NAME})")
    for name in ("preset", "iso", "location", "dates", "event"):
        presets.add_column(name)
    for preset in list_presets():
        presets.add_row(
            preset.name, preset.iso, preset.location, f"{preset.start}..{preset.end}", preset.description
        )
    print_table(console, presets)
