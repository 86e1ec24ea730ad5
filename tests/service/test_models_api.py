"""The forecast model registry over HTTP (`/v1/models`): reads, stage changes, refusals, tenants."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient

from carbon254.application.identity import ANONYMOUS_TENANT
from carbon254.config import AuthMode, Settings
from carbon254.metadata import MetadataDatabase
from carbon254.metadata.forecast_models import ModelVersion
from carbon254.service import create_app
from registry_models import METRICS, PARAMETERS, register


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("models-api"), auth=AuthMode.OFF)


@pytest.fixture(scope="module")
def db(app_settings: Settings) -> Iterator[MetadataDatabase]:
    database = MetadataDatabase(app_settings.metadata_database_url())
    yield database
    database.close()


@pytest.fixture(scope="module")
def api(app_settings: Settings, db: MetadataDatabase) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as client:
        yield client


def stages(api: TestClient, name: str) -> dict[int, str]:
    return {m["version"]: m["stage"] for m in api.get(f"/v1/models/{name}").json()}


def test_a_version_reads_back_with_every_field_as_json(api: TestClient, db: MetadataDatabase) -> None:
    record = register(db, ANONYMOUS_TENANT, name="Fields")
    response = api.get("/v1/models/fields/1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["parameters"] == PARAMETERS and body["metrics"] == METRICS  # objects, not text
    assert isinstance(body["metrics"]["n"], int)
    expected = {
        "owner": ANONYMOUS_TENANT,
        "name": "Fields",
        "version": 1,
        "iso": "ERCOT",
        "location": "HB_HOUSTON",
        "market": "dam",
        "model": "lear",
        "features": ["price_lag_24", "load_forecast"],
        "train_start": "2022-01-01",
        "train_end": "2023-12-31",
        "artifact_key": record.artifact_key,
        "artifact_sha256": record.artifact_sha256,
        "seed": 7,
        "stage": "candidate",
    }
    assert {k: body[k] for k in expected} == expected
    assert datetime.fromisoformat(body["created_at"]) == record.created_at
    assert datetime.fromisoformat(body["stage_changed_at"]) == record.stage_changed_at


def test_promote_promote_rollback_and_a_409_when_nothing_is_left(
    api: TestClient, db: MetadataDatabase
) -> None:
    for _ in range(3):
        register(db, ANONYMOUS_TENANT, name="Cycle")
    first = api.post("/v1/models/cycle/promote", json={"version": 1})
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["stage"]) == (1, "production")
    api.post("/v1/models/CYCLE/promote", json={"version": 2})
    assert stages(api, "cycle") == {3: "candidate", 2: "production", 1: "archived"}
    assert api.get("/v1/models/cycle/2").json()["stage"] == "production"
    back = api.post("/v1/models/cycle/rollback")
    assert back.status_code == 200 and (back.json()["version"], back.json()["stage"]) == (1, "production")
    assert stages(api, "cycle") == {3: "candidate", 2: "archived", 1: "production"}
    refused = api.post("/v1/models/cycle/rollback")
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_stage" and refused.json()["parameter"] == "name"
    archived = api.post("/v1/models/cycle/archive", json={"version": 3})
    assert archived.status_code == 200 and archived.json()["stage"] == "archived"
    assert stages(api, "cycle") == {3: "archived", 2: "archived", 1: "production"}


def test_listing_filters_by_name_iso_location_and_market(api: TestClient, db: MetadataDatabase) -> None:
    register(db, ANONYMOUS_TENANT, name="Filter North", location="HB_NORTH")
    register(db, ANONYMOUS_TENANT, name="Filter RT", market="rtm", model="subhourly")
    register(db, ANONYMOUS_TENANT, name="Filter RT", market="rtm", model="subhourly")

    def names(**params: Any) -> list[tuple[str, int]]:
        response = api.get("/v1/models", params=params)
        assert response.status_code == 200, response.text
        return [(m["name"], m["version"]) for m in response.json() if m["name"].startswith("Filter")]

    assert names(name="filter rt") == [("Filter RT", 2), ("Filter RT", 1)]
    assert names(location="HB_NORTH") == [("Filter North", 1)]
    assert names(market="RTM", iso="ercot") == [("Filter RT", 2), ("Filter RT", 1)]
    assert names(iso="PJM") == []
    assert ("Filter North", 1) in names()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "parameter"),
    [
        ("get", "/v1/models/never", None, 404, "name"),
        ("get", "/v1/models/refusals/9", None, 404, "version"),
        ("get", "/v1/models/refusals/0", None, 422, "version"),
        ("get", "/v1/models/refusals/one", None, 422, "version"),
        ("get", "/v1/models/..%20x", None, 422, "name"),
        ("post", "/v1/models/never/promote", {"version": 1}, 404, "name"),
        ("post", "/v1/models/refusals/promote", {"version": 9}, 404, "version"),
        ("post", "/v1/models/refusals/promote", {"version": "latest"}, 422, "version"),
        ("post", "/v1/models/refusals/promote", {}, 422, "version"),
        ("post", "/v1/models/refusals/promote", {"version": 1, "stage": "x"}, 422, "stage"),
        ("post", "/v1/models/refusals/archive", {"version": -1}, 422, "version"),
        ("post", "/v1/models/never/rollback", None, 404, "name"),
        ("post", "/v1/models/refusals/rollback", None, 409, "name"),
    ],
)
def test_refusals_name_what_is_wrong(
    api: TestClient,
    db: MetadataDatabase,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    parameter: str,
) -> None:
    if not api.get("/v1/models", params={"name": "refusals"}).json():
        register(db, ANONYMOUS_TENANT, name="refusals")
    response = api.request(method.upper(), path, json=body)
    assert response.status_code == status, response.text
    assert response.json()["parameter"] == parameter
    assert api.get("/v1/models/refusals/1").json()["stage"] == "candidate"  # nothing changed


def test_list_filters_are_checked(api: TestClient) -> None:
    for params, parameter in (({"iso": "ERCOTT"}, "iso"), ({"market": "intraday"}, "market")):
        response = api.get("/v1/models", params=params)
        assert response.status_code == 422 and response.json()["parameter"] == parameter


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    data_dir = tmp_path_factory.mktemp("models-tenants")
    settings = Settings(data_dir=data_dir, auth=AuthMode.REQUIRED, rate_limit_per_s=0)
    keys = {
        "forecast": make_tenant_key(settings, "models-forecast", features=["forecast"]),
        "other": make_tenant_key(settings, "models-other"),
        "risk": make_tenant_key(settings, "models-risk", features=["risk"]),
    }
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, keys, data_dir


def test_tenants_need_the_forecast_feature_and_see_only_their_models(
    tenants: tuple[TestClient, dict[str, str], Path],
) -> None:
    client, keys, data_dir = tenants
    db = MetadataDatabase(Settings(data_dir=data_dir).metadata_database_url())
    try:
        own: ModelVersion = register(db, "models-forecast", name="Own")
    finally:
        db.close()

    def call(method: str, path: str, key: str, body: dict[str, Any] | None = None) -> Any:
        return client.request(method, path, json=body, headers={"X-API-Key": keys[key]})

    listed = call("GET", "/v1/models", "forecast").json()
    assert [(m["owner"], m["name"]) for m in listed] == [(own.owner, "Own")]
    assert call("GET", "/v1/models", "other").json() == []
    assert call("GET", "/v1/models/own/1", "other").status_code == 404
    assert call("POST", "/v1/models/own/promote", "other", {"version": 1}).status_code == 404
    for method, path, body in (
        ("GET", "/v1/models", None),
        ("GET", "/v1/models/own/1", None),
        ("POST", "/v1/models/own/promote", {"version": 1}),
        ("POST", "/v1/models/own/rollback", None),
    ):
        assert call(method, path, "risk", body).status_code == 403, path
    assert client.get("/v1/models").status_code == 401
    promoted = call("POST", "/v1/models/own/promote", "forecast", {"version": 1})
    assert promoted.status_code == 200 and promoted.json()["stage"] == "production"
