"""ERCOT's per-SCED-run reports are declared run-stamped, and ingest ends each run at the next one.

Uses the hand-made SCED fixtures of the 2024-11-03 fall-back night: the runs
stamped 01:30:12 (`RepeatedHourFlag` N, CDT) and 01:30:14 (Y, CST) are an hour
and 2 s apart in UTC, so neither cuts the other; a re-run 2 s after the first
is made by stamping the second file's rows N.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from carbon254.ingest import run_length
from carbon254.ingest.ledger import IngestLedger
from carbon254.ingest.native import NativeIngest
from carbon254.ingest.quarantine import Quarantine
from carbon254.isos import Iso
from carbon254.isos.ercot.reports import ORDC_ADDERS, REPORTS, SCED_BUS_LMP, SCED_LMP
from carbon254.markets.registry import detect_report
from carbon254.markets.report import Report
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore

FIX = Path(__file__).resolve().parent / "fixtures" / "ercot"
FIVE = timedelta(minutes=5)
CDT_RUN = datetime(2024, 11, 3, 6, 30, 12, tzinfo=UTC)  # 01:30:12 CDT
CST_RUN = datetime(2024, 11, 3, 7, 30, 14, tzinfo=UTC)  # 01:30:14 CST, the clock's second pass
NIGHT = (datetime(2024, 11, 3, 5, tzinfo=UTC), datetime(2024, 11, 3, 9, tzinfo=UTC))


def fixture(part: str) -> Path:
    (path,) = FIX.glob(f"*{part}*.csv")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    s = open_store(tmp_path)
    yield s
    s.close()


def ingest(store: ParquetStore, report: Report, name: str, data: bytes, published: datetime) -> int:
    """Ingest one payload; the revisions it made."""
    engine = NativeIngest(store, IngestLedger(store.root), Quarantine(store.root))
    assert detect_report(Iso.ERCOT, name, data) is report
    outcome = engine.ingest(report, name, data, published_at=published)
    assert outcome.ok, outcome.error
    return outcome.entry.revisions


def spans(
    store: ParquetStore, report: Report, as_of: datetime | None = None
) -> set[tuple[datetime, datetime]]:
    """The distinct (start, end) intervals stored for the report's market on the fall-back night."""
    market = None if report is ORDC_ADDERS else report.markets[0]
    table: pa.Table = store.read(report.dataset, "ERCOT", market, None, *NIGHT, as_of=as_of)
    return set(
        zip(table.column("interval_start").to_pylist(), table.column("interval_end").to_pylist(), strict=True)
    )


def test_the_per_run_reports_are_the_run_stamped_ones() -> None:
    stamped = {r.name for r in REPORTS if r.run_stamped}
    assert stamped == {"NP6-788-CD", "NP6-787-CD", "NP6-323-CD"}
    assert all(r.interval == FIVE for r in REPORTS if r.run_stamped)


@pytest.mark.parametrize(
    ("iso", "dataset", "market", "length"),
    [
        ("ERCOT", "lmp", "SCED", FIVE),
        ("ERCOT", "lmp", "SCED_BUS", FIVE),
        ("ERCOT", "ordc_adder", None, FIVE),
        ("ERCOT", "lmp", "RT15", None),
        ("ERCOT", "lmp", "DAM", None),
        ("ERCOT", "as_price", "DAM", None),
        ("NYISO", "lmp", "RT5", None),
        ("CAISO", "lmp", "RT5", None),
        ("NOPE", "lmp", "SCED", None),
    ],
)
def test_run_length_follows_the_declaration(
    iso: str, dataset: str, market: str | None, length: timedelta | None
) -> None:
    assert run_length(iso, dataset, market) == length


# (report, fixture of its 01:30:12 N run, fixture of its 01:30:14 Y run)
CASES = [
    (SCED_LMP, "6788_20241103_013012", "6788_20241103_013014"),
    (ORDC_ADDERS, "6323_20241103_013012", "6323_20241103_013014"),
]


@pytest.mark.parametrize(
    ("report", "cdt", "cst"), CASES, ids=lambda v: v.name if isinstance(v, Report) else v
)
def test_the_fall_back_runs_are_an_hour_apart_and_keep_their_five_minutes(
    store: ParquetStore, report: Report, cdt: str, cst: str
) -> None:
    first, second = fixture(cdt), fixture(cst)
    assert ingest(store, report, first.name, first.read_bytes(), CDT_RUN + timedelta(seconds=8)) == 0
    assert ingest(store, report, second.name, second.read_bytes(), CST_RUN + timedelta(seconds=8)) == 0
    assert spans(store, report) == {(CDT_RUN, CDT_RUN + FIVE), (CST_RUN, CST_RUN + FIVE)}


@pytest.mark.parametrize(
    ("report", "cdt", "cst"), CASES, ids=lambda v: v.name if isinstance(v, Report) else v
)
def test_a_re_run_two_seconds_later_ends_the_run_before(
    store: ParquetStore, report: Report, cdt: str, cst: str
) -> None:
    first, second = fixture(cdt), fixture(cst)
    rerun = second.read_bytes().replace(b"01:30:14,Y,", b"01:30:14,N,")
    rerun_name = second.name.replace(".013522.", ".013016.").replace(".013022.", ".013016.")
    rerun_start = CDT_RUN + timedelta(seconds=2)
    published = rerun_start + timedelta(seconds=4)
    assert ingest(store, report, first.name, first.read_bytes(), CDT_RUN + timedelta(seconds=3)) == 0
    rows = len(first.read_bytes().splitlines()) - 1
    assert ingest(store, report, rerun_name, rerun, published) == rows
    assert spans(store, report) == {(CDT_RUN, rerun_start), (rerun_start, rerun_start + FIVE)}
    assert spans(store, report, as_of=published - timedelta(seconds=1)) == {(CDT_RUN, CDT_RUN + FIVE)}


def test_sced_by_bus_runs_end_at_the_next_run(store: ParquetStore) -> None:
    path = fixture("6787_20241103")
    data = path.read_bytes()
    rerun = data.replace(b"01:30:14,Y,", b"01:30:17,Y,")
    assert ingest(store, SCED_BUS_LMP, path.name, data, CST_RUN + timedelta(seconds=10)) == 0
    assert ingest(store, SCED_BUS_LMP, path.name.replace(".013524.", ".013527."), rerun, CST_RUN + FIVE) == 3
    later = CST_RUN + timedelta(seconds=3)
    assert spans(store, SCED_BUS_LMP) == {(CST_RUN, later), (later, later + FIVE)}


def test_a_run_just_after_new_year_ends_the_last_run_of_the_old_year(store: ParquetStore) -> None:
    # 17:58:30 and 18:01:10 CST on New Year's Eve straddle midnight UTC, so the cut run is stored in
    # the year before the run that cuts it, and both years are written in one batch.
    path = fixture("6788_20241103_013012")
    data = path.read_bytes()
    old = data.replace(b"11/03/2024 01:30:12,N,", b"12/31/2025 17:58:30,N,")
    new = data.replace(b"11/03/2024 01:30:12,N,", b"12/31/2025 18:01:10,N,")
    last, first = datetime(2025, 12, 31, 23, 58, 30, tzinfo=UTC), datetime(2026, 1, 1, 0, 1, 10, tzinfo=UTC)
    name = "cdr.00012300.0000000000000000.20251231.{}.LMPSROSNODENP6788_20251231_{}.csv"
    assert ingest(store, SCED_LMP, name.format("175832", "175830"), old, last + timedelta(seconds=2)) == 0
    assert ingest(store, SCED_LMP, name.format("180112", "180110"), new, first + timedelta(seconds=2)) == 5
    table = store.read("lmp", "ERCOT", "SCED", None, last, first + FIVE)
    got = set(
        zip(table.column("interval_start").to_pylist(), table.column("interval_end").to_pylist(), strict=True)
    )
    assert got == {(last, first), (first, first + FIVE)}
