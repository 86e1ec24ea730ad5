"""SCED runs end when the next run starts: within a payload, across payloads, in any order, point in time."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from sced_runs import (
    AFTER_GAP,
    NEXT,
    NOMINAL,
    REAL,
    REAL_RUN,
    RERUN,
    RUNS,
    Run,
    assert_tiled,
    ended,
    engine,
    intervals,
    needs_real,
    one_csv,
    sced,
)

from carbon254.ingest.ledger import IngestLedger
from carbon254.isos import Iso
from carbon254.isos.ercot.reports import SCED_LMP
from carbon254.markets.registry import detect_report
from carbon254.quality import assess
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore

pytestmark = needs_real
DAY = date(2026, 6, 25)
LATER = datetime(2026, 7, 1, tzinfo=UTC)
HOUR = datetime(2026, 6, 25, 5, tzinfo=UTC)  # 00:00 CDT, the hour all four runs fall in
WHOLE_RUN_EVERYWHERE = 80  # the real file's settlement points


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    s = open_store(tmp_path)
    yield s
    s.close()


def ingest(store: ParquetStore, *runs: Run) -> list[int]:
    """Ingest each run as its own payload, published when ERCOT posted it; the revisions each one made."""
    ingester = engine(store, store.root)
    revisions = []
    for run in runs:
        outcome = ingester.ingest(SCED_LMP, run.name, run.data(), published_at=run.published)
        assert outcome.ok, outcome.error
        revisions.append(outcome.entry.revisions)
    return revisions


def test_the_report_is_told_from_each_derived_runs_name() -> None:
    for run in RUNS:
        assert detect_report(Iso.ERCOT, run.name, run.data()) is SCED_LMP
    assert REAL_RUN.name == REAL.name


def test_runs_in_order_end_at_the_next_run_and_the_cut_run_is_revised(store: ParquetStore) -> None:
    revisions = ingest(store, *RUNS)
    # The re-run cuts the real run short; the next regular run cuts the re-run; the run after the
    # missing one starts after the one before has held its full 5 minutes, so nothing is revised.
    assert revisions == [0, WHOLE_RUN_EVERYWHERE, WHOLE_RUN_EVERYWHERE, 0]
    assert_tiled(sced(store), ended(RUNS))
    first = intervals(sced(store))["7RNCHSLR_ALL"]
    assert [end - start for start, end in first] == [
        timedelta(seconds=105),
        timedelta(seconds=191),
        NOMINAL,  # capped: the 00:50 run is missing, so 00:50:14 to 00:55:12 stays a gap
        NOMINAL,
    ]


def test_a_cut_run_is_published_with_the_run_that_cut_it(store: ParquetStore) -> None:
    ingest(store, REAL_RUN, RERUN)
    latest = sced(store)
    published = {
        (row["interval_start"], row["published_at"])
        for row in latest.select(["interval_start", "published_at"]).to_pylist()
    }
    assert published == {(REAL_RUN.start, RERUN.published), (RERUN.start, RERUN.published)}


def test_as_of_between_runs_shows_the_provisional_end(store: ParquetStore) -> None:
    ingest(store, *RUNS)
    second = timedelta(seconds=1)
    # Before the re-run was published, the real run held its provisional 5 minutes.
    assert_tiled(sced(store, as_of=RERUN.published - second), [(REAL_RUN.start, REAL_RUN.start + NOMINAL)])
    # Once it was, the real run ends where the re-run begins, whose own end is provisional until the next.
    assert_tiled(
        sced(store, as_of=RERUN.published),
        [(REAL_RUN.start, RERUN.start), (RERUN.start, RERUN.start + NOMINAL)],
    )
    assert_tiled(sced(store, as_of=NEXT.published), ended(RUNS[:3]))
    assert_tiled(sced(store, as_of=AFTER_GAP.published), ended(RUNS))


@pytest.mark.parametrize(
    "order",
    [(3, 2, 1, 0), (1, 3, 0, 2), (2, 0, 3, 1), (0, 2, 1, 3)],
    ids=lambda o: "-".join(map(str, o)),
)
def test_runs_out_of_order_end_the_same(store: ParquetStore, order: tuple[int, ...]) -> None:
    ingest(store, *(RUNS[i] for i in order))
    assert_tiled(sced(store), ended(RUNS))


def test_many_runs_in_one_csv_end_at_each_other(store: ParquetStore) -> None:
    outcome = engine(store, store.root).ingest(SCED_LMP, "sced_20260625.csv", one_csv([AFTER_GAP, *RUNS[:3]]))
    assert outcome.ok, outcome.error
    assert outcome.entry.rows == outcome.entry.rows_written == 4 * WHOLE_RUN_EVERYWHERE
    assert outcome.entry.revisions == 0
    assert_tiled(sced(store), ended(RUNS))


def test_many_runs_in_one_zip_end_at_each_other(store: ParquetStore) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for run in RUNS:
            zf.writestr(run.name, run.data())
    outcome = engine(store, store.root).ingest(SCED_LMP, "sced_runs.zip", buf.getvalue())
    assert outcome.ok, outcome.error
    assert_tiled(sced(store), ended(RUNS))


def test_a_batch_of_runs_cuts_the_last_stored_run(store: ParquetStore) -> None:
    ingester = engine(store, store.root)
    first = ingester.ingest(SCED_LMP, "a.csv", one_csv(RUNS[:2]), published_at=RERUN.published)
    later = ingester.ingest(SCED_LMP, "b.csv", one_csv(RUNS[2:]), published_at=AFTER_GAP.published)
    assert first.entry.revisions == 0 and later.entry.revisions == WHOLE_RUN_EVERYWHERE
    assert later.entry.rows == 2 * WHOLE_RUN_EVERYWHERE
    assert later.entry.rows_written == 3 * WHOLE_RUN_EVERYWHERE  # its own runs and the cut re-run
    assert later.entry.first_interval == NEXT.start and later.entry.last_interval == AFTER_GAP.start
    assert_tiled(sced(store), ended(RUNS))
    # Between the two payloads the re-run still held its provisional 5 minutes.
    assert_tiled(
        sced(store, as_of=AFTER_GAP.published - timedelta(seconds=1)),
        [(REAL_RUN.start, RERUN.start), (RERUN.start, RERUN.start + NOMINAL)],
    )


def test_ingesting_a_run_again_changes_nothing(store: ParquetStore) -> None:
    ingest(store, *RUNS)
    ingester = engine(store, store.root)
    for run in (RERUN, REAL_RUN, NEXT):
        again = ingester.ingest(SCED_LMP, run.name, run.data(), published_at=run.published)
        assert again.ok and again.entry.rows_written == 0 and again.entry.revisions == 0
    bulk = ingester.ingest(SCED_LMP, "all.csv", one_csv(RUNS))
    assert bulk.ok and bulk.entry.rows_written == 0
    assert_tiled(sced(store), ended(RUNS))


def test_a_correction_of_a_run_keeps_the_end_the_next_run_gave_it(store: ParquetStore) -> None:
    ingest(store, *RUNS)
    fixed = Run(REAL_RUN.clock, 0.5)  # the same run posted again with other prices
    outcome = engine(store, store.root).ingest(SCED_LMP, "fixed.csv", fixed.data(), published_at=LATER)
    assert outcome.entry.revisions == WHOLE_RUN_EVERYWHERE
    latest = sced(store)
    assert_tiled(latest, ended(RUNS))
    first = latest.filter(pa.compute.equal(latest.column("interval_start"), pa.scalar(REAL_RUN.start)))
    assert first.column("lmp")[0].as_py() == pytest.approx(27.54)


def test_quality_counts_no_overlaps_and_the_time_each_run_held(store: ParquetStore) -> None:
    ingest(store, *RUNS)
    result = assess(
        store,
        "ERCOT",
        "lmp",
        "SCED",
        DAY,
        DAY + timedelta(days=1),
        IngestLedger(store.root).entries(),
        now=LATER,
    )
    assert result.summary.overlaps == 0
    held = sum((end - start).total_seconds() for start, end in ended(RUNS))
    assert result.summary.covered_s == WHOLE_RUN_EVERYWHERE * held


def test_an_hourly_mean_weighs_each_run_by_how_long_its_price_held(store: ParquetStore) -> None:
    ingest(store, *RUNS)
    first, second = store.read(
        "lmp", "ERCOT", "SCED", ["7RNCHSLR_ALL"], HOUR, HOUR + timedelta(hours=1), resample="hourly"
    ).to_pylist()
    base = 27.04  # the real run's LMP at 7RNCHSLR_ALL
    prices = [base + run.add for run in RUNS]
    # The last run (00:55:12 CDT) holds 288 s of this hour and 12 s of the next.
    held = [min(end, HOUR + timedelta(hours=1)) - start for start, end in ended(RUNS)]
    seconds = [h.total_seconds() for h in held]
    assert first["lmp"] == pytest.approx(
        sum(p * s for p, s in zip(prices, seconds, strict=True)) / sum(seconds)
    )
    assert first["coverage"] == pytest.approx(sum(seconds) / 3600)
    assert first["intervals"] == 4
    assert second["lmp"] == pytest.approx(prices[-1]) and second["coverage"] == pytest.approx(12 / 3600)
