"""The download center through REST: an export job of `/v1/lmp`'s parameters, run by the service's
own worker, whose signed download holds what `/v1/lmp` answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import Store

QUERY = {
    "iso": "PJM",
    "market": "DAM",
    "locations": "WESTERN HUB,PSEG",
    "start": "2024-03-02",
    "end": "2024-03-12",
    "tz": "America/New_York",
}


@pytest.fixture(scope="module")
def served(data_dir: Path, store: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The service over the shared data set (conftest's `store`), its own worker exporting from it."""
    settings = Settings(
        data_dir=data_dir,
        auth=AuthMode.REQUIRED,
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=1,
        job_poll_s=0.05,
    )
    headers = {"X-API-Key": make_tenant_key(settings, "exporter")}
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        yield client, headers


def _export(client: TestClient, headers: dict[str, str], fmt: str) -> dict[str, Any]:
    submitted = client.post(
        "/v1/jobs", json={"kind": "export", "request": {**QUERY, "format": fmt}}, headers=headers
    )
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            assert job["status"] == "succeeded", job
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_a_csv_export_downloads_exactly_what_v1_lmp_answers(
    served: tuple[TestClient, dict[str, str]],
) -> None:
    client, headers = served
    job = _export(client, headers, "csv")
    download = client.get(job["result"]["download_url"].removeprefix("http://testserver"), headers=headers)
    assert download.status_code == 200, download.text
    direct = client.get("/v1/lmp", params={**QUERY, "format": "csv"}, headers=headers)
    assert download.content == direct.content
    # Ten New York days across the spring-forward (a 23-hour day) for two locations.
    assert job["result"]["summary"]["rows"] == len(direct.content.splitlines()) - 1 == 2 * 239


def test_a_parquet_export_holds_the_same_rows(
    served: tuple[TestClient, dict[str, str]], tmp_path: Path
) -> None:
    client, headers = served
    job = _export(client, headers, "parquet")
    download = client.get(job["result"]["download_url"].removeprefix("http://testserver"), headers=headers)
    assert download.status_code == 200
    (tmp_path / "export.parquet").write_bytes(download.content)
    exported = pq.read_table(tmp_path / "export.parquet")
    direct = client.get("/v1/lmp", params={**QUERY, "format": "parquet"}, headers=headers)
    (tmp_path / "direct.parquet").write_bytes(direct.content)
    expected = pq.read_table(tmp_path / "direct.parquet")
    assert exported.num_rows == expected.num_rows == 2 * 239
    for name in ("location", "interval_start", "lmp", "energy", "congestion", "loss"):
        assert exported.column(name).to_pylist() == expected.column(name).to_pylist(), name


def test_a_bad_export_request_is_refused_at_submit(served: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = served
    refused = client.post(
        "/v1/jobs",
        json={"kind": "export", "request": {**QUERY, "locations": "NOWHERE", "format": "csv"}},
        headers=headers,
    )
    # The /v1/lmp answer to the same query: 404 naming the location, before any job is queued.
    direct = client.get("/v1/lmp", params={**QUERY, "locations": "NOWHERE"}, headers=headers)
    assert refused.status_code == direct.status_code == 404, refused.text
    assert refused.json()["message"] == direct.json()["message"]
    assert "NOWHERE" in refused.json()["message"]
    listed = client.get("/v1/jobs", params={"kind": "export"}, headers=headers).json()
    assert all(job["request"]["locations"] != "NOWHERE" for job in listed["data"])
