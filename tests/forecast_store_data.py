"""Stored prices with known structure for the forecast surfaces: DAM days published the day before, RT5.

Day-ahead: 30 $/MWh + an evening-peaking daily shape + a weekend discount
+ an AR(1) daily level + small hourly noise, on ERCOT's clock (DST days
included), each delivery day published at 12:00 market time the day
before, as ERCOT's day-ahead market does. Real time: five-minute prices
around the same shape with AR(1) noise and, twice a day, a short spike.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from carbon254.schema import TIMESTAMP

ISO = "ERCOT"
HUB = "HB_HOUSTON"
ZONE = ZoneInfo("America/Chicago")
PUBLISHED = time(12)


def _shape(hour: np.ndarray) -> np.ndarray:
    return 8.0 * np.sin((hour - 9.0) / 24.0 * 2 * np.pi) + 6.0 * np.exp(-((hour - 18.0) ** 2) / 6.0)


def lmp_rows(
    location: str, market: str, starts_us: np.ndarray, prices: np.ndarray, published: np.ndarray, step_s: int
) -> pa.Table:
    """Canonical LMP rows of one location (µs UTC starts, $/MWh, publication instants µs UTC)."""
    n = len(starts_us)
    starts = pa.array(starts_us, pa.int64()).cast(TIMESTAMP)
    return pa.table(
        {
            "iso": [ISO] * n,
            "market": [market] * n,
            "location": [location] * n,
            "location_type": ["hub"] * n,
            "interval_start": starts,
            "interval_end": pa.array(starts_us + step_s * 1_000_000, pa.int64()).cast(TIMESTAMP),
            "lmp": prices,
            "energy": prices - 0.5,
            "congestion": np.full(n, 0.25),
            "loss": np.full(n, 0.25),
            "published_at": pa.array(published, pa.int64()).cast(TIMESTAMP),
        }
    )


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def dayahead_table(first: date, days: int, seed: int = 7) -> pa.Table:
    """`days` delivery days of HB_HOUSTON DAM prices from `first`, each published at noon the day before."""
    rng = np.random.default_rng(seed)
    level = 0.0
    starts, prices, published = [], [], []
    for d in range(days):
        day = first + timedelta(days=d)
        level = 0.7 * level + rng.normal(0, 2.0)
        weekend = -5.0 if day.weekday() >= 5 else 0.0
        midnight = datetime.combine(day, time(0), ZONE).astimezone(UTC)
        following = datetime.combine(day + timedelta(days=1), time(0), ZONE).astimezone(UTC)
        release = _micros(datetime.combine(day - timedelta(days=1), PUBLISHED, ZONE))
        moment = midnight
        while moment < following:
            hour = moment.astimezone(ZONE).hour
            starts.append(_micros(moment))
            prices.append(30.0 + _shape(np.array(hour)) + weekend + level + rng.normal(0, 0.8))
            published.append(release)
            moment += timedelta(hours=1)
    return lmp_rows(HUB, "DAM", np.array(starts), np.array(prices, dtype=float), np.array(published), 3600)


def realtime_table(end: datetime, days: int, seed: int = 11) -> pa.Table:
    """`days` days of HB_HOUSTON RT5 prices up to `end` (UTC, on a five-minute boundary), each published
    the moment its interval ends."""
    rng = np.random.default_rng(seed)
    n = days * 288
    first = _micros(end) - n * 300_000_000
    starts = first + np.arange(n, dtype=np.int64) * 300_000_000
    hours = ((starts // 3_600_000_000) - 6) % 24 + (starts % 3_600_000_000) / 3_600_000_000
    noise = np.zeros(n)
    for i in range(1, n):
        noise[i] = 0.9 * noise[i - 1] + rng.normal(0, 1.5)
    spikes = np.where(rng.random(n) < 2 / 288, rng.uniform(50, 150, n), 0.0)
    prices = 28.0 + _shape(hours) + noise + spikes
    return lmp_rows(HUB, "RT5", starts, prices, starts + 300_000_000, 300)
