"""SPP parsers, connector and replay site.

Every SPP file here is HAND-MADE (tests/markets/fixtures/spp/README.md): no real SPP Marketplace
file is stored under ../shared/data. The fixtures follow the layouts documented in public code
and cover both 2024 DST days.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from markets_checks import check_components, utc

from carbon254.isos import Iso
from carbon254.isos.spp import reports as spp
from carbon254.markets.connector import Payload
from carbon254.markets.registry import detect_report
from carbon254.markets.report import ParseError, Report
from carbon254.markets.transport import FetchError, IsoClient, RetryPolicy, TransportConfig
from carbon254.replay.server import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset, spec, validate
from shared_data import SHARED_DATA

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "spp"
REAL = SHARED_DATA / "iso" / "spp"
FALL, SPRING = date(2024, 11, 3), date(2024, 3, 10)


def parse(report: Report, name: str) -> pl.DataFrame:
    return parse_bytes(report, (FIXTURES / name).read_bytes())


def parse_bytes(report: Report, data: bytes) -> pl.DataFrame:
    table = report.parse(data)
    validate(report.dataset, table)
    return pl.from_arrow(table)  # type: ignore[return-value]


# --------------------------------------------------------------------------- LMP


def test_da_lmp_fall_back_day_repeated_local_label_unique_gmt() -> None:
    raw = pl.read_csv(FIXTURES / "DA-LMP-SL-202411030100.csv", infer_schema=False)
    hub_raw = raw.filter(pl.col(" Settlement Location") == "SPPNORTH_HUB")
    assert hub_raw["Interval"].n_unique() == 24 and hub_raw["GMTIntervalEnd"].n_unique() == 25
    frame = parse(spp.DA_LMP, "DA-LMP-SL-202411030100.csv")
    assert frame.height == 75 and set(frame["market"]) == {"DAM"}
    hub = frame.filter(pl.col("location") == "SPPNORTH_HUB").sort("interval_start")
    assert hub["interval_start"].n_unique() == 25
    assert hub["interval_start"][0] == utc(2024, 11, 3, 5)  # 00:00 CDT
    assert hub["interval_end"][-1] == utc(2024, 11, 4, 6)  # 00:00 CST
    # Both hours labelled 01:00 local: ends 06:00 and 07:00 UTC.
    assert hub["interval_end"][0] == utc(2024, 11, 3, 6) and hub["interval_end"][1] == utc(2024, 11, 3, 7)
    first = hub.row(0, named=True)
    assert (first["lmp"], first["energy"], first["congestion"], first["loss"]) == (23.96, 24.0, 0.0, -0.04)
    types = dict(zip(frame["location"], frame["location_type"], strict=False))
    assert types == {"SPPNORTH_HUB": "hub", "AECI": "interface", "OKGE_OKGE": "node"}
    check_components(frame)


def test_da_lmp_spring_forward_with_baa_column() -> None:
    frame = parse(spp.DA_LMP, "DA-LMP-SL-202403100100.csv")
    assert frame.height == 69
    node = frame.filter(pl.col("location") == "OKGE_OKGE").sort("interval_start")
    assert node["interval_start"][0] == utc(2024, 3, 10, 6)
    assert node["interval_end"][1] == utc(2024, 3, 10, 8)  # 03:00 CDT follows 01:00 CST
    assert node["interval_end"][-1] == utc(2024, 3, 11, 5)
    check_components(frame)


def test_rtbm_daily_file_spring_forward_276_intervals() -> None:
    frame = parse(spp.RTBM_LMP_DAILY, "RTBM-LMP-DAILY-SL-20240310.csv").sort("interval_start")
    assert frame.height == 276 and set(frame["location_type"]) == {"hub"}
    assert frame["interval_start"][0] == utc(2024, 3, 10, 6)
    assert frame["interval_end"][-1] == utc(2024, 3, 11, 5)
    assert (frame["interval_start"].diff().drop_nulls() == timedelta(minutes=5)).all()
    check_components(frame)


def test_rtbm_interval_files_in_repeated_hour() -> None:
    first = parse(spp.RTBM_LMP, "RTBM-LMP-SL-202411030100.csv")
    second = parse(spp.RTBM_LMP, "RTBM-LMP-SL-202411030100d.csv")
    assert first.height == second.height == 2
    assert set(first["interval_end"]) == {utc(2024, 11, 3, 6)}
    assert set(second["interval_end"]) == {utc(2024, 11, 3, 7)}  # same local label, one hour later
    assert set(second["interval_start"]) == {utc(2024, 11, 3, 6, 55)}
    check_components(pl.concat([first, second]))


def test_lmp_layout_errors() -> None:
    header = b"Interval,GMTIntervalEnd,Settlement Location,Pnode,LMP,MLC,MCC,MEC\n"
    with pytest.raises(ParseError, match="energy"):
        spp.DA_LMP.parse(b"Interval,GMTIntervalEnd,Settlement Location,Pnode,LMP,MLC,MCC\n")
    with pytest.raises(ParseError, match="line 2"):
        spp.DA_LMP.parse(header + b"x,13/45/2024 99:00:00,A,A,1,0,0,1\n")
    with pytest.raises(ParseError, match="not a number"):
        spp.DA_LMP.parse(header + b"x,11/03/2024 06:00:00,A,A,abc,0,0,1\n")
    with pytest.raises(ParseError, match="empty"):
        spp.DA_LMP.parse(b"")


# --------------------------------------------------------------------------- LMP fast path


def daily_file(
    intervals: int, locations: list[str], drop: tuple[int, str] | None = None, swap: int | None = None
) -> bytes:
    """An RTBM daily file in SPP's layout (made-up prices), interval by interval, optionally without
    one (interval, location) row or with the first two locations in the other order in interval `swap`."""
    lines = ["Interval,GMT Interval,Settlement Location Name,PNODE Name,LMP,MLC,MCC,MEC"]
    for k in range(intervals):
        local = f"07/16/2024 00:{5 * (k + 1):02d}:00"
        gmt = f"07/16/2024 05:{5 * (k + 1):02d}:00"
        order = [locations[1], locations[0], *locations[2:]] if k == swap else locations
        for j, loc in enumerate(order):
            if drop != (k, loc):
                mec, mcc, mlc = 20.0 + k, round(0.25 * j - 1, 2), -0.04
                lines.append(f"{local},{gmt},{loc},{loc}_PN,{mec + mcc + mlc:.2f},{mlc},{mcc},{mec}")
    return ("\n".join(lines) + "\n").encode()


LOCATIONS = ["SPPNORTH_HUB", "AECI", "OKGE_OKGE", "ERCOTN", "SL_0001_LD", "SPPSOUTH_HUB", "MEC"]
FAST_CASES = {
    "interval by interval": daily_file(6, LOCATIONS),
    "a location missing once": daily_file(6, LOCATIONS, drop=(3, "AECI")),
    "two hubs the other way round once": daily_file(6, ["SPPNORTH_HUB", "SPPSOUTH_HUB", "AECI"], swap=4),
    "one location": daily_file(4, ["SPPNORTH_HUB"]),
    "one interval": daily_file(1, LOCATIONS),
    "location by location (fixture)": (FIXTURES / "RTBM-LMP-DAILY-SL-20240310.csv").read_bytes(),
    "DA hourly (fixture)": (FIXTURES / "DA-LMP-SL-202411030100.csv").read_bytes(),
    "DA with BAA (fixture)": (FIXTURES / "DA-LMP-SL-202403100100.csv").read_bytes(),
}


@pytest.mark.parametrize("data", FAST_CASES.values(), ids=FAST_CASES.keys())
def test_lmp_fast_path_equals_general_path(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    quick = spp._lmp_fast(data, "RT5", timedelta(minutes=5))
    assert quick is not None  # taken
    monkeypatch.setattr(spp, "_lmp_fast", lambda *a, **k: None)
    assert quick.equals(spp.RTBM_LMP_DAILY.parse(data))
    validate(Dataset.LMP, quick)


@pytest.mark.parametrize(
    ("data", "taken"),
    [
        (daily_file(6, LOCATIONS), True),
        (daily_file(6, LOCATIONS).replace(b",AECI,AECI_PN,", b',"AECI",AECI_PN,'), True),  # quoted
        (daily_file(6, LOCATIONS).replace(b",AECI,AECI_PN,", b',"AE,CI",AECI_PN,'), False),  # a quoted comma
        (daily_file(6, LOCATIONS) + b"x,07/16/2024 05:05:00,A,A,1,0,0,1,9\n", False),  # a field too many
        (daily_file(6, LOCATIONS) + b"x,07/16/2024 05:05:00,A,A,1,0,0\n", False),  # a field too few
    ],
    ids=["plain", "quoted", "quoted-comma", "field-too-many", "field-too-few"],
)
def test_lmp_comma_count_beside_the_read_decides_as_inline(
    data: bytes, taken: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A daily file's commas are counted on a helper thread during the read (from 4 MB); here every
    # payload takes that road, and the fast path decides as it does inline.
    inline = spp._lmp_fast(data, "RT5", timedelta(minutes=5))
    monkeypatch.setattr(spp, "_COUNT_APART", 0)
    beside = spp._lmp_fast(data, "RT5", timedelta(minutes=5))
    assert (inline is not None) is taken and (beside is not None) is taken
    if inline is not None and beside is not None:
        assert inline.equals(beside)
        monkeypatch.setattr(spp, "_lmp_fast", lambda *a, **k: None)
        assert beside.equals(spp.RTBM_LMP_DAILY.parse(data))  # the general path's rows


def test_lmp_daily_file_types_every_interval_of_a_location_alike() -> None:
    frame = parse_bytes(spp.RTBM_LMP_DAILY, daily_file(6, LOCATIONS, drop=(3, "AECI")))
    kinds = frame.group_by("location").agg(pl.col("location_type").unique())
    assert {r[0]: r[1] for r in kinds.rows()} == {
        "SPPNORTH_HUB": ["hub"],
        "SPPSOUTH_HUB": ["hub"],
        "AECI": ["interface"],
        "ERCOTN": ["interface"],
        "MEC": ["interface"],
        "OKGE_OKGE": ["node"],
        "SL_0001_LD": ["node"],
    }
    assert frame.height == 6 * 7 - 1
    assert frame["interval_end"].min() == utc(2024, 7, 16, 5, 5) and frame["interval_end"].max() == utc(
        2024, 7, 16, 5, 30
    )


def test_lmp_daily_file_is_built_in_arrow(monkeypatch: pytest.MonkeyPatch) -> None:
    # Building a Polars frame and converting it column by column (`canonical_table`) was a third of a
    # daily file's parse after the read; the fast path builds the Arrow table itself.
    def no_frame(*args: object, **kwargs: object) -> None:
        raise AssertionError("canonical_table was used")

    monkeypatch.setattr(spp, "canonical_table", no_frame)
    table = spp.RTBM_LMP_DAILY.parse(daily_file(6, LOCATIONS))
    assert table.num_rows == 42 and table.schema == spec(Dataset.LMP).schema


def test_lmp_fast_path_leaves_padded_names_to_the_general_path() -> None:
    data = daily_file(2, LOCATIONS).replace(b",OKGE_OKGE,", b", OKGE_OKGE,")
    assert spp._lmp_fast(data, "RT5", timedelta(minutes=5)) is None
    frame = parse_bytes(spp.RTBM_LMP_DAILY, data)
    assert "OKGE_OKGE" in set(frame["location"])  # stripped by the general path


# --------------------------------------------------------------------------- AS


def test_da_mcp_long_rows() -> None:
    frame = parse(spp.DA_MCP, "DA-MCP-202411030100.csv")
    assert frame.height == 25 * 2 * 7
    assert set(frame["product"]) == {"RegUP", "RegDN", "RampUP", "RampDN", "UncUP", "Spin", "Supp"}
    rz2 = frame.filter((pl.col("region") == "RZ2") & (pl.col("product") == "RegUP")).sort("interval_start")
    assert rz2.height == 25 and rz2["interval_start"].n_unique() == 25
    assert rz2["price"][0] == 9.75 and rz2["interval_start"][0] == utc(2024, 11, 3, 5)


def test_rtbm_mcp_daily_fall_back_300_intervals() -> None:
    frame = parse(spp.RTBM_MCP_DAILY, "RTBM-MCP-DAILY-20241103.csv")
    assert frame.height == 300 * 9 - 1  # one blank Spin price left out
    reg = frame.filter(pl.col("product") == "RegUPService").sort("interval_start")
    assert reg.height == 300 and reg["interval_start"].n_unique() == 300
    assert reg["interval_start"][0] == utc(2024, 11, 3, 5) and reg["interval_end"][-1] == utc(2024, 11, 4, 6)
    assert set(frame["market"]) == {"RT5"}


def test_rtbm_mcp_interval_file() -> None:
    frame = parse(spp.RTBM_MCP, "RTBM-MCP-202403100305.csv")
    assert frame.height == 9 and set(frame["interval_end"]) == {utc(2024, 3, 10, 8, 5)}
    assert dict(zip(frame["product"], frame["price"], strict=True))["RegUPService"] == 8.0


# --------------------------------------------------------------------------- load


def test_hourly_load_wide_layout_fall_back() -> None:
    frame = parse(spp.HOURLY_LOAD, "DAILY_HOURLY_LOAD-20241103.csv")
    assert frame.height == 99 and set(frame["zone"]) == {"CSWS", "EDE", "KCPL", "SPS"}
    kcpl = frame.filter(pl.col("zone") == "KCPL").sort("interval_start")
    assert kcpl.height == 25 and kcpl["interval_start"].n_unique() == 25
    assert kcpl["mw"][0] == 3000.0 and kcpl["interval_end"][0] == utc(2024, 11, 3, 6)


def test_hourly_load_long_layout_spring_forward() -> None:
    frame = parse(spp.HOURLY_LOAD, "DAILY_HOURLY_LOAD-20260308.csv")
    assert frame.height == 46 and set(frame["zone"]) == {"CSWS", "KCPL"} and set(frame["kind"]) == {"actual"}


def test_mtlf_forecast_and_actual() -> None:
    frame = parse(spp.MTLF, "OP-MTLF-202411030600.csv")
    actual = frame.filter(pl.col("kind") == "actual").sort("interval_start")
    forecast = frame.filter(pl.col("kind") == "forecast").sort("interval_start")
    assert actual.height == 8 and forecast.height == 12 and set(frame["zone"]) == {"SPP"}
    assert set(forecast["forecast_issued_at"]) == {utc(2024, 11, 3, 12)}  # 06:00 CST
    assert forecast["interval_start"][0] == utc(2024, 11, 3, 12) and forecast["mw"][0] == 31050.0
    assert actual["interval_end"][-1] == utc(2024, 11, 3, 12) and actual["mw"][-1] == 30000.0
    assert actual["forecast_issued_at"].null_count() == 8


# --------------------------------------------------------------------------- detection


ALL = [
    ("DA-LMP-SL-202411030100.csv", spp.DA_LMP),
    ("RTBM-LMP-SL-202411030100d.csv", spp.RTBM_LMP),
    ("RTBM-LMP-DAILY-SL-20240310.csv", spp.RTBM_LMP_DAILY),
    ("DA-MCP-202411030100.csv", spp.DA_MCP),
    ("RTBM-MCP-202403100305.csv", spp.RTBM_MCP),
    ("RTBM-MCP-DAILY-20241103.csv", spp.RTBM_MCP_DAILY),
    ("DAILY_HOURLY_LOAD-20241103.csv", spp.HOURLY_LOAD),
    ("OP-MTLF-202411030100d.csv", spp.MTLF),
]


@pytest.mark.parametrize(("name", "report"), ALL)
def test_detect_report(name: str, report: Report) -> None:
    assert detect_report(Iso.SPP, name, (FIXTURES / name).read_bytes()) is report


@pytest.mark.parametrize(
    ("name", "report"),
    [(n, r) for n, r in ALL if r in (spp.RTBM_LMP_DAILY, spp.DA_MCP, spp.MTLF)],
)
def test_detect_report_by_header(name: str, report: Report) -> None:
    assert detect_report(Iso.SPP, "upload.csv", (FIXTURES / name).read_bytes()) is report


# --------------------------------------------------------------------------- transport


def serve() -> ReplayServer:
    return ReplayServer(routes_for(Iso.SPP, [REAL, FIXTURES]))


def client(server: ReplayServer) -> IsoClient:
    return IsoClient(Iso.SPP, TransportConfig(base_url=server.url, retry=RetryPolicy(base_s=0.01)))


def fetch(server: ReplayServer, dataset: Dataset, market: str, day: date) -> list[Payload]:
    with client(server) as c:
        return list(spp.SppConnector().fetch(c, dataset, market, day))


def rows(payloads: list[Payload]) -> pl.DataFrame:
    frames = [pl.from_arrow(p.report.parse(p.data)) for p in payloads]
    return pl.concat(frames) if frames else pl.DataFrame()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dataset", "market", "day", "expected", "report"),
    [
        (Dataset.LMP, "DAM", FALL, 75, spp.DA_LMP),
        (Dataset.LMP, "DAM", SPRING, 69, spp.DA_LMP),
        (Dataset.LMP, "RT5", SPRING, 276, spp.RTBM_LMP_DAILY),
        (Dataset.AS_PRICE, "DAM", FALL, 350, spp.DA_MCP),
        (Dataset.AS_PRICE, "RT5", FALL, 2699, spp.RTBM_MCP_DAILY),
        (Dataset.AS_PRICE, "RT5", SPRING, 9, spp.RTBM_MCP),
        (Dataset.LOAD, "actual", FALL, 99, spp.HOURLY_LOAD),
    ],
)
def test_fetch_through_replay(
    dataset: Dataset, market: str, day: date, expected: int, report: Report
) -> None:
    with serve() as server:
        payloads = fetch(server, dataset, market, day)
    assert {p.report for p in payloads} == {report}
    assert rows(payloads).height == expected


def test_fetch_rt5_interval_files_treats_missing_intervals_as_gaps() -> None:
    with serve() as server:
        payloads = fetch(server, Dataset.LMP, "RT5", FALL)
        paths = [r.param("path") for r in server.requests]
    assert paths[0] == "/2024/11/By_Day/RTBM-LMP-DAILY-SL-20241103.csv"  # not posted: 404
    assert len(paths) == 1 + 300  # then every interval of the 25-hour day
    assert paths[1] == "/2024/11/By_Interval/03/RTBM-LMP-SL-202411030005.csv"
    assert paths[-1] == "/2024/11/By_Interval/03/RTBM-LMP-SL-202411040000.csv"  # folder of its start date
    assert "/2024/11/By_Interval/03/RTBM-LMP-SL-202411030105d.csv" in paths
    assert [p.name for p in payloads][:3] == [
        "RTBM-LMP-SL-202411030100.csv",
        "RTBM-LMP-SL-202411030105.csv",
        "RTBM-LMP-SL-202411030110.csv",
    ]
    frame = rows(payloads)
    assert frame.height == 25 * 2
    assert frame["interval_end"].n_unique() == 25
    assert frame["interval_end"].min() == utc(2024, 11, 3, 6) and frame["interval_end"].max() == utc(
        2024, 11, 3, 8
    )


def test_fetch_mtlf_vintages_of_the_day() -> None:
    with serve() as server:
        payloads = fetch(server, Dataset.LOAD, "forecast", FALL)
        paths = [r.param("path") for r in server.requests]
    assert len(paths) == 25 and "/2024/11/03/OP-MTLF-202411030100d.csv" in paths
    assert [p.name for p in payloads] == ["OP-MTLF-202411030100d.csv", "OP-MTLF-202411030600.csv"]
    assert [p.published_at for p in payloads] == [utc(2024, 11, 3, 7), utc(2024, 11, 3, 12)]
    frame = rows(payloads)
    assert set(frame.filter(pl.col("kind") == "forecast")["forecast_issued_at"]) == {
        utc(2024, 11, 3, 7),
        utc(2024, 11, 3, 12),
    }


def test_nothing_published_yields_nothing() -> None:
    with serve() as server:
        assert fetch(server, Dataset.LMP, "DAM", date(2024, 1, 5)) == []
        assert fetch(server, Dataset.LOAD, "actual", date(2024, 1, 5)) == []


def test_wrong_folder_is_404() -> None:
    with serve() as server, client(server) as c, pytest.raises(FetchError) as info:
        c.get(spp.url("rtbm-mcp", "/2024/11/By_Day/DA-LMP-SL-202411030100.csv"))
    assert info.value.status == 404


def test_fault_500_then_success() -> None:
    with serve() as server:
        server.inject(Fault(FaultKind.ERROR_500, path=r"da-mcp", times=2))
        payloads = fetch(server, Dataset.AS_PRICE, "DAM", FALL)
        assert len(server.requests) == 3
    assert rows(payloads).height == 350


def test_malformed_csv_row_ends_in_parse_error() -> None:
    with serve() as server:
        server.inject(Fault(FaultKind.MALFORMED_CSV, path=r"da-lmp"))
        payloads = fetch(server, Dataset.LMP, "DAM", FALL)
    with pytest.raises(ParseError):
        payloads[0].report.parse(payloads[0].data)
