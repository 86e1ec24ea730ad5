"""ISO-NE parsers, detection and downloads through the replay server.

No real ISO-NE file is in the shared data: every file under fixtures/isone is HAND-MADE from the
documented ISO Express layouts and Web Services JSON (see fixtures/isone/README.md), built to
exercise both 2024 DST days (the "02X" repeated hour, the skipped spring label, the repeated
5-minute clock times), prelim-vs-final revisions and the session-cookie flow.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from markets_checks import utc

from carbon254.isos import Iso
from carbon254.isos.isone import reports as isone
from carbon254.markets import registry
from carbon254.markets.connector import Payload
from carbon254.markets.report import ParseError
from carbon254.markets.transport import FetchError, IsoClient, RetryPolicy, TransportConfig
from carbon254.replay.server import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset, validate

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "isone"
SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def frame(table: pa.Table) -> pl.DataFrame:
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)
    return out


def assert_lmp(table: pa.Table) -> pl.DataFrame:
    validate(Dataset.LMP, table)
    df = frame(table)
    assert ((df["energy"] + df["congestion"] + df["loss"] - df["lmp"]).abs() <= 0.01).all()
    return df


def assert_contiguous(df: pl.DataFrame, by: str, step: timedelta) -> None:
    for _, group in df.group_by(by):
        starts = group["interval_start"].sort()
        assert (starts.diff().drop_nulls() == step).all()
        assert ((group["interval_end"] - group["interval_start"]) == step).all()


# --- hourly LMP CSVs --------------------------------------------------------------------------------


def test_da_lmp_fall_back_day_reads_02x_as_the_second_1am() -> None:
    df = assert_lmp(isone.parse_da_lmp(fixture("WW_DALMP_ISO_20241103.csv")))
    assert df.height == 25 * 4
    hub = df.filter(pl.col("location") == ".H.INTERNAL_HUB")
    assert hub.height == 25
    assert hub["interval_start"][0] == utc(2024, 11, 3, 4)  # HE01 starts at midnight EDT
    assert hub["interval_start"][1] == utc(2024, 11, 3, 5)  # HE02: 01:00 EDT
    assert hub["interval_start"][2] == utc(2024, 11, 3, 6)  # HE02X: 01:00 EST
    assert hub["interval_end"][-1] == utc(2024, 11, 4, 5)
    row = hub.row(0, named=True)
    assert (row["lmp"], row["energy"], row["congestion"], row["loss"]) == (22.5, 25.0, -2.0, -0.5)
    assert_contiguous(df, "location", timedelta(hours=1))
    types = dict(df.select("location", "location_type").unique().iter_rows())
    assert types == {
        ".H.INTERNAL_HUB": "hub",
        ".Z.MAINE": "zone",
        ".I.ROSETON 345 1": "interface",
        "UN.FRNKLNSQ13.810CC": "node",
    }


def test_da_lmp_spring_forward_day_has_23_hours() -> None:
    df = assert_lmp(isone.parse_da_lmp(fixture("WW_DALMP_ISO_20240310.csv")))
    assert df.height == 23 * 4
    zone = df.filter(pl.col("location") == ".Z.MAINE")
    assert zone["interval_start"][1] == utc(2024, 3, 10, 6)  # HE02: 01:00 EST
    assert zone["interval_start"][2] == utc(2024, 3, 10, 7)  # HE04: 03:00 EDT (label 03 skipped)
    assert zone["interval_end"][-1] == utc(2024, 3, 11, 4)
    assert_contiguous(df, "location", timedelta(hours=1))


def test_spring_day_that_skips_label_02_instead_resolves_the_same() -> None:
    text = fixture("WW_DALMP_ISO_20240310.csv").decode()
    relabelled = text.replace('","02","', '","03","')
    assert isone.parse_da_lmp(relabelled.encode()).equals(isone.parse_da_lmp(text.encode()))


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_rt_hourly_prelim_and_final(day: date) -> None:
    hours = 25 if day == FALL else 23
    final = assert_lmp(isone.parse_rt_lmp_final(fixture(f"lmp_rt_final_{day:%Y%m%d}.csv")))
    prelim = assert_lmp(isone.parse_rt_lmp_prelim(fixture(f"lmp_rt_prelim_{day:%Y%m%d}.csv")))
    assert final.height == prelim.height == hours * 4
    assert set(final["market"]) == set(prelim["market"]) == {"RTH"}
    # prelim names locations only; types come from the same name rules
    assert final.select("location", "location_type", "interval_start").equals(
        prelim.select("location", "location_type", "interval_start")
    )
    # the fixture's preliminary energy is 0.50 above the final one
    assert ((prelim["energy"] - final["energy"]) - 0.5).abs().max() < 1e-9  # type: ignore[operator]


def test_report_generated_orders_final_after_prelim() -> None:
    prelim = isone.report_generated(fixture("lmp_rt_prelim_20241103.csv"))
    final = isone.report_generated(fixture("lmp_rt_final_20241103.csv"))
    assert prelim == utc(2024, 11, 4, 5, 30)  # 00:30 EST
    assert final == utc(2024, 11, 10, 15)
    assert isone.report_generated(fixture("WW_DALMP_ISO_20241103.csv")) == utc(
        2024, 11, 2, 17, 7
    ) + timedelta(seconds=54)


def test_express_layout_errors() -> None:
    good = fixture("WW_DALMP_ISO_20240310.csv").decode().splitlines()
    with pytest.raises(ParseError, match="record type 'broken row'"):
        isone.parse_da_lmp("\n".join([*good[:3], '"broken row",,"not a number",', *good[3:]]).encode())
    with pytest.raises(ParseError, match="fewer than the header's 9 fields"):
        isone.parse_da_lmp("\n".join([*good[:8], '"D","03/10/2024","05"', *good[8:]]).encode())
    with pytest.raises(ParseError, match="more fields"):
        isone.parse_da_lmp("\n".join([*good[:8], good[8] + ",1.0", *good[9:]]).encode())
    with pytest.raises(ParseError, match="hour ending '3X'"):
        isone.parse_da_lmp("\n".join([*good[:8], good[8].replace('"01"', '"3X"'), *good[9:]]).encode())
    with pytest.raises(ParseError, match="not a number"):
        isone.parse_da_lmp("\n".join([*good[:6], good[6].replace(",22.5,", ",abc,"), *good[7:]]).encode())
    with pytest.raises(ParseError, match="appears twice"):
        isone.parse_da_lmp("\n".join([*good[:-1], good[8], good[-1]]).encode())
    with pytest.raises(ParseError, match='no "H" header'):
        isone.parse_da_lmp(b"<html>Please enable cookies</html>")
    with pytest.raises(ParseError, match="empty"):
        isone.parse_da_lmp(b"")


# --- 5-minute -----------------------------------------------------------------------------------------


def test_rt_5min_fall_back_repeats_1am_in_file_order() -> None:
    df = assert_lmp(isone.parse_rt_lmp_5min(fixture("lmp_5min_20241103_00-04.csv")))
    assert df.height == 60 * 2  # five hours of intervals in the 00-04 block on the 25-hour day
    assert set(df["market"]) == {"RT5"}
    hub = df.filter(pl.col("location") == ".H.INTERNAL_HUB")
    assert hub["location_type"][0] == "hub"
    assert hub["interval_start"][0] == utc(2024, 11, 3, 4)
    assert hub["interval_start"][12] == utc(2024, 11, 3, 5)  # first 01:00 (EDT)
    assert hub["interval_start"][24] == utc(2024, 11, 3, 6)  # second 01:00 (EST)
    assert hub["interval_end"][-1] == utc(2024, 11, 3, 9)  # 04:00 EST
    assert hub.filter(pl.col("interval_start") == utc(2024, 11, 3, 5))["lmp"][0] == pytest.approx(24.38)
    assert hub.filter(pl.col("interval_start") == utc(2024, 11, 3, 6))["lmp"][0] == pytest.approx(26.26)
    assert set(df["location"]) == {".H.INTERNAL_HUB", "321"}
    assert_contiguous(df, "location", timedelta(minutes=5))


def test_rt_5min_spring_block_skips_2am() -> None:
    df = assert_lmp(isone.parse_rt_lmp_5min(fixture("lmp_5min_20240310_00-04.csv")))
    assert df.height == 36 * 2
    node = df.filter(pl.col("location") == "321")
    assert node["interval_start"][23] == utc(2024, 3, 10, 6, 55)  # 01:55 EST
    assert node["interval_start"][24] == utc(2024, 3, 10, 7)  # 03:00 EDT
    assert_contiguous(df, "location", timedelta(minutes=5))


def test_rt_5min_needs_the_report_day() -> None:
    lines = [
        line
        for line in fixture("lmp_5min_20240310_00-04.csv").decode().splitlines()
        if not line.startswith('"C"')
    ]
    with pytest.raises(ParseError, match="no operating day"):
        isone.parse_rt_lmp_5min("\n".join(lines).encode())


def test_rt_5min_interface_ids_are_interfaces() -> None:
    text = fixture("lmp_5min_20240310_00-04.csv").decode().replace('"321"', '"4011"')
    df = frame(isone.parse_rt_lmp_5min(text.encode()))
    assert dict(df.select("location", "location_type").unique().iter_rows()) == {
        ".H.INTERNAL_HUB": "hub",
        "4011": "interface",
    }


# --- load ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (FALL, 25)])
def test_hourly_system_demand(day: date, hours: int) -> None:
    table = isone.parse_hourly_system_demand(fixture(f"hourlysystemdemand_{day:%Y%m%d}.csv"))
    validate(Dataset.LOAD, table)
    df = frame(table)
    assert df.height == hours
    assert set(df["kind"]) == {"actual"} and set(df["zone"]) == {"NEPOOL AREA"}
    assert df["mw"][0] == pytest.approx(11000.0)
    assert df["mw"][2] == pytest.approx(11000 + 2 * 123.456)
    assert df["interval_end"][-1] - df["interval_start"][0] == timedelta(hours=hours)
    assert_contiguous(df, "zone", timedelta(hours=1))


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (FALL, 25)])
def test_web_services_load_forecast(day: date, hours: int) -> None:
    table = isone.parse_ws_load_forecast(fixture(f"hourlyloadforecast_all_{day:%Y%m%d}.json"))
    validate(Dataset.LOAD, table)
    df = frame(table)
    assert df.height == hours * 2
    assert set(df["kind"]) == {"forecast"}
    assert df["forecast_issued_at"].n_unique() == 2
    latest = df.filter(pl.col("forecast_issued_at") == df["forecast_issued_at"].max())
    assert latest["mw"][0] == 9860
    assert latest["interval_end"][-1] - latest["interval_start"][0] == timedelta(hours=hours)
    assert_contiguous(latest, "zone", timedelta(hours=1))
    if day == FALL:
        assert latest["forecast_issued_at"][0] == utc(2024, 11, 2, 13, 12) + timedelta(seconds=10)


# --- Web Services DA LMP JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [SPRING, FALL])
def test_web_services_da_lmp_matches_the_csv(day: date) -> None:
    from_json = isone.parse_ws_da_lmp(fixture(f"hourlylmp_da_final_{day:%Y%m%d}.json"))
    assert_lmp(from_json)
    assert from_json.equals(isone.parse_da_lmp(fixture(f"WW_DALMP_ISO_{day:%Y%m%d}.csv")))


def test_web_services_json_edge_cases() -> None:
    single = (
        b'{"HourlyLmps":{"HourlyLmp":{"BeginDate":"2024-11-03T01:00:00.000-05:00",'
        b'"Location":{"@LocId":"4000","@LocType":"HUB","$":".H.INTERNAL_HUB"},'
        b'"LmpTotal":30.5,"EnergyComponent":30.0,"CongestionComponent":0.25,"LossComponent":0.25}}}'
    )
    df = frame(isone.parse_ws_da_lmp(single))
    assert df.height == 1 and df["interval_start"][0] == utc(2024, 11, 3, 6)
    assert isone.parse_ws_da_lmp(b'{"HourlyLmps":""}').num_rows == 0
    with pytest.raises(ParseError, match="no 'HourlyLmps'"):
        isone.parse_ws_da_lmp(b'{"Other":1}')
    with pytest.raises(ParseError, match="not ISO-NE Web Services JSON"):
        isone.parse_ws_da_lmp(b"{not json")


# --- detection ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "report"),
    [
        ("WW_DALMP_ISO_20241103.csv", "WW_DALMP_ISO"),
        ("lmp_rt_final_20241103.csv", "lmp_rt_final"),
        ("lmp_rt_prelim_20240310.csv", "lmp_rt_prelim"),
        ("lmp_5min_20241103_04-08.csv", "lmp_5min"),
        ("hourlysystemdemand_20241103.csv", "hourlysystemdemand"),
        ("hourlylmp_da_final_20241103.json", "ws_hourlylmp_da_final"),
        ("hourlyloadforecast_all_20240310.json", "ws_hourlyloadforecast"),
    ],
)
def test_detect_report_by_name_and_header(name: str, report: str) -> None:
    data = fixture(name)
    assert registry.detect_report(Iso.ISONE, name, data).name == report
    assert registry.detect_report(Iso.ISONE, "download.dat", data).name == report
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(name, data)
    assert registry.detect_report(Iso.ISONE, "bundle.zip", buffer.getvalue()).name == report


# --- downloads through the replay server -------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer(routes_for(Iso.ISONE, [FIXTURES])) as srv:
        yield srv


def client_for(server: ReplayServer) -> IsoClient:
    return IsoClient(Iso.ISONE, TransportConfig(base_url=server.url, retry=RetryPolicy(base_s=0.01)))


def fetch(
    server: ReplayServer,
    dataset: Dataset,
    market: str,
    day: date,
    connector: isone.IsoneConnector | None = None,
) -> list[tuple[pl.DataFrame, Payload]]:
    conn = connector or isone.IsoneConnector()
    with client_for(server) as client:
        payloads = list(conn.fetch(client, dataset, market, day))
    return [(frame(p.report.parse(p.data)), p) for p in payloads]


def test_fetch_da_lmp_sets_the_session_cookie_first(server: ReplayServer) -> None:
    results = fetch(server, Dataset.LMP, "DAM", FALL)
    assert len(results) == 1
    df, payload = results[0]
    assert df.height == 100
    assert payload.name == "WW_DALMP_ISO_20241103.csv"
    assert payload.published_at == utc(2024, 11, 2, 17, 7) + timedelta(seconds=54)
    first, second = server.requests
    assert first.path.startswith("/isoexpress/")
    assert second.path == "/static-transform/csv/histRpts/da-lmp/WW_DALMP_ISO_20241103.csv"
    assert "isox_token=" in second.headers.get("cookie", "")


def test_csv_without_the_cookie_is_refused(server: ReplayServer) -> None:
    with client_for(server) as client, pytest.raises(FetchError, match="HTML page"):
        isone._express_payload(  # the CSV step alone, without the landing page
            client,
            isone.DA_LMP,
            "https://www.iso-ne.com/static-transform/csv/histRpts/da-lmp/WW_DALMP_ISO_20241103.csv",
            FALL,
        )


def test_fetch_rth_yields_prelim_then_final_with_ordered_publication(server: ReplayServer) -> None:
    results = fetch(server, Dataset.LMP, "RTH", SPRING)
    assert [p.report.name for _, p in results] == ["lmp_rt_prelim", "lmp_rt_final"]
    (prelim, p1), (final, p2) = results
    assert prelim.height == final.height == 92
    assert p1.published_at is not None and p2.published_at is not None
    assert p2.published_at > p1.published_at


def test_fetch_rt5_reads_every_published_block(server: ReplayServer) -> None:
    results = fetch(server, Dataset.LMP, "RT5", FALL)
    assert [p.name for _, p in results] == ["lmp_5min_20241103_00-04.csv", "lmp_5min_20241103_04-08.csv"]
    df = pl.concat([d for d, _ in results])
    assert df.height == (60 + 48) * 2
    assert_contiguous(df, "location", timedelta(minutes=5))
    assert len(server.requests) == 1 + 6  # landing page, then the six 4-hour blocks (four are 404)


def test_fetch_load_actual_and_forecast(server: ReplayServer) -> None:
    ((actual, payload),) = fetch(server, Dataset.LOAD, "actual", FALL)
    assert actual.height == 25 and payload.name == "hourlysystemdemand_20241103.csv"
    assert server.requests[-1].param("start") == "20241103"
    creds = isone.IsoneConnector(isone.IsoneSettings(username="user@example.com", password="secret"))
    ((forecast, fp),) = fetch(server, Dataset.LOAD, "forecast", SPRING, creds)
    assert forecast.height == 46 and fp.report is isone.WS_LOAD_FORECAST
    assert server.requests[-1].headers["authorization"].startswith("Basic ")
    assert server.requests[-1].headers["accept"] == "application/json"


def test_forecast_without_credentials_fails_clearly(server: ReplayServer) -> None:
    with pytest.raises(FetchError, match="CARBON254_ISONE_USERNAME"):
        fetch(server, Dataset.LOAD, "forecast", SPRING, isone.IsoneConnector(isone.IsoneSettings()))


def test_fetch_an_unpublished_day_yields_nothing(server: ReplayServer) -> None:
    assert fetch(server, Dataset.LMP, "DAM", date(2024, 6, 1)) == []


def test_fault_500_then_success(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.ERROR_500, path="WW_DALMP_ISO", times=2))
    ((df, _),) = fetch(server, Dataset.LMP, "DAM", SPRING)
    assert df.height == 92


def test_fault_malformed_row_ends_in_parse_error(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.MALFORMED_CSV, path="lmp_rt_final", times=1))
    with pytest.raises(ParseError, match="record type 'broken row'"):
        fetch(server, Dataset.LMP, "RTH", FALL)
