"""Every `/v1/<dataset>`: columns, filters, formats, pages, ETags, cache, streaming, entitlements."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from datasets_setup import (
    DAY,
    TENANTS,
    CountingStore,
    KeyAuthenticator,
    bearer,
    capacity_table,
    fill_other_datasets,
)
from fastapi.testclient import TestClient

from carbon254.application.datasets import SHAPES
from carbon254.config import AuthMode, Settings
from carbon254.schema import Dataset
from carbon254.service import create_app, delivery, encoding
from carbon254.service.cache import MemoryCache
from carbon254.store import open_store
from conftest import fill, make_lmp_table

PAGE_ROWS = 10
LMP = {"iso": "PJM", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02"}
AS_PRICE = {"iso": "ERCOT", "market": "DAM", "start": "2024-03-01", "end": "2024-03-03"}
CAPACITY = {"iso": "PJM", "start": "2024-01-01", "end": "2025-01-01"}
ORDC = {"start": "2024-03-01", "end": "2024-03-02"}
LOAD = {"iso": "ERCOT", "start": "2024-03-01", "end": "2024-03-02"}
ROUTES: list[tuple[str, dict[str, str], int]] = [
    ("/v1/lmp", LMP, 3 * 24),
    ("/v1/as_price", AS_PRICE, 2 * 48),
    ("/v1/capacity_price", CAPACITY, 2),
    ("/v1/ordc_adder", ORDC, 96),
    ("/v1/load", LOAD, 2 * 2 * 24),
]


@pytest.fixture(scope="module")
def data_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountingStore]:
    directory = tmp_path_factory.mktemp("datasets")
    store = open_store(directory)
    fill(store)
    fill_other_datasets(store)
    yield CountingStore(store)
    store.close()


@pytest.fixture(scope="module")
def api(data_store: CountingStore) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_store.root.parent, auth=AuthMode.OFF, json_page_rows=PAGE_ROWS)
    with TestClient(create_app(settings, data_store), raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        yield client


def _everything(client: TestClient, path: str, params: dict[str, str]) -> pa.Table:
    r = client.get(path, params={**params, "format": "arrow"})
    assert r.status_code == 200, r.text
    return ipc.open_stream(r.content).read_all()


@pytest.mark.parametrize(("path", "params", "rows"), ROUTES)
def test_every_dataset_answers_its_columns_in_every_format(
    api: TestClient, path: str, params: dict[str, str], rows: int
) -> None:
    columns = list(SHAPES[Dataset(path.removeprefix("/v1/"))].columns)
    arrow = _everything(api, path, params)
    assert arrow.column_names == columns
    assert arrow.num_rows == rows
    meta = orjson.loads(arrow.schema.metadata[b"carbon254"])
    assert meta["count"] == rows

    parquet = pq.read_table(io.BytesIO(api.get(path, params={**params, "format": "parquet"}).content))
    assert parquet.column_names == columns
    assert parquet.equals(arrow.replace_schema_metadata(parquet.schema.metadata))

    text = api.get(path, params={**params, "format": "csv"})
    assert text.headers["content-type"].startswith("text/csv")
    assert text.headers["x-carbon254-count"] == str(rows)
    table = list(csv.DictReader(io.StringIO(text.text)))
    assert list(table[0]) == columns
    assert len(table) == rows

    first = api.get(path, params=params).json()
    assert list(first["data"][0]) == columns
    assert first["total"] == rows
    assert first["count"] == min(rows, PAGE_ROWS)
    assert first["unit"] == SHAPES[Dataset(path.removeprefix("/v1/"))].unit


def test_as_price_filters_regions_and_products_in_any_case(api: TestClient) -> None:
    table = _everything(api, "/v1/as_price", {**AS_PRICE, "products": "regup", "regions": "ercot"})
    assert set(table.column("product").to_pylist()) == {"REGUP"}
    assert table.num_rows == 48
    assert table.column("price")[0].as_py() == pytest.approx(10.0)
    body = api.get("/v1/as_price", params={**AS_PRICE, "products": "regup"}).json()
    assert body["query"]["products"] == ["regup"]
    assert body["query"]["regions"] is None


def test_unknown_names_are_404_with_the_names_that_have_data(api: TestClient) -> None:
    r = api.get("/v1/as_price", params={**AS_PRICE, "products": "REGDN"})
    assert r.status_code == 404
    body = r.json()
    assert body["parameter"] == "products"
    assert set(body["suggestions"]) <= {"REGUP", "RRS"}
    assert "REGDN" in body["message"]
    assert api.get("/v1/load", params={**LOAD, "zones": "WEST"}).status_code == 404
    lmp = api.get("/v1/lmp", params={**LMP, "locations": "WESTERN HUBB"})
    assert lmp.status_code == 404
    assert "WESTERN HUB" in lmp.json()["suggestions"]


def test_load_kind_zone_and_forecast_vintage(api: TestClient) -> None:
    forecast = _everything(api, "/v1/load", {**LOAD, "kind": "Forecast", "zones": "south"})
    assert set(forecast.column("kind").to_pylist()) == {"forecast"}
    assert set(forecast.column("zone").to_pylist()) == {"SOUTH"}
    assert forecast.num_rows == 24
    assert forecast.column("forecast_issued_at").null_count == 0
    assert forecast.column("mw")[0].as_py() == pytest.approx(11_005.0)
    assert api.get("/v1/load", params={**LOAD, "kind": "planned"}).status_code == 404


def test_ordc_resample_and_local_time(api: TestClient) -> None:
    window = {"start": "2024-03-01T00:00Z", "end": "2024-03-02T00:00Z"}  # offsets win over tz
    body = api.get("/v1/ordc_adder", params={**window, "resample": "hourly", "tz": "iso"}).json()
    assert body["total"] == 24
    first = body["data"][0]
    assert first["interval_start"] == "2024-02-29T18:00:00-06:00"
    assert first["rt_reserve_adder"] == pytest.approx((0.0 + 0.01 + 0.02 + 0.03) / 4)
    assert body["query"]["tz"] == "America/Chicago"


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/v1/ordc_adder", {**ORDC, "market": "RT5"}, "market"),  # ORDC adders have no markets
        ("/v1/capacity_price", {**CAPACITY, "zones": " "}, "zones"),
        ("/v1/as_price", {**AS_PRICE, "products": ","}, "products"),
        ("/v1/load", {**LOAD, "end": "2024-02-01"}, "end"),
        ("/v1/lmp", {**LMP, "as_of": "yesterday"}, "as_of"),
    ],
)
def test_bad_parameters_are_named(
    api: TestClient, path: str, params: dict[str, str], parameter: str | None
) -> None:
    r = api.get(path, params=params)
    if parameter is None:
        assert r.status_code == 200
        return
    assert r.status_code == 422
    assert r.json()["parameter"] == parameter


def _walk(client: TestClient, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every row of a JSON answer, following `next_cursor` and checking the `Link` header on the way."""
    rows: list[dict[str, Any]] = []
    r = client.get(path, params=params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == len(body["data"]) <= PAGE_ROWS
        assert r.headers["x-carbon254-count"] == str(body["count"])
        rows += body["data"]
        if body["next_cursor"] is None:
            assert "link" not in r.headers
            return rows
        link = r.headers["link"]
        assert link.endswith('>; rel="next"') and link.startswith(f"<{path}?")
        # Follow the Link itself: it repeats the caller's parameters and adds the cursor.
        r = client.get(link[1 : link.index(">")])


@pytest.mark.parametrize(("path", "params", "rows"), ROUTES)
def test_json_pages_give_every_row_once(
    api: TestClient, path: str, params: dict[str, str], rows: int
) -> None:
    walked = _walk(api, path, params)
    assert len(walked) == rows
    arrow = _everything(api, path, params)
    time_column = arrow.column_names[0]
    keys = [c for c in arrow.column_names if c not in ("price", "mw", "lmp", "energy", "congestion", "loss")]
    seen = {tuple(row[c] for c in keys) for row in walked}
    assert len(seen) == rows  # no row twice
    assert [row[time_column] for row in walked] == [
        t.isoformat() for t in arrow.column(time_column).to_pylist()
    ]


def test_cursor_is_bound_to_its_query_and_tamper_evident(api: TestClient) -> None:
    first = api.get("/v1/lmp", params=LMP).json()
    cursor = first["next_cursor"]
    assert api.get("/v1/lmp", params={**LMP, "cursor": cursor}).status_code == 200

    other = api.get("/v1/lmp", params={**LMP, "locations": "PSEG", "cursor": cursor})
    assert other.status_code == 422
    assert other.json()["parameter"] == "cursor"
    assert "another query" in other.json()["message"]

    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    bad = api.get("/v1/lmp", params={**LMP, "cursor": tampered})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"
    assert api.get("/v1/lmp", params={**LMP, "cursor": "not a cursor!"}).status_code == 422
    assert api.get("/v1/lmp", params={**LMP, "cursor": cursor, "format": "csv"}).status_code == 422


@pytest.mark.parametrize(("path", "params", "rows"), ROUTES)
def test_etag_and_if_none_match_304_without_reading(
    api: TestClient, data_store: CountingStore, path: str, params: dict[str, str], rows: int
) -> None:
    first = api.get(path, params={**params, "format": "csv"})
    etag = first.headers["etag"]
    reads = data_store.reads
    again = api.get(path, params={**params, "format": "csv"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert data_store.reads == reads  # answered before anything was read
    assert api.get(path, params={**params, "format": "arrow"}).headers["etag"] != etag
    json_page = api.get(path, params=params, headers={"If-None-Match": f'W/{etag}, "other"'})
    assert json_page.status_code == 200  # another format, another tag


def test_a_write_of_overlapping_data_changes_etag_cache_and_cursor(tmp_path: Path) -> None:
    store = CountingStore(open_store(tmp_path))
    store.write("capacity_price", capacity_table())
    store.write("lmp", make_lmp_table("PJM", "DAM", "WESTERN HUB", DAY, 24))
    settings = Settings(data_dir=tmp_path, auth=AuthMode.OFF, json_page_rows=PAGE_ROWS)
    app = create_app(settings, store)  # type: ignore[arg-type]
    cache = MemoryCache(max_bytes=2**24, ttl_s=300.0)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            app.state.cache = cache
            params = {**CAPACITY, "format": "json"}
            one = client.get("/v1/capacity_price", params=params)
            reads = store.reads
            two = client.get("/v1/capacity_price", params=params)
            assert two.content == one.content  # the cached bytes, identical
            assert two.headers["etag"] == one.headers["etag"]
            assert store.reads == reads  # no read for the hit
            assert cache.stats().hits >= 1

            lmp_page = client.get("/v1/lmp", params={**LMP, "locations": "WESTERN HUB"}).json()
            assert lmp_page["next_cursor"] is not None

            store.write("capacity_price", capacity_table(price_rto=50.0))  # a revision of the same key
            store.write("lmp", make_lmp_table("PJM", "DAM", "WESTERN HUB", DAY, 24, offset=5.0))
            reads = store.reads
            three = client.get("/v1/capacity_price", params=params)
            assert three.headers["etag"] != one.headers["etag"]
            assert store.reads == reads + 1
            prices = {row["zone"]: row["price"] for row in three.json()["data"]}
            assert prices == {"BGE": 73.0, "RTO": 50.0}
            stale = client.get(
                "/v1/lmp", params={**LMP, "locations": "WESTERN HUB", "cursor": lmp_page["next_cursor"]}
            )
            assert stale.status_code == 409
            assert stale.json()["code"] == "cursor_stale"
    finally:
        cache.close()
        store.close()


@pytest.mark.parametrize("fmt", list(encoding.Format))
def test_large_answers_stream_the_same_rows(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, fmt: encoding.Format
) -> None:
    params = {**LMP, "format": fmt.value}
    state = api.app.state  # type: ignore[attr-defined]
    cache, state.cache = state.cache, None  # both answers computed, not one cached
    try:
        whole = api.get("/v1/lmp", params=params)
        monkeypatch.setattr(delivery, "CACHE_MAX_ROWS", 5)
        monkeypatch.setattr(encoding, "STREAM_SLICE_ROWS", 7)
        streamed = api.get("/v1/lmp", params=params)
    finally:
        state.cache = cache
    assert streamed.status_code == 200
    assert streamed.headers["etag"] == whole.headers["etag"]
    assert "content-length" not in streamed.headers  # sent in chunks, never encoded whole
    if fmt is encoding.Format.JSON:
        assert orjson.loads(streamed.content) == orjson.loads(whole.content)
    elif fmt is encoding.Format.CSV:
        assert streamed.text == whole.text
    elif fmt is encoding.Format.PARQUET:
        assert pq.read_table(io.BytesIO(streamed.content)).equals(pq.read_table(io.BytesIO(whole.content)))
    else:
        assert ipc.open_stream(streamed.content).read_all().equals(ipc.open_stream(whole.content).read_all())


@pytest.fixture(scope="module")
def guarded(data_store: CountingStore) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_store.root.parent, auth=AuthMode.OFF, json_page_rows=PAGE_ROWS)
    app = create_app(settings, data_store)  # type: ignore[arg-type]
    app.state.authenticator = KeyAuthenticator(TENANTS)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(("path", "params", "rows"), ROUTES)
def test_entitlements_on_every_dataset_route(
    guarded: TestClient, data_store: CountingStore, path: str, params: dict[str, str], rows: int
) -> None:
    assert guarded.get(path, params=params).status_code == 401
    iso = params.get("iso", "ERCOT")
    dataset = path.removeprefix("/v1/")
    allowed = [t for t, e in TENANTS.items() if e.allows_data(iso, dataset)]
    refused = [t for t in TENANTS if t not in allowed]
    assert refused, "each route must be refused to one test tenant"
    for tenant in refused:
        reads = data_store.reads
        r = guarded.get(path, params=params, headers=bearer(tenant))
        assert r.status_code == 403
        assert r.json()["code"] == "not_entitled"
        assert data_store.reads == reads  # refused before reading
    for tenant in allowed:
        assert guarded.get(path, params=params, headers=bearer(tenant)).json()["total"] == rows


def test_locations_and_quality_show_only_entitled_isos(guarded: TestClient) -> None:
    ercot = guarded.get("/v1/locations", headers=bearer("ercot")).json()
    assert {row["iso"] for row in ercot["data"]} == {"ERCOT"}
    pjm = guarded.get("/v1/locations", headers=bearer("pjm")).json()
    assert {row["iso"] for row in pjm["data"]} == {"PJM"}
    assert guarded.get("/v1/locations", params={"iso": "PJM"}, headers=bearer("ercot")).status_code == 403

    window = {"start": "2024-03-02", "end": "2024-03-03"}
    quality = guarded.get("/v1/quality", params=window, headers=bearer("pjm")).json()
    assert {s["iso"] for s in quality["summary"]} == {"PJM"}
    refused = guarded.get("/v1/quality", params={**window, "iso": "ERCOT"}, headers=bearer("pjm"))
    assert refused.status_code == 403
    no_load = guarded.get("/v1/quality", params={**window, "dataset": "load"}, headers=bearer("pjm"))
    assert no_load.status_code == 403
    assert guarded.get("/v1/quality", params=window).status_code == 401
