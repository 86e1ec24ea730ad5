"""`GET /v1/quality` and `GET /metrics`: per-day quality JSON, Prometheus gauges, and bad parameters."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

# The quality tests' row and ledger builders, shared rather than copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality"))
from quality_tables import entry, lmp_rows, slots, utc

from carbon254.config import AuthMode, Settings
from carbon254.ingest.ledger import IngestLedger, PayloadStatus
from carbon254.quality import day_start, market_day_of
from carbon254.service import create_app
from carbon254.service.metrics import QualityCollector
from carbon254.store import Store

HOUR = timedelta(hours=1)


def _fill(store: Store, data_dir: Path) -> None:
    """ERCOT DAM (2 nodes) over the 2024 spring-forward day, one hour missing; ERCOT RT5; PJM DAM."""
    spring = slots(utc(2024, 3, 10, 6), utc(2024, 3, 11, 5), HOUR)
    store.write("lmp", lmp_rows(["A", "B"], spring, skip=[("A", utc(2024, 3, 10, 8))]))
    store.write("lmp", lmp_rows(["A"], spring[:2], energy=40.0))  # two revisions
    five = slots(utc(2024, 3, 10, 6), utc(2024, 3, 11, 5), timedelta(minutes=5))
    store.write("lmp", lmp_rows(["A"], five, timedelta(minutes=5), market="RT5"))
    store.write("lmp", lmp_rows(["W"], slots(utc(2024, 3, 10, 5), utc(2024, 3, 11, 4), HOUR), iso="PJM"))
    IngestLedger(data_dir).append(
        [
            entry(first=spring[0], last=spring[-1], published=utc(2024, 3, 9, 18), lag_s=90, duplicates=3),
            entry(first=spring[5], last=spring[5], status=PayloadStatus.QUARANTINED, name="bad"),
        ]
    )


@pytest.fixture
def client(tmp_path: Path, fresh_store: Store) -> TestClient:
    _fill(fresh_store, tmp_path)
    with TestClient(
        create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), fresh_store), raise_server_exceptions=False
    ) as c:
        yield c  # type: ignore[misc]


def test_quality_for_one_market_day(client: TestClient) -> None:
    r = client.get(
        "/v1/quality", params={"iso": "ercot", "market": "DAM", "start": "2024-03-10", "end": "2024-03-11"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query"] == {
        "iso": "ERCOT",
        "dataset": "lmp",
        "market": "DAM",
        "first_day": "2024-03-10",
        "end_day": "2024-03-11",
    }
    assert body["count"] == 1
    day = body["days"][0]
    assert day == {
        "iso": "ERCOT",
        "dataset": "lmp",
        "market": "DAM",
        "day": "2024-03-10",
        "start": "2024-03-10T06:00:00Z",
        "end": "2024-03-11T05:00:00Z",
        "hours": 23,
        "interval_minutes": 60.0,
        "locations": 2,
        "expected": 46,
        "present": 45,
        "expected_s": 46 * 3600,
        "covered_s": 45 * 3600,
        "completeness": pytest.approx(45 / 46),
        "gaps": [
            {
                "start": "2024-03-10T08:00:00Z",
                "end": "2024-03-10T09:00:00Z",
                "intervals": 1,
                "locations": 1,
                "missing": 1,
                "names": ["A"],
            }
        ],
        "off_grid": 0,
        "overlaps": 0,
        "duplicates": 3,
        "revisions": 2,
        "payloads": 1,
        "quarantined": 1,
        "lag_median_s": 90.0,
        "lag_max_s": 90.0,
    }
    (summary,) = body["summary"]
    assert (summary["expected"], summary["present"], summary["gaps"], summary["regular"]) == (46, 45, 1, True)
    assert summary["completeness"] == pytest.approx(45 / 46)


def test_every_market_and_every_iso(client: TestClient) -> None:
    r = client.get("/v1/quality", params={"iso": "ERCOT", "start": "2024-03-10", "end": "2024-03-11"})
    assert r.status_code == 200
    assert [(s["market"], s["interval_minutes"], s["expected"]) for s in r.json()["summary"]] == [
        ("DAM", 60.0, 46),
        ("RT5", 5.0, 276),
    ]
    r = client.get("/v1/quality", params={"start": "2024-03-10", "end": "2024-03-11"})
    assert r.status_code == 200
    summary = r.json()["summary"]
    assert [(s["iso"], s["market"], s["completeness"]) for s in summary] == [
        ("ERCOT", "DAM", pytest.approx(45 / 46)),
        ("ERCOT", "RT5", 1.0),
        ("PJM", "DAM", 1.0),
    ]
    r = client.get("/v1/quality", params={"market": "RT5", "start": "2024-03-10", "end": "2024-03-11"})
    assert [(s["iso"], s["market"]) for s in r.json()["summary"]] == [("ERCOT", "RT5")]


def test_dataset_without_data_and_ordc_without_market(client: TestClient) -> None:
    r = client.get(
        "/v1/quality",
        params={"iso": "ERCOT", "dataset": "ordc_adder", "start": "2024-03-10", "end": "2024-03-11"},
    )
    assert r.status_code == 200
    (day,) = r.json()["days"]
    assert (day["market"], day["expected"], day["present"], day["completeness"]) == (None, None, 0, None)


@pytest.mark.parametrize(
    ("params", "status", "code", "parameter"),
    [
        ({"iso": "ERCOTT", "start": "2024-03-10", "end": "2024-03-11"}, 404, "not_found", "iso"),
        (
            {"iso": "ERCOT", "market": "DMA", "start": "2024-03-10", "end": "2024-03-11"},
            404,
            "not_found",
            "market",
        ),
        ({"market": "RT15", "start": "2024-03-10", "end": "2024-03-11"}, 404, "not_found", "market"),
        ({"iso": "ERCOT", "start": "2024-13-10", "end": "2024-03-11"}, 422, "invalid_parameter", "start"),
        ({"iso": "ERCOT", "start": "2024-03-11", "end": "2024-03-10"}, 422, "invalid_parameter", "end"),
        ({"iso": "ERCOT", "start": "2024-03-10"}, 422, "missing_parameter", "end"),
        (
            {"iso": "ERCOT", "dataset": "lmpp", "start": "2024-03-10", "end": "2024-03-11"},
            422,
            "invalid_parameter",
            "dataset",
        ),
        (
            {
                "iso": "ERCOT",
                "dataset": "ordc_adder",
                "market": "RT5",
                "start": "2024-03-10",
                "end": "2024-03-11",
            },
            422,
            "invalid_parameter",
            "market",
        ),
        ({"iso": "ERCOT", "start": "2000-01-01", "end": "2024-03-11"}, 422, "range_too_long", "end"),
    ],
)
def test_bad_parameters(
    client: TestClient, params: dict[str, str], status: int, code: str, parameter: str
) -> None:
    r = client.get("/v1/quality", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert (body["code"], body["parameter"]) == (code, parameter)
    assert body["message"]


def test_intervals_that_have_not_ended_are_not_missing(tmp_path: Path, fresh_store: Store) -> None:
    now = datetime.now(UTC)
    today = market_day_of("ERCOT", now)
    yesterday = today - timedelta(days=1)
    # Real-time data up to ten minutes from now: what has not ended yet is not owed.
    five = slots(day_start("ERCOT", yesterday), now + timedelta(minutes=10), timedelta(minutes=5))
    fresh_store.write("lmp", lmp_rows(["A", "B"], five, timedelta(minutes=5), market="RT5"))
    with TestClient(create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), fresh_store)) as c:
        end = (today + timedelta(days=1)).isoformat()
        r = c.get(
            "/v1/quality", params={"iso": "ERCOT", "market": "RT5", "start": str(yesterday), "end": end}
        )
    assert r.status_code == 200, r.text
    before, current = r.json()["days"]
    assert (before["completeness"], before["gaps"]) == (1.0, [])
    whole_day = day_start("ERCOT", today + timedelta(days=1)) - day_start("ERCOT", today)
    assert current["expected"] < 2 * (whole_day // timedelta(minutes=5))
    assert current["present"] == current["expected"]
    assert current["gaps"] == []


def test_graphql_answers_covered_time_and_overlaps(client: TestClient) -> None:
    query = """{ quality(iso: "ERCOT", market: "DAM", start: "2024-03-10", end: "2024-03-11") {
        summary { expectedS coveredS overlaps completeness } days { expectedS coveredS overlaps } } }"""
    r = client.post("/graphql", json={"query": query})
    assert r.status_code == 200, r.text
    quality = r.json()["data"]["quality"]
    assert quality["summary"] == [
        {
            "expectedS": 46 * 3600.0,
            "coveredS": 45 * 3600.0,
            "overlaps": 0,
            "completeness": pytest.approx(45 / 46),
        }
    ]
    assert quality["days"] == [{"expectedS": 46 * 3600.0, "coveredS": 45 * 3600.0, "overlaps": 0}]


def test_unknown_market_suggests_close_names(client: TestClient) -> None:
    r = client.get(
        "/v1/quality", params={"iso": "ERCOT", "market": "DMA", "start": "2024-03-10", "end": "2024-03-11"}
    )
    assert "DAM" in r.json()["suggestions"]


# ---- /metrics -----------------------------------------------------------------------------------


def _gauges(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_metrics_cover_the_last_complete_days(tmp_path: Path, fresh_store: Store) -> None:
    today = market_day_of("ERCOT", datetime.now(UTC))
    first = today - timedelta(days=7)
    starts = slots(day_start("ERCOT", first), day_start("ERCOT", today), HOUR)
    hole = starts[30]
    fresh_store.write("lmp", lmp_rows(["A", "B"], starts, skip=[("B", hole)]))
    fresh_store.write("lmp", lmp_rows(["A"], starts[:3], energy=50.0))
    published = datetime.now(UTC) - timedelta(days=1)
    IngestLedger(tmp_path).append(
        [
            entry(first=starts[0], last=starts[-1], published=published, lag_s=45, duplicates=2),
            entry(first=starts[0], last=starts[0], published=published, lag_s=15, name="p2"),
        ]
    )
    with TestClient(create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), fresh_store)) as c:
        r = c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    g = _gauges(r.text)
    labels = '{dataset="lmp",iso="ERCOT",market="DAM"}'
    n = 2 * len(starts)
    assert g["carbon254_quality_up"] == 1.0
    assert g["carbon254_quality_window_days"] == 7.0
    assert g[f"carbon254_quality_expected_intervals{labels}"] == n
    assert g[f"carbon254_quality_present_intervals{labels}"] == n - 1
    assert g[f"carbon254_quality_completeness_ratio{labels}"] == pytest.approx((n - 1) / n)
    assert g[f"carbon254_quality_gaps{labels}"] == 1.0
    assert g[f"carbon254_quality_missing_intervals{labels}"] == 1.0
    assert g[f"carbon254_quality_overlapping_intervals{labels}"] == 0.0
    assert g[f"carbon254_quality_revisions{labels}"] == 3.0
    assert g[f"carbon254_quality_duplicates_refused{labels}"] == 2.0
    assert g[f"carbon254_quality_quarantined_payloads{labels}"] == 0.0
    assert g[f"carbon254_quality_ingest_lag_median_seconds{labels}"] == 30.0
    assert g[f"carbon254_quality_ingest_lag_max_seconds{labels}"] == 45.0


def test_each_app_has_its_own_registry(tmp_path: Path, fresh_store: Store) -> None:
    a = create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), fresh_store)
    b = create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), fresh_store)
    assert a.state.metrics_registry is not b.state.metrics_registry
    with TestClient(a) as ca, TestClient(b) as cb:
        assert ca.get("/metrics").status_code == 200
        assert cb.get("/metrics").status_code == 200


def test_collector_with_a_fixed_clock(tmp_path: Path, fresh_store: Store) -> None:
    _fill(fresh_store, tmp_path)
    collector = QualityCollector(
        lambda: fresh_store, tmp_path, 1, now=lambda: utc(2024, 3, 11, 12), max_age_s=0
    )
    samples = {
        (m.name, s.labels.get("iso"), s.labels.get("market")): s.value
        for m in collector.collect()
        for s in m.samples
    }
    assert samples[("carbon254_quality_completeness_ratio", "ERCOT", "DAM")] == pytest.approx(45 / 46)
    assert samples[("carbon254_quality_completeness_ratio", "ERCOT", "RT5")] == 1.0
    assert samples[("carbon254_quality_quarantined_payloads", "ERCOT", "DAM")] == 1.0
    # PJM's day ends at 04:00Z on 2024-03-11, which is still before "today" there.
    assert samples[("carbon254_quality_completeness_ratio", "PJM", "DAM")] == 1.0
    assert ("carbon254_quality_completeness_ratio", "ERCOT", "-") not in samples
