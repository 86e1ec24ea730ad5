"""Duration-weighted resampling: bucket means, `coverage` and `intervals`.

Expected values are worked out by hand in the comments, or by expanding every
interval into its minutes in pandas, never by the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from timeseries_tables import (
    MARKET_ZONES,
    hourly_utc,
    lmp_intervals,
    lmp_table,
    pandas_in_block,
    utc_of,
)

from carbon254.schema import SPECS, Dataset
from carbon254.timeseries import present

LMP = SPECS[Dataset.LMP]
NY = "America/New_York"


def resampled(
    table: pa.Table, iso: str, resample: str, *, tz: str | None = None, block: str | None = None
) -> pd.DataFrame:
    """`present`'s answer as pandas, with bucket bounds in UTC."""
    out = present(table, LMP, iso, tz=tz, resample=resample, block=block)
    frame = out.to_pandas()
    frame["interval_start"] = utc_of(out.column("interval_start"))
    frame["interval_end"] = utc_of(out.column("interval_end"))
    return frame


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def five_minutes(begin: str, end: str, lmp: float) -> list[tuple[str, str, float]]:
    """Regular 5-minute intervals in [begin, end) (UTC), all at `lmp`."""
    starts = hourly_utc(begin, end, freq="5min")
    return [(str(s), str(s + pd.Timedelta(minutes=5)), lmp) for s in starts]


# ---------------------------------------------------------------- weighting


def test_irregular_intervals_weigh_by_their_duration() -> None:
    # NYISO's hour ending 02:00 EST on 15 January 2024 (06:00-07:00 UTC): eleven
    # regular intervals, then the re-run dispatch intervals [01:55:00, 01:57:48)
    # and [01:57:48, 02:00:00); then one interval of the next hour.
    rows = [
        *five_minutes("2024-01-15T06:00", "2024-01-15T06:55", 40.0),
        ("2024-01-15T06:55:00", "2024-01-15T06:57:48", 100.0),
        ("2024-01-15T06:57:48", "2024-01-15T07:00:00", 20.0),
        ("2024-01-15T07:00:00", "2024-01-15T07:05:00", 30.0),
    ]
    out = resampled(lmp_intervals(rows), "NYISO", "hourly")
    # (11 x 300 s x $40 + 168 s x $100 + 132 s x $20) / 3600 s = 151,440 / 3600; the plain
    # mean of the 13 prices would be 43.08.
    assert out["lmp"].tolist() == [42.066667, 30.0]
    assert out["energy"].tolist() == [41.066667, 29.0]
    assert out["interval_start"].tolist() == [utc("2024-01-15T06:00"), utc("2024-01-15T07:00")]
    assert out["interval_end"].tolist() == [utc("2024-01-15T07:00"), utc("2024-01-15T08:00")]
    assert out["coverage"].tolist() == [1.0, 300 / 3600]
    assert out["intervals"].tolist() == [13, 1]
    daily = resampled(lmp_intervals(rows), "NYISO", "daily")
    assert daily["lmp"].tolist() == [round((151_440 + 300 * 30) / 3900, 6)]
    assert daily["coverage"].tolist() == [3900 / 86_400]
    assert daily["intervals"].tolist() == [14]


def test_an_interval_crossing_the_hour_weighs_in_both_hours() -> None:
    rows = [
        ("2024-01-15T00:00", "2024-01-15T00:50", 10.0),
        ("2024-01-15T00:50", "2024-01-15T01:10", 70.0),
        ("2024-01-15T01:10", "2024-01-15T02:00", 40.0),
    ]
    out = resampled(lmp_intervals(rows, iso="PJM"), "PJM", "hourly", tz="UTC")
    # 00:00: (50 x 10 + 10 x 70) / 60 = 20; 01:00: (10 x 70 + 50 x 40) / 60 = 45.
    assert out["lmp"].tolist() == [20.0, 45.0]
    assert out["coverage"].tolist() == [1.0, 1.0]
    assert out["intervals"].tolist() == [2, 2]
    daily = resampled(lmp_intervals(rows, iso="PJM"), "PJM", "daily", tz="UTC")
    # (50 x 10 + 20 x 70 + 50 x 40) / 120 = 32.5; the crossing interval is one interval of the day.
    assert daily["lmp"].tolist() == [32.5]
    assert daily["coverage"].tolist() == [2 / 24]
    assert daily["intervals"].tolist() == [3]


def test_hourly_data_in_a_half_hour_zone_splits_every_hour() -> None:
    # St. John's is UTC-2:30 in June: each UTC hour is half in one local hour, half in the next.
    table = lmp_table(hourly_utc("2024-06-01T00:00", "2024-06-01T06:00"))  # lmp 0..5
    out = resampled(table, "PJM", "hourly", tz="America/St_Johns")
    assert out["interval_start"].tolist() == [
        utc("2024-05-31T23:30") + pd.Timedelta(hours=h) for h in range(7)
    ]
    assert out["lmp"].tolist() == [0.0, 0.5, 1.5, 2.5, 3.5, 4.5, 5.0]
    assert out["coverage"].tolist() == [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]
    assert out["intervals"].tolist() == [1, 2, 2, 2, 2, 2, 1]


def test_hours_of_a_zone_that_shifts_its_clock_by_half_an_hour() -> None:
    # Lord Howe moves from UTC+10:30 to UTC+11 at 02:00 local on 6 October 2024
    # (15:30 UTC on the 5th): its 02:00 hour starts at 02:30 and lasts 30 minutes.
    table = lmp_table(hourly_utc("2024-10-05T14:30", "2024-10-05T16:30", freq="30min"))  # lmp 0..3
    out = resampled(table, "PJM", "hourly", tz="Australia/Lord_Howe")
    assert out["interval_start"].tolist() == [
        utc("2024-10-05T14:30"),
        utc("2024-10-05T15:30"),
        utc("2024-10-05T16:00"),
    ]
    assert out["interval_end"].tolist() == [
        utc("2024-10-05T15:30"),
        utc("2024-10-05T16:00"),
        utc("2024-10-05T17:00"),
    ]
    assert out["lmp"].tolist() == [0.5, 2.0, 3.0]
    assert out["coverage"].tolist() == [1.0, 1.0, 0.5]
    assert out["intervals"].tolist() == [2, 1, 1]


def test_a_delivery_year_is_spread_over_its_months() -> None:
    spec = SPECS[Dataset.CAPACITY_PRICE]
    table = pa.table(
        {
            "iso": ["PJM"],
            "auction": ["BRA"],
            "zone": ["RTO"],
            "delivery_start": pa.array([utc("2024-06-01T04:00")], pa.timestamp("us", "UTC")),
            "delivery_end": pa.array([utc("2025-06-01T04:00")], pa.timestamp("us", "UTC")),
            "price": [269.92],
        }
    )
    out = present(table, spec, "PJM", tz=None, resample="monthly", block=None)
    months = pd.period_range("2024-06", "2025-05", freq="M")
    assert utc_of(out.column("delivery_start")).tolist() == [
        m.start_time.tz_localize(NY).tz_convert("UTC") for m in months
    ]
    assert out.column("price").to_pylist() == [269.92] * 12
    assert out.column("coverage").to_pylist() == [1.0] * 12
    assert out.column("intervals").to_pylist() == [1] * 12
    onpeak = present(table, spec, "PJM", tz=None, resample="monthly", block="onpeak")
    assert onpeak.column("coverage").to_pylist() == [1.0] * 12


# ---------------------------------------------------------------- coverage


def test_a_day_cut_by_the_query_window_keeps_its_bounds_and_says_how_much_it_covers() -> None:
    table = lmp_table(hourly_utc("2024-01-10T17:00", "2024-01-11T05:00"))  # 12:00-24:00 EST
    out = resampled(table, "PJM", "daily")
    assert out["interval_start"].tolist() == [utc("2024-01-10T05:00")]
    assert out["interval_end"].tolist() == [utc("2024-01-11T05:00")]
    assert out["coverage"].tolist() == [0.5]
    assert out["intervals"].tolist() == [12]
    assert out["lmp"].tolist() == [5.5]


def test_a_gap_lowers_coverage_and_the_mean_is_of_the_rest() -> None:
    table = lmp_table(hourly_utc("2024-01-10T05:00", "2024-01-11T05:00"))
    kept = np.ones(24, dtype=bool)
    kept[5:8] = False
    out = resampled(table.filter(pa.array(kept)), "PJM", "daily")
    assert out["coverage"].tolist() == [21 / 24]
    assert out["intervals"].tolist() == [21]
    assert out["lmp"].tolist() == [round(float(np.arange(24)[kept].mean()), 6)]


@pytest.mark.parametrize(("day", "hours"), [("2024-03-10", 23), ("2024-11-03", 25)])
def test_dst_days_last_23_and_25_hours(day: str, hours: int) -> None:
    begin = pd.Timestamp(day, tz=NY).tz_convert("UTC")
    starts = pd.date_range(begin, periods=hours, freq="h")
    whole = resampled(lmp_table(starts), "PJM", "daily")
    assert whole["coverage"].tolist() == [1.0]
    assert whole["intervals"].tolist() == [hours]
    assert (whole["interval_end"] - whole["interval_start"]).tolist() == [pd.Timedelta(hours=hours)]
    half = resampled(lmp_table(starts[:12]), "PJM", "daily")
    assert half["coverage"].tolist() == [12 / hours]
    assert (half["interval_end"] - half["interval_start"]).tolist() == [pd.Timedelta(hours=hours)]


def test_an_onpeak_month_lasts_its_onpeak_hours() -> None:
    # March 2024 has 21 weekdays and no NERC holiday: 336 on-peak hours. The
    # first half of the month (1 and 4-8, 11-15 March) holds 11 of those days.
    starts = pd.date_range(
        pd.Timestamp("2024-03-01", tz=NY), pd.Timestamp("2024-03-16", tz=NY), freq="5min", inclusive="left"
    ).tz_convert("UTC")
    table = lmp_table(starts, lmp=lambda i, base: np.cos(base / 100.0) * 20 + 50)
    out = resampled(table, "PJM", "monthly", block="onpeak")
    assert out["interval_start"].tolist() == [utc("2024-03-01T05:00")]
    assert out["interval_end"].tolist() == [utc("2024-04-01T04:00")]
    assert out["coverage"].tolist() == [11 * 16 / 336]
    assert out["intervals"].tolist() == [11 * 16 * 12]
    frame = table.to_pandas()
    expected = frame["lmp"][pandas_in_block(frame["interval_start"], "PJM", "onpeak")].mean()
    assert out["lmp"].tolist() == [round(expected, 6)]
    month = lmp_table(
        pd.date_range(utc("2024-03-01T05:00"), utc("2024-04-01T04:00"), freq="h", inclusive="left")
    )
    assert resampled(month, "PJM", "monthly", block="onpeak")["coverage"].tolist() == [1.0]


@pytest.mark.parametrize(("day", "night_hours"), [("2024-01-10", 8), ("2024-03-10", 7), ("2024-11-03", 9)])
def test_a_7x8_day_lasts_its_night_hours(day: str, night_hours: int) -> None:
    begin = pd.Timestamp(day, tz=NY)
    starts = pd.date_range(begin, begin + pd.DateOffset(days=1), freq="h", inclusive="left").tz_convert("UTC")
    whole = resampled(lmp_table(starts), "PJM", "daily", block="7x8")
    assert whole["coverage"].tolist() == [1.0]
    assert whole["intervals"].tolist() == [night_hours]
    # Without HE1 (00:00-01:00) and HE24 (23:00-24:00) two night hours are missing.
    missing_ends = lmp_table(starts[1:-1])
    out = resampled(missing_ends, "PJM", "daily", block="7x8")
    assert out["coverage"].tolist() == [(night_hours - 2) / night_hours]
    assert out["intervals"].tolist() == [night_hours - 2]
    # The bucket is still the whole calendar day.
    assert out["interval_start"].tolist() == [begin.tz_convert("UTC")]


def test_without_tz_miso_days_are_eastern_standard_time_and_output_is_utc() -> None:
    # 10 March 2024, when the US moves its clocks: MISO's market day is still 24 hours.
    table = lmp_table(hourly_utc("2024-03-10T05:00", "2024-03-11T05:00"), iso="MISO")
    out = present(table, LMP, "MISO", tz=None, resample="daily", block=None)
    assert out.schema.field("interval_start").type == pa.timestamp("us", "UTC")
    assert utc_of(out.column("interval_start")).tolist() == [utc("2024-03-10T05:00")]
    assert utc_of(out.column("interval_end")).tolist() == [utc("2024-03-11T05:00")]
    assert out.column("coverage").to_pylist() == [1.0]
    assert out.column("intervals").to_pylist() == [24]
    # On Chicago's calendar the same hours end 9 March and fill the 23-hour 10 March.
    chicago = resampled(table, "MISO", "daily", tz="America/Chicago")
    assert chicago["intervals"].tolist() == [1, 23]
    assert chicago["coverage"].tolist() == [1 / 24, 1.0]


# ---------------------------------------------------------------- nulls, overlaps, bad input


def test_a_null_value_drops_out_of_its_columns_mean_but_not_out_of_coverage() -> None:
    table = lmp_intervals(
        [
            ("2024-01-15T00:00", "2024-01-15T00:40", 10.0),
            ("2024-01-15T00:40", "2024-01-15T00:50", 20.0),
            ("2024-01-15T00:50", "2024-01-15T01:00", 50.0),
        ],
        iso="PJM",
    )
    for name, values in (("congestion", [None, 2.0, 4.0]), ("loss", [None, None, None])):
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(values, pa.float64()))
    out = resampled(table, "PJM", "hourly")
    # lmp: (40 x 10 + 10 x 20 + 10 x 50) / 60; congestion: (10 x 2 + 10 x 4) / 20.
    assert out["lmp"].tolist() == [18.333333]
    assert out["congestion"].tolist() == [3.0]
    assert out["loss"].isna().tolist() == [True]
    assert out["coverage"].tolist() == [1.0]
    assert out["intervals"].tolist() == [3]


def test_overlapping_intervals_leave_coverage_null() -> None:
    table = lmp_intervals(
        [
            ("2024-01-15T00:00", "2024-01-15T00:40", 10.0),
            ("2024-01-15T00:30", "2024-01-15T01:00", 40.0),
            ("2024-01-15T01:00", "2024-01-15T02:00", 5.0),
        ],
        iso="PJM",
    )
    out = present(table, LMP, "PJM", tz="UTC", resample="hourly", block=None)
    # Both overlapping intervals still weigh: (40 x 10 + 30 x 40) / 70.
    assert out.column("lmp").to_pylist() == [22.857143, 5.0]
    assert out.column("coverage").to_pylist() == [None, 1.0]
    assert out.column("intervals").to_pylist() == [2, 1]
    reversed_rows = table.take(pa.array([2, 1, 0]))
    assert present(reversed_rows, LMP, "PJM", tz="UTC", resample="hourly", block=None).equals(out)


def test_rows_out_of_time_order_are_no_overlap() -> None:
    rows = [
        ("2024-01-15T00:00", "2024-01-15T00:50", 10.0),
        ("2024-01-15T00:50", "2024-01-15T01:10", 70.0),
        ("2024-01-15T01:10", "2024-01-15T02:00", 40.0),
    ]
    forward = present(lmp_intervals(rows), LMP, "NYISO", tz=None, resample="daily", block=None)
    backward = present(lmp_intervals(rows[::-1]), LMP, "NYISO", tz=None, resample="daily", block=None)
    assert backward.equals(forward)
    assert forward.column("coverage").null_count == 0


def test_resampled_columns_are_appended_in_order() -> None:
    out = present(
        lmp_table(hourly_utc("2024-01-02", "2024-01-03")), LMP, "PJM", tz=None, resample="daily", block=None
    )
    assert out.column_names[-2:] == ["coverage", "intervals"]
    assert out.schema.field("coverage").type == pa.float64()
    assert out.schema.field("intervals").type == pa.int64()
    empty = present(LMP.schema.empty_table(), LMP, "PJM", tz=None, resample="daily", block=None)
    assert empty.column_names == out.column_names and empty.num_rows == 0
    assert empty.schema.field("intervals").type == pa.int64()


def test_bad_interval_ends_are_rejected_when_resampling() -> None:
    table = lmp_table(hourly_utc("2024-01-02", "2024-01-03"))
    ends = table.column("interval_end").to_pylist()
    with_null = table.set_column(5, "interval_end", pa.array([None, *ends[1:]], pa.timestamp("us", "UTC")))
    with pytest.raises(ValueError, match="interval_end has 1 null"):
        present(with_null, LMP, "PJM", tz=None, resample="daily", block=None)
    starts = table.column("interval_start")
    backwards = table.set_column(5, "interval_end", starts)
    with pytest.raises(ValueError, match="interval_end is not after interval_start in 24 row"):
        present(backwards, LMP, "PJM", tz=None, resample="hourly", block=None)


# ---------------------------------------------------------------- against minutes in pandas


def minute_reference(table: pa.Table, iso: str, tz: str | None, resample: str, block: str) -> pd.DataFrame:
    """Every interval cut into its minutes; a bucket's mean is the plain mean of its minutes."""
    frame = table.to_pandas()
    minutes = ((frame["interval_end"] - frame["interval_start"]) // pd.Timedelta(minutes=1)).to_numpy()
    row = np.repeat(np.arange(len(frame)), minutes)
    nth = np.arange(len(row)) - np.repeat(np.cumsum(minutes) - minutes, minutes)
    naive = frame["interval_start"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    at = pd.Series(naive[row] + nth * np.timedelta64(1, "m")).dt.tz_localize("UTC")
    expanded = pd.DataFrame(
        {
            "location": frame["location"].to_numpy()[row],
            "row": row,
            "at": at,
            "lmp": frame["lmp"].to_numpy()[row],
        }
    )
    expanded = expanded[pandas_in_block(expanded["at"], iso, block)]
    zone = tz or MARKET_ZONES[iso]
    local = expanded["at"].dt.tz_convert(zone)
    if resample == "hourly":
        start = expanded["at"] - pd.to_timedelta(local.dt.minute, unit="m")
        end = start + pd.Timedelta(hours=1)
    elif resample == "daily":
        start = local.dt.normalize()
        end = (start + pd.DateOffset(days=1)).dt.tz_convert("UTC")
        start = start.dt.tz_convert("UTC")
    else:
        month = local.dt.tz_localize(None).dt.to_period("M")
        start = month.dt.start_time.dt.tz_localize(zone).dt.tz_convert("UTC")
        end = (month + 1).dt.start_time.dt.tz_localize(zone).dt.tz_convert("UTC")
    expanded = expanded.assign(start=start.to_numpy(), end=end.to_numpy())
    grouped = expanded.groupby(["location", "start"])
    out = grouped["lmp"].agg(["mean", "size"])
    out["intervals"] = grouped["row"].nunique()
    out["end"] = grouped["end"].first()
    out = out.reset_index()
    if out.empty:
        return out.assign(coverage=1.0)
    every = pd.date_range(out["start"].min(), out["end"].max(), freq="min", inclusive="left")
    counted = np.concatenate([[0], np.cumsum(pandas_in_block(pd.Series(every), iso, block))])
    block_minutes = counted[every.searchsorted(out["end"])] - counted[every.searchsorted(out["start"])]
    return out.assign(coverage=out["size"] / block_minutes)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    iso=st.sampled_from(sorted(MARKET_ZONES)),
    tz=st.sampled_from([None, "UTC", "America/Los_Angeles", "America/St_Johns", "Etc/GMT+5"]),
    resample=st.sampled_from(["hourly", "daily", "monthly"]),
    block=st.sampled_from(["atc", "onpeak", "offpeak", "2x16", "7x8"]),
    anchor=st.sampled_from(["2024-03-09T00:00", "2024-11-02T00:00", "2024-06-28T18:00", "2024-12-30T00:00"]),
    offset_minutes=st.integers(0, 36 * 60),
    intervals=st.lists(
        st.tuples(st.integers(1, 150), st.floats(-100, 1000, allow_nan=False), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    locations=st.integers(1, 2),
)
def test_matches_a_minute_by_minute_reference(
    iso: str,
    tz: str | None,
    resample: str,
    block: str,
    anchor: str,
    offset_minutes: int,
    intervals: list[tuple[int, float, bool]],
    locations: int,
) -> None:
    """Irregular intervals of 1 to 150 minutes with gaps, around DST changes and year ends."""
    begin = utc(anchor) + pd.Timedelta(minutes=offset_minutes)
    minutes = np.array([m for m, _, _ in intervals])
    starts = begin + pd.to_timedelta(np.concatenate([[0], np.cumsum(minutes)[:-1]]), unit="m")
    kept = [keep for _, _, keep in intervals]
    tables = []
    for n in range(locations):
        rows = [
            (str(s), str(s + pd.Timedelta(minutes=int(m))), price + 7 * n)
            for s, m, (_, price, keep) in zip(starts, minutes, intervals, strict=True)
            if keep or not any(kept)
        ]
        tables.append(lmp_intervals(rows, iso=iso, market="RT5", location=f"N{n}"))
    table = pa.concat_tables(tables)
    out = resampled(table, iso, resample, tz=tz, block=block)
    expected = minute_reference(table, iso, tz, resample, block)
    assert out["location"].tolist() == expected["location"].tolist()
    assert out["interval_start"].tolist() == expected["start"].tolist()
    assert out["interval_end"].tolist() == expected["end"].tolist()
    np.testing.assert_allclose(out["lmp"].to_numpy(), expected["mean"].to_numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(out["coverage"].to_numpy(), expected["coverage"].to_numpy(), rtol=1e-12)
    assert out["intervals"].tolist() == expected["intervals"].tolist()
