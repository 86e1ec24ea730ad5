"""(k) A spread through `GET /v1/spreads` against computing it from two `/v1/lmp` calls in pandas.

The (b) store (PJM day-ahead, 2023) serves both, from one real uvicorn process
(`bench_http.serve`, no credentials, no result cache, so every request is
computed). A request asks for one node minus WESTERN HUB over the whole year
(8,760 hourly spreads) with `stats=true` (mean, std, percentiles, share above
0), as Arrow. The baseline is what a user does without the endpoint: fetch
the node and the hub as Arrow from `/v1/lmp` (two requests, as the SDK
would), align them in pandas, subtract, and compute the same statistics.
Both are timed from the first request until the spreads and statistics are in
hand; they take turns in blocks of 20 nodes, so both see the same noise.
"""

from __future__ import annotations

import time

import httpx
import numpy as np
import orjson
import pandas as pd
import pyarrow.ipc as ipc

from bench_http import serve
from dataset import HOURS, YEAR_END, YEAR_START, Context, Scale, sample_locations
from measure import Latencies, Outcome, blocks, latency_rows, log, settle

NAME = "spreads"
SAMPLES = 200
HUB = "WESTERN HUB"
WINDOW = {"start": YEAR_START.isoformat(), "end": YEAR_END.isoformat()}


def _endpoint(client: httpx.Client, node: str) -> tuple[float, int]:
    """Seconds for one `/v1/spreads` request with statistics, and the spreads it returned."""
    params = {"iso": "PJM", "market": "DAM", "location": node, "minus": HUB, **WINDOW}
    t0 = time.perf_counter()
    response = client.get("/v1/spreads", params={**params, "stats": "true", "format": "arrow"})
    table = ipc.open_stream(response.content).read_all()
    stats = orjson.loads(table.schema.metadata[b"carbon254"])["stats"]
    elapsed = time.perf_counter() - t0
    if response.status_code != 200 or stats["intervals"] != table.num_rows:
        raise RuntimeError(f"GET /v1/spreads {node}: {response.status_code} {response.content[:300]!r}")
    return elapsed, int(table.num_rows)


def _lmp(client: httpx.Client, location: str) -> pd.DataFrame:
    params = {"iso": "PJM", "market": "DAM", "locations": location, **WINDOW, "format": "arrow"}
    response = client.get("/v1/lmp", params=params)
    if response.status_code != 200:
        raise RuntimeError(f"GET /v1/lmp {location}: {response.status_code}")
    return ipc.open_stream(response.content).read_all().to_pandas()


def _in_pandas(client: httpx.Client, node: str) -> tuple[float, int]:
    """Seconds to fetch node and hub from `/v1/lmp` and compute the spread and its statistics in pandas."""
    t0 = time.perf_counter()
    a, b = _lmp(client, node), _lmp(client, HUB)
    both = a.merge(b, on=["interval_start", "interval_end"], suffixes=("_node", "_hub"))
    spread = (both["lmp_node"] - both["lmp_hub"]).to_numpy()
    stats = {
        "mean": spread.mean(),
        "std": spread.std(),
        "min": spread.min(),
        "max": spread.max(),
        "percentiles": np.percentile(spread, [5, 25, 50, 75, 95], method="inverted_cdf"),
        "share_above": (spread > 0).mean(),
    }
    elapsed = time.perf_counter() - t0
    if len(stats["percentiles"]) != 5:
        raise RuntimeError("pandas statistics incomplete")
    return elapsed, len(spread)


def _scale_rows(ctx: Context, scale: Scale, out: Outcome) -> None:
    built = ctx.store(scale)
    nodes = [loc for iso, loc in sample_locations(built, SAMPLES + 1) if iso == "PJM" and loc != HUB][
        :SAMPLES
    ]
    settle()
    endpoint: list[float] = []
    baseline: list[float] = []
    with serve(built.directory) as url, httpx.Client(base_url=url, timeout=60.0) as client:
        log(f"spreads {scale.slug}: warm-up ({len(nodes)} nodes, both ways)")
        for node in nodes:
            _endpoint(client, node)
            _in_pandas(client, node)
        log(f"spreads {scale.slug}: measuring {len(nodes)} nodes × (/v1/spreads, 2 × /v1/lmp + pandas)")
        for block in blocks(nodes):
            for node in block:
                elapsed, rows = _endpoint(client, node)
                endpoint.append(elapsed)
                if rows != HOURS:
                    raise RuntimeError(f"/v1/spreads {node}: {rows} rows")
            for node in block:
                elapsed, rows = _in_pandas(client, node)
                baseline.append(elapsed)
                if rows != HOURS:
                    raise RuntimeError(f"pandas spread {node}: {rows} rows")
    e, b = Latencies(endpoint), Latencies(baseline)
    log(f"spreads {scale.slug}: endpoint {e.describe()}; two /v1/lmp + pandas {b.describe()}")
    out.results += latency_rows(
        bench=NAME,
        scale=scale.slug,
        label=f"(k) GET /v1/spreads 1 node − hub × 1 yr hourly with stats, Arrow, {scale.title}",
        measured=e,
        baseline="2 × GET /v1/lmp (Arrow) + pandas merge, subtract and statistics, same node and hub",
        base=b,
    )


def run(ctx: Context) -> Outcome:
    """Spread latency against the two-call pandas baseline at every scale of the run."""
    out = Outcome()
    for scale in ctx.scales:
        _scale_rows(ctx, scale, out)
    return out
