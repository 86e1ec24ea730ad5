"""Query results out of the CLI: a Rich table for the terminal, or a CSV/Parquet file.

CSV timestamps are ISO-8601 with their UTC offset in the query's zone (the
same text the service's CSV carries); Parquet keeps Arrow types, timestamps
zone-aware. Files are written next to their destination and renamed into
place, so an interrupted export never leaves a truncated file behind. The path
`-` means CSV on standard output, for pipes (`carbon254 query ... -o - | ...`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

# %.f prints fractional seconds only when there are some (ingested_at has them).
CSV_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"


class OutputFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


def is_stdout(path: Path) -> bool:
    """Whether an --output path is `-`, standard output."""
    return str(path) == "-"


def output_format(path: Path) -> OutputFormat:
    """The format an --output path asks for, by suffix (`-` is CSV); ValueError for anything else."""
    if is_stdout(path):
        return OutputFormat.CSV
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return OutputFormat.CSV
    if suffix in (".parquet", ".pq"):
        return OutputFormat.PARQUET
    raise ValueError(f"--output must end in .csv or .parquet, or be - for CSV on stdout, got {path.name!r}")


def _csv_bytes(table: pa.Table) -> bytes:
    import polars as pl  # deferred: only CSV export needs it

    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    stamps = [
        pl.col(name).dt.to_string(CSV_TIMESTAMP_FORMAT)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    ]
    return (frame.with_columns(stamps) if stamps else frame).write_csv().encode()


def write_table(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` as CSV or Parquet (by suffix), atomically, or as CSV to stdout for `-`.

    Raises OSError if it cannot.
    """
    fmt = output_format(path)
    if is_stdout(path):
        sys.stdout.buffer.write(_csv_bytes(table))
        sys.stdout.flush()
        return
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        if fmt is OutputFormat.CSV:
            tmp.write_bytes(_csv_bytes(table))
        else:
            pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        whole_minute = value.second == 0 and value.microsecond == 0
        return value.isoformat(sep=" ", timespec="minutes" if whole_minute else "seconds")
    return escape(str(value))


def print_table(console: Console, table: Table) -> None:
    """Print `table`; into a pipe or file at its natural width, since nobody can widen the window there."""
    width = None
    if not console.is_terminal:
        width = max(console.width, Measurement.get(console, console.options, table).maximum)
    console.print(table, width=width)


def rich_table(table: pa.Table, columns: list[str], limit: int, title: str) -> Table:
    """The first `limit` rows of `table` (the named columns) as a Rich table; numbers right-aligned."""
    shown = table.select(columns).slice(0, limit)
    out = Table(title=escape(title), title_justify="left")
    for f in shown.schema:
        numeric = pa.types.is_floating(f.type) or pa.types.is_integer(f.type)
        # Numbers keep their header whole: a truncated "spre…" says less than a truncated time.
        out.add_column(
            f.name,
            justify="right" if numeric else "left",
            no_wrap=True,
            min_width=len(f.name) if numeric else None,
        )
    for row in shown.to_pylist():
        out.add_row(*(_cell(row[c]) for c in columns))
    return out
