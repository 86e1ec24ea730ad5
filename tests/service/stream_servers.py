"""Test helper: real uvicorn service processes for the `/v1/stream` tests, and a WebSocket client.

`ServiceProcess(data_dir, env)` runs `create_app()` (settings from
`CARBON254_*` env) under uvicorn on a free 127.0.0.1 port in a child process
and waits for `/health`. With `test_keys=True` the app's authenticator is a
tiny table of API keys (below) instead of the metadata database:

* `key-ercot`: tenant `ercot-co`, entitled to ERCOT only;
* `key-all`: tenant `all-co`, entitled to everything;
* `key-limited`: tenant `busy-co`, always rate limited;
* `key-data-only`: tenant `data-co`, every ISO's data but no analytics feature;
* `key-revoked-soon`: accepted once (the handshake), refused afterwards, as if revoked;
* anything else (or nothing): 401.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

STARTUP_TIMEOUT_S = 30.0

_SERVER = """
import sys

import uvicorn

from carbon254.config import Settings
from carbon254.service import create_app
from carbon254.application.identity import AuthMethod, AuthenticationError, Entitlements, Principal


class KeyTable:
    PRINCIPALS = {
        "key-ercot": Principal("ercot-co", "k1", AuthMethod.API_KEY, Entitlements(isos=frozenset({"ERCOT"}))),
        "key-all": Principal("all-co", "k2", AuthMethod.API_KEY, Entitlements()),
        "key-limited": Principal("busy-co", "k3", AuthMethod.API_KEY, Entitlements()),
        "key-data-only": Principal("data-co", "k4", AuthMethod.API_KEY, Entitlements(features=frozenset())),
    }

    def __init__(self):
        self.uses = 0

    def authenticate(self, credential):
        if credential is None:
            raise AuthenticationError("credentials required")
        if credential == "key-revoked-soon":  # valid for the handshake only, then revoked
            self.uses += 1
            if self.uses > 1:
                raise AuthenticationError("API key revoked")
            return self.PRINCIPALS["key-all"]
        try:
            return self.PRINCIPALS[credential]
        except KeyError:
            raise AuthenticationError("unknown API key") from None


class DenyBusy:
    def acquire(self, key):
        return 30.0 if "busy-co" in key else 0.0


app = create_app(Settings())
if sys.argv[2] == "keys":
    app.state.authenticator = KeyTable()
    app.state.rate_limiter = DenyBusy()
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServiceProcess:
    """One service process over `data_dir`; a context manager (started on enter, stopped on exit)."""

    def __init__(
        self, data_dir: Path, log: Path, *, env: dict[str, str] | None = None, test_keys: bool = False
    ):
        self.data_dir = data_dir
        self.port = free_port()
        self.log_path = log
        self.env = {
            **os.environ,
            "CARBON254_DATA_DIR": str(data_dir),
            "CARBON254_AUTH": "off",
            "CARBON254_LOG_JSON": "false",
            **(env or {}),
        }
        self.test_keys = test_keys
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServiceProcess:
        with self.log_path.open("w") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _SERVER, str(self.port), "keys" if self.test_keys else "open"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"service exited with {self._proc.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"service not up after {STARTUP_TIMEOUT_S} s: {self.log()}")
            time.sleep(0.05)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None


class StreamClient:
    """A WebSocket client of `/v1/stream` (the `websockets` library) with JSON helpers."""

    def __init__(self, url: str, **connect_kw: Any) -> None:
        # A test reads at its own pace: keep reading the socket into memory meanwhile, or the
        # server's keepalive ping, queued behind unread heartbeats, times the connection out.
        connect_kw.setdefault("max_queue", None)
        self.ws: ClientConnection = connect(url, open_timeout=10, **connect_kw).__enter__()

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message."""
        message: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return message

    def receive_type(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next message of type `kind`, skipping heartbeats; AssertionError on another type."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(deadline - time.monotonic(), 0.01))
            if message["type"] == kind:
                return message
            assert message["type"] == "heartbeat", message

    def subscribe(self, **fields: Any) -> dict[str, Any]:
        """Subscribe and return the `subscribed` confirmation."""
        self.send({"type": "subscribe", **fields})
        return self.receive_type("subscribed")

    def rows_until(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Data rows received until `count` have arrived (AssertionError if more do)."""
        rows: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(rows) < count:
            rows += self.receive_type("data", max(deadline - time.monotonic(), 0.01))["data"]
        assert len(rows) == count, f"expected {count} rows, got {len(rows)}"
        return rows

    def assert_quiet(self, seconds: float) -> None:
        """No data message for `seconds` (heartbeats allowed)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.receive(left)
            except TimeoutError:
                return
            assert message["type"] == "heartbeat", f"unexpected message: {message}"

    def close_code(self, timeout: float = 10.0) -> int | None:
        """Read (discarding messages) until the server closes; its close code."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(deadline - time.monotonic(), 0.01))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        raise AssertionError("the server did not close the connection")

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> StreamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StalledClient:
    """A WebSocket client that reads its socket only when told to: a consumer that stops reading.

    Built on the `websockets` Sans-I/O protocol over a plain socket whose
    receive buffer is fixed small (the kernel then cannot grow it), so the
    server meets back-pressure as soon as this client stops reading; a
    threaded client library would keep reading into its own memory.
    """

    RCVBUF = 16_384

    def __init__(self, url: str) -> None:
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RCVBUF)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is not State.OPEN:
            self._receive()
            if self.protocol.handshake_exc is not None:
                raise self.protocol.handshake_exc

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _receive(self) -> list[Frame]:
        data = self.sock.recv(65_536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self._flush()  # e.g. the reply to a close frame
        return [e for e in self.protocol.events_received() if isinstance(e, Frame)]

    def subscribe(self, **fields: Any) -> None:
        """Send a subscribe and read up to its confirmation (nothing more is read)."""
        self.protocol.send_text(json.dumps({"type": "subscribe", **fields}).encode())
        self._flush()
        while True:
            for frame in self._receive():
                if frame.opcode is Opcode.TEXT and json.loads(frame.data)["type"] == "subscribed":
                    return

    def close_code(self, timeout: float = 30.0) -> int | None:
        """Read (discarding data) until the server's close frame; its code (None: closed without one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frames = self._receive()
            except TimeoutError:
                continue
            for frame in frames:
                if frame.opcode is Opcode.CLOSE:
                    return Close.parse(frame.data).code
            if self.protocol.state is State.CLOSED:
                return None
        raise AssertionError("the server did not close the connection")

    def close(self) -> None:
        self.sock.close()
