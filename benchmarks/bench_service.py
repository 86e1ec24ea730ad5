"""(g)-(i) The production service under load: cached and uncached `GET /v1/lmp`, and stream latency.

Every figure is taken twice, once per backend set: "embedded" (in-process
cache and pub/sub, one service process) and "redis" (`CARBON254_CACHE_URL=
redis://127.0.0.1:6379/0`: Redis result cache, rate-limit buckets and pub/sub).
The service runs as documented (uvicorn, `CARBON254_*` settings), with
authentication required: a tenant entitled to PJM and an API key are made with
`carbon254 tenants create` / `carbon254 keys create` in a fresh SQLite metadata
database, and every request carries the key. The rate limit is set far above
the offered load, so its bookkeeping is paid but never refuses. Load always
comes from another process on 127.0.0.1.

* (g) Cached `GET /v1/lmp`, one location × one month (June 2023, 720 hourly
  rows), JSON, over the (b) store. `wrk` (Debian package `wrk`) with 64
  connections: first closed-loop for 10 s (throughput: each connection sends
  its next request as soon as an answer arrives), then paced at 1,500 req/s in
  all (a Lua `delay()` per connection) for latency at the target rate. With 64
  connections in a closed loop, latency is 64 / throughput by construction, so
  the p99 target is read at the paced rate. Baseline: `GET /health` (no auth,
  no data) under the same two loads.
* (h) Uncached one location × one year (8,760 hourly rows), Arrow, for 200
  locations of the (b) store, each asked once (so each is a cache miss); every
  location is first warmed with a different (January) window, which warms the
  store's file metadata but not the cache. Baseline: the same reads in this
  process through a warm `store.read`, taking turns by blocks of 20.
* (i) Stream latency: 500 WebSocket clients (one separate process, asyncio)
  subscribed to PJM RT5 `lmp`; this process commits 40 batches (one 5-minute
  interval × 20 locations each, 4 per second) to a fresh store with
  `store.write`, and each client records when each batch arrived. Latency =
  arrival - the moment `store.write` returned. Embedded: one service process
  serves all 500; redis: two service processes, 250 clients each, fed by Redis
  pub/sub. The clients speak the WebSocket protocol directly (see
  `stream_clients.py`) and take the time as a frame's bytes arrive. Baseline:
  one WebSocket ping/pong round trip per client on the same connections right
  after the run, all 500 at once (the floor of moving one message to and from
  every connection through the same server and client).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np
import orjson
import pyarrow as pa

from bench_http import serve
from carbon254.schema import TIMESTAMP
from carbon254.store import Store, open_store
from dataset import HOURS, YEAR_END, YEAR_START, Context, sample_locations
from measure import ROOT, WORK, Latencies, Outcome, Result, Target, blocks, latency_rows, log, settle

NAME = "service"
SCALE = "pjm2k"
WRK_SECONDS = 10
CONNECTIONS = 64
PACED_RATE = 1_500
TARGET_CACHED_P99_MS = 10.0
TARGET_CACHED_RPS = 1_500.0
TARGET_UNCACHED_P99_MS = 40.0
TARGET_STREAM_P99_MS = 50.0
UNCACHED_SAMPLES = 200
STREAM_CLIENTS = 500
STREAM_COMMITS = 40
STREAM_LOCATIONS = 20
STREAM_PERIOD_S = 0.25
MONTH = (datetime(2023, 6, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC))
REDIS_URL = "redis://127.0.0.1:6379/0"
BACKENDS: tuple[tuple[str, dict[str, str]], ...] = (
    ("embedded", {"CARBON254_CACHE_URL": "memory://"}),
    ("redis", {"CARBON254_CACHE_URL": REDIS_URL}),
)
# Paced wrk: each connection waits so that all of them together offer PACED_RATE requests/s.
PACE_SCRIPT = """
local pause = tonumber(os.getenv("WRK_PAUSE_MS"))
function delay() return pause end
"""


# --------------------------------------------------------------------------- setup


def _carbon254(args: list[str], env: Mapping[str, str]) -> str:
    """Run the `carbon254` CLI; its stdout (raises with stderr when it fails)."""
    done = subprocess.run(
        [sys.executable, "-m", "carbon254.cli", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"carbon254 {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _service_settings(backend: dict[str, str], metadata: Path) -> dict[str, str]:
    """`CARBON254_*` settings of one run: auth required, a fresh metadata DB, a rate limit never reached."""
    return {
        **backend,
        "CARBON254_AUTH": "required",
        "CARBON254_METADATA_URL": f"sqlite:///{metadata}",
        "CARBON254_RATE_LIMIT_PER_S": "1000000",
        "CARBON254_RATE_LIMIT_BURST": "1000000",
    }


def _api_key(settings: Mapping[str, str], data_dir: Path) -> str:
    """A new tenant entitled to PJM and an API key for it, made with the documented CLI."""
    common = ["--data-dir", str(data_dir)]
    _carbon254(["tenants", "create", "bench", "--isos", "PJM", *common], settings)
    return _carbon254(["keys", "create", "--tenant", "bench", *common], settings).strip().splitlines()[-1]


# --------------------------------------------------------------------------- (g) cached, under wrk


def _wrk_ms(text: str, percent: str) -> float:
    """A latency percentile of `wrk --latency` output, in ms."""
    match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {percent}% latency in wrk output:\n{text}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def _wrk_rate(text: str) -> float:
    """Requests per second of `wrk` output; raises if any answer was not a success."""
    match = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{text}")
    if re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        raise RuntimeError(f"wrk saw failed answers:\n{text}")
    return float(match.group(1))


def _wrk_timeouts(text: str) -> int:
    """Requests wrk gave up on (no answer within its 2 s timeout); they are left out of its latencies."""
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if match is None:
        return 0
    connect, read, write, timeout = (int(g) for g in match.groups())
    if connect or read or write:
        raise RuntimeError(f"wrk saw socket errors:\n{text}")
    return timeout


@dataclass(frozen=True, slots=True)
class WrkRun:
    """What one wrk run measured: requests per second, latency percentiles (ms), and timeouts."""

    rate: float
    p50_ms: float
    p99_ms: float
    timeouts: int


def _wrk(url: str, headers: Mapping[str, str], paced: bool) -> WrkRun:
    """`wrk` against `url` with CONNECTIONS connections: closed-loop, or paced to PACED_RATE in all."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian package `wrk`)")
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{WRK_SECONDS}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    env = dict(os.environ)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(PACE_SCRIPT)
    try:
        if paced:
            # Each connection's cycle is its pause plus the answer's latency (~1 ms when cached).
            env["WRK_PAUSE_MS"] = f"{max(CONNECTIONS * 1000 / PACED_RATE - 1.0, 0.0):.2f}"
            command += ["-s", script.name]
        done = subprocess.run([*command, url], capture_output=True, text=True, env=env, check=True)
    finally:
        os.unlink(script.name)
    text = done.stdout
    return WrkRun(_wrk_rate(text), _wrk_ms(text, "50"), _wrk_ms(text, "99"), _wrk_timeouts(text))


def _cached_rows(base: str, key: str, backend: str, location: str, out: Outcome) -> None:
    """(g): the cached one-month JSON query and /health under closed-loop and paced wrk."""
    params = {
        "iso": "PJM",
        "market": "DAM",
        "locations": location,
        "start": str(MONTH[0].date()),
        "end": str(MONTH[1].date()),
        "format": "json",
    }
    query = f"/v1/lmp?{urlencode(params)}"
    answer = httpx.get(base + query, headers={"X-API-Key": key}, timeout=60)
    answer.raise_for_status()
    rows = orjson.loads(answer.content)["count"]
    if rows != 30 * 24:
        raise RuntimeError(f"the cached query returned {rows} rows, expected 720")
    auth = {"X-API-Key": key}
    runs: dict[str, WrkRun] = {}
    for what, url, headers in (("lmp", base + query, auth), ("health", base + "/health", {})):
        for paced in (False, True):
            run = _wrk(url, headers, paced)
            runs[f"{what}-{'paced' if paced else 'closed'}"] = run
            log(f"service {backend}: wrk {what} {'paced' if paced else 'closed'}: {run}")
    closed, paced_run = runs["lmp-closed"], runs["lmp-paced"]
    h_closed, h_paced = runs["health-closed"], runs["health-paced"]
    timeouts = ", ".join(f"{name} {run.timeouts}" for name, run in runs.items())
    out.note(
        NAME,
        SCALE,
        f"service {backend}: requests wrk timed out (no answer in 2 s, so missing from its latencies): "
        f"{timeouts}.",
    )
    label = f"(g) cached GET /v1/lmp 1 loc × 1 month JSON, {CONNECTIONS} connections, {backend}"
    base_closed = "GET /health, same load"
    out.results += [
        Result(
            NAME,
            f"{label}, closed loop",
            "throughput",
            closed.rate,
            "req/s",
            base_closed,
            h_closed.rate,
            "× /health's throughput",
            Target(">=", TARGET_CACHED_RPS),
            SCALE,
        ),
        Result(
            NAME,
            f"{label}, closed loop",
            "p99",
            closed.p99_ms,
            "ms",
            base_closed,
            h_closed.p99_ms,
            "× /health's latency",
            None,
            SCALE,
        ),
        Result(
            NAME,
            f"{label}, paced to {PACED_RATE:,} req/s (achieved {paced_run.rate:,.0f})",
            "p50",
            paced_run.p50_ms,
            "ms",
            f"{base_closed} (paced)",
            h_paced.p50_ms,
            "× /health's latency",
            None,
            SCALE,
        ),
        Result(
            NAME,
            f"{label}, paced to {PACED_RATE:,} req/s (achieved {paced_run.rate:,.0f})",
            "p99",
            paced_run.p99_ms,
            "ms",
            f"{base_closed} (paced)",
            h_paced.p99_ms,
            "× /health's latency",
            Target("<=", TARGET_CACHED_P99_MS),
            SCALE,
        ),
    ]


# --------------------------------------------------------------------------- (h) uncached year, Arrow


def _uncached_rows(
    base: str, key: str, backend: str, store: Store, locations: list[tuple[str, str]], out: Outcome
) -> None:
    """(h): each location's year once over HTTP (cache misses), against a warm in-process store.read."""
    headers = {"X-API-Key": key}
    served: list[float] = []
    local: list[float] = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:

        def get(location: str, start: datetime, end: datetime) -> bytes:
            params = {
                "iso": "PJM",
                "market": "DAM",
                "locations": location,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "format": "arrow",
            }
            response = client.get("/v1/lmp", params=params)
            response.raise_for_status()
            return response.content

        for _, location in locations:  # warm file metadata, not the cache: another window
            get(location, YEAR_START, YEAR_START + timedelta(days=31))
            store.read("lmp", "PJM", "DAM", [location], YEAR_START, YEAR_END)
        for block in blocks(locations):
            for _, location in block:
                t0 = time.perf_counter()
                body = get(location, YEAR_START, YEAR_END)
                served.append(time.perf_counter() - t0)
                if pa.ipc.open_stream(body).read_all().num_rows != HOURS:
                    raise RuntimeError(f"the year of {location} is not {HOURS} rows")
            for _, location in block:
                t0 = time.perf_counter()
                store.read("lmp", "PJM", "DAM", [location], YEAR_START, YEAR_END)
                local.append(time.perf_counter() - t0)
    measured, baseline = Latencies(served), Latencies(local)
    log(f"service {backend}: uncached year {measured.describe()}; store.read {baseline.describe()}")
    out.results += latency_rows(
        bench=NAME,
        scale=SCALE,
        label=f"(h) uncached GET /v1/lmp 1 loc × 1 yr Arrow, auth + cache miss, {backend}",
        measured=measured,
        baseline="in-process store.read, warm (same locations, taking turns)",
        base=baseline,
        p99_target=TARGET_UNCACHED_P99_MS,
    )


# --------------------------------------------------------------------------- (i) stream latency


def _stream_batch(store_locations: list[str], start: datetime) -> pa.Table:
    """One 5-minute RT5 interval of made-up PJM prices ($/MWh) for `store_locations`."""
    n = len(store_locations)
    energy = np.round(25 + np.random.default_rng(int(start.timestamp())).normal(0, 3, n), 4)
    congestion = np.full(n, 1.25)
    loss = np.full(n, 0.5)
    first = np.datetime64(start.replace(tzinfo=None), "us")
    return pa.table(
        {
            "iso": ["PJM"] * n,
            "market": ["RT5"] * n,
            "location": store_locations,
            "location_type": ["node"] * n,
            "interval_start": pa.array(np.full(n, first)).cast(TIMESTAMP),
            "interval_end": pa.array(np.full(n, first + np.timedelta64(300, "s"))).cast(TIMESTAMP),
            "lmp": energy + congestion + loss,
            "energy": energy,
            "congestion": congestion,
            "loss": loss,
            "published_at": pa.nulls(n, TIMESTAMP),
        }
    )


@contextmanager
def _clients(urls: list[str], key: str, result: Path) -> Iterator[subprocess.Popen[str]]:
    """The client process, once every client is subscribed; on exit its stdin is closed and it is awaited."""
    ws_urls = [u.replace("http://", "ws://") for u in urls]
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "stream_clients.py"),
            *ws_urls,
            "--clients",
            str(STREAM_CLIENTS),
            "--key",
            key,
            "--out",
            str(result),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"stream clients did not get ready (exit {proc.poll()})")
        yield proc
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _stream_rows(backend: str, settings: dict[str, str], out: Outcome) -> None:
    """(i): commit to a fresh store while 500 subscribed clients record arrivals."""
    data_dir = WORK / f"stream-{backend}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    settings = {**settings, "CARBON254_METADATA_URL": f"sqlite:///{data_dir / 'metadata.db'}"}
    key = _api_key(settings, data_dir)
    locations = [f"STREAM_NODE_{i:03d}" for i in range(STREAM_LOCATIONS)]
    store = open_store(data_dir)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    store.write("lmp", _stream_batch(locations, start - timedelta(minutes=5)))  # the market exists
    processes = 2 if backend == "redis" else 1
    committed: dict[str, float] = {}
    result = data_dir / "clients.json"
    try:
        with ExitStack() as stack:
            urls = [stack.enter_context(serve(data_dir, settings)) for _ in range(processes)]
            with _clients(urls, key, result):
                for i in range(STREAM_COMMITS):
                    interval = start + timedelta(minutes=5 * i)
                    store.write("lmp", _stream_batch(locations, interval))
                    committed[interval.isoformat().replace("+00:00", "Z")] = time.time()
                    time.sleep(STREAM_PERIOD_S)
                time.sleep(2.0)  # let the last batch arrive everywhere
    finally:
        store.close()
    doc = orjson.loads(result.read_bytes())
    lags: list[float] = []
    missing = 0
    for received in doc["received"]:
        seen = {_utc_key(stamp): at for stamp, at in received}
        for stamp, at in committed.items():
            if stamp in seen:
                lags.append(seen[stamp] - at)
            else:
                missing += 1
    if doc["failures"]:
        raise RuntimeError(f"stream clients failed: {doc['failures'][:3]}")
    measured, floor = Latencies(lags), Latencies(doc["ping_s"])
    log(
        f"service {backend}: stream {measured.describe()}, {missing} deliveries missing; "
        f"ping {floor.describe()}"
    )
    out.results += latency_rows(
        bench=NAME,
        scale=SCALE,
        label=(
            f"(i) stream commit → client, {STREAM_CLIENTS} clients, {processes} service process(es), "
            f"{backend}"
        ),
        measured=measured,
        baseline="WebSocket ping/pong on the same connections",
        base=floor,
        p99_target=TARGET_STREAM_P99_MS,
    )
    out.note(
        NAME,
        SCALE,
        f"stream {backend}: {len(lags):,} deliveries measured, {missing} missing "
        f"({STREAM_COMMITS} commits × {STREAM_CLIENTS} clients).",
    )


def _utc_key(stamp: str) -> str:
    """An ISO-8601 UTC instant as `YYYY-MM-DDTHH:MM:SSZ`, whichever UTC suffix the server used."""
    return (
        datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        .astimezone(UTC)
        .isoformat()
        .replace("+00:00", "Z")
    )


# --------------------------------------------------------------------------- runner entry


def run(ctx: Context) -> Outcome:
    """(g), (h) and (i) for each backend set."""
    out = Outcome()
    built = ctx.store(ctx.scales[0])
    locations = [loc for loc in sample_locations(built, UNCACHED_SAMPLES) if loc[0] == "PJM"]
    for backend, backend_settings in BACKENDS:
        metadata = WORK / f"service-{backend}-metadata.db"
        metadata.unlink(missing_ok=True)
        settings = _service_settings(backend_settings, metadata)
        key = _api_key(settings, built.directory)
        settle()
        store = built.open()
        try:
            with serve(built.directory, settings) as base:
                _cached_rows(base, key, backend, locations[0][1], out)
                _uncached_rows(base, key, backend, store, locations, out)
        finally:
            store.close()
        _stream_rows(backend, _service_settings(backend_settings, metadata), out)
    out.note(
        NAME, SCALE, "service: what each figure measures is in the `benchmarks/bench_service.py` docstring."
    )
    return out
