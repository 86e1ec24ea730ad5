"""A canonical file breaking several rules is refused with every rule and its rows named, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.ingest import read_canonical_file
from carbon254.schema import ValidationError
from carbon254.store import open_store

HEADER = "iso,market,location,interval_start,interval_end,lmp"
ROWS = [
    "PJM,DAM,WESTERN HUB,2025-01-06T00:00:00Z,2025-01-06T01:00:00Z,31.5",  # 0 good
    "PJM,DAM,WESTERN HUB,2025-01-06T01:00:00Z,2025-01-06T02:00:00Z,n/a",  # 1 not a number
    "PJM,DAM,WESTERN HUB,2025-01-06T02:00:00Z,2025-01-06T02:00:00Z,30.0",  # 2 ends as it starts
    "PJM,DAM,WESTERN HUB,2025-01-06T03:00:00Z,2025-01-06T04:00:00Z,99999",  # 3 outside PJM's bounds
    "PJM,DAM,WESTERN HUB,2025-01-06T04:00:00Z,2025-01-06T05:00:00Z,28.0",  # 4 and 5: one key, two values
    "PJM,DAM,WESTERN HUB,2025-01-06T04:00:00Z,2025-01-06T05:00:00Z,29.0",
    "XISO,DAM,WESTERN HUB,2025-01-06T06:00:00Z,2025-01-06T07:00:00Z,27.0",  # 6 no such ISO
]
EXPECTED = {
    "type": (1,),
    "interval_order": (2,),
    "bounds": (3,),
    "duplicate_key": (4, 5),
    "unknown_iso": (6,),
}


@pytest.fixture
def broken_csv(tmp_path: Path) -> Path:
    path = tmp_path / "broken.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    return path


def test_every_broken_rule_and_its_rows_are_named(broken_csv: Path, tmp_path: Path) -> None:
    read = read_canonical_file(broken_csv)
    store = open_store(tmp_path / "data")
    try:
        with pytest.raises(ValidationError) as caught:
            store.write(read.dataset, read.table)
        assert store.markets("lmp", "PJM") == []
    finally:
        store.close()
    named = {v.rule: v.rows for v in caught.value.violations}
    assert named == EXPECTED, str(caught.value)
    assert "'n/a'" in str(caught.value)  # the unreadable value is quoted


def test_a_parquet_file_gets_the_same_report(broken_csv: Path, tmp_path: Path) -> None:
    text = pacsv.read_csv(broken_csv, convert_options=pacsv.ConvertOptions(column_types={"lmp": pa.string()}))
    starts = text.column("interval_start").cast(pa.timestamp("us", tz="UTC"))
    ends = text.column("interval_end").cast(pa.timestamp("us", tz="UTC"))
    table = text.set_column(3, "interval_start", starts).set_column(4, "interval_end", ends)
    path = tmp_path / "broken.parquet"
    pq.write_table(table, path)
    read = read_canonical_file(path)
    store = open_store(tmp_path / "data")
    try:
        with pytest.raises(ValidationError) as caught:
            store.write(read.dataset, read.table)
    finally:
        store.close()
    assert {v.rule: v.rows for v in caught.value.violations} == EXPECTED


def test_the_cli_names_every_rule_with_file_lines(broken_csv: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(app, ["ingest", str(broken_csv), "--data-dir", str(data)])
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    for rule in EXPECTED:
        assert f"[{rule}]" in out, out
    assert "(4, 5)" in out and "row N is line N+2" in out
    store = open_store(data)
    try:
        start, end = datetime(2025, 1, 6, tzinfo=UTC), datetime(2025, 1, 7, tzinfo=UTC)
        assert store.read("lmp", "PJM", "DAM", None, start, end).num_rows == 0
    finally:
        store.close()
