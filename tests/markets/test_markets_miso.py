"""MISO parsers, fetcher and replay site.

MISO has no real file in ../shared/data: every file here is HAND-MADE in
fixtures/miso/ (see its README) from the layouts documented in public code and
notes (market-report preamble, `Node,Type,Value,HE 1..HE 24`, ASM zonal table,
5-minute archive, broker JSON). They sit on the 2024 DST days, which MISO's
EST-all-year market time must ignore: 24 hours each, contiguous in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from markets_checks import utc

from carbon254.isos import Iso
from carbon254.isos.miso import reports as miso
from carbon254.markets.registry import detect_report
from carbon254.markets.report import ParseError, Report
from carbon254.markets.transport import FetchError, IsoClient, RetryPolicy, TransportConfig
from carbon254.replay.server import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset, validate

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "miso"
SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)


def checked(dataset: Dataset, table: pa.Table) -> pl.DataFrame:
    validate(dataset, table)
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    if dataset is Dataset.LMP:
        assert (df["lmp"] - (df["energy"] + df["congestion"] + df["loss"])).abs().max() < 1e-9
    return df


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def assert_24_contiguous_hours(starts: pl.Series, day: date) -> None:
    hours = starts.unique().sort()
    assert hours.len() == 24
    first = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)  # 00:00 EST
    assert hours.to_list() == [first + timedelta(hours=h) for h in range(24)]


# --------------------------------------------------------------------------- hourly LMP


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_da_expost_lmp_has_24_est_hours_on_dst_days(day: date) -> None:
    df = checked(Dataset.LMP, miso.DA_EXPOST.parse(fixture(f"{day:%Y%m%d}_da_expost_lmp.csv")))
    assert df.height == 5 * 24
    assert set(df["market"]) == {"DAM"}
    assert_24_contiguous_hours(df["interval_start"], day)
    assert (df["interval_end"] - df["interval_start"]).unique().to_list() == [timedelta(hours=1)]


def test_da_expost_values_types_and_energy() -> None:
    df = checked(Dataset.LMP, miso.DA_EXPOST.parse(fixture("20241103_da_expost_lmp.csv")))
    types = dict(df.select("location", "location_type").unique().iter_rows())
    assert types == {
        "AECI": "interface",
        "AMIL.BGS6": "zone",
        "ILLINOIS.HUB": "hub",
        "ALTW.WELLS1": "gen",
        "EES.EX_LOAD": "node",
    }
    # HE 1 of ILLINOIS.HUB (3rd node): energy 21.00, MCC 0.1, MLC -0.1, LMP 21.00; HE 1 ends 01:00 EST.
    hub = df.filter(pl.col("location") == "ILLINOIS.HUB").sort("interval_start").row(0, named=True)
    assert (hub["interval_start"], hub["interval_end"]) == (utc(2024, 11, 3, 5), utc(2024, 11, 3, 6))
    assert (hub["lmp"], hub["congestion"], hub["loss"], hub["energy"]) == (21.0, 0.1, -0.1, 21.0)
    he24 = df.filter(pl.col("location") == "AECI").sort("interval_start").row(23, named=True)
    assert he24["interval_end"] == utc(2024, 11, 4, 5)
    assert (he24["lmp"], he24["congestion"], he24["loss"], he24["energy"]) == (44.4, -0.1, 0.5, 44.0)
    # Energy is system-wide: the same at every node in an hour.
    assert df.group_by("interval_start").agg(pl.col("energy").n_unique())["energy"].unique().to_list() == [1]


@pytest.mark.parametrize(
    ("report", "name", "market", "energy_he1"),
    [
        (miso.DA_EXANTE, "20241103_da_exante_lmp.csv", "DAM_EXANTE", 21.25),
        (miso.RT_FINAL, "20241103_rt_lmp_final.csv", "RTH", 22.0),
        (miso.RT_PRELIM, "20241103_rt_lmp_prelim.csv", "RTH", 21.5),
        (miso.RT_FINAL, "20240310_rt_lmp_final.csv", "RTH", 22.0),
    ],
)
def test_other_hourly_lmp_reports(report: Report, name: str, market: str, energy_he1: float) -> None:
    df = checked(Dataset.LMP, report.parse(fixture(name)))
    assert df.height == 120 and set(df["market"]) == {market}
    assert_24_contiguous_hours(df["interval_start"], date(int(name[:4]), int(name[4:6]), int(name[6:8])))
    assert df.sort("interval_start")["energy"][0] == energy_he1


def test_hourly_lmp_footer_is_dropped_but_a_bad_row_fails_the_file() -> None:
    text = fixture("20241103_da_expost_lmp.csv").decode()
    assert "subject to change" in text.splitlines()[-1]  # the footer is there, and parsing ignores it
    broken = text.replace("AMIL.BGS6,Loadzone,MCC,", "AMIL.BGS6,Loadzone,MCC,x", 1)
    with pytest.raises(ParseError, match=r"line 10: 'HE 1' is 'x-1.15'"):
        miso.DA_EXPOST.parse(broken.encode())
    missing = "\r\n".join(line for line in text.splitlines() if not line.startswith("AECI,Interface,MLC"))
    with pytest.raises(ParseError, match="'AECI' lacks one of its LMP/MCC/MLC rows"):
        miso.DA_EXPOST.parse(missing.encode())
    with pytest.raises(ParseError, match="no header line"):
        miso.DA_EXPOST.parse(b"Day Ahead Market ExPost LMPs\n01/01/2024\n")


# --------------------------------------------------------------------------- 5-minute LMP


def test_weekly_five_minute_zip() -> None:
    df = checked(Dataset.LMP, miso.FIVE_MIN.parse(fixture("20241111_5MIN_LMP.zip")))
    assert df.height == 2 * 300
    hub = df.filter(pl.col("location") == "ILLINOIS.HUB").sort("interval_start")
    assert hub["location_type"].unique().to_list() == ["hub"]
    assert df.filter(pl.col("location") == "AMIL.BGS6")["location_type"].null_count() == 300
    # 11/03/2024 00:00 EST starts at 05:00 UTC; DST ends that day but MISO's clock does not move.
    day = hub.filter(pl.col("interval_start") >= utc(2024, 11, 3, 5))
    assert day.height == 288
    assert day["interval_start"].diff().drop_nulls().unique().to_list() == [timedelta(minutes=5)]
    row = day.row(0, named=True)
    assert (row["interval_end"], row["lmp"], row["congestion"], row["loss"]) == (
        utc(2024, 11, 3, 5, 5), 17.4, -0.5, -0.1,
    )  # fmt: skip


def test_rolling_market_day_csv() -> None:
    df = checked(Dataset.LMP, miso.ROLLING.parse(fixture("rollingmarketday.csv")))
    assert df.height == 2 * 48
    minn = df.filter(pl.col("location") == "MINN.HUB").sort("interval_start")
    # 02:00 EST on the spring-forward date is an ordinary 5-minute step for MISO.
    assert minn["interval_start"].diff().drop_nulls().unique().to_list() == [timedelta(minutes=5)]
    row = minn.filter(pl.col("interval_start") == utc(2024, 3, 10, 7)).row(0, named=True)
    assert (row["lmp"], row["loss"], row["congestion"], row["energy"]) == (31.2, 0.2, -1.0, 32.0)


# --------------------------------------------------------------------------- ASM prices


@pytest.mark.parametrize(
    ("report", "name", "market"),
    [
        (miso.ASM_EXPOST, "20241103_asm_expost_damcp.csv", "DAM"),
        (miso.ASM_EXANTE, "20241103_asm_exante_damcp.csv", "DAM_EXANTE"),
        (miso.ASM_RT_FINAL, "20241103_asm_rtmcp_final.csv", "RTH"),
        (miso.ASM_EXPOST, "20240310_asm_expost_damcp.csv", "DAM"),
    ],
)
def test_asm_zonal_prices(report: Report, name: str, market: str) -> None:
    df = checked(Dataset.AS_PRICE, report.parse(fixture(name)))
    assert df.height == 3 * 3 * 24  # the per-Pnode table after the blank line is not read
    assert set(df["region"]) == {"MISO Wide", "Zone 1", "Zone 2"}
    assert set(df["product"]) == {"GENREGMCP", "GENSPINMCP", "GENSUPPMCP"} and set(df["market"]) == {market}
    assert_24_contiguous_hours(df["interval_start"], date(int(name[:4]), int(name[4:6]), int(name[6:8])))
    z2 = df.filter((pl.col("region") == "Zone 2") & (pl.col("product") == "GENSPINMCP")).sort(
        "interval_start"
    )
    assert z2["price"][0] == 7.01 and z2["price"][23] == 7.24


def test_asm_blank_zone_fails() -> None:
    text = fixture("20241103_asm_expost_damcp.csv").decode().replace("Zone 1,-,GENREGMCP", ",-,GENREGMCP")
    with pytest.raises(ParseError, match="zone or MCP Type is blank"):
        miso.ASM_EXPOST.parse(text.encode())


# --------------------------------------------------------------------------- load


def test_total_load_actual_and_forecast() -> None:
    df = checked(Dataset.LOAD, miso.TOTAL_LOAD.parse(fixture("gettotalload.json")))
    actual = df.filter(pl.col("kind") == "actual").sort("interval_start")
    forecast = df.filter(pl.col("kind") == "forecast").sort("interval_start")
    assert (actual.height, forecast.height) == (37, 24)
    assert actual["interval_start"][0] == utc(2024, 3, 10, 5) and actual["mw"][0] == 70_000.0
    assert actual["interval_end"][-1] == utc(2024, 3, 10, 8, 5) and actual["mw"][-1] == 70_180.0
    assert actual["forecast_issued_at"].null_count() == 37
    assert_24_contiguous_hours(forecast["interval_start"], SPRING)
    assert forecast["mw"][0] == 71_250.0  # "71,250" with its thousands separator
    assert forecast["forecast_issued_at"].unique().to_list() == [utc(2024, 3, 10, 8, 5)]


def test_total_load_bad_document() -> None:
    with pytest.raises(ParseError, match="LoadInfo"):
        miso.TOTAL_LOAD.parse(b'{"error": "no data"}')
    with pytest.raises(ParseError, match="RefId"):
        miso.TOTAL_LOAD.parse(b'{"LoadInfo": {"RefId": "yesterday"}}')


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "path", sorted(p for p in FIXTURES.iterdir() if p.suffix != ".md"), ids=lambda p: p.name
)
def test_detect_every_fixture_by_name(path: Path) -> None:
    report = detect_report(Iso.MISO, path.name, path.read_bytes())
    assert report.name in path.name


def test_detect_renamed_files_by_header() -> None:
    assert detect_report(Iso.MISO, "x.csv", fixture("20241103_da_expost_lmp.csv")) is miso.DA_EXPOST
    assert detect_report(Iso.MISO, "x.csv", fixture("20241103_da_exante_lmp.csv")) is miso.DA_EXANTE
    assert detect_report(Iso.MISO, "x.json", fixture("gettotalload.json")) is miso.TOTAL_LOAD
    assert detect_report(Iso.MISO, "x.csv", fixture("rollingmarketday.csv")) is miso.ROLLING


# --------------------------------------------------------------------------- transport


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer(routes_for(Iso.MISO, [FIXTURES])) as srv:
        yield srv


def client(server: ReplayServer) -> IsoClient:
    return IsoClient(Iso.MISO, TransportConfig(base_url=server.url, retry=RetryPolicy(base_s=0.01)))


def connector(today: date) -> miso.MisoConnector:
    return miso.MisoConnector(clock=lambda: datetime(today.year, today.month, today.day, 15, tzinfo=UTC))


@pytest.mark.parametrize(
    ("dataset", "market", "day", "names"),
    [
        (Dataset.LMP, "DAM", FALL, ["20241103_da_expost_lmp.csv"]),
        (Dataset.LMP, "DAM_EXANTE", FALL, ["20241103_da_exante_lmp.csv"]),
        (Dataset.LMP, "RTH", FALL, ["20241103_rt_lmp_prelim.csv", "20241103_rt_lmp_final.csv"]),
        (Dataset.LMP, "RTH", SPRING, ["20240310_rt_lmp_final.csv"]),
        (Dataset.LMP, "RT5", FALL, ["20241111_5MIN_LMP.zip"]),
        (Dataset.AS_PRICE, "DAM", FALL, ["20241103_asm_expost_damcp.csv"]),
        (Dataset.AS_PRICE, "DAM_EXANTE", FALL, ["20241103_asm_exante_damcp.csv"]),
        (Dataset.AS_PRICE, "RTH", FALL, ["20241103_asm_rtmcp_final.csv"]),
    ],
)
def test_fetch_market_reports(
    server: ReplayServer, dataset: Dataset, market: str, day: date, names: list[str]
) -> None:
    with client(server) as c:
        payloads = list(connector(date(2025, 1, 1)).fetch(c, dataset, market, day))
    assert [p.name for p in payloads] == names
    for p in payloads:
        df = checked(p.report.dataset, p.report.parse(p.data))
        assert df.height > 0 and set(df["market"]) == {market}


def test_fetch_today_uses_the_real_time_feeds(server: ReplayServer) -> None:
    conn = connector(SPRING)
    with client(server) as c:
        rt5 = list(conn.fetch(c, Dataset.LMP, "RT5", SPRING))
        load = list(conn.fetch(c, Dataset.LOAD, "forecast", SPRING))
        old_load = list(conn.fetch(c, Dataset.LOAD, "actual", SPRING - timedelta(days=1)))
    assert [p.report for p in rt5] == [miso.ROLLING] and [p.report for p in load] == [miso.TOTAL_LOAD]
    assert old_load == []
    assert checked(Dataset.LMP, rt5[0].report.parse(rt5[0].data)).height == 96
    assert checked(Dataset.LOAD, load[0].report.parse(load[0].data)).height == 61
    queries = [r.query for r in server.requests]
    assert queries[0]["messageType"] == ["rollingmarketday"] and queries[1]["messageType"] == ["gettotalload"]


def test_weekly_file_date() -> None:
    assert miso.weekly_file_day(date(2024, 11, 3)) == date(2024, 11, 11)  # Sunday -> Monday 10/28 + 14
    assert miso.weekly_file_day(date(2024, 10, 28)) == date(2024, 11, 11)


def test_fetch_unpublished_day_yields_nothing(server: ReplayServer) -> None:
    with client(server) as c:
        assert list(connector(date(2025, 1, 1)).fetch(c, Dataset.LMP, "DAM", date(2024, 12, 25))) == []


def test_fault_500_then_success_and_malformed_row(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.ERROR_500, path="da_expost", times=2))
    with client(server) as c:
        payloads = list(connector(date(2025, 1, 1)).fetch(c, Dataset.LMP, "DAM", FALL))
        assert checked(Dataset.LMP, miso.DA_EXPOST.parse(payloads[0].data)).height == 120
        assert len(server.requests) == 3
        server.inject(Fault(FaultKind.TRUNCATED, path="5MIN_LMP", times=5))
        with pytest.raises(FetchError):
            list(connector(date(2025, 1, 1)).fetch(c, Dataset.LMP, "RT5", FALL))
        server.inject(Fault(FaultKind.SHORT_BODY, path="5MIN_LMP"))
        short = list(connector(date(2025, 1, 1)).fetch(c, Dataset.LMP, "RT5", FALL))
    with pytest.raises(ParseError, match="zip"):
        miso.FIVE_MIN.parse(short[0].data)
