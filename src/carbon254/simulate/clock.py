"""UTC interval grids and the ISO-local calendar features that shape prices and load.

Intervals are laid on a UTC grid (hour, 5 minutes) and only then looked at in
local time, so a DST day simply has 23 or 25 local hours: nothing is ever
constructed from local wall-clock labels, and no interval is missing or doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR
FIVE_MINUTES = 5 * US_PER_MINUTE
INTERVALS_PER_HOUR = 12
INTERVALS_PER_DAY = 288

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a time-zone-aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass a UTC-aware datetime")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    """The UTC datetime `us` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=us)


def grid_count(start_us: int, end_us: int, step_us: int) -> int:
    """How many intervals of the UTC-aligned `step_us` grid start in [start_us, end_us)."""
    first = -(-start_us // step_us) * step_us
    return max(0, -(-(end_us - first) // step_us))


def hourly_mean(values: FloatArray) -> FloatArray:
    """Mean of each run of 12 five-minute values along the last axis (hour-aligned input)."""
    shape = values.shape
    hours = values.reshape(*shape[:-1], shape[-1] // INTERVALS_PER_HOUR, INTERVALS_PER_HOUR)
    return np.asarray(hours.mean(axis=-1))


@dataclass(frozen=True, slots=True)
class LocalTime:
    """Local calendar features of UTC instants, one value per instant.

    `hour` is the local clock hour with its fraction (14.5 = 14:30), `weekday`
    0 = Monday, `year_phase` the position in the year in radians (0 = Jan 1),
    `local_day` days since 1970-01-01 of the local date.
    """

    hour: FloatArray
    weekday: IntArray
    year_phase: FloatArray
    local_day: IntArray


def _utc_offsets_us(utc_us: IntArray, timezone: str) -> IntArray:
    """Local-minus-UTC offsets in microseconds, evaluated by Arrow's tz database."""
    stamps = pa.array(utc_us, type=pa.timestamp("us", tz=timezone))
    local = pc.local_timestamp(stamps).cast(pa.int64()).to_numpy()
    return np.asarray(local - utc_us, dtype=np.int64)


def local_time(utc_us: IntArray, timezone: str) -> LocalTime:
    """Local hour, weekday, phase of year and local date of UTC instants in `timezone`."""
    local_us = utc_us + _utc_offsets_us(utc_us, timezone)
    local_day = local_us // US_PER_DAY
    hour = (local_us - local_day * US_PER_DAY) / US_PER_HOUR
    # 1970-01-01 was a Thursday.
    weekday = (local_day + 3) % 7
    year_phase = 2.0 * np.pi * ((local_day + hour / 24.0) % 365.2425) / 365.2425
    # The modulo above drifts from calendar Jan 1 by under a day per century,
    # negligible for a seasonal shape.
    return LocalTime(hour=hour, weekday=weekday.astype(np.int64), year_phase=year_phase, local_day=local_day)


def local_wallclock_to_utc(local_day: IntArray, seconds_of_day: int, timezone: str) -> IntArray:
    """UTC microseconds of the local wall-clock time `seconds_of_day` on each local day.

    Used for publication times (noon, 10:00), which never fall in a DST gap or
    overlap, so the conversion is unambiguous.
    """
    days, inverse = np.unique(local_day, return_inverse=True)
    naive = days * US_PER_DAY + seconds_of_day * US_PER_SECOND
    utc = pc.assume_timezone(pa.array(naive, type=pa.timestamp("us")), timezone=timezone)
    converted = np.asarray(utc.cast(pa.int64()).to_numpy(), dtype=np.int64)
    return np.asarray(converted[inverse], dtype=np.int64)
