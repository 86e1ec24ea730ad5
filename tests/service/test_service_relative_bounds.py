"""Relative time bounds (`today-7d`, `now-6h`) on every REST dataset, spreads, quality and GraphQL.

The clock is fixed at 2024-03-02 12:00 UTC (`bounds.utc_now`, which every
surface reads), one day into the shared data set. A relative request must
answer exactly what the same request with the instants it stands for
answers, with the same ETag: caching and ETags follow the resolved window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from datasets_setup import fill_other_datasets
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import open_store
from carbon254.timeseries import bounds
from conftest import fill

CLOCK = datetime(2024, 3, 2, 12, tzinfo=UTC)

PJM = {"iso": "PJM", "market": "DAM"}
NORTH = {"iso": "ERCOT", "market": "DAM", "locations": "HB_NORTH"}
CAPACITY = {"iso": "PJM"}
SPREAD = {"iso": "PJM", "market": "DAM", "location": "EASTERN HUB", "minus": "WESTERN HUB"}


def window(start: str, end: str, **more: str) -> dict[str, str]:
    return {"start": start, "end": end, **more}


# (path, the parameters every request has, the relative window, the same window in instants)
EQUIVALENT: list[tuple[str, dict[str, str], dict[str, str], dict[str, str]]] = [
    ("/v1/lmp", PJM, window("today-1d", "today+1d"), window("2024-03-01", "2024-03-03")),
    # `today` in the ISO's market time: midnight EST is 05:00 UTC.
    (
        "/v1/lmp",
        {**PJM, "tz": "iso"},
        window("today-1d", "today"),
        window("2024-03-01T05:00Z", "2024-03-02T05:00Z"),
    ),
    ("/v1/lmp", NORTH, window("now-6h", "now"), window("2024-03-02T06:00Z", "2024-03-02T12:00Z")),
    # As known at an instant relative to now (the rows were ingested long after the clock's time).
    (
        "/v1/lmp",
        PJM,
        window("today-1d", "today", as_of="now+1000w"),
        window("2024-03-01", "2024-03-02", as_of="2043-05-02T12:00Z"),
    ),
    (
        "/v1/as_price",
        {"iso": "ERCOT", "market": "DAM"},
        window("today-1d", "today+1d"),
        window("2024-03-01", "2024-03-03"),
    ),
    (
        "/v1/capacity_price",
        {"iso": "PJM"},
        window("today-10w", "today+52w"),
        window("2023-12-23", "2025-03-01"),
    ),
    ("/v1/ordc_adder", {}, window("today-1d", "today-12h"), window("2024-03-01", "2024-03-01T12:00Z")),
    (
        "/v1/load",
        {"iso": "ERCOT", "resample": "hourly"},
        window("today-1d", "today"),
        window("2024-03-01", "2024-03-02"),
    ),
    ("/v1/spreads", SPREAD, window("today-1d", "today+2d"), window("2024-03-01", "2024-03-04")),
    # Market days in the ISO's market time.
    ("/v1/quality", PJM, window("today-1d", "today+1d"), window("2024-03-01", "2024-03-03")),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("relative")
    store = open_store(directory)
    fill(store)
    fill_other_datasets(store)
    store.close()
    return directory


@pytest.fixture
def api(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(bounds, "utc_now", lambda: CLOCK)
    store = open_store(data_dir)
    settings = Settings(data_dir=data_dir, auth=AuthMode.OFF, json_page_rows=10)
    try:
        with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
            yield client
    finally:
        store.close()


def rows(body: dict[str, Any]) -> list[Any]:
    return list(body["days"] if "days" in body else body["data"])


@pytest.mark.parametrize(("path", "common", "relative", "absolute"), EQUIVALENT)
def test_a_relative_request_answers_as_its_instants_do(
    api: TestClient, path: str, common: dict[str, str], relative: dict[str, str], absolute: dict[str, str]
) -> None:
    fmt = {} if path == "/v1/quality" else {"format": "csv"}  # CSV: every row at once
    given = api.get(path, params={**common, **relative, **fmt})
    meant = api.get(path, params={**common, **absolute, **fmt})
    assert given.status_code == 200, given.text
    assert meant.status_code == 200, meant.text
    assert given.content == meant.content
    assert len(given.content.splitlines()) > 1 if fmt else rows(given.json())
    if "etag" in meant.headers:
        assert given.headers["etag"] == meant.headers["etag"]


def test_the_answer_echoes_the_instants_it_read(api: TestClient) -> None:
    body = api.get(
        "/v1/lmp",
        params={"iso": "PJM", "market": "DAM", "start": "today-1d", "end": "now", "tz": "America/New_York"},
    ).json()
    assert (body["query"]["start"], body["query"]["end"]) == (
        "2024-03-01T00:00:00-05:00",
        "2024-03-02T07:00:00-05:00",
    )


def test_graphql_arguments_take_relative_bounds(api: TestClient) -> None:
    def lmp(start: str, end: str) -> Any:
        arguments = f'iso: "ERCOT", market: "DAM", locations: ["HB_NORTH"], start: "{start}", end: "{end}"'
        query = f"{{ lmp({arguments}) {{ intervalStart lmp }} }}"
        answer = api.post("/graphql", json={"query": query}).json()
        assert "errors" not in answer, answer
        return answer["data"]["lmp"]

    relative = lmp("today-1d", "now")
    assert len(relative) == 36
    assert relative == lmp("2024-03-01", "2024-03-02T12:00Z")


@pytest.mark.parametrize(
    ("parameter", "value", "message"),
    [
        ("start", "today-7x", "unknown unit 'x'"),
        ("end", "now+", "lacks the number of days, hours or weeks"),
        ("as_of", "today7d", "expected + or - after 'today'"),
        ("start", "today-99999999999d", "out of range"),
    ],
)
def test_malformed_relative_bounds_are_a_422_naming_the_parameter(
    api: TestClient, parameter: str, value: str, message: str
) -> None:
    for path, common in (("/v1/lmp", PJM), ("/v1/spreads", SPREAD)):
        answer = api.get(path, params={**common, **window("today-1d", "today"), parameter: value})
        assert answer.status_code == 422, answer.text
        assert answer.json()["parameter"] == parameter
        assert message in answer.json()["message"]


def test_a_plus_sent_unescaped_in_a_url_still_counts_forward(api: TestClient) -> None:
    # `end=today+1d` as typed in a URL: the query string decodes '+' to a space.
    unescaped = api.get("/v1/lmp?iso=PJM&market=DAM&locations=PSEG&start=today&end=today+1d&format=csv")
    escaped = api.get("/v1/lmp?iso=PJM&market=DAM&locations=PSEG&start=today&end=today%2B1d&format=csv")
    assert unescaped.status_code == escaped.status_code == 200
    assert unescaped.content == escaped.content
    assert len(unescaped.content.splitlines()) == 1 + 24


def test_next_page_links_pin_a_now_relative_window(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    params = {"iso": "PJM", "market": "DAM", "locations": "PSEG", "start": "now-1d", "end": "now"}
    first = api.get("/v1/lmp", params=params)
    assert first.status_code == 200 and first.json()["count"] == 10
    link = first.headers["link"]
    assert "now" not in link and "start=2024-03-01T12%3A00%3A00%2B00%3A00" in link
    # The clock moves on before the next page is asked for: the Link still names the first page's window.
    monkeypatch.setattr(bounds, "utc_now", lambda: datetime(2024, 3, 2, 15, tzinfo=UTC))
    second = api.get(link[1 : link.index(">")])
    assert second.status_code == 200, second.text
    times = [r["interval_start"] for r in first.json()["data"] + second.json()["data"]]
    assert times[0] == "2024-03-01T12:00:00+00:00" and times[10] == "2024-03-01T22:00:00+00:00"
    assert len(set(times)) == 20


def test_a_cursor_sent_again_with_a_moved_now_window_says_how_to_keep_the_first(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"iso": "PJM", "market": "DAM", "locations": "PSEG", "start": "now-1d", "end": "now"}
    first = api.get("/v1/lmp", params=params).json()
    monkeypatch.setattr(bounds, "utc_now", lambda: datetime(2024, 3, 2, 15, tzinfo=UTC))
    moved = api.get("/v1/lmp", params={**params, "cursor": first["next_cursor"]})
    assert moved.status_code == 422
    error = moved.json()
    assert error["code"] == "invalid_cursor" and error["parameter"] == "cursor"
    assert "relative" in error["message"] and "Link" in error["message"]
    # Its advice works: the same cursor with the first answer's resolved window.
    pinned = {**params, "start": first["query"]["start"], "end": first["query"]["end"]}
    second = api.get("/v1/lmp", params={**pinned, "cursor": first["next_cursor"]})
    assert second.status_code == 200, second.text
    assert second.json()["data"][0]["interval_start"] == "2024-03-01T22:00:00+00:00"


def test_openapi_documents_the_relative_forms(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    documented = 0
    for path in (
        "/v1/lmp",
        "/v1/as_price",
        "/v1/capacity_price",
        "/v1/ordc_adder",
        "/v1/load",
        "/v1/spreads",
    ):
        parameters = {p["name"]: p.get("description", "") for p in paths[path]["get"]["parameters"]}
        assert "today-30d" in parameters["start"] and "now-6h" in parameters["start"], path
        assert "same forms as `start`" in parameters["end"] and "same forms as `start`" in parameters["as_of"]
        documented += 1
    quality = {p["name"]: p.get("description", "") for p in paths["/v1/quality"]["get"]["parameters"]}
    assert "today-7d" in quality["start"]
    assert documented == 6
