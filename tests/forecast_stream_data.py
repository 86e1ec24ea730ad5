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
    prices: list[float] = []
    for n in range(len(locations)):
        prices += (
            (35 + 5 * n + 12 * np.sin(2 * np.pi * phase) + rng.normal(0, 1.5, intervals)).round(2).tolist()
        )
    return _rows(iso, [loc for loc in locations for _ in starts], starts * len(locations), prices)


def interval_rows(location: str, start: datetime, lmp: float, iso: str = "ERCOT") -> pa.Table:
    """One RT5 interval of one location at `lmp` ($/MWh)."""
    return _rows(iso, [location], [start], [lmp])


def _rows(iso: str, locations: list[str], starts: list[datetime], prices: list[float]) -> pa.Table:
    n = len(locations)
    lmp = pa.array(prices, pa.float64())
    return pa.table(
        {
            "iso": [iso] * n,
            "market": ["RT5"] * n,
            "location": locations,
            "location_type": ["hub"] * n,
            "interval_start": pa.array(starts, TIMESTAMP),
            "interval_end": pa.array([s + FIVE_MINUTES for s in starts], TIMESTAMP),
            "lmp": lmp,
            "energy": lmp,
            "congestion": [0.0] * n,
            "loss": [0.0] * n,
            "published_at": pa.nulls(n, TIMESTAMP),
        }
    )
