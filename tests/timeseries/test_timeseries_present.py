from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from timeseries_tables import MARKET_ZONES, hourly_utc, lmp_table, local_of, pandas_in_block, utc_of

from carbon254.schema import SPECS, Dataset
from carbon254.store.base import Block, Resample
from carbon254.timeseries import present

LMP = SPECS[Dataset.LMP]
ZONES = MARKET_ZONES
TS_COLUMNS = ("interval_start", "interval_end", "published_at", "ingested_at")


def assert_means(actual: np.ndarray, expected: np.ndarray) -> None:
    """Bucket means equal the reference to the six decimals `present` rounds them to."""
    np.testing.assert_allclose(actual, expected, rtol=0, atol=5e-7)


def local_day(day: str, zone: str) -> pd.DatetimeIndex:
    """UTC hour starts of one calendar day on `zone`'s clock (23, 24 or 25 of them)."""
    begin = pd.Timestamp(day, tz=zone).tz_convert("UTC")
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(zone).tz_convert("UTC")
    return pd.date_range(begin, end, freq="1h", inclusive="left")


def span(first_day: str, last_day: str, zone: str, freq: str = "1h") -> pd.DatetimeIndex:
    """UTC interval starts from local midnight of first_day to local midnight after last_day."""
    begin = pd.Timestamp(first_day, tz=zone).tz_convert("UTC")
    end = (pd.Timestamp(last_day) + pd.Timedelta(days=1)).tz_localize(zone).tz_convert("UTC")
    return pd.date_range(begin, end, freq=freq, inclusive="left")


# ---------------------------------------------------------------- no resampling


def test_nothing_asked_returns_the_input() -> None:
    table = lmp_table(hourly_utc("2024-01-01", "2024-01-03"), ["A", "B"])
    assert present(table, LMP, "PJM", tz=None, resample=None, block=None).equals(table)
    assert present(table, LMP, "PJM", tz=None, resample=None, block=Block.ATC).equals(table)


def test_tz_relabels_every_timestamp_without_moving_instants() -> None:
    table = lmp_table(hourly_utc("2024-01-01", "2024-01-02"))
    out = present(table, LMP, "PJM", tz="America/Chicago", resample=None, block=None)
    assert out.column_names == table.column_names
    for name in TS_COLUMNS:
        assert out.schema.field(name).type == pa.timestamp("us", "America/Chicago")
        pd.testing.assert_series_equal(utc_of(out.column(name)), utc_of(table.column(name)))
    for name in ("location", "lmp", "location_type"):
        assert out.column(name).equals(table.column(name))
    assert local_of(out.column("interval_start"), "America/Chicago")[0] == pd.Timestamp(
        "2023-12-31T18:00", tz="America/Chicago"
    )


def test_tz_iso_is_the_market_zone() -> None:
    table = lmp_table(hourly_utc("2024-01-01", "2024-01-02"), iso="MISO")
    out = present(table, LMP, "MISO", tz="iso", resample=None, block=None)
    assert out.schema.field("interval_start").type == pa.timestamp("us", "Etc/GMT+5")


@pytest.mark.parametrize(("iso", "zone"), [("PJM", "America/New_York"), ("ERCOT", "America/Chicago")])
def test_fall_back_day_in_local_time_has_25_hours_with_01_00_twice(iso: str, zone: str) -> None:
    starts = local_day("2024-11-03", zone)
    out = present(lmp_table(starts, iso=iso), LMP, iso, tz="iso", resample=None, block=None)
    assert out.num_rows == 25
    local = local_of(out.column("interval_start"), zone)
    assert list(local.dt.hour) == [0, 1, 1, *range(2, 24)]
    repeated = utc_of(out.column("interval_start"))[local.dt.hour == 1]
    assert repeated.nunique() == 2
    assert (repeated.iloc[1] - repeated.iloc[0]) == pd.Timedelta(hours=1)
    # The wall clock shows the offset change: EDT then EST (CDT then CST).
    offsets = local[local.dt.hour == 1].map(lambda t: t.utcoffset())
    assert offsets.iloc[0] - offsets.iloc[1] == pd.Timedelta(hours=1)
    seven_by_eight = present(lmp_table(starts, iso=iso), LMP, iso, tz="iso", resample=None, block="7x8")
    assert seven_by_eight.num_rows == 9


@pytest.mark.parametrize(("iso", "zone"), [("NYISO", "America/New_York"), ("ERCOT", "America/Chicago")])
def test_spring_forward_day_in_local_time_has_23_hours(iso: str, zone: str) -> None:
    starts = local_day("2024-03-10", zone)
    out = present(lmp_table(starts, iso=iso), LMP, iso, tz=zone, resample=None, block=None)
    assert out.num_rows == 23
    assert list(local_of(out.column("interval_start"), zone).dt.hour) == [0, 1, *range(3, 24)]
    assert present(lmp_table(starts, iso=iso), LMP, iso, tz=None, resample=None, block="7x8").num_rows == 7


def test_block_filter_keeps_matching_rows_in_order() -> None:
    starts = hourly_utc("2024-06-30T04:00", "2024-07-08T04:00")  # includes July 4th
    table = lmp_table(starts, ["A", "B"])
    local = pd.Series(starts.tz_convert("America/New_York"))
    hour_ending = local.dt.hour + 1
    holiday = local.dt.date == date(2024, 7, 4)
    onpeak = (hour_ending.between(7, 22) & (local.dt.day_of_week < 5) & ~holiday).to_numpy()
    out = present(table, LMP, "PJM", tz=None, resample=None, block="onpeak")
    expected = table.filter(pa.array(np.concatenate([onpeak, onpeak])))
    assert out.equals(expected)
    assert out.num_rows == 2 * 16 * 4  # Mon 1, Tue 2, Wed 3, Fri 5
    offpeak = present(table, LMP, "PJM", tz=None, resample=None, block="offpeak")
    assert offpeak.num_rows + out.num_rows == table.num_rows


# ---------------------------------------------------------------- resampling


def pandas_daily(table: pa.Table, zone: str, value: str = "lmp") -> pd.DataFrame:
    frame = table.to_pandas()
    frame["day"] = frame["interval_start"].dt.tz_convert(zone).dt.date
    return frame.groupby(["location", "day"], sort=True)[value].agg(["mean", "size"]).reset_index()


@pytest.mark.parametrize(("iso", "zone"), [("PJM", "America/New_York"), ("ERCOT", "America/Chicago")])
def test_daily_resample_has_one_bucket_per_market_day_with_23_and_25_hour_days(iso: str, zone: str) -> None:
    starts = span("2024-03-09", "2024-03-11", zone).append(span("2024-11-02", "2024-11-04", zone))
    table = lmp_table(starts, ["A", "B"], iso=iso, lmp=lambda i, base: (base * 1.7) % 13 + i)
    out = present(table, LMP, iso, tz=None, resample="daily", block=None)
    expected = pandas_daily(table, zone)
    assert out.num_rows == len(expected) == 12
    assert sorted(expected["size"].unique()) == [23, 24, 25]
    assert out.column("location").to_pylist() == expected["location"].tolist()
    assert_means(out.column("lmp").to_numpy(), expected["mean"].to_numpy())
    begin = utc_of(out.column("interval_start"))
    end = utc_of(out.column("interval_end"))
    for b, e, day in zip(begin, end, expected["day"], strict=True):
        assert b == pd.Timestamp(day, tz=zone)
        assert e == pd.Timestamp(day, tz=zone) + pd.DateOffset(days=1)
    hours = ((end - begin) / pd.Timedelta(hours=1)).tolist()
    assert hours == expected["size"].tolist()
    # Output stays in UTC when tz is None.
    assert out.schema.field("interval_start").type == pa.timestamp("us", "UTC")


def test_ercot_winter_day_is_06z_to_06z_and_utc_output_buckets_at_midnight() -> None:
    table = lmp_table(hourly_utc("2024-01-10T06:00", "2024-01-12T06:00"), iso="ERCOT")
    market = present(table, LMP, "ERCOT", tz=None, resample="daily", block=None)
    assert utc_of(market.column("interval_start")).tolist() == [
        pd.Timestamp("2024-01-10T06:00Z"),
        pd.Timestamp("2024-01-11T06:00Z"),
    ]
    assert utc_of(market.column("interval_end")).iloc[-1] == pd.Timestamp("2024-01-12T06:00Z")
    assert market.column("lmp").to_pylist() == [11.5, 35.5]
    in_utc = present(table, LMP, "ERCOT", tz="UTC", resample="daily", block=None)
    assert utc_of(in_utc.column("interval_start")).tolist() == [
        pd.Timestamp(f"2024-01-{d}T00:00Z") for d in (10, 11, 12)
    ]
    assert in_utc.column("lmp").to_pylist() == [8.5, 29.5, 44.5]  # 18 + 24 + 6 hours


def test_miso_daily_buckets_ignore_dst() -> None:
    starts = hourly_utc("2024-03-09T05:00", "2024-03-12T05:00").append(
        hourly_utc("2024-11-02T05:00", "2024-11-05T05:00")
    )
    out = present(lmp_table(starts, iso="MISO"), LMP, "MISO", tz="iso", resample="daily", block=None)
    begin = utc_of(out.column("interval_start"))
    end = utc_of(out.column("interval_end"))
    assert out.num_rows == 6
    assert (begin.dt.hour == 5).all() and ((end - begin) == pd.Timedelta(hours=24)).all()
    assert out.schema.field("interval_start").type == pa.timestamp("us", "Etc/GMT+5")


def test_daily_resample_in_output_zone_uses_that_zones_calendar() -> None:
    starts = span("2024-11-02", "2024-11-04", "America/New_York")
    table = lmp_table(starts)
    out = present(table, LMP, "PJM", tz="America/Los_Angeles", resample="daily", block=None)
    expected = pandas_daily(table, "America/Los_Angeles")
    assert_means(out.column("lmp").to_numpy(), expected["mean"].to_numpy())
    local = local_of(out.column("interval_start"), "America/Los_Angeles")
    assert (local.dt.hour == 0).all()
    assert [d.date() for d in local] == expected["day"].tolist()


@pytest.mark.parametrize(("iso", "zone"), [("PJM", "America/New_York"), ("ERCOT", "America/Chicago")])
def test_monthly_buckets(iso: str, zone: str) -> None:
    starts = span("2024-01-01", "2024-04-30", zone)
    table = lmp_table(starts, ["HUB", "NODE"], iso=iso, lmp=lambda i, base: np.sqrt(base) + i)
    out = present(table, LMP, iso, tz=None, resample=Resample.MONTHLY, block=None)
    frame = table.to_pandas()
    frame["month"] = frame["interval_start"].dt.tz_convert(zone).dt.tz_localize(None).dt.to_period("M")
    expected = frame.groupby(["location", "month"])["lmp"].mean().reset_index()
    assert out.num_rows == 8
    assert_means(out.column("lmp").to_numpy(), expected["lmp"].to_numpy())
    begin = utc_of(out.column("interval_start"))
    end = utc_of(out.column("interval_end"))
    for b, e, month in zip(begin, end, expected["month"], strict=True):
        assert b == month.start_time.tz_localize(zone)
        assert e == (month + 1).start_time.tz_localize(zone)
    # March loses an hour to DST: 31 x 24 - 1 hours.
    march = (begin.dt.month == 3) & (out.column("location").to_pandas() == "HUB")
    assert (end - begin)[march].iloc[0] == pd.Timedelta(hours=31 * 24 - 1)


def test_days_of_a_zone_that_changes_clocks_at_midnight() -> None:
    # Havana springs forward at 00:00 (the day starts at 01:00 CDT) and falls
    # back at 01:00 CDT to 00:00 CST (midnight happens twice; the day starts at
    # the first).
    zone = "America/Havana"
    starts = hourly_utc("2024-03-09T05:00", "2024-03-12T04:00").append(
        hourly_utc("2024-11-02T04:00", "2024-11-05T05:00")
    )
    out = present(lmp_table(starts), LMP, "PJM", tz=zone, resample="daily", block=None)
    begin = utc_of(out.column("interval_start"))
    end = utc_of(out.column("interval_end"))
    assert begin.tolist() == [
        pd.Timestamp("2024-03-09T05:00Z"),
        pd.Timestamp("2024-03-10T05:00Z"),
        pd.Timestamp("2024-03-11T04:00Z"),
        pd.Timestamp("2024-11-02T04:00Z"),
        pd.Timestamp("2024-11-03T04:00Z"),
        pd.Timestamp("2024-11-04T05:00Z"),
    ]
    hours = ((end - begin) / pd.Timedelta(hours=1)).tolist()
    assert hours == [24, 23, 24, 24, 25, 24]
    expected = pandas_daily(lmp_table(starts), zone)
    assert_means(out.column("lmp").to_numpy(), expected["mean"].to_numpy())


def test_monthly_buckets_in_an_output_zone() -> None:
    starts = hourly_utc("2024-01-01", "2024-04-01")
    out = present(lmp_table(starts), LMP, "PJM", tz="America/Los_Angeles", resample="monthly", block=None)
    begin = utc_of(out.column("interval_start")).tolist()
    assert begin == [
        pd.Timestamp("2023-12-01T08:00Z"),
        pd.Timestamp("2024-01-01T08:00Z"),
        pd.Timestamp("2024-02-01T08:00Z"),
        pd.Timestamp("2024-03-01T08:00Z"),
    ]
    assert utc_of(out.column("interval_end")).iloc[-1] == pd.Timestamp("2024-04-01T07:00Z")


def test_hourly_resample_of_five_minute_prices_across_fall_back() -> None:
    zone = "America/New_York"
    starts = local_day("2024-11-03", zone)
    five_min = pd.date_range(starts[0], starts[-1] + pd.Timedelta(hours=1), freq="5min", inclusive="left")
    table = lmp_table(five_min, market="RT5")
    out = present(table, LMP, "PJM", tz="iso", resample="hourly", block=None)
    assert out.num_rows == 25
    local = local_of(out.column("interval_start"), zone)
    assert list(local.dt.hour) == [0, 1, 1, *range(2, 24)]
    assert utc_of(out.column("interval_start")).tolist() == list(starts)
    assert (
        (utc_of(out.column("interval_end")) - utc_of(out.column("interval_start"))) == pd.Timedelta("1h")
    ).all()
    assert_means(out.column("lmp").to_numpy(), np.arange(25) * 12 + 5.5)


def test_hourly_buckets_follow_a_half_hour_zone() -> None:
    table = lmp_table(hourly_utc("2024-06-01T00:00", "2024-06-01T06:00", freq="30min"))
    out = present(table, LMP, "PJM", tz="America/St_Johns", resample="hourly", block=None)
    begin = utc_of(out.column("interval_start"))
    assert (begin.dt.minute == 30).all()  # NDT is UTC-2:30
    assert local_of(out.column("interval_start"), "America/St_Johns").dt.minute.eq(0).all()
    assert out.column("lmp").to_pylist() == [0.0, 1.5, 3.5, 5.5, 7.5, 9.5, 11.0]


def test_block_then_daily_resample_averages_only_block_hours() -> None:
    zone = "America/New_York"
    starts = span("2024-11-01", "2024-11-30", zone)
    table = lmp_table(starts, ["A", "B"], lmp=lambda i, base: np.cos(base) * 10 + i)
    out = present(table, LMP, "PJM", tz="iso", resample="daily", block="onpeak")
    frame = table.to_pandas()
    local = frame["interval_start"].dt.tz_convert(zone)
    onpeak = (
        (local.dt.hour + 1).between(7, 22)
        & (local.dt.day_of_week < 5)
        & (local.dt.date != date(2024, 11, 28))
    )
    frame = frame[onpeak.to_numpy()].assign(day=local[onpeak].dt.date)
    expected = frame.groupby(["location", "day"])["lmp"].agg(["mean", "size"]).reset_index()
    assert (expected["size"] == 16).all()
    assert out.num_rows == len(expected) == 2 * 20  # 21 weekdays minus Thanksgiving
    assert_means(out.column("lmp").to_numpy(), expected["mean"].to_numpy())
    assert [t.date() for t in local_of(out.column("interval_start"), zone)] == expected["day"].tolist()
    assert out.schema.field("interval_end").type == pa.timestamp("us", zone)


def test_resample_columns_nulls_and_first_values() -> None:
    starts = hourly_utc("2024-01-02T05:00", "2024-01-04T05:00")
    table = lmp_table(starts)
    congestion = [None if i < 24 else float(i) for i in range(48)]  # day one all null
    loss = [None if i % 2 else 1.0 for i in range(48)]
    location_type = ["hub"] * 3 + ["zone"] * 45
    table = table.set_column(table.schema.get_field_index("congestion"), "congestion", pa.array(congestion))
    table = table.set_column(table.schema.get_field_index("loss"), "loss", pa.array(loss))
    table = table.set_column(
        table.schema.get_field_index("location_type"), "location_type", pa.array(location_type)
    )
    out = present(table, LMP, "PJM", tz=None, resample="daily", block=None)
    assert out.column_names == [
        *(c for c in table.column_names if c not in ("published_at", "ingested_at")),
        "coverage",
        "intervals",
    ]
    assert out.column("congestion").to_pylist() == [None, float(np.mean(range(24, 48)))]
    assert out.column("loss").to_pylist() == [1.0, 1.0]
    assert out.column("location_type").to_pylist() == ["hub", "zone"]
    assert out.schema.field("lmp").type == pa.float64()
    kept = present(table, LMP, "PJM", tz=None, resample=None, block="onpeak")
    assert "published_at" in kept.column_names and "ingested_at" in kept.column_names


def test_unsorted_locations_come_out_sorted() -> None:
    starts = hourly_utc("2024-01-02T05:00", "2024-01-04T05:00")
    table = pa.concat_tables(
        [lmp_table(starts, ["ZED"]), lmp_table(starts, ["ALPHA"], lmp=lambda i, b: b + 500)]
    )
    kinds = [f"kind{i}" for i in range(table.num_rows)]
    table = table.set_column(3, "location_type", pa.array(kinds))
    out = present(table, LMP, "PJM", tz=None, resample="daily", block=None)
    assert out.column("location").to_pylist() == ["ALPHA", "ALPHA", "ZED", "ZED"]
    assert out.column("lmp").to_pylist() == [511.5, 535.5, 11.5, 35.5]
    # The first value is the earliest row of each bucket.
    assert out.column("location_type").to_pylist() == ["kind48", "kind72", "kind0", "kind24"]


def test_as_price_groups_by_region_and_product() -> None:
    spec = SPECS[Dataset.AS_PRICE]
    starts = hourly_utc("2024-01-02T06:00", "2024-01-04T06:00")
    frame = pd.DataFrame(
        [
            {
                "iso": "ERCOT",
                "market": "DAM",
                "region": region,
                "product": product,
                "interval_start": t,
                "interval_end": t + pd.Timedelta(hours=1),
                "price": float(i * 10 + j + k),
            }
            for i, region in enumerate(["NORTH", "SOUTH"])
            for k, t in enumerate(starts)
            for j, product in enumerate(["RRS", "REGUP", "NSPIN"])  # interleaved within each hour
        ]
    )
    table = pa.Table.from_pandas(frame, preserve_index=False).cast(
        pa.schema([spec.schema.field(c) for c in frame.columns])
    )
    out = present(table, spec, "ERCOT", tz="iso", resample="daily", block=None)
    frame["day"] = frame["interval_start"].dt.tz_convert("America/Chicago").dt.date
    expected = frame.groupby(["region", "day", "product"])["price"].mean().reset_index()
    assert out.num_rows == 12
    assert out.column("region").to_pylist() == expected["region"].tolist()
    assert out.column("product").to_pylist() == expected["product"].tolist()
    assert_means(out.column("price").to_numpy(), expected["price"].to_numpy())


def test_capacity_price_uses_delivery_columns() -> None:
    spec = SPECS[Dataset.CAPACITY_PRICE]
    starts = pd.DatetimeIndex(
        [
            pd.Timestamp("2024-06-01T04:00Z"),
            pd.Timestamp("2024-06-02T04:00Z"),
            pd.Timestamp("2024-07-01T04:00Z"),
        ]
    )
    table = pa.table(
        {
            "iso": ["PJM"] * 3,
            "auction": ["BRA"] * 3,
            "zone": ["RTO"] * 3,
            "delivery_start": pa.array(starts.as_unit("us"), pa.timestamp("us", "UTC")),
            "delivery_end": pa.array(
                (starts + pd.Timedelta(days=1)).as_unit("us"), pa.timestamp("us", "UTC")
            ),
            "price": [28.92, 30.0, 269.92],
        }
    )
    out = present(table, spec, "PJM", tz=None, resample="monthly", block=None)
    assert out.column("price").to_pylist() == pytest.approx([29.46, 269.92])
    # Two delivery days of June's 30, one of July's 31.
    assert out.column("coverage").to_pylist() == [2 / 30, 1 / 31]
    assert out.column("intervals").to_pylist() == [2, 1]
    assert utc_of(out.column("delivery_start")).tolist() == [
        pd.Timestamp("2024-06-01T04:00Z"),
        pd.Timestamp("2024-07-01T04:00Z"),
    ]
    assert utc_of(out.column("delivery_end")).tolist() == [
        pd.Timestamp("2024-07-01T04:00Z"),
        pd.Timestamp("2024-08-01T04:00Z"),
    ]


def test_load_forecast_vintages_stay_apart_and_are_relabelled() -> None:
    spec = SPECS[Dataset.LOAD]
    starts = hourly_utc("2024-01-02T06:00", "2024-01-03T06:00")
    vintages = [None, pd.Timestamp("2024-01-01T15:00Z"), pd.Timestamp("2024-01-01T21:00Z")]
    frame = pd.DataFrame(
        [
            {
                "iso": "ERCOT",
                "zone": "NORTH",
                "kind": "actual" if v is None else "forecast",
                "interval_start": t,
                "interval_end": t + pd.Timedelta(hours=1),
                "mw": 1000.0 * (n + 1) + k,
                "forecast_issued_at": v,
            }
            for n, v in enumerate(vintages)
            for k, t in enumerate(starts)
        ]
    )
    table = pa.Table.from_pandas(frame, preserve_index=False).cast(
        pa.schema([spec.schema.field(c) for c in frame.columns])
    )
    out = present(table, spec, "ERCOT", tz="iso", resample="daily", block=None)
    assert out.num_rows == 3
    assert sorted(out.column("mw").to_pylist()) == [1011.5, 2011.5, 3011.5]
    assert out.schema.field("forecast_issued_at").type == pa.timestamp("us", "America/Chicago")
    assert sorted(out.column("forecast_issued_at").drop_null().to_pylist()) == [
        v.to_pydatetime() for v in vintages[1:]
    ]


def test_empty_and_fully_filtered_tables() -> None:
    empty = LMP.schema.empty_table()
    out = present(empty, LMP, "PJM", tz="iso", resample="daily", block="onpeak")
    assert out.num_rows == 0
    assert "published_at" not in out.column_names
    saturday = lmp_table(hourly_utc("2024-01-06T05:00", "2024-01-07T05:00"))
    none = present(saturday, LMP, "PJM", tz=None, resample="hourly", block="onpeak")
    assert none.num_rows == 0 and none.column_names[:3] == ["iso", "market", "location"]


def test_bad_options_are_rejected() -> None:
    table = lmp_table(hourly_utc("2024-01-01", "2024-01-02"))
    with pytest.raises(ValueError, match="Mars/Olympus"):
        present(table, LMP, "PJM", tz="Mars/Olympus", resample=None, block=None)
    with pytest.raises(ValueError):
        present(table, LMP, "PJM", tz=None, resample="weekly", block=None)
    with pytest.raises(ValueError):
        present(table, LMP, "PJM", tz=None, resample=None, block="5x8")
    naive = table.set_column(4, "interval_start", table.column("interval_start").cast(pa.timestamp("us")))
    with pytest.raises(ValueError, match="time zone"):
        present(naive, LMP, "PJM", tz=None, resample="daily", block=None)


def test_a_null_start_is_rejected_with_its_name() -> None:
    table = lmp_table(hourly_utc("2024-01-02", "2024-01-03"))
    starts = table.column("interval_start").to_pylist()
    # Chunked, as the store hands columns over.
    with_null = table.set_column(
        4, "interval_start", pa.chunked_array([pa.array([None, *starts[1:]], pa.timestamp("us", "UTC"))])
    )
    with pytest.raises(ValueError, match="interval_start has 1 null"):
        present(with_null, LMP, "PJM", tz=None, resample="daily", block=None)
    with pytest.raises(ValueError, match="interval_start has 1 null"):
        present(with_null, LMP, "PJM", tz=None, resample=None, block="onpeak")


# ---------------------------------------------------------------- against a pandas reference


def pandas_present(table: pa.Table, iso: str, tz: str | None, resample: str, block: str) -> pd.DataFrame:
    """Block filter then bucket means, sizes and coverage, done row by row in pandas."""
    frame = table.to_pandas()
    frame = frame[pandas_in_block(frame["interval_start"], iso, block)]
    step = frame["interval_end"] - frame["interval_start"]
    zone = tz or ZONES[iso]
    local = frame["interval_start"].dt.tz_convert(zone)
    if resample == "hourly":
        bucket = frame["interval_start"].dt.floor("h")  # whole-hour zones only
        end = bucket + pd.Timedelta(hours=1)
    elif resample == "daily":
        bucket = local.dt.normalize()
        end = (bucket + pd.DateOffset(days=1)).dt.tz_convert("UTC")
        bucket = bucket.dt.tz_convert("UTC")
    else:
        month = local.dt.tz_localize(None).dt.to_period("M")
        bucket = month.dt.start_time.dt.tz_localize(zone).dt.tz_convert("UTC")
        end = (month + 1).dt.start_time.dt.tz_localize(zone).dt.tz_convert("UTC")
    frame = frame.assign(bucket=bucket.to_numpy(), end=end.to_numpy(), hours=step / pd.Timedelta(hours=1))
    grouped = frame.groupby(["location", "bucket"])
    out = grouped[["lmp", "energy"]].mean()
    out["intervals"] = grouped.size()
    out["covered"] = grouped["hours"].sum()
    out["end"] = grouped["end"].first()
    out = out.reset_index()
    if out.empty:
        return out.assign(coverage=1.0)
    # A bucket lasts its block hours: every hour from its start to its end, classified on its own.
    hours = pd.date_range(out["bucket"].min(), out["end"].max(), freq="h", inclusive="left")
    counted = np.concatenate([[0], np.cumsum(pandas_in_block(pd.Series(hours), iso, block))])
    block_hours = counted[hours.searchsorted(out["end"])] - counted[hours.searchsorted(out["bucket"])]
    return out.assign(coverage=out["covered"] / block_hours)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    iso=st.sampled_from(sorted(ZONES)),
    tz=st.sampled_from([None, "UTC", "America/Los_Angeles", "America/Chicago", "Etc/GMT+5"]),
    resample=st.sampled_from([r.value for r in Resample]),
    block=st.sampled_from([b.value for b in Block]),
    start_hour=st.integers(0, 24 * 365),
    hours=st.integers(1, 24 * 45),
    five_minute=st.booleans(),
    locations=st.integers(1, 3),
    gaps=st.integers(0, 2**32 - 1),
)
def test_matches_pandas_reference(
    iso: str,
    tz: str | None,
    resample: str,
    block: str,
    start_hour: int,
    hours: int,
    five_minute: bool,
    locations: int,
    gaps: int,
) -> None:
    begin = pd.Timestamp("2024-01-01T00:00Z") + pd.Timedelta(hours=start_hour)
    starts = pd.date_range(
        begin, begin + pd.Timedelta(hours=hours), freq="5min" if five_minute else "1h", inclusive="left"
    )
    names = [f"N{i}" for i in range(locations)]
    table = lmp_table(starts, names, iso=iso, lmp=lambda i, base: np.sin(base / 7.0) * 50 + i * 3)
    # Leave out about a tenth of the intervals (none when gaps is 0) so coverage has something to say.
    table = table.filter(np.random.default_rng(gaps).random(table.num_rows) >= (0.1 if gaps else 0.0))
    out = present(table, LMP, iso, tz=tz, resample=resample, block=block)
    expected = pandas_present(table, iso, tz, resample, block)
    assert out.num_rows == len(expected)
    assert out.column("location").to_pylist() == expected["location"].tolist()
    assert utc_of(out.column("interval_start")).tolist() == list(expected["bucket"])
    assert_means(out.column("lmp").to_numpy(), expected["lmp"].to_numpy())
    assert_means(out.column("energy").to_numpy(), expected["energy"].to_numpy())
    assert out.column("intervals").to_pylist() == expected["intervals"].tolist()
    np.testing.assert_allclose(out.column("coverage").to_numpy(), expected["coverage"].to_numpy(), rtol=1e-12)
    if tz is not None:
        assert out.schema.field("interval_start").type == pa.timestamp("us", tz)
