"""`POST /v1/curves` and the curve reads (`/v1/curves`, `/hpfc`, `/diff`) against the real service.

Marks go in as JSON or CSV and come back versioned; bad bodies are 422
naming what is wrong, never 500; reads filter by day, version, month and
block, change their ETag when a hub is re-marked, keep one tenant's marks
from another (shared marks are seen by all) and refuse a tenant without
the `curves` feature. The HPFC is checked against the mark it shapes: its
hours average back to every month and block price. Hours are counted here
on the hub's clock (Central time), not taken from the implementation.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.curves import fit_monthly_curve, quotes_from_records
from carbon254.metadata.curves import save_curve
from carbon254.metadata.database import MetadataDatabase
from carbon254.service import create_app
from carbon254.store import Store

AS_OF = "2026-12-04"
# Jan and Feb onpeak, the Q1 onpeak strip (so March is what the quarter leaves) and the Q1 offpeak strip.
QUOTES: list[dict[str, Any]] = [
    {"start": "2027-01-01", "end": "2027-02-01", "block": "onpeak", "price": 60.0},
    {"start": "2027-02-01", "end": "2027-03-01", "block": "onpeak", "price": 55.0},
    {"start": "2027-01-01", "end": "2027-04-01", "block": "offpeak", "price": 40.0},
    {"start": "2027-01-01", "end": "2027-04-01", "block": "onpeak", "price": 55.0},
]
CSV = "contract,block,price\nJan27,onpeak,61\nFeb27,onpeak,55\nQ1 27,offpeak,40\nQ1 27,onpeak,55\n"
# ERCOT onpeak hours (weekdays HE7-22, no NERC holiday: New Year's Day is one) of Jan, Feb, Mar 2027.
ONPEAK_HOURS = {"2027-01": 20 * 16, "2027-02": 20 * 16, "2027-03": 23 * 16}


def _body(hub: str = "HB_NORTH", quotes: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"iso": "ERCOT", "hub": hub, "as_of": AS_OF, "quotes": quotes or QUOTES, **extra}


def _prices(rows: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    return {(r["month"], r["block"]): r["price"] for r in rows}


def _csv_post(client: TestClient, text: str, hub: str, **headers: str) -> Any:
    return client.post(
        "/v1/curves",
        content=text.encode(),
        params={"iso": "ERCOT", "hub": hub, "as_of": AS_OF},
        headers={"Content-Type": "text/csv", **headers},
    )


@pytest.fixture(scope="module")
def app(settings: Settings, store: Store) -> Iterator[TestClient]:
    """The shared data set's service (auth off) with a metadata database of this module's data dir."""
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as c:
        yield c


def _hub() -> str:
    """A hub name no other test marked (marks are kept in the module's database)."""
    return f"HUB_{uuid.uuid4().hex[:6].upper()}"


# ---- marking --------------------------------------------------------------------------------


def test_json_then_csv_marks_are_versions_1_and_2_of_the_day(app: TestClient) -> None:
    first = app.post("/v1/curves", json=_body())
    assert first.status_code == 201, first.text
    marked = first.json()
    assert (marked["iso"], marked["hub"], marked["as_of"], marked["version"]) == (
        "ERCOT",
        "HB_NORTH",
        AS_OF,
        1,
    )
    prices = _prices(marked["months"])
    assert prices[("2027-01", "onpeak")] == pytest.approx(60.0)
    assert prices[("2027-02", "onpeak")] == pytest.approx(55.0)
    # March onpeak is what the quarter leaves: (55 x Q1 hours - Jan - Feb) / March hours.
    hours = ONPEAK_HOURS
    march = (55.0 * sum(hours.values()) - 60.0 * hours["2027-01"] - 55.0 * hours["2027-02"]) / hours[
        "2027-03"
    ]
    assert prices[("2027-03", "onpeak")] == pytest.approx(march)
    assert all(prices[(m, "offpeak")] == pytest.approx(40.0) for m in ONPEAK_HOURS)
    assert marked["quoted_through"] == "2027-04-01"
    second = _csv_post(app, CSV, "hb_north")  # the catalog's spelling wins over the caller's
    assert second.status_code == 201, second.text
    assert (second.json()["hub"], second.json()["version"]) == ("HB_NORTH", 2)
    assert _prices(second.json()["months"])[("2027-01", "onpeak")] == pytest.approx(61.0)


def test_redundant_quotes_are_reported_with_the_price_the_others_imply(app: TestClient) -> None:
    # Jan, Feb and March onpeak given, and Q1 at exactly what they imply: Q1 is redundant.
    march = 50.0
    q1 = (60.0 * 320 + 55.0 * 320 + march * 368) / (320 + 320 + 368)
    quotes = [
        QUOTES[0],
        QUOTES[1],
        {"start": "2027-03-01", "end": "2027-04-01", "block": "onpeak", "price": march},
        QUOTES[2],
        {"start": "2027-01-01", "end": "2027-04-01", "block": "onpeak", "price": q1},
    ]
    response = app.post("/v1/curves", json=_body(_hub(), quotes))
    assert response.status_code == 201, response.text
    [implied] = response.json()["implied"]
    assert "Q1 27 onpeak" in implied["quote"]
    assert implied["implied_price"] == pytest.approx(q1)


def test_contradictory_quotes_are_refused_naming_the_lines(app: TestClient) -> None:
    text = (
        "start,end,block,price\n"
        "2027-01-01,2027-02-01,onpeak,60\n"
        "2027-02-01,2027-03-01,onpeak,55\n"
        "2027-03-01,2027-04-01,onpeak,50\n"
        "2027-01-01,2027-04-01,onpeak,75\n"
        "2027-01-01,2027-04-01,offpeak,40\n"
    )
    hub = _hub()
    response = _csv_post(app, text, hub)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "contradictory_quotes" and error["parameter"] == "quotes"
    assert "line 5" in error["message"] and "line 2" in error["message"], error["message"]
    # Nothing was stored.
    assert app.get("/v1/curves", params={"hub": hub, "iso": "ERCOT"}).status_code == 404


def test_contradictory_json_quotes_name_the_items(app: TestClient) -> None:
    quotes = [
        *QUOTES[:3],
        {"start": "2027-03-01", "end": "2027-04-01", "block": "onpeak", "price": 50.0},
        {"start": "2027-01-01", "end": "2027-04-01", "block": "onpeak", "price": 75.0},
    ]
    response = app.post("/v1/curves", json=_body(_hub(), quotes))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "contradictory_quotes"
    assert "75" in response.json()["message"]


@pytest.mark.parametrize(
    ("content_type", "body", "parameter", "words"),
    [
        ("application/json", b"{", "quotes", "neither JSON"),
        ("application/json", b"[]", "quotes", "object"),
        ("application/json", b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04"}', "quotes", "list"),
        ("application/json", b'{"hub": "X", "as_of": "2026-12-04", "quotes": []}', "iso", "required"),
        (
            "application/json",
            b'{"iso": 5, "hub": "X", "as_of": "2026-12-04", "quotes": []}',
            "iso",
            "required",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-13-04", "quotes": []}',
            "as_of",
            "date",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04", "quotes": [1]}',
            "quotes",
            "object",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04", "quotes": []}',
            "quotes",
            "no quotes",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04", "quotes": [{"start": "2027-01-01"}]}',
            "quotes",
            "item 1",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04", "through": 5, "quotes": []}',
            "through",
            "month",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04", "through": "2027-13", "quotes": '
            b'[{"start": "2027-01-01", "end": "2027-02-01", "block": "atc", "price": 50}]}',
            "through",
            "month",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04", "prior": "no", "quotes": []}',
            "prior",
            "true or false",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04", "quotes": '
            b'[{"start": "2027-01-01", "end": "2027-02-01", "block": "atc", "price": true}]}',
            "quotes",
            "price",
        ),
        (
            "application/json",
            b'{"iso": "ERCOT", "hub": "X", "as_of": "2026-12-04", "quotes": '
            b'[{"start": "2026-01-01", "end": "2026-02-01", "block": "atc", "price": 40}]}',
            "quotes",
            "delivered",
        ),
        ("text/csv", b"\xff\xfe\x00", "quotes", "UTF-8"),
        ("text/csv", b"a,b\n1,2\n", "quotes", "missing column"),
        ("text/csv", b"start,end,block,price\n", "quotes", "no quotes"),
        ("text/csv", b"start,end,block,price\n2027-01-01,2027-02-01,onpeak,abc\n", "quotes", "line 2"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    app: TestClient, content_type: str, body: bytes, parameter: str, words: str
) -> None:
    params = {"iso": "ERCOT", "hub": "X", "as_of": AS_OF} if content_type == "text/csv" else {}
    response = app.post("/v1/curves", content=body, params=params, headers={"Content-Type": content_type})
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["parameter"] == parameter, error
    assert words in error["message"], error["message"]


def test_a_csv_body_needs_its_query_parameters(app: TestClient) -> None:
    response = app.post("/v1/curves", content=CSV.encode(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 422
    assert response.json()["parameter"] == "iso"


def test_an_unknown_iso_is_404_with_the_choices(app: TestClient) -> None:
    response = app.post("/v1/curves", json={**_body(_hub()), "iso": "NOPE"})
    assert response.status_code == 404
    assert "ERCOT" in response.json()["message"]


# ---- reading --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_days(app: TestClient) -> str:
    """A hub marked on 2026-12-01 (twice) and 2026-12-04; its name."""
    hub = _hub()
    for day, jan in (("2026-12-01", 58.0), ("2026-12-01", 59.0), (AS_OF, 60.0)):
        quotes = [{**QUOTES[0], "price": jan}, *QUOTES[1:]]
        response = app.post("/v1/curves", json={**_body(hub, quotes), "as_of": day})
        assert response.status_code == 201, response.text
    return hub


def test_get_curve_reads_the_latest_mark_by_default(app: TestClient, two_days: str) -> None:
    response = app.get("/v1/curves", params={"hub": two_days.lower()})
    assert response.status_code == 200, response.text
    document = response.json()
    assert {r["as_of"] for r in document["data"]} == {AS_OF}
    assert document["query"]["owner"] == "tenant"
    rows = {(r["month"], r["block"]): r for r in document["data"]}
    assert rows[("2027-01", "onpeak")]["price"] == pytest.approx(60.0)
    assert rows[("2027-01", "onpeak")]["hours"] == ONPEAK_HOURS["2027-01"]
    # Every month carries onpeak, offpeak and their atc.
    assert {b for (_, b) in rows} == {"onpeak", "offpeak", "atc"}
    jan_atc = rows[("2027-01", "atc")]
    on, off = rows[("2027-01", "onpeak")], rows[("2027-01", "offpeak")]
    assert jan_atc["hours"] == on["hours"] + off["hours"] == 31 * 24
    weighted = (on["price"] * on["hours"] + off["price"] * off["hours"]) / jan_atc["hours"]
    assert jan_atc["price"] == pytest.approx(weighted)


def test_get_curve_filters_by_as_of_version_month_and_block(app: TestClient, two_days: str) -> None:
    base = {"hub": two_days, "iso": "ercot"}
    day = app.get("/v1/curves", params={**base, "as_of": "2026-12-03", "month": "2027-01", "block": "onpeak"})
    assert day.status_code == 200, day.text
    [row] = day.json()["data"]
    assert (row["as_of"], row["version"], row["price"]) == ("2026-12-01", 2, pytest.approx(59.0))
    first = app.get("/v1/curves", params={**base, "as_of": "2026-12-01", "version": 1, "block": "onpeak"})
    rows = first.json()["data"]
    assert [r["month"] for r in rows] == ["2027-01", "2027-02", "2027-03"]
    assert rows[0]["price"] == pytest.approx(58.0) and {r["version"] for r in rows} == {1}


@pytest.mark.parametrize(
    ("params", "status", "parameter", "words"),
    [
        ({"hub": "NO_SUCH_HUB"}, 404, "hub", "mark one"),
        ({"hub": "NO_SUCH_HUB", "iso": "ERCOT"}, 404, "hub", "POST /v1/curves"),
        ({"as_of": "2026-11-30"}, 404, "hub", "on or before 2026-11-30"),
        ({"as_of": "2026-12-01", "version": 3}, 404, "hub", "version 3"),
        ({"version": 0}, 422, "version", "start at 1"),
        ({"month": "2031-01"}, 422, "month", "not on the"),
        ({"month": "Jan"}, 422, "month", "YYYY-MM"),
        ({"block": "2x16"}, 422, "block", "no 2x16"),
        ({"block": "weekend"}, 422, "block", ""),
        ({"as_of": "yesterday-ish"}, 422, "as_of", "date"),
    ],
)
def test_get_curve_errors_name_the_parameter(
    app: TestClient, two_days: str, params: dict[str, Any], status: int, parameter: str, words: str
) -> None:
    response = app.get("/v1/curves", params={"hub": two_days, **params})
    assert response.status_code == status, response.text
    assert response.json()["parameter"] == parameter
    assert words in response.json()["message"]


def test_the_etag_changes_when_the_hub_is_re_marked(app: TestClient) -> None:
    hub = _hub()
    assert app.post("/v1/curves", json=_body(hub)).status_code == 201
    before = app.get("/v1/curves", params={"hub": hub})
    etag = before.headers["etag"]
    assert app.get("/v1/curves", params={"hub": hub}, headers={"If-None-Match": etag}).status_code == 304
    quotes = [{**QUOTES[0], "price": 62.0}, *QUOTES[1:]]
    assert app.post("/v1/curves", json=_body(hub, quotes)).json()["version"] == 2
    after = app.get("/v1/curves", params={"hub": hub}, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert _prices(after.json()["data"])[("2027-01", "onpeak")] == pytest.approx(62.0)


def test_formats_other_than_json_answer_the_same_rows(app: TestClient, two_days: str) -> None:
    response = app.get("/v1/curves", params={"hub": two_days, "format": "csv", "block": "offpeak"})
    assert response.status_code == 200, response.text
    lines = response.text.strip().splitlines()
    assert lines[0].split(",")[:7] == ["iso", "hub", "as_of", "version", "month", "block", "price"]
    assert len(lines) == 1 + 3


# ---- hpfc and diff --------------------------------------------------------------------------


def _local_month(stamp: str) -> str:
    return datetime.fromisoformat(stamp).strftime("%Y-%m")


@pytest.fixture(scope="module")
def houston(store: Store, make_lmp: Callable[..., pa.Table]) -> str:
    """HB_HOUSTON with nine weeks of day-ahead prices (20 + hour of day $/MWh) before the mark's day."""
    start = datetime(2026, 10, 1, 5, tzinfo=UTC)
    store.write("lmp", make_lmp("ERCOT", "DAM", "HB_HOUSTON", start, 64 * 24, published_at=start))
    return "hb_houston"


def test_hpfc_hours_average_to_the_mark_by_month_and_block(app: TestClient, houston: str) -> None:
    """The hours are shaped from the hub's stored prices, yet average to every month and block."""
    hub = houston
    marked = app.post("/v1/curves", json=_body(hub)).json()
    response = app.get("/v1/curves/hpfc", params={"hub": hub, "iso": "ERCOT", "as_of": AS_OF, "tz": "iso"})
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["query"]["shape"] == "history"
    assert document["query"]["version"] == marked["version"]
    rows = document["data"]
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        month = _local_month(row["interval_start"])
        base = "onpeak" if row["block"] == "onpeak" else "offpeak"  # offpeak = 2x16 + 7x8
        sums[(month, base)].append(row["price"])
        sums[(month, "atc")].append(row["price"])
    expected = _prices(marked["months"])
    assert set(sums) == set(expected)
    for key, prices in sums.items():
        assert sum(prices) / len(prices) == pytest.approx(expected[key], rel=1e-9), key
    assert len(sums[("2027-01", "onpeak")]) == ONPEAK_HOURS["2027-01"]
    assert len(rows) == (31 + 28 + 31) * 24 - 1  # Central time springs forward on 2027-03-14
    # Shaped, not flat: the hours of one month and block are not all one price.
    assert len({round(p, 6) for p in sums[("2027-02", "onpeak")]}) > 1
    assert rows[0]["interval_start"] == "2027-01-01T00:00:00-06:00"


def test_hpfc_keeps_the_months_asked_for(app: TestClient, houston: str) -> None:
    params = {"hub": houston, "iso": "ERCOT", "start": "2027-02", "end": "2027-03", "tz": "iso"}
    rows = app.get("/v1/curves/hpfc", params=params).json()["data"]
    assert {_local_month(r["interval_start"]) for r in rows} == {"2027-02"}
    assert len(rows) == 28 * 24
    bad = app.get("/v1/curves/hpfc", params={**params, "end": "2027-01"})
    assert bad.status_code == 422 and bad.json()["parameter"] == "end"


def test_hpfc_without_history_is_flat_within_blocks(app: TestClient) -> None:
    hub = _hub()
    assert app.post("/v1/curves", json=_body(hub)).status_code == 201
    response = app.get("/v1/curves/hpfc", params={"hub": hub, "iso": "ERCOT", "tz": "iso"})
    assert response.status_code == 200, response.text
    assert response.json()["query"]["shape"] == "flat"
    rows = response.json()["data"]
    assert all(r["price"] == pytest.approx(40.0) for r in rows if r["block"] != "onpeak")
    feb = [
        r["price"] for r in rows if r["block"] == "onpeak" and r["interval_start"].startswith("2027-02-15")
    ]
    assert len(feb) == 16 and all(p == pytest.approx(55.0) for p in feb)


def test_diff_is_the_change_between_two_days(app: TestClient, two_days: str) -> None:
    params = {"hub": two_days, "iso": "ERCOT", "as_of": AS_OF, "against": "2026-12-02"}
    response = app.get("/v1/curves/diff", params=params)
    assert response.status_code == 200, response.text
    rows = {(r["month"], r["block"]): r for r in response.json()["data"]}
    jan = rows[("2027-01", "onpeak")]
    assert (jan["price"], jan["against_price"]) == (pytest.approx(60.0), pytest.approx(59.0))
    assert jan["change"] == pytest.approx(1.0)
    assert jan["change_pct"] == pytest.approx(100 / 59.0)
    assert rows[("2027-02", "onpeak")]["change"] == pytest.approx(0.0)
    # March onpeak absorbs January's change so the quarter still averages 55.
    assert rows[("2027-03", "onpeak")]["change"] == pytest.approx(-1.0 * 320 / 368)
    assert response.json()["query"]["against"] == "2026-12-01"
    missing = app.get("/v1/curves/diff", params={**params, "against": "2026-11-01"})
    assert missing.status_code == 404 and "2026-11-01" in missing.json()["message"]


def test_quotes_read_back_as_marked(app: TestClient, two_days: str) -> None:
    response = app.get("/v1/curves/quotes", params={"hub": two_days, "as_of": "2026-12-01", "version": 1})
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert [(r["start"], r["end"], r["block"], r["price"]) for r in rows] == [
        (q["start"], q["end"], q["block"], 58.0 if i == 0 else q["price"]) for i, q in enumerate(QUOTES)
    ]


# ---- tenants --------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def auth_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, data_dir: Path
) -> Settings:
    """Auth on, with the metadata (tenants, keys, marks) in SQLite or in PostgreSQL."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('curve-tenants') / 'metadata.db'}"
    return Settings(data_dir=data_dir, auth=AuthMode.REQUIRED, metadata_url=url, rate_limit_per_s=0)


@pytest.fixture(scope="module")
def tenants(auth_settings: Settings, store: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    keys = {
        "a": make_tenant_key(auth_settings, "curves-a"),
        "b": make_tenant_key(auth_settings, "curves-b"),
        "plain": make_tenant_key(auth_settings, "curves-none", features=["spreads"]),
    }
    with TestClient(create_app(auth_settings, store), raise_server_exceptions=False) as c:
        yield c, {name: key for name, key in keys.items()}


def _key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def _share(settings: Settings, hub: str, jan: float) -> None:
    """A shared (owner-less) mark of `hub`, as the demo's simulated marks are stored."""
    day = date.fromisoformat(AS_OF)
    quotes = quotes_from_records([{**QUOTES[0], "price": jan}, *QUOTES[1:]], as_of=day)
    fit = fit_monthly_curve(quotes, iso="ERCOT", hub=hub, as_of=day)
    db = MetadataDatabase(settings.metadata_database_url())
    try:
        save_curve(db, owner=None, curve=fit.curve, quotes=quotes, implied=fit.implied, created_by="demo")
    finally:
        db.close()


def test_a_tenants_marks_are_invisible_to_another(
    tenants: tuple[TestClient, dict[str, str]],
) -> None:
    client, keys = tenants
    hub = _hub()
    marked = client.post("/v1/curves", json=_body(hub), headers=_key(keys["a"]))
    assert marked.status_code == 201, marked.text
    params = {"hub": hub, "iso": "ERCOT"}
    # The same request twice: B's must not be answered with what A's was checked into.
    assert client.get("/v1/curves", params=params, headers=_key(keys["a"])).status_code == 200
    other = client.get("/v1/curves", params=params, headers=_key(keys["b"]))
    assert other.status_code == 404, other.text
    assert client.get("/v1/curves/quotes", params={"hub": hub}, headers=_key(keys["b"])).status_code == 404
    # B's own mark of the same hub and day is B's version 1, not A's version 2.
    own = client.post("/v1/curves", json=_body(hub), headers=_key(keys["b"]))
    assert own.json()["version"] == 1


def test_shared_marks_are_seen_by_every_tenant_and_own_marks_come_first(
    tenants: tuple[TestClient, dict[str, str]], auth_settings: Settings
) -> None:
    client, keys = tenants
    hub = _hub()
    _share(auth_settings, hub, 57.0)
    for name in ("a", "b"):
        response = client.get(
            "/v1/curves", params={"hub": hub, "month": "2027-01", "block": "onpeak"}, headers=_key(keys[name])
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"][0]["price"] == pytest.approx(57.0)
        assert response.json()["query"]["owner"] == "shared"
    quotes = [{**QUOTES[0], "price": 63.0}, *QUOTES[1:]]
    assert client.post("/v1/curves", json=_body(hub, quotes), headers=_key(keys["a"])).status_code == 201
    params = {"hub": hub, "month": "2027-01", "block": "onpeak"}
    mine = client.get("/v1/curves", params=params, headers=_key(keys["a"])).json()
    theirs = client.get("/v1/curves", params=params, headers=_key(keys["b"])).json()
    assert (mine["data"][0]["price"], mine["query"]["owner"]) == (pytest.approx(63.0), "tenant")
    assert (theirs["data"][0]["price"], theirs["query"]["owner"]) == (pytest.approx(57.0), "shared")


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", "/v1/curves", {}),
        ("GET", "/v1/curves", {"hub": "HB_NORTH"}),
        ("GET", "/v1/curves/hpfc", {"hub": "HB_NORTH", "iso": "ERCOT"}),
        ("GET", "/v1/curves/diff", {"hub": "HB_NORTH", "iso": "ERCOT", "as_of": AS_OF, "against": AS_OF}),
        ("GET", "/v1/curves/quotes", {"hub": "HB_NORTH"}),
    ],
)
def test_a_tenant_without_the_curves_feature_gets_403(
    tenants: tuple[TestClient, dict[str, str]], method: str, path: str, params: dict[str, str]
) -> None:
    client, keys = tenants
    body = _body() if method == "POST" else None
    response = client.request(method, path, params=params, json=body, headers=_key(keys["plain"]))
    assert response.status_code == 403, response.text
    assert "curves" in response.json()["message"]


def test_marking_needs_credentials(tenants: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = tenants
    assert client.post("/v1/curves", json=_body()).status_code == 401


# ---- GraphQL --------------------------------------------------------------------------------

MARK = """
mutation Mark($iso: String!, $hub: String!, $asOf: String!, $quotes: [QuoteInput!]!, $through: String) {
  markCurve(iso: $iso, hub: $hub, asOf: $asOf, quotes: $quotes, through: $through) {
    iso hub asOf version prior quotedThrough months { month block price } implied { quote impliedPrice }
  }
}
"""


def _graphql(client: TestClient, query: str, headers: dict[str, str] | None = None, **variables: Any) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers or {})
    assert response.status_code in (200, 400, 403, 422), response.text
    return response.json()


def test_graphql_mark_curve_stores_versions_readable_by_rest_and_graphql(app: TestClient) -> None:
    hub = _hub()
    quotes = [{**q, "price": float(q["price"])} for q in QUOTES]
    first = _graphql(app, MARK, iso="ERCOT", hub=hub, asOf=AS_OF, quotes=quotes)
    assert "errors" not in first, first
    marked = first["data"]["markCurve"]
    assert (marked["hub"], marked["asOf"], marked["version"], marked["quotedThrough"]) == (
        hub,
        AS_OF,
        1,
        "2027-04-01",
    )
    assert _prices(marked["months"])[("2027-01", "onpeak")] == pytest.approx(60.0)
    by_name = [{"contract": "Jan27", "block": "onpeak", "price": 61.0}, *quotes[1:]]
    second = _graphql(app, MARK, iso="ERCOT", hub=hub, asOf=AS_OF, quotes=by_name, through="2027-06")
    assert second["data"]["markCurve"]["version"] == 2
    assert {m["month"] for m in second["data"]["markCurve"]["months"]} >= {"2027-05", "2027-06"}
    rest = app.get("/v1/curves", params={"hub": hub, "month": "2027-01", "block": "onpeak"}).json()
    assert rest["data"][0]["price"] == pytest.approx(61.0) and rest["data"][0]["version"] == 2
    read = _graphql(
        app,
        'query($hub: String!) { curve(hub: $hub, month: "2027-01", version: 1) '
        "{ rows { version month block price hours } unit } }",
        hub=hub,
    )
    rows = read["data"]["curve"]["rows"]
    assert read["data"]["curve"]["unit"] == "$/MWh"
    assert {r["version"] for r in rows} == {1} and len(rows) == 3
    assert _prices(rows)[("2027-01", "onpeak")] == pytest.approx(60.0)


def test_graphql_mark_curve_errors_carry_the_rest_codes(app: TestClient) -> None:
    quotes = [
        *QUOTES,
        {"start": "2027-03-01", "end": "2027-04-01", "block": "onpeak", "price": 50.0},
    ]
    quotes[3] = {**quotes[3], "price": 75.0}
    answer = _graphql(app, MARK, iso="ERCOT", hub=_hub(), asOf=AS_OF, quotes=quotes)
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "CONTRADICTORY_QUOTES"
    assert error["extensions"]["parameter"] == "quotes" and "75" in error["message"]
    bad_day = _graphql(app, MARK, iso="ERCOT", hub=_hub(), asOf="someday", quotes=QUOTES)
    assert bad_day["errors"][0]["extensions"]["parameter"] == "asOf"
    assert bad_day["errors"][0]["message"].startswith("asOf: ")
    missing = _graphql(
        app, MARK, iso="ERCOT", hub=_hub(), asOf=AS_OF, quotes=[{"block": "onpeak", "price": 5.0}]
    )
    assert missing["errors"][0]["extensions"]["code"] == "INVALID_QUOTES"


def test_graphql_reads_hpfc_and_diff(app: TestClient, two_days: str, houston: str) -> None:
    assert app.post("/v1/curves", json=_body(houston)).status_code == 201
    hpfc = _graphql(
        app,
        'query($hub: String!) { curveHpfc(hub: $hub, iso: "ERCOT", start: "2027-02", end: "2027-03", '
        'tz: "iso") { rows { intervalStart block price } } }',
        hub=houston,
    )
    assert "errors" not in hpfc, hpfc
    rows = hpfc["data"]["curveHpfc"]["rows"]
    assert len(rows) == 28 * 24
    onpeak = [r["price"] for r in rows if r["block"] == "onpeak"]
    assert sum(onpeak) / len(onpeak) == pytest.approx(55.0)
    diff = _graphql(
        app,
        'query($hub: String!) { curveDiff(hub: $hub, iso: "ERCOT", asOf: "2026-12-04", '
        'against: "2026-12-01", block: "onpeak") { rows { month change } } }',
        hub=two_days,
    )
    changes = {r["month"]: r["change"] for r in diff["data"]["curveDiff"]["rows"]}
    assert changes["2027-01"] == pytest.approx(1.0)
    missing = _graphql(app, '{ curve(hub: "NO_SUCH_HUB") { rows { price } } }')
    assert missing["errors"][0]["extensions"]["code"] == "CURVE_NOT_FOUND"


def test_graphql_mark_curve_respects_tenants_and_the_feature(
    tenants: tuple[TestClient, dict[str, str]],
) -> None:
    client, keys = tenants
    hub = _hub()
    mine = _graphql(client, MARK, _key(keys["a"]), iso="ERCOT", hub=hub, asOf=AS_OF, quotes=QUOTES)
    assert mine["data"]["markCurve"]["version"] == 1
    theirs = _graphql(
        client, "query($hub: String!) { curve(hub: $hub) { rows { price } } }", _key(keys["b"]), hub=hub
    )
    assert theirs["errors"][0]["extensions"]["status"] == 404
    refused = _graphql(client, MARK, _key(keys["plain"]), iso="ERCOT", hub=hub, asOf=AS_OF, quotes=QUOTES)
    assert refused["errors"][0]["extensions"]["status"] == 403
