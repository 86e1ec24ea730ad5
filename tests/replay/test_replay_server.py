"""The replay server itself: routing, 404s, request log, and each injected fault as a client sees it."""

from __future__ import annotations

import io
import re
import zipfile

import httpx
import pytest

from carbon254.replay import Fault, FaultKind, ReplayServer, Reply, Route

CSV = b'"Time Stamp","Name","LBMP"\n01/01/2024 00:05:00,"WEST",20.5\n01/01/2024 00:10:00,"WEST",21.0\n'


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def server() -> ReplayServer:
    routes = [
        Route(re.compile(r"/csv/(.+)"), lambda r: Reply(200, CSV, {"Content-Type": "text/csv"})),
        Route(re.compile(r"/zip/(.+)"), lambda r: Reply(200, zipped("a.csv", CSV * 50))),
        Route(re.compile(r"/echo"), lambda r: Reply(200, (r.param("QueryName") or "").encode())),
    ]
    s = ReplayServer(routes).start()
    yield s
    s.stop()


def test_routes_query_parameters_and_request_log(server: ReplayServer) -> None:
    assert httpx.get(f"{server.url}/csv/x.csv").content == CSV
    assert httpx.get(f"{server.url}/echo", params={"queryname": "PRC_LMP"}).text == "PRC_LMP"
    assert httpx.get(f"{server.url}/nowhere").status_code == 404
    assert [r.path for r in server.requests] == ["/csv/x.csv", "/echo", "/nowhere"]


def test_faults_apply_to_matching_paths_for_the_given_number_of_requests(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.ERROR_500, r"/csv/a", times=2))
    assert httpx.get(f"{server.url}/csv/b").status_code == 200
    assert [httpx.get(f"{server.url}/csv/a").status_code for _ in range(3)] == [500, 500, 200]


def test_rate_limit_fault_sends_retry_after(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.RATE_LIMIT, retry_after_s=3))
    resp = httpx.get(f"{server.url}/csv/a")
    assert resp.status_code == 429 and resp.headers["retry-after"] == "3"


def test_empty_short_and_malformed_bodies(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.EMPTY, "/csv/empty"))
    server.inject(Fault(FaultKind.SHORT_BODY, "/zip/"))
    server.inject(Fault(FaultKind.MALFORMED_CSV, "/csv/bad"))
    assert httpx.get(f"{server.url}/csv/empty").content == b""
    short = httpx.get(f"{server.url}/zip/a.zip").content
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(short))
    bad = httpx.get(f"{server.url}/csv/bad").content
    assert b'"broken row",,"not a number",' in bad and bad.count(b"\n") == CSV.count(b"\n") + 1


def test_truncated_body_breaks_the_connection_mid_response(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.TRUNCATED, "/zip/"))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{server.url}/zip/a.zip")
    assert zipfile.ZipFile(io.BytesIO(httpx.get(f"{server.url}/zip/a.zip").content)).namelist() == ["a.csv"]


def test_timeout_fault_holds_the_response(server: ReplayServer) -> None:
    server.inject(Fault(FaultKind.TIMEOUT, "/csv/", delay_s=0.5))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}/csv/a", timeout=0.2)
