"""The embedded store's files: an unchanged batch touches none, compaction keeps every version.

What any backend guarantees about versions is in `contract/`; these pin down
how the Parquet files and the manifest carry it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from store_tables import lmp_table, utc

from carbon254.store import ParquetStore
from carbon254.store.manifest import ManifestFile

YEAR = (utc(2025, 1, 1), utc(2026, 1, 1))


def _read(store: ParquetStore, locations: list[str] | None = None, **kw: object) -> pa.Table:
    return store.read("lmp", "ERCOT", "DAM", locations, *YEAR, **kw)  # type: ignore[arg-type]


def _files(root: Path) -> set[Path]:
    return set((root / "store").rglob("*.parquet"))


def test_same_rows_twice_touch_no_file_and_not_the_manifest(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    t = lmp_table(["HB_NORTH", "HB_WEST"], utc(2025, 1, 1), 48)
    assert store.write("lmp", t).rows_written == 96
    files, manifest = _files(tmp_path), ManifestFile(tmp_path / "store").current()

    assert store.write("lmp", t).rows_written == 0
    assert _files(tmp_path) == files
    assert ManifestFile(tmp_path / "store").current() == manifest


def test_compaction_keeps_every_version(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path, compact_after=3)
    for day in range(6):
        start = utc(2025, 2, 1) + timedelta(days=day)
        store.write("lmp", lmp_table(["A", "B"], start, 24, published_at=start - timedelta(hours=12)))
    store.write("lmp", lmp_table(["A"], utc(2025, 2, 1), 24, base=50.0, published_at=utc(2025, 3, 1)))
    manifest = ManifestFile(tmp_path / "store").current()
    assert len(manifest.files) <= 3
    assert manifest.retired  # replaced files wait out the grace period before deletion
    table = _read(store)
    assert table.num_rows == 6 * 48
    assert table.column("lmp")[0].as_py() == pytest.approx(50.0 - 2.0 + 0.25)
    assert _read(store, ["A"], as_of=utc(2025, 2, 28)).column("lmp")[0].as_py() == pytest.approx(28.25)

    # Once past the grace period, vacuum deletes the replaced files, and reads are unchanged.
    assert store.vacuum(grace_s=0) == len(manifest.retired)
    manifest = ManifestFile(tmp_path / "store").current()
    assert not manifest.retired
    assert {p.relative_to(tmp_path / "store").as_posix() for p in _files(tmp_path)} == {
        f.path for f in manifest.files
    } | {manifest.catalog}
    assert _read(store).equals(table)
