"""The service opens the store its settings name (`CARBON254_STORE`), wherever the data dir is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.service.cursor import cursor_key
from carbon254.service.stream.messages import default_namespace
from carbon254.store import open_store

LMP = {"iso": "PJM", "market": "DAM", "locations": "WESTERN HUB", "start": "2024-03-01", "end": "2024-03-02"}


def _shared_store(tmp_path: Path, make_lmp: Callable[..., pa.Table]) -> str:
    url = f"duckdb://{tmp_path}/shared"
    writer = open_store(url, tmp_path / "unused")
    writer.write("lmp", make_lmp("PJM", "DAM", "WESTERN HUB", hours=24))
    writer.close()
    return url


def test_the_service_reads_the_store_its_url_names(tmp_path: Path, make_lmp: Callable[..., pa.Table]) -> None:
    url = _shared_store(tmp_path, make_lmp)
    settings = Settings(data_dir=tmp_path / "data", store=url, auth=AuthMode.OFF)
    with TestClient(create_app(settings)) as client:
        assert client.get("/ready").status_code == 200
        assert client.get("/v1/lmp", params=LMP).json()["count"] == 24
    assert not (tmp_path / "data" / "store").exists()  # the data dir holds no store of its own


def test_processes_over_one_store_accept_each_others_cursors(
    tmp_path: Path, make_lmp: Callable[..., pa.Table]
) -> None:
    url = _shared_store(tmp_path, make_lmp)
    one = Settings(data_dir=tmp_path / "a", store=url, auth=AuthMode.OFF, json_page_rows=10)
    two = Settings(data_dir=tmp_path / "b", store=url, auth=AuthMode.OFF, json_page_rows=10)
    with TestClient(create_app(one)) as first, TestClient(create_app(two)) as second:
        page = first.get("/v1/lmp", params=LMP).json()
        assert page["count"] == 10 and page["next_cursor"]
        following = second.get("/v1/lmp", params={**LMP, "cursor": page["next_cursor"]})
        assert following.status_code == 200, following.text
        assert following.json()["count"] == 10

    # The stream's Redis namespace and the cursor key follow the store, not the data dir.
    assert default_namespace(one.store_url()) == default_namespace(two.store_url())
    elsewhere = Settings(data_dir=tmp_path / "a", auth=AuthMode.OFF)
    assert cursor_key(elsewhere) != cursor_key(one) == cursor_key(two)
    assert default_namespace(elsewhere.store_url()) != default_namespace(one.store_url())
