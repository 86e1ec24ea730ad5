"""NYISO parsers, fetcher and replay site.

Real files (read from ../shared/data/iso/nyiso, never copied): the November 2022
real-time zonal archive (fall-back day 2022-11-06), the spring-forward day
2022-03-13, pyiso's cut-down `lmp.csv` and the CAPITL rows of 2021-11-07
(off-grid stamps inside the repeated fall-back hour). Every other layout (day-ahead,
generator, AS prices, load) is tested on HAND-MADE fixtures in
fixtures/nyiso/ (see its README), built from the documented layouts.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from markets_checks import utc

from carbon254.isos import Iso
from carbon254.isos.nyiso import reports as nyiso
from carbon254.markets.registry import detect_report
from carbon254.markets.report import ParseError
from carbon254.markets.transport import IsoClient, RetryPolicy, TransportConfig
from carbon254.quality import market_days
from carbon254.replay.server import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset, validate
from shared_data import SHARED_DATA

SHARED_ISO = SHARED_DATA / "iso"
REAL = SHARED_ISO / "nyiso"
MONTH_ZIP = REAL / "20221101realtime_zone_csv.zip"
SPRING_CSV = REAL / "20220313realtime_zone.csv"
PYISO_CSV = REAL / "lmp.csv"
FALL_2021_CSV = REAL / "realtime_zone_20211107.csv"  # NYISO's 2021-11-07 file, CAPITL rows only
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nyiso"
FALL, SPRING = date(2022, 11, 6), date(2022, 3, 13)

needs_real = pytest.mark.skipif(not MONTH_ZIP.exists(), reason=f"real NYISO files not present at {REAL}")
needs_fall_2021 = pytest.mark.skipif(
    not FALL_2021_CSV.exists(), reason=f"NYISO's 2021-11-07 real-time file not present at {FALL_2021_CSV}"
)


def frame(table: pa.Table) -> pl.DataFrame:
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)
    return out


def checked(dataset: Dataset, table: pa.Table) -> pl.DataFrame:
    """The table after the store's validation gate (components, bounds, UTC) passed."""
    validate(dataset, table)
    df = frame(table)
    if dataset is Dataset.LMP:
        assert (df["lmp"] - (df["energy"] + df["congestion"] + df["loss"])).abs().max() < 1e-9
    return df


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def local_day(df: pl.DataFrame, column: str = "interval_start") -> pl.Series:
    return df[column].dt.convert_time_zone("America/New_York").dt.date()


# --------------------------------------------------------------------------- real RT zonal files


@needs_real
def test_monthly_archive_has_30_days_and_exact_row_counts() -> None:
    data = MONTH_ZIP.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        lines = {n: zf.read(n).count(b"\n") - 1 for n in names}
    assert len(names) == 30
    df = checked(Dataset.LMP, nyiso.REALTIME_ZONE.parse(data))
    assert df.height == sum(lines.values()) == 132_855
    per_day = local_day(df, "interval_end").value_counts()
    fall = per_day.filter(pl.col("interval_end") == FALL)["count"][0]
    # The day's file holds intervals ending 00:05 .. 24:00; the last one ends on the 7th.
    assert lines["20221106realtime_zone.csv"] == 4_530
    assert (
        df.filter(pl.col("interval_end").dt.convert_time_zone("America/New_York").dt.date() == FALL).height
        == fall
    )
    assert set(df["market"].unique()) == {"RT5"}
    assert set(df.filter(pl.col("location_type") == "interface")["location"].unique()) == {
        "H Q",
        "NPX",
        "O H",
        "PJM",
    }
    assert df.filter(pl.col("location_type") == "zone")["location"].n_unique() == 11


@needs_real
def test_fall_back_day_repeats_0100_to_0155_as_two_utc_hours() -> None:
    with zipfile.ZipFile(MONTH_ZIP) as zf:
        data = zf.read("20221106realtime_zone.csv")
    df = checked(Dataset.LMP, nyiso.REALTIME_ZONE.parse(data))
    assert df.height == 4_530
    capitl = df.filter(pl.col("location") == "CAPITL").sort("interval_end")
    assert capitl.height == 302  # 288 + 12 repeated stamps + 2 irregular RTD intervals
    ends = capitl["interval_end"]
    # 01:00..01:55 EDT is 05:00..05:55 UTC; the second 01:00..01:55 (EST) is 06:00..06:55 UTC.
    assert utc(2022, 11, 6, 5, 55) in ends.to_list() and utc(2022, 11, 6, 6, 55) in ends.to_list()
    assert ends.is_unique().all()
    # Consecutive intervals meet (no gap, no overlap) and cover the day's 25 hours exactly.
    assert (capitl["interval_start"][1:] == capitl["interval_end"][:-1]).all()
    assert (capitl["interval_end"] - capitl["interval_start"]).sum() == timedelta(hours=25)
    first = capitl.row(0, named=True)
    assert (first["interval_start"], first["interval_end"]) == (
        utc(2022, 11, 6, 4, 0),
        utc(2022, 11, 6, 4, 5),
    )
    assert (first["lmp"], first["loss"], first["congestion"]) == (72.36, -0.37, 82.46)
    assert first["energy"] == pytest.approx(72.36 + 0.37 - 82.46)
    assert capitl["interval_end"][-1] == utc(2022, 11, 7, 5, 0)


@needs_real
def test_irregular_rtd_stamps_split_the_regular_interval_without_overlap() -> None:
    with zipfile.ZipFile(MONTH_ZIP) as zf:
        data = zf.read("20221106realtime_zone.csv")
    df = frame(nyiso.REALTIME_ZONE.parse(data)).filter(pl.col("location") == "WEST").sort("interval_end")
    # 20:10, 20:13:42, 20:14:54, 20:15 EST -> 01:10, 01:13:42, 01:14:54, 01:15 UTC on the 7th.
    window = df.filter(pl.col("interval_end").is_between(utc(2022, 11, 7, 1, 10), utc(2022, 11, 7, 1, 15)))
    assert window["interval_end"].to_list() == [
        utc(2022, 11, 7, 1, 10),
        datetime(2022, 11, 7, 1, 13, 42, tzinfo=UTC),
        datetime(2022, 11, 7, 1, 14, 54, tzinfo=UTC),
        utc(2022, 11, 7, 1, 15),
    ]
    # Each stamp ends the interval begun at the previous one: 3:42, 1:12 and 0:06 long.
    assert window["interval_start"].to_list() == [
        utc(2022, 11, 7, 1, 5),
        utc(2022, 11, 7, 1, 10),
        datetime(2022, 11, 7, 1, 13, 42, tzinfo=UTC),
        datetime(2022, 11, 7, 1, 14, 54, tzinfo=UTC),
    ]
    assert df.select("location", "interval_start").is_unique().all()


# Stamps missing from NYISO's November 2022 files (every location alike): those days are short by them.
MISSING_STAMPS = {
    date(2022, 11, 5): timedelta(minutes=5),  # 23:10 EDT
    date(2022, 11, 9): timedelta(minutes=5),  # 13:25 EST
    date(2022, 11, 22): timedelta(minutes=1, seconds=5),  # 07:50 after the off-grid 07:48:55
    date(2022, 11, 24): timedelta(minutes=1, seconds=17),  # 11:55 after 11:53:43
    date(2022, 11, 30): timedelta(minutes=2, seconds=33),  # 13:25 after 13:22:27
}


@needs_real
def test_realtime_intervals_never_overlap_and_tile_each_day_of_the_month() -> None:
    df = checked(Dataset.LMP, nyiso.REALTIME_ZONE.parse(MONTH_ZIP.read_bytes())).sort(
        "location", "interval_start"
    )
    assert df.filter(pl.col("interval_end").dt.second() != 0)["interval_end"].n_unique() == 210
    following = df.select(
        gap=pl.col("interval_start").shift(-1).over("location") - pl.col("interval_end"),
    )["gap"].drop_nulls()
    assert following.min() >= timedelta(0)  # no interval starts before the previous one ends
    days = market_days("NYISO", date(2022, 11, 1), date(2022, 12, 1))
    covered = df.group_by(
        "location", pl.col("interval_start").dt.convert_time_zone(nyiso.TZ).dt.date().alias("day")
    )
    totals = covered.agg((pl.col("interval_end") - pl.col("interval_start")).sum().alias("s"))
    assert totals.height == 15 * 30
    for d in days:
        want = d.end - d.start - MISSING_STAMPS.get(d.day, timedelta(0))
        assert set(totals.filter(pl.col("day") == d.day)["s"].to_list()) == {want}, d.day
        # Where nothing is missing, the union of the day's intervals is exactly the day.
        if d.day not in MISSING_STAMPS:
            day = df.filter(pl.col("interval_start").is_between(d.start, d.end, closed="left"))
            assert (day["interval_start"].min(), day["interval_end"].max()) == (d.start, d.end)


@needs_real
def test_time_weighted_daily_mean_matches_a_hand_computation_on_the_raw_file() -> None:
    with zipfile.ZipFile(MONTH_ZIP) as zf:
        raw = zf.read("20221101realtime_zone.csv").decode()
    # By hand: each price holds from the zone's previous stamp (midnight for the first) to its own;
    # 2022-11-01 is all EDT, so wall-clock differences are elapsed time.
    midnight = datetime(2022, 11, 1)
    previous, weighted = midnight, 0.0
    for row in csv.DictReader(io.StringIO(raw)):
        if row["Name"] == "N.Y.C.":
            stamp = datetime.strptime(row["Time Stamp"], "%m/%d/%Y %H:%M:%S")
            weighted += float(row["LBMP ($/MWHr)"]) * (stamp - previous).total_seconds()
            previous = stamp
    assert previous == midnight + timedelta(days=1)
    by_hand = weighted / 86_400
    nyc = frame(nyiso.REALTIME_ZONE.parse(raw.encode())).filter(pl.col("location") == "N.Y.C.")
    assert nyc.height == 290  # 288 + 14:02:18 + 14:03:48
    seconds = (nyc["interval_end"] - nyc["interval_start"]).dt.total_seconds()
    assert seconds.sum() == 86_400
    assert (nyc["lmp"] * seconds).sum() / seconds.sum() == pytest.approx(by_hand, abs=1e-9)
    # Counting each of the 290 prices as 5 minutes would give another figure.
    assert abs(nyc["lmp"].mean() - by_hand) > 1e-3


def _with_extra_run(text: str, regular: str, extra: str) -> bytes:
    """`text` with a copy of the rows stamped `regular` restamped `extra`, placed before them."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f'"{regular}"'))
    rows = [line.replace(regular, extra) for line in lines if line.startswith(f'"{regular}"')]
    return "\n".join([*lines[:at], *rows, *lines[at:]]).encode()


def test_generator_and_reserve_files_take_the_same_interval_rule() -> None:
    # An extra RTD run at 14:02:18 EST, as NYISO publishes them, added to hand-made files.
    regular, extra = "11/06/2022 14:05:00", "11/06/2022 14:02:18"
    gen = _with_extra_run(fixture("20221106realtime_gen.csv").decode(), regular, extra)
    df = checked(Dataset.LMP, nyiso.REALTIME_GEN.parse(gen))
    niagara = df.filter(pl.col("location") == "NIAGARA_GEN").sort("interval_start")
    at = niagara.filter(pl.col("interval_end").is_between(utc(2022, 11, 6, 19), utc(2022, 11, 6, 19, 5)))
    assert list(zip(at["interval_start"], at["interval_end"], strict=True)) == [
        (utc(2022, 11, 6, 18, 55), utc(2022, 11, 6, 19)),
        (utc(2022, 11, 6, 19), datetime(2022, 11, 6, 19, 2, 18, tzinfo=UTC)),
        (datetime(2022, 11, 6, 19, 2, 18, tzinfo=UTC), utc(2022, 11, 6, 19, 5)),
    ]
    assert (niagara["interval_start"][1:] == niagara["interval_end"][:-1]).all()
    asp = _with_extra_run(fixture("20221106rtasp.csv").decode(), regular, extra)
    prices = checked(Dataset.AS_PRICE, nyiso.RTASP.parse(asp))
    east = prices.filter((pl.col("region") == "EAST") & (pl.col("product") == "REG_CAP")).sort(
        "interval_start"
    )
    assert (east["interval_start"][1:] == east["interval_end"][:-1]).all()
    assert east.height == 301


@needs_fall_2021
def test_off_grid_stamps_after_the_clock_went_back_are_standard_time() -> None:
    # File order: ... 01:55, 01:57:48, then the clock goes back: 01:00, 01:02:48, 01:05, 01:08:12, 01:10 ...
    # 01:02:48 and 01:08:12 appear once, yet come after the clock went back: EST (UTC-5).
    df = checked(Dataset.LMP, nyiso.REALTIME_ZONE.parse(FALL_2021_CSV.read_bytes())).sort("interval_start")
    assert df.height == 307
    ends = df["interval_end"].to_list()
    assert datetime(2021, 11, 7, 5, 57, 48, tzinfo=UTC) in ends  # 01:57:48 EDT
    assert datetime(2021, 11, 7, 6, 2, 48, tzinfo=UTC) in ends  # 01:02:48 EST
    assert datetime(2021, 11, 7, 6, 8, 12, tzinfo=UTC) in ends  # 01:08:12 EST
    assert datetime(2021, 11, 7, 5, 2, 48, tzinfo=UTC) not in ends
    # The day's intervals meet end to start and cover its 25 hours exactly.
    assert (df["interval_start"][1:] == df["interval_end"][:-1]).all()
    assert (df["interval_start"][0], df["interval_end"][-1]) == (utc(2021, 11, 7, 4), utc(2021, 11, 8, 5))


@needs_fall_2021
def test_fall_back_hours_time_weighted_match_nyiso_integrated_prices() -> None:
    df = frame(nyiso.REALTIME_ZONE.parse(FALL_2021_CSV.read_bytes()))
    seconds = (df["interval_end"] - df["interval_start"]).dt.total_seconds()
    hourly = (
        df.with_columns(w=seconds, hour=pl.col("interval_start").dt.truncate("1h"))
        .group_by("hour")
        .agg(((pl.col("lmp") * pl.col("w")).sum() / pl.col("w").sum()).round(2).alias("twa"))
    )
    twa = dict(zip(hourly["hour"].to_list(), hourly["twa"].to_list(), strict=True))
    # By hand, 01:00-02:00 EST: 173.93 for 2:48 + 2:12 + 3:12, 57.38 for 1:48, then ten 5-minute
    # prices summing to 624.61: (173.93 x 492 + 57.38 x 108 + 624.61 x 300) / 3600 = 77.54.
    # NYISO's integrated real-time LBMP for CAPITL is 124.31 (EDT hour) and 77.54 (EST hour).
    assert twa[utc(2021, 11, 7, 5)] == 124.31
    assert twa[utc(2021, 11, 7, 6)] == 77.54


@needs_real
def test_energy_is_the_same_in_every_zone_of_an_interval() -> None:
    df = frame(nyiso.REALTIME_ZONE.parse(MONTH_ZIP.read_bytes()))
    spread = df.group_by("interval_end").agg((pl.col("energy").max() - pl.col("energy").min()).alias("s"))
    # Identical up to the rounding of the three published two-decimal parts.
    assert spread["s"].max() <= 0.02 + 1e-9
    # The sign flip is what makes it so: with NYISO's own sign, zones would differ by 2 x congestion.
    raw = df.with_columns(bad=pl.col("lmp") - pl.col("loss") + pl.col("congestion"))  # LBMP - MCL - MCC
    assert (raw.group_by("interval_end").agg(pl.col("bad").max() - pl.col("bad").min())["bad"].max()) > 100


@needs_real
def test_spring_forward_day_has_23_hours_0155_then_0300() -> None:
    df = checked(Dataset.LMP, nyiso.REALTIME_ZONE.parse(SPRING_CSV.read_bytes()))
    assert df.height == 4_335
    west = df.filter(pl.col("location") == "WEST").sort("interval_end")
    local = west["interval_end"].dt.convert_time_zone("America/New_York").dt.strftime("%H:%M")
    at = local.to_list().index("01:55")
    assert local[at + 1] == "03:00"
    assert west["interval_end"][at + 1] - west["interval_end"][at] == timedelta(minutes=5)
    span = west["interval_end"][-1] - west["interval_start"][0]
    assert span == timedelta(hours=23)
    capitl = df.filter(pl.col("location") == "CAPITL").row(0, named=True)
    assert (capitl["lmp"], capitl["congestion"], capitl["energy"]) == (340.79, 340.84, pytest.approx(-0.05))


@needs_real
def test_pyiso_file_with_a_leading_blank_line() -> None:
    df = checked(Dataset.LMP, nyiso.REALTIME_ZONE.parse(PYISO_CSV.read_bytes()))
    assert df.height == 45
    row = df.row(0, named=True)
    assert row["location"] == "CAPITL" and row["lmp"] == 21.53 and row["loss"] == 1.69
    assert row["interval_end"] == utc(2016, 2, 18, 5, 15)


# --------------------------------------------------------------------------- hand-made layouts


def test_dam_zonal_fall_back_day_has_25_hours() -> None:
    df = checked(Dataset.LMP, nyiso.DAMLBMP_ZONE.parse(fixture("20221106damlbmp_zone.csv")))
    assert df.height == 25 * 15
    n_y_c = df.filter(pl.col("location") == "N.Y.C.").sort("interval_start")
    assert n_y_c.height == 25
    assert n_y_c["interval_start"][1:3].to_list() == [utc(2022, 11, 6, 5), utc(2022, 11, 6, 6)]
    assert (n_y_c["interval_end"] - n_y_c["interval_start"]).unique().to_list() == [timedelta(hours=1)]
    assert n_y_c["interval_start"][0] == utc(2022, 11, 6, 4) and n_y_c["interval_end"][-1] == utc(
        2022, 11, 7, 5
    )
    # Hand-made row: LBMP 31.30, losses -0.20, MCC -1.50 -> congestion +1.50, energy 30.00.
    row = df.filter(pl.col("location") == "NORTH").sort("interval_start").row(0, named=True)
    assert (row["lmp"], row["loss"], row["congestion"], row["energy"]) == (31.3, -0.2, 1.5, 30.0)
    assert set(df.filter(pl.col("location_type") == "interface")["location"]) == {"H Q", "NPX", "O H", "PJM"}


def test_dam_zonal_spring_day_has_23_hours() -> None:
    df = checked(Dataset.LMP, nyiso.DAMLBMP_ZONE.parse(fixture("20220313damlbmp_zone.csv")))
    assert df.height == 23 * 15
    hours = df.filter(pl.col("location") == "WEST")["interval_start"].sort()
    assert hours[1:3].to_list() == [utc(2022, 3, 13, 6), utc(2022, 3, 13, 7)]  # 01:00 EST then 03:00 EDT
    assert hours.diff().drop_nulls().unique().to_list() == [timedelta(hours=1)]


@pytest.mark.parametrize(("day", "hours"), [(FALL, 25), (SPRING, 23)])
def test_dam_generator_file(day: date, hours: int) -> None:
    df = checked(Dataset.LMP, nyiso.DAMLBMP_GEN.parse(fixture(f"{day:%Y%m%d}damlbmp_gen.csv")))
    assert df.height == 3 * hours
    assert set(df["location_type"]) == {"gen"} and set(df["market"]) == {"DAM"}
    assert df.filter(pl.col("location") == "ASTORIA___2")["interval_start"].is_unique().all()


@pytest.mark.parametrize(("day", "intervals"), [(FALL, 300), (SPRING, 276)])
def test_rt_generator_file(day: date, intervals: int) -> None:
    df = checked(Dataset.LMP, nyiso.REALTIME_GEN.parse(fixture(f"{day:%Y%m%d}realtime_gen.csv")))
    assert df.height == 3 * intervals
    gen = df.filter(pl.col("location") == "NIAGARA_GEN").sort("interval_end")
    assert (gen["interval_end"] - gen["interval_start"]).unique().to_list() == [timedelta(minutes=5)]
    assert gen["interval_end"].diff().drop_nulls().unique().to_list() == [timedelta(minutes=5)]
    assert gen["interval_end"][-1] - gen["interval_start"][0] == timedelta(hours=intervals / 12)


def test_dam_as_prices_fall_back_uses_time_zone_column() -> None:
    df = checked(Dataset.AS_PRICE, nyiso.DAMASP.parse(fixture("20221106damasp.csv")))
    assert df.height == 25 * 3 * 4
    assert set(df["product"]) == {"SPIN_10", "NONSYNC_10", "OPER_30", "REG_CAP"}
    west = df.filter((pl.col("region") == "WEST") & (pl.col("product") == "SPIN_10")).sort("interval_start")
    assert west["interval_start"][1:3].to_list() == [utc(2022, 11, 6, 5), utc(2022, 11, 6, 6)]
    # Third hour (01:00 EST): spin 5.0 + 2 x 0.1 + 2 = 7.20 $/MW-h.
    assert west["price"][2] == 7.2
    assert west["interval_end"][-1] == utc(2022, 11, 7, 5)


def test_dam_as_prices_spring_day() -> None:
    df = checked(Dataset.AS_PRICE, nyiso.DAMASP.parse(fixture("20220313damasp.csv")))
    assert df.height == 23 * 3 * 4
    assert df["interval_start"].n_unique() == 23


@pytest.mark.parametrize(("day", "intervals"), [(FALL, 300), (SPRING, 276)])
def test_rt_as_prices_interval_ending_with_time_zone(day: date, intervals: int) -> None:
    df = checked(Dataset.AS_PRICE, nyiso.RTASP.parse(fixture(f"{day:%Y%m%d}rtasp.csv")))
    assert df.height == intervals * 3 * 4  # regulation movement ($/MW) is not stored
    east = df.filter((pl.col("region") == "EAST") & (pl.col("product") == "REG_CAP")).sort("interval_end")
    assert east.height == intervals and east["interval_end"].is_unique().all()
    assert east["price"].unique().to_list() == [7.25]
    assert east["interval_start"][0] + timedelta(minutes=5) == east["interval_end"][0]


def test_rt_as_prices_reject_a_time_zone_that_contradicts_the_clock() -> None:
    text = (
        fixture("20221106rtasp.csv")
        .decode()
        .replace('"11/06/2022 03:00:00","EST"', '"11/06/2022 03:00:00","EDT"')
    )
    with pytest.raises(ParseError, match="is not EDT in New York time"):
        nyiso.RTASP.parse(text.encode())


@pytest.mark.parametrize(("day", "hours"), [(FALL, 25), (SPRING, 23)])
def test_integrated_actual_load(day: date, hours: int) -> None:
    df = checked(Dataset.LOAD, nyiso.PAL_INTEGRATED.parse(fixture(f"{day:%Y%m%d}palIntegrated.csv")))
    assert df.height == 11 * hours
    assert set(df["kind"]) == {"actual"} and df["forecast_issued_at"].null_count() == df.height
    capitl = df.filter(pl.col("zone") == "CAPITL").sort("interval_start")
    assert capitl["interval_start"].diff().drop_nulls().unique().to_list() == [timedelta(hours=1)]
    assert capitl["mw"][0] == 1000.0 and capitl["mw"][1] == 1003.5


def test_load_forecast_fall_back_file_covers_six_days() -> None:
    df = checked(Dataset.LOAD, nyiso.ISOLF.parse(fixture("20221106isolf.csv")))
    assert df.height == (25 + 5 * 24) * 12
    assert set(df["zone"]) >= {"CAPITL", "HUD VL", "N.Y.C.", "NYISO"}
    assert df["forecast_issued_at"].unique().to_list() == [utc(2022, 11, 6, 4)]
    nyca = df.filter(pl.col("zone") == "NYISO").sort("interval_start")
    assert nyca["interval_start"][1:3].to_list() == [utc(2022, 11, 6, 5), utc(2022, 11, 6, 6)]
    # Total = sum of the eleven zones in every hour.
    zones = df.filter(pl.col("zone") != "NYISO").group_by("interval_start").agg(pl.col("mw").sum())
    joined = nyca.join(zones, on="interval_start", suffix="_zones")
    assert (joined["mw"] == joined["mw_zones"]).all()


def test_load_forecast_spring_file() -> None:
    df = checked(Dataset.LOAD, nyiso.ISOLF.parse(fixture("20220313isolf.csv")))
    assert df.height == (23 + 5 * 24) * 12
    assert df["forecast_issued_at"].unique().to_list() == [utc(2022, 3, 13, 5)]


# --------------------------------------------------------------------------- malformed input


def test_malformed_row_fails_the_whole_file() -> None:
    text = fixture("20221106damlbmp_zone.csv").decode().splitlines()
    text.insert(5, '"broken row",,"not a number",')
    with pytest.raises(ParseError, match="data row 5"):
        nyiso.DAMLBMP_ZONE.parse("\n".join(text).encode())


def test_non_numeric_price_names_the_row() -> None:
    text = fixture("20221106damlbmp_zone.csv").decode().replace(",33.10,", ",N/A,", 1)
    with pytest.raises(ParseError, match=r"'LBMP \(\$/MWHr\)' is 'N/A'"):
        nyiso.DAMLBMP_ZONE.parse(text.encode())


def test_wrong_header_and_empty_payload() -> None:
    with pytest.raises(ParseError, match="header lacks"):
        nyiso.DAMLBMP_ZONE.parse(b'"Time Stamp","Name"\n"11/06/2022 00:00","WEST"\n')
    with pytest.raises(ParseError, match="empty"):
        nyiso.REALTIME_ZONE.parse(b"\n\n")


def test_a_third_copy_of_a_stamp_is_refused() -> None:
    lines = fixture("20221106damlbmp_gen.csv").decode().splitlines()
    repeated = [line for line in lines if "01:00" in line and "ASTORIA" in line]
    with pytest.raises(ParseError, match="'ASTORIA___2' has two rows for 2022-11-06 06:00:00 UTC"):
        nyiso.DAMLBMP_GEN.parse("\n".join([*lines, repeated[0]]).encode())


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "report"),
    [
        ("20221106damlbmp_zone.csv", "damlbmp_zone"),
        ("20221106damlbmp_gen.csv", "damlbmp_gen"),
        ("20221106realtime_gen.csv", "realtime_gen"),
        ("20221106damasp.csv", "damasp"),
        ("20221106rtasp.csv", "rtasp"),
        ("20221106palIntegrated.csv", "palIntegrated"),
        ("20221106isolf.csv", "isolf"),
    ],
)
def test_detect_hand_made_files(name: str, report: str) -> None:
    assert detect_report(Iso.NYISO, name, fixture(name)).name == report


@needs_real
def test_detect_real_files_by_name_and_by_header() -> None:
    assert detect_report(Iso.NYISO, MONTH_ZIP.name, MONTH_ZIP.read_bytes()).name == "realtime_zone"
    assert detect_report(Iso.NYISO, SPRING_CSV.name, SPRING_CSV.read_bytes()).name == "realtime_zone"
    assert detect_report(Iso.NYISO, "lmp.csv", PYISO_CSV.read_bytes()).name == "realtime_zone"
    assert detect_report(Iso.NYISO, "renamed.csv", fixture("20221106rtasp.csv")).name == "rtasp"
    assert detect_report(Iso.NYISO, "renamed.csv", fixture("20221106isolf.csv")).name == "isolf"


# --------------------------------------------------------------------------- transport


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ReplayServer]:
    roots = [p for p in (REAL, FIXTURES, tmp_path) if p.exists()]
    with ReplayServer(routes_for(Iso.NYISO, roots)) as srv:
        yield srv


def client(server: ReplayServer) -> IsoClient:
    return IsoClient(Iso.NYISO, TransportConfig(base_url=server.url, retry=RetryPolicy(base_s=0.01)))


def connector(today: date) -> nyiso.NyisoConnector:
    return nyiso.NyisoConnector(clock=lambda: datetime(today.year, today.month, today.day, 15, tzinfo=UTC))


def fetched(
    conn: nyiso.NyisoConnector, server: ReplayServer, dataset: Dataset, market: str, day: date
) -> list[pl.DataFrame]:
    with client(server) as c:
        return [
            checked(p.report.dataset, p.report.parse(p.data)) for p in conn.fetch(c, dataset, market, day)
        ]


@needs_real
def test_fetch_old_day_extracts_the_member_from_the_monthly_archive(server: ReplayServer) -> None:
    conn = connector(date(2024, 1, 1))
    with client(server) as c:
        payloads = list(conn.fetch(c, Dataset.LMP, "RT5", FALL))
        again = list(conn.fetch(c, Dataset.LMP, "RT5", date(2022, 11, 7)))
    zonal = [p for p in payloads if p.report is nyiso.REALTIME_ZONE]
    assert [p.name for p in zonal] == ["20221106realtime_zone.csv"]
    assert frame(zonal[0].report.parse(zonal[0].data)).height == 4_530
    # The gen archive is not stored, and no gen daily file for that day either: nothing, no error.
    paths = [r.path for r in server.requests]
    assert "/public/csv/realtime/20221101realtime_zone_csv.zip" in paths
    assert "/public/csv/realtime/20221101realtime_gen_csv.zip" in paths
    assert "/public/csv/realtime/20221106realtime_gen.csv" in paths
    assert [p.name for p in again if p.report is nyiso.REALTIME_ZONE] == ["20221107realtime_zone.csv"]
    # The past month's archive was downloaded once for both days.
    assert paths.count("/public/csv/realtime/20221101realtime_zone_csv.zip") == 1


@needs_real
def test_fetch_recent_day_takes_the_daily_file(server: ReplayServer) -> None:
    dfs = fetched(connector(SPRING + timedelta(days=2)), server, Dataset.LMP, "RT5", SPRING)
    assert [df.height for df in dfs] == [4_335, 276 * 3]
    assert server.requests[0].path == "/public/csv/realtime/20220313realtime_zone.csv"


@needs_real
def test_daily_404_falls_back_to_the_monthly_archive(server: ReplayServer) -> None:
    conn = connector(date(2022, 11, 8))
    with client(server) as c:
        payloads = [
            p for p in conn.fetch(c, Dataset.LMP, "RT5", date(2022, 11, 5)) if p.report is nyiso.REALTIME_ZONE
        ]
    paths = [r.path for r in server.requests]
    assert paths[:2] == [
        "/public/csv/realtime/20221105realtime_zone.csv",
        "/public/csv/realtime/20221101realtime_zone_csv.zip",
    ]
    assert [p.name for p in payloads] == ["20221105realtime_zone.csv"]


@pytest.mark.parametrize(
    ("dataset", "market", "rows"),
    [
        (Dataset.LMP, "DAM", [375, 75]),
        (Dataset.AS_PRICE, "DAM", [300]),
        (Dataset.AS_PRICE, "RT5", [3600]),
        (Dataset.LOAD, "actual", [275]),
        (Dataset.LOAD, "forecast", [1740]),
    ],
)
def test_fetch_hand_made_reports_for_the_fall_back_day(
    server: ReplayServer, dataset: Dataset, market: str, rows: list[int]
) -> None:
    dfs = fetched(connector(FALL + timedelta(days=1)), server, dataset, market, FALL)
    assert [df.height for df in dfs] == rows


def test_fetch_a_day_with_nothing_published_yields_nothing(server: ReplayServer) -> None:
    assert fetched(connector(date(2030, 1, 1)), server, Dataset.LMP, "DAM", date(2029, 12, 31)) == []


def test_targets_cover_every_dataset() -> None:
    pairs = {(t.dataset, t.market) for t in nyiso.TARGETS}
    assert pairs == {
        (Dataset.LMP, "RT5"),
        (Dataset.LMP, "DAM"),
        (Dataset.AS_PRICE, "DAM"),
        (Dataset.AS_PRICE, "RT5"),
        (Dataset.LOAD, "actual"),
        (Dataset.LOAD, "forecast"),
    }


def test_fault_500_then_success(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.ERROR_500, path="damasp", times=2))
    dfs = fetched(connector(FALL), server, Dataset.AS_PRICE, "DAM", FALL)
    assert [df.height for df in dfs] == [300]
    assert len(server.requests) == 3


def test_fault_truncated_archive_ends_in_parse_error(server: ReplayServer, tmp_path: Path) -> None:
    body = fixture("20221106palIntegrated.csv")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("20221106palIntegrated.csv", body)
        zf.writestr("20221107palIntegrated.csv", body.replace(b"11/06/2022", b"11/07/2022"))
    (tmp_path / "20221101palIntegrated_csv.zip").write_bytes(buf.getvalue())
    conn = connector(date(2023, 6, 1))
    with client(server) as c:
        good = list(conn.fetch(c, Dataset.LOAD, "actual", date(2022, 11, 7)))
        assert [p.name for p in good] == ["20221107palIntegrated.csv"]
        server.inject(Fault(FaultKind.SHORT_BODY, path=r"palIntegrated_csv\.zip"))
        conn = connector(date(2023, 6, 1))  # a fresh connector: nothing cached
        broken = list(conn.fetch(c, Dataset.LOAD, "actual", FALL))
    assert [p.name for p in broken] == ["20221101palIntegrated_csv.zip"]
    with pytest.raises(ParseError, match="zip"):
        broken[0].report.parse(broken[0].data)
