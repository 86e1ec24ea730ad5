"""`ReplayServer`: a threaded HTTP server on 127.0.0.1 with routes and injectable faults.

Routes map a request path (regular expression, full match) to a handler that
returns a `Reply`, or None for 404. Faults are injected per path pattern for a
number of requests, so a test can say "the next two requests for this file
get a 500" and then watch the client retry into success.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    """What a client sent: method, path, query (each name's values in order), headers, body."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter (names compared case-insensitively, as OASIS does)."""
        for key, values in self.query.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return default


@dataclass(frozen=True, slots=True)
class Reply:
    """A response to send: status, body and extra headers (Content-Length is always set)."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[ReplayRequest], Reply | None]


@dataclass(frozen=True, slots=True)
class Route:
    """`path` (a regular expression matched against the whole request path) served by `handler`."""

    path: re.Pattern[str]
    handler: Handler


class FaultKind(StrEnum):
    """Failures the server can inject, each as an ISO server or network really produces it."""

    ERROR_500 = "500"  # HTTP 500 with a short body
    TIMEOUT = "timeout"  # accept, then say nothing for `delay_s`
    TRUNCATED = "truncated"  # send half the body, then close (Content-Length says the full size)
    SHORT_BODY = "short-body"  # a complete response whose body is the first half of the file
    MALFORMED_CSV = "malformed-csv"  # a complete response with a broken CSV row spliced in
    RATE_LIMIT = "429"  # HTTP 429 with Retry-After
    EMPTY = "empty"  # HTTP 200 with an empty body


@dataclass(slots=True)
class Fault:
    """Inject `kind` into the next `times` requests whose path (plus query) matches `path`."""

    kind: FaultKind
    path: str = ".*"
    times: int = 1
    retry_after_s: int = 1
    delay_s: float = 2.0

    def matches(self, target: str) -> bool:
        return re.search(self.path, target) is not None


def _malformed(body: bytes) -> bytes:
    """The body with a row of the wrong shape inserted after its third line."""
    lines = body.split(b"\n")
    at = min(3, len(lines))
    return b"\n".join([*lines[:at], b'"broken row",,"not a number",', *lines[at:]])


class ReplayServer:
    """Serve `routes` on `host` (127.0.0.1; an ephemeral port unless `port` is given) in a background thread.

    `requests` records every request received, in order, for tests to
    inspect. Use as a context manager, or `start()` / `stop()`.
    """

    def __init__(self, routes: list[Route] | None = None, *, port: int = 0, host: str = "127.0.0.1") -> None:
        self.routes: list[Route] = list(routes or [])
        self.requests: list[ReplayRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without TCP_NODELAY,
            # Nagle's algorithm meets the client's delayed ACK and every
            # response waits about 40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321`."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_routes(self, routes: list[Route]) -> None:
        self.routes.extend(routes)

    def inject(self, fault: Fault) -> None:
        """Queue a fault; faults apply in the order injected."""
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(target):
                    fault.times -= 1
                    return fault
        return None

    def start(self) -> ReplayServer:
        # A short poll interval makes stop() quick; tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="replay-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _route(self, request: ReplayRequest) -> Reply:
        for route in self.routes:
            if route.path.fullmatch(request.path):
                reply = route.handler(request)
                if reply is not None:
                    return reply
        return Reply(404, b"Not Found: " + request.path.encode(), {"Content-Type": "text/plain"})

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        request = ReplayRequest(
            method=h.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in h.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(parts.path + ("?" + parts.query if parts.query else ""))
        if fault is not None and fault.kind is FaultKind.TIMEOUT:
            time.sleep(fault.delay_s)
            h.close_connection = True
            return
        if fault is not None and fault.kind is FaultKind.ERROR_500:
            return self._send(h, Reply(500, b"Internal Server Error", {"Content-Type": "text/plain"}))
        if fault is not None and fault.kind is FaultKind.RATE_LIMIT:
            headers = {"Retry-After": str(fault.retry_after_s), "Content-Type": "text/plain"}
            return self._send(h, Reply(429, b"Too Many Requests", headers))
        reply = self._route(request)
        if fault is None or reply.status != 200:
            return self._send(h, reply)
        if fault.kind is FaultKind.EMPTY:
            return self._send(h, Reply(200, b"", reply.headers))
        if fault.kind is FaultKind.SHORT_BODY:
            return self._send(h, Reply(200, reply.body[: len(reply.body) // 2], reply.headers))
        if fault.kind is FaultKind.MALFORMED_CSV:
            return self._send(h, Reply(200, _malformed(reply.body), reply.headers))
        if fault.kind is FaultKind.TRUNCATED:
            return self._send(h, reply, cut=len(reply.body) // 2)
        return self._send(h, reply)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, reply: Reply, cut: int | None = None) -> None:
        h.send_response(reply.status)
        for name, value in reply.headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(reply.body)))
        if cut is not None:
            h.send_header("Connection", "close")
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(reply.body if cut is None else reply.body[:cut])
        if cut is not None:
            h.wfile.flush()
            h.close_connection = True
