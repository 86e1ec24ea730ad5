"""`carbon254 ingest FILE...`: canonical CSV/Parquet files into the store, one atomic batch per file.

A bad file (unreadable, not CSV/Parquet, missing columns, a timestamp without
an offset, any validation rule broken) is reported and nothing from it is
written; the good files are still written, and the command then exits 1.
The FILE arguments are optional on purpose: downloading from the ISOs
(`--iso/--dataset/--market/--start/--end/--follow`) and reading native ISO
files (`--iso`) will extend this same command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carbon254.cli.console import console, err_console, fail, interrupted
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.ingest import FileError, FileFormat, read_canonical_file
from carbon254.schema import Dataset, ValidationError
from carbon254.store import Source, StoreError, WriteResult, open_store
from carbon254.store.parquet import ParquetStore


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file: its write result, or why it was rejected."""

    path: Path
    dataset: Dataset | None
    result: WriteResult | None
    error: str | None


def _ingest_one(store: ParquetStore, path: Path, dataset: Dataset | None) -> FileOutcome:
    try:
        read = read_canonical_file(path, dataset)
    except FileError as exc:
        return FileOutcome(path, dataset, None, str(exc))
    try:
        result = store.write(read.dataset, read.table, source=Source.INGESTED)
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


def ingest(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Canonical CSV (.csv, .csv.gz) or Parquet files; each is one all-or-nothing batch.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[
        Dataset | None,
        typer.Option(
            "--dataset",
            help="Dataset of the files; inferred from their columns when omitted.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Load canonical CSV or Parquet files into the store.

    Columns are a dataset's columns (lmp: iso, market, location, interval_start,
    interval_end, lmp; optional location_type, energy, congestion, loss,
    published_at; prices in $/MWh). Timestamps are ISO-8601 with an offset
    or Z, e.g. 2025-01-01T05:00:00-05:00 or 2025-01-01T10:00:00Z. Re-ingesting
    a file stores nothing new; changed values are kept as revisions.
    """
    if not files:
        raise typer.BadParameter(
            "give one or more canonical CSV or Parquet files to ingest", param_hint="FILE"
        )
    try:
        store = open_store(data_dir)
    except OSError as exc:
        fail(f"--data-dir: cannot open the store in {data_dir} ({exc.strerror or exc})")
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
