from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from timeseries_tables import hourly_utc

from carbon254.store.base import Block
from carbon254.timeseries import block_mask

# Written out by hand from the NERC calendar, independently of nerc_holidays.
HOLIDAYS = {
    2021: [date(2021, 1, 1), date(2021, 5, 31), date(2021, 7, 5), date(2021, 9, 6), date(2021, 11, 25)],
    2022: [date(2022, 5, 30), date(2022, 7, 4), date(2022, 9, 5), date(2022, 11, 24), date(2022, 12, 26)],
    2024: [
        date(2024, 1, 1),
        date(2024, 5, 27),
        date(2024, 7, 4),
        date(2024, 9, 2),
        date(2024, 11, 28),
        date(2024, 12, 25),
    ],
}
ALL_HOLIDAYS = [d for days in HOLIDAYS.values() for d in days]
ZONES = {
    "PJM": "America/New_York",
    "NYISO": "America/New_York",
    "ERCOT": "America/Chicago",
    "MISO": "Etc/GMT+5",
}


def arrow_starts(starts: pd.DatetimeIndex) -> pa.Array:
    return pa.array(starts.as_unit("us"), type=pa.timestamp("us", "UTC"))


def reference(starts: pd.DatetimeIndex, zone: str) -> dict[Block, np.ndarray]:
    local = starts.tz_convert(zone)
    hour_ending = local.hour + 1
    peak = np.asarray((hour_ending >= 7) & (hour_ending <= 22))
    business = np.asarray(local.day_of_week < 5) & ~pd.Index(local.date).isin(ALL_HOLIDAYS)
    return {
        Block.ONPEAK: peak & business,
        Block.OFFPEAK: ~(peak & business),
        Block.TWO_BY_16: peak & ~business,
        Block.SEVEN_BY_8: ~peak,
        Block.ATC: np.ones(len(starts), dtype=bool),
    }


def mask(starts: pd.DatetimeIndex, iso: str, block: Block | str) -> np.ndarray:
    result = block_mask(arrow_starts(starts), iso, block)
    assert result.type == pa.bool_()
    return np.asarray(result.to_numpy(zero_copy_only=False), dtype=bool)


def per_local_day(starts: pd.DatetimeIndex, zone: str, selected: np.ndarray) -> pd.Series:
    return pd.Series(selected, index=starts.tz_convert(zone).date).groupby(level=0).sum()


@pytest.mark.parametrize("iso", sorted(ZONES))
@pytest.mark.parametrize("year", sorted(HOLIDAYS))
def test_every_block_matches_pandas_reference_for_a_year(iso: str, year: int) -> None:
    starts = hourly_utc(f"{year}-01-01T12:00", f"{year}-12-31T12:00")
    expected = reference(starts, ZONES[iso])
    for block in Block:
        np.testing.assert_array_equal(
            mask(starts, iso, block), expected[block], err_msg=f"{iso} {year} {block}"
        )


def test_five_minute_intervals_match_reference_and_use_the_start() -> None:
    starts = hourly_utc("2024-11-25T05:00", "2024-12-02T05:00", freq="5min")
    expected = reference(starts, "America/New_York")
    for block in Block:
        np.testing.assert_array_equal(mask(starts, "PJM", block), expected[block])
    # 06:55-07:00 EST on Monday 2024-11-25 is HE7 (onpeak), 05:55-06:00 is HE6 (not).
    probe = pd.DatetimeIndex([pd.Timestamp("2024-11-25T11:55Z"), pd.Timestamp("2024-11-25T10:55Z")])
    assert mask(probe, "PJM", Block.ONPEAK).tolist() == [True, False]
    # A weekday of 5-minute intervals holds 16 x 12 onpeak intervals.
    onpeak = per_local_day(starts, "America/New_York", mask(starts, "PJM", Block.ONPEAK))
    assert onpeak[date(2024, 11, 26)] == 16 * 12


def test_normal_weekday_has_16_onpeak_and_8_off_peak_night_hours() -> None:
    starts = hourly_utc("2024-06-12T04:00", "2024-06-13T04:00")  # Wednesday, EDT day
    assert len(starts) == 24
    assert mask(starts, "PJM", Block.ONPEAK).sum() == 16
    assert mask(starts, "PJM", Block.SEVEN_BY_8).sum() == 8
    assert mask(starts, "PJM", Block.TWO_BY_16).sum() == 0
    assert mask(starts, "PJM", Block.OFFPEAK).sum() == 8
    # HE7 is 06:00-07:00 local, HE22 is 21:00-22:00.
    onpeak_hours = starts.tz_convert("America/New_York")[mask(starts, "PJM", Block.ONPEAK)].hour
    assert list(onpeak_hours) == list(range(6, 22))


def test_thanksgiving_weekday_is_all_off_peak() -> None:
    starts = hourly_utc("2024-11-28T05:00", "2024-11-29T05:00")
    assert date(2024, 11, 28).weekday() == 3
    assert mask(starts, "PJM", Block.ONPEAK).sum() == 0
    assert mask(starts, "PJM", Block.TWO_BY_16).sum() == 16
    assert mask(starts, "PJM", Block.SEVEN_BY_8).sum() == 8
    assert mask(starts, "PJM", Block.OFFPEAK).sum() == 24


@pytest.mark.parametrize(
    ("iso", "year", "month"), [("PJM", 2024, 5), ("ERCOT", 2022, 12), ("MISO", 2024, 11)]
)
def test_monthly_onpeak_is_16_hours_per_nerc_business_day(iso: str, year: int, month: int) -> None:
    zone = ZONES[iso]
    first = pd.Timestamp(year, month, 1, tz=zone)
    starts = pd.date_range(first, first + pd.DateOffset(months=1), freq="1h", inclusive="left").tz_convert(
        "UTC"
    )
    first_day = np.datetime64(f"{year}-{month:02d}-01")
    business_days = np.busday_count(
        first_day, first_day + np.timedelta64(first.days_in_month, "D"), holidays=ALL_HOLIDAYS
    )
    assert mask(starts, iso, Block.ONPEAK).sum() == 16 * business_days
    weekend_or_holiday = first.days_in_month - business_days
    assert mask(starts, iso, Block.TWO_BY_16).sum() == 16 * weekend_or_holiday


@pytest.mark.parametrize(("iso", "zone"), [("PJM", "America/New_York"), ("ERCOT", "America/Chicago")])
def test_spring_forward_day(iso: str, zone: str) -> None:
    day_start = pd.Timestamp("2024-03-10", tz=zone)
    starts = pd.date_range(day_start, day_start + pd.Timedelta(days=1), freq="1h", inclusive="left")
    starts = starts[starts.tz_convert(zone).date == date(2024, 3, 10)].tz_convert("UTC")
    local_hours = list(starts.tz_convert(zone).hour)
    assert len(starts) == 23 and 2 not in local_hours
    assert mask(starts, iso, Block.SEVEN_BY_8).sum() == 7  # HE3 does not exist
    assert mask(starts, iso, Block.TWO_BY_16).sum() == 16  # a Sunday
    assert mask(starts, iso, Block.ONPEAK).sum() == 0


@pytest.mark.parametrize(("iso", "zone"), [("NYISO", "America/New_York"), ("ERCOT", "America/Chicago")])
def test_fall_back_day(iso: str, zone: str) -> None:
    # A day of UTC hours from local midnight to the next local midnight: 25 of them.
    begin = pd.Timestamp("2024-11-03", tz=zone).tz_convert("UTC")
    end = pd.Timestamp("2024-11-04", tz=zone).tz_convert("UTC")
    starts = pd.date_range(begin, end, freq="1h", inclusive="left")
    assert len(starts) == 25
    seven_by_eight = mask(starts, iso, Block.SEVEN_BY_8)
    assert seven_by_eight.sum() == 9  # HE2 twice
    repeated = starts[starts.tz_convert(zone).hour == 1]
    assert len(repeated) == 2 and repeated[0] != repeated[1]
    assert mask(repeated, iso, Block.SEVEN_BY_8).all()
    assert mask(starts, iso, Block.TWO_BY_16).sum() == 16
    assert mask(starts, iso, Block.ONPEAK).sum() == 0


def test_miso_stays_on_eastern_standard_time_all_year() -> None:
    # 10:00Z on Monday 2024-07-01 is 05:00 EST (HE6) but 06:00 EDT (HE7).
    summer_morning = pd.DatetimeIndex([pd.Timestamp("2024-07-01T10:00Z")])
    assert mask(summer_morning, "MISO", Block.ONPEAK).tolist() == [False]
    assert mask(summer_morning, "PJM", Block.ONPEAK).tolist() == [True]
    # 02:00Z on 2024-07-02 is 21:00 EST Monday (HE22) but 22:00 EDT (HE23).
    summer_evening = pd.DatetimeIndex([pd.Timestamp("2024-07-02T02:00Z")])
    assert mask(summer_evening, "MISO", Block.ONPEAK).tolist() == [True]
    assert mask(summer_evening, "PJM", Block.ONPEAK).tolist() == [False]
    # No 23- or 25-hour days: the MISO day is 05:00Z to 05:00Z on both DST Sundays.
    for day in ("2024-03-10", "2024-11-03"):
        starts = hourly_utc(f"{day}T05:00", str((pd.Timestamp(day) + pd.Timedelta(days=1)).date()) + "T05:00")
        assert len(starts) == 24
        assert mask(starts, "MISO", Block.SEVEN_BY_8).sum() == 8
        assert mask(starts, "MISO", Block.TWO_BY_16).sum() == 16


def test_chunked_input_and_null_starts() -> None:
    starts = hourly_utc("2024-06-12T04:00", "2024-06-13T04:00")
    chunked = pa.chunked_array([arrow_starts(starts[:10]), arrow_starts(starts[10:])])
    result = block_mask(chunked, "PJM", "onpeak")
    assert np.asarray(result).sum() == 16
    with_null = pa.array([starts[12].to_pydatetime(), None], type=pa.timestamp("us", "UTC"))
    # 16:00Z on a Wednesday is 12:00 EDT, HE13.
    expected = {Block.ONPEAK: True, Block.OFFPEAK: False, Block.TWO_BY_16: False, Block.SEVEN_BY_8: False}
    for block in Block:
        assert block_mask(with_null, "PJM", block).to_pylist() == [expected.get(block, True), False]


def test_nanosecond_and_non_utc_labels_are_the_same_instants() -> None:
    starts = hourly_utc("2024-06-12T04:00", "2024-06-13T04:00")
    expected = mask(starts, "PJM", Block.ONPEAK)
    as_ns = pa.array(starts.as_unit("ns"), type=pa.timestamp("ns", "UTC"))
    relabelled = arrow_starts(starts).cast(pa.timestamp("us", "Asia/Tokyo"))
    for array in (as_ns, relabelled):
        np.testing.assert_array_equal(np.asarray(block_mask(array, "PJM", Block.ONPEAK)), expected)


def test_bad_inputs_are_rejected() -> None:
    starts = arrow_starts(hourly_utc("2024-06-12T04:00", "2024-06-12T06:00"))
    with pytest.raises(ValueError, match="time zone"):
        block_mask(starts.cast(pa.timestamp("us")), "PJM", Block.ONPEAK)
    with pytest.raises(ValueError):
        block_mask(starts, "PJM", "5x8")
    with pytest.raises(KeyError, match="unknown ISO"):
        block_mask(starts, "NOPE", Block.ONPEAK)
    with pytest.raises(ValueError, match="timestamp"):
        block_mask(pa.array([1, 2]), "PJM", Block.ONPEAK)


def test_empty_input() -> None:
    empty = pa.array([], type=pa.timestamp("us", "UTC"))
    for block in Block:
        assert len(block_mask(empty, "ERCOT", block)) == 0
