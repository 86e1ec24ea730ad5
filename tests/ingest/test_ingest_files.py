"""Reading canonical CSV/Parquet files: timestamp forms, formats, and the errors users see."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carbon254.ingest import (
    FileError,
    FileFormat,
    TimestampError,
    UnreadableFile,
    UnsupportedFormat,
    detect_format,
    read_canonical_file,
)
from carbon254.schema import TIMESTAMP, Dataset, validate

HEADER = "iso,market,location,location_type,interval_start,interval_end,lmp,energy,congestion,loss"


def _csv(tmp_path: Path, *rows: str, name: str = "prices.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_every_offset_spelling_reads_as_the_same_utc_instant(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "PJM,DAM,A,hub,2025-01-01T05:00:00-05:00,2025-01-01T06:00:00-05:00,30,29,1,0",
        "PJM,DAM,B,hub,2025-01-01T10:00:00Z,2025-01-01T11:00:00z,30,29,1,0",
        "PJM,DAM,C,hub,2025-01-01 10:00:00+00:00,2025-01-01 11:00:00+0000,30,29,1,0",
        "PJM,DAM,D,, 2025-01-01T11:00:00.000+01:00 ,2025-01-01T11:00+00:00,30,,,",
    )
    read = read_canonical_file(path)
    assert read.dataset is Dataset.LMP and read.format is FileFormat.CSV
    assert read.table.schema.field("interval_start").type == TIMESTAMP
    starts = read.table.column("interval_start").to_pylist()
    assert starts == [datetime(2025, 1, 1, 10, tzinfo=UTC)] * 4
    # Empty optional cells are nulls, not empty strings, so the batch validates.
    assert read.table.column("location_type").to_pylist()[3] is None
    assert read.table.column("energy").to_pylist()[3] is None
    validate(Dataset.LMP, read.table)


def test_naive_timestamp_names_column_and_first_bad_row(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "PJM,DAM,A,hub,2025-01-01T05:00:00-05:00,2025-01-01T06:00:00-05:00,30,29,1,0",
        "PJM,DAM,A,hub,2025-01-01T06:00:00-05:00,2025-01-01T07:00:00,30,29,1,0",
        "PJM,DAM,A,hub,2025-01-01T07:00:00,2025-01-01T08:00:00,30,29,1,0",
    )
    with pytest.raises(TimestampError) as caught:
        read_canonical_file(path)
    err = caught.value
    assert (err.column, err.row, err.value) == ("interval_end", 1, "2025-01-01T07:00:00")
    assert "prices.csv: column interval_start: row 2 (line 4 of the file" in str(err)
    assert "; column interval_end: row 1 (line 3 of the file" in str(err)
    assert "'2025-01-01T07:00:00', a timestamp without a UTC offset" in str(err)


def test_garbage_timestamp_is_not_called_naive(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PJM,DAM,A,hub,2025-01-32T05:00:00Z,2025-01-01T06:00:00Z,30,29,1,0")
    with pytest.raises(TimestampError, match="'2025-01-32T05:00:00Z', which is not an ISO-8601 timestamp"):
        read_canonical_file(path)


def test_text_is_kept_as_text(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PJM,DAM,NA,hub,2025-01-01T05:00:00Z,2025-01-01T06:00:00Z,30,29,1,0")
    read = read_canonical_file(path)
    assert read.table.column("location").to_pylist() == ["NA"]  # not a null


def test_extra_columns_are_ignored_and_reported(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "PJM,DAM,A,2025-01-01T05:00:00Z,2025-01-01T06:00:00Z,30,note",
        header="iso,market,location,interval_start,interval_end,lmp,comment",
    )
    read = read_canonical_file(path)
    assert read.ignored_columns == ("comment",)
    assert "comment" not in read.table.column_names


def test_gzip_csv_and_bom(tmp_path: Path) -> None:
    text = "\ufeff" + HEADER + "\nPJM,DAM,A,hub,2025-01-01T05:00:00Z,2025-01-01T06:00:00Z,30,29,1,0\n"
    path = tmp_path / "prices.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    read = read_canonical_file(path)
    assert read.table.num_rows == 1
    assert read.table.column_names[0] == "iso"


def test_parquet_timestamps_naive_aware_and_text(tmp_path: Path) -> None:
    base = {
        "iso": ["ERCOT"],
        "market": ["DAM"],
        "location": ["HB_NORTH"],
        "lmp": [25.0],
    }
    aware = tmp_path / "aware.parquet"
    chicago = pa.timestamp("ns", tz="America/Chicago")
    pq.write_table(
        pa.table(
            {
                **base,
                "interval_start": pa.array([datetime(2025, 1, 1, 6, tzinfo=UTC)], chicago),
                "interval_end": pa.array(["2025-01-01T01:00:00-06:00"]),
            }
        ),
        aware,
    )
    read = read_canonical_file(aware)
    assert read.format is FileFormat.PARQUET
    assert read.table.column("interval_start").type == TIMESTAMP
    assert read.table.column("interval_end").to_pylist() == [datetime(2025, 1, 1, 7, tzinfo=UTC)]

    naive = tmp_path / "naive.parquet"
    pq.write_table(
        pa.table(
            {
                **base,
                "interval_start": pa.array([datetime(2025, 1, 1, 6)], pa.timestamp("us")),
                "interval_end": pa.array([datetime(2025, 1, 1, 7, tzinfo=UTC)], TIMESTAMP),
            }
        ),
        naive,
    )
    with pytest.raises(TimestampError, match="column interval_start holds timestamps without a time zone"):
        read_canonical_file(naive)


def test_dataset_is_inferred_or_given(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "ERCOT,COAST,forecast,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z,15000,2024-12-31T12:00:00Z",
        header="iso,zone,kind,interval_start,interval_end,mw,forecast_issued_at",
    )
    read = read_canonical_file(path)
    assert read.dataset is Dataset.LOAD
    assert read.table.column("forecast_issued_at").type == TIMESTAMP
    assert read_canonical_file(path, "load").dataset is Dataset.LOAD

    odd = _csv(tmp_path, "x,1", name="odd.csv", header="iso,price")
    with pytest.raises(FileError, match=r"closest is \w+, which also needs"):
        read_canonical_file(odd)


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("a.zip", b"PK\x03\x04rest", UnsupportedFormat, "is a zip archive; without --iso, ingest reads"),
        ("a.csv", b"PK\x03\x04rest", UnsupportedFormat, "is a zip archive"),
        ("a.xml", b'<?xml version="1.0"?>', UnsupportedFormat, "is an XML/HTML document"),
        ("a.json", b'  [{"a": 1}]', UnsupportedFormat, "is a JSON document"),
        ("a.xls", b"\xd0\xcf\x11\xe0rest", UnsupportedFormat, "Excel"),
        ("a.txt", b"iso,market\n", UnsupportedFormat, "unsupported name or format (.txt)"),
        ("a.gz", b"\x1f\x8brest", UnsupportedFormat, "gzip-compressed but not named .csv.gz"),
        ("a.parquet", b"not parquet", UnreadableFile, "no PAR1 header"),
        ("a.csv", b"", UnreadableFile, "cannot read it as CSV: Empty CSV file"),
        ("b.parquet", b"PAR1 truncated", UnreadableFile, "cannot read it as Parquet"),
        ("c.csv", b"iso,lmp\nPJM,1\nPJM,1,2\n", UnreadableFile, "Expected 2 columns, got 3"),
        ("d.csv", b"iso,lmp,lmp\nPJM,1,2\n", FileError, "named more than once: lmp"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, error: type[Exception], message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_canonical_file(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        detect_format(tmp_path / "absent.csv")
    with pytest.raises(UnreadableFile, match="is a directory"):
        detect_format(tmp_path)
