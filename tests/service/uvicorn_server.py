"""A real server process (`carbon254 serve`) over a data dir, for tests that need one of their own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running server: its process, base URL, data dir and log file."""

    process: subprocess.Popen[bytes]
    base_url: str
    data_dir: Path
    log: Path


@contextmanager
def uvicorn_server(directory: Path, **env: str) -> Iterator[Server]:
    """Start `carbon254 serve` with auth off over a data dir under `directory` (and `env` set), wait
    until `/health` answers, and stop it (SIGTERM, then kill)."""
    data_dir = directory / "data"
    port = free_port()
    # Auth off: the server binds 127.0.0.1, and these tests are not about credentials.
    environment = {**os.environ, "CARBON254_AUTH": "off", **env}
    log_path = directory / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "carbon254.cli",
                "serve",
                "--data-dir",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while True:
                if process.poll() is not None:
                    pytest.fail(f"server exited with {process.returncode}: {log_path.read_text()}")
                try:
                    if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"server not up after {STARTUP_TIMEOUT_S} s: {log_path.read_text()}")
                time.sleep(0.1)
            yield Server(process, base, data_dir, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
