from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from carbon254.curves import DayType, HistoryError, estimate_shape, flat_shape, hourly_history
from shared_data import SHARED_DATA

ZONE = "America/Chicago"
# NERC holidays of 2023-2024 that fall on weekdays (taken from the NERC calendar by hand).
HOLIDAYS = {
    date(2023, 1, 2),  # New Year fell on a Sunday: observed on Monday
    date(2023, 5, 29),
    date(2023, 7, 4),
    date(2023, 9, 4),
    date(2023, 11, 23),
    date(2023, 12, 25),
    date(2024, 1, 1),
    date(2024, 5, 27),
    date(2024, 7, 4),
    date(2024, 9, 2),
    date(2024, 11, 28),
    date(2024, 12, 25),
}


def profile(day_type: int, hour_ending: int) -> float:
    """A hand-made daily profile: night, day, evening peak; weekends lower."""
    if hour_ending <= 6:
        level = 0.6
    elif hour_ending <= 16:
        level = 1.0
    elif hour_ending <= 22:
        level = 1.5
    else:
        level = 0.8
    return level * (1.0, 0.9, 0.8)[day_type]


def day_type_of(local: pd.Timestamp) -> int:
    if local.date() in HOLIDAYS or local.weekday() == 6:
        return DayType.SUNDAY_OR_HOLIDAY
    return DayType.SATURDAY if local.weekday() == 5 else DayType.BUSINESS_DAY


def history(
    start: str = "2023-01-01", end: str = "2025-01-01", spike: bool = False
) -> tuple[pa.Table, pd.DatetimeIndex]:
    lo = pd.Timestamp(start, tz=ZONE).tz_convert("UTC")
    hi = pd.Timestamp(end, tz=ZONE).tz_convert("UTC")
    utc = pd.date_range(lo, hi, freq="h", inclusive="left")
    local = utc.tz_convert(ZONE)
    level = 20.0 + 3.0 * local.month.to_numpy()  # every month its own level
    price = np.array([profile(day_type_of(t), t.hour + 1) for t in local]) * level
    if spike:
        price[np.flatnonzero((local.month == 7) & (local.day == 18) & (local.hour == 17))[0]] = 5000.0
    table = pa.table(
        {
            "interval_start": pa.array(utc.as_unit("us"), type=pa.timestamp("us", "UTC")),
            "lmp": pa.array(price, type=pa.float64()),
        }
    )
    return table, local


def test_a_hand_built_history_gives_back_its_profile() -> None:
    table, local = history()
    shape = estimate_shape(table, iso="ERCOT")
    assert shape.iso == "ERCOT"
    assert shape.hours == len(local)
    assert shape.first_hour == datetime(2023, 1, 1, 6, tzinfo=UTC)
    assert shape.fallback_months == ()
    assert shape.multiplicative.all()
    for month in range(12):
        # Relative to business-day HE10 (profile 1.0), every cell is its profile value.
        reference = shape.factors[month, 0, 9]
        for day_type in range(3):
            for he in (1, 7, 12, 18, 23):
                got = shape.factors[month, day_type, he - 1] / reference
                assert got == pytest.approx(profile(day_type, he), rel=1e-12), (month, day_type, he)
    # Factors are relative to the month's mean: hour-weighted, they average to 1.
    july = shape.counts[6] * shape.factors[6]
    assert july.sum() / shape.counts[6].sum() == pytest.approx(1.0, rel=1e-12)
    # Offsets are the same shape in $/MWh: July's level is 41 $/MWh.
    evening_minus_night = shape.offsets[6, 0, 17] - shape.offsets[6, 0, 0]
    assert evening_minus_night == pytest.approx((1.5 - 0.6) * 41.0, rel=1e-12)


def test_hours_are_counted_by_local_hour_ending_through_dst() -> None:
    table, _ = history("2024-01-01", "2025-01-01")
    shape = estimate_shape(table, iso="ERCOT")
    sunday = DayType.SUNDAY_OR_HOLIDAY
    # November 2024: four Sundays plus Thanksgiving; the fall-back Sunday repeats HE2.
    assert shape.counts[10, sunday, 1] == 6
    assert shape.counts[10, sunday, 2] == 5
    # March 2024: five Sundays; the spring-forward Sunday has no HE3.
    assert shape.counts[2, sunday, 2] == 4
    assert shape.counts[2, sunday, 3] == 5
    # Christmas 2024 (a Wednesday) counts as a Sunday.
    assert shape.counts[11, sunday, 11] == 5 + 1


def test_one_5000_dollar_hour_does_not_shape_the_month() -> None:
    clean = estimate_shape(history()[0], iso="ERCOT")
    spiked = estimate_shape(history(spike=True)[0], iso="ERCOT")
    # Without clipping the spike would lift its cell by ~5000/42 $/MWh, a factor of ~3.
    np.testing.assert_allclose(spiked.factors, clean.factors, rtol=0.01)
    assert spiked.factors[6].max() < 1.6


def test_months_without_history_borrow_the_mean_profile() -> None:
    table, _ = history("2024-01-01", "2024-07-01")
    shape = estimate_shape(table, iso="ERCOT")
    assert shape.fallback_months == (7, 8, 9, 10, 11, 12)
    assert shape.counts[6:].sum() == 0
    np.testing.assert_allclose(shape.factors[8], shape.factors[:6].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(shape.offsets[11], shape.offsets[:6].mean(axis=0), rtol=1e-12)
    assert shape.multiplicative.all()


def test_a_month_with_a_near_zero_mean_is_shaped_additively() -> None:
    table, local = history("2024-01-01", "2025-01-01")
    price = table.column("lmp").to_numpy().copy()
    april = np.asarray(local.month == 4)
    price[april] = price[april] - 55.0  # April mean ~ -4 $/MWh
    table = table.set_column(1, "lmp", pa.array(price))
    shape = estimate_shape(table, iso="ERCOT")
    assert not shape.multiplicative[3]
    assert shape.multiplicative[[0, 1, 2, 4, 5]].all()
    assert np.isfinite(shape.factors).all()
    # The additive shape is untouched by the shift.
    assert shape.offsets[3, 0, 17] - shape.offsets[3, 0, 0] == pytest.approx((1.5 - 0.6) * 32.0, rel=1e-9)


def test_five_minute_intervals_are_averaged_into_hours_by_duration() -> None:
    base = int(datetime(2024, 6, 3, 15, tzinfo=UTC).timestamp()) * 1_000_000
    minute = 60_000_000
    # Hour one: 12 five-minute intervals; hour two: one 30-minute and six 5-minute intervals.
    starts = (
        [base + 5 * minute * i for i in range(12)]
        + [base + 60 * minute]
        + [base + 90 * minute + 5 * minute * i for i in range(6)]
    )
    lmp = [10.0] * 6 + [30.0] * 6 + [40.0] + [100.0] * 6
    table = pa.table(
        {
            "interval_start": pa.array(starts, type=pa.int64()).cast(pa.timestamp("us", "UTC")),
            "lmp": pa.array(lmp),
        }
    )
    hourly = hourly_history(table)
    assert hourly.starts.tolist() == [base, base + 60 * minute]
    np.testing.assert_allclose(hourly.prices, [20.0, 70.0])


def test_bad_histories_are_refused_naming_the_problem() -> None:
    table, _ = history("2024-01-01", "2024-01-02")
    with pytest.raises(HistoryError, match="'lmp'"):
        estimate_shape(table.drop_columns(["lmp"]), iso="ERCOT")
    doubled = pa.concat_tables([table, table.slice(3, 1)])
    with pytest.raises(HistoryError, match="row 24: duplicate"):
        estimate_shape(doubled, iso="ERCOT")
    naive = table.set_column(0, "interval_start", table.column(0).cast(pa.timestamp("us")))
    with pytest.raises(ValueError, match="no time zone"):
        estimate_shape(naive, iso="ERCOT")
    empty = table.set_column(1, "lmp", pa.nulls(len(table), pa.float64()))
    with pytest.raises(HistoryError, match="no priced intervals"):
        estimate_shape(empty, iso="ERCOT")
    with pytest.raises(KeyError, match="NOPE"):
        flat_shape("NOPE")


NYISO_HOURLY = SHARED_DATA / "history" / "nyiso_rt_zonal_hourly_2022.csv"


@pytest.mark.skipif(not NYISO_HOURLY.exists(), reason=f"{NYISO_HOURLY} is not available")
def test_a_real_new_york_city_year_has_a_power_market_shape() -> None:
    frame = pd.read_csv(NYISO_HOURLY)
    nyc = frame[frame["zone"] == "N.Y.C."]
    table = pa.table(
        {
            "interval_start": pa.array(
                pd.to_datetime(nyc["datetime_beginning_utc"]).dt.as_unit("us"), type=pa.timestamp("us", "UTC")
            ),
            "lmp": pa.array(nyc["lbmp_usd_mwh"].to_numpy(dtype=np.float64)),
        }
    )
    shape = estimate_shape(table, iso="NYISO")
    assert shape.hours == 8760
    assert shape.fallback_months == ()
    peak = np.arange(6, 22)
    night = np.r_[0:6, 22:24]
    for month in (5, 6, 7):  # June, July, August business days
        day = shape.factors[month, DayType.BUSINESS_DAY]
        assert day[peak].mean() > day[night].mean() * 1.15
        # The summer peak sits in the afternoon or evening, the trough overnight.
        assert 13 <= int(np.argmax(day)) + 1 <= 21
        assert int(np.argmin(day)) + 1 <= 7
    # Business days cost more than Sundays in the daytime.
    summer = shape.factors[5:8]
    assert summer[:, DayType.BUSINESS_DAY, peak].mean() > summer[:, DayType.SUNDAY_OR_HOLIDAY, peak].mean()
