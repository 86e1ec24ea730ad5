"""Expected vs present intervals per market day: DST days, MISO, 5-minute markets, gaps, revisions."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from quality_tables import lmp_rows, slots, utc

from carbon254.quality import Gap, assess, day_start, days_with_gaps, market_day_range, market_days
from carbon254.schema import TIMESTAMP
from carbon254.store import ParquetStore

HOUR = timedelta(hours=1)
FIVE = timedelta(minutes=5)
LOCS = ("A", "B")


@pytest.fixture
def store(tmp_path: Path) -> ParquetStore:
    s = ParquetStore(tmp_path)
    yield s  # type: ignore[misc]
    s.close()


def _day(iso: str, d: date) -> list:
    return slots(day_start(iso, d), day_start(iso, d + timedelta(days=1)), HOUR)


# ---- calendar -----------------------------------------------------------------------------------


def test_market_days_are_local_days_with_dst_lengths() -> None:
    days = market_days("ERCOT", date(2024, 3, 9), date(2024, 3, 12))
    assert [(d.start, d.end, d.seconds // 3600) for d in days] == [
        (utc(2024, 3, 9, 6), utc(2024, 3, 10, 6), 24),
        (utc(2024, 3, 10, 6), utc(2024, 3, 11, 5), 23),
        (utc(2024, 3, 11, 5), utc(2024, 3, 12, 5), 24),
    ]
    fall = market_days("NYISO", date(2024, 11, 3), date(2024, 11, 4))[0]
    assert (fall.start, fall.end, fall.seconds) == (utc(2024, 11, 3, 4), utc(2024, 11, 4, 5), 90_000)
    miso = market_days("MISO", date(2024, 3, 10), date(2024, 3, 11))[0]
    assert (miso.start, miso.end) == (utc(2024, 3, 10, 5), utc(2024, 3, 11, 5))


def test_market_day_range_widens_partial_days() -> None:
    assert market_day_range("ERCOT", utc(2024, 1, 1, 6), utc(2024, 1, 3, 6)) == (
        date(2024, 1, 1),
        date(2024, 1, 3),
    )
    assert market_day_range("ERCOT", utc(2024, 1, 1, 12), utc(2024, 1, 2, 7)) == (
        date(2024, 1, 1),
        date(2024, 1, 3),
    )
    with pytest.raises(ValueError, match="must be after"):
        market_day_range("ERCOT", utc(2024, 1, 2), utc(2024, 1, 1))
    with pytest.raises(ValueError, match="exclusive"):
        market_days("ERCOT", date(2024, 1, 2), date(2024, 1, 2))


# ---- DST days -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2024, 3, 10), 23), (date(2024, 11, 3), 25), (date(2024, 3, 11), 24)],
)
def test_complete_dst_day_reads_100_percent(store: ParquetStore, day: date, hours: int) -> None:
    starts = _day("ERCOT", day)
    assert len(starts) == hours
    store.write("lmp", lmp_rows(LOCS, starts))
    d = assess(store, "ERCOT", "lmp", "DAM", day, day + timedelta(days=1)).days[0]
    assert (d.hours, d.locations, d.expected, d.present, d.completeness) == (
        hours,
        2,
        2 * hours,
        2 * hours,
        1.0,
    )
    assert d.interval_minutes == 60.0
    assert d.gaps == ()


def test_missing_hour_on_spring_forward_day_is_a_gap_with_exact_utc_bounds(store: ParquetStore) -> None:
    # 2024-03-10 in Central time: 00:00 CST = 06:00Z, 02:00 does not exist, 03:00 CDT = 08:00Z.
    day = date(2024, 3, 10)
    starts = _day("ERCOT", day)
    store.write("lmp", lmp_rows(LOCS, starts, skip=[("A", utc(2024, 3, 10, 8)), ("B", utc(2024, 3, 10, 8))]))
    d = assess(store, "ERCOT", "lmp", "DAM", day, day + timedelta(days=1)).days[0]
    assert (d.hours, d.expected, d.present) == (23, 46, 44)
    assert d.completeness == pytest.approx(44 / 46)
    assert d.gaps == (
        Gap(
            start=utc(2024, 3, 10, 8),
            end=utc(2024, 3, 10, 9),
            intervals=1,
            locations=2,
            missing=2,
            names=LOCS,
        ),
    )


def test_missing_repeated_fall_back_hour_is_a_gap_with_exact_utc_bounds(store: ParquetStore) -> None:
    # 2024-11-03 in Central time: 01:00 CDT = 06:00Z, then 01:00 CST = 07:00Z (the repeat).
    day = date(2024, 11, 3)
    starts = _day("ERCOT", day)
    store.write("lmp", lmp_rows(LOCS, starts, skip=[("A", utc(2024, 11, 3, 7))]))
    d = assess(store, "ERCOT", "lmp", "DAM", day, day + timedelta(days=1)).days[0]
    assert (d.hours, d.expected, d.present) == (25, 50, 49)
    assert d.completeness == pytest.approx(0.98)
    assert d.gaps == (
        Gap(
            start=utc(2024, 11, 3, 7),
            end=utc(2024, 11, 3, 8),
            intervals=1,
            locations=1,
            missing=1,
            names=("A",),
        ),
    )


def test_miso_days_are_always_24_hours(store: ParquetStore) -> None:
    first, end = date(2024, 3, 9), date(2024, 3, 12)
    store.write("lmp", lmp_rows(LOCS, slots(utc(2024, 3, 9, 5), utc(2024, 3, 12, 5), HOUR), iso="MISO"))
    fall = [date(2024, 11, 3)]
    store.write("lmp", lmp_rows(LOCS, slots(utc(2024, 11, 3, 5), utc(2024, 11, 4, 5), HOUR), iso="MISO"))
    spring = assess(store, "MISO", "lmp", "DAM", first, end)
    autumn = assess(store, "MISO", "lmp", "DAM", fall[0], fall[0] + timedelta(days=1))
    for d in (*spring.days, *autumn.days):
        assert (d.hours, d.expected, d.present, d.completeness, d.gaps) == (24, 48, 48, 1.0, ())
    assert spring.summary.completeness == 1.0
    assert spring.summary.expected == 144


# ---- gaps ---------------------------------------------------------------------------------------


def test_five_minute_market_gaps_merge_contiguous_intervals(store: ParquetStore) -> None:
    day = date(2024, 1, 15)  # PJM, EST: the day starts 05:00Z
    starts = slots(utc(2024, 1, 15, 5), utc(2024, 1, 16, 5), FIVE)
    assert len(starts) == 288
    a_out = [utc(2024, 1, 15, 10, m) for m in (0, 5, 10)]  # A misses 10:00-10:15Z
    both = utc(2024, 1, 15, 10, 10)  # ... and B misses 10:10Z
    later = utc(2024, 1, 15, 20, 0)
    skip = [("A", t) for t in a_out] + [("B", both), ("C", later)]
    store.write("lmp", lmp_rows(["A", "B", "C"], starts, FIVE, iso="PJM", market="RT5", skip=skip))
    result = assess(store, "PJM", "lmp", "RT5", day, day + timedelta(days=1))
    d = result.days[0]
    assert (d.interval_minutes, d.locations, d.expected, d.present) == (5.0, 3, 864, 859)
    assert d.gaps == (
        Gap(
            start=utc(2024, 1, 15, 10),
            end=utc(2024, 1, 15, 10, 15),
            intervals=3,
            locations=2,
            missing=4,
            names=("A", "B"),
        ),
        Gap(start=later, end=later + FIVE, intervals=1, locations=1, missing=1, names=("C",)),
    )
    s = result.summary
    assert (s.expected, s.present, s.missing, s.gaps, s.days_with_gaps, s.regular) == (
        864,
        859,
        5,
        2,
        1,
        True,
    )
    assert s.completeness == pytest.approx(859 / 864)


def test_whole_missing_day_and_days_with_gaps(store: ParquetStore) -> None:
    first, end = date(2024, 6, 1), date(2024, 6, 5)
    for d in (date(2024, 6, 1), date(2024, 6, 3)):
        store.write("lmp", lmp_rows(LOCS, _day("ERCOT", d)))
    # 2024-06-04: one hour short for B.
    store.write("lmp", lmp_rows(LOCS, _day("ERCOT", date(2024, 6, 4)), skip=[("B", utc(2024, 6, 4, 20))]))
    result = assess(store, "ERCOT", "lmp", "DAM", first, end)
    missing_day = result.days[1]
    assert (missing_day.day, missing_day.present, missing_day.completeness) == (date(2024, 6, 2), 0, 0.0)
    assert missing_day.gaps == (
        Gap(
            start=utc(2024, 6, 2, 5),
            end=utc(2024, 6, 3, 5),
            intervals=24,
            locations=2,
            missing=48,
            names=LOCS,
        ),
    )
    assert days_with_gaps(store, "ERCOT", "lmp", "DAM", first, end) == [date(2024, 6, 2), date(2024, 6, 4)]
    assert result.summary.completeness == pytest.approx(143 / 192)


def test_empty_window_uses_the_days_before_it_so_an_outage_reads_zero(store: ParquetStore) -> None:
    store.write("lmp", lmp_rows(LOCS, _day("ERCOT", date(2024, 6, 1))))
    result = assess(store, "ERCOT", "lmp", "DAM", date(2024, 6, 3), date(2024, 6, 5))
    assert result.has_data
    assert [(d.expected, d.present, d.completeness, len(d.gaps)) for d in result.days] == [
        (48, 0, 0.0, 1),
        (48, 0, 0.0, 1),
    ]
    assert days_with_gaps(store, "ERCOT", "lmp", "DAM", date(2024, 6, 3), date(2024, 6, 5)) == [
        date(2024, 6, 3),
        date(2024, 6, 4),
    ]
    # Nothing in the window nor the reference days: nothing is expected.
    far = assess(store, "ERCOT", "lmp", "DAM", date(2024, 7, 1), date(2024, 7, 2))
    assert not far.has_data
    d = far.days[0]
    assert (d.expected, d.present, d.completeness, d.interval_minutes, d.locations) == (
        None,
        0,
        None,
        None,
        0,
    )
    assert far.summary.completeness is None


def test_gap_names_are_left_out_when_too_many_locations_miss(store: ParquetStore) -> None:
    locs = [f"N{i:02d}" for i in range(25)]
    starts = _day("ERCOT", date(2024, 6, 1))
    store.write("lmp", lmp_rows(locs, starts, skip=[(loc, starts[0]) for loc in locs]))
    gap = assess(store, "ERCOT", "lmp", "DAM", date(2024, 6, 1), date(2024, 6, 2)).days[0].gaps[0]
    assert (gap.locations, gap.missing, gap.names) == (25, 25, ())


# ---- revisions, irregular markets, off-grid rows ------------------------------------------------


def test_revisions_are_counted_per_day_and_do_not_inflate_present(store: ParquetStore) -> None:
    starts = _day("ERCOT", date(2024, 6, 1)) + _day("ERCOT", date(2024, 6, 2))
    store.write("lmp", lmp_rows(LOCS, starts))
    store.write("lmp", lmp_rows(["A"], starts[20:27], energy=45.0))  # 4 hours on day 1, 3 on day 2
    store.write("lmp", lmp_rows(["A"], starts[21:22], energy=50.0))  # a second revision of one hour
    result = assess(store, "ERCOT", "lmp", "DAM", date(2024, 6, 1), date(2024, 6, 3))
    assert [(d.revisions, d.present, d.completeness) for d in result.days] == [(5, 48, 1.0), (3, 48, 1.0)]
    assert result.summary.revisions == 8


def test_irregular_sced_timestamps_report_present_only(store: ParquetStore) -> None:
    # SCED runs every ~5 minutes at uneven seconds; rows carry the run time.
    base = utc(2024, 6, 1, 5)
    runs = [base + timedelta(seconds=300 * i + (i * 37) % 60 + 13) for i in range(40)]
    ends = [*runs[1:], runs[-1] + FIVE]
    table = lmp_rows(["HB_NORTH"], runs, FIVE, market="SCED")
    table = table.set_column(
        table.schema.get_field_index("interval_end"), "interval_end", pa.array(ends, TIMESTAMP)
    )
    store.write("lmp", table)
    result = assess(store, "ERCOT", "lmp", "SCED", date(2024, 6, 1), date(2024, 6, 2))
    d = result.days[0]
    assert (d.present, d.expected, d.completeness, d.interval_minutes, d.gaps) == (40, None, None, None, ())
    assert (result.summary.regular, result.summary.expected, result.summary.missing) == (False, None, None)
    assert days_with_gaps(store, "ERCOT", "lmp", "SCED", date(2024, 6, 1), date(2024, 6, 2)) == []


def test_a_few_off_grid_rows_are_counted_apart_and_overlaps_reported(store: ParquetStore) -> None:
    starts = _day("ERCOT", date(2024, 6, 1))
    store.write("lmp", lmp_rows(LOCS, starts))
    store.write("lmp", lmp_rows(["A"], [starts[3] + timedelta(minutes=30)]))
    d = assess(store, "ERCOT", "lmp", "DAM", date(2024, 6, 1), date(2024, 6, 2)).days[0]
    assert (d.present, d.expected, d.off_grid, d.completeness) == (48, 48, 1, 1.0)
    # An hour from 03:30 overlaps A's 03:00 and 04:00 hours: reported, and counted once.
    assert (d.overlaps, d.covered_s, d.expected_s) == (2, 48 * 3600, 48 * 3600)


# ---- other datasets -----------------------------------------------------------------------------


def test_load_uses_kind_as_market_and_forecast_vintages_are_not_revisions(store: ParquetStore) -> None:
    starts = _day("ERCOT", date(2024, 6, 1))
    n = len(starts)

    def load(kind: str, issued: object, mw: float) -> pa.Table:
        return pa.table(
            {
                "iso": ["ERCOT"] * n,
                "zone": ["NORTH"] * n,
                "kind": [kind] * n,
                "interval_start": pa.array(starts, TIMESTAMP),
                "interval_end": pa.array([s + HOUR for s in starts], TIMESTAMP),
                "mw": [mw] * n,
                "forecast_issued_at": pa.array([issued] * n, TIMESTAMP),
            }
        )

    store.write("load", load("forecast", utc(2024, 5, 30), 40_000.0))
    store.write("load", load("forecast", utc(2024, 5, 31), 41_000.0))
    store.write("load", load("actual", None, 39_000.0))
    store.write("load", load("actual", None, 39_500.0).slice(0, 2))  # two revised actual hours
    forecast = assess(store, "ERCOT", "load", "forecast", date(2024, 6, 1), date(2024, 6, 2)).days[0]
    actual = assess(store, "ERCOT", "load", "actual", date(2024, 6, 1), date(2024, 6, 2)).days[0]
    assert (forecast.market, forecast.present, forecast.expected, forecast.revisions) == (
        "forecast",
        24,
        24,
        0,
    )
    assert (actual.market, actual.present, actual.expected, actual.revisions) == ("actual", 24, 24, 2)


def test_ordc_adder_has_no_market(store: ParquetStore) -> None:
    starts = slots(utc(2024, 6, 1, 5), utc(2024, 6, 2, 5), FIVE)[:-1]  # last interval missing
    n = len(starts)
    store.write(
        "ordc_adder",
        pa.table(
            {
                "iso": ["ERCOT"] * n,
                "interval_start": pa.array(starts, TIMESTAMP),
                "interval_end": pa.array([s + FIVE for s in starts], TIMESTAMP),
                "rt_reserve_adder": [0.5] * n,
                "rt_reliability_deployment_adder": [0.0] * n,
            }
        ),
    )
    result = assess(store, "ERCOT", "ordc_adder", None, date(2024, 6, 1), date(2024, 6, 2))
    d = result.days[0]
    assert (d.market, d.locations, d.expected, d.present, d.interval_minutes) == (None, 1, 288, 287, 5.0)
    assert d.gaps == (
        Gap(
            start=utc(2024, 6, 2, 4, 55),
            end=utc(2024, 6, 2, 5),
            intervals=1,
            locations=1,
            missing=1,
            names=("ERCOT",),
        ),
    )
    with pytest.raises(ValueError, match="no markets"):
        assess(store, "ERCOT", "ordc_adder", "RT5", date(2024, 6, 1), date(2024, 6, 2))
    with pytest.raises(ValueError, match="needs a market"):
        assess(store, "ERCOT", "lmp", None, date(2024, 6, 1), date(2024, 6, 2))
