"""The dataset routes' fast path: a repeated request skips parsing, never identification or the data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient

from carbon254.application.datasets import DatasetQuery
from carbon254.config import AuthMode, Settings
from carbon254.metadata import MetadataDatabase, revoke_key, update_tenant
from carbon254.service import create_app
from carbon254.service.routes import lmp as lmp_route
from carbon254.store import open_store
from carbon254.store.base import Store
from carbon254.timeseries import bounds
from conftest import make_lmp_table

DAY = datetime(2024, 3, 1, tzinfo=UTC)
LMP = {"iso": "PJM", "market": "DAM", "locations": "WESTERN HUB", "start": "2024-03-01", "end": "2024-03-02"}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[TestClient, Settings, Store]]:
    store = open_store(tmp_path)
    store.write("lmp", make_lmp_table("PJM", "DAM", "WESTERN HUB", DAY, 24))
    settings = Settings(data_dir=tmp_path, auth=AuthMode.REQUIRED)
    try:
        with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
            yield client, settings, store
    finally:
        store.close()


def count_parsing(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A list that grows by one each time `/v1/lmp` parses its parameters."""
    calls: list[object] = []
    parse = lmp_route.build_query

    def counted(*args: Any, **kwargs: Any) -> DatasetQuery:
        calls.append(kwargs)
        return parse(*args, **kwargs)

    monkeypatch.setattr(lmp_route, "build_query", counted)
    return calls


def test_a_repeated_request_is_answered_without_parsing_it(
    service: tuple[TestClient, Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings, store = service
    headers = {"X-API-Key": make_tenant_key(settings, "pjm", isos=["PJM"])}
    first = client.get("/v1/lmp", params=LMP, headers=headers)
    assert first.status_code == 200
    parsed = count_parsing(monkeypatch)
    again = client.get("/v1/lmp", params=LMP, headers=headers)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    unchanged = client.get("/v1/lmp", params=LMP, headers={**headers, "If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304
    # New data overlapping the window: a new answer, still without parsing.
    store.write("lmp", make_lmp_table("PJM", "DAM", "WESTERN HUB", DAY, 24, offset=7.0))
    revised = client.get("/v1/lmp", params=LMP, headers=headers)
    assert revised.status_code == 200 and revised.headers["etag"] != first.headers["etag"]
    assert [r["lmp"] for r in revised.json()["data"]] == [r["lmp"] + 7.0 for r in first.json()["data"]]
    assert parsed == []
    # Another Accept or another query string is another request, parsed.
    csv = client.get("/v1/lmp", params=LMP, headers={**headers, "Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert client.get("/v1/lmp", params={**LMP, "tz": "UTC"}, headers=headers).status_code == 200
    assert len(parsed) == 2


def test_a_repeated_request_is_identified_and_entitled_every_time(
    service: tuple[TestClient, Settings, Store],
) -> None:
    client, settings, _ = service
    key = make_tenant_key(settings, "acme", isos=["PJM"])
    other = make_tenant_key(settings, "other", isos=["ERCOT"])
    assert client.get("/v1/lmp", params=LMP, headers={"X-API-Key": key}).status_code == 200
    assert client.get("/v1/lmp", params=LMP).status_code == 401
    assert client.get("/v1/lmp", params=LMP, headers={"X-API-Key": other}).status_code == 403
    db = MetadataDatabase(settings.metadata_database_url())
    try:
        update_tenant(db, "acme", isos=["ERCOT"])
        narrowed = client.get("/v1/lmp", params=LMP, headers={"X-API-Key": key})
        assert narrowed.status_code == 403 and narrowed.json()["code"] == "not_entitled"
        update_tenant(db, "acme", isos=["PJM"])
        assert client.get("/v1/lmp", params=LMP, headers={"X-API-Key": key}).status_code == 200
        revoke_key(db, key)
        assert client.get("/v1/lmp", params=LMP, headers={"X-API-Key": key}).status_code == 401
    finally:
        db.close()


def test_refused_requests_are_never_remembered(
    service: tuple[TestClient, Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings, _ = service
    headers = {"X-API-Key": make_tenant_key(settings, "pjm", isos=["PJM"])}
    bad = {**LMP, "start": "2024-03-05"}  # after end
    parsed = count_parsing(monkeypatch)
    assert client.get("/v1/lmp", params=bad, headers=headers).status_code == 422
    assert client.get("/v1/lmp", params=bad, headers=headers).status_code == 422
    assert len(parsed) == 2


def test_a_request_relative_to_today_is_remembered_for_that_day_only(
    service: tuple[TestClient, Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings, _ = service
    headers = {"X-API-Key": make_tenant_key(settings, "pjm", isos=["PJM"])}
    clock = [datetime(2024, 3, 2, 3, tzinfo=UTC)]  # still March 1 in New York
    monkeypatch.setattr(bounds, "utc_now", lambda: clock[0])
    params = {**LMP, "start": "today", "end": "today+1d", "tz": "America/New_York"}
    first = client.get("/v1/lmp", params=params, headers=headers)
    assert first.status_code == 200 and len(first.json()["data"]) == 19  # 05:00-24:00 UTC of March 1
    parsed = count_parsing(monkeypatch)
    clock[0] = datetime(2024, 3, 2, 4, 59, tzinfo=UTC)
    assert client.get("/v1/lmp", params=params, headers=headers).content == first.content
    assert parsed == []
    # Midnight in New York: `today` is March 2 now, a new window, parsed afresh.
    clock[0] = datetime(2024, 3, 2, 5, tzinfo=UTC)
    following = client.get("/v1/lmp", params=params, headers=headers)
    assert following.status_code == 200 and following.json()["data"] == []
    assert following.json()["query"]["start"] == "2024-03-02T00:00:00-05:00"
    assert len(parsed) == 1
    assert client.get("/v1/lmp", params=params, headers=headers).content == following.content
    assert len(parsed) == 1
    # The day in UTC turned earlier: a request read in UTC was filed under its own day.
    utc_params = {**LMP, "start": "today-1d", "end": "today"}
    assert client.get("/v1/lmp", params=utc_params, headers=headers).json()["data"]
    assert len(parsed) == 2


def test_a_request_relative_to_now_is_parsed_every_time(
    service: tuple[TestClient, Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings, _ = service
    headers = {"X-API-Key": make_tenant_key(settings, "pjm", isos=["PJM"])}
    clock = [datetime(2024, 3, 1, 6, 30, tzinfo=UTC)]
    monkeypatch.setattr(bounds, "utc_now", lambda: clock[0])
    params = {**LMP, "start": "2024-03-01", "end": "2024-03-02", "as_of": "now"}
    assert client.get("/v1/lmp", params=params, headers=headers).status_code == 200
    parsed = count_parsing(monkeypatch)
    windows = []
    for hour in (7, 8):
        clock[0] = datetime(2024, 3, 1, hour, 30, tzinfo=UTC)
        last_hours = {**LMP, "start": "now-2h", "end": "now"}
        answer = client.get("/v1/lmp", params=last_hours, headers=headers).json()
        windows.append([r["interval_start"] for r in answer["data"]])
        assert client.get("/v1/lmp", params=params, headers=headers).status_code == 200
    assert len(parsed) == 4
    assert windows == [
        ["2024-03-01T06:00:00+00:00", "2024-03-01T07:00:00+00:00"],
        ["2024-03-01T07:00:00+00:00", "2024-03-01T08:00:00+00:00"],
    ]
