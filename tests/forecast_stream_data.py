"""Test helper: stored five-minute real-time prices ending now, for the stream's sub-hourly forecasts.

Prices follow a daily shape plus noise (a fixed seed), so a fitted model is
a real one; `interval_rows` writes one interval at a chosen price, to commit
a new interval or revise one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from carbon254.schema import TIMESTAMP

FIVE_MINUTES = timedelta(minutes=5)


def last_start() -> datetime:
    """The start of the five-minute interval that ended most recently (UTC)."""
    now = datetime.now(UTC)
    return now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0) - FIVE_MINUTES


def history_rows(locations: list[str], last: datetime, intervals: int, iso: str = "ERCOT") -> pa.Table:
    """`intervals` RT5 LMPs ($/MWh) per location, the newest starting at `last`."""
    rng = np.random.default_rng(7)
    first = last - FIVE_MINUTES * (intervals - 1)
    starts = [first + FIVE_MINUTES * i for i in range(intervals)]
    phase = np.array([(s.hour * 12 + s.minute // 5) / 288 for s in starts])
    columns: dict[str, list[object]] = {k: [] for k in ("location", "interval_start", "lmp")}
    for n, location in enumerate(locations):
        prices = 35 + 5 * n + 12 * np.sin(2 * np.pi * phase) + rng.normal(0, 1.5, intervals)
        columns["location"] += [location] * intervals
        columns["interval_start"] += starts
        columns["lmp"] += prices.round(2).tolist()
    return _rows(iso, columns)


def interval_rows(location: str, start: datetime, lmp: float, iso: str = "ERCOT") -> pa.Table:
    """One RT5 interval of one location at `lmp` ($/MWh)."""
    return _rows(iso, {"location": [location], "interval_start": [start], "lmp": [lmp]})


def _rows(iso: str, columns: dict[str, list[object]]) -> pa.Table:
    n = len(columns["location"])
    starts = pa.array(columns["interval_start"], TIMESTAMP)
    lmp = pa.array(columns["lmp"], pa.float64())
    return pa.table(
        {
            "iso": [iso] * n,
            "market": ["RT5"] * n,
            "location": columns["location"],
            "location_type": ["hub"] * n,
            "interval_start": starts,
            "interval_end": pa.array([s + FIVE_MINUTES for s in columns["interval_start"]], TIMESTAMP),  # type: ignore[operator]
            "lmp": lmp,
            "energy": lmp,
            "congestion": [0.0] * n,
            "loss": [0.0] * n,
            "published_at": pa.nulls(n, TIMESTAMP),
        }
    )
