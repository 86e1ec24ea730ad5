"""(c) The (b) read through `GET /v1/lmp`, served by a real uvicorn process on 127.0.0.1.

The server is started exactly as documented (`python -m uvicorn --factory
carbon254.service.app:create_app`, `CARBON254_DATA_DIR` pointing at the (b)
store; one worker, access log off) on a free port. The client is one
persistent `httpx.Client` (keep-alive); a request is timed from the call until
the whole body has been received. Before measuring, every location is
requested once as Arrow and the first few as JSON. Then, block by block of 20
locations, each location is asked for as Arrow, then as JSON, then, as the
baseline, read in this process with a warm store object (`store.read`), and
last through the route function called directly in this process (what the
service adds per request besides ASGI and HTTP), so all see the same noise.
With `--profile`, the direct route calls are profiled (the served process
cannot be: its route runs in worker threads).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow as pa
import pyarrow.ipc as ipc
from fastapi.routing import APIRoute

from carbon254.application.identity import ANONYMOUS
from carbon254.config import Settings
from carbon254.service.encoding import Format
from carbon254.service.routes import lmp as lmp_routes
from carbon254.store import Store
from dataset import HOURS, YEAR_END, YEAR_START, Context, Scale, sample_locations
from measure import (
    ROOT,
    WORK,
    Latencies,
    Outcome,
    blocks,
    human_bytes,
    latency_rows,
    log,
    profiled,
    profiling_enabled,
    settle,
)

NAME = "http"
SAMPLES = 200
JSON_WARMUP = 20
TARGET_ARROW_P99_MS = 25.0
READY_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(port: int) -> list[str]:
    """The uvicorn command line serving the app on `port`."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "carbon254.service.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


# The spine's figures are for the bare read path: no credentials, no result cache.
BARE_SERVICE = {"CARBON254_AUTH": "off", "CARBON254_CACHE_MAX_BYTES": "0"}


@contextmanager
def serve(data_dir: Path, settings: Mapping[str, str] = BARE_SERVICE) -> Iterator[str]:
    """Run the service over `data_dir` in a child process with `CARBON254_*` `settings`; yield its base URL.

    The process is stopped on exit.
    """
    port = free_port()
    log_path = WORK / f"uvicorn-{port}.log"
    env = {**os.environ, **settings, "CARBON254_DATA_DIR": str(data_dir)}
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            server_command(port), env=env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"uvicorn exited with {proc.returncode}: {log_path.read_text()[-2000:]}"
                    )
                try:
                    if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn not ready after {READY_TIMEOUT_S:.0f} s")
                time.sleep(0.1)
            log(f"http: uvicorn pid {proc.pid} serving {data_dir.relative_to(ROOT)} at {url}")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _params(iso: str, location: str, fmt: str) -> dict[str, str]:
    return {
        "iso": iso,
        "market": "DAM",
        "locations": location,
        "start": YEAR_START.isoformat(),
        "end": YEAR_END.isoformat(),
        "format": fmt,
    }


def _get(client: httpx.Client, iso: str, location: str, fmt: str) -> tuple[float, bytes]:
    """Seconds for one request (whole body received) and the body; raises unless it is a 200."""
    t0 = time.perf_counter()
    response = client.get("/v1/lmp", params=_params(iso, location, fmt))
    body = response.content
    elapsed = time.perf_counter() - t0
    if response.status_code != 200:
        raise RuntimeError(f"GET /v1/lmp {iso} {location} {fmt}: {response.status_code} {body[:300]!r}")
    return elapsed, body


def _rows(body: bytes, fmt: str) -> int:
    """Rows in an Arrow IPC or JSON answer (JSON's `count` must match its data)."""
    if fmt == "arrow":
        table: pa.Table = ipc.open_stream(body).read_all()
        return int(table.num_rows)
    doc: dict[str, Any] = orjson.loads(body)
    if doc["count"] != len(doc["data"]):
        raise RuntimeError(f"JSON count {doc['count']} but {len(doc['data'])} rows")
    return int(doc["count"])


def route_caller(store: Store) -> Callable[[str, str], object]:
    """A function calling the `GET /v1/lmp` route function directly (format=arrow), with the store and
    settings the service would inject: everything the service does per request except ASGI and HTTP.

    The route is found in the LMP router by its path and its parameters filled by name, so this
    follows the route's signature as it changes. The caller is the anonymous principal (auth off) and
    there is no query cache: every call reads the store. No HTTP request exists here, so `http` is
    None and the route remembers nothing for a repeated request (which only skips parsing anyway).
    """
    routes = [r for r in lmp_routes.router.routes if isinstance(r, APIRoute)]
    route = next(r for r in routes if r.path == "/v1/lmp" and "GET" in (r.methods or ()))
    signature = inspect.signature(route.endpoint)
    settings = Settings()
    loop = asyncio.new_event_loop()  # one loop for every call: the route function is a coroutine

    def call(iso: str, location: str) -> object:
        known: dict[str, object] = {
            "http": None,
            "store": store,
            "settings": settings,
            "principal": ANONYMOUS,
            "cache": None,
            **_params(iso, location, "arrow"),
            "fmt": Format.ARROW,
        }
        kwargs: dict[str, object] = {}
        for name, parameter in signature.parameters.items():
            if name in known:
                kwargs[name] = known[name]
            elif parameter.default is not inspect.Parameter.empty:
                kwargs[name] = parameter.default
            else:
                raise RuntimeError(f"cannot fill parameter {name!r} of the GET /v1/lmp route function")
        return loop.run_until_complete(route.endpoint(**kwargs))

    return call


def _scale_rows(ctx: Context, scale: Scale, out: Outcome) -> None:
    built = ctx.store(scale)
    locations = sample_locations(built, SAMPLES)
    settle()
    what = f"(c) GET /v1/lmp 1 loc × 1 yr, {scale.title}"
    store = built.open()
    handler = route_caller(store)
    arrow: list[float] = []
    json: list[float] = []
    local: list[float] = []
    direct: list[float] = []
    sizes: dict[str, list[int]] = {"arrow": [], "json": []}
    try:
        with serve(built.directory) as url, httpx.Client(base_url=url, timeout=60.0) as client:
            log(f"http {scale.slug}: warm-up ({SAMPLES} Arrow requests, {JSON_WARMUP} JSON, {SAMPLES} local)")
            for iso, location in locations:
                _get(client, iso, location, "arrow")
                store.read("lmp", iso, "DAM", [location], YEAR_START, YEAR_END)
                handler(iso, location)
            for iso, location in locations[:JSON_WARMUP]:
                _get(client, iso, location, "json")
            log(f"http {scale.slug}: measuring {SAMPLES} locations × (Arrow, JSON, store.read, route)")
            for block in blocks(locations):
                for fmt, times in (("arrow", arrow), ("json", json)):
                    for iso, location in block:
                        elapsed, body = _get(client, iso, location, fmt)
                        times.append(elapsed)
                        sizes[fmt].append(len(body))
                        if (rows := _rows(body, fmt)) != HOURS:
                            raise RuntimeError(f"{fmt} answer for {iso} {location} has {rows} rows")
                for iso, location in block:
                    t0 = time.perf_counter()
                    table = store.read("lmp", iso, "DAM", [location], YEAR_START, YEAR_END)
                    local.append(time.perf_counter() - t0)
                    if table.num_rows != HOURS:
                        raise RuntimeError(f"store.read {iso} {location}: {table.num_rows} rows")
                for iso, location in block:
                    t0 = time.perf_counter()
                    handler(iso, location)
                    direct.append(time.perf_counter() - t0)
        if profiling_enabled():
            with profiled(f"http-route-{scale.slug}"):
                for iso, location in locations:
                    handler(iso, location)
    finally:
        store.close()
    a, j, w, r = Latencies(arrow), Latencies(json), Latencies(local), Latencies(direct)
    log(
        f"http {scale.slug}: arrow {a.describe()}; json {j.describe()}; store.read {w.describe()}; "
        f"route function {r.describe()}"
    )
    out.results += latency_rows(
        bench=NAME,
        scale=scale.slug,
        label=f"{what}, format=arrow",
        measured=a,
        baseline="in-process store.read, warm (same locations, taking turns)",
        base=w,
        p99_target=TARGET_ARROW_P99_MS,
    )
    out.results += latency_rows(
        bench=NAME,
        scale=scale.slug,
        label=f"(c) the /v1/lmp route function called directly (no ASGI/HTTP), {scale.title}",
        measured=r,
        baseline="in-process store.read, warm (same locations, taking turns)",
        base=w,
    )
    out.results += latency_rows(
        bench=NAME,
        scale=scale.slug,
        label=f"{what}, format=json",
        measured=j,
        baseline="the same requests with format=arrow",
        base=a,
    )
    out.note(
        NAME,
        scale.slug,
        f"http {scale.slug}: body sizes (median) Arrow {human_bytes(sorted(sizes['arrow'])[SAMPLES // 2])}, "
        f"JSON {human_bytes(sorted(sizes['json'])[SAMPLES // 2])}.",
    )


def run(ctx: Context) -> Outcome:
    """HTTP latency (Arrow and JSON) at every scale of the run."""
    out = Outcome()
    for scale in ctx.scales:
        _scale_rows(ctx, scale, out)
    return out
