"""Builders of canonical tables for the timeseries tests (imported by the test modules).

Expected values in these tests come from pandas and zoneinfo, never from the
functions under test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from carbon254.schema import LMP_SCHEMA

UTC_TS = pa.timestamp("us", "UTC")


def hourly_utc(start: str, end: str, freq: str = "1h") -> pd.DatetimeIndex:
    """UTC interval starts in [start, end), both read as UTC."""
    return pd.date_range(
        pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"), freq=freq, inclusive="left"
    )


def lmp_table(
    starts: pd.DatetimeIndex,
    locations: Sequence[str] = ("HUB",),
    *,
    iso: str = "PJM",
    market: str = "DAM",
    lmp: Callable[[int, np.ndarray], np.ndarray] | None = None,
) -> pa.Table:
    """An lmp table sorted by location then time; lmp defaults to the row's position in its location."""
    step = starts[1] - starts[0] if len(starts) > 1 else pd.Timedelta(hours=1)
    frames = []
    for i, loc in enumerate(locations):
        base = np.arange(len(starts), dtype=np.float64)
        price = lmp(i, base) if lmp else base + 1000.0 * i
        frames.append(
            pd.DataFrame(
                {
                    "iso": iso,
                    "market": market,
                    "location": loc,
                    "location_type": "hub" if i == 0 else "node",
                    "interval_start": starts,
                    "interval_end": starts + step,
                    "lmp": price,
                    "energy": price - 1.0,
                    "congestion": 0.5,
                    "loss": 0.5,
                    "published_at": starts - pd.Timedelta(hours=12),
                    "ingested_at": starts - pd.Timedelta(hours=11),
                }
            )
        )
    return pa.Table.from_pandas(pd.concat(frames, ignore_index=True), schema=LMP_SCHEMA, preserve_index=False)


def utc_of(column: pa.ChunkedArray | pa.Array) -> pd.Series:
    """A timestamp column as tz-aware pandas in UTC, whatever zone label it carries."""
    return pd.Series(column.to_pandas()).dt.tz_convert("UTC").reset_index(drop=True)


def local_of(column: pa.ChunkedArray | pa.Array, zone: str) -> pd.Series:
    """A timestamp column as pandas wall-clock times of `zone`."""
    return utc_of(column).dt.tz_convert(zone)
