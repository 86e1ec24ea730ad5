"""PJM parsers, connector and replay site.

Every PJM file here is HAND-MADE (tests/markets/fixtures/pjm/README.md): no real Data Miner 2
payload is stored under ../shared/data. The fixtures follow the documented Data Miner 2
layouts and cover both 2024 DST days.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from markets_checks import check_components, utc

from carbon254.config import Settings
from carbon254.isos import Iso
from carbon254.isos.pjm import reports as pjm
from carbon254.markets.registry import detect_report
from carbon254.markets.report import ParseError
from carbon254.markets.transport import IsoClient, RetryPolicy, TransportConfig
from carbon254.replay.server import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset, validate
from shared_data import SHARED_DATA

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pjm"
REAL = SHARED_DATA / "iso" / "pjm"
FALL, SPRING = date(2024, 11, 3), date(2024, 3, 10)


def parse(report: pjm.Report, name: str) -> pl.DataFrame:
    table = report.parse((FIXTURES / name).read_bytes())
    validate(report.dataset, table)
    return pl.from_arrow(table)  # type: ignore[return-value]


# --------------------------------------------------------------------------- LMP parsers


def test_da_lmp_fall_back_day_has_25_distinct_utc_hours() -> None:
    frame = parse(pjm.DA_HRL_LMPS, "da_hrl_lmps_20241103.json")
    assert frame.height == 75  # 25 hours x 3 nodes; the superseded version is dropped
    hub = frame.filter(pl.col("location") == "WESTERN HUB").sort("interval_start")
    assert hub.height == 25 and hub["interval_start"].n_unique() == 25
    assert hub["interval_start"][0] == utc(2024, 11, 3, 4)
    assert hub["interval_end"][-1] == utc(2024, 11, 4, 5)
    assert ((hub["interval_end"] - hub["interval_start"]) == timedelta(hours=1)).all()
    # EPT 01:00 appears twice in the file (05:00 and 06:00 UTC): two separate intervals.
    raw = json.loads((FIXTURES / "da_hrl_lmps_20241103.json").read_bytes())["items"]
    repeated = {
        r["datetime_beginning_utc"] for r in raw if r["datetime_beginning_ept"] == "2024-11-03T01:00:00"
    }
    assert repeated == {"2024-11-03T05:00:00", "2024-11-03T06:00:00"}
    assert set(hub.filter(pl.col("interval_start").dt.hour().is_in([5, 6]))["interval_start"].dt.hour()) == {
        5,
        6,
    }
    first = hub.row(0, named=True)
    assert first["lmp"] == pytest.approx(27.97) and first["energy"] == 28.0  # current version, not 99.0
    assert dict(zip(frame["location"], frame["location_type"], strict=False)) == {
        "WESTERN HUB": "hub",
        "PJM-RTO": "zone",
        "BGE_RESID_AGG": "zone",
    }
    check_components(frame)


def test_da_lmp_spring_forward_day_has_23_hours() -> None:
    frame = parse(pjm.DA_HRL_LMPS, "da_hrl_lmps_20240310.json")
    assert frame.height == 69
    rto = frame.filter(pl.col("location") == "PJM-RTO").sort("interval_start")
    assert rto["interval_start"][0] == utc(2024, 3, 10, 5)
    assert rto["interval_start"][2] == utc(2024, 3, 10, 7)  # 03:00 EDT follows 01:00 EST
    assert rto["interval_end"][-1] == utc(2024, 3, 11, 4)
    assert rto.row(0, named=True)["lmp"] == pytest.approx(31.0 + 0.35 - 0.03)
    check_components(frame)


def test_rt_hourly_lmp() -> None:
    frame = parse(pjm.RT_HRL_LMPS, "rt_hrl_lmps_20241103.json")
    assert frame.height == 50 and set(frame["market"]) == {"RTH"}
    assert frame["interval_start"].n_unique() == 25
    check_components(frame)


@pytest.mark.parametrize(
    ("name", "rows", "first"),
    [
        ("rt_fivemin_hrl_lmps_20241103.json", 48, utc(2024, 11, 3, 4)),
        ("rt_fivemin_hrl_lmps_20240310.json", 24, utc(2024, 3, 10, 6)),
    ],
)
def test_rt_five_minute_lmp_both_dst_days(name: str, rows: int, first: datetime) -> None:
    frame = parse(pjm.RT_FIVEMIN_HRL_LMPS, name).sort("interval_start")
    assert frame.height == rows and set(frame["market"]) == {"RT5"}
    assert frame["interval_start"][0] == first
    steps = frame["interval_start"].diff().drop_nulls()
    assert (steps == timedelta(minutes=5)).all()  # continuous in UTC across either transition
    assert ((frame["interval_end"] - frame["interval_start"]) == timedelta(minutes=5)).all()
    check_components(frame)


def test_lmp_without_system_energy_derives_energy() -> None:
    payload = {
        "items": [
            {
                "datetime_beginning_utc": "2024-11-03T05:00:00.250",
                "pnode_name": "AEP-DAYTON HUB",
                "type": "HUB",
                "total_lmp_rt": 30.5,
                "congestion_price_rt": -1.25,
                "marginal_loss_price_rt": 0.75,
            }
        ]
    }
    frame = pl.from_arrow(pjm.RT_FIVEMIN_HRL_LMPS.parse(json.dumps(payload).encode()))
    assert frame["energy"][0] == pytest.approx(31.0)  # type: ignore[index]
    assert frame["interval_start"][0] == utc(2024, 11, 3, 5)  # type: ignore[index]


def test_lmp_layout_errors_are_parse_errors() -> None:
    with pytest.raises(ParseError, match="total_lmp_da"):
        pjm.DA_HRL_LMPS.parse(b'{"items": [{"datetime_beginning_utc": "2024-11-03T05:00:00"}]}')
    bad = (
        (FIXTURES / "da_hrl_lmps_20240310.json")
        .read_text()
        .replace('"total_lmp_da":31.32', '"total_lmp_da":"x"')
    )
    with pytest.raises(ParseError, match="not a number"):
        pjm.DA_HRL_LMPS.parse(bad.encode())
    with pytest.raises(ParseError, match="errors"):
        pjm.DA_HRL_LMPS.parse(b'{"errors": [{"message": "Row count is missing"}]}')
    with pytest.raises(ParseError, match="empty"):
        pjm.DA_HRL_LMPS.parse(b"  ")


def _compact_page(rows: list[dict[str, object]]) -> bytes:
    """A Data Miner page as the API sends it: compact JSON, `items` between links and metadata."""
    page = {
        "links": [{"rel": "self", "href": "https://api.pjm.com/api/v1/da_hrl_lmps?startRow=1"}],
        "items": rows,
        "searchSpecification": {"rowCount": 50000, "startRow": 1, "isActiveMetadata": True},
        "totalRows": len(rows),
    }
    return json.dumps(page, separators=(",", ":")).encode()


DA_ROW: dict[str, object] = {
    "datetime_beginning_utc": "2024-11-03T05:00:00",
    "pnode_name": "WESTERN HUB",
    "type": "HUB",
    "system_energy_price_da": 20.5,
    "total_lmp_da": 21.0,
    "congestion_price_da": 0.0,
    "marginal_loss_price_da": 0.5,
    "row_is_current": True,
    "version_nbr": 1,
}


def test_a_compact_page_is_read_strictly_and_every_layout_gives_the_same_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [{**DA_ROW, "pnode_name": f"NODE {i}", "total_lmp_da": 21.0 + i} for i in range(3)]
    rows.append({**DA_ROW, "row_is_current": False, "version_nbr": 2})
    compact = _compact_page(rows)
    pretty = json.dumps({"items": rows}, indent=2).encode()  # not cut into lines: read by Polars
    bare = json.dumps(rows, separators=(",", ":")).encode()  # a bare array, as CSV-less downloads
    expected = pjm.DA_HRL_LMPS.parse(pretty)
    assert expected.num_rows == 3  # the superseded version is dropped
    assert pjm.DA_HRL_LMPS.parse(bare).equals(expected)
    reads: list[bool] = []
    strict = pjm._strict_rows

    def counted(*args: Any) -> pl.DataFrame | None:
        frame = strict(*args)
        reads.append(frame is not None)
        return frame

    monkeypatch.setattr(pjm, "_strict_rows", counted)
    assert pjm.DA_HRL_LMPS.parse(compact).equals(expected)
    assert reads == [True]  # the compact page took the strict reader


@pytest.mark.parametrize(
    "change",
    [
        {"pnode_name": 'ODD},{"NAME'},  # the row separator inside a string
        {"pnode_name": "ODD}]NAME"},  # the array's end inside a string
        {"version_nbr": "1"},  # text where Data Miner sends a number
    ],
)
def test_pages_the_strict_reader_cannot_cut_are_read_as_before(change: dict[str, object]) -> None:
    rows = [DA_ROW, {**DA_ROW, **change, "datetime_beginning_utc": "2024-11-03T06:00:00"}]
    frame = pl.from_arrow(pjm.DA_HRL_LMPS.parse(_compact_page(rows)))
    expected = pl.from_arrow(pjm.DA_HRL_LMPS.parse(json.dumps({"items": rows}, indent=1).encode()))
    assert frame.equals(expected)  # type: ignore[union-attr]
    assert frame.height == 2


@pytest.mark.parametrize(
    "change",
    [
        {"pnode_name": 12345},  # a number where Data Miner sends text: read as its text
        {"total_lmp_da": 21},  # an integer price
        {"congestion_price_da": -0.0},
    ],
)
def test_values_the_strict_reader_takes_give_the_rows_of_the_page_reader(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, object]
) -> None:
    rows = [DA_ROW, {**DA_ROW, **change, "datetime_beginning_utc": "2024-11-03T06:00:00"}]
    expected = pl.from_arrow(pjm.DA_HRL_LMPS.parse(json.dumps({"items": rows}, indent=1).encode()))
    reads: list[bool] = []
    strict = pjm._strict_rows

    def counted(*args: Any) -> pl.DataFrame | None:
        frame = strict(*args)
        reads.append(frame is not None)
        return frame

    monkeypatch.setattr(pjm, "_strict_rows", counted)
    frame = pl.from_arrow(pjm.DA_HRL_LMPS.parse(_compact_page(rows)))
    assert reads == [True]
    assert frame.equals(expected)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "height"),
    [
        ({"row_is_current": "TRUE"}, 2),  # text where Data Miner sends a flag
        ({"row_is_current": 1}, 1),  # not the text "true": not a current row
        ({"total_lmp_da": "21.5"}, 2),  # text where Data Miner sends a number
        ({"voltage": {"kv": 138}}, 2),  # a nested value in a field not read
    ],
)
def test_values_of_another_json_type_read_as_the_string_path_reads_them(
    change: dict[str, object], height: int
) -> None:
    rows = [DA_ROW, {**DA_ROW, **change, "datetime_beginning_utc": "2024-11-03T06:00:00"}]
    frame = pl.from_arrow(pjm.DA_HRL_LMPS.parse(_compact_page(rows)))
    expected = pl.from_arrow(pjm.DA_HRL_LMPS.parse(json.dumps({"items": rows}, indent=1).encode()))
    assert frame.equals(expected)  # type: ignore[union-attr]
    assert frame.height == height


def test_a_boolean_in_a_price_field_is_still_refused() -> None:
    page = _compact_page([DA_ROW, {**DA_ROW, "total_lmp_da": True}])
    with pytest.raises(ParseError, match="total_lmp_da"):
        pjm.DA_HRL_LMPS.parse(page)


# --------------------------------------------------------------------------- AS, load, capacity


def test_da_reserve_prices() -> None:
    frame = parse(pjm.DA_RESERVE_MARKET_RESULTS, "da_reserve_market_results_20241103.json")
    assert frame.height == 99  # 25 h x 4 services, minus one hour with no PR price
    assert set(frame["product"]) == {"REG", "SR", "PR", "30MIN"} and set(frame["region"]) == {"PJM_RTO"}
    reg = frame.filter(pl.col("product") == "REG").sort("interval_start")
    assert reg.height == 25 and reg["interval_start"].n_unique() == 25
    assert reg.row(0, named=True)["price"] == 14.0
    assert reg["interval_start"][0] == utc(2024, 11, 3, 4) and reg["interval_end"][0] == utc(2024, 11, 3, 5)


def test_rt_reserve_prices_five_minute_with_regulation_parts() -> None:
    frame = parse(pjm.RESERVE_MARKET_RESULTS, "reserve_market_results_20241103.json")
    assert frame.height == 96
    assert set(frame["product"]) == {"REG", "REG_CCP", "REG_PCP", "SR"}
    assert set(frame.filter(pl.col("product") == "SR")["region"]) == {"MAD"}
    first = frame.filter(pl.col("interval_start") == utc(2024, 11, 3, 5))
    prices = dict(zip(first["product"], first["price"], strict=True))
    assert prices == {"REG": 8.4, "REG_CCP": 8.0, "REG_PCP": 0.4, "SR": 1.0}
    assert ((frame["interval_end"] - frame["interval_start"]) == timedelta(minutes=5)).all()


def test_rt_reserve_rows_before_september_2022_are_hourly() -> None:
    payload = {
        "items": [
            {
                "datetime_beginning_utc": "2022-08-01T04:00:00",
                "locale": "PJM_RTO",
                "service": "SR",
                "mcp": 3.1,
            }
        ]
    }
    frame = pl.from_arrow(pjm.RESERVE_MARKET_RESULTS.parse(json.dumps(payload).encode()))
    assert frame["interval_end"][0] == utc(2022, 8, 1, 5)  # type: ignore[index]


def test_metered_load_json_fall_back() -> None:
    frame = parse(pjm.HRL_LOAD_METERED, "hrl_load_metered_20241103.json")
    assert frame.height == 50 and set(frame["zone"]) == {"AECO", "RTO"} and set(frame["kind"]) == {"actual"}
    rto = frame.filter(pl.col("zone") == "RTO").sort("interval_start")
    assert rto["interval_start"].n_unique() == 25 and rto["mw"][0] == 68000.0
    assert rto["forecast_issued_at"].null_count() == 25


def test_metered_load_csv_download_spring_forward() -> None:
    frame = parse(pjm.HRL_LOAD_METERED, "hrl_load_metered_20240310.csv")
    assert frame.height == 46
    aeco = frame.filter(pl.col("zone") == "AECO").sort("interval_start")
    assert aeco["interval_start"][0] == utc(2024, 3, 10, 5)
    assert aeco["interval_start"][-1] == utc(2024, 3, 11, 3)
    assert aeco["mw"][1] == 711.5


def test_load_forecast() -> None:
    frame = parse(pjm.LOAD_FRCSTD_7_DAY, "load_frcstd_7_day_20241103.json").sort("interval_start")
    assert (
        frame.height == 25 and set(frame["zone"]) == {"RTO_COMBINED"} and set(frame["kind"]) == {"forecast"}
    )
    assert set(frame["forecast_issued_at"]) == {utc(2024, 11, 2, 14, 45)}
    assert frame["interval_start"][2] == utc(2024, 11, 3, 6) and frame["interval_end"][2] == utc(
        2024, 11, 3, 7
    )
    assert frame["mw"][0] == 71000.0


def test_bra_clearing_prices_by_lda() -> None:
    frame = parse(pjm.BRA_RESULTS, "2025-2026-base-residual-auction-results.csv")
    assert frame.height == 6 and set(frame["auction"]) == {"BRA 2025/2026"}
    prices = dict(zip(frame["zone"], frame["price"], strict=True))
    assert prices["RTO"] == 269.92 and prices["BGE"] == 466.35 and prices["DOM"] == 444.26
    assert set(frame["delivery_start"]) == {utc(2025, 6, 1, 4)}  # June 1 00:00 EDT
    assert set(frame["delivery_end"]) == {utc(2026, 6, 1, 4)}
    with pytest.raises(ParseError, match="Delivery Year"):
        pjm.BRA_RESULTS.parse(b"Delivery Year,LDA,Resource Clearing Price ($/MW-day)\n2025,RTO,1.0\n")


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "report"),
    [
        ("da_hrl_lmps_20241103.json", pjm.DA_HRL_LMPS),
        ("rt_hrl_lmps_20241103.json", pjm.RT_HRL_LMPS),
        ("rt_fivemin_hrl_lmps_20240310.json", pjm.RT_FIVEMIN_HRL_LMPS),
        ("da_reserve_market_results_20241103.json", pjm.DA_RESERVE_MARKET_RESULTS),
        ("reserve_market_results_20241103.json", pjm.RESERVE_MARKET_RESULTS),
        ("hrl_load_metered_20240310.csv", pjm.HRL_LOAD_METERED),
        ("load_frcstd_7_day_20241103.json", pjm.LOAD_FRCSTD_7_DAY),
        ("2024-2025-base-residual-auction-results.csv", pjm.BRA_RESULTS),
    ],
)
def test_detect_report_by_name_and_header(name: str, report: pjm.Report) -> None:
    data = (FIXTURES / name).read_bytes()
    assert detect_report(Iso.PJM, name, data) is report
    # RT hourly and RT 5-minute LMPs share every field name, and the RT reserve rows hold every
    # DA reserve field too: only their names tell them apart.
    if report not in (pjm.RT_HRL_LMPS, pjm.RT_FIVEMIN_HRL_LMPS, pjm.RESERVE_MARKET_RESULTS):
        assert detect_report(Iso.PJM, "download.bin", data) is report


# --------------------------------------------------------------------------- transport


def serve() -> ReplayServer:
    return ReplayServer(routes_for(Iso.PJM, [REAL, FIXTURES]))


def client(server: ReplayServer) -> IsoClient:
    return IsoClient(Iso.PJM, TransportConfig(base_url=server.url, retry=RetryPolicy(base_s=0.01)))


KEYED = pjm.PjmConnector(pjm.PjmSettings(api_key="test-key"))


def fetch_table(
    server: ReplayServer, dataset: Dataset, market: str, day: date, connector: pjm.PjmConnector = KEYED
) -> pl.DataFrame:
    with client(server) as c:
        payloads = list(connector.fetch(c, dataset, market, day))
    frames = [pl.from_arrow(p.report.parse(p.data)) for p in payloads]
    return pl.concat(frames) if frames else pl.DataFrame()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dataset", "market", "day", "rows"),
    [
        (Dataset.LMP, "DAM", FALL, 75),
        (Dataset.LMP, "DAM", SPRING, 69),
        (Dataset.LMP, "RTH", FALL, 50),
        (Dataset.LMP, "RT5", FALL, 48),
        (Dataset.AS_PRICE, "DAM", FALL, 99),
        (Dataset.AS_PRICE, "RT5", FALL, 96),
        (Dataset.LOAD, "actual", FALL, 50),
        (Dataset.LOAD, "forecast", FALL, 25),
        (Dataset.CAPACITY_PRICE, "BRA", date(2025, 11, 3), 6),
        (Dataset.CAPACITY_PRICE, "BRA", date(2025, 3, 1), 6),
    ],
)
def test_fetch_through_replay(dataset: Dataset, market: str, day: date, rows: int) -> None:
    with serve() as server:
        frame = fetch_table(server, dataset, market, day)
        key_sent = {r.headers.get("ocp-apim-subscription-key") for r in server.requests}
    assert frame.height == rows
    assert key_sent == ({None} if dataset is Dataset.CAPACITY_PRICE else {"test-key"})
    if dataset is Dataset.CAPACITY_PRICE:
        assert set(frame["auction"]) == {"BRA 2025/2026" if day.month >= 6 else "BRA 2024/2025"}


def test_fetch_follows_next_links_across_pages() -> None:
    small = pjm.PjmConnector(pjm.PjmSettings(api_key="k"), row_count=20)
    with serve() as server:
        with client(server) as c:
            payloads = list(small.fetch(c, Dataset.LMP, "DAM", FALL))
        starts = [r.param("startRow") for r in server.requests]
    assert starts == ["1", "21", "41", "61"]
    frame = pl.concat([pl.from_arrow(p.report.parse(p.data)) for p in payloads])  # type: ignore[misc]
    assert frame.height == 75 and len({p.name for p in payloads}) == 4


def test_fetch_day_filter_excludes_neighbouring_days() -> None:
    with serve() as server:
        frame = fetch_table(server, Dataset.LMP, "DAM", FALL)
        spec = server.requests[0].param("datetime_beginning_utc")
    assert spec == "11/03/2024 04:00to11/04/2024 04:59"
    assert frame["interval_start"].min() == utc(2024, 11, 3, 4)


def test_nothing_published_yields_nothing() -> None:
    with serve() as server:
        assert fetch_table(server, Dataset.LMP, "DAM", date(2024, 1, 5)).height == 0
        assert fetch_table(server, Dataset.CAPACITY_PRICE, "BRA", date(2031, 7, 1)).height == 0


def test_missing_key_is_a_clear_error_and_sends_nothing() -> None:
    keyless = pjm.PjmConnector(pjm.PjmSettings(api_key=None))
    with serve() as server, client(server) as c:
        with pytest.raises(pjm.MissingApiKey, match="CARBON254_PJM_API_KEY"):
            list(keyless.fetch(c, Dataset.LMP, "DAM", FALL))
        assert server.requests == []
    assert "secret" not in repr(pjm.PjmSettings(api_key="secret"))


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON254_PJM_API_KEY", " abc ")
    key = Settings().pjm.api_key
    assert key is not None and key.get_secret_value() == "abc"
    monkeypatch.setenv("CARBON254_PJM_API_KEY", "")
    assert Settings().pjm.api_key is None
    assert pjm.RECOMMENDED_TRANSPORT.min_interval_s >= 10.0


def test_fault_500_then_success() -> None:
    with serve() as server:
        server.inject(Fault(FaultKind.ERROR_500, path=r"/api/v1/da_hrl_lmps", times=2))
        frame = fetch_table(server, Dataset.LMP, "DAM", FALL)
        assert len(server.requests) == 3
    assert frame.height == 75


def test_short_body_ends_in_parse_error() -> None:
    with serve() as server:
        server.inject(Fault(FaultKind.SHORT_BODY, path=r"/api/v1/hrl_load_metered"))
        with client(server) as c:
            payloads = list(KEYED.fetch(c, Dataset.LOAD, "actual", FALL))
    assert len(payloads) == 1
    with pytest.raises(ParseError, match="JSON"):
        payloads[0].report.parse(payloads[0].data)
