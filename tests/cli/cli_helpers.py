"""Helpers for the CLI tests: canonical LMP tables and files, and `carbon254` subprocesses."""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from carbon254.schema import TIMESTAMP

START = datetime(2025, 1, 1, tzinfo=UTC)
# Two simulated days of ERCOT at 5 nodes: small, quick, and every dataset but capacity prices.
SIM_ARGS = ["--isos", "ERCOT", "--nodes", "5", "--start", "2025-01-01", "--end", "2025-01-03"]


def lmp_table(
    location: str = "WESTERN HUB",
    hours: int = 24,
    *,
    iso: str = "PJM",
    market: str = "DAM",
    start: datetime = START,
    energy: float = 30.0,
) -> pa.Table:
    """Hourly canonical LMP rows at one location: lmp = energy + 1.5 congestion + 0.25 loss ($/MWh)."""
    starts = [start + timedelta(hours=h) for h in range(hours)]
    energies = [energy + h % 24 for h in range(hours)]
    return pa.table(
        {
            "iso": [iso] * hours,
            "market": [market] * hours,
            "location": [location] * hours,
            "location_type": ["hub"] * hours,
            "interval_start": pa.array(starts, TIMESTAMP),
            "interval_end": pa.array([s + timedelta(hours=1) for s in starts], TIMESTAMP),
            "lmp": [e + 1.75 for e in energies],
            "energy": energies,
            "congestion": [1.5] * hours,
            "loss": [0.25] * hours,
        }
    )


def write_lmp_csv(path: Path, table: pa.Table, *, offset: str = "-05:00") -> Path:
    """`table` as a CSV whose timestamps carry `offset` (e.g. -05:00, or Z for UTC)."""
    hours = 0 if offset == "Z" else int(offset[:3])
    shift = timedelta(hours=hours)
    suffix = "Z" if offset == "Z" else offset
    lines = [",".join(table.column_names)]
    for row in table.to_pylist():
        cells = []
        for name in table.column_names:
            value = row[name]
            if isinstance(value, datetime):
                cells.append((value + shift).replace(tzinfo=None).isoformat() + suffix)
            else:
                cells.append("" if value is None else str(value))
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def carbon254_command() -> list[str]:
    """The installed `carbon254` script next to this Python, else `python -m carbon254.cli`."""
    script = Path(sys.executable).parent / "carbon254"
    if script.exists():
        return [str(script)]
    found = shutil.which("carbon254")
    return [found] if found else [sys.executable, "-m", "carbon254.cli"]


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `carbon254 args...` to completion in a subprocess."""
    return subprocess.run(
        [*carbon254_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


class CliProcess:
    """A long-running `carbon254` subprocess whose output lines are collected as they arrive."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*carbon254_command(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    @property
    def output(self) -> str:
        self._drain()
        return "".join(self.lines)

    def _drain(self) -> None:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first output line matching `pattern`; fails the test on timeout or early exit."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            self._drain()
            for line in self.lines[seen:]:
                found = regex.search(line)
                if found:
                    return found
            seen = len(self.lines)
            if self.proc.poll() is not None and self._queue.empty():
                time.sleep(0.2)
                self._drain()
                if not any(regex.search(line) for line in self.lines[seen:]):
                    raise AssertionError(
                        f"exited with {self.proc.returncode} before {pattern!r}:\n{self.output}"
                    )
            if time.monotonic() > deadline:
                raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{self.output}")
            time.sleep(0.05)

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM, then wait; kills (and fails) if it does not stop within `timeout` s."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"did not stop within {timeout} s of SIGTERM:\n{self.output}") from None
        self._reader.join(timeout=5)
        return code
