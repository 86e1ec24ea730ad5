"""The embedded store's change feed and data versions across compaction, clock stalls and old manifests.

The feed's and the versions' guarantees for any backend are in `contract/`.
"""

from __future__ import annotations

import json
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


def test_compaction_changes_the_data_version_though_no_row_changed(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, compact_after=3)
    store.write("lmp", lmp_table(["HB_NORTH"], DAY, 24))
    before = store.data_version("lmp", "ERCOT", "DAM", *MONTH)
    # Files of later months join the year's partition until compaction merges March's file away.
    for hour in range(3):
        store.write("lmp", lmp_table(["HB_SOUTH"], utc(2025, 6, 1, hour), 1))
    manifest = ManifestFile(tmp_path / "store").current()
    assert any(f.compacted for f in manifest.files)
    compacted = store.data_version("lmp", "ERCOT", "DAM", *MONTH)
    assert compacted != before
    assert store.read("lmp", "ERCOT", "DAM", None, *MONTH).num_rows == 24  # the same rows, in a new file

    # Nothing changed since: the same token again (memoized per manifest version).
    assert store.data_version("lmp", "ERCOT", "DAM", *MONTH) == compacted
