"""Test helper: a real `carbon254 serve` process over simulated data, with tenants and API keys.

    service = LiveService.seeded(tmp_dir)        # simulated ERCOT + PJM, Jan-Feb 2024
    with service:                                # `carbon254 serve` on a free 127.0.0.1 port
        Client(base_url=service.base_url, api_key=service.keys.full)
        service.restart()                        # same port, same data: for reconnect tests

Keys: `full` (every ISO), `ercot` (ERCOT only); made with the metadata API
the `carbon254 tenants` / `keys` commands use.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from carbon254.config import AuthMode, Settings
from carbon254.metadata import MetadataDatabase, create_key, create_tenant

STARTUP_TIMEOUT_S = 30.0
SIMULATED = ("--start", "2024-01-01", "--end", "2024-03-01", "--isos", "ERCOT,PJM", "--nodes", "3")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def carbon254(*args: str, env: dict[str, str] | None = None) -> str:
    """Run the `carbon254` CLI; its stdout, or an error carrying its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "carbon254.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"carbon254 {' '.join(args)} failed: {done.stderr[-3000:]}")
    return done.stdout


@dataclass(frozen=True, slots=True)
class Keys:
    """API keys of the test tenants: `full` reads every ISO, `ercot` only ERCOT."""

    full: str
    ercot: str


def make_keys(data_dir: Path) -> Keys:
    """Create the tenants `full` and `ercot-only` and one key each in the data dir's metadata database."""
    db = MetadataDatabase(Settings(data_dir=data_dir, auth=AuthMode.REQUIRED).metadata_database_url())
    try:
        create_tenant(db, "full")
        create_tenant(db, "ercot-only", isos=["ERCOT"])
        return Keys(create_key(db, "full").plaintext, create_key(db, "ercot-only").plaintext)
    finally:
        db.close()


class LiveService:
    """`carbon254 serve` over `data_dir` with authentication required; a context manager."""

    def __init__(self, data_dir: Path, keys: Keys, *, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.keys = keys
        self.port = free_port()
        self.env = {
            **os.environ,
            "CARBON254_AUTH": "required",
            "CARBON254_LOG_JSON": "false",
            "CARBON254_STREAM_HEARTBEAT_S": "1",
            **(env or {}),
        }
        self.log_path = data_dir / f"serve-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def seeded(cls, data_dir: Path, *, env: dict[str, str] | None = None) -> LiveService:
        """A service over freshly simulated ERCOT and PJM data (every dataset, Jan-Feb 2024)."""
        carbon254("simulate", *SIMULATED, "--rt5-days", "1", "--data-dir", str(data_dir))
        return cls(data_dir, make_keys(data_dir), env=env)

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """What the service printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        """Start serving and wait for `/health`."""
        command = [sys.executable, "-m", "carbon254.cli", "serve", "--data-dir", str(self.data_dir)]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"carbon254 serve exited with {self._process.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"carbon254 serve not up after {STARTUP_TIMEOUT_S} s: {self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop serving (SIGTERM, then SIGKILL after 15 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop, then serve again on the same port over the same data."""
        self.stop()
        self.start()

    def __enter__(self) -> LiveService:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
