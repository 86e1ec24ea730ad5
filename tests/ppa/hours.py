"""Hour starts for the PPA tests (µs UTC), built from readable times."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

US_PER_HOUR = 3_600_000_000
Stamps = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def us(text: str) -> int:
    """µs since the epoch of an ISO time read as UTC, e.g. "2024-03-01T05:00"."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000


def hours(first: str, count: int) -> Stamps:
    """`count` consecutive hour starts from `first` (UTC)."""
    return us(first) + np.arange(count, dtype=np.int64) * US_PER_HOUR


def years(first_year: int, count: int) -> Stamps:
    """Every hour start of `count` calendar years (UTC) from 1 January of `first_year`."""
    begin, end = us(f"{first_year}-01-01T00:00"), us(f"{first_year + count}-01-01T00:00")
    return np.arange(begin, end, US_PER_HOUR, dtype=np.int64)
