"""The store's change feed (`changes_since`) and data versions (`data_version`)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from store_tables import lmp_table, utc

import carbon254.store.parquet as parquet_module
from carbon254.store import Changes, ParquetStore
from carbon254.store.manifest import MANIFEST_NAME, ManifestFile

DAY = utc(2025, 3, 1)
MONTH = (utc(2025, 3, 1), utc(2025, 4, 1))


def _keys(changes: Changes) -> list[tuple[str, str, str, str, object]]:
    """(iso, market, location, interval_start, lmp) of every row of a page, in page order."""
    out: list[tuple[str, str, str, str, object]] = []
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


def _drain(store: ParquetStore, cursor: str, max_rows: int = 100_000) -> tuple[list[Changes], str]:
    """Every page after `cursor`, following `more`; the pages and the final cursor."""
    pages = []
    while True:
        page = store.changes_since(cursor, max_rows=max_rows)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            return pages, cursor


def test_head_of_an_empty_store_has_no_changes(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    head = store.change_cursor()
    page = store.changes_since(head)
    assert (page.cursor, page.batches, page.more) == (head, (), False)


def test_each_commit_is_returned_once_however_many_land_between_polls(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
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

    again = store.changes_since(page.cursor)
    assert (again.batches, again.cursor) == ((), page.cursor)


def test_rows_already_stored_are_not_a_change_but_a_revision_is(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))
    cursor = store.change_cursor()

    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))  # identical: nothing committed
    assert store.change_cursor() == cursor
    assert store.changes_since(cursor).batches == ()

    revised = lmp_table(["HB_NORTH"], DAY, 24, base=50.0).slice(5, 1)
    store.write("lmp", revised)
    page = store.changes_since(cursor)
    assert _keys(page) == [
        ("ERCOT", "DAM", "HB_NORTH", "2025-03-01T05:00:00+00:00", revised["lmp"][0].as_py())
    ]


def test_compaction_never_reemits_rows_and_never_loses_unseen_ones(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, compact_after=3)
    cursor = store.change_cursor()
    seen: list[tuple[str, str, str, str, object]] = []
    # Poll after some commits and not after others, so compaction merges both
    # rows already returned and rows not returned yet.
    for hour in range(12):
        store.write("lmp", lmp_table(["HB_NORTH", "HB_WEST"], utc(2025, 3, 1, hour), 1))
        if hour % 5 == 4:
            page = store.changes_since(cursor)
            seen += _keys(page)
            cursor = page.cursor
    page = store.changes_since(cursor)
    seen += _keys(page)

    manifest = ManifestFile(tmp_path / "store").current()
    assert any(f.compacted for f in manifest.files), "the test must exercise compaction"
    assert len(manifest.files) < 12
    assert len(seen) == 24
    assert len(set(seen)) == 24  # nothing twice
    stored = store.read("lmp", "ERCOT", "DAM", None, *MONTH)
    assert sorted(seen) == sorted(
        ("ERCOT", "DAM", loc, start.isoformat(), lmp)
        for loc, start, lmp in zip(
            stored.column("location").to_pylist(),
            stored.column("interval_start").to_pylist(),
            stored.column("lmp").to_pylist(),
            strict=True,
        )
    )
    assert store.changes_since(page.cursor).batches == ()


def test_pages_end_on_commit_boundaries_and_cover_everything(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, compact_after=100)
    cursor = store.change_cursor()
    for hour in range(5):
        store.write("lmp", lmp_table([f"N{i}" for i in range(10)], utc(2025, 3, 1, hour), 1))

    pages, end = _drain(store, cursor, max_rows=15)
    # 10 rows per commit: each page closes on the commit that reaches 15 rows.
    assert [p.rows for p in pages] == [20, 20, 10]
    assert [p.more for p in pages] == [True, True, False]
    rows = [k for p in pages for k in _keys(p)]
    assert len(rows) == len(set(rows)) == 50
    assert end == store.change_cursor()


def test_a_commit_is_stamped_after_the_previous_one_even_if_the_clock_stalls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ParquetStore(tmp_path)
    monkeypatch.setattr(parquet_module, "_now_us", lambda: 1_700_000_000_000_000)
    cursor = store.change_cursor()
    store.write("lmp", lmp_table(["A"], DAY, 1))
    middle = store.change_cursor()
    store.write("lmp", lmp_table(["B"], DAY, 1))
    assert int(store.change_cursor()) == int(middle) + 1
    first = store.changes_since(cursor, max_rows=1)
    assert ([k[2] for k in _keys(first)], first.more) == (["A"], True)
    second = store.changes_since(first.cursor, max_rows=1)
    assert ([k[2] for k in _keys(second)], second.more) == (["B"], False)


def test_a_commit_by_another_process_is_seen(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    cursor = store.change_cursor()
    version = store.data_version("lmp", "ERCOT", "RT5", *MONTH)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from store_tables import lmp_table, utc
        from carbon254.store import open_store
        s = open_store("duckdb://", {str(tmp_path)!r})
        s.write("lmp", lmp_table(["HB_HOUSTON"], utc(2025, 3, 1, 7), 3, market="RT5"))
        s.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)

    page = store.changes_since(cursor)
    assert [(k[1], k[2], k[3]) for k in _keys(page)] == [
        ("RT5", "HB_HOUSTON", "2025-03-01T07:00:00+00:00"),
        ("RT5", "HB_HOUSTON", "2025-03-01T08:00:00+00:00"),
        ("RT5", "HB_HOUSTON", "2025-03-01T09:00:00+00:00"),
    ]
    assert store.data_version("lmp", "ERCOT", "RT5", *MONTH) != version


def test_malformed_cursor_is_a_value_error(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    for bad in ("", "abc", "-5", "1.5"):
        with pytest.raises(ValueError, match="malformed change cursor"):
            store.changes_since(bad)


def test_manifest_from_before_the_change_feed_still_loads(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 4))
    path = tmp_path / "store" / MANIFEST_NAME
    doc = json.loads(path.read_text())
    del doc["last_commit"]
    for f in doc["files"]:
        del f["compacted"], f["ingested_until"]
    path.write_text(json.dumps(doc))

    reopened = ParquetStore(tmp_path)
    created = doc["files"][0]["created"]
    assert reopened.change_cursor() == str(created)
    assert reopened.read("lmp", "ERCOT", "DAM", None, *MONTH).num_rows == 4
    reopened.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 3, 2), 1))
    assert [k[3] for k in _keys(reopened.changes_since(str(created)))] == ["2025-03-02T00:00:00+00:00"]


def test_data_version_changes_only_for_overlapping_commits(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, compact_after=3)
    march = store.data_version("lmp", "ERCOT", "DAM", *MONTH)
    any_market = store.data_version("lmp", "ERCOT", None, *MONTH)
    assert march == store.data_version("lmp", "ERCOT", "DAM", *MONTH)

    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))
    after_write = store.data_version("lmp", "ERCOT", "DAM", *MONTH)
    assert after_write != march
    assert store.data_version("lmp", "ERCOT", None, *MONTH) != any_market

    # Other ISO, other market, other month, other dataset's partition: unchanged.
    store.write("lmp", lmp_table(["WESTERN HUB"], DAY, 24, iso="PJM"))
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24, market="RT5"))
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 5, 1), 24))
    assert store.data_version("lmp", "ERCOT", "DAM", *MONTH) == after_write
    assert store.data_version("lmp", "ERCOT", None, *MONTH) != any_market

    # The iso is case-insensitive, like every other store call.
    assert store.data_version("lmp", "ercot", "DAM", *MONTH) == after_write

    # Compaction replacing the month's file changes the token, though no row changed.
    for hour in range(3):
        store.write("lmp", lmp_table(["HB_SOUTH"], utc(2025, 6, 1, hour), 1))
    manifest = ManifestFile(tmp_path / "store").current()
    assert any(f.compacted for f in manifest.files)
    compacted = store.data_version("lmp", "ERCOT", "DAM", *MONTH)
    assert compacted != after_write
    assert store.read("lmp", "ERCOT", "DAM", None, *MONTH).num_rows == 24  # the same rows, in a new file

    # Nothing changed since: the same token again (memoized per manifest version).
    assert store.data_version("lmp", "ERCOT", "DAM", *MONTH) == compacted
