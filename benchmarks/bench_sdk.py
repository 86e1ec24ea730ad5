"""(j) The Python SDK: one year × 50 locations of hourly LMPs into pandas, vs requests + JSON.

Both sides fetch the same 438,000 rows (PJM day-ahead, 2023, 50 locations
drawn from the (b) store with a fixed seed) from one real service process
(`uvicorn`, as in (c): no credentials, no result cache, so every fetch
reads the store) and end with a pandas DataFrame of them:

* SDK: `Client(base_url).lmp(iso="PJM", market="DAM", locations=[50],
  start, end)`: Arrow IPC in pieces of about a million rows (here the whole
  year is one piece), categoricals and zone-aware timestamps.
* Baseline: what a user without the SDK writes: `requests.get("/v1/lmp",
  params=..., format=json)` following `next_cursor` page by page, then
  `pandas.DataFrame(rows)` and `pandas.to_datetime` on the two time columns
  (so both frames hold real timestamps).

They take turns, one untimed warm-up each, then SAMPLES timed fetches each;
the figure is the median. Target: the SDK at least 5× faster.
"""

from __future__ import annotations

import statistics
import time

import pandas as pd
import requests

from bench_http import serve
from carbon254.client import Client
from dataset import HOURS, YEAR_END, YEAR_START, Context, sample_locations
from measure import Outcome, Result, Target, log, settle

NAME = "sdk"
LOCATIONS = 50
SAMPLES = 5
TARGET_SPEEDUP = 5.0


def _requests_json(url: str, locations: list[str]) -> pd.DataFrame:
    """The year through JSON pages with `requests`, as a DataFrame with parsed timestamps."""
    params = {
        "iso": "PJM",
        "market": "DAM",
        "locations": ",".join(locations),
        "start": YEAR_START.isoformat(),
        "end": YEAR_END.isoformat(),
        "format": "json",
    }
    rows: list[dict[str, object]] = []
    with requests.Session() as session:
        cursor = None
        while True:
            page = session.get(f"{url}/v1/lmp", params={**params, **({"cursor": cursor} if cursor else {})})
            page.raise_for_status()
            body = page.json()
            rows += body["data"]
            cursor = body["next_cursor"]
            if not cursor:
                break
    frame = pd.DataFrame(rows)
    for column in ("interval_start", "interval_end"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _sdk(client: Client, locations: list[str]) -> pd.DataFrame:
    return client.lmp(iso="PJM", market="DAM", locations=locations, start=YEAR_START, end=YEAR_END)


def _timed(fetch: object, *args: object) -> tuple[float, int]:
    t0 = time.perf_counter()
    frame = fetch(*args)  # type: ignore[operator]
    return time.perf_counter() - t0, len(frame)


def run(ctx: Context) -> Outcome:
    """(j) at the default scale: SDK vs requests + JSON, taking turns."""
    out = Outcome()
    scale = ctx.scales[0]
    built = ctx.store(scale)
    shuffled = sample_locations(built, built.scale.locations)  # every location, in a fixed random order
    locations = [loc for iso, loc in shuffled if iso == "PJM"][:LOCATIONS]
    expected = HOURS * len(locations)
    sdk_s: list[float] = []
    json_s: list[float] = []
    settle()
    with serve(built.directory) as url, Client(base_url=url, timeout_s=300.0) as client:
        log(f"sdk: warm-up, then {SAMPLES} fetches each of {len(locations)} locations × 1 year")
        _sdk(client, locations)
        _requests_json(url, locations)
        for _ in range(SAMPLES):
            for fetch, times, args in (
                (_sdk, sdk_s, (client, locations)),
                (_requests_json, json_s, (url, locations)),
            ):
                elapsed, rows = _timed(fetch, *args)
                if rows != expected:
                    raise RuntimeError(f"{fetch.__name__} returned {rows:,} rows, expected {expected:,}")
                times.append(elapsed)
    sdk, baseline = statistics.median(sdk_s), statistics.median(json_s)
    log(f"sdk: SDK {sdk:.2f} s, requests + JSON {baseline:.2f} s (medians of {SAMPLES})")
    label = (
        f"(j) 1 yr × {len(locations)} locations hourly LMPs ({expected:,} rows) into pandas, {scale.title}"
    )
    out.results.append(
        Result(
            bench=NAME,
            label=f"{label}: SDK (Arrow IPC)",
            statistic=f"median of {SAMPLES}",
            figure=expected / sdk / 1e6,
            unit="M rows/s",
            baseline="requests + JSON pages + pandas.DataFrame, same rows",
            baseline_figure=expected / baseline / 1e6,
            ratio_meaning="× the baseline's rate",
            target=Target(">=", TARGET_SPEEDUP * expected / baseline / 1e6),
            scale=scale.slug,
        )
    )
    out.note(
        NAME,
        scale.slug,
        f"sdk: seconds per fetch — SDK {', '.join(f'{s:.2f}' for s in sdk_s)}; "
        f"requests + JSON {', '.join(f'{s:.2f}' for s in json_s)}.",
    )
    return out
