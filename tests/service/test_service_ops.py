"""Operations: readiness, request metrics, request ids, JSON logs, redaction, headers, CORS, body limit."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import WebSocketDenialResponse

from carbon254.application.identity import ANONYMOUS
from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.service.ops.logs import JsonFormatter, RequestIdFilter, TextFormatter
from carbon254.service.ops.readiness import ReadinessCheck, add_readiness_check
from carbon254.service.ops.redaction import redact_query, redact_text
from carbon254.service.ops.security_headers import OFFICE_FRAME_ANCESTORS
from carbon254.store import Store
from redis_private import PrivateRedis

ALLOWED_ORIGIN = "https://dashboard.example.com"
BODY_LIMIT = 1000
LMP = {"iso": "PJM", "market": "DAM", "locations": "WESTERN HUB", "start": "2024-03-01", "end": "2024-03-02"}
SECRETS = ("sekret-bearer-1", "sekret-key-2", "sekret-query-3", "sekret-token-4", "sekret-pw-5")

test_logger = logging.getLogger("carbon254.tests.ops")

# Routes only these tests mount: a path parameter, a body reader, a route that logs, an Office page.
extra = APIRouter()


@extra.get("/items/{item_id}")
def get_item(item_id: str) -> dict[str, str]:
    return {"item": item_id}


@extra.post("/echo-length")
async def echo_length(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}


@extra.get("/logs-something")
def logs_something(request: Request) -> dict[str, str]:
    """A sync route (worker thread) that logs, with a principal set as authenticated routes do."""
    request.state.principal = ANONYMOUS
    test_logger.info("connecting to postgresql://carbon:%s@db.internal/meta", SECRETS[4])
    test_logger.info("headers seen: %s", {"authorization": f"Bearer {SECRETS[0]}"})
    return {"request_id": request.state.request_id}


@extra.get("/fails")
def fails() -> None:
    raise RuntimeError("a bug, not the caller's mistake")


@extra.get("/excel/taskpane.html")
def taskpane() -> Any:
    from starlette.responses import HTMLResponse

    return HTMLResponse("<!DOCTYPE html><title>task pane</title>")


def build(settings: Settings, store: Store) -> FastAPI:
    app = create_app(settings, store)
    app.include_router(extra)
    return app


@pytest.fixture(scope="module")
def ops_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, auth=AuthMode.OFF, cors_origins=[ALLOWED_ORIGIN], max_body_bytes=BODY_LIMIT
    )


@pytest.fixture(scope="module")
def app(ops_settings: Settings, store: Store) -> FastAPI:
    return build(ops_settings, store)


@pytest.fixture(scope="module")
def ops(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every carbon254 log record of the test, formatted as the service formats them (JSON lines)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger("carbon254")
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(previous)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def samples(client: TestClient, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric family, keyed by their sorted labels."""
    text = client.get("/metrics").text
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


# --- readiness -------------------------------------------------------------------------------


def test_ready_when_the_store_answers(ops: TestClient) -> None:
    response = ops.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["failed"] == []
    assert [c["name"] for c in body["checks"]] == ["metadata", "cache", "broker", "store"]
    assert all(c["ok"] for c in body["checks"])


def test_ready_is_503_naming_each_failed_backend(ops_settings: Settings, store: Store) -> None:
    app = build(ops_settings, store)

    def broken() -> None:
        raise ConnectionError("connection refused by redis://:hunter2@127.0.0.1:1/0")

    release, returned = threading.Event(), threading.Event()

    def hangs() -> None:
        release.wait(30)  # a backend that does not answer (released at the end of the test)
        returned.set()

    async def answers() -> None:
        await asyncio.sleep(0)

    add_readiness_check(app, ReadinessCheck("search", broken))
    add_readiness_check(app, ReadinessCheck("ledger", hangs, timeout_s=0.2))
    add_readiness_check(app, ReadinessCheck("mailer", answers))
    with TestClient(app) as client:
        response = client.get("/ready")
        answered_while_hung = not returned.is_set()
        assert client.get("/health").json() == {"status": "ok"}  # liveness does not depend on backends
        release.set()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["failed"] == ["search", "ledger"]
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["store"]["ok"] and checks["mailer"]["ok"]
    assert "ConnectionError" in checks["search"]["error"]
    assert "hunter2" not in checks["search"]["error"]
    assert checks["ledger"]["error"] == "no answer within 0.2 s"
    assert answered_while_hung  # the hung check was abandoned, not waited for


def ready(client: TestClient) -> tuple[int, list[str], dict[str, bool]]:
    """`/ready`'s status, the failed checks and every check's `ok`."""
    response = client.get("/ready")
    body = response.json()
    return response.status_code, body["failed"], {c["name"]: c["ok"] for c in body["checks"]}


def test_ready_names_the_cache_and_broker_when_their_redis_is_killed(tmp_path: Path, store: Store) -> None:
    with PrivateRedis() as server:
        settings = Settings(data_dir=tmp_path, auth=AuthMode.OFF, cache_url=server.url)
        with TestClient(create_app(settings, store)) as client:
            status, failed, checks = ready(client)
            assert (status, failed) == (200, [])
            assert checks == {"metadata": True, "cache": True, "broker": True, "store": True}
            server.kill()
            status, failed, checks = ready(client)
            assert (status, failed) == (503, ["cache", "broker"])
            assert checks["metadata"] and checks["store"]
            # Readiness fails, but data is still served (computed without the cache).
            data = client.get("/v1/lmp", params=LMP)
            assert data.status_code == 200 and data.json()["count"] == 24
            server.start()
            # Generous: under a loaded CI machine the restarted Redis itself can take seconds to answer.
            deadline = time.monotonic() + 30
            while ready(client)[0] != 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            # And stays ready: stale pooled connections must not make it flap.
            assert [ready(client)[:2] for _ in range(5)] == [(200, [])] * 5


def test_a_readiness_check_name_is_registered_once(ops_settings: Settings, store: Store) -> None:
    app = build(ops_settings, store)
    with pytest.raises(ValueError, match="'store' is already registered"):
        add_readiness_check(app, ReadinessCheck("store", lambda: None))


# --- metrics ---------------------------------------------------------------------------------


def test_latency_histogram_by_route_template_not_raw_path(ops: TestClient) -> None:
    before = samples(ops, "carbon254_http_request_duration_seconds_count")
    for item in ("a", "b", "c"):
        assert ops.get(f"/items/{item}").status_code == 200
    assert ops.get("/v1/lmp", params=LMP).status_code == 200
    assert ops.get("/v1/lmp", params={**LMP, "iso": "NOPE"}).status_code == 404
    for n in range(3):
        assert ops.get(f"/no/such/path/{n}").status_code == 404
    after = samples(ops, "carbon254_http_request_duration_seconds_count")

    def added(route: str) -> float:
        key = (("method", "GET"), ("route", route))
        return after.get(key, 0) - before.get(key, 0)

    assert added("/items/{item_id}") == 3
    assert added("/v1/lmp") == 2
    assert added("<unmatched>") == 3
    assert not [k for k in after if any("/items/a" in v or "/no/such" in v for _, v in k)]

    counts = samples(ops, "carbon254_http_requests_total")
    assert counts[(("method", "GET"), ("route", "/v1/lmp"), ("status_class", "2xx"))] >= 1
    assert counts[(("method", "GET"), ("route", "/v1/lmp"), ("status_class", "4xx"))] >= 1
    in_flight = samples(ops, "carbon254_http_requests_in_flight")
    assert in_flight[()] == 1  # the scrape itself


def test_unknown_methods_share_one_label(ops: TestClient) -> None:
    ops.request("BREW", "/health")
    labels = samples(ops, "carbon254_http_requests_total")
    assert not [k for k in labels if ("method", "BREW") in k]
    assert [k for k in labels if ("method", "other") in k]


def test_quality_gauges_hold_ingest_lag_per_dataset(ops: TestClient) -> None:
    # Ingest lag per dataset comes from the quality collector on the same registry.
    families = {f.name: f for f in text_string_to_metric_families(ops.get("/metrics").text)}
    for name in ("carbon254_quality_ingest_lag_median_seconds", "carbon254_quality_ingest_lag_max_seconds"):
        assert families[name].type == "gauge"
    assert families["carbon254_quality_up"].samples[0].value == 1


# --- request ids and logs --------------------------------------------------------------------


def test_a_sane_request_id_is_echoed(ops: TestClient) -> None:
    response = ops.get("/health", headers={"X-Request-ID": "client-42.a:b"})
    assert response.headers["X-Request-ID"] == "client-42.a:b"


@pytest.mark.parametrize("given", ["x" * 129, "has space", "semi;colon", "", "-starts-with-dash"])
def test_an_insane_request_id_is_replaced(ops: TestClient, given: str) -> None:
    response = ops.get("/health", headers={"X-Request-ID": given})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_every_log_record_of_a_request_carries_its_id(ops: TestClient, captured: io.StringIO) -> None:
    response = ops.get("/logs-something", headers={"X-Request-ID": "trace-1"})
    assert response.json() == {"request_id": "trace-1"}
    records = lines(captured)
    route_logs = [r for r in records if r["logger"] == "carbon254.tests.ops"]
    assert len(route_logs) == 2
    assert {r["request_id"] for r in route_logs} == {"trace-1"}  # logged from the worker thread
    (access,) = [r for r in records if r["logger"] == "carbon254.access"]
    assert access["request_id"] == "trace-1"


def test_an_unhandled_error_is_logged_with_the_request_id(ops: TestClient, captured: io.StringIO) -> None:
    response = ops.get("/fails", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    records = lines(captured)
    (error,) = [r for r in records if r["level"] == "ERROR"]
    assert error["request_id"] == "trace-500" and "RuntimeError" in error["exc_info"]
    (access,) = [r for r in records if r["logger"] == "carbon254.access"]
    assert access["status"] == 500 and access["level"] == "WARNING" and access["request_id"] == "trace-500"


def test_access_line_is_one_json_object_with_the_request_fields(
    ops: TestClient, captured: io.StringIO
) -> None:
    ops.get("/logs-something")
    ops.get("/v1/lmp", params=LMP)
    text = captured.getvalue()
    assert all(line.startswith("{") and line.endswith("}") for line in text.splitlines())
    access = [r for r in lines(captured) if r["logger"] == "carbon254.access"]
    assert len(access) == 2
    first, second = access
    for record in access:
        assert {
            "ts",
            "level",
            "logger",
            "message",
            "request_id",
            "method",
            "path",
            "status",
            "duration_ms",
        } <= set(record)
        assert record["level"] == "INFO" and record["method"] == "GET"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", record["ts"])
        assert isinstance(record["duration_ms"], float) and record["duration_ms"] >= 0
    assert first["path"] == "/logs-something" and first["status"] == 200
    assert first["tenant"] == "anonymous"  # from request.state.principal
    assert second["path"] == "/v1/lmp" and second["route"] == "/v1/lmp"
    assert "iso=PJM" in second["query"]


def test_no_secret_reaches_the_logs(ops: TestClient, captured: io.StringIO) -> None:
    ops.get(
        "/logs-something",
        params={"api_key": SECRETS[2], "token": SECRETS[3], "iso": "PJM"},
        headers={"Authorization": f"Bearer {SECRETS[0]}", "X-API-Key": SECRETS[1]},
    )
    ops.get("/no/such", params={"token": SECRETS[3]}, headers={"Authorization": f"Bearer {SECRETS[0]}"})
    text = captured.getvalue()
    assert "logs-something" in text and "/no/such" in text
    for secret in SECRETS:
        assert secret not in text
    assert "[REDACTED]" in text
    assert "iso=PJM" in text  # other parameters stay readable


def test_text_logs_are_redacted_and_carry_the_request_id() -> None:
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]', None, None
    )
    record.args = ("127.0.0.1:5000", f"/v1/stream?token={SECRETS[3]}&iso=ERCOT")
    line = TextFormatter().format(record)
    assert SECRETS[3] not in line and "iso=ERCOT" in line and "[-]" in line
    assert SECRETS[3] not in JsonFormatter().format(record)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"Authorization: Bearer {SECRETS[0]}", "Authorization"),
        (f"x-api-key={SECRETS[1]}", "x-api-key"),
        (f"GET /v1/lmp?iso=PJM&api_key={SECRETS[2]}", "iso=PJM"),
        (f"redis://default:{SECRETS[4]}@cache:6379/0", "cache:6379"),
        (f"{{'authorization': 'Basic {SECRETS[0]}'}}", "authorization"),
        (f"password={SECRETS[4]}&user=me", "user=me"),
    ],
)
def test_redact_text(text: str, kept: str) -> None:
    redacted = redact_text(text)
    assert not any(secret in redacted for secret in SECRETS)
    assert kept in redacted and "[REDACTED]" in redacted


def test_redact_query_keeps_other_parameters() -> None:
    assert redact_query(f"iso=PJM&token={SECRETS[3]}&API_KEY={SECRETS[2]}") == (
        "iso=PJM&token=[REDACTED]&API_KEY=[REDACTED]"
    )


# --- security headers ------------------------------------------------------------------------


def test_api_responses_forbid_sniffing_and_framing(ops: TestClient) -> None:
    for response in (ops.get("/health"), ops.get("/v1/lmp", params=LMP), ops.get("/no/such")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_hsts_only_over_tls(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/health").headers["Strict-Transport-Security"].startswith("max-age=")


def test_docs_pages_load_only_from_self_without_inline_scripts(ops: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        response = ops.get(page)
        assert response.status_code == 200
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.S)
        assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
        assert "http" not in re.sub(r'href="/|src="/', "", response.text.split("<body")[1])
    assert ops.get("/docs/swagger-init.js").headers["content-type"].startswith("text/javascript")


def test_office_may_frame_only_the_excel_pages(ops: TestClient) -> None:
    response = ops.get("/excel/taskpane.html")
    policy = response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert all(origin in policy for origin in OFFICE_FRAME_ANCESTORS)
    assert "script-src 'self'" in policy  # still an HTML page
    assert "officeapps" not in ops.get("/docs").headers["Content-Security-Policy"]


# --- CORS ------------------------------------------------------------------------------------


def test_cors_preflight_from_an_allowed_origin(ops: TestClient) -> None:
    response = ops.options(
        "/v1/lmp",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization, X-Request-ID",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_simple_request_from_an_allowed_origin_exposes_headers(ops: TestClient) -> None:
    response = ops.get("/v1/lmp", params=LMP, headers={"Origin": ALLOWED_ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    exposed = response.headers["Access-Control-Expose-Headers"].lower()
    assert "x-request-id" in exposed and "x-carbon254-count" in exposed


def test_cors_denies_other_origins(ops: TestClient) -> None:
    evil = "https://evil.example.net"
    preflight = ops.options("/v1/lmp", headers={"Origin": evil, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 400
    assert "Access-Control-Allow-Origin" not in preflight.headers
    simple = ops.get("/health", headers={"Origin": evil})
    assert "Access-Control-Allow-Origin" not in simple.headers


def test_no_origin_is_allowed_by_default(data_dir: Path, store: Store) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir, auth=AuthMode.OFF), store)) as client:
        response = client.get("/health", headers={"Origin": ALLOWED_ORIGIN})
        assert "Access-Control-Allow-Origin" not in response.headers
        preflight = client.options(
            "/v1/lmp", headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "GET"}
        )
        assert "Access-Control-Allow-Origin" not in preflight.headers


# --- request body limit ----------------------------------------------------------------------


def test_a_body_within_the_limit_is_read(ops: TestClient) -> None:
    assert ops.post("/echo-length", content=b"x" * BODY_LIMIT).json() == {"bytes": BODY_LIMIT}


def test_a_declared_oversize_body_is_413(ops: TestClient) -> None:
    response = ops.post("/echo-length", content=b"x" * (BODY_LIMIT + 1))
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "payload_too_large" and body["parameter"] == "body"
    assert f"{BODY_LIMIT:,}-byte limit" in body["message"]
    assert response.headers["X-Request-ID"]  # still inside the request context


def test_a_streamed_oversize_body_without_length_is_413(ops: TestClient, captured: io.StringIO) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"y" * 300  # 1,500 bytes in all, no Content-Length (chunked)

    response = ops.post("/echo-length", content=chunks())
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    (access,) = [r for r in lines(captured) if r["logger"] == "carbon254.access"]
    assert access["status"] == 413


def test_a_lying_content_length_does_not_bypass_the_limit(app: FastAPI) -> None:
    """Count what arrives, not what was declared: drive the ASGI app with a short declared length."""
    sent: list[dict[str, Any]] = []
    body = [b"z" * 600, b"z" * 600]

    async def receive() -> dict[str, Any]:
        chunk = body.pop(0) if body else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(body)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo-length",
        "raw_path": b"/echo-length",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-length", b"10")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert json.loads(payload)["code"] == "payload_too_large"


# --- control characters --------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each metadata backend: a SQLite file, and a PostgreSQL schema of the test's own (NUL-intolerant)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


# (method, path, query, JSON body, the parameter the 422 names)
CONTROL_CHARACTER_REQUESTS: list[tuple[str, str, dict[str, str], dict[str, Any] | None, str]] = [
    ("GET", "/v1/admin/audit", {"tenant": "\x00"}, None, "tenant"),
    ("GET", "/v1/admin/keys", {"tenant": "acme\x00"}, None, "tenant"),
    ("GET", "/v1/admin/audit", {"action\x00": "request"}, None, "action\x00"),
    ("GET", "/v1/lmp", {**LMP, "locations": "WESTERN\x1bHUB"}, None, "locations"),
    ("DELETE", "/v1/admin/keys/c0ffee%00", {}, None, "key_id"),
    ("PATCH", "/v1/admin/tenants/ac%00me", {}, {"admin": True}, "name"),
    ("GET", "/v1/no-such-route%00", {}, None, "path"),
    ("POST", "/v1/admin/keys", {}, {"tenant": "acme\x00"}, "tenant"),
    ("POST", "/v1/admin/tenants", {}, {"name": "acme\x00"}, "name"),
    ("PATCH", "/v1/admin/tenants/acme", {}, {"isos": ["ERCOT\x00"]}, "isos.0"),
]


def test_control_characters_are_422_naming_the_parameter(
    metadata_url: str, data_dir: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=data_dir, auth=AuthMode.OFF, metadata_url=metadata_url)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as client:
        assert client.post("/v1/admin/tenants", json={"name": "acme"}).status_code == 201
        for method, path, params, body, parameter in CONTROL_CHARACTER_REQUESTS:
            response = client.request(method, path, params=params, json=body)
            assert response.status_code == 422, (method, path, response.text)
            error = response.json()
            assert error["code"] == "invalid_parameter" and error["parameter"] == parameter, error
            assert "control character" in error["message"]
        # Tab, line feed and carriage return are text, not refused: an unknown ISO is a 404 as ever.
        unknown = client.get("/v1/lmp", params={**LMP, "iso": "PJ\tM"})
        assert (unknown.status_code, unknown.json()["parameter"]) == (404, "iso")
        assert client.get("/v1/admin/audit", params={"tenant": "acme"}).status_code == 200
    # Nothing failed inside: no 500, and every audit event (the refused requests' too) was written.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    ("headers", "parameter"),
    [
        ({"X-API-Key": "c254_ab\x00cd_secret"}, "x-api-key"),
        ({"Authorization": "Bearer c254_\x00"}, "authorization"),
    ],
)
def test_a_credential_header_with_a_control_character_is_422(
    ops: TestClient, headers: dict[str, str], parameter: str
) -> None:
    response = ops.get("/v1/lmp", params=LMP, headers=headers)
    assert response.status_code == 422
    assert response.json()["parameter"] == parameter


def test_a_stream_handshake_with_a_control_character_is_refused(ops: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as refused, ops.websocket_connect("/v1/stream?token=%00"):
        pass
    assert refused.value.status_code == 422
    assert refused.value.json()["parameter"] == "token"
