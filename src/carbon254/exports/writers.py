"""Export files written batch by batch: CSV, Parquet and XLSX, in bounded memory.

A writer takes Arrow record batches in output order and encodes each one
as it comes, so an export holds one batch of rows at a time whatever its
size. Every format shows the rows as REST does (`carbon254.formats`):
timestamps in the query's zone, -0.0 as 0.0; CSV is the same text as a CSV
answer of the same query.

XLSX timestamps are Excel datetimes in the query's zone (its wall-clock
time, the offset dropped), formatted `yyyy-mm-dd hh:mm:ss`: a spreadsheet
user sorts, filters and does arithmetic on them, which text would prevent.
Excel has no time zones, so the zone is the query's `tz` (ask for
`tz=iso` to see market time); the hour repeated when clocks fall back
appears twice with the same wall time, and `interval_end` tells the two
apart.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, BinaryIO, Protocol

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xlsxwriter

from carbon254.formats import PARQUET_COMPRESSION, csv_bytes, presented

# Excel's sheet limit, header row included.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Rows encoded to CSV text at once.
CSV_SLICE_ROWS = 32_768
METADATA_KEY = b"carbon254"


class ExportFormat(StrEnum):
    """The file formats an export may be written in."""

    CSV = "csv"
    PARQUET = "parquet"
    XLSX = "xlsx"

    @property
    def extension(self) -> str:
        """The file name extension, without the dot."""
        return self.value


class ExportWriter(Protocol):
    """Encodes batches into an open binary file as they come; `close` completes the file."""

    @property
    def rows(self) -> int:
        """Data rows written so far (header rows not counted)."""
        ...

    @property
    def sheets(self) -> int:
        """XLSX worksheets written (at least 1 once closed); 0 for other formats."""
        ...

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Encode the rows of `batch` (columns as the writer's schema) after those already written."""
        ...

    def close(self) -> None:
        """Write what completes the file (Parquet footer, XLSX archive); the sink stays open."""
        ...


def _as_table(batch: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pa.Table:
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    return table.cast(schema) if table.schema != schema else table


class CsvFileWriter:
    """CSV with one header row: the bytes of the REST CSV answer of the same rows.

    With `header=False` no header row is written: the rows continue a CSV
    file whose header another writer wrote (an export's later parts).
    """

    def __init__(self, sink: BinaryIO, schema: pa.Schema, tz: str | None, *, header: bool = True) -> None:
        self._sink = sink
        self._schema = schema
        self._tz = tz
        self._rows = 0
        self._started = not header

    @property
    def rows(self) -> int:
        """Data rows written so far."""
        return self._rows

    @property
    def sheets(self) -> int:
        """Always 0: CSV has no sheets."""
        return 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append the batch's rows as CSV lines (the header first, once)."""
        table = _as_table(batch, self._schema)
        # Text is several times the size of the values: encode a slice at a time.
        for start in range(0, table.num_rows, CSV_SLICE_ROWS):
            piece = table.slice(start, CSV_SLICE_ROWS)
            self._sink.write(csv_bytes(presented(piece, self._tz), header=not self._started))
            self._started = True
        self._rows += table.num_rows

    def close(self) -> None:
        """Write the header alone when no row came, as REST answers an empty query."""
        if not self._started:
            self._sink.write(csv_bytes(presented(self._schema.empty_table(), self._tz)))
            self._started = True


class ParquetFileWriter:
    """Parquet (zstd), one row group per batch written, timestamps zone-aware in the query's zone.

    `metadata` travels as JSON in the schema metadata under `carbon254`, as
    in REST Parquet answers.
    """

    def __init__(
        self, sink: BinaryIO, schema: pa.Schema, tz: str | None, metadata: dict[str, Any] | None = None
    ) -> None:
        self._schema = schema
        self._tz = tz
        out_schema = presented(schema.empty_table(), tz).schema
        merged = dict(out_schema.metadata or {})
        merged[METADATA_KEY] = orjson.dumps(metadata or {})
        self._out_schema = out_schema.with_metadata(merged)
        self._writer = pq.ParquetWriter(sink, self._out_schema, compression=PARQUET_COMPRESSION)
        self._rows = 0

    @property
    def rows(self) -> int:
        """Data rows written so far."""
        return self._rows

    @property
    def sheets(self) -> int:
        """Always 0: Parquet has no sheets."""
        return 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Encode the batch as the next row group."""
        table = _as_table(batch, self._schema)
        if table.num_rows == 0:
            return
        out = presented(table, self._tz)
        self._writer.write_table(out.replace_schema_metadata(self._out_schema.metadata))
        self._rows += table.num_rows

    def close(self) -> None:
        """Write the footer."""
        self._writer.close()


class XlsxFileWriter:
    """XLSX in XlsxWriter's constant-memory mode: each row goes to disk as it is written.

    A sheet holds `sheet_rows` rows, its header row included (Excel's
    1,048,576 unless a smaller limit is given); rows past it continue on the
    next sheet, `data`, `data (2)`, `data (3)`..., each starting with the
    header. Strings are written as text, never as formulas or links, so a
    name beginning with `=` cannot run in the reader's Excel.
    """

    def __init__(
        self, sink: BinaryIO, schema: pa.Schema, tz: str | None, *, sheet_rows: int = EXCEL_MAX_ROWS
    ) -> None:
        if not 2 <= sheet_rows <= EXCEL_MAX_ROWS:
            raise ValueError(f"sheet_rows must be between 2 and {EXCEL_MAX_ROWS:,}, not {sheet_rows:,}")
        self._schema = schema
        self._tz = tz
        self._per_sheet = sheet_rows - 1
        self._book = xlsxwriter.Workbook(
            sink,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": EXCEL_DATETIME_FORMAT,
            },
        )
        self._timestamps = [i for i, f in enumerate(schema) if pa.types.is_timestamp(f.type)]
        self._sheet: Any = None
        self._sheets = 0
        self._row = 0  # next row of the current sheet
        self._rows = 0

    @property
    def rows(self) -> int:
        """Data rows written so far."""
        return self._rows

    @property
    def sheets(self) -> int:
        """Worksheets started so far."""
        return self._sheets

    def _new_sheet(self) -> None:
        self._sheets += 1
        name = "data" if self._sheets == 1 else f"data ({self._sheets})"
        self._sheet = self._book.add_worksheet(name)
        for index in self._timestamps:
            self._sheet.set_column(index, index, 20)
        self._sheet.write_row(0, 0, self._schema.names)
        self._row = 1

    def _columns(self, table: pa.Table) -> list[list[Any]]:
        columns: list[list[Any]] = []
        for f, column in zip(table.schema, table.columns, strict=True):
            if pa.types.is_timestamp(f.type) and f.type.tz is not None:
                # Excel keeps wall-clock time only: the query zone's local time.
                columns.append(pc.local_timestamp(column).to_pylist())
            elif pa.types.is_floating(f.type):
                # NaN is "no value" in every format: an empty cell, as in CSV.
                columns.append([None if v is None or math.isnan(v) else v for v in column.to_pylist()])
            else:
                columns.append(column.to_pylist())
        return columns

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append the batch's rows, starting a new sheet whenever the current one is full."""
        table = presented(_as_table(batch, self._schema), self._tz)
        if table.num_rows == 0:
            return
        rows = zip(*self._columns(table), strict=True)
        for values in rows:
            if self._sheet is None or self._row > self._per_sheet:
                self._new_sheet()
            self._sheet.write_row(self._row, 0, values)
            self._row += 1
        self._rows += table.num_rows

    def close(self) -> None:
        """Write the workbook (a header-only `data` sheet when no row came)."""
        if self._sheet is None:
            self._new_sheet()
        self._book.close()


def open_writer(
    fmt: ExportFormat,
    sink: BinaryIO,
    schema: pa.Schema,
    *,
    tz: str | None,
    metadata: dict[str, Any] | None = None,
    sheet_rows: int = EXCEL_MAX_ROWS,
    header: bool = True,
) -> ExportWriter:
    """A writer of `fmt` encoding batches of `schema` into `sink`, timestamps shown in `tz` (UTC if None).

    `metadata` goes into Parquet's schema metadata (the other formats have
    nowhere to put it); `sheet_rows` is the XLSX rows per sheet, header
    included; `header=False` leaves out CSV's header row.
    """
    if fmt is ExportFormat.CSV:
        return CsvFileWriter(sink, schema, tz, header=header)
    if fmt is ExportFormat.PARQUET:
        return ParquetFileWriter(sink, schema, tz, metadata)
    return XlsxFileWriter(sink, schema, tz, sheet_rows=sheet_rows)
