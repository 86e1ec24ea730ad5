"""Hand-built canonical tables for store tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from carbon254.schema import TIMESTAMP


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def lmp_table(
    locations: Sequence[str],
    start: datetime,
    hours: int,
    *,
    iso: str = "ERCOT",
    market: str = "DAM",
    step: timedelta = timedelta(hours=1),
    base: float = 30.0,
    published_at: datetime | None = None,
    location_type: str = "node",
) -> pa.Table:
    """`hours` intervals of `step` per location with lmp = energy + congestion + loss exactly.

    The energy price rises by $1 every interval so tests can tell intervals apart.
    """
    n_loc = len(locations)
    first = np.datetime64(start.replace(tzinfo=None), "us")
    starts = first + np.arange(hours) * np.timedelta64(step)
    energy = np.round(base + np.arange(hours, dtype=float), 2)
    congestion = np.round(np.linspace(-2.0, 2.0, n_loc), 2)
    loss = 0.25
    n = n_loc * hours
    e = np.tile(energy, n_loc)
    c = np.repeat(congestion, hours)
    return pa.table(
        {
            "iso": [iso] * n,
            "market": [market] * n,
            "location": np.repeat(np.array(list(locations), dtype=object), hours),
            "location_type": [location_type] * n,
            "interval_start": pa.array(np.tile(starts, n_loc)).cast(TIMESTAMP),
            "interval_end": pa.array(np.tile(starts + np.timedelta64(step), n_loc)).cast(TIMESTAMP),
            "lmp": np.round(e + c + loss, 2),
            "energy": e,
            "congestion": c,
            "loss": np.full(n, loss),
            "published_at": pa.array([published_at] * n, TIMESTAMP),
        }
    )
