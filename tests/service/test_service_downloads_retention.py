"""Retention through REST: an expired export's download is 410 Gone, a fresh one still downloads, a
tenant's own retention (set through the admin API) is honoured, and the service sweeps by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.jobs import JobState
from carbon254.jobs.retention import sweep, tenant_retention
from carbon254.objects import open_object_store
from carbon254.service import create_app
from carbon254.store import Store

QUERY = {
    "iso": "PJM",
    "market": "DAM",
    "locations": "WESTERN HUB",
    "start": "2024-03-02",
    "end": "2024-03-04",
}
DONE = ("succeeded", "failed", "cancelled")


def _settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        auth=AuthMode.REQUIRED,
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=1,
        job_poll_s=0.05,
        **overrides,
    )


def _wait(client: TestClient, headers: dict[str, str], job_id: str, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if done(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def _export(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    submitted = client.post(
        "/v1/jobs", json={"kind": "export", "request": {**QUERY, "format": "csv"}}, headers=headers
    )
    assert submitted.status_code == 202, submitted.text
    job = _wait(client, headers, submitted.json()["id"], lambda j: j["status"] in DONE)
    assert job["status"] == "succeeded", job
    return job


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


@pytest.fixture(scope="module")
def served(data_dir: Path, store: Store) -> Iterator[tuple[TestClient, Settings]]:
    """The service with its own worker and no periodic sweep: the tests sweep at chosen times."""
    settings = _settings(data_dir, job_sweep_s=0)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        yield client, settings


def test_an_expired_download_is_gone_and_a_tenants_own_retention_is_honoured(
    served: tuple[TestClient, Settings],
) -> None:
    client, settings = served
    admin = {"X-API-Key": make_tenant_key(settings, "retention-admin", admin=True)}
    brief = {"X-API-Key": make_tenant_key(settings, "brief")}
    usual = {"X-API-Key": make_tenant_key(settings, "usual")}
    changed = client.patch("/v1/admin/tenants/brief", json={"job_retention_s": 60}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["job_retention_s"] == 60
    refused = client.patch("/v1/admin/tenants/usual", json={"job_retention_s": -1}, headers=admin)
    assert refused.status_code == 422 and "positive" in refused.json()["message"]

    short, long = _export(client, brief), _export(client, usual)
    state: JobState = client.app.state.job_state  # type: ignore[attr-defined]
    objects = open_object_store(settings.object_store, data_dir=settings.data_dir, s3_endpoint=None)
    finished = max(state.get(job["id"]).finished_at for job in (short, long))  # type: ignore[type-var]
    summary = sweep(
        state, objects, finished + timedelta(minutes=5), tenant_retention(state, settings.job_retention_s)
    )
    assert summary.job_ids == (short["id"],)

    gone = client.get(_path(short["result"]["download_url"]), headers=brief)
    assert gone.status_code == 410, gone.text
    assert gone.json()["code"] == "gone"
    assert "retention" in gone.json()["message"] and short["id"] in gone.json()["message"]
    after = client.get(f"/v1/jobs/{short['id']}", headers=brief).json()
    assert after["status"] == "succeeded"
    assert after["result"]["summary"]["rows"] == short["result"]["summary"]["rows"]
    assert after["result"]["download_url"] is None

    kept = client.get(_path(long["result"]["download_url"]), headers=usual)
    assert kept.status_code == 200
    assert len(kept.content.splitlines()) == long["result"]["summary"]["rows"] + 1


def test_the_service_sweeps_by_itself(tmp_path: Path, data_dir: Path, store: Store) -> None:
    # The shared store's data dir; metadata and artifacts of this test's own.
    settings = _settings(
        data_dir,
        metadata_url=f"sqlite:///{tmp_path}/metadata.db",
        object_store=f"file://{tmp_path}/o",
        job_retention_s=0.5,
        job_sweep_s=0.1,
    )
    headers = {"X-API-Key": make_tenant_key(settings, "sweeping")}
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        job = _export(client, headers)
        expired = _wait(client, headers, job["id"], lambda j: j["result"]["download_url"] is None)
        assert expired["status"] == "succeeded"
        gone = client.get(_path(job["result"]["download_url"]), headers=headers)
        assert gone.status_code == 410, gone.text
    assert list((tmp_path / "o" / "jobs").rglob("*.*")) == []
