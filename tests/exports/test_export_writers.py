"""The export writers: each format reads back as the rows given, batch boundaries invisible."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from xlsx_reading import read_workbook

from carbon254.exports import EXCEL_MAX_ROWS, ExportFormat, open_writer
from carbon254.service.encoding import Format, body_bytes

NEW_YORK = "America/New_York"


def sample(rows: int, offset: int = 0) -> pa.Table:
    """Rows across the New York fall-back, with NaN, null, -0.0 and a formula-looking string."""
    first = datetime(2024, 11, 3, 4, tzinfo=UTC)
    starts = [first + timedelta(minutes=30 * (offset + i)) for i in range(rows)]
    values = [(offset + i) / 3 for i in range(rows)]
    for i in range(rows):
        if (offset + i) % 7 == 3:
            values[i] = float("nan")
        elif (offset + i) % 7 == 5:
            values[i] = -0.0
    return pa.table(
        {
            "interval_start": pa.array(starts, pa.timestamp("us", tz="UTC")),
            "location": pa.array([f"=NODE{(offset + i) % 3}" for i in range(rows)], pa.string()),
            "lmp": pa.array(
                [None if (offset + i) % 11 == 4 else v for i, v in enumerate(values)], pa.float64()
            ),
        }
    )


def _write(
    fmt: ExportFormat, batches: list[pa.Table], *, sheet_rows: int = EXCEL_MAX_ROWS
) -> tuple[bytes, int, int]:
    sink = io.BytesIO()
    writer = open_writer(
        fmt, sink, batches[0].schema, tz=NEW_YORK, metadata={"unit": "$/MWh"}, sheet_rows=sheet_rows
    )
    for batch in batches:
        writer.write(batch)
    writer.close()
    return sink.getvalue(), writer.rows, writer.sheets


BATCHES = [sample(10), sample(0, 10), sample(7, 10), sample(13, 17)]
WHOLE = pa.concat_tables(BATCHES)


def test_csv_is_the_rest_csv_of_the_whole_table_whatever_the_batches() -> None:
    data, rows, sheets = _write(ExportFormat.CSV, BATCHES)
    assert data == body_bytes(WHOLE, Format.CSV, {}, NEW_YORK)
    assert (rows, sheets) == (30, 0)
    # The repeated 01:00 of the fall-back keeps its two offsets.
    assert b"2024-11-03T01:00:00-04:00" in data and b"2024-11-03T01:00:00-05:00" in data
    assert b"-0.0" not in data


def test_csv_of_no_rows_is_the_header_alone() -> None:
    data, rows, _ = _write(ExportFormat.CSV, [sample(0)])
    assert data == b"interval_start,location,lmp\n"
    assert rows == 0


def test_parquet_reads_back_as_the_rows_in_the_query_zone_one_row_group_per_batch() -> None:
    data, rows, _ = _write(ExportFormat.PARQUET, BATCHES)
    file = pq.ParquetFile(io.BytesIO(data))
    assert file.metadata.num_row_groups == 3  # the empty batch adds none
    assert file.metadata.row_group(0).column(0).compression == "ZSTD"
    back = file.read()
    assert back.schema.field("interval_start").type == pa.timestamp("us", tz=NEW_YORK)
    assert back.schema.metadata[b"carbon254"] == b'{"unit":"$/MWh"}'
    assert rows == back.num_rows == 30
    assert (
        back.column("interval_start")
        .cast(pa.timestamp("us", tz="UTC"))
        .equals(WHOLE.column("interval_start"))
    )
    assert back.column("location").equals(WHOLE.column("location"))
    lmp = back.column("lmp").to_pylist()
    expected = WHOLE.column("lmp").to_pylist()
    assert [str(v) for v in lmp] == [str(0.0 if v == 0 else v) for v in expected]


def _expected_cells(table: pa.Table) -> list[list[object]]:
    local = table.column("interval_start").cast(pa.timestamp("us", tz=NEW_YORK)).to_pylist()
    rows = []
    for moment, location, lmp in zip(
        local, table.column("location").to_pylist(), table.column("lmp").to_pylist(), strict=True
    ):
        value = None if lmp is None or lmp != lmp else lmp
        rows.append([moment.replace(tzinfo=None), location, value])
    return rows


def _padded(rows: list[list[object]], width: int) -> list[list[object]]:
    return [row + [None] * (width - len(row)) for row in rows]


def assert_same_cells(read: list[list[object]], expected: list[list[object]]) -> None:
    """Cells equal, numbers to XlsxWriter's 16 significant digits (Excel itself shows 15)."""
    assert len(read) == len(expected)
    for got, want in zip(read, expected, strict=True):
        assert got[:2] == want[:2]
        assert got[2] == (None if want[2] is None else pytest.approx(want[2], rel=1e-15, abs=1e-300))


def test_xlsx_holds_local_datetimes_text_and_numbers_on_one_sheet() -> None:
    data, rows, sheets = _write(ExportFormat.XLSX, BATCHES)
    [(name, cells)] = read_workbook(data)
    assert (name, rows, sheets) == ("data", 30, 1)
    assert cells[0] == ["interval_start", "location", "lmp"]
    assert_same_cells(_padded(cells[1:], 3), _expected_cells(WHOLE))
    # Formula-looking text stays text.
    assert b"<f>" not in data


@pytest.mark.parametrize("sheet_rows", [2, 4, 11, 31, 32])
def test_xlsx_splits_across_sheets_with_a_header_on_each(sheet_rows: int) -> None:
    data, rows, sheets = _write(ExportFormat.XLSX, BATCHES, sheet_rows=sheet_rows)
    book = read_workbook(data)
    per_sheet = sheet_rows - 1
    expected_sheets = -(-30 // per_sheet)
    assert sheets == len(book) == expected_sheets
    assert [name for name, _ in book] == ["data"] + [f"data ({n})" for n in range(2, expected_sheets + 1)]
    data_rows: list[list[object]] = []
    for _, cells in book:
        assert cells[0] == ["interval_start", "location", "lmp"]
        assert 1 <= len(cells) - 1 <= per_sheet
        data_rows += _padded(cells[1:], 3)
    assert_same_cells(data_rows, _expected_cells(WHOLE))
    assert rows == 30


def test_xlsx_of_no_rows_is_one_sheet_with_its_header() -> None:
    data, rows, sheets = _write(ExportFormat.XLSX, [sample(0)])
    assert read_workbook(data) == [("data", [["interval_start", "location", "lmp"]])]
    assert (rows, sheets) == (0, 1)


def test_xlsx_refuses_a_sheet_limit_excel_cannot_hold() -> None:
    with pytest.raises(ValueError, match="sheet_rows must be between 2 and 1,048,576"):
        _write(ExportFormat.XLSX, BATCHES, sheet_rows=EXCEL_MAX_ROWS + 1)


def _sheet_rows(archive: zipfile.ZipFile, member: str) -> tuple[int, bytes]:
    """Rows of a worksheet and the XML of its last row, streamed (a full sheet is ~100 MB of XML)."""
    count = 0
    tail = b""
    with archive.open(member) as sheet:
        while chunk := sheet.read(1 << 20):
            window = tail + chunk
            # A `<row ` cut by the chunk boundary is in `tail` and counted with the next chunk.
            count += window.count(b"<row ") - tail.count(b"<row ")
            tail = window[-4096:]
    last = tail[tail.rfind(b"<row ") :]
    return count, last


def test_xlsx_past_excels_row_limit_continues_on_a_second_sheet() -> None:
    # Excel's real limit: 1,048,575 data rows under the header fill `data`; the rest go to `data (2)`.
    total = EXCEL_MAX_ROWS + 4
    first = datetime(2020, 1, 1, tzinfo=UTC)
    sink = io.BytesIO()
    schema = pa.schema([("interval_start", pa.timestamp("us", tz="UTC")), ("lmp", pa.float64())])
    writer = open_writer(ExportFormat.XLSX, sink, schema, tz="UTC")
    for start in range(0, total, 1 << 17):
        n = min(1 << 17, total - start)
        writer.write(
            pa.table(
                {
                    "interval_start": pa.array(
                        [first + timedelta(hours=start + i) for i in range(n)], schema[0].type
                    ),
                    "lmp": pa.array([float(start + i) for i in range(n)], pa.float64()),
                },
                schema=schema,
            )
        )
    writer.close()
    assert (writer.rows, writer.sheets) == (total, 2)

    archive = zipfile.ZipFile(io.BytesIO(sink.getvalue()))
    rows, last = _sheet_rows(archive, "xl/worksheets/sheet1.xml")
    assert rows == EXCEL_MAX_ROWS
    assert f'r="{EXCEL_MAX_ROWS}"'.encode() in last
    # The last row of the first sheet is data row 1,048,575 (numbered from 0: 1,048,574).
    assert b"<v>1048574</v>" in last
    archive.close()
    book = dict(read_workbook(sink.getvalue(), only=["data (2)"]))
    cells = book["data (2)"]
    assert cells[0] == ["interval_start", "lmp"]
    assert [row[1] for row in cells[1:]] == [float(n) for n in range(EXCEL_MAX_ROWS - 1, total)]
    assert cells[1][0] == datetime(2020, 1, 1) + timedelta(hours=EXCEL_MAX_ROWS - 1)
