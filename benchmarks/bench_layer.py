"""(l) `GET /v1/lmp` through the application layer against the service as it was before that layer.

The pre-layer code (commit `BEFORE`, the service as it stood when the
application layer, strict query strings and operations were added) is
exported with `git archive` under `benchmarks/.work` and served by a second
uvicorn process whose `PYTHONPATH` puts it ahead of the installed package;
both processes read the same (b) store with the same settings, each with a
metadata database of its own (the pre-layer code cannot open one migrated by
newer code). Requests
alternate between them in blocks of 20 locations, so both see the same
machine noise:

- uncached: one location × the (b) year as Arrow, result cache off (each
  request reads the store), 200 locations;
- cached: one location × one month as JSON, result cache on, after a pass
  that fills it, so each timed request is answered from the cache.

The ratio is the current service's latency over the pre-layer one's: 1.0
means the layer costs nothing measurable.
"""

from __future__ import annotations

import subprocess
import tarfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from bench_http import BARE_SERVICE, serve
from dataset import YEAR_END, YEAR_START, Context, Scale, sample_locations
from measure import ROOT, WORK, Latencies, Outcome, blocks, latency_rows, log, settle

NAME = "layer"
BEFORE = "448916e"
SAMPLES = 200
CACHED = {"CARBON254_AUTH": "off"}
MONTH_END = YEAR_START + timedelta(days=31)


def before_source() -> Path:
    """The `src` directory of the pre-layer commit, exported once under `benchmarks/.work`."""
    target = WORK / f"before-{BEFORE}"
    if not (target / "src" / "carbon254" / "service" / "query.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", BEFORE, "src"],
            check=True,
            capture_output=True,
        ).stdout
        archive_path = target / "src.tar"
        archive_path.write_bytes(archive)
        with tarfile.open(archive_path) as tar:
            tar.extractall(target, filter="data")
        archive_path.unlink()
    return target / "src"


def _get(client: httpx.Client, params: dict[str, str]) -> float:
    t0 = time.perf_counter()
    response = client.get("/v1/lmp", params=params)
    _ = response.content
    elapsed = time.perf_counter() - t0
    if response.status_code != 200:
        raise RuntimeError(f"GET /v1/lmp {params}: {response.status_code} {response.content[:200]!r}")
    return elapsed


def _params(location: str, end: str, fmt: str) -> dict[str, str]:
    return {
        "iso": "PJM",
        "market": "DAM",
        "locations": location,
        "start": YEAR_START.isoformat(),
        "end": end,
        "format": fmt,
    }


def _compare(
    directory: Path, settings: dict[str, str], locations: list[str], end: str, fmt: str
) -> tuple[Latencies, Latencies]:
    """Latencies of the current and the pre-layer service over the same requests, taking turns."""
    source = before_source()
    old_env = {
        **settings,
        "PYTHONPATH": str(source),
        "CARBON254_METADATA_URL": f"sqlite:///{(source.parent / 'metadata.db').as_posix()}",
    }
    current: list[float] = []
    before: list[float] = []
    with (
        serve(directory, settings) as new_url,
        serve(directory, old_env) as old_url,
        httpx.Client(base_url=new_url, timeout=60.0) as new,
        httpx.Client(base_url=old_url, timeout=60.0) as old,
    ):
        for location in locations:  # warm-up (and, with the cache on, fill it)
            _get(new, _params(location, end, fmt))
            _get(old, _params(location, end, fmt))
        for block in blocks(locations):
            for client, times in ((new, current), (old, before)):
                for location in block:
                    times.append(_get(client, _params(location, end, fmt)))
    return Latencies(current), Latencies(before)


def _scale_rows(ctx: Context, scale: Scale, out: Outcome) -> None:
    built = ctx.store(scale)
    locations = [loc for iso, loc in sample_locations(built, SAMPLES) if iso == "PJM"]
    baseline = f"the service before the application layer ({BEFORE}), same store and requests, taking turns"
    settle()
    log(f"layer {scale.slug}: uncached Arrow, {len(locations)} locations × 1 yr, current vs {BEFORE}")
    now, then = _compare(built.directory, dict(BARE_SERVICE), locations, YEAR_END.isoformat(), "arrow")
    log(f"layer {scale.slug}: uncached current {now.describe()}; before {then.describe()}")
    out.results += latency_rows(
        bench=NAME,
        scale=scale.slug,
        label=f"(l) uncached GET /v1/lmp 1 loc × 1 yr Arrow through the application layer, {scale.title}",
        measured=now,
        baseline=baseline,
        base=then,
    )
    settle()
    log(f"layer {scale.slug}: cached JSON, {len(locations)} locations × 1 month, current vs {BEFORE}")
    now, then = _compare(built.directory, CACHED, locations, MONTH_END.isoformat(), "json")
    log(f"layer {scale.slug}: cached current {now.describe()}; before {then.describe()}")
    out.results += latency_rows(
        bench=NAME,
        scale=scale.slug,
        label=f"(l) cached GET /v1/lmp 1 loc × 1 month JSON through the application layer, {scale.title}",
        measured=now,
        baseline=baseline,
        base=then,
    )


def run(ctx: Context) -> Outcome:
    """The application layer's cost on the LMP path, at every scale of the run."""
    out = Outcome()
    for scale in ctx.scales:
        _scale_rows(ctx, scale, out)
    return out
