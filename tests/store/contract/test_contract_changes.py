"""The change feed (`change_cursor`, `changes_since`) and data versions (`data_version`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest
from contract_backends import Backend
from store_tables import lmp_table, utc

from carbon254.schema import TIMESTAMP, Dataset
from carbon254.store import Changes, Store

DAY = utc(2025, 3, 1)
MONTH = (utc(2025, 3, 1), utc(2025, 4, 1))

Key = tuple[str, str, str, str, object]


def keys(changes: Changes) -> list[Key]:
    """(iso, market, location, interval_start, lmp) of every row of a page, in page order."""
    out: list[Key] = []
    for batch in changes.batches:
        t = batch.table
        for loc, start, lmp in zip(
            t.column("location").to_pylist(),
            t.column("interval_start").to_pylist(),
            t.column("lmp").to_pylist(),
            strict=True,
        ):
            out.append((batch.iso, batch.market or "", loc, start.isoformat(), lmp))
    return out


def drain(store: Store, cursor: str, max_rows: int = 100_000) -> tuple[list[Changes], str]:
    """Every page after `cursor`, following `more`; the pages and the final cursor."""
    pages = []
    while True:
        page = store.changes_since(cursor, max_rows=max_rows)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            return pages, cursor


def test_head_of_an_empty_store_has_no_changes(store: Store) -> None:
    head = store.change_cursor()
    page = store.changes_since(head)
    assert (page.cursor, page.batches, page.more, page.rows) == (head, (), False, 0)


def test_each_commit_is_returned_once_however_many_land_between_polls(store: Store) -> None:
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))  # before the feed starts: never returned
    cursor = store.change_cursor()

    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 3, 2), 2))
    store.write("lmp", lmp_table(["HB_WEST"], DAY, 3, market="RT5"))
    store.write("lmp", lmp_table(["WESTERN HUB"], DAY, 1, iso="PJM"))
    page = store.changes_since(cursor)
    assert not page.more
    assert [(b.dataset.value, b.iso, b.market, b.table.num_rows) for b in page.batches] == [
        ("lmp", "ERCOT", "DAM", 2),
        ("lmp", "ERCOT", "RT5", 3),
        ("lmp", "PJM", "DAM", 1),
    ]
    assert page.rows == 6
    # Rows carry the whole canonical schema, as committed.
    assert page.batches[0].table.schema.names[:4] == ["iso", "market", "location", "location_type"]
    assert page.batches[0].table.column("interval_start").to_pylist() == [utc(2025, 3, 2), utc(2025, 3, 2, 1)]
    assert page.cursor == store.change_cursor()

    again = store.changes_since(page.cursor)
    assert (again.batches, again.cursor) == ((), page.cursor)


def test_datasets_without_a_market_come_with_market_none(store: Store) -> None:
    cursor = store.change_cursor()
    store.write(
        "ordc_adder",
        pa.table(
            {
                "iso": ["ERCOT"],
                "interval_start": pa.array([DAY], TIMESTAMP),
                "interval_end": pa.array([utc(2025, 3, 1, 0, 5)], TIMESTAMP),
                "rt_reserve_adder": [1.0],
                "rt_reliability_deployment_adder": [0.0],
            }
        ),
    )
    (batch,) = store.changes_since(cursor).batches
    assert (batch.dataset, batch.iso, batch.market, batch.table.num_rows) == (
        Dataset.ORDC_ADDER,
        "ERCOT",
        None,
        1,
    )


def test_rows_already_stored_are_not_a_change_but_a_revision_is(store: Store) -> None:
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))
    cursor = store.change_cursor()

    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))  # identical: nothing committed
    assert store.change_cursor() == cursor
    assert store.changes_since(cursor).batches == ()

    revised = lmp_table(["HB_NORTH"], DAY, 24, base=50.0).slice(5, 1)
    store.write("lmp", revised)
    assert keys(store.changes_since(cursor)) == [
        ("ERCOT", "DAM", "HB_NORTH", "2025-03-01T05:00:00+00:00", revised["lmp"][0].as_py())
    ]


def test_pages_end_on_commit_boundaries_and_cover_everything(store: Store) -> None:
    cursor = store.change_cursor()
    for hour in range(5):
        store.write("lmp", lmp_table([f"N{i}" for i in range(10)], utc(2025, 3, 1, hour), 1))

    pages, end = drain(store, cursor, max_rows=15)
    # 10 rows per commit: each page closes on the commit that reaches 15 rows.
    assert [p.rows for p in pages] == [20, 20, 10]
    assert [p.more for p in pages] == [True, True, False]
    rows = [k for p in pages for k in keys(p)]
    assert len(rows) == len(set(rows)) == 50
    assert end == store.change_cursor()

    # One commit larger than a page comes whole.
    cursor = store.change_cursor()
    store.write("lmp", lmp_table([f"N{i}" for i in range(10)], utc(2025, 3, 2), 3))
    page = store.changes_since(cursor, max_rows=1)
    assert (page.rows, page.more) == (30, False)


def test_a_commit_by_another_process_is_seen(backend: Backend, store: Store) -> None:
    cursor = store.change_cursor()
    version = store.data_version("lmp", "ERCOT", "RT5", *MONTH)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from store_tables import lmp_table, utc
        from carbon254.store import open_store
        s = open_store({backend.url!r}, {str(backend.directory)!r})
        s.write("lmp", lmp_table(["HB_HOUSTON"], utc(2025, 3, 1, 7), 3, market="RT5"))
        s.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)

    page = store.changes_since(cursor)
    assert [(k[1], k[2], k[3]) for k in keys(page)] == [
        ("RT5", "HB_HOUSTON", "2025-03-01T07:00:00+00:00"),
        ("RT5", "HB_HOUSTON", "2025-03-01T08:00:00+00:00"),
        ("RT5", "HB_HOUSTON", "2025-03-01T09:00:00+00:00"),
    ]
    assert store.data_version("lmp", "ERCOT", "RT5", *MONTH) != version
    assert store.read("lmp", "ERCOT", "RT5", None, *MONTH).num_rows == 3


def test_a_malformed_cursor_is_a_value_error(store: Store) -> None:
    for bad in ("", "abc", "-5", "1.5"):
        with pytest.raises(ValueError, match="malformed change cursor"):
            store.changes_since(bad)
    with pytest.raises(ValueError, match="max_rows"):
        store.changes_since(store.change_cursor(), max_rows=0)


def test_data_version_changes_only_for_overlapping_commits(store: Store) -> None:
    march = store.data_version("lmp", "ERCOT", "DAM", *MONTH)
    any_market = store.data_version("lmp", "ERCOT", None, *MONTH)
    assert march == store.data_version("lmp", "ERCOT", "DAM", *MONTH)

    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))
    after_write = store.data_version("lmp", "ERCOT", "DAM", *MONTH)
    assert after_write != march
    assert store.data_version("lmp", "ERCOT", None, *MONTH) != any_market

    # Other ISO, other market, other month: unchanged for ERCOT DAM in March.
    store.write("lmp", lmp_table(["WESTERN HUB"], DAY, 24, iso="PJM"))
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24, market="RT5"))
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 5, 1), 24))
    assert store.data_version("lmp", "ERCOT", "DAM", *MONTH) == after_write
    assert store.data_version("lmp", "ERCOT", None, *MONTH) != any_market

    # The iso is case-insensitive, like every other store call.
    assert store.data_version("lmp", "ercot", "DAM", *MONTH) == after_write

    # A revision inside the range is a change.
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 1, base=99.0))
    assert store.data_version("lmp", "ERCOT", "DAM", *MONTH) != after_write


def test_data_version_is_shared_by_every_store_object(backend: Backend, store: Store) -> None:
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))
    other = backend.open()
    try:
        assert other.data_version("lmp", "ERCOT", "DAM", *MONTH) == store.data_version(
            "lmp", "ERCOT", "DAM", *MONTH
        )
        assert other.change_cursor() == store.change_cursor()
    finally:
        other.close()
