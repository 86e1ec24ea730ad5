"""The app itself: health, OpenAPI, docs served without a CDN, store lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.service.docs import local_assets
from carbon254.store import Store, open_store


def test_health(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_openapi_describes_the_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/health", "/v1/lmp", "/v1/locations"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/v1/lmp"]["get"]["parameters"]}
    errors = spec["paths"]["/v1/lmp"]["get"]["responses"]
    assert errors["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert errors["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert params >= {
        "iso",
        "market",
        "locations",
        "start",
        "end",
        "tz",
        "resample",
        "block",
        "as_of",
        "format",
    }


def test_docs_pages_load_their_assets_from_this_app(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()
    if local_assets() is None:
        pytest.skip("no package with local swagger-ui assets is installed; /docs uses the CDN")
    assert "cdn.jsdelivr.net" not in page.text
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/docs/swagger-ui.css").status_code == 200
    redoc = client.get("/redoc")
    assert redoc.status_code == 200
    assert "cdn.jsdelivr.net" not in redoc.text
    assert "fonts.googleapis.com" not in redoc.text
    assert client.get("/static/docs/redoc.standalone.js").status_code == 200


def test_store_opened_from_settings_and_closed_at_shutdown(
    tmp_path: Path, make_lmp: Callable[..., pa.Table], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_store(tmp_path)
    writer.write("lmp", make_lmp("SPP", "DAM", "SPPNORTH_HUB", hours=24))
    writer.close()
    opened: list[tuple[str, Path]] = []
    closed: list[bool] = []

    def tracking_open_store(url: str, data_dir: Path) -> Store:
        opened.append((url, Path(data_dir)))
        real = open_store(url, data_dir)
        close = real.close

        def tracked_close() -> None:
            closed.append(True)
            close()

        real.close = tracked_close  # type: ignore[method-assign]
        return real

    monkeypatch.setattr("carbon254.service.app.open_store", tracking_open_store)
    app = create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF))
    with TestClient(app) as c:
        assert opened == [("duckdb://", tmp_path)]
        params = {"iso": "SPP", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02"}
        assert c.get("/v1/lmp", params=params).json()["count"] == 24
        assert closed == []
    assert closed == [True]
    assert app.state.store is None


def test_a_store_passed_in_stays_open(tmp_path: Path, fresh_store: Store) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path, auth=AuthMode.OFF), fresh_store)) as c:
        assert c.get("/health").status_code == 200
    assert fresh_store.locations().num_rows == 0  # still usable after the app shut down
