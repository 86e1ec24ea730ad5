"""Idempotent writes, revisions, point-in-time reads, compaction and the catalog."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from store_tables import lmp_table, utc

from carbon254.store import ParquetStore, Source
from carbon254.store.manifest import ManifestFile

YEAR = (utc(2025, 1, 1), utc(2026, 1, 1))


def _read(store: ParquetStore, locations: list[str] | None = None, **kw: object) -> pa.Table:
    return store.read("lmp", "ERCOT", "DAM", locations, *YEAR, **kw)  # type: ignore[arg-type]


def _files(root: Path) -> set[Path]:
    return set((root / "store").rglob("*.parquet"))


def test_same_rows_twice_leave_store_unchanged(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    t = lmp_table(["HB_NORTH", "HB_WEST"], utc(2025, 1, 1), 48)
    first = store.write("lmp", t)
    assert (first.rows_written, first.revisions) == (96, 0)
    files, manifest = _files(tmp_path), ManifestFile(tmp_path / "store").current()

    again = store.write("lmp", t)
    assert (again.rows_received, again.rows_written, again.rows_unchanged) == (96, 0, 96)
    assert _files(tmp_path) == files
    assert ManifestFile(tmp_path / "store").current() == manifest

    # Overlapping batch: only the new hours are stored.
    more = store.write("lmp", lmp_table(["HB_NORTH", "HB_WEST"], utc(2025, 1, 1), 72))
    assert more.rows_written == 48
    assert _read(store).num_rows == 144


def test_changed_value_is_a_new_version_and_as_of_sees_the_old(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    p1, p2 = utc(2025, 1, 2, 12), utc(2025, 1, 3, 9)
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 3), 24, published_at=p1))
    corrected = lmp_table(["HB_NORTH"], utc(2025, 1, 3), 24, published_at=p2, base=40.0)
    result = store.write("lmp", corrected.slice(10, 3))
    assert (result.rows_written, result.revisions) == (3, 3)

    latest = _read(store, ["HB_NORTH"])
    assert latest.num_rows == 24  # one row per interval, not per version
    lmp = latest.column("lmp").to_pylist()
    assert lmp[10:13] == corrected.column("lmp").to_pylist()[10:13]
    assert lmp[9] != corrected.column("lmp")[9].as_py()
    assert latest.column("published_at")[10].as_py() == p2
    assert latest.column("ingested_at")[10].as_py() > latest.column("ingested_at")[9].as_py()

    before_fix = _read(store, ["HB_NORTH"], as_of=p1 + timedelta(hours=1))
    assert before_fix.column("lmp")[10].as_py() == pytest.approx(30.0 + 10 + 0.25 - 2.0)
    assert _read(store, ["HB_NORTH"], as_of=p1 - timedelta(seconds=1)).num_rows == 0

    # Re-sending the correction is a no-op; going back to the old value is a third version.
    assert store.write("lmp", corrected.slice(10, 3)).rows_written == 0
    back = lmp_table(["HB_NORTH"], utc(2025, 1, 3), 24, published_at=utc(2025, 1, 4)).slice(10, 1)
    assert store.write("lmp", back).revisions == 1
    assert _read(store, ["HB_NORTH"]).column("lmp")[10].as_py() == back.column("lmp")[0].as_py()


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


def test_read_is_sorted_and_filters_locations_and_time(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write("lmp", lmp_table(["Z", "A", "M"], utc(2025, 6, 1), 48))
    t = store.read("lmp", "ERCOT", "DAM", ["M", "Z"], utc(2025, 6, 1, 6), utc(2025, 6, 2))
    assert t.num_rows == 2 * 18
    assert t.column("location").to_pylist() == ["M"] * 18 + ["Z"] * 18
    starts = t.column("interval_start").to_pylist()[:18]
    assert starts == sorted(starts) and starts[0] == utc(2025, 6, 1, 6)
    assert store.read("lmp", "ERCOT", "RT5", None, *YEAR).num_rows == 0
    with pytest.raises(ValueError, match="after start"):
        store.read("lmp", "ERCOT", "DAM", None, utc(2025, 2, 1), utc(2025, 1, 1))


@pytest.mark.parametrize(
    "name",
    [
        "x'; DROP TABLE lmp; --",
        "' OR '1'='1",
        'N"ODE); SELECT 1; --',
        "read_parquet('/etc/passwd')",
        "%",
    ],
)
def test_hostile_location_names_are_data_not_sql(tmp_path: Path, name: str) -> None:
    store = ParquetStore(tmp_path)
    store.write("lmp", lmp_table(["SAFE", name], utc(2025, 1, 1), 2))
    assert _read(store, [name]).column("location").to_pylist() == [name, name]
    assert _read(store, ["' OR 1=1 --"]).num_rows == 0
    assert store.locations("ERCOT", search=name).column("location").to_pylist() == [name]
    assert store.locations("ERCOT", search="'").num_rows == ("'" in name)


def test_catalog_lists_types_and_source(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 2, location_type="hub"))
    store.write(
        "lmp", lmp_table(["LZ_WEST"], utc(2025, 1, 1), 2, location_type="zone"), source=Source.SIMULATED
    )
    store.write("lmp", lmp_table(["N.Y.C."], utc(2025, 1, 1), 2, iso="NYISO", location_type="zone"))
    cat = store.locations("ERCOT")
    assert cat.column("location").to_pylist() == ["HB_NORTH", "LZ_WEST"]
    assert cat.column("source").to_pylist() == ["ingested", "simulated"]
    assert store.locations("ERCOT", location_type="zone").column("location").to_pylist() == ["LZ_WEST"]
    assert store.locations(search="y.c").column("iso").to_pylist() == ["NYISO"]
    assert store.markets("lmp", "ERCOT") == ["DAM"]


def test_readers_never_see_a_partial_batch(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    reader = ParquetStore(tmp_path)  # as a service process would hold its own store
    locations = [f"N{i:03d}" for i in range(50)]
    seen: list[int] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            seen.append(_read(reader).num_rows)

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        for day in range(8):
            store.write("lmp", lmp_table(locations, utc(2025, 4, 1) + timedelta(days=day), 24))
    finally:
        stop.set()
        thread.join()
    batch = len(locations) * 24
    assert seen and all(n % batch == 0 for n in seen)
    assert _read(reader).num_rows == 8 * batch
    assert pc.min(_read(reader).column("lmp")).as_py() > 0
