"""`carbon254 demo` as a real process: load, serve, live RT5 intervals arriving, clean stop, resume."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cli_helpers import CliProcess, free_port

READY_S = 60


def _rt5_count(http: httpx.Client, day: datetime) -> tuple[int, str | None]:
    params = {
        "iso": "ERCOT",
        "market": "RT5",
        "locations": "HB_NORTH",
        "start": (day - timedelta(days=1)).date().isoformat(),
        "end": (day + timedelta(days=2)).date().isoformat(),
    }
    response = http.get("/v1/lmp", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["simulated"] is True
    return body["count"], (body["data"][-1]["interval_start"] if body["data"] else None)


def test_demo_serves_and_replays_the_live_feed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    args = ["demo", "--data-dir", str(data_dir), "--days", "3", "--nodes", "5", "--port", str(port)]
    demo = CliProcess(*args, "--feed-every", "1")
    try:
        url = demo.wait_for(rf"(http://127\.0\.0\.1:{port})/docs", READY_S).group(1)
        example = demo.wait_for(r"Example: (\S+)", 5).group(1)
        now = datetime.now(UTC)
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get(example).status_code == 200
            first, first_last = _rt5_count(http, now)
            assert first > 0
            deadline = time.monotonic() + 15
            count, last = first, first_last
            while count < first + 2 and time.monotonic() < deadline:
                time.sleep(0.5)
                count, last = _rt5_count(http, now)
            assert count >= first + 2, demo.output
            assert last is not None and first_last is not None and last > first_last
            hourly = http.get(
                "/v1/lmp",
                params={"iso": "ERCOT", "market": "DAM", "locations": "HB_NORTH",
                        "start": (now - timedelta(days=3)).date().isoformat(),
                        "end": (now + timedelta(days=1)).date().isoformat()},
            )  # fmt: skip
            assert hourly.json()["count"] >= 3 * 24
            # The forward curves are marked beside the server once it is up: shared and simulated.
            demo.wait_for(r"Marked [\d,]+ simulated forward curves", READY_S)
            curve = http.get("/v1/curves", params={"iso": "ERCOT", "hub": "HB_NORTH", "block": "onpeak"})
            assert curve.status_code == 200, curve.text
            assert curve.json()["simulated"] is True and curve.json()["count"] >= 24
    finally:
        code = demo.terminate()
    assert code == 0, demo.output
    assert "live " in demo.output
    assert "Stopped." in demo.output
    assert "Traceback" not in demo.output
    marker = json.loads((data_dir / "demo.json").read_text())
    assert (marker["seed"], marker["nodes"], marker["days"]) == (254, 5, 3)
    through = datetime.fromisoformat(marker["loaded_through"])
    assert through > now  # replay runs ahead of the clock, and the marker kept up

    # A second run reloads nothing: the data is already ahead of the clock.
    again = CliProcess("demo", "--data-dir", str(data_dir), "--port", str(port), "--no-feed", "--nodes", "9")
    try:
        again.wait_for(rf"http://127\.0\.0\.1:{port}/docs", READY_S)
    finally:
        assert again.terminate() == 0, again.output
    assert "Demo data is up to date" in again.output
    assert "made with seed 254 and 5 nodes" in " ".join(again.output.split())
    assert "Loading" not in again.output
