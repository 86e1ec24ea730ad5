"""Variable-length intervals (covered time, off-grid pieces, overlaps) and intervals not yet due.

The month test reads NYISO's real November 2022 real-time archive from
../shared/data/iso/nyiso (never copied) and skips when it is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from quality_tables import lmp_rows, slots, utc

from carbon254.isos.nyiso import reports as nyiso
from carbon254.quality import Gap, assess, day_start, days_with_gaps, publication_time, publishes_ahead
from carbon254.quality.timeline import timeline
from carbon254.schema import TIMESTAMP
from carbon254.store import ParquetStore
from shared_data import SHARED_DATA

FIVE = timedelta(minutes=5)
HOUR = timedelta(hours=1)
LOCS = ("A", "B")
DAY = date(2024, 6, 3)  # PJM (Eastern, EDT): 04:00Z to 04:00Z
LATER = utc(2024, 7, 1)  # an assessment time after every day of these tests
MONTH_ZIP = SHARED_DATA / "iso" / "nyiso" / "20221101realtime_zone_csv.zip"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    s = ParquetStore(tmp_path)
    yield s
    s.close()


def _five_minute_day(iso: str = "PJM") -> list[datetime]:
    return slots(day_start(iso, DAY), day_start(iso, DAY + timedelta(days=1)), FIVE)


def _intervals(location: str, bounds: list[tuple[datetime, datetime]], market: str = "RT5") -> pa.Table:
    """LMP rows of one location with the given (start, end) bounds."""
    table = lmp_rows([location], [s for s, _ in bounds], FIVE, iso="PJM", market=market)
    ends = pa.array([e for _, e in bounds], TIMESTAMP)
    return table.set_column(table.schema.get_field_index("interval_end"), "interval_end", ends)


def _at(h: int, m: int, s: int = 0) -> datetime:
    return datetime(2024, 6, 3, h, m, s, tzinfo=UTC)


# ---- variable-length intervals ------------------------------------------------------------------


def test_extra_runs_split_a_grid_interval_and_count_for_the_time_they_cover(store: ParquetStore) -> None:
    starts = _five_minute_day()
    split = _at(14, 0)
    store.write("lmp", lmp_rows(LOCS, starts, FIVE, iso="PJM", market="RT5", skip=[("A", split)]))
    # A's 14:00-14:05 comes as three runs, as NYISO publishes them (14:02:18 and 14:03:48).
    pieces = [(_at(14, 0), _at(14, 2, 18)), (_at(14, 2, 18), _at(14, 3, 48)), (_at(14, 3, 48), _at(14, 5))]
    store.write("lmp", _intervals("A", pieces))
    d = assess(store, "PJM", "lmp", "RT5", DAY, DAY + timedelta(days=1), now=LATER).days[0]
    assert (d.expected, d.present, d.completeness, d.gaps) == (576, 576, 1.0, ())
    assert (d.expected_s, d.covered_s) == (2 * 86_400, 2 * 86_400)
    assert (d.off_grid, d.overlaps) == (3, 0)


def test_time_missing_inside_a_grid_interval_is_a_gap_and_measured(store: ParquetStore) -> None:
    starts = _five_minute_day()
    store.write("lmp", lmp_rows(LOCS, starts, FIVE, iso="PJM", market="RT5", skip=[("A", _at(14, 0))]))
    # The run ending 14:03:48 is missing: 90 seconds of A's 14:00-14:05 are not covered.
    store.write("lmp", _intervals("A", [(_at(14, 0), _at(14, 2, 18)), (_at(14, 3, 48), _at(14, 5))]))
    result = assess(store, "PJM", "lmp", "RT5", DAY, DAY + timedelta(days=1), now=LATER)
    d = result.days[0]
    assert (d.expected, d.present) == (576, 575)
    assert (d.expected_s, d.covered_s) == (172_800, 172_800 - 90)
    assert d.completeness == pytest.approx((172_800 - 90) / 172_800)
    assert d.gaps == (
        Gap(start=_at(14, 0), end=_at(14, 5), intervals=1, locations=1, missing=1, names=("A",)),
    )
    assert result.summary.completeness == d.completeness
    assert days_with_gaps(store, "PJM", "lmp", "RT5", DAY, DAY + timedelta(days=1), now=LATER) == [DAY]


def test_overlapping_intervals_are_reported_and_counted_once(store: ParquetStore) -> None:
    starts = _five_minute_day()
    store.write("lmp", lmp_rows(LOCS, starts, FIVE, iso="PJM", market="RT5"))
    # An extra run kept as a nominal 5 minutes ending at its stamp: 13:57:18-14:02:18 overlaps
    # 13:55-14:00, and 14:00-14:05 begins before it ends.
    store.write("lmp", _intervals("A", [(_at(13, 57, 18), _at(14, 2, 18))]))
    result = assess(store, "PJM", "lmp", "RT5", DAY, DAY + timedelta(days=1), now=LATER)
    d = result.days[0]
    assert (d.overlaps, d.off_grid) == (2, 1)
    assert (d.present, d.covered_s, d.completeness, d.gaps) == (576, 172_800, 1.0, ())
    assert result.summary.overlaps == 2


@pytest.mark.skipif(not MONTH_ZIP.exists(), reason=f"real NYISO files not present at {MONTH_ZIP.parent}")
def test_a_real_nyiso_month_is_measured_by_covered_time(store: ParquetStore) -> None:
    store.write("lmp", nyiso.REALTIME_ZONE.parse(MONTH_ZIP.read_bytes()))
    result = assess(store, "NYISO", "lmp", "RT5", date(2022, 11, 1), date(2022, 12, 1), now=LATER)
    s = result.summary
    assert (s.regular, s.interval_minutes, s.locations, s.overlaps) == (True, 5.0, 15, 0)
    # NYISO left out five stamps in the month (every location alike); NYISO's extra runs are
    # neither missing, duplicates nor extra.
    short = {
        date(2022, 11, 5): 300,
        date(2022, 11, 9): 300,
        date(2022, 11, 22): 65,
        date(2022, 11, 24): 77,
        date(2022, 11, 30): 153,
    }
    assert [d.day for d in result.days if d.gaps] == sorted(short)
    for d in result.days:
        seconds = int((d.end - d.start).total_seconds())
        assert d.expected_s == 15 * seconds
        assert d.covered_s == 15 * (seconds - short.get(d.day, 0)), d.day
        assert d.present == d.expected - (15 if d.day in short else 0), d.day
    nov1 = result.days[0]
    assert (nov1.off_grid, nov1.completeness) == (15 * 3, 1.0)  # 14:00-14:02:18-14:03:48-14:05
    (gap,) = result.days[21].gaps  # 07:50 EST missing after the extra run at 07:48:55
    assert (gap.start, gap.end, gap.locations, gap.missing) == (
        utc(2022, 11, 22, 12, 45),
        utc(2022, 11, 22, 12, 50),
        15,
        15,
    )
    assert s.completeness == pytest.approx(1 - 15 * sum(short.values()) / s.expected_s)


# ---- what is due --------------------------------------------------------------------------------


def test_real_time_intervals_are_expected_only_once_ended(store: ParquetStore) -> None:
    starts = _five_minute_day()
    now = _at(14, 2)  # 10:02 EDT: 10:00 ended the day's 120th interval
    store.write("lmp", lmp_rows(LOCS, [s for s in starts if s < _at(14, 0)], FIVE, iso="PJM", market="RT5"))
    today = assess(store, "PJM", "lmp", "RT5", DAY, DAY + timedelta(days=2), now=now)
    d, tomorrow = today.days
    assert (d.expected, d.present, d.completeness, d.gaps) == (240, 240, 1.0, ())
    assert (d.expected_s, d.covered_s) == (2 * 10 * 3600, 2 * 10 * 3600)
    assert (tomorrow.expected, tomorrow.present, tomorrow.completeness, tomorrow.gaps) == (0, 0, None, ())
    assert today.summary.completeness == 1.0
    assert days_with_gaps(store, "PJM", "lmp", "RT5", DAY, DAY + timedelta(days=2), now=now) == []
    # An hour later with nothing new: the intervals that ended since are missing.
    late = assess(store, "PJM", "lmp", "RT5", DAY, DAY + timedelta(days=1), now=_at(15, 2)).days[0]
    assert (late.expected, late.present) == (264, 240)
    assert late.gaps == (
        Gap(start=_at(14, 0), end=_at(15, 0), intervals=12, locations=2, missing=24, names=LOCS),
    )


def test_day_ahead_day_is_expected_once_published(store: ParquetStore) -> None:
    assert publishes_ahead("lmp", "DAM") and publishes_ahead("lmp", "DAM_EXANTE")
    assert publishes_ahead("load", "forecast") and not publishes_ahead("load", "actual")
    assert not publishes_ahead("lmp", "RT5") and not publishes_ahead("ordc_adder", None)
    # PJM posts day-ahead results about 13:30 ET the day before: 17:30Z in June (EDT), 18:30Z in January.
    assert publication_time("PJM", DAY) == utc(2024, 6, 2, 17, 30)
    assert publication_time("PJM", date(2024, 1, 16)) == utc(2024, 1, 15, 18, 30)
    assert publication_time("MISO", DAY) == utc(2024, 6, 2, 19)  # 14:00 EST all year
    hours = slots(day_start("PJM", DAY), day_start("PJM", DAY + timedelta(days=1)), HOUR)
    store.write("lmp", lmp_rows(LOCS, hours, iso="PJM", market="DAM"))
    first, end = DAY, DAY + timedelta(days=2)
    before = assess(store, "PJM", "lmp", "DAM", first, end, now=utc(2024, 6, 3, 17))
    # Tomorrow's results are not out before 13:30 ET today: nothing is missing yet.
    assert [(d.expected, d.present, d.completeness, d.gaps) for d in before.days] == [
        (48, 48, 1.0, ()),
        (0, 0, None, ()),
    ]
    after = assess(store, "PJM", "lmp", "DAM", first, end, now=utc(2024, 6, 3, 18))
    tomorrow = after.days[1]
    assert (tomorrow.expected, tomorrow.present, tomorrow.completeness) == (48, 0, 0.0)
    assert [g.intervals for g in tomorrow.gaps] == [24]
    assert days_with_gaps(store, "PJM", "lmp", "DAM", first, end, now=utc(2024, 6, 3, 18)) == [
        first + timedelta(days=1)
    ]


def test_now_must_be_aware(store: ParquetStore) -> None:
    store.write("lmp", lmp_rows(LOCS, _five_minute_day(), FIVE, iso="PJM", market="RT5"))
    with pytest.raises(ValueError, match="no time zone"):
        assess(store, "PJM", "lmp", "RT5", DAY, DAY + timedelta(days=1), now=datetime(2024, 6, 3, 12))


def test_timeline_of_unsorted_rows_counts_shared_time_once() -> None:
    # Seconds from the origin: B [0, 100) [50, 150) [300, 400); A [10, 20). C has no row.
    origin = utc(2024, 6, 3)
    rows = [("B", 300, 100), ("A", 10, 10), ("B", 50, 100), ("B", 0, 100)]
    coverage = pa.table(
        {
            "location": [r[0] for r in rows],
            "interval_start": pa.array([origin + timedelta(seconds=r[1]) for r in rows], TIMESTAMP),
            "duration_s": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    line = timeline(coverage, pa.array(["A", "B", "C"]), int(origin.timestamp() * 1_000_000))
    assert line.loc.tolist() == [0, 1, 1, 1] and line.start.tolist() == [10, 0, 50, 300]
    assert line.overlaps.tolist() == [False, False, True, False]
    lo, hi = np.array([0, 100]), np.array([100, 500])
    assert line.covered(lo, hi).tolist() == [10 + 100, 50 + 100]
    loc, h0, h1 = line.holes(0, 500)
    assert list(zip(loc.tolist(), h0.tolist(), h1.tolist(), strict=True)) == [
        (0, 0, 10),
        (0, 20, 500),
        (1, 150, 300),
        (1, 400, 500),
        (2, 0, 500),
    ]
