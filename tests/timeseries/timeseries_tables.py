"""Builders of canonical tables for the timeseries tests (imported by the test modules).

Expected values in these tests come from pandas and zoneinfo, never from the
functions under test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from carbon254.schema import LMP_SCHEMA

UTC_TS = pa.timestamp("us", "UTC")

MARKET_ZONES = {
    "PJM": "America/New_York",
    "NYISO": "America/New_York",
    "ERCOT": "America/Chicago",
    "MISO": "Etc/GMT+5",
}

# NERC holidays of the years the tests use, written out by hand.
NERC_HOLIDAYS = {
    date(2023, 12, 25),
    date(2024, 1, 1),
    date(2024, 5, 27),
    date(2024, 7, 4),
    date(2024, 9, 2),
    date(2024, 11, 28),
    date(2024, 12, 25),
    date(2025, 1, 1),
    date(2025, 5, 26),
}


def pandas_in_block(times: pd.Series, iso: str, block: str) -> np.ndarray:
    """Whether each UTC time falls in `block`, by the hour-ending of its market-clock hour, in pandas."""
    market = times.dt.tz_convert(MARKET_ZONES[iso])
    peak = (market.dt.hour + 1).between(7, 22)
    business = (market.dt.day_of_week < 5) & ~market.dt.date.isin(NERC_HOLIDAYS)
    keep = {
        "onpeak": peak & business,
        "offpeak": ~(peak & business),
        "2x16": peak & ~business,
        "7x8": ~peak,
        "atc": peak | ~peak,
    }[block]
    return np.asarray(keep, dtype=bool)


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


def lmp_intervals(
    intervals: Sequence[tuple[str, str, float]],
    *,
    iso: str = "NYISO",
    market: str = "RT5",
    location: str = "N.Y.C.",
) -> pa.Table:
    """An lmp table of one location from explicit (start, end, lmp) rows, times read as UTC.

    energy is lmp - 1; congestion and loss are 0.5.
    """
    starts = pd.DatetimeIndex([pd.Timestamp(s, tz="UTC") for s, _, _ in intervals])
    ends = pd.DatetimeIndex([pd.Timestamp(e, tz="UTC") for _, e, _ in intervals])
    prices = np.array([p for _, _, p in intervals], dtype=np.float64)
    frame = pd.DataFrame(
        {
            "iso": iso,
            "market": market,
            "location": location,
            "location_type": "zone",
            "interval_start": starts,
            "interval_end": ends,
            "lmp": prices,
            "energy": prices - 1.0,
            "congestion": 0.5,
            "loss": 0.5,
            "published_at": starts,
            "ingested_at": starts,
        }
    )
    return pa.Table.from_pandas(frame, schema=LMP_SCHEMA, preserve_index=False)
