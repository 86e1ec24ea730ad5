"""Duplicates refused, quarantined payloads and ingest lag per market day, from the ingest ledger."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from quality_tables import entry, lmp_rows, slots, utc

from carbon254.ingest.ledger import IngestLedger, PayloadStatus
from carbon254.quality import assess, day_start
from carbon254.store import ParquetStore

DAY1, DAY2, END = date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3)
# ERCOT market days in CDT: 2024-06-01 05:00Z to 2024-06-02 05:00Z, then to 2024-06-03 05:00Z.
D1_NOON, D2_NOON = utc(2024, 6, 1, 17), utc(2024, 6, 2, 17)


@pytest.fixture
def store(tmp_path: Path) -> ParquetStore:
    s = ParquetStore(tmp_path)
    s.write(
        "lmp", lmp_rows(["A"], slots(day_start("ERCOT", DAY1), day_start("ERCOT", END), timedelta(hours=1)))
    )
    yield s  # type: ignore[misc]
    s.close()


def _entries() -> list:
    published = utc(2024, 5, 31, 12)
    return [
        # Day 1 only: 120 s lag, 4 duplicates refused.
        entry(
            first=utc(2024, 6, 1, 5), last=utc(2024, 6, 1, 16), published=published, lag_s=120, duplicates=4
        ),
        # Spans both days: 600 s lag, 1 duplicate.
        entry(first=D1_NOON, last=D2_NOON, published=published, lag_s=600, duplicates=1, name="p2"),
        # Day 2, no publication time: a payload with no lag.
        entry(first=D2_NOON, last=D2_NOON, name="p3"),
        # Day 2, quarantined with a known span.
        entry(first=D2_NOON, last=D2_NOON, status=PayloadStatus.QUARANTINED, name="q1"),
        # Quarantined before its intervals were known: no day can claim it.
        entry(first=None, last=None, market=None, status=PayloadStatus.QUARANTINED, name="q2"),
        # A payload of several markets (market unknown) counts for DAM too: 30 s lag on day 2.
        entry(first=D2_NOON, last=D2_NOON, market=None, published=D2_NOON, lag_s=30, name="p4"),
        # Not about ERCOT lmp DAM, or outside the window: ignored.
        entry(first=D1_NOON, last=D1_NOON, market="RT5", published=published, lag_s=9_999, duplicates=50),
        entry(iso="PJM", first=D1_NOON, last=D1_NOON, published=published, lag_s=9_999),
        entry(dataset="load", market="actual", first=D1_NOON, last=D1_NOON, duplicates=7),
        entry(first=utc(2024, 6, 3, 6), last=utc(2024, 6, 3, 7), published=published, lag_s=9_999),
    ]


def test_duplicates_quarantines_and_lag_per_day(store: ParquetStore, tmp_path: Path) -> None:
    ledger = IngestLedger(tmp_path)
    ledger.append(_entries())
    result = assess(store, "ERCOT", "lmp", "DAM", DAY1, END, ledger=ledger.entries())
    d1, d2 = result.days
    assert (d1.payloads, d1.duplicates, d1.quarantined, d1.lag_median_s, d1.lag_max_s) == (
        2,
        5,
        0,
        360.0,
        600.0,
    )
    assert (d2.payloads, d2.duplicates, d2.quarantined, d2.lag_median_s, d2.lag_max_s) == (
        3,
        1,
        1,
        315.0,
        600.0,
    )
    s = result.summary
    # Each payload once, however many days it spans.
    assert (s.payloads, s.duplicates, s.quarantined, s.quarantined_undated) == (4, 5, 1, 1)
    assert (s.lag_median_s, s.lag_max_s) == (120.0, 600.0)


def test_no_ledger_means_no_lag(store: ParquetStore) -> None:
    d = assess(store, "ERCOT", "lmp", "DAM", DAY1, DAY2).days[0]
    assert (d.payloads, d.duplicates, d.quarantined, d.lag_median_s, d.lag_max_s) == (0, 0, 0, None, None)
