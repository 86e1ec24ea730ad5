"""(e) Demo time-to-ready: `carbon254 demo` on an empty data dir until `/v1/lmp` answers.

The figure is wall time from launching `carbon254 demo --no-feed` in a fresh
process until a `GET /v1/lmp` for an ERCOT hub returns rows: generating a year
of simulated data for all seven ISOs, storing it and starting the service. The
baseline is generating the same rows alone, in process (no store, no server),
so the ratio says what storing and serving add on top of the simulator.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import timedelta

import httpx

from bench_http import free_port
from carbon254.demo.load import plan_demo, utc_now
from carbon254.demo.marker import DemoParams
from carbon254.simulate import simulate
from dataset import Context
from measure import ROOT, WORK, Outcome, Result, Target, log

NAME = "demo"
TARGET_READY_S = 60.0
TIMEOUT_S = 600.0


def _generate_only() -> tuple[float, int]:
    """Seconds and rows to simulate the demo's first load, discarding the batches."""
    plan = plan_demo(WORK / "demo-plan-only", DemoParams(), days=365)
    started = time.perf_counter()
    rows = sum(table.num_rows for config in plan.configs for _, table in simulate(config))
    return time.perf_counter() - started, rows


def _ready_seconds() -> float:
    """Launch the demo on an empty data dir; seconds until /v1/lmp returns rows."""
    data_dir = WORK / "demo-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    port = free_port()
    command = [sys.executable, "-m", "carbon254.cli", "demo", "--no-feed", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    today = utc_now().date()
    params = {
        "iso": "ERCOT",
        "market": "DAM",
        "locations": "HB_NORTH",
        "start": (today - timedelta(days=7)).isoformat(),
        "end": today.isoformat(),
        "format": "json",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < TIMEOUT_S:
            if proc.poll() is not None:
                raise RuntimeError(f"carbon254 demo exited with {proc.returncode} before it was ready")
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/lmp", params=params, timeout=2.0)
                if r.status_code == 200 and r.json()["count"] > 0:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"carbon254 demo not ready after {TIMEOUT_S:.0f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def run(ctx: Context) -> Outcome:
    """Time-to-ready of a first demo run against generating its data alone."""
    out = Outcome()
    log("demo: generating the demo's rows alone (baseline)")
    generate_s, rows = _generate_only()
    log(f"demo: launching carbon254 demo on an empty data dir ({rows:,} rows to load)")
    ready_s = _ready_seconds()
    out.results.append(
        Result(
            NAME,
            f"(e) demo ready to query, first run, {rows:,} rows",
            "one run",
            ready_s,
            "s",
            "simulating the same rows alone, in process",
            generate_s,
            "× the baseline's time",
            target=Target("<=", TARGET_READY_S),
        )
    )
    return out
