"""`carbon254 ingest`: files or ISO downloads into the store, one atomic batch per file.

Four modes share the command:
- `ingest FILE...` reads canonical CSV/Parquet files;
- `ingest FILE... --iso ISO` reads files in the ISO's native published format;
- `ingest --iso ISO --dataset D --market M --start DAY --end DAY` downloads
  (a backfill, resumable from its watermark; `--gaps` fetches only the days
  the data-quality report finds incomplete);
- `ingest --follow [--iso ISO,...]` polls the ISOs and writes new intervals.
A bad file is reported and nothing from it is written; the good files are
still written, and the command then exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carbon254.cli.console import CliError, console, err_console, fail, interrupted
from carbon254.cli.ingest_native import download, follow_isos, ingest_native_files
from carbon254.cli.names import BadList, split_list
from carbon254.cli.options import DEFAULT_DATA_DIR, DEFAULT_STORE, DataDir, StoreUrl
from carbon254.cli.settings import load_settings
from carbon254.cli.stores import check_store_url, open_cli_store
from carbon254.config import Settings
from carbon254.excerpt import excerpt
from carbon254.ingest import FileError, FileFormat, read_canonical_file, write_canonical
from carbon254.isos import Iso, iso_info
from carbon254.names import UnknownName, resolve_iso
from carbon254.schema import Dataset, ValidationError
from carbon254.store import Store, StoreError, WriteResult
from carbon254.timeseries import parse_bound, relative_anchor


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file: its write result, or why it was rejected."""

    path: Path
    dataset: Dataset | None
    result: WriteResult | None
    error: str | None


def _ingest_one(store: Store, path: Path, dataset: Dataset | None) -> FileOutcome:
    try:
        read = read_canonical_file(path, dataset)
    except FileError as exc:
        return FileOutcome(path, dataset, None, str(exc))
    try:
        result = write_canonical(store, read.dataset, read.table)
    except ValidationError as exc:
        note = (
            "\n  (rows count data rows from 0: row N is line N+2 of the file)"
            if read.format is FileFormat.CSV
            else "\n  (rows count from 0)"
        )
        return FileOutcome(path, read.dataset, None, f"{path.name}: {exc}{note}")
    except (StoreError, OSError) as exc:
        return FileOutcome(path, read.dataset, None, f"{path.name}: the store could not write it: {exc}")
    return FileOutcome(path, read.dataset, result, None)


def _status(result: WriteResult | None) -> str:
    if result is None:
        return "[red]rejected[/]"
    return "[green]written[/]" if result.rows_written else "unchanged"


def _summary(outcomes: list[FileOutcome]) -> Table:
    table = Table(title="Ingest summary", title_justify="left")
    table.add_column("file")
    table.add_column("dataset")
    table.add_column("rows received", justify="right")
    table.add_column("rows written", justify="right")
    table.add_column("revisions", justify="right")
    table.add_column("status")
    for o in outcomes:
        r = o.result
        table.add_row(
            escape(o.path.name),
            o.dataset.value if o.dataset else "?",
            f"{r.rows_received:,}" if r else "-",
            f"{r.rows_written:,}" if r else "0",
            f"{r.revisions:,}" if r else "-",
            _status(r),
        )
    return table


def _isos(text: str | None) -> list[Iso]:
    try:
        names = split_list("--iso", text)
        return [resolve_iso(n, "--iso") for n in names] if names else list(Iso)
    except (BadList, UnknownName) as exc:
        raise typer.BadParameter(str(exc), param_hint="--iso") from None


def _day(option: str, text: str | None, iso: Iso) -> date:
    """A market day of `iso`: YYYY-MM-DD, or relative (`today-7d`) in the ISO's market time."""
    if text is None:
        raise typer.BadParameter(
            f"{option} is needed to download (a market day, YYYY-MM-DD)", param_hint=option
        )
    if relative_anchor(text) is not None:
        zone = iso_info(iso.value).timezone
        try:
            return parse_bound(text, zone).astimezone(ZoneInfo(zone)).date()
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{excerpt(text)} is not a date (YYYY-MM-DD, or relative such as today-7d)", param_hint=option
        ) from None


def ingest(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files to load, each one all-or-nothing batch: canonical CSV (.csv, .csv.gz) or Parquet, "
            "or with --iso the ISO's own published files (zip, CSV, XML or JSON).",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    iso: Annotated[
        str | None,
        typer.Option(
            "--iso",
            help="ISO whose native files are given, or to download from (with --follow: a comma list; "
            "all ISOs when omitted).",
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[
        Dataset | None,
        typer.Option(
            "--dataset",
            help="Dataset: of canonical files (inferred when omitted), or to download.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    market: Annotated[
        str | None,
        typer.Option(
            "--market", help="Market to download: DAM, RT5, RT15, RTH or an ISO's own.", show_default=False
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="First market day to download (YYYY-MM-DD, or relative such as today-7d; the ISO's "
            "market time).",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end", help="Market day to stop before (exclusive), same forms as --start.", show_default=False
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Keep polling the ISO(s) at their publication cadence; Ctrl+C stops."),
    ] = False,
    gaps: Annotated[
        bool,
        typer.Option(
            "--gaps", help="Download only the days in --start/--end that data quality finds incomplete."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Download days even if a previous backfill completed them."),
    ] = False,
    polls: Annotated[
        int | None,
        typer.Option(
            "--polls", min=1, help="With --follow: stop after this many polling rounds.", show_default=False
        ),
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            min=0.0,
            help="With --follow: seconds between polls instead of each report's cadence.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    """Load files into the store, or download from the ISOs.

    Canonical files hold a dataset's columns (lmp: iso, market, location,
    interval_start, interval_end, lmp; optional location_type, energy,
    congestion, loss, published_at; prices in $/MWh) with ISO-8601 timestamps
    and offsets. With --iso, files are the ISO's own (e.g. NYISO
    20221101realtime_zone_csv.zip), the report told from the file name or
    header. Downloads take --iso, --dataset, --market, --start and --end;
    each ISO's URL can be redirected with CARBON254_<ISO>_URL. Re-ingesting
    stores nothing new; changed values are kept as revisions; files that fail
    to parse are quarantined under the data directory.
    """
    try:
        check_store_url(store_url, data_dir)
    except CliError as exc:
        fail(exc.message, exc.hint)
    if follow:
        if files:
            raise typer.BadParameter("--follow downloads; it takes no FILE", param_hint="--follow")
        settings = _settings(data_dir, store_url)
        follow_isos(_isos(iso), dataset, market, settings, polls=polls, interval_s=interval)
        return
    if files and iso is not None:
        ingest_native_files(files, _one_iso(iso), store_url, data_dir)
        return
    if not files and iso is not None:
        if dataset is None or market is None:
            raise typer.BadParameter(
                "downloading needs --dataset and --market (and --start, --end)",
                param_hint="--dataset/--market",
            )
        chosen = _one_iso(iso)
        first, stop = _day("--start", start, chosen), _day("--end", end, chosen)
        if stop <= first:
            raise typer.BadParameter(
                f"--end {stop} must be after --start {first} (the end day is not included)",
                param_hint="--end",
            )
        days = _gap_days(chosen, dataset, market, first, stop, store_url, data_dir) if gaps else None
        settings = _settings(data_dir, store_url)
        download(chosen, dataset, market, first, stop, settings, days=days, force=force or gaps)
        return
    if not files:
        raise typer.BadParameter(
            "give files to ingest, or --iso with --dataset/--market/--start/--end to download",
            param_hint="FILE",
        )
    try:
        store = open_cli_store(store_url, data_dir)
    except CliError as exc:
        fail(exc.message, exc.hint)
    outcomes: list[FileOutcome] = []
    try:
        with Progress(
            TextColumn("Ingesting {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("", total=len(files))
            for path in files:
                progress.update(task, description=escape(path.name))
                outcomes.append(_ingest_one(store, path, dataset))
                progress.advance(task)
    except KeyboardInterrupt:
        done = sum(1 for o in outcomes if o.result)
        interrupted(f"{done} file(s) were written before the interruption; the file in hand was not.")
    finally:
        store.close()
    console.print(_summary(outcomes))
    failed = [o for o in outcomes if o.error]
    for o in failed:
        err_console.print(f"[bold red]Rejected[/] {escape(o.error or '')}")
    if failed:
        fail(f"{len(failed)} of {len(outcomes)} file(s) rejected; nothing from them was written")


def _settings(data_dir: Path, store_url: str) -> Settings:
    """The settings downloads run with: the environment's, with --data-dir and --store on top."""
    try:
        return load_settings(data_dir=data_dir, store=store_url)
    except CliError as exc:
        fail(exc.message, exc.hint)


def _one_iso(text: str) -> Iso:
    isos = _isos(text)
    if len(isos) != 1:
        raise typer.BadParameter("name one ISO here", param_hint="--iso")
    return isos[0]


def _gap_days(
    iso: Iso, dataset: Dataset, market: str, start: date, end: date, store_url: str, data_dir: Path
) -> list[date]:
    """Days in [start, end) that the data-quality report finds incomplete."""
    from carbon254.quality import days_with_gaps

    try:
        store = open_cli_store(store_url, data_dir)
    except CliError as exc:
        fail(exc.message, exc.hint)
    try:
        days = days_with_gaps(store, iso, dataset, market, start, end)
    finally:
        store.close()
    console.print(f"{len(days)} day(s) with gaps between {start} and {end}")
    return days
