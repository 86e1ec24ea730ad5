"""Joining Parquet parts by copying their row groups gives the file pyarrow would have written whole."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carbon254.exports.parquet_join import PartsDiffer, join_parquet
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore

START = datetime(2024, 3, 10, 5, tzinfo=UTC)


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return open_object_store("file://objects", data_dir=tmp_path, s3_endpoint=None)


def _part(first: int, rows: int, location: str) -> pa.Table:
    starts = [START + timedelta(hours=first + i) for i in range(rows)]
    return pa.table(
        {
            "interval_start": pa.array(starts, pa.timestamp("us", tz="America/New_York")),
            "location": pa.array([location] * rows, pa.string()).dictionary_encode(),
            "lmp": pa.array([round(20.0 + (first + i) * 0.37, 2) for i in range(rows)], pa.float64()),
            "energy": pa.array([None if i % 7 == 0 else 1.5 * i for i in range(rows)], pa.float64()),
        },
        metadata={"carbon254": '{"unit":"$/MWh"}'},
    )


def _put(
    objects: ObjectStore,
    key: str,
    table: pa.Table,
    row_group_size: int | None = None,
    page_index: bool = False,
) -> None:
    with objects.writer(key) as sink:
        pq.write_table(
            table, sink, compression="zstd", row_group_size=row_group_size, write_page_index=page_index
        )


def _join(objects: ObjectStore, keys: list[str]) -> tuple[int, bytes]:
    sink = io.BytesIO()
    rows = join_parquet(objects, keys, sink)
    return rows, sink.getvalue()


def test_parts_join_to_the_concatenated_rows_with_their_metadata(objects: ObjectStore) -> None:
    tables = [_part(0, 1_000, "A"), _part(1_000, 0, "A"), _part(1_000, 2_500, "B"), _part(3_500, 7, "C")]
    for n, table in enumerate(tables):
        # Several row groups in one part, and an empty part, both survive the join.
        _put(objects, f"parts/{n}.parquet", table, row_group_size=600)
    rows, data = _join(objects, [f"parts/{n}.parquet" for n in range(len(tables))])

    joined = pq.ParquetFile(io.BytesIO(data))
    assert rows == joined.metadata.num_rows == 3_507
    assert joined.metadata.num_row_groups == 2 + 5 + 1
    expected = pa.concat_tables(tables)
    table = joined.read()
    assert table.equals(expected.cast(table.schema))
    assert table.schema.metadata[b"carbon254"] == b'{"unit":"$/MWh"}'
    assert table.schema.field("interval_start").type == pa.timestamp("us", tz="America/New_York")
    # Row group statistics still describe their own rows: a filter on them finds exactly the rows.
    hours = pq.read_table(io.BytesIO(data), filters=[("lmp", ">=", 20.0 + 3_500 * 0.37 - 1e-9)])
    assert hours.column("location").to_pylist() == ["C"] * 7


def test_parts_with_page_indexes_join_without_them(objects: ObjectStore) -> None:
    tables = [_part(0, 300, "A"), _part(300, 500, "B")]
    for n, table in enumerate(tables):
        _put(objects, f"p{n}.parquet", table, row_group_size=200, page_index=True)
    rows, data = _join(objects, ["p0.parquet", "p1.parquet"])
    joined = pq.ParquetFile(io.BytesIO(data))
    assert rows == 800
    assert joined.read().equals(pa.concat_tables(tables).cast(joined.schema_arrow))
    # The index's page locations point into the parts as they were; the joined file has none.
    assert not any(
        joined.metadata.row_group(g).column(c).has_offset_index
        for g in range(joined.metadata.num_row_groups)
        for c in range(joined.metadata.num_columns)
    )


def test_a_single_part_is_copied_unchanged_in_content(objects: ObjectStore) -> None:
    _put(objects, "only.parquet", _part(0, 10, "A"))
    rows, data = _join(objects, ["only.parquet"])
    assert rows == 10
    assert pq.read_table(io.BytesIO(data)).equals(pq.read_table(io.BytesIO(objects.get("only.parquet"))))


def test_only_empty_parts_join_to_an_empty_file_with_the_schema(objects: ObjectStore) -> None:
    _put(objects, "a.parquet", _part(0, 0, "A"))
    _put(objects, "b.parquet", _part(0, 0, "A"))
    rows, data = _join(objects, ["a.parquet", "b.parquet"])
    table = pq.read_table(io.BytesIO(data))
    assert rows == table.num_rows == 0
    assert table.schema.names == ["interval_start", "location", "lmp", "energy"]


def test_parts_of_different_schemas_are_refused(objects: ObjectStore) -> None:
    _put(objects, "a.parquet", _part(0, 5, "A"))
    _put(objects, "b.parquet", _part(5, 5, "B").drop_columns(["energy"]))
    with pytest.raises(PartsDiffer, match=r"b\.parquet has another schema"):
        _join(objects, ["a.parquet", "b.parquet"])


def test_a_part_that_is_not_parquet_is_refused(objects: ObjectStore) -> None:
    objects.put("a.parquet", b"interval_start,lmp\n")
    with pytest.raises(ValueError, match="not a Parquet file"):
        _join(objects, ["a.parquet"])
