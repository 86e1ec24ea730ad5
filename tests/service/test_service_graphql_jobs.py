"""Jobs through GraphQL: the `jobs` and `job` queries and the `submitJob`, `cancelJob` and `resumeJob`
mutations, over the same checks, tenant scoping, download links and audit trail as `/v1/jobs`.

In process (the service app with its own job worker and the `tally` test kind) for the refusals,
cancel/resume and the audit trail; against a real `carbon254 serve` for an export whose GraphQL
`downloadUrl` fetches the file `/v1/lmp` answers.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient
from job_kinds import artifact_bytes, kinds

# The real `carbon254 serve` with tenants that the SDK tests use, shared rather than copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "client"))
from live_service import LiveService

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.store import open_store

JOB_FIELDS = """
    id kind status request error createdAt startedAt finishedAt
    progress { done total message }
    result { summary artifacts downloadUrl }
"""
SUBMIT = f"""
mutation($kind: String!, $request: JSON!) {{ submitJob(kind: $kind, request: $request) {{ {JOB_FIELDS} }} }}
"""
JOB = f"query($id: ID!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { id status progress { message } } }"
RESUME = "mutation($id: ID!) { resumeJob(id: $id) { id status error } }"
FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")


@pytest.fixture(scope="module")
def jobs_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("graphql-jobs")
    return Settings(
        data_dir=data_dir,
        auth=AuthMode.REQUIRED,
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=1,
        job_poll_s=0.05,
        job_max_active=3,
    )


@pytest.fixture(scope="module")
def client(jobs_settings: Settings) -> Iterator[TestClient]:
    store = open_store(jobs_settings.data_dir / "store")
    try:
        with TestClient(create_app(jobs_settings, store, jobs=kinds()), raise_server_exceptions=False) as c:
            yield c
    finally:
        store.close()


def tenant(settings: Settings, *, features: list[str] | None = None) -> tuple[str, dict[str, str]]:
    """A new tenant (entitled to `tally` unless `features` says otherwise) and its credential header."""
    name = f"g-{uuid.uuid4().hex[:8]}"
    key = make_tenant_key(settings, name, features=features if features is not None else ["tally"])
    return name, {"X-API-Key": key}


def graphql(
    client: TestClient | httpx.Client, headers: dict[str, str], query: str, **variables: Any
) -> tuple[int, dict[str, Any]]:
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def data(client: TestClient | httpx.Client, headers: dict[str, str], query: str, **variables: Any) -> Any:
    """The `data` of an answer that must have no error."""
    status, body = graphql(client, headers, query, **variables)
    assert status == 200 and "errors" not in body, body
    return body["data"]


def error(client: TestClient, headers: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
    """The one error of an answer, with the HTTP status among its extensions' for comparison."""
    status, body = graphql(client, headers, query, **variables)
    [found] = body["errors"]
    found["http"] = status
    return found


def wait(
    client: TestClient | httpx.Client, headers: dict[str, str], job_id: str, *statuses: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = data(client, headers, JOB, id=job_id)["job"]
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.05)


def test_a_submitted_job_runs_to_a_result_whose_link_downloads_its_file(
    client: TestClient, jobs_settings: Settings
) -> None:
    _, headers = tenant(jobs_settings)
    queued = data(client, headers, SUBMIT, kind="tally", request={"n": 4, "size": 300})["submitJob"]
    assert (queued["kind"], queued["status"], queued["result"]) == ("tally", "QUEUED", None)
    # The stored request is the validated one: defaults are explicit, as over REST.
    assert queued["request"] == {"n": 4, "size": 300, "sleep_s": 0.0}

    job = wait(client, headers, queued["id"], *FINISHED)
    assert job["status"] == "SUCCEEDED", job
    assert job["progress"] == {"done": 4, "total": 4, "message": "done"}
    assert job["result"]["summary"] == {"total": 6}
    assert job["result"]["artifacts"] == ["export"]
    assert job["error"] is None and job["startedAt"] is not None and job["finishedAt"] is not None
    url = job["result"]["downloadUrl"]
    assert url.startswith("http://testserver/v1/downloads/")
    download = client.get(url.removeprefix("http://testserver"), headers=headers)
    assert download.status_code == 200, download.text
    assert download.content == artifact_bytes(300)

    # REST shows the same job, field for field (names aside).
    rest = client.get(f"/v1/jobs/{job['id']}", headers=headers).json()
    assert rest["progress"] == job["progress"] and rest["result"]["summary"] == job["result"]["summary"]
    assert rest["status"] == job["status"].lower() and rest["request"] == job["request"]


def test_jobs_lists_the_tenants_own_newest_first_filtered_and_paged(
    client: TestClient, jobs_settings: Settings
) -> None:
    _, headers = tenant(jobs_settings)
    _, other = tenant(jobs_settings)
    first = data(client, headers, SUBMIT, kind="tally", request={"n": 1})["submitJob"]["id"]
    wait(client, headers, first, "SUCCEEDED")
    second = data(client, headers, SUBMIT, kind="tally", request={"n": 1})["submitJob"]["id"]
    wait(client, headers, second, "SUCCEEDED")
    data(client, other, SUBMIT, kind="tally", request={"n": 1})

    listed = data(client, headers, "{ jobs { id } }")["jobs"]
    assert [j["id"] for j in listed] == [second, first]
    paged = data(client, headers, "{ jobs(limit: 1, offset: 1) { id } }")["jobs"]
    assert [j["id"] for j in paged] == [first]
    assert data(client, headers, "{ jobs(status: FAILED) { id } }")["jobs"] == []
    assert len(data(client, headers, '{ jobs(kind: "tally", status: SUCCEEDED) { id } }')["jobs"]) == 2
    assert data(client, headers, '{ jobs(kind: "export") { id } }')["jobs"] == []

    too_many = error(client, headers, "{ jobs(limit: 501) { id } }")
    assert too_many["extensions"]["code"] == "INVALID_PARAMETER"
    assert too_many["extensions"]["parameter"] == "limit"
    negative = error(client, headers, "{ jobs(offset: -1) { id } }")
    assert negative["extensions"]["parameter"] == "offset"
    unknown_status = error(client, headers, "{ jobs(status: DONE) { id } }")
    assert unknown_status["http"] == 400 and "DONE" in unknown_status["message"]


def test_another_tenants_job_is_not_found_by_any_field(client: TestClient, jobs_settings: Settings) -> None:
    _, owner = tenant(jobs_settings)
    _, stranger = tenant(jobs_settings)
    job_id = data(client, owner, SUBMIT, kind="tally", request={"n": 2})["submitJob"]["id"]
    for query in (JOB, CANCEL, RESUME):
        refused = error(client, stranger, query, id=job_id)
        assert refused["extensions"]["code"] == "NOT_FOUND", refused
        assert (refused["extensions"]["status"], refused["extensions"]["parameter"]) == (404, "id")
        assert job_id in refused["message"]
    assert data(client, stranger, "{ jobs { id } }")["jobs"] == []
    # Untouched by the stranger's cancel: it runs to the end.
    assert wait(client, owner, job_id, *FINISHED)["status"] == "SUCCEEDED"
    missing = error(client, owner, JOB, id="no-such-job")
    assert missing["extensions"]["code"] == "NOT_FOUND"


def test_submit_refusals_carry_the_rest_codes(client: TestClient, jobs_settings: Settings) -> None:
    _, headers = tenant(jobs_settings)
    unknown = error(client, headers, SUBMIT, kind="talley", request={"n": 1})
    assert unknown["extensions"]["code"] == "UNKNOWN_KIND"
    assert unknown["extensions"]["parameter"] == "kind"
    assert "tally" in unknown["extensions"]["suggestions"]
    # A refused field, not a refused request: 200, like a dataset field's bad argument.
    assert unknown["http"] == 200 and "path" in unknown

    invalid = error(client, headers, SUBMIT, kind="tally", request={"n": 0})
    assert invalid["extensions"]["code"] == "INVALID_PARAMETER"
    assert invalid["extensions"]["parameter"] == "request.n"

    not_object = error(client, headers, SUBMIT, kind="tally", request=[1, 2])
    assert not_object["extensions"]["code"] == "INVALID_PARAMETER"
    assert not_object["extensions"]["parameter"] == "request"

    _, unentitled = tenant(jobs_settings, features=[])
    refused = error(client, unentitled, SUBMIT, kind="tally", request={"n": 1})
    assert refused["extensions"]["code"] == "NOT_ENTITLED"
    assert refused["http"] == 403

    # A mutation is never run from a GET (a link someone follows must not submit work).
    got = client.get(
        "/graphql",
        params={"query": 'mutation { submitJob(kind: "tally", request: {n: 1}) { id } }'},
        headers=headers,
    )
    assert got.status_code != 200
    assert data(client, headers, "{ jobs { id } }")["jobs"] == []


def test_cancel_and_resume(client: TestClient, jobs_settings: Settings) -> None:
    _, headers = tenant(jobs_settings)
    slow = {"n": 60, "sleep_s": 0.05}
    job_id = data(client, headers, SUBMIT, kind="tally", request=slow)["submitJob"]["id"]
    wait(client, headers, job_id, "RUNNING", *FINISHED)
    cancelling = data(client, headers, CANCEL, id=job_id)["cancelJob"]
    assert cancelling["id"] == job_id and cancelling["status"] in ("QUEUED", "RUNNING", "CANCELLED")
    job = wait(client, headers, job_id, *FINISHED)
    assert job["status"] == "CANCELLED", job
    assert job["progress"]["done"] < 60

    finished_cancel = error(client, headers, CANCEL, id=job_id)
    assert finished_cancel["extensions"]["code"] == "CONFLICT"
    resumed = data(client, headers, RESUME, id=job_id)["resumeJob"]
    assert (resumed["status"], resumed["error"]) == ("QUEUED", None)
    job = wait(client, headers, job_id, *FINISHED)
    assert job["status"] == "SUCCEEDED"
    assert job["result"]["summary"] == {"total": sum(range(60))}
    assert job["result"]["downloadUrl"] is None  # no file: no link
    again = error(client, headers, RESUME, id=job_id)
    assert again["extensions"]["code"] == "CONFLICT"


def test_mutations_are_audited_with_their_tenant_as_rest_audits_them(
    client: TestClient, jobs_settings: Settings
) -> None:
    name, headers = tenant(jobs_settings)
    admin = {"X-API-Key": make_tenant_key(jobs_settings, f"root-{uuid.uuid4().hex[:6]}", admin=True)}
    job_id = data(client, headers, SUBMIT, kind="tally", request={"n": 1})["submitJob"]["id"]
    wait(client, headers, job_id, "SUCCEEDED")
    error(client, headers, CANCEL, id=job_id)
    error(client, headers, SUBMIT, kind="nope", request={})

    def events(action: str) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while True:  # the audit log is written by its own thread
            response = client.get("/v1/admin/audit", params={"tenant": name, "action": action}, headers=admin)
            assert response.status_code == 200, response.text
            found: list[dict[str, Any]] = response.json()["data"]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    submits = sorted(events("jobs.submit"), key=lambda e: e["status"])
    assert [(e["target"], e["status"], e["parameters"]) for e in submits] == [
        (job_id, 202, {"kind": "tally"}),
        ("nope", 404, {"kind": "nope"}),
    ]
    [cancel] = events("jobs.cancel")
    assert (cancel["target"], cancel["status"], cancel["method"]) == (job_id, 409, "POST")


# ------------------------------------------------------------------- against `carbon254 serve`

EXPORT = {
    "iso": "ERCOT",
    "market": "DAM",
    "locations": ["HB_NORTH"],
    "start": "2024-01-02",
    "end": "2024-01-09",
    "format": "csv",
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    service = LiveService.seeded(
        tmp_path_factory.mktemp("graphql-jobs-live"), env={"CARBON254_JOB_POLL_S": "0.1"}
    )
    with service:
        yield service


def test_an_export_submitted_through_graphql_downloads_what_v1_lmp_answers(live: LiveService) -> None:
    full = {"X-API-Key": live.keys.full}
    ercot = {"X-API-Key": live.keys.ercot}
    with httpx.Client(base_url=live.base_url, timeout=60.0) as http:
        queued = data(http, full, SUBMIT, kind="export", request=EXPORT)["submitJob"]
        assert queued["request"]["locations"] == "HB_NORTH"
        job = wait(http, full, queued["id"], *FINISHED)
        assert job["status"] == "SUCCEEDED", job
        assert job["progress"]["done"] == job["progress"]["total"] > 0
        url = job["result"]["downloadUrl"]
        assert url.startswith(f"{live.base_url}/v1/downloads/{job['id']}?")
        download = http.get(url, headers=full)
        assert download.status_code == 200, download.text
        direct = http.get("/v1/lmp", params={**EXPORT, "locations": "HB_NORTH"}, headers=full)
        assert direct.status_code == 200, direct.text
        assert download.content == direct.content
        assert job["result"]["summary"]["rows"] == len(direct.content.splitlines()) - 1 > 0

        # The other tenant sees nothing of it, and its link is refused for them.
        status, body = graphql(http, ercot, JOB, id=job["id"])
        assert body["data"] == {"job": None}
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert http.get(url, headers=ercot).status_code == 403
        # PJM is outside the ercot-only tenant's entitlements: refused at submit, as over REST.
        status, body = graphql(http, ercot, SUBMIT, kind="export", request={**EXPORT, "iso": "PJM"})
        assert status == 403 and body["errors"][0]["extensions"]["code"] == "NOT_ENTITLED", body
        status, body = graphql(http, full, SUBMIT, kind="exports", request=EXPORT)
        assert body["errors"][0]["extensions"]["code"] == "UNKNOWN_KIND"
        assert body["errors"][0]["extensions"]["suggestions"] == ["export"]
