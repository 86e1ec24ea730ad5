"""The self-contained demo: a year of simulated market data for the seven ISOs and a live 5-minute feed.

`plan_demo` + `run_plan` load (or catch up) the data, `LiveFeed` + `FeedRunner`
keep publishing new intervals, and the marker (`demo.json` in the data dir)
remembers what was loaded. No CLI or web code here: `carbon254 demo` wires
these to a progress bar and the HTTP service.
"""

from carbon254.demo.feed import FeedRunner, LiveFeed, Published, replay_seconds_ahead
from carbon254.demo.load import (
    DemoPlan,
    LoadProgress,
    LoadSummary,
    plan_demo,
    run_plan,
    total_rows,
    utc_now,
    write_simulation,
)
from carbon254.demo.marker import (
    DemoMarker,
    DemoMarkerError,
    DemoParams,
    MarkerKeeper,
    marker_path,
    read_marker,
    write_marker,
)
from carbon254.demo.windows import FIVE_MINUTES, HOUR, floor_to, window_configs

__all__ = [
    "FIVE_MINUTES",
    "HOUR",
    "DemoMarker",
    "DemoMarkerError",
    "DemoParams",
    "DemoPlan",
    "FeedRunner",
    "LiveFeed",
    "LoadProgress",
    "LoadSummary",
    "MarkerKeeper",
    "Published",
    "floor_to",
    "marker_path",
    "plan_demo",
    "read_marker",
    "replay_seconds_ahead",
    "run_plan",
    "total_rows",
    "utc_now",
    "window_configs",
    "write_marker",
    "write_simulation",
]
