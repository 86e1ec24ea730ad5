"""`/graphql`: the rows of REST, combined queries, batched reads, limits, auth and the local playground."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from datasets_setup import TENANTS, CountingStore, KeyAuthenticator, bearer, fill_other_datasets
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import open_store
from conftest import fill

WINDOW = 'start: "2024-03-01", end: "2024-03-02"'
CONTRACT = (
    '{ lmp(iso: "ERCOT", market: "DAM", locations: ["HB_NORTH"], start: "2024-03-01", end: "2024-03-03") '
    "{ intervalStart intervalEnd location lmp energy congestion loss } }"
)


@pytest.fixture(scope="module")
def data_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountingStore]:
    directory = tmp_path_factory.mktemp("graphql")
    store = open_store(directory)
    fill(store)
    fill_other_datasets(store)
    yield CountingStore(store)
    store.close()


def _client(store: CountingStore, **settings: Any) -> TestClient:
    config = Settings(data_dir=store.root.parent, auth=AuthMode.OFF, **settings)
    return TestClient(create_app(config, store), raise_server_exceptions=False)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def api(data_store: CountingStore) -> Iterator[TestClient]:
    with _client(data_store) as client:
        yield client


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _post(client: TestClient, query: str, **headers: str) -> tuple[int, dict[str, Any]]:
    r = client.post("/graphql", json={"query": query}, headers=headers)
    return r.status_code, r.json()


def _rest_rows(client: TestClient, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    body = client.get(path, params=params).json()
    assert body["next_cursor"] is None, "keep contract windows within one JSON page"
    rows: list[dict[str, Any]] = body["data"]
    return rows


def test_binding_contract_lmp_equals_rest(api: TestClient) -> None:
    status, body = _post(api, CONTRACT)
    assert status == 200
    assert "errors" not in body
    rest = _rest_rows(
        api,
        "/v1/lmp",
        {
            "iso": "ERCOT",
            "market": "DAM",
            "locations": "HB_NORTH",
            "start": "2024-03-01",
            "end": "2024-03-03",
        },
    )
    fields = ["interval_start", "interval_end", "location", "lmp", "energy", "congestion", "loss"]
    assert len(rest) == 48
    assert body["data"]["lmp"] == [{_camel(f): row[f] for f in fields} for row in rest]


@pytest.mark.parametrize(
    ("field", "arguments", "path", "params"),
    [
        (
            "lmp",
            'iso: "pjm", market: "dam", tz: "iso", resample: "daily", start: "2024-03-02", end: "2024-03-05"',
            "/v1/lmp",
            {
                "iso": "pjm",
                "market": "dam",
                "tz": "iso",
                "resample": "daily",
                "start": "2024-03-02",
                "end": "2024-03-05",
            },
        ),
        (
            "asPrice",
            f'iso: "ERCOT", market: "DAM", products: ["rrs"], {WINDOW}',
            "/v1/as_price",
            {"iso": "ERCOT", "market": "DAM", "products": "rrs", "start": "2024-03-01", "end": "2024-03-02"},
        ),
        (
            "capacityPrice",
            'iso: "PJM", auction: "BRA", start: "2024-01-01", end: "2025-01-01"',
            "/v1/capacity_price",
            {"iso": "PJM", "auction": "BRA", "start": "2024-01-01", "end": "2025-01-01"},
        ),
        (
            "ordcAdder",
            f'{WINDOW}, resample: "hourly"',
            "/v1/ordc_adder",
            {"start": "2024-03-01", "end": "2024-03-02", "resample": "hourly"},
        ),
        (
            "load",
            f'iso: "ERCOT", kind: "forecast", zones: ["NORTH"], {WINDOW}, block: "onpeak", tz: "iso"',
            "/v1/load",
            {"iso": "ERCOT", "kind": "forecast", "zones": "NORTH", "block": "onpeak", "tz": "iso"}
            | {"start": "2024-03-01", "end": "2024-03-02"},
        ),
    ],
)
def test_every_dataset_field_answers_the_rest_rows(
    api: TestClient, field: str, arguments: str, path: str, params: dict[str, str]
) -> None:
    rest = _rest_rows(api, path, params)
    assert rest, "the comparison needs rows"
    columns = list(rest[0])
    status, body = _post(api, f"{{ {field}({arguments}) {{ {' '.join(_camel(c) for c in columns)} }} }}")
    assert status == 200, body
    assert body["data"][field] == [{_camel(c): row[c] for c in columns} for row in rest]


def test_combined_query_in_one_round_trip(api: TestClient) -> None:
    query = f"""{{
      north: lmp(iso: "ERCOT", market: "DAM", locations: ["HB_NORTH"], {WINDOW}) {{ location lmp }}
      west: lmp(iso: "PJM", market: "DAM", locations: ["WESTERN HUB"], {WINDOW}) {{ location lmp }}
      asPrice(iso: "ERCOT", market: "DAM", {WINDOW}) {{ product price }}
      load(iso: "ERCOT", kind: "actual", {WINDOW}) {{ zone mw }}
      locations(iso: "PJM", type: "hub") {{ location locationType source }}
      quality(iso: "PJM", start: "2024-03-02", end: "2024-03-03") {{
        count summary {{ market completeness }}
      }}
    }}"""
    status, body = _post(api, query)
    assert status == 200, body
    data = body["data"]
    assert {r["location"] for r in data["north"]} == {"HB_NORTH"} and len(data["north"]) == 24
    assert {r["location"] for r in data["west"]} == {"WESTERN HUB"}
    assert len(data["asPrice"]) == 48
    assert len(data["load"]) == 48
    assert {r["location"] for r in data["locations"]} == {"EASTERN HUB", "WESTERN HUB"}
    assert {s["market"] for s in data["quality"]["summary"]} == {"DAM", "RTH"}
    assert all(s["completeness"] == 1.0 for s in data["quality"]["summary"])


def test_aliased_fields_of_one_market_and_window_cost_one_store_read(
    api: TestClient, data_store: CountingStore
) -> None:
    names = ["WESTERN HUB", "EASTERN HUB", "PSEG"]
    fields = "\n".join(
        f'f{i}: lmp(iso: "PJM", market: "DAM", locations: ["{name}"], {WINDOW}) {{ location lmp }}'
        for i, name in enumerate(names)
    )
    before = data_store.reads
    status, body = _post(api, f"{{ {fields} }}")
    assert status == 200, body
    assert data_store.reads == before + 1  # one read for the three fields, not three
    for i, name in enumerate(names):
        assert {r["location"] for r in body["data"][f"f{i}"]} == {name}
        assert len(body["data"][f"f{i}"]) == 24

    # Another window or market is another read: batching never mixes what differs.
    before = data_store.reads
    other = f"""{{
      a: lmp(iso: "PJM", market: "DAM", locations: ["PSEG"], {WINDOW}) {{ lmp }}
      b: lmp(iso: "PJM", market: "RTH", locations: ["WESTERN HUB"], {WINDOW}) {{ lmp }}
      c: lmp(iso: "PJM", market: "DAM", locations: ["PSEG"], start: "2024-03-02", end: "2024-03-03") {{ lmp }}
    }}"""
    status, body = _post(api, other)
    assert status == 200
    assert data_store.reads == before + 3
    assert [len(body["data"][k]) for k in "abc"] == [24, 24, 24]
    assert body["data"]["b"][0]["lmp"] == pytest.approx(22.0 + 1.5 + 0.25)  # RTH, not DAM's 21.75


def test_bad_arguments_are_field_errors_with_the_rest_codes(api: TestClient) -> None:
    query = f"""{{
      ok: lmp(iso: "PJM", market: "DAM", locations: ["PSEG"], {WINDOW}) {{ lmp }}
      typo: lmp(iso: "PJM", market: "DAM", locations: ["WESTERN HUBB"], {WINDOW}) {{ lmp }}
      backwards: load(iso: "ERCOT", start: "2024-03-02", end: "2024-03-01") {{ mw }}
    }}"""
    status, body = _post(api, query)
    assert status == 200
    assert len(body["data"]["ok"]) == 24
    assert body["data"]["typo"] is None and body["data"]["backwards"] is None
    errors = {tuple(e["path"]): e["extensions"] for e in body["errors"]}
    assert errors[("typo",)]["code"] == "NOT_FOUND"
    assert errors[("typo",)]["parameter"] == "locations"
    assert "WESTERN HUB" in errors[("typo",)]["suggestions"]
    assert errors[("backwards",)] == {"code": "INVALID_PARAMETER", "status": 422, "parameter": "end"}


def test_invalid_graphql_is_400_with_the_parser_message(api: TestClient) -> None:
    status, body = _post(api, "{ lmp(iso: ")
    assert status == 400
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Syntax Error")
    status, body = _post(api, "{ lmp { nonsense } }")
    assert status == 400
    assert any("nonsense" in e["message"] for e in body["errors"])
    r = api.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_request"  # not a GraphQL request at all: the common error body
    no_query = api.get("/graphql", headers={"Accept": "application/json"})  # a GET without a query
    assert no_query.status_code == 400
    assert no_query.json()["code"] == "invalid_request"


def test_depth_alias_and_row_limits_reject_abusive_queries(data_store: CountingStore) -> None:
    with _client(data_store, graphql_max_depth=2, graphql_max_aliases=2, graphql_max_rows=50) as client:
        deep = '{ quality(start: "2024-03-02", end: "2024-03-03") { days { gaps { start } } } }'
        status, body = _post(client, deep)
        assert status == 400
        assert body["data"] is None
        assert "exceeds maximum operation depth of 2" in body["errors"][0]["message"]

        aliases = " ".join(f'a{i}: locations(iso: "PJM") {{ location }}' for i in range(3))
        status, body = _post(client, f"{{ {aliases} }}")
        assert status == 400
        assert "aliases" in body["errors"][0]["message"]

        reads = data_store.reads
        too_many = f"""{{
          a: lmp(iso: "PJM", market: "DAM", locations: ["PSEG"], {WINDOW}) {{ lmp }}
          b: lmp(iso: "PJM", market: "DAM", {WINDOW}) {{ lmp }}
        }}"""
        status, body = _post(client, too_many)
        assert status == 400
        assert body["data"] is None  # nothing of an over-size answer is sent
        assert body["errors"][0]["extensions"]["code"] == "RESULT_TOO_LARGE"
        assert "50" in body["errors"][0]["message"]
        assert data_store.reads > reads

        status, body = _post(
            client, f'{{ lmp(iso: "PJM", market: "DAM", locations: ["PSEG"], {WINDOW}) {{ lmp }} }}'
        )
        assert status == 200 and len(body["data"]["lmp"]) == 24  # within every limit


@pytest.fixture(scope="module")
def guarded(data_store: CountingStore) -> Iterator[TestClient]:
    client = _client(data_store)
    client.app.state.authenticator = KeyAuthenticator(TENANTS)  # type: ignore[attr-defined]
    with client:
        yield client


def test_missing_or_unknown_credentials_are_401_with_the_common_body(guarded: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer key-nobody"}, {"Authorization": "Basic abc"}):
        r = guarded.post("/graphql", json={"query": CONTRACT}, headers=headers)
        assert r.status_code == 401
        assert r.json()["code"] == "unauthenticated"
        assert set(r.json()) >= {"code", "message", "parameter"}
        assert r.headers["www-authenticate"] == "Bearer"
    assert guarded.get("/graphql", params={"query": CONTRACT}).status_code == 401


def test_entitlements_refuse_with_403_and_isolate_tenants(
    guarded: TestClient, data_store: CountingStore
) -> None:
    reads = data_store.reads
    status, body = _post(guarded, CONTRACT, **bearer("pjm"))
    assert status == 403
    assert body["data"] == {"lmp": None}
    assert body["errors"][0]["extensions"] == {"code": "NOT_ENTITLED", "status": 403}
    assert "ERCOT" in body["errors"][0]["message"]
    assert data_store.reads == reads  # refused before reading

    status, body = _post(guarded, CONTRACT, **bearer("ercot"))
    assert status == 200 and len(body["data"]["lmp"]) == 48

    mixed = f"""{{
      mine: lmp(iso: "PJM", market: "DAM", locations: ["PSEG"], {WINDOW}) {{ lmp }}
      theirs: load(iso: "ERCOT", {WINDOW}) {{ mw }}
      capacity: capacityPrice(iso: "PJM", start: "2024-01-01", end: "2025-01-01") {{ zone }}
      noAs: asPrice(iso: "PJM", market: "DAM", {WINDOW}) {{ price }}
      everywhere: locations {{ iso }}
    }}"""
    status, body = _post(guarded, mixed, **bearer("pjm"))
    assert status == 403
    data = body["data"]
    assert len(data["mine"]) == 24 and len(data["capacity"]) == 2
    assert data["theirs"] is None and data["noAs"] is None
    assert {e["path"][0] for e in body["errors"]} == {"theirs", "noAs"}
    assert {r["iso"] for r in data["everywhere"]} == {"PJM"}

    status, body = _post(
        guarded,
        '{ locations { iso } quality(start: "2024-03-02", end: "2024-03-03") { summary { iso } } }',
        **bearer("ercot"),
    )
    assert status == 200
    assert {r["iso"] for r in body["data"]["locations"]} == {"ERCOT"}
    assert {s["iso"] for s in body["data"]["quality"]["summary"]} == {"ERCOT"}
    status, body = _post(guarded, '{ locations(iso: "PJM") { iso } }', **bearer("ercot"))
    assert status == 403


def test_graphiql_page_and_assets_are_served_locally(guarded: TestClient) -> None:
    # The page is static: a browser loads it without credentials, then sends them with each query.
    page = guarded.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(urls) == 5
    assert all(url.startswith("/graphql/static/") for url in urls)
    assert "http" not in page.text.replace("http-equiv", "")
    assert "<script>" not in page.text  # no inline script: the page's CSP forbids them
    for url in urls:
        asset = guarded.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))
        assert len(asset.content) > 100
    assert b"window.GraphiQL" in guarded.get("/graphql/static/graphiql.min.js").content
    assert guarded.get("/graphql/static/LICENSE.graphiql").status_code == 200
    assert guarded.get("/graphql/static/../app.py").status_code == 404
    assert guarded.get("/graphql/static/secrets.txt").status_code == 404


def test_control_characters_in_arguments_are_caller_errors_not_500s(api: TestClient) -> None:
    # String arguments reach only the store's name resolution (never SQL): an unknown name, a field error.
    query = f'query($iso: String!) {{ lmp(iso: $iso, market: "DAM", {WINDOW}) {{ lmp }} }}'
    r = api.post("/graphql", json={"query": query, "variables": {"iso": "PJ\x00M"}})
    assert r.status_code == 200
    body = r.json()
    assert body["data"] is None or body["data"]["lmp"] is None
    assert body["errors"][0]["extensions"]["parameter"] == "iso"
    # A GET request's query string is checked at the edge, like every route's.
    refused = api.get(
        "/graphql", params={"query": "{ __typename }\x00"}, headers={"Accept": "application/json"}
    )
    assert (refused.status_code, refused.json()["parameter"]) == (422, "query")
