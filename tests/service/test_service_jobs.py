"""`/v1/jobs` and `/v1/downloads` against the service app with its own job worker, a real SQLite
metadata database and the file object store: submit, progress, result, cancel, resume, limits,
signed links with range requests, tenant isolation and the audit trail."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient
from job_kinds import artifact_bytes, kinds

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.service.download_links import download_path
from carbon254.store import Store, open_store

MAX_ACTIVE = 3
MAX_STORED = 4000


@pytest.fixture(scope="module")
def jobs_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("jobs-service")
    return Settings(
        data_dir=data_dir,
        auth=AuthMode.REQUIRED,
        metadata_url=f"sqlite:///{data_dir / 'metadata.db'}",
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=1,
        job_poll_s=0.05,
        job_max_active=MAX_ACTIVE,
        job_max_stored_bytes=MAX_STORED,
    )


@pytest.fixture(scope="module")
def empty_store(jobs_settings: Settings) -> Iterator[Store]:
    store = open_store(jobs_settings.data_dir / "store")
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(jobs_settings: Settings, empty_store: Store) -> Iterator[TestClient]:
    app = create_app(jobs_settings, empty_store, jobs=kinds())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def admin_key(jobs_settings: Settings) -> str:
    return make_tenant_key(jobs_settings, "root", admin=True)


def tenant(settings: Settings, *, features: list[str] | None = None) -> tuple[str, dict[str, str]]:
    """A new tenant (entitled to `tally` unless `features` says otherwise) and its credential header."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    key = make_tenant_key(settings, name, features=features if features is not None else ["tally"])
    return name, {"X-API-Key": key}


def submit(client: TestClient, headers: dict[str, str], **request: Any) -> str:
    response = client.post("/v1/jobs", json={"kind": "tally", "request": request}, headers=headers)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    job_id: str = body["id"]
    return job_id


def wait(client: TestClient, headers: dict[str, str], job_id: str, *statuses: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        response = client.get(f"/v1/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.05)


def relative(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_job_runs_to_its_result_with_progress_and_a_download(
    client: TestClient, jobs_settings: Settings
) -> None:
    _, headers = tenant(jobs_settings)
    job_id = submit(client, headers, n=5, size=1000)
    job = wait(client, headers, job_id, "succeeded", "failed")
    assert job["status"] == "succeeded", job
    assert job["kind"] == "tally"
    assert job["progress"] == {"done": 5, "total": 5, "message": "done"}
    assert job["result"]["summary"] == {"total": 10}
    assert job["result"]["artifacts"] == ["export"]
    assert job["error"] is None
    assert job["started_at"] is not None and job["finished_at"] is not None

    download = client.get(relative(job["result"]["download_url"]), headers=headers)
    assert download.status_code == 200, download.text
    assert download.content == artifact_bytes(1000)
    assert download.headers["content-length"] == "1000"
    assert download.headers["accept-ranges"] == "bytes"
    assert download.headers["content-type"].startswith("text/csv")


def test_range_requests(client: TestClient, jobs_settings: Settings) -> None:
    _, headers = tenant(jobs_settings)
    job = wait(client, headers, submit(client, headers, n=1, size=300), "succeeded")
    url = relative(job["result"]["download_url"])
    content = artifact_bytes(300)

    middle = client.get(url, headers={**headers, "Range": "bytes=10-19"})
    assert middle.status_code == 206
    assert middle.content == content[10:20]
    assert middle.headers["content-range"] == "bytes 10-19/300"
    assert middle.headers["content-length"] == "10"

    tail = client.get(url, headers={**headers, "Range": "bytes=-5"})
    assert (tail.status_code, tail.content) == (206, content[-5:])
    rest = client.get(url, headers={**headers, "Range": "bytes=290-"})
    assert (rest.status_code, rest.content) == (206, content[290:])
    clipped = client.get(url, headers={**headers, "Range": "bytes=295-1000"})
    assert (clipped.status_code, clipped.content) == (206, content[295:])

    outside = client.get(url, headers={**headers, "Range": "bytes=300-"})
    assert outside.status_code == 416
    assert outside.headers["content-range"] == "bytes */300"


def test_links_refused_when_expired_altered_or_foreign(client: TestClient, jobs_settings: Settings) -> None:
    owner, headers = tenant(jobs_settings)
    _, stranger = tenant(jobs_settings)
    job_id = submit(client, headers, n=1, size=50)
    job = wait(client, headers, job_id, "succeeded")
    url = relative(job["result"]["download_url"])

    foreign = client.get(url, headers=stranger)
    assert foreign.status_code == 403
    assert foreign.json()["code"] == "invalid_link"
    assert client.get(f"/v1/jobs/{job_id}", headers=stranger).status_code == 404
    assert client.get(url).status_code == 401

    expired = download_path(jobs_settings, job_id, owner, now=time.time() - 2 * jobs_settings.download_link_s)
    answer = client.get(expired, headers=headers)
    assert answer.status_code == 410
    assert answer.json()["code"] == "link_expired"

    stretched = expired.replace("expires=", "expires=9")
    assert client.get(stretched, headers=headers).status_code == 403
    assert client.get(url.replace("signature=", "signature=0"), headers=headers).status_code == 403
    # A hand-edited signature with non-ASCII text is refused like any other, not a 500.
    assert client.get(url.replace("signature=", "signature=%C3%A7"), headers=headers).status_code == 403


def test_submit_refusals(client: TestClient, jobs_settings: Settings) -> None:
    _, headers = tenant(jobs_settings)
    unknown = client.post("/v1/jobs", json={"kind": "taly", "request": {"n": 1}}, headers=headers)
    assert unknown.status_code == 404
    assert unknown.json()["suggestions"] == ["tally"]

    invalid = client.post("/v1/jobs", json={"kind": "tally", "request": {"n": 0}}, headers=headers)
    assert invalid.status_code == 422
    assert invalid.json()["parameter"] == "request.n"

    _, outsider = tenant(jobs_settings, features=["curves"])
    refused = client.post("/v1/jobs", json={"kind": "tally", "request": {"n": 1}}, headers=outsider)
    assert refused.status_code == 403
    assert "tally" in refused.json()["message"]


def test_concurrent_jobs_are_limited_and_cancel_frees_a_place(
    client: TestClient, jobs_settings: Settings
) -> None:
    _, headers = tenant(jobs_settings)
    ids = [submit(client, headers, n=50, sleep_s=0.2) for _ in range(MAX_ACTIVE)]
    over = client.post("/v1/jobs", json={"kind": "tally", "request": {"n": 1}}, headers=headers)
    assert over.status_code == 429
    assert f"({MAX_ACTIVE})" in over.json()["message"]

    for job_id in ids:
        cancelled = client.post(f"/v1/jobs/{job_id}/cancel", headers=headers)
        assert cancelled.status_code == 200, cancelled.text
    for job_id in ids:
        assert wait(client, headers, job_id, "cancelled")["status"] == "cancelled"
    assert client.post(f"/v1/jobs/{ids[0]}/cancel", headers=headers).status_code == 409
    submit(client, headers, n=1)


def test_stored_bytes_are_limited(client: TestClient, jobs_settings: Settings) -> None:
    _, headers = tenant(jobs_settings)
    wait(client, headers, submit(client, headers, n=1, size=MAX_STORED), "succeeded")
    full = client.post("/v1/jobs", json={"kind": "tally", "request": {"n": 1}}, headers=headers)
    assert full.status_code == 413
    assert full.json()["code"] == "storage_full"


def test_cancelled_job_resumes_to_the_same_answer(client: TestClient, jobs_settings: Settings) -> None:
    _, headers = tenant(jobs_settings)
    job_id = submit(client, headers, n=20, sleep_s=0.05)
    wait(client, headers, job_id, "running", "succeeded")
    client.post(f"/v1/jobs/{job_id}/cancel", headers=headers)
    job = wait(client, headers, job_id, "cancelled", "succeeded")
    if job["status"] == "cancelled":
        resumed = client.post(f"/v1/jobs/{job_id}/resume", headers=headers)
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["status"] == "queued"
        job = wait(client, headers, job_id, "succeeded")
    assert job["result"]["summary"] == {"total": sum(range(20))}
    assert job["progress"]["done"] == 20
    again = client.post(f"/v1/jobs/{job_id}/resume", headers=headers)
    assert again.status_code == 409
    assert client.post("/v1/jobs/no-such-job/resume", headers=headers).status_code == 404


def test_list_is_the_tenants_newest_first_filtered_and_paged(
    client: TestClient, jobs_settings: Settings
) -> None:
    _, headers = tenant(jobs_settings)
    _, other = tenant(jobs_settings)
    first = submit(client, headers, n=1)
    wait(client, headers, first, "succeeded")
    second = submit(client, headers, n=1)
    wait(client, headers, second, "succeeded")
    submit(client, other, n=1)

    listed = client.get("/v1/jobs", headers=headers).json()
    assert [job["id"] for job in listed["data"]] == [second, first]
    assert listed["next_offset"] is None

    page = client.get("/v1/jobs", params={"limit": 1}, headers=headers).json()
    assert [job["id"] for job in page["data"]] == [second]
    following = client.get("/v1/jobs", params={"limit": 1, "offset": page["next_offset"]}, headers=headers)
    assert [job["id"] for job in following.json()["data"]] == [first]

    assert client.get("/v1/jobs", params={"status": "failed"}, headers=headers).json()["count"] == 0
    assert (
        client.get("/v1/jobs", params={"kind": "tally", "status": "succeeded"}, headers=headers).json()[
            "count"
        ]
        == 2
    )
    assert client.get("/v1/jobs", params={"state": "failed"}, headers=headers).status_code == 422
    assert client.get("/v1/jobs", params={"status": "done"}, headers=headers).status_code == 422


def test_submits_cancels_and_downloads_are_audited(
    client: TestClient, jobs_settings: Settings, admin_key: str
) -> None:
    name, headers = tenant(jobs_settings)
    job_id = submit(client, headers, n=1, size=10)
    job = wait(client, headers, job_id, "succeeded")
    client.get(relative(job["result"]["download_url"]), headers=headers)
    client.post(f"/v1/jobs/{job_id}/cancel", headers=headers)

    def actions(action: str) -> list[dict[str, Any]]:
        response = client.get(
            "/v1/admin/audit", params={"tenant": name, "action": action}, headers={"X-API-Key": admin_key}
        )
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["data"]
        return events

    [submitted] = actions("jobs.submit")
    assert (submitted["target"], submitted["status"], submitted["parameters"]) == (
        job_id,
        202,
        {"kind": "tally"},
    )
    [downloaded] = actions("downloads.get")
    assert (downloaded["target"], downloaded["status"], downloaded["parameters"]["bytes"]) == (
        job_id,
        200,
        "10",
    )
    [cancel] = actions("jobs.cancel")
    assert (cancel["target"], cancel["status"]) == (job_id, 409)


def test_queued_jobs_survive_a_restart_and_run_when_workers_start(tmp_path: Path, empty_store: Store) -> None:
    settings = Settings(
        data_dir=tmp_path,
        auth=AuthMode.REQUIRED,
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=0,
        job_poll_s=0.05,
    )
    _, headers = tenant(settings)
    with TestClient(create_app(settings, empty_store, jobs=kinds()), raise_server_exceptions=False) as c:
        job_id = submit(c, headers, n=3)
        time.sleep(0.5)
        assert c.get(f"/v1/jobs/{job_id}", headers=headers).json()["status"] == "queued"
    working = settings.model_copy(update={"job_workers": 1})
    with TestClient(create_app(working, empty_store, jobs=kinds()), raise_server_exceptions=False) as c:
        job = wait(c, headers, job_id, "succeeded")
        assert job["result"]["summary"] == {"total": 3}


def test_jobs_and_downloads_on_postgresql_metadata(
    tmp_path: Path, empty_store: Store, fresh_postgres_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        auth=AuthMode.REQUIRED,
        metadata_url=fresh_postgres_url,
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=1,
        job_poll_s=0.05,
    )
    _, headers = tenant(settings)
    _, stranger = tenant(settings)
    with TestClient(create_app(settings, empty_store, jobs=kinds()), raise_server_exceptions=False) as c:
        job_id = submit(c, headers, n=4, size=64)
        job = wait(c, headers, job_id, "succeeded")
        assert job["result"]["summary"] == {"total": 6}
        url = relative(job["result"]["download_url"])
        ranged = c.get(url, headers={**headers, "Range": "bytes=60-"})
        assert (ranged.status_code, ranged.content) == (206, artifact_bytes(64)[60:])
        assert c.get(url, headers=stranger).status_code == 403
        assert c.get(f"/v1/jobs/{job_id}", headers=stranger).status_code == 404
        assert c.post(f"/v1/jobs/{job_id}/cancel", headers=headers).status_code == 409
        assert [j["id"] for j in c.get("/v1/jobs", headers=headers).json()["data"]] == [job_id]


def test_shutdown_hands_the_running_job_back_and_a_restart_finishes_it(
    tmp_path: Path, empty_store: Store
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        auth=AuthMode.REQUIRED,
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=1,
        job_poll_s=0.05,
    )
    _, headers = tenant(settings)
    with TestClient(create_app(settings, empty_store, jobs=kinds()), raise_server_exceptions=False) as c:
        job_id = submit(c, headers, n=30, sleep_s=0.1)
        wait(c, headers, job_id, "running")
    with TestClient(
        create_app(settings.model_copy(update={"job_workers": 0}), empty_store, jobs=kinds())
    ) as c:
        stopped = c.get(f"/v1/jobs/{job_id}", headers=headers).json()
        assert stopped["status"] == "queued"
        assert stopped["progress"]["done"] < 30
    with TestClient(create_app(settings, empty_store, jobs=kinds()), raise_server_exceptions=False) as c:
        job = wait(c, headers, job_id, "succeeded")
        assert job["result"]["summary"] == {"total": sum(range(30))}
        assert job["progress"] == {"done": 30, "total": 30, "message": "done"}


def test_a_process_not_serving_jobs_runs_no_job_workers(tmp_path: Path, empty_store: Store) -> None:
    stream_only = Settings(data_dir=tmp_path, only=["stream"], job_workers=2)
    with TestClient(create_app(stream_only, empty_store, jobs=kinds())) as c:
        assert c.app.state.job_workers.count == 0  # type: ignore[attr-defined]
        assert c.app.state.job_workers.threads == []  # type: ignore[attr-defined]
    with TestClient(
        create_app(stream_only.model_copy(update={"only": None}), empty_store, jobs=kinds())
    ) as c:
        assert len(c.app.state.job_workers.threads) == 2  # type: ignore[attr-defined]
