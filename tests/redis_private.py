"""A private `redis-server` for tests that kill Redis mid-run (never the shared one on 6379).

    with PrivateRedis() as server:
        cache = RedisCache(server.url, ttl_s=60)
        ...
        server.kill()   # SIGKILL: connections drop, nothing is saved
        ...
        server.start()  # same port, empty dataset

The server listens on 127.0.0.1 on a free port, keeps its files in a private
tmp dir (`--save "" --appendonly no`: nothing persists), and is killed and
its dir removed on exit. `require_redis_server()` skips a test when the
binary is missing, and `require_shared_redis()` when the shared Redis
(127.0.0.1:6379) is not there (failures under CARBON254_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest

REDIS_SERVER = "redis-server"
START_TIMEOUT_S = 10.0
SHARED_HOST, SHARED_PORT = "127.0.0.1", 6379
SHARED_URL = f"redis://{SHARED_HOST}:{SHARED_PORT}/0"
_ROOT_CONFTEST = "carbon254_tests_root_conftest"


def require_shared_redis() -> str:
    """The shared Redis's URL, after `require_service` (tests/conftest.py) checked that it answers.

    `tests/service/conftest.py` shadows the module name `conftest`, so the
    suite's root conftest is loaded by path, once, under a name of its own.
    """
    root = sys.modules.get(_ROOT_CONFTEST)
    if root is None:
        spec = importlib.util.spec_from_file_location(_ROOT_CONFTEST, Path(__file__).with_name("conftest.py"))
        assert spec is not None and spec.loader is not None
        root = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(root)
        sys.modules[_ROOT_CONFTEST] = root
    root.require_service("Redis", SHARED_HOST, SHARED_PORT)
    return SHARED_URL


def require_redis_server() -> str:
    """The path of `redis-server`, or skip (fail under CARBON254_REQUIRE_SERVICES=1) if it is not on PATH."""
    path = shutil.which(REDIS_SERVER)
    if path is not None:
        return path
    reason = "service unavailable: redis-server is not on PATH (needed for a private Redis to kill)"
    if os.environ.get("CARBON254_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CARBON254_REQUIRE_SERVICES=1 forbids skipping this test)")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    """Whether a server on `port` answers PING at all (`+PONG`, or `-NOAUTH` when it wants a password)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64)[:1] in (b"+", b"-")
    except OSError:
        return False


class PrivateRedis:
    """A `redis-server` process of this test's own; a context manager (starts on enter, killed on exit).

    `url` is `redis://127.0.0.1:<port>/0` (with `:<password>@` when
    `password` is set, which makes the server require it). `kill()` sends SIGKILL and waits
    for the process to exit; `start()` starts it again on the same port.
    """

    def __init__(self, port: int | None = None, *, password: str | None = None) -> None:
        self.binary = require_redis_server()
        self.port = port if port is not None else free_port()
        self.password = password
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where clients connect: database 0 of this server (with the password, if one is set)."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (on `port`) and return once it answers PING; RuntimeError if it does not."""
        if self.running:
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="carbon254-redis-"))
        log = self._dir / "redis.log"
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self._dir),
                "--save", "",
                "--appendonly", "no",
                "--logfile", str(log),
                *(["--requirepass", self.password] if self.password else []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if _answers_ping(self.port):
                return
            time.sleep(0.01)
        self.kill()
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        raise RuntimeError(f"redis-server did not start on 127.0.0.1:{self.port}:\n{tail}")

    def kill(self) -> None:
        """SIGKILL the server and wait for it to exit (no-op if it is not running)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)
        self._process = None

    def close(self) -> None:
        """Kill the server and remove its directory."""
        self.kill()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> PrivateRedis:
        try:
            self.start()
        except RuntimeError:
            # The free port may have been taken between choosing and binding it: one more try.
            self.port = free_port()
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
