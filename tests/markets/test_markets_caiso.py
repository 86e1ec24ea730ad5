"""CAISO OASIS parsers, detection and downloads through the replay server.

`seed.csv` is a real OASIS PRC_LMP extract (shared data, read in place). Every
other file under fixtures/caiso is HAND-MADE from the documented OASIS layouts
(see fixtures/caiso/README.md) to exercise both 2024 DST days, OPR_HR 25,
unsorted rows, partial and GHG components.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from markets_checks import utc

from carbon254.isos import Iso
from carbon254.isos.caiso import reports as caiso
from carbon254.markets import registry
from carbon254.markets.report import ParseError, Parser, SkippedRows, skipped_rows
from carbon254.markets.transport import IsoClient, RetryPolicy, TransportConfig
from carbon254.replay.server import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset, validate
from shared_data import SHARED_DATA

SHARED_ISO = SHARED_DATA / "iso"
REAL = SHARED_ISO / "caiso"
SEED = REAL / "seed.csv"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "caiso"
SPRING, FALL = date(2024, 3, 10), date(2024, 11, 3)

needs_real = pytest.mark.skipif(not SEED.exists(), reason=f"real CAISO file not present at {SEED}")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def frame(table: pa.Table) -> pl.DataFrame:
    return pl.from_arrow(table)  # type: ignore[return-value]


def zipped(member: str, body: bytes, compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        zf.writestr(member, body)
    return buffer.getvalue()


def assert_components(table: pa.Table) -> None:
    validate(Dataset.LMP, table)
    full = frame(table).drop_nulls(["energy", "congestion", "loss"])
    assert ((full["energy"] + full["congestion"] + full["loss"] - full["lmp"]).abs() < 1e-6).all()


def assert_contiguous(df: pl.DataFrame, by: str, step: timedelta) -> None:
    for _, group in df.sort("interval_start").group_by(by):
        starts = group["interval_start"].sort()
        assert (starts.diff().drop_nulls() == step).all()
        assert ((group["interval_end"] - group["interval_start"]) == step).all()


# --- PRC_LMP -----------------------------------------------------------------------------------------


@needs_real
def test_real_seed_prc_lmp_keeps_lmp_and_leaves_missing_components_null() -> None:
    table = caiso.parse_prc_lmp(SEED.read_bytes())
    validate(Dataset.LMP, table)
    df = frame(table)
    assert df.height == 8  # 8 trade hours (HE17..24); the lone MCC row joins HE20
    assert df["interval_start"].is_sorted()
    first = df.row(0, named=True)
    assert first["location"] == "AFPR_1_TOT_GEN-APND"
    assert first["location_type"] == "node"
    assert first["market"] == "DAM"
    assert first["interval_start"] == utc(2020, 1, 2, 0)  # OPR_HR 17 of 2020-01-01 PST
    assert first["interval_end"] == utc(2020, 1, 2, 1)
    assert first["lmp"] == pytest.approx(33.34256)
    he20 = df.filter(pl.col("interval_start") == utc(2020, 1, 2, 3)).row(0, named=True)
    assert he20["lmp"] == pytest.approx(36.26838)
    assert he20["congestion"] == 0.0
    assert he20["energy"] is None and he20["loss"] is None
    assert df["congestion"].null_count() == 7
    assert df.filter(pl.col("interval_start") == utc(2020, 1, 2, 7))["lmp"][0] == pytest.approx(29.57653)


def test_prc_lmp_fall_back_day_has_25_hours_with_opr_hr_25() -> None:
    table = caiso.parse_prc_lmp(fixture("PRC_LMP_DAM_20241103.csv"))
    assert_components(table)
    df = frame(table)
    assert df.height == 50
    hub = df.filter(pl.col("location") == "TH_NP15_GEN-APND")
    assert hub.height == 25
    assert hub["interval_start"][0] == utc(2024, 11, 3, 7)  # midnight PDT
    assert hub["interval_start"][1] == utc(2024, 11, 3, 8)  # 01:00 PDT
    assert hub["interval_start"][2] == utc(2024, 11, 3, 9)  # 01:00 PST, the repeated hour
    assert hub["interval_end"][-1] == utc(2024, 11, 4, 8)  # OPR_HR 25 ends at midnight PST
    assert_contiguous(df, "location", timedelta(hours=1))
    assert set(df["location_type"]) == {"hub", "zone"}


def test_prc_lmp_folds_ghg_into_energy() -> None:
    df = frame(caiso.parse_prc_lmp(fixture("PRC_LMP_DAM_20241103.csv")))
    he2 = df.filter(
        (pl.col("location") == "TH_NP15_GEN-APND") & (pl.col("interval_start") == utc(2024, 11, 3, 8))
    )
    row = he2.row(0, named=True)
    assert row["lmp"] == pytest.approx(45.2425)
    assert row["energy"] == pytest.approx(44.0 + 1.25)  # MCE + MGHG
    assert row["congestion"] == pytest.approx(0.995)
    assert row["loss"] == pytest.approx(-1.0025)


def test_prc_lmp_spring_forward_day_has_23_hours() -> None:
    table = caiso.parse_prc_lmp(fixture("PRC_LMP_DAM_20240310.csv"))
    assert_components(table)
    df = frame(table)
    assert df.height == 46
    zone = df.filter(pl.col("location") == "DLAP_PGAE-APND")
    assert zone["interval_start"][0] == utc(2024, 3, 10, 8)
    assert zone["interval_start"][2] == utc(2024, 3, 10, 10)  # OPR_HR 3 is 03:00 PDT
    assert zone["interval_end"][-1] == utc(2024, 3, 11, 7)
    assert_contiguous(df, "location", timedelta(hours=1))


def test_opr_hour_must_agree_with_gmt() -> None:
    text = fixture("PRC_LMP_DAM_20241103.csv").decode()
    lines = text.splitlines()
    # shift one row's trade hour by one: the GMT start no longer sits in it
    fields = lines[1].split(",")
    fields[3] = str(int(fields[3]) % 25 + 1)
    bad = "\n".join([lines[0], ",".join(fields), *lines[2:]]).encode()
    with pytest.raises(ParseError, match="not in trade hour"):
        caiso.parse_prc_lmp(bad)


def test_opr_hour_25_on_a_normal_day_is_rejected() -> None:
    head = fixture("PRC_LMP_DAM_20241103.csv").decode().splitlines()[0]
    row = (
        "2024-11-05T08:00:00-00:00,2024-11-05T09:00:00-00:00,2024-11-04,25,0,N,N,N,DAM,LMP,LMP_PRC,N,"
        "ALL_APNODES,0,20.5,1"
    )
    with pytest.raises(ParseError, match="hour 25 does not exist"):
        caiso.parse_prc_lmp(f"{head}\n{row}\n".encode())


def test_lmp_is_derived_from_complete_components_and_missing_lmp_fails() -> None:
    text = fixture("PRC_LMP_DAM_20240310.csv").decode().splitlines()
    without_lmp = [line for line in text if ",LMP,LMP_PRC," not in line]
    df = frame(caiso.parse_prc_lmp("\n".join(without_lmp).encode()))
    assert df.height == 46
    assert ((df["energy"] + df["congestion"] + df["loss"] - df["lmp"]).abs() < 1e-9).all()
    incomplete = [line for line in without_lmp if ",MCL," not in line]
    with pytest.raises(ParseError, match="neither an LMP row"):
        caiso.parse_prc_lmp("\n".join(incomplete).encode())


def test_prc_lmp_rejects_duplicates_bad_numbers_and_unknown_types() -> None:
    lines = fixture("PRC_LMP_DAM_20240310.csv").decode().splitlines()
    with pytest.raises(ParseError, match="appears twice"):
        caiso.parse_prc_lmp("\n".join([*lines, lines[1]]).encode())
    bad_number = lines[1].rsplit(",", 2)[0] + ",abc,1"
    with pytest.raises(ParseError, match="line 2: MW 'abc' is not a number"):
        caiso.parse_prc_lmp("\n".join([lines[0], bad_number, *lines[2:]]).encode())
    unknown = lines[1].replace(",LMP,", ",XYZ,").replace(",MCE,", ",XYZ,").replace(",MCC,", ",XYZ,")
    unknown = unknown.replace(",MCL,", ",XYZ,")
    with pytest.raises(ParseError, match="LMP_TYPE 'XYZ'"):
        caiso.parse_prc_lmp("\n".join([lines[0], unknown]).encode())
    with pytest.raises(ParseError, match="missing column"):
        caiso.parse_prc_rtpd_lmp(fixture("PRC_LMP_DAM_20240310.csv"))


# --- zips and OASIS errors ------------------------------------------------------------------------------


def error_zip(code: str, text: str) -> bytes:
    xml = (
        '<?xml version="1.0"?><m:OASISReport xmlns:m="http://www.caiso.com/soa/OASISReport_v1.xsd">'
        f"<m:MessagePayload><m:RTO><m:ERROR><m:ERR_CODE>{code}</m:ERR_CODE><m:ERR_DESC>{text}</m:ERR_DESC>"
        "</m:ERROR></m:RTO></m:MessagePayload></m:OASISReport>"
    )
    return zipped("INVALID_REQUEST.xml", xml.encode())


def test_zip_payload_parses_like_its_csv() -> None:
    body = fixture("PRC_LMP_DAM_20241103.csv")
    assert caiso.parse_prc_lmp(zipped("20241103_20241104_PRC_LMP_DAM_LMP_v12.csv", body)).equals(
        caiso.parse_prc_lmp(body)
    )


def test_no_data_error_is_nothing_published_and_other_errors_fail() -> None:
    empty = caiso.parse_prc_lmp(error_zip("1000", "No data returned for the specified selection"))
    assert empty.num_rows == 0
    assert (
        caiso.parse_sld_fcst(error_zip("1000", "No data returned for the specified selection")).num_rows == 0
    )
    with pytest.raises(ParseError, match="OASIS error: 1015: Request time exceeds limit"):
        caiso.parse_prc_lmp(error_zip("1015", "Request time exceeds limit"))


def test_truncated_and_empty_payloads_fail() -> None:
    whole = zipped("x_PRC_LMP_v12.csv", fixture("PRC_LMP_DAM_20241103.csv"))
    with pytest.raises(ParseError, match="cut short"):
        caiso.parse_prc_lmp(whole[: len(whole) // 2])
    with pytest.raises(ParseError, match="empty"):
        caiso.parse_prc_lmp(b"")


# --- RTPD / RTD -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parse", "market", "minutes", "rows"),
    [
        ("PRC_RTPD_LMP_RTPD_{}.csv", caiso.parse_prc_rtpd_lmp, "RT15", 15, 16),
        ("PRC_INTVL_LMP_RTM_{}.csv", caiso.parse_prc_intvl_lmp, "RT5", 5, 36),
    ],
)
@pytest.mark.parametrize("day", [SPRING, FALL])
def test_real_time_lmp_intervals_on_dst_days(
    name: str, parse: Parser, market: str, minutes: int, rows: int, day: date
) -> None:
    table = parse(fixture(name.format(f"{day:%Y%m%d}")))
    assert_components(table)
    df = frame(table)
    assert df.height == rows
    assert set(df["market"]) == {market}
    assert_contiguous(df, "location", timedelta(minutes=minutes))
    start = df["interval_start"]
    if day == FALL:
        assert start[0] == utc(2024, 11, 3, 7)
        # trade hours 2 and 3 are 01:00 PDT and 01:00 PST: 08:00Z and 09:00Z
        assert start.is_in([utc(2024, 11, 3, 8), utc(2024, 11, 3, 9)]).sum() == 2
    else:
        assert start[0] == utc(2024, 3, 10, 8)
        # trade hour 3 is 03:00 PDT = 10:00Z, right after hour 2's 09:00Z
        assert utc(2024, 3, 10, 10) in start.to_list()
        assert df["interval_end"][-1] == utc(2024, 3, 10, 11 if minutes == 5 else 12)


def test_rtpd_exact_value() -> None:
    df = frame(caiso.parse_prc_rtpd_lmp(fixture("PRC_RTPD_LMP_RTPD_20241103.csv")))
    row = df.filter(pl.col("interval_start") == utc(2024, 11, 3, 9, 15)).row(0, named=True)
    # trade hour 3, interval 2 of the fall-back day (01:15 PST)
    assert row["interval_end"] == utc(2024, 11, 3, 9, 30)
    assert row["lmp"] == pytest.approx(row["energy"] + row["congestion"] + row["loss"])
    lines = [
        line
        for line in fixture("PRC_RTPD_LMP_RTPD_20241103.csv").decode().splitlines()
        if line.startswith("2024-11-03T09:15:00") and ",LMP," in line
    ]
    assert row["lmp"] == pytest.approx(float(lines[0].split(",")[14]))


# --- ancillary services -----------------------------------------------------------------------------------


def test_prc_as_both_dst_days() -> None:
    fall = caiso.parse_prc_as(fixture("PRC_AS_DAM_20241103.csv"))
    validate(Dataset.AS_PRICE, fall)
    df = frame(fall)
    assert df.height == 25 * 6
    assert set(df["product"]) == {"RU", "RD", "SR", "NR", "RMU", "RMD"}
    assert set(df["region"]) == {"AS_CAISO_EXP"}
    assert set(df["market"]) == {"DAM"}
    ru = df.filter(pl.col("product") == "RU")
    assert ru["interval_start"][0] == utc(2024, 11, 3, 7)
    assert ru["interval_end"][-1] == utc(2024, 11, 4, 8)
    assert ru.filter(pl.col("interval_start") == utc(2024, 11, 3, 9))["price"][0] == pytest.approx(3.5)  # HE3
    spring = frame(caiso.parse_prc_as(fixture("PRC_AS_DAM_20240310.csv")))
    assert spring.height == 23 * 6
    assert_contiguous(spring, "product", timedelta(hours=1))


def test_prc_intvl_as_market_from_interval_length() -> None:
    table = caiso.parse_prc_intvl_as(fixture("PRC_INTVL_AS_RTM_20241103.csv"))
    validate(Dataset.AS_PRICE, table)
    df = frame(table)
    assert df.height == 3 * 4 * 4
    assert set(df["market"]) == {"RT15"}
    assert_contiguous(df, "product", timedelta(minutes=15))
    nr = df.filter((pl.col("product") == "NR") & (pl.col("interval_start") == utc(2024, 11, 3, 9, 30)))
    assert nr["price"][0] == pytest.approx(round(2 + 3 * 0.5 + 3 * 1.75 + 3 * 0.1, 2))
    spring = frame(caiso.parse_prc_intvl_as(fixture("PRC_INTVL_AS_RTM_20240310.csv")))
    assert utc(2024, 3, 10, 10) in spring["interval_start"].to_list()


# --- load ------------------------------------------------------------------------------------------------


def test_sld_fcst_actual_both_dst_days() -> None:
    fall = caiso.parse_sld_fcst(fixture("SLD_FCST_ACTUAL_20241103.csv"))
    validate(Dataset.LOAD, fall)
    df = frame(fall)
    assert df.height == 50
    assert set(df["kind"]) == {"actual"}
    assert df["forecast_issued_at"].null_count() == 50
    caiso_tac = df.filter(pl.col("zone") == "CA ISO-TAC")
    assert caiso_tac["interval_start"][0] == utc(2024, 11, 3, 7)
    assert caiso_tac["interval_end"][-1] == utc(2024, 11, 4, 8)
    assert caiso_tac["mw"][24] == pytest.approx(20000 + 25 * 310.5)  # OPR_HR 25
    spring = frame(caiso.parse_sld_fcst(fixture("SLD_FCST_ACTUAL_20240310.csv")))
    assert spring.height == 46
    assert_contiguous(spring, "zone", timedelta(hours=1))


@pytest.mark.parametrize(
    ("run", "issued"),
    [
        ("DAM", utc(2024, 11, 2, 17)),  # 10:00 PDT the day before
        ("2DA", utc(2024, 11, 1, 17)),
        ("7DA", utc(2024, 10, 27, 17)),
    ],
)
def test_sld_fcst_forecast_issue_rule(run: str, issued: datetime) -> None:
    table = caiso.parse_sld_fcst(fixture(f"SLD_FCST_{run}_20241103.csv"))
    validate(Dataset.LOAD, table)
    df = frame(table)
    assert df.height == 25
    assert set(df["kind"]) == {"forecast"}
    assert set(df["forecast_issued_at"]) == {issued}


def answer_of(*runs: str, extra: tuple[str, ...] = ()) -> bytes:
    """One SLD_FCST answer holding the rows of the fixtures of `runs` (and `extra` lines), as OASIS
    answers a request without a market run: one CSV, one header, the runs one after another."""
    head, *rest = fixture(f"SLD_FCST_{runs[0]}_20241103.csv").splitlines(keepends=True)
    for run in runs[1:]:
        rest += fixture(f"SLD_FCST_{run}_20241103.csv").splitlines(keepends=True)[1:]
    return b"".join([head, *rest, *(line.encode() + b"\n" for line in extra)])


def test_sld_fcst_rtm_rows_are_real_time_forecasts() -> None:
    table = caiso.parse_sld_fcst(fixture("SLD_FCST_RTM_20241103.csv"))
    validate(Dataset.LOAD, table)
    df = frame(table)
    rt15, rt5 = df.filter(pl.col("kind") == "forecast_rt15"), df.filter(pl.col("kind") == "forecast_rt5")
    assert (rt15.height, rt5.height) == (2 * 3 * 4, 2 * 3 * 12)
    assert ((rt15["interval_end"] - rt15["interval_start"]) == timedelta(minutes=15)).all()
    assert ((rt5["interval_end"] - rt5["interval_start"]) == timedelta(minutes=5)).all()
    assert df["forecast_issued_at"].null_count() == df.height  # OASIS gives RTM forecasts no issue time
    # Trade hours 1..3 of the fall-back day: 01:00 PDT, 01:00 PST (OPR_HR 2), 02:00 PST, contiguous in UTC.
    tac = rt5.filter(pl.col("zone") == "CA ISO-TAC").sort("interval_start")
    assert tac["interval_start"][0] == utc(2024, 11, 3, 7) and tac["interval_end"][-1] == utc(2024, 11, 3, 10)
    assert_contiguous(rt15, "zone", timedelta(minutes=15))
    assert skipped_rows(table) == ()


def test_an_answer_with_every_market_run_loses_no_row() -> None:
    table = caiso.parse_sld_fcst(answer_of("ACTUAL", "DAM", "2DA", "7DA", "RTM"))
    validate(Dataset.LOAD, table)
    kinds = dict(frame(table).group_by("kind").len().iter_rows())
    assert kinds == {"actual": 50, "forecast": 75, "forecast_rt15": 24, "forecast_rt5": 72}


def test_rows_of_an_unmapped_run_are_skipped_and_counted_not_fatal() -> None:
    hour = "2024-11-03T08:00:00-00:00,2024-11-03T09:00:00-00:00,0,2024-11-03,2,0"
    hasp = f"{hour},HASP,CA ISO-TAC,x,y,1,1.0,HASP,9"
    hourly_rtm = f"{hour},RTM,CA ISO-TAC,x,y,1,1.0,RTM,9"
    table = caiso.parse_sld_fcst(answer_of("DAM", "RTM", extra=(hasp, hasp, hourly_rtm)))
    assert frame(table).height == 25 + 96
    assert skipped_rows(table) == (
        SkippedRows("MARKET_RUN_ID=HASP", 2),
        SkippedRows("MARKET_RUN_ID=RTM, 60-minute intervals", 1),
    )
    only_hasp = answer_of("DAM").splitlines(keepends=True)[0] + hasp.encode() + b"\n"
    with pytest.raises(
        ParseError, match=r"no row of a market run this parser maps; found MARKET_RUN_ID=HASP \(1 rows\)"
    ):
        caiso.parse_sld_fcst(only_hasp)


# --- detection ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "report"),
    [
        ("PRC_LMP_DAM_20241103.csv", "PRC_LMP"),
        ("PRC_RTPD_LMP_RTPD_20241103.csv", "PRC_RTPD_LMP"),
        ("PRC_INTVL_LMP_RTM_20240310.csv", "PRC_INTVL_LMP"),
        ("PRC_AS_DAM_20240310.csv", "PRC_AS"),
        ("PRC_INTVL_AS_RTM_20241103.csv", "PRC_INTVL_AS"),
        ("SLD_FCST_7DA_20241103.csv", "SLD_FCST"),
    ],
)
def test_detect_report_by_name_header_and_zip_member(name: str, report: str) -> None:
    data = fixture(name)
    assert registry.detect_report(Iso.CAISO, name, data).name == report
    assert registry.detect_report(Iso.CAISO, "download.csv", data).name == report
    member = f"20241103_20241104_{report}_X_v1.csv"
    assert registry.detect_report(Iso.CAISO, "oasis.zip", zipped(member, data)).name == report


@needs_real
def test_detect_real_seed_by_header() -> None:
    assert registry.detect_report(Iso.CAISO, "seed.csv", SEED.read_bytes()).name == "PRC_LMP"


# --- downloads through the replay server -----------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    roots = [REAL, FIXTURES] if REAL.exists() else [FIXTURES]
    with ReplayServer(routes_for(Iso.CAISO, roots)) as srv:
        yield srv


def client_for(server: ReplayServer) -> IsoClient:
    return IsoClient(Iso.CAISO, TransportConfig(base_url=server.url, retry=RetryPolicy(base_s=0.01)))


def fetch_table(
    server: ReplayServer,
    dataset: Dataset,
    market: str,
    day: date,
    connector: caiso.CaisoConnector | None = None,
) -> tuple[pl.DataFrame, int]:
    conn = connector or caiso.CaisoConnector()
    with client_for(server) as client:
        payloads = list(conn.fetch(client, dataset, market, day))
    tables = [p.report.parse(p.data) for p in payloads]
    for p in payloads:
        assert p.name.endswith(".zip")
        assert p.report.dataset is dataset
    if not tables:
        return pl.DataFrame(), 0
    return pl.concat([frame(t) for t in tables]), len(payloads)


def test_recommended_transport_spaces_requests_5s() -> None:
    assert caiso.RECOMMENDED_TRANSPORT.min_interval_s == 5.0
    assert {(t.dataset, t.market) for t in caiso.TARGETS} == {
        (Dataset.LMP, "DAM"),
        (Dataset.LMP, "RT15"),
        (Dataset.LMP, "RT5"),
        (Dataset.AS_PRICE, "DAM"),
        (Dataset.AS_PRICE, "RT15"),
        (Dataset.LOAD, "actual"),
        (Dataset.LOAD, "forecast"),
        (Dataset.LOAD, "forecast_rt15"),
        (Dataset.LOAD, "forecast_rt5"),
    }


def test_fetch_dam_lmp_for_the_fall_back_day(server: ReplayServer) -> None:
    df, n = fetch_table(server, Dataset.LMP, "DAM", FALL)
    assert n == 1 and df.height == 50
    request = server.requests[-1]
    assert request.path == "/oasisapi/SingleZip"
    assert request.param("queryname") == "PRC_LMP" and request.param("version") == "12"
    assert request.param("startdatetime") == "20241103T07:00-0000"
    assert request.param("enddatetime") == "20241104T08:00-0000"
    assert request.param("grp_type") == "ALL_APNODES" and request.param("resultformat") == "6"


@needs_real
def test_fetch_real_seed_through_oasis_zip(server: ReplayServer) -> None:
    df, n = fetch_table(server, Dataset.LMP, "DAM", date(2020, 1, 1))
    assert n == 1 and df.height == 8
    assert df["lmp"].sum() == pytest.approx(274.2142)


def test_fetch_real_time_lmp_in_hourly_chunks(server: ReplayServer) -> None:
    df, n = fetch_table(server, Dataset.LMP, "RT15", FALL)
    assert len(server.requests) == 25  # one per hour of the 25-hour day
    assert n == 4 and df.height == 16  # only trade hours 1..4 are stored; the rest say "no data"
    df5, n5 = fetch_table(server, Dataset.LMP, "RT5", SPRING)
    assert n5 == 3 and df5.height == 36
    assert set(df5["market"]) == {"RT5"}


def test_fetch_with_a_node_list_asks_once_per_day(server: ReplayServer) -> None:
    conn = caiso.CaisoConnector(caiso.CaisoSettings(nodes=("TH_SP15_GEN-APND",)))
    df, n = fetch_table(server, Dataset.LMP, "RT15", SPRING, conn)
    assert len(server.requests) == 1 and n == 1 and df.height == 16
    assert server.requests[0].param("node") == "TH_SP15_GEN-APND"


def test_fetch_as_and_load(server: ReplayServer) -> None:
    as_dam, _ = fetch_table(server, Dataset.AS_PRICE, "DAM", SPRING)
    assert as_dam.height == 23 * 6
    as_rt, _ = fetch_table(server, Dataset.AS_PRICE, "RT15", FALL)
    assert as_rt.height == 48 and set(as_rt["market"]) == {"RT15"}
    actual, _ = fetch_table(server, Dataset.LOAD, "actual", FALL)
    assert actual.height == 50
    forecast, n = fetch_table(server, Dataset.LOAD, "forecast", FALL)
    assert n == 3 and forecast.height == 75
    assert forecast["forecast_issued_at"].n_unique() == 3
    rt15, n = fetch_table(server, Dataset.LOAD, "forecast_rt15", FALL)
    assert n == 1 and "forecast_rt15" in set(rt15["kind"])
    assert server.requests[-1].param("market_run_id") == "RTM"
    assert server.requests[-1].param("execution_type") == "RTPD"


def test_fetch_a_day_with_nothing_published_yields_nothing(server: ReplayServer) -> None:
    df, n = fetch_table(server, Dataset.AS_PRICE, "DAM", date(2024, 6, 1))
    assert n == 0 and df.height == 0


def test_fault_500_then_success(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.ERROR_500, path="SingleZip", times=2))
    df, n = fetch_table(server, Dataset.LMP, "DAM", SPRING)
    assert n == 1 and df.height == 46
    assert len(server.requests) == 3


def test_fault_short_zip_ends_in_parse_error(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.SHORT_BODY, path="SingleZip", times=1))
    with pytest.raises(ParseError, match="cut short"):
        fetch_table(server, Dataset.LMP, "DAM", SPRING)


# --- fast paths ------------------------------------------------------------------------------------------


def _outcome(parse: Parser, data: bytes) -> pa.Table | str:
    try:
        return parse(data)
    except ParseError as exc:
        return f"ParseError: {exc}"


def _variants(name: str) -> Iterator[tuple[str, bytes]]:
    """The fixture, zipped, and broken copies: duplicated, blanked and garbled fields, ragged lines."""
    body = fixture(name)
    yield "as is", body
    yield "zipped", zipped(f"x_{name}", body)
    deflated = zipped(f"x_{name}", body, zipfile.ZIP_DEFLATED)
    yield "deflated", deflated
    # The CRC-32 sits 14 bytes into the local header and 16 into the central one; both must be wrong.
    bad_crc = bytearray(deflated)
    for at in (14, deflated.rindex(b"PK\x01\x02") + 16):
        bad_crc[at] ^= 0xFF
    yield "deflated, wrong CRC", bytes(bad_crc)
    lines = body.decode().splitlines()
    for what, broken in (
        ("extra field", [lines[0], lines[1] + ",x", *lines[2:]]),
        ("short line", [*lines[:-1], lines[-1].rsplit(",", 1)[0]]),
    ):
        yield f"deflated, {what}", zipped(f"x_{name}", "\n".join(broken).encode(), zipfile.ZIP_DEFLATED)
    yield "duplicate row", "\n".join([*lines, lines[3]]).encode()
    yield "extra field", "\n".join([lines[0], lines[1] + ",x", *lines[2:]]).encode()
    yield "extra empty field", "\n".join([lines[0], *lines[1:-1], lines[-1] + ","]).encode()
    for column in range(len(lines[0].split(","))):
        for value in ("", "abc", "25", "2024-11-03T08:00:00+00:00"):
            fields = lines[2].split(",")
            fields[column] = value
            yield (
                f"field {column} = {value!r}",
                "\n".join([*lines[:2], ",".join(fields), *lines[3:]]).encode(),
            )


PARSERS_BY_PREFIX = {
    "PRC_LMP_": caiso.parse_prc_lmp,
    "PRC_RTPD_LMP_": caiso.parse_prc_rtpd_lmp,
    "PRC_INTVL_LMP_": caiso.parse_prc_intvl_lmp,
    "PRC_AS_": caiso.parse_prc_as,
    "PRC_INTVL_AS_": caiso.parse_prc_intvl_as,
    "SLD_FCST_": caiso.parse_sld_fcst,
}


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.csv")))
def test_fast_paths_give_the_row_by_row_result(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Big files take typed/distinct-interval shortcuts: on any input they must match the general path."""
    parse = next(p for prefix, p in PARSERS_BY_PREFIX.items() if name.startswith(prefix))
    variants = list(_variants(name))
    slow = [_outcome(parse, data) for _, data in variants]
    monkeypatch.setattr(caiso, "_FAST_MIN_BYTES", 0)
    monkeypatch.setattr(caiso, "_FAST_MIN_ROWS", 0)
    for (what, data), expected in zip(variants, slow, strict=True):
        got = _outcome(parse, data)
        if isinstance(expected, str):
            assert got == expected, what
        else:
            assert isinstance(got, pa.Table), what
            assert frame(got).equals(frame(expected)), what


def test_deflated_zip_is_read_by_the_typed_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-member deflated zip reaches Polars as gzip (checked CRC) and gives the general path's rows."""
    monkeypatch.setattr(caiso, "_FAST_MIN_BYTES", 0)
    name = next(p.name for p in FIXTURES.glob("PRC_LMP_*.csv"))
    payload = zipped(name, fixture(name), zipfile.ZIP_DEFLATED)
    source = caiso._polars_source(payload)
    assert source is not None and source[:2] == b"\x1f\x8b"
    assert caiso._lmp_wide_typed(source, "MW") is not None
    assert frame(caiso.parse_prc_lmp(payload)).equals(frame(caiso.parse_prc_lmp(fixture(name))))
