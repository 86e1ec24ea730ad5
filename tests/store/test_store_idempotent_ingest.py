"""Re-ingesting what is stored changes nothing, whatever optional columns the file leaves out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from carbon254.ingest import read_canonical_file
from carbon254.schema import TIMESTAMP
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore

START = datetime(2025, 1, 6, tzinfo=UTC)
PUBLISHED = datetime(2025, 1, 5, 18, tzinfo=UTC)
END = START + timedelta(days=1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    s = open_store(tmp_path)
    yield s
    s.close()


def stored_rows() -> pa.Table:
    """Six hours at one hub, with location_type and published_at, as an ISO connector stores them."""
    starts = [START + timedelta(hours=h) for h in range(6)]
    energy = [30.0, 31.5, 0.1 + 0.2, 12345.678901234, -9876.125, 1e-7]
    return pa.table(
        {
            "iso": ["PJM"] * 6,
            "market": ["DAM"] * 6,
            "location": ["WESTERN HUB"] * 6,
            "location_type": ["hub"] * 6,
            "interval_start": pa.array(starts, TIMESTAMP),
            "interval_end": pa.array([s + timedelta(hours=1) for s in starts], TIMESTAMP),
            "lmp": [e + 1.25 for e in energy],
            "energy": energy,
            "congestion": [1.0] * 6,
            "loss": [0.25] * 6,
            "published_at": pa.array([PUBLISHED] * 6, TIMESTAMP),
        }
    )


def csv_without_optional_columns(path: Path, table: pa.Table) -> Path:
    """The table's values as a canonical CSV without location_type and published_at (floats as repr)."""
    lines = ["iso,market,location,interval_start,interval_end,lmp,energy,congestion,loss"]
    for r in table.to_pylist():
        values = [r["lmp"], r["energy"], r["congestion"], r["loss"]]
        times = [r["interval_start"].isoformat(), r["interval_end"].isoformat()]
        lines.append(",".join([r["iso"], r["market"], r["location"], *times, *map(repr, values)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_same_values_without_optional_columns_are_unchanged(store: ParquetStore, tmp_path: Path) -> None:
    first = store.write("lmp", stored_rows())
    assert first.rows_written == 6
    read = read_canonical_file(csv_without_optional_columns(tmp_path / "again.csv", stored_rows()))
    assert "location_type" not in read.table.column_names and "published_at" not in read.table.column_names

    again = store.write(read.dataset, read.table)

    assert (again.rows_written, again.revisions) == (0, 0)
    rows = store.read("lmp", "PJM", "DAM", ["WESTERN HUB"], START, END)
    assert rows.num_rows == 6
    assert set(rows.column("location_type").to_pylist()) == {"hub"}
    assert set(rows.column("published_at").to_pylist()) == {PUBLISHED}


def test_a_changed_value_is_a_revision_that_keeps_what_the_file_left_out(
    store: ParquetStore, tmp_path: Path
) -> None:
    store.write("lmp", stored_rows())
    changed = stored_rows().to_pylist()
    changed[2]["lmp"], changed[2]["energy"] = 50.0, 48.75
    path = csv_without_optional_columns(tmp_path / "fix.csv", pa.Table.from_pylist(changed))
    read = read_canonical_file(path)

    fixed = store.write(read.dataset, read.table)

    assert (fixed.rows_written, fixed.revisions) == (1, 1)
    rows = store.read("lmp", "PJM", "DAM", ["WESTERN HUB"], START, END)
    assert rows.column("lmp")[2].as_py() == 50.0
    assert rows.column("location_type")[2].as_py() == "hub"
    # The ISO did not say when it published the correction: the revision does not claim the old time.
    assert rows.column("published_at")[2].as_py() is None


def test_a_stated_null_is_a_change_unlike_a_column_left_out(store: ParquetStore) -> None:
    store.write("lmp", stored_rows())
    table = stored_rows()
    cleared = table.set_column(
        table.schema.get_field_index("location_type"), "location_type", pa.nulls(6, pa.string())
    )
    assert store.write("lmp", cleared).revisions == 6


def test_minus_zero_is_stored_as_zero(store: ParquetStore) -> None:
    table = stored_rows()
    congestion = table.schema.get_field_index("congestion")
    table = table.set_column(congestion, "congestion", pa.array([-0.0] * 6))
    table = table.set_column(table.schema.get_field_index("lmp"), "lmp", pc.add(table.column("energy"), 0.25))
    store.write("lmp", table)
    rows = store.read("lmp", "PJM", "DAM", None, START, END)
    values = rows.column("congestion").to_numpy()
    assert (values == 0.0).all() and not np.signbit(values).any()
    # Writing the same values with +0.0 is no revision.
    plus_zero = table.set_column(congestion, "congestion", pa.array([0.0] * 6))
    assert store.write("lmp", plus_zero).rows_written == 0
