"""One native payload into the store: written, unchanged, revised, duplicates refused, quarantined."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest
from ingest_feed import PRICES, day_csv

from carbon254.ingest.ledger import IngestLedger, PayloadStatus
from carbon254.ingest.native import NativeIngest
from carbon254.ingest.quarantine import Quarantine
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore

DAY = date(2024, 11, 3)
START, END = datetime(2024, 11, 3, tzinfo=UTC), datetime(2024, 11, 4, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> ParquetStore:
    s = open_store(tmp_path)
    yield s
    s.close()


def engine(store: ParquetStore) -> NativeIngest:
    return NativeIngest(store, IngestLedger(store.root), Quarantine(store.root))


def test_a_payload_is_written_once_and_then_unchanged(store: ParquetStore) -> None:
    ingest = engine(store)
    data = day_csv(DAY, {"HB_NORTH": 30.0, "HB_WEST": 25.0})
    published = datetime(2024, 11, 2, 18, tzinfo=UTC)
    first = ingest.ingest(PRICES, "prices_20241103.csv", data, published_at=published)
    again = ingest.ingest(PRICES, "prices_20241103.csv", data, published_at=published)
    assert first.ok and first.entry.rows == 48 and first.entry.rows_written == 48
    assert again.entry.rows_written == 0 and again.entry.revisions == 0
    rows = store.read("lmp", "ERCOT", "DAM", ["HB_NORTH"], START, END)
    assert rows.num_rows == 24
    assert rows.column("lmp")[5].as_py() == 35.0
    assert set(rows.column("published_at").to_pylist()) == {published}
    entries = list(IngestLedger(store.root).entries())
    assert [e.status for e in entries] == [PayloadStatus.WRITTEN] * 2
    assert entries[0].market == "DAM" and entries[0].first_interval == START
    assert entries[0].last_interval == datetime(2024, 11, 3, 23, tzinfo=UTC)


def test_a_correction_is_a_revision_and_the_original_stays_readable_as_of(store: ParquetStore) -> None:
    ingest = engine(store)
    ingest.ingest(
        PRICES, "p.csv", day_csv(DAY, {"HB_NORTH": 30.0}), published_at=datetime(2024, 11, 2, tzinfo=UTC)
    )
    fixed = ingest.ingest(
        PRICES, "p.csv", day_csv(DAY, {"HB_NORTH": 31.0}), published_at=datetime(2024, 11, 5, tzinfo=UTC)
    )
    assert fixed.entry.revisions == 24
    latest = store.read("lmp", "ERCOT", "DAM", ["HB_NORTH"], START, END)
    before = store.read(
        "lmp", "ERCOT", "DAM", ["HB_NORTH"], START, END, as_of=datetime(2024, 11, 3, tzinfo=UTC)
    )
    assert latest.column("lmp")[0].as_py() == 31.0 and before.column("lmp")[0].as_py() == 30.0


def test_exact_repeats_in_a_payload_are_refused_and_counted(store: ParquetStore) -> None:
    data = day_csv(DAY, {"HB_NORTH": 30.0})
    repeated = data + b"\n".join(data.splitlines()[1:4]) + b"\n"
    outcome = engine(store).ingest(PRICES, "p.csv", repeated)
    assert outcome.ok and outcome.entry.duplicates == 3 and outcome.entry.rows_written == 24


def test_a_contradiction_within_a_payload_quarantines_it_whole(store: ParquetStore) -> None:
    data = day_csv(DAY, {"HB_NORTH": 30.0}) + f"{DAY},HB_NORTH,0,99.0\n".encode()
    outcome = engine(store).ingest(PRICES, "p.csv", data, url="http://iso/p.csv")
    assert not outcome.ok and "duplicate_key" in (outcome.error or "")
    assert store.read("lmp", "ERCOT", "DAM", None, START, END).num_rows == 0
    kept = Quarantine(store.root).list("ERCOT")
    assert len(kept) == 1 and kept[0].path.read_bytes() == data and kept[0].url == "http://iso/p.csv"


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"day,location,hour,lmp\n2024-11-03,HB_NORTH,0,abc\n", "bad price CSV"),
        (b"", "bad price CSV"),
        (b"day,location,hour,lmp\n2024-11-03,HB_NORTH,0,90000\n", "bound"),
    ],
)
def test_unparseable_or_invalid_payloads_are_quarantined_byte_for_byte(
    store: ParquetStore, payload: bytes, why: str
) -> None:
    outcome = engine(store).ingest(PRICES, "bad.csv", payload)
    assert not outcome.ok and why in (outcome.error or "")
    assert outcome.quarantined is not None and outcome.quarantined.path.read_bytes() == payload
    assert store.markets("lmp", "ERCOT") == []
    entry = list(IngestLedger(store.root).entries())[-1]
    assert entry.status is PayloadStatus.QUARANTINED and entry.error == outcome.error


def test_the_location_catalog_is_filled_from_the_data(store: ParquetStore) -> None:
    engine(store).ingest(PRICES, "p.csv", day_csv(DAY, {"HB_NORTH": 30.0, "HB_WEST": 20.0}))
    catalog = store.locations("ERCOT")
    assert catalog.column("location").to_pylist() == ["HB_NORTH", "HB_WEST"]
    assert set(catalog.column("location_type").to_pylist()) == {"hub"}
    assert pc.all(pc.equal(catalog.column("source"), "ingested")).as_py()


def test_a_header_only_iso_file_is_quarantined_not_a_crash(store: ParquetStore) -> None:
    from carbon254.isos import Iso
    from carbon254.markets.registry import detect_report

    name = "cdr.00012300.0000000000000000.20241103.013520.LMPSROSNODENP6788_20241103_013012.csv"
    data = b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\n"
    outcome = engine(store).ingest(detect_report(Iso.ERCOT, name, data), name, data)
    assert not outcome.ok and outcome.quarantined is not None
