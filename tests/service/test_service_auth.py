"""`CARBON254_AUTH=required` on REST: API keys, entitlements, tenant isolation, revocation, the
admin API and the audit trail, over a real store and a real SQLite metadata database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient
from sqlalchemy import text

from carbon254.application.errors import ApiError
from carbon254.config import AuthMode, Settings
from carbon254.metadata import AuditLog, MetadataDatabase, revoke_key
from carbon254.metadata.keys import split_key
from carbon254.service import create_app
from carbon254.service.auth import MetadataAuthenticator, metadata_check
from carbon254.service.ops.readiness import run_checks
from carbon254.store import Store

ERCOT = {"iso": "ERCOT", "market": "DAM", "locations": "HB_NORTH", "start": "2024-03-01", "end": "2024-03-02"}
PJM = {"iso": "PJM", "market": "DAM", "locations": "WESTERN HUB", "start": "2024-03-01", "end": "2024-03-02"}


@pytest.fixture(scope="module")
def auth_settings(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Settings:
    # Its own metadata database; rate limiting off so no test sees a 429 it did not ask for.
    metadata = tmp_path_factory.mktemp("auth-metadata") / "metadata.db"
    return Settings(
        data_dir=data_dir, auth=AuthMode.REQUIRED, metadata_url=f"sqlite:///{metadata}", rate_limit_per_s=0
    )


@pytest.fixture(scope="module")
def app_client(auth_settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(auth_settings, store), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def admin_key(auth_settings: Settings) -> str:
    return make_tenant_key(auth_settings, "root", admin=True)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def audit(client: TestClient, admin_key: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/admin/audit", params=params, headers=bearer(admin_key))
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    return events


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer c254_0000000000000000_not-a-real-secret"},
        {"X-API-Key": "c254_0000000000000000_not-a-real-secret"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"X-API-Key": "just-some-text"},
        {"Authorization": "Bearer aaaa.bbbb.cccc"},  # a JWT, with no OIDC issuer configured
    ],
)
def test_missing_or_bad_credentials_are_401(app_client: TestClient, headers: dict[str, str]) -> None:
    response = app_client.get("/v1/lmp", params=ERCOT, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert app_client.get("/v1/locations", headers=headers).status_code == 401


def test_a_key_works_in_both_header_styles(app_client: TestClient, auth_settings: Settings) -> None:
    key = make_tenant_key(auth_settings, unique("both"))
    for headers in (bearer(key), {"X-API-Key": key}):
        response = app_client.get("/v1/lmp", params=ERCOT, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["count"] == 24


def test_iso_outside_the_entitlements_is_403(app_client: TestClient, auth_settings: Settings) -> None:
    key = make_tenant_key(auth_settings, unique("ercot-only"), isos=["ERCOT"])
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 200
    response = app_client.get("/v1/lmp", params=PJM, headers=bearer(key))
    assert response.status_code == 403
    assert response.json()["code"] == "not_entitled"
    assert "PJM" in response.json()["message"]


def test_dataset_outside_the_entitlements_is_403(app_client: TestClient, auth_settings: Settings) -> None:
    key = make_tenant_key(auth_settings, unique("load-only"), datasets=["load"])
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 403


def test_tenants_are_isolated(app_client: TestClient, auth_settings: Settings, admin_key: str) -> None:
    texas, east = unique("texas"), unique("east")
    texas_key = make_tenant_key(auth_settings, texas, isos=["ERCOT"])
    east_key = make_tenant_key(auth_settings, east, isos=["PJM"])
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(texas_key)).status_code == 200
    assert app_client.get("/v1/lmp", params=PJM, headers=bearer(texas_key)).status_code == 403
    assert app_client.get("/v1/lmp", params=PJM, headers=bearer(east_key)).status_code == 200
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(east_key)).status_code == 403
    # Each tenant's requests are audited under its own name, with its own key id.
    texas_events = audit(app_client, admin_key, tenant=texas)
    assert {(e["parameters"]["iso"], e["status"]) for e in texas_events} == {("ERCOT", 200), ("PJM", 403)}
    texas_id = split_key(texas_key)
    assert texas_id is not None
    assert {e["subject"] for e in texas_events} == {texas_id[0]}
    assert {e["tenant"] for e in audit(app_client, admin_key, tenant=east)} == {east}


def test_a_revoked_key_is_refused_on_the_very_next_request(
    app_client: TestClient, auth_settings: Settings, admin_key: str
) -> None:
    key = make_tenant_key(auth_settings, unique("revoked"))
    parts = split_key(key)
    assert parts is not None
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 200
    revoked = app_client.delete(f"/v1/admin/keys/{parts[0]}", headers=bearer(admin_key))
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 401
    assert app_client.get("/v1/lmp", params=ERCOT, headers={"X-API-Key": key}).status_code == 401


def test_a_key_revoked_by_another_process_is_refused_at_once(
    app_client: TestClient, auth_settings: Settings
) -> None:
    key = make_tenant_key(auth_settings, unique("elsewhere"))
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 200
    other = MetadataDatabase(auth_settings.metadata_database_url())  # as `carbon254 keys revoke` does
    try:
        revoke_key(other, key)
    finally:
        other.close()
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 401


def test_admin_endpoints_refuse_non_admins(app_client: TestClient, auth_settings: Settings) -> None:
    key = make_tenant_key(auth_settings, unique("plain"))
    calls = [
        ("GET", "/v1/admin/tenants", None),
        ("POST", "/v1/admin/tenants", {"name": unique("x")}),
        ("PATCH", "/v1/admin/tenants/root", {"admin": False}),
        ("POST", "/v1/admin/keys", {"tenant": "root"}),
        ("GET", "/v1/admin/keys", None),
        ("DELETE", "/v1/admin/keys/0000000000000000", None),
        ("POST", "/v1/admin/keys/0000000000000000/rotate", None),
        ("GET", "/v1/admin/audit", None),
    ]
    for method, path, body in calls:
        response = app_client.request(method, path, json=body, headers=bearer(key))
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "not_entitled"
        assert app_client.request(method, path, json=body).status_code == 401


def test_admin_api_manages_tenants_and_keys(app_client: TestClient, admin_key: str) -> None:
    admin = bearer(admin_key)
    name = unique("managed")
    created = app_client.post("/v1/admin/tenants", json={"name": name, "isos": ["pjm"]}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["isos"] == ["PJM"] and created.json()["datasets"] is None
    duplicate = app_client.post("/v1/admin/tenants", json={"name": name}, headers=admin)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "conflict"
    bad_iso = app_client.post(
        "/v1/admin/tenants", json={"name": unique("bad"), "isos": ["PJMM"]}, headers=admin
    )
    assert bad_iso.status_code == 422
    assert bad_iso.json()["parameter"] == "isos" and "PJM" in bad_iso.json()["suggestions"]
    assert app_client.post("/v1/admin/tenants", json={"isos": ["PJM"]}, headers=admin).status_code == 422
    assert name in [t["name"] for t in app_client.get("/v1/admin/tenants", headers=admin).json()["data"]]

    issued = app_client.post("/v1/admin/keys", json={"tenant": name}, headers=admin)
    assert issued.status_code == 201
    key, key_id = issued.json()["key"], issued.json()["key_id"]
    assert app_client.get("/v1/lmp", params=PJM, headers=bearer(key)).status_code == 200
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 403

    # An entitlement change applies to the tenant's next request.
    patched = app_client.patch(f"/v1/admin/tenants/{name}", json={"isos": ["ERCOT"]}, headers=admin)
    assert patched.status_code == 200 and patched.json()["isos"] == ["ERCOT"]
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 200
    assert app_client.get("/v1/lmp", params=PJM, headers=bearer(key)).status_code == 403

    listed = app_client.get("/v1/admin/keys", params={"tenant": name}, headers=admin).json()
    assert [k["key_id"] for k in listed["data"]] == [key_id]
    assert key not in str(listed)

    rotated = app_client.post(f"/v1/admin/keys/{key_id}/rotate", headers=admin)
    assert rotated.status_code == 201 and rotated.json()["rotated_from"] == key_id
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 401
    assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(rotated.json()["key"])).status_code == 200

    for method, path, body in [
        ("POST", "/v1/admin/keys", {"tenant": unique("nobody")}),
        ("GET", "/v1/admin/keys?tenant=nobody-at-all", None),
        ("DELETE", "/v1/admin/keys/0000000000000000", None),
        ("POST", "/v1/admin/keys/0000000000000000/rotate", None),
        ("PATCH", "/v1/admin/tenants/nobody-at-all", {"isos": ["PJM"]}),
    ]:
        response = app_client.request(method, path, json=body, headers=admin)
        assert response.status_code == 404, (method, path, response.text)
        assert set(response.json()) >= {"code", "message", "parameter"}


def test_data_and_admin_requests_are_audited(
    app_client: TestClient, auth_settings: Settings, admin_key: str
) -> None:
    name = unique("audited")
    key = make_tenant_key(auth_settings, name, isos=["ERCOT"])
    request_id = unique("req")
    response = app_client.get("/v1/lmp", params=ERCOT, headers={**bearer(key), "X-Request-ID": request_id})
    assert response.status_code == 200
    # A credential in the query string is refused (REST takes them in headers), and never logged.
    refused = app_client.get("/v1/lmp", params={**ERCOT, "token": "secret-in-the-url"}, headers=bearer(key))
    assert refused.status_code == 422
    app_client.get("/v1/lmp", params=PJM, headers=bearer(key))
    key_id = split_key(key)
    assert key_id is not None
    assert app_client.delete(f"/v1/admin/keys/{key_id[0]}", headers=bearer(admin_key)).status_code == 200

    data = audit(app_client, admin_key, tenant=name, action="request")
    ok = next(e for e in data if e["status"] == 200)
    assert ok["target"] == "/v1/lmp" and ok["method"] == "GET"
    assert ok["rows"] == 24
    assert ok["request_id"] == request_id
    assert ok["parameters"]["iso"] == "ERCOT"
    assert any(e["status"] == 422 and e["parameters"].get("token") == "[redacted]" for e in data)
    assert ok["duration_ms"] >= 0
    assert any(e["status"] == 403 and e["parameters"]["iso"] == "PJM" for e in data)

    revocations = audit(app_client, admin_key, action="admin.key.revoke")
    event = next(e for e in revocations if e["target"] == key_id[0])
    assert event["tenant"] == "root" and event["status"] == 200
    # Neither the key nor any secret parameter ever reaches the audit log.
    everything = str(audit(app_client, admin_key, limit=10_000))
    assert key not in everything and "secret-in-the-url" not in everything
    assert key_id[0] in everything


def test_unauthenticated_requests_are_audited_without_a_tenant(
    app_client: TestClient, admin_key: str
) -> None:
    marker = unique("anon")
    assert app_client.get("/v1/lmp", params={**ERCOT, "locations": marker}).status_code == 401
    events = audit(app_client, admin_key, action="request", limit=10_000)
    refused = [e for e in events if e["parameters"].get("locations") == marker]
    assert len(refused) == 1
    assert refused[0]["status"] == 401 and refused[0]["tenant"] is None


def test_requests_do_not_wait_for_a_blocked_audit_database(
    app_client: TestClient, auth_settings: Settings, admin_key: str
) -> None:
    name = unique("blocked")
    key = make_tenant_key(auth_settings, name)
    audit_log: AuditLog = app_client.app.state.audit_log  # type: ignore[attr-defined]
    db: MetadataDatabase = app_client.app.state.metadata  # type: ignore[attr-defined]
    blocker = MetadataDatabase(auth_settings.metadata_database_url())
    try:
        with blocker.session(write=True) as session:
            session.execute(text("SELECT 1"))  # holds SQLite's write lock: the audit writer must wait
            for _ in range(5):
                assert app_client.get("/v1/lmp", params=ERCOT, headers=bearer(key)).status_code == 200
            assert audit_log.counts().queued >= 1
    finally:
        blocker.close()
    assert audit_log.flush(30)
    assert db.ping()
    assert len(audit(app_client, admin_key, tenant=name)) == 5


def test_an_unreachable_metadata_database_is_503_not_401() -> None:
    unreachable = MetadataDatabase("postgresql://postgres@127.0.0.1:1/test", migrate=False)
    try:
        with pytest.raises(ApiError) as refused:
            MetadataAuthenticator(unreachable).authenticate("c254_0123456789abcdef_secret")
    finally:
        unreachable.close()
    assert refused.value.status_code == 503
    assert refused.value.headers == {"Retry-After": "5"}


def test_ready_checks_the_metadata_database(app_client: TestClient) -> None:
    response = app_client.get("/ready")  # unauthenticated: probes must reach it
    assert response.status_code == 200
    assert {c["name"]: c["ok"] for c in response.json()["checks"]}["metadata"] is True


def test_an_unreachable_metadata_database_fails_its_readiness_check() -> None:
    unreachable = MetadataDatabase("postgresql://postgres@127.0.0.1:1/test", migrate=False)
    try:
        [result] = anyio.run(run_checks, [metadata_check(unreachable)])
    finally:
        unreachable.close()
    assert result.name == "metadata" and not result.ok
    assert result.error == "MetadataUnavailable: the metadata database did not answer SELECT 1"
