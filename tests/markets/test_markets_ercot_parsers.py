"""ERCOT parsers on the real NP6-788-CD file and on hand-made fixtures (tests/markets/fixtures/ercot).

The fixtures are hand-made from ERCOT's documented layouts (see the fixtures
README): both 2024 DST days, hour-ending labels, DSTFlag Y on the repeated
HE 02, trailing-space column names, right-aligned values and a retry file.
"""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from markets_checks import utc

from carbon254.isos import Iso
from carbon254.isos.ercot import fastpath as fast
from carbon254.isos.ercot import parsers as p
from carbon254.isos.ercot.replay import api_rows
from carbon254.isos.ercot.reports import REPORTS, SOURCES
from carbon254.markets.registry import detect_report
from carbon254.markets.report import ParseError
from carbon254.schema import Dataset, validate
from shared_data import SHARED_DATA

REAL = SHARED_DATA / "iso" / "ercot"
REAL_SCED = REAL / "cdr.00012300.0000000000000000.20260625.004020.LMPSROSNODENP6788_20260625_004018.csv"
FIX = Path(__file__).resolve().parent / "fixtures" / "ercot"
needs_real = pytest.mark.skipif(not REAL_SCED.exists(), reason=f"real ERCOT file absent: {REAL_SCED}")


def fixture(fragment: str) -> Path:
    """The one hand-made fixture whose name contains `fragment`."""
    found = [f for f in FIX.iterdir() if fragment in f.name]
    assert len(found) == 1, found
    return found[0]


def rows(table: pa.Table, **where: object) -> list[dict[str, object]]:
    """The rows whose columns equal `where`, as dicts."""
    out = table.to_pylist()
    return [r for r in out if all(r[k] == v for k, v in where.items())]


def one(table: pa.Table, **where: object) -> dict[str, object]:
    found = rows(table, **where)
    assert len(found) == 1, (where, found)
    return found[0]


def check(dataset: Dataset, table: pa.Table, length: timedelta) -> pa.Table:
    """Validate, check every interval's length and (for lmp) that no components are invented."""
    table = validate(dataset, table)
    span = pc.subtract(table["interval_end"], table["interval_start"]).to_pylist()
    assert set(span) == {length}
    if dataset is Dataset.LMP:
        for c in ("energy", "congestion", "loss"):
            assert table[c].null_count == table.num_rows  # ERCOT publishes no components
    return table


def zipped(path: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(path.name, path.read_bytes())
    return buf.getvalue()


# --- NP6-788-CD SCED LMP (real file) -------------------------------------------------------------


@needs_real
def test_sced_lmp_real_file() -> None:
    t = check(Dataset.LMP, p.parse_sced_lmp(REAL_SCED.read_bytes()), timedelta(minutes=5))
    assert t.num_rows == 80
    first = one(t, location="7RNCHSLR_ALL")
    assert first["lmp"] == 27.04
    # 06/25/2026 00:40:18 CDT (N) = 05:40:18 UTC; the interval is the SCED run + 5 minutes.
    assert first["interval_start"] == utc(2026, 6, 25, 5, 40, 18)
    assert first["interval_end"] == utc(2026, 6, 25, 5, 45, 18)
    assert one(t, location="A4_DGR1_RN")["lmp"] == 27.10
    assert set(t["market"].to_pylist()) == {"SCED"}
    assert set(t["location_type"].to_pylist()) == {"node"}  # the kept rows hold no HB_/LZ_ points
    assert t["location"].to_pylist()[-1] == "BOARDCRK_ALL"


@needs_real
def test_sced_lmp_real_file_zipped_as_mis_serves_it() -> None:
    assert p.parse_sced_lmp(zipped(REAL_SCED)).equals(p.parse_sced_lmp(REAL_SCED.read_bytes()))


def test_sced_lmp_fall_back_repeated_hour() -> None:
    first = check(
        Dataset.LMP, p.parse_sced_lmp(fixture("6788_20241103_013012").read_bytes()), timedelta(minutes=5)
    )
    second = check(
        Dataset.LMP, p.parse_sced_lmp(fixture("6788_20241103_013014").read_bytes()), timedelta(minutes=5)
    )
    # Same wall clock 01:30, RepeatedHourFlag N = CDT (06:30Z), Y = CST (07:30Z).
    assert one(first, location="HB_HOUSTON")["interval_start"] == utc(2024, 11, 3, 6, 30, 12)
    assert one(second, location="HB_HOUSTON")["interval_start"] == utc(2024, 11, 3, 7, 30, 14)
    assert one(second, location="ALVIN_RN")["lmp"] == 40.0  # right-aligned "       40.00"
    assert one(second, location="LZ_NORTH")["lmp"] == 44.0
    types = {r["location"]: r["location_type"] for r in second.to_pylist()}
    assert types == {
        "ALVIN_RN": "node",
        "HB_HOUSTON": "hub",
        "HB_NORTH": "hub",
        "LZ_HOUSTON": "zone",
        "LZ_NORTH": "zone",
    }


def test_sced_lmp_spring_forward() -> None:
    t = check(Dataset.LMP, p.parse_sced_lmp(fixture("6788_20240310").read_bytes()), timedelta(minutes=5))
    assert one(t, location="HB_NORTH")["interval_start"] == utc(2024, 3, 10, 8, 0, 12)  # 03:00:12 CDT
    gap = b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\n03/10/2024 02:30:00,N,HB_NORTH,  20.00\n"
    with pytest.raises(ParseError, match="DST gap"):
        p.parse_sced_lmp(gap)


# --- NP6-787-CD SCED LMP by bus ------------------------------------------------------------------


def test_sced_bus_lmp_both_dst_days() -> None:
    fall = check(
        Dataset.LMP, p.parse_sced_bus_lmp(fixture("6787_20241103").read_bytes()), timedelta(minutes=5)
    )
    assert fall.num_rows == 3
    row = one(fall, location="ALVIN_8")
    assert row["lmp"] == -12.5
    assert row["interval_start"] == utc(2024, 11, 3, 7, 30, 14)  # Y: CST
    assert set(fall["market"].to_pylist()) == {"SCED_BUS"}
    assert set(fall["location_type"].to_pylist()) == {"node"}
    spring = check(
        Dataset.LMP, p.parse_sced_bus_lmp(fixture("6787_20240310").read_bytes()), timedelta(minutes=5)
    )
    assert one(spring, location="_AV_1")["lmp"] == 62.0
    assert one(spring, location="_AV_1")["interval_start"] == utc(2024, 3, 10, 8, 0, 12)


# --- NP4-190-CD DAM SPP --------------------------------------------------------------------------


def test_dam_spp_spring_forward_has_23_hours() -> None:
    t = check(Dataset.LMP, p.parse_dam_spp(fixture("20240309.131534").read_bytes()), timedelta(hours=1))
    assert t.num_rows == 23 * 3
    north = sorted(rows(t, location="HB_NORTH"), key=lambda r: r["interval_start"])
    assert len(north) == 23
    assert north[0]["interval_start"] == utc(2024, 3, 10, 6) and north[0]["lmp"] == 21.0  # HE01 CST
    # HE03 follows HE01 directly: the hour 02:00-03:00 does not exist.
    assert north[1]["interval_start"] == utc(2024, 3, 10, 7) and north[1]["lmp"] == 23.0
    assert north[-1]["interval_start"] == utc(2024, 3, 11, 4) and north[-1]["interval_end"] == utc(
        2024, 3, 11, 5
    )
    assert all(a["interval_end"] == b["interval_start"] for a, b in itertools.pairwise(north))
    types = {r["location"]: r["location_type"] for r in t.to_pylist()}
    assert types == {"HB_NORTH": "hub", "LZ_HOUSTON": "zone", "ALVIN_RN": "node"}
    assert set(t["market"].to_pylist()) == {"DAM"}


def test_dam_spp_fall_back_has_25_hours_and_trailing_space_dstflag() -> None:
    path = fixture("20241102.131212")
    assert b"DSTFlag    \n" in path.read_bytes()
    t = check(Dataset.LMP, p.parse_dam_spp(path.read_bytes()), timedelta(hours=1))
    assert t.num_rows == 25 * 3
    he2 = sorted(
        rows(t, location="LZ_HOUSTON", lmp=23.5) + rows(t, location="LZ_HOUSTON", lmp=24.0),
        key=lambda r: r["interval_start"],
    )
    # HE02 N (CDT) then HE02 Y (CST, +0.50 in the fixture).
    assert [r["interval_start"] for r in he2] == [utc(2024, 11, 3, 6), utc(2024, 11, 3, 7)]
    north = sorted(rows(t, location="HB_NORTH"), key=lambda r: r["interval_start"])
    assert north[0]["interval_start"] == utc(2024, 11, 3, 5)
    assert north[-1]["interval_end"] == utc(2024, 11, 4, 6)
    assert len({r["interval_start"] for r in north}) == 25


# --- NP6-905-CD RT SPP ---------------------------------------------------------------------------


def test_rt_spp_fall_back_repeated_hour_intervals() -> None:
    t = check(Dataset.LMP, p.parse_rt_spp(fixture("6905_20241103_0215").read_bytes()), timedelta(minutes=15))
    assert t.num_rows == 32
    north = sorted(rows(t, location="HB_NORTH"), key=lambda r: r["interval_start"])
    assert [r["interval_start"] for r in north] == [
        utc(2024, 11, 3, 6) + timedelta(minutes=15 * k) for k in range(8)
    ]
    assert north[0]["lmp"] == 25.1 and north[4]["lmp"] == 26.1  # interval 1 of HE02 N, then of HE02 Y
    types = {r["location"]: r["location_type"] for r in t.to_pylist()}
    assert types == {"HB_NORTH": "hub", "LZ_HOUSTON": "zone", "ALVIN_RN": "node", "HB_BUSAVG": "hub"}
    assert set(t["market"].to_pylist()) == {"RT15"}


def test_rt_spp_spring_forward_and_retry_file() -> None:
    t = check(Dataset.LMP, p.parse_rt_spp(fixture("6905_20240310").read_bytes()), timedelta(minutes=15))
    assert t.num_rows == 16
    north = sorted(rows(t, location="HB_NORTH"), key=lambda r: r["interval_start"])
    # HE01 intervals 06:00-07:00Z, then HE03 intervals 07:00-08:00Z: contiguous across the gap.
    assert [r["interval_start"] for r in north] == [
        utc(2024, 3, 10, 6) + timedelta(minutes=15 * k) for k in range(8)
    ]
    assert north[4]["lmp"] == 28.1
    retry = check(Dataset.LMP, p.parse_rt_spp(fixture("_retry_").read_bytes()), timedelta(minutes=15))
    assert one(retry, location="HB_NORTH")["interval_start"] == utc(2024, 11, 3, 7, 15)
    assert one(retry, location="HB_NORTH")["lmp"] == 30.0


def test_rt_spp_bad_interval_number() -> None:
    bad = fixture("6905_20240310").read_bytes().replace(b"03/10/2024,1,4,", b"03/10/2024,1,5,", 1)
    with pytest.raises(ParseError, match="DeliveryInterval"):
        p.parse_rt_spp(bad)


# --- NP4-183-CD DAM LMP by bus -------------------------------------------------------------------


def test_dam_lmp_both_dst_days() -> None:
    spring = check(Dataset.LMP, p.parse_dam_lmp(fixture("20240309.131530").read_bytes()), timedelta(hours=1))
    assert spring.num_rows == 46
    assert one(spring, location="ZENITH_138", interval_start=utc(2024, 3, 10, 6))["lmp"] == -4.5
    fall = check(Dataset.LMP, p.parse_dam_lmp(fixture("20241102.131530").read_bytes()), timedelta(hours=1))
    assert fall.num_rows == 50
    assert one(fall, location="ALVIN_8", interval_start=utc(2024, 11, 3, 6))["lmp"] == 19.0  # HE02 N
    assert one(fall, location="ALVIN_8", interval_start=utc(2024, 11, 3, 7))["lmp"] == 19.25  # HE02 Y
    assert set(fall["market"].to_pylist()) == {"DAM_LMP"}
    assert set(fall["location_type"].to_pylist()) == {"node"}


# --- NP4-188-CD AS MCPC --------------------------------------------------------------------------


def test_as_mcpc_both_dst_days() -> None:
    spring = check(
        Dataset.AS_PRICE, p.parse_as_mcpc(fixture("20240309.131540").read_bytes()), timedelta(hours=1)
    )
    assert spring.num_rows == 23 * 5
    assert set(spring["product"].to_pylist()) == {"REGUP", "REGDN", "RRS", "NSPIN", "ECRS"}
    assert one(spring, product="ECRS", interval_start=utc(2024, 3, 10, 7))["price"] == 5.03  # HE03
    fall = check(
        Dataset.AS_PRICE, p.parse_as_mcpc(fixture("20241102.131540").read_bytes()), timedelta(hours=1)
    )
    assert fall.num_rows == 25 * 5
    assert one(fall, product="REGUP", interval_start=utc(2024, 11, 3, 6))["price"] == 2.02
    assert one(fall, product="REGUP", interval_start=utc(2024, 11, 3, 7))["price"] == 2.52
    assert set(fall["region"].to_pylist()) == {"ERCOT"} and set(fall["market"].to_pylist()) == {"DAM"}


# --- NP6-323-CD ORDC adders ----------------------------------------------------------------------


def test_ordc_adders_fall_back_and_rtcb_layout() -> None:
    n = check(
        Dataset.ORDC_ADDER,
        p.parse_ordc_adders(fixture("6323_20241103_013012").read_bytes()),
        timedelta(minutes=5),
    )
    y = check(
        Dataset.ORDC_ADDER,
        p.parse_ordc_adders(fixture("6323_20241103_013014").read_bytes()),
        timedelta(minutes=5),
    )
    assert (n["interval_start"][0].as_py(), n["rt_reserve_adder"][0].as_py()) == (
        utc(2024, 11, 3, 6, 30, 12),
        1.25,
    )
    assert n["rt_reliability_deployment_adder"][0].as_py() == 0.0
    assert y["interval_start"][0].as_py() == utc(2024, 11, 3, 7, 30, 14)
    assert (y["rt_reserve_adder"][0].as_py(), y["rt_reliability_deployment_adder"][0].as_py()) == (2.5, 0.75)
    rtcb = check(
        Dataset.ORDC_ADDER, p.parse_ordc_adders(fixture("6323_20260115").read_bytes()), timedelta(minutes=5)
    )
    assert rtcb.to_pylist()[0]["interval_start"] == utc(2026, 1, 15, 16, 15, 14)
    assert (rtcb["rt_reserve_adder"][0].as_py(), rtcb["rt_reliability_deployment_adder"][0].as_py()) == (
        0.0,
        0.33,
    )


def test_ordc_adders_without_any_adder_column() -> None:
    with pytest.raises(ParseError, match="rtordpa"):
        p.parse_ordc_adders(b"SCEDTimestamp,RepeatedHourFlag,SystemLambda\n11/03/2024 01:30:12,N,20.0\n")


# --- NP6-345-CD actual load, NP3-565-CD forecast -------------------------------------------------


def test_load_actual_both_dst_days() -> None:
    spring = check(
        Dataset.LOAD, p.parse_load_actual(fixture("20240311.055503").read_bytes()), timedelta(hours=1)
    )
    assert spring.num_rows == 23 * 9
    zones = {"COAST", "EAST", "FAR_WEST", "NORTH", "NORTH_C", "SOUTHERN", "SOUTH_C", "WEST", "ERCOT"}
    assert set(spring["zone"].to_pylist()) == zones
    assert one(spring, zone="COAST", interval_start=utc(2024, 3, 10, 7))["mw"] == 1003.0  # HE03
    assert one(spring, zone="ERCOT", interval_start=utc(2024, 3, 10, 6))["mw"] == 36008.0
    fall = check(
        Dataset.LOAD, p.parse_load_actual(fixture("20241104.055503").read_bytes()), timedelta(hours=1)
    )
    assert fall.num_rows == 25 * 9
    assert one(fall, zone="COAST", interval_start=utc(2024, 11, 3, 6))["mw"] == 1002.0
    assert one(fall, zone="COAST", interval_start=utc(2024, 11, 3, 7))["mw"] == 1002.5
    assert set(fall["kind"].to_pylist()) == {"actual"}
    assert fall["forecast_issued_at"].null_count == fall.num_rows


def test_load_forecast_in_use_model_and_issue_time() -> None:
    path = fixture("LFMODWEATHERNP3565")
    zipped_table = check(Dataset.LOAD, p.parse_load_forecast(zipped(path)), timedelta(hours=1))
    assert zipped_table.num_rows == 5 * 9  # model E (not in use) dropped
    assert one(zipped_table, zone="COAST", interval_start=utc(2024, 11, 3, 5))["mw"] == 2003.0
    assert one(zipped_table, zone="FAR_WEST", interval_start=utc(2024, 11, 3, 7))["mw"] == 6007.0  # HE02 Y
    # Posted 2024-11-03 00:30:11 CDT, from the cdr member name.
    assert set(zipped_table["forecast_issued_at"].to_pylist()) == {utc(2024, 11, 3, 5, 30, 11)}
    assert set(zipped_table["kind"].to_pylist()) == {"forecast"}
    bare = p.parse_load_forecast(path.read_bytes())
    assert bare["forecast_issued_at"].null_count == bare.num_rows  # nothing says when a bare CSV was issued


# --- errors --------------------------------------------------------------------------------------


def test_bad_value_names_line_and_column() -> None:
    data = fixture("20240309.131534").read_bytes().replace(b",23.00,", b",abc,", 1)
    with pytest.raises(ParseError, match=r"row 4 \(CSV line 5\), column price: 'abc' is not a number"):
        p.parse_dam_spp(data)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (b"DeliveryDate,HourEnding,SettlementPoint\n03/10/2024,01:00,HB_NORTH\n", "missing column"),
        (
            b"DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\n03/10/2024,25:00,HB,1,N\n",
            "outside 1..24",
        ),
        (
            b"DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\n03/10/2024,01:00,HB,1,X\n",
            "Y or N",
        ),
        (
            b"DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\n2024.03.10,01:00,HB,1,N\n",
            "not a date",
        ),
        (b"PK\x03\x04broken", "zip"),
    ],
)
def test_layout_problems_raise_parse_error(payload: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        p.parse_dam_spp(payload)


def test_truncated_zip_raises_parse_error() -> None:
    data = zipped(fixture("20240309.131534"))
    with pytest.raises(ParseError, match="zip"):
        p.parse_dam_spp(data[: len(data) // 2])


# --- report detection ----------------------------------------------------------------------------

EXPECTED = {
    "NP4190": "NP4-190-CD",
    "NP6905": "NP6-905-CD",
    "NP6788": "NP6-788-CD",
    "NP6787": "NP6-787-CD",
    "NP4183": "NP4-183-CD",
    "NP4188": "NP4-188-CD",
    "NP6323": "NP6-323-CD",
    "NP6345": "NP6-345-CD",
    "NP3565": "NP3-565-CD",
}


def _expected(name: str) -> str:
    return next(v for k, v in EXPECTED.items() if k in name)


@pytest.mark.parametrize("path", sorted(FIX.glob("cdr.*")), ids=lambda x: x.name[46:])
def test_detect_report_by_name_zip_and_header(path: Path) -> None:
    want = _expected(path.name)
    assert detect_report(Iso.ERCOT, path.name, path.read_bytes()).name == want
    assert detect_report(Iso.ERCOT, path.name.replace(".csv", "_csv.zip"), zipped(path)).name == want
    assert detect_report(Iso.ERCOT, "renamed.csv", path.read_bytes()).name == want  # header alone


@needs_real
def test_detect_report_real_file() -> None:
    assert detect_report(Iso.ERCOT, REAL_SCED.name, REAL_SCED.read_bytes()).name == "NP6-788-CD"


def test_detect_report_api_page_names() -> None:
    page = FIX.joinpath("api_np4-190-cd_page.json").read_bytes()
    for s in SOURCES:
        name = f"{s.api_path.replace('/', '_')}_20241103_p1.json"
        assert detect_report(Iso.ERCOT, name, page).name == s.report.name


# --- Public API JSON pages give the same rows as the CSV -----------------------------------------


def _page(path: Path, with_posted: bool = False) -> bytes:
    fields, data = api_rows(path, with_posted)
    meta = {"totalRecords": len(data), "pageSize": len(data), "totalPages": 1, "currentPage": 1}
    return json.dumps({"_meta": meta, "fields": [{"name": f} for f in fields], "data": data}).encode()


@pytest.mark.parametrize("path", sorted(FIX.glob("cdr.*")), ids=lambda x: x.name[46:])
def test_api_page_parses_to_the_same_rows_as_the_csv(path: Path) -> None:
    report = next(r for r in REPORTS if r.name == _expected(path.name))
    forecast = report.name == "NP3-565-CD"
    from_csv = report.parse(zipped(path) if forecast else path.read_bytes())
    from_api = report.parse(_page(path, with_posted=forecast))
    assert from_api.num_rows == from_csv.num_rows > 0
    assert from_api.equals(from_csv)


@needs_real
def test_api_page_same_rows_real_file() -> None:
    assert p.parse_sced_lmp(_page(REAL_SCED)).equals(p.parse_sced_lmp(REAL_SCED.read_bytes()))


def test_hand_written_api_page_with_typed_values() -> None:
    t = check(
        Dataset.LMP,
        p.parse_dam_spp(FIX.joinpath("api_np4-190-cd_page.json").read_bytes()),
        timedelta(hours=1),
    )
    assert t.num_rows == 3
    assert one(t, location="HB_NORTH", interval_start=utc(2024, 11, 3, 6))["lmp"] == 22.0  # DSTFlag false
    assert one(t, location="HB_NORTH", interval_start=utc(2024, 11, 3, 7))["lmp"] == 22.5  # DSTFlag true
    assert one(t, location="LZ_WEST")["location_type"] == "zone"


def test_api_page_with_ragged_rows_is_rejected() -> None:
    page = b'{"fields": [{"name": "deliveryDate"}, {"name": "hourEnding"}], "data": [["2024-11-03"]]}'
    with pytest.raises(ParseError, match="every data row"):
        p.parse_dam_spp(page)


# --- the fast path (one typed pyarrow read) gives the general path's rows and errors --------------

FAST_REPORTS = (
    "NP4-190-CD",
    "NP6-905-CD",
    "NP6-788-CD",
    "NP6-787-CD",
    "NP4-183-CD",
    "NP4-188-CD",
    "NP6-323-CD",
)


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every parser take the general (Polars) path."""
    monkeypatch.setattr(fast, "read_typed", lambda *a, **k: None)


def _zip_members(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members:
            zf.writestr(name, body)
    return buf.getvalue()


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for each pyarrow CSV read."""
    calls: list[int] = []
    for name in ("open_csv", "read_csv"):
        real = getattr(fast.pacsv, name)

        def counted(*args: object, _real: Any = real, **kwargs: object) -> Any:
            calls.append(1)
            return _real(*args, **kwargs)

        monkeypatch.setattr(fast.pacsv, name, counted)
    return calls


def _fast_cases() -> list[tuple[str, bytes]]:
    cases = []
    for path in sorted(FIX.glob("cdr.*")):
        report = _expected(path.name)
        if report in FAST_REPORTS:
            body = path.read_bytes()
            cases += [(report, body), (report, zipped(path)), (report, body.replace(b"\n", b"\r\n"))]
    return cases


# One-run SCED files: every line `<timestamp>,<flag>,<name>,<price>`, read without the CSV reader.
LINE_READ = ("NP6-788-CD", "NP6-787-CD")


def _count_typed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A list that grows by one for each `read_typed` call: whether it read the payload."""
    calls: list[bool] = []
    real = fast.read_typed

    def counted(*args: Any, **kwargs: Any) -> fast.Typed | None:
        got = real(*args, **kwargs)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(fast, "read_typed", counted)
    return calls


@pytest.mark.parametrize(("report", "data"), _fast_cases())
def test_fast_path_equals_general_path(report: str, data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    parse = next(r for r in REPORTS if r.name == report).parse
    reads = _count_reads(monkeypatch)
    typed = _count_typed(monkeypatch)
    quick = parse(data)
    assert typed == [True]  # taken
    assert len(reads) == (0 if report in LINE_READ else 1)  # in one CSV read, or none
    _general(monkeypatch)
    assert quick.equals(parse(data))


@pytest.mark.parametrize(
    "data",
    [
        b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\n11/03/2024 01:30:12,N,HB_NORTH,  20.00\n"
        b"11/03/2024 01:30:12,N,LZ_A,abc\n",  # not a number
        b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\n11/03/2024 01:30:12,N,HB_NORTH,  20.00\n"
        b"11/03/2024 01:30:12,N,LZ_A,\n",  # blank
        b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\n11/03/2024 01:30:12,N,HB_NORTH,  20.00\n\n"
        b"11/03/2024 01:30:12,N,LZ_A,1\n",  # blank line: a row of nulls to the general path
        b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\n11/03/2024 01:30:12,X,HB_NORTH,  20.00\n",
        b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\n03/10/2024 02:30:00,N,HB_NORTH,  20.00\n",
        b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP\n11/03/2024 01:30:12,N,  ,  20.00\n",
    ],
)
def test_fast_path_leaves_bad_files_to_the_general_path(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ParseError) as quick:
        p.parse_sced_lmp(data)
    _general(monkeypatch)
    with pytest.raises(ParseError) as general:
        p.parse_sced_lmp(data)
    assert str(quick.value) == str(general.value)


def test_multi_member_zip_is_one_read_of_the_members_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bulk archive of SCED runs: the N (CDT) and Y (CST) 01:30 runs of the fall-back day, and the first
    # run after the spring gap; the members share a header, so their rows are read in one pass.
    paths = [fixture("6788_20241103_013012"), fixture("6788_20241103_013014"), fixture("6788_20240310")]
    archive = _zip_members([(path.name, path.read_bytes()) for path in paths])
    reads = _count_reads(monkeypatch)
    t = check(Dataset.LMP, p.parse_sced_lmp(archive), timedelta(minutes=5))
    assert reads == [1]
    each = [p.parse_sced_lmp(path.read_bytes()) for path in paths]
    assert t.equals(pa.concat_tables(each))
    starts = {r["interval_start"] for r in rows(t, location="HB_HOUSTON")}
    assert starts == {utc(2024, 11, 3, 6, 30, 12), utc(2024, 11, 3, 7, 30, 14), utc(2024, 3, 10, 8, 0, 12)}
    _general(monkeypatch)
    assert t.equals(p.parse_sced_lmp(archive))


def test_multi_member_zip_headers_spelled_differently_still_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = fixture("20240309.131534").read_bytes()  # header ends "DSTFlag"
    padded = fixture("20241102.131212").read_bytes()  # header ends "DSTFlag    ", the same column
    archive = _zip_members([("a.csv", plain), ("b.csv", padded)])
    reads = _count_reads(monkeypatch)
    t = p.parse_dam_spp(archive)
    assert reads == [1]
    assert t.num_rows == 23 * 3 + 25 * 3
    assert t.equals(pa.concat_tables([p.parse_dam_spp(plain), p.parse_dam_spp(padded)]))


def test_multi_member_zip_with_other_column_order_takes_the_general_path() -> None:
    body = fixture("6788_20241103_013012").read_bytes()
    lines = [line.split(",") for line in body.decode().splitlines()]
    reordered = "\n".join(",".join([c[2], c[3], c[0], c[1]]) for c in lines) + "\n"
    t = p.parse_sced_lmp(_zip_members([("a.csv", body), ("b.csv", reordered.encode())]))
    assert t.equals(pa.concat_tables([p.parse_sced_lmp(body)] * 2))


def test_several_runs_in_one_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bare CSV holding two runs (header once): each distinct timestamp is converted once.
    first = fixture("6788_20241103_013012").read_bytes()
    second = fixture("6788_20241103_013014").read_bytes()
    both = first + second.split(b"\n", 1)[1]
    t = p.parse_sced_lmp(both)
    assert t.equals(pa.concat_tables([p.parse_sced_lmp(first), p.parse_sced_lmp(second)]))
    _general(monkeypatch)
    assert t.equals(p.parse_sced_lmp(both))
