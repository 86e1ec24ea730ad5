"""Test helper: an HTTP proxy on 127.0.0.1 in front of a real service that fails the first requests.

    with FaultProxy(service.base_url, failures=2, status=503, retry_after="0") as proxy:
        Client(base_url=proxy.url, ...)   # two 503s, then the service's own answers

Failed answers carry the service's error body shape; `requests` counts every
request the proxy received (GETs and POSTs). `failures=-1` fails every
request. With `paths`, only requests whose path starts with it count and
fail; the others pass through. With `cut_after=N` a failure is the
service's real answer, cut after N bytes of its body (the connection
closes mid-body, as a dropped download); `ranges` records each counted
request's `Range` header.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class FaultProxy:
    """Answers `status` (with `Retry-After: retry_after` when given) to the first `failures` requests."""

    def __init__(
        self,
        target: str,
        *,
        failures: int,
        status: int = 503,
        retry_after: str | None = None,
        paths: str = "/",
        cut_after: int | None = None,
    ):
        self.target = target
        self.failures = failures
        self.status = status
        self.retry_after = retry_after
        self.paths = paths
        self.cut_after = cut_after
        self.requests = 0
        self.ranges: list[str | None] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def _handle(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fail = False
                if self.path.startswith(proxy.paths):
                    with proxy._lock:
                        proxy.requests += 1
                        proxy.ranges.append(self.headers.get("Range"))
                        fail = proxy.failures < 0 or proxy.requests <= proxy.failures
                if fail and proxy.cut_after is None:
                    body = json.dumps(
                        {"code": "unavailable", "message": "injected outage", "parameter": None}
                    )
                    self.send_response(proxy.status)
                    if proxy.retry_after is not None:
                        self.send_header("Retry-After", proxy.retry_after)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body.encode())
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS | {"host"}}
                answer = httpx.request(
                    method, proxy.target + self.path, headers=headers, content=body or None, timeout=30
                )
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in HOP_HEADERS:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                if fail:
                    self.wfile.write(answer.content[: proxy.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
