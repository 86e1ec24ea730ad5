"""Delivery hours of a period on an ISO's market clock, by month, base block and hour of day.

A forward's exposure is MW x hours, and the hours a month holds depend on
the market clock: DST days have 23 or 25 hours, NERC holidays no onpeak
hours. Counting real hour starts of the clock (as `carbon254.curves.hours`
does) gets both right. Base blocks are coded 0 onpeak, 1 2x16, 2 7x8;
months as `year * 12 + month - 1`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from carbon254.isos import iso_info
from carbon254.timeseries._clock import DAY, HOUR, clock_for
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

Codes = npt.NDArray[np.int64]

_EPOCH = date(1970, 1, 1)
_EPOCH_MONTH = 1970 * 12


def month_code(day: date) -> int:
    """`year * 12 + month - 1` of the month containing `day`."""
    return day.year * 12 + day.month - 1


def month_of(code: int) -> date:
    """The first day of the month coded `code`."""
    return date(code // 12, code % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Classified:
    """Interval starts classified on the market clock: month code, base block (0-2), hour of day (0-23)."""

    month: Codes
    base: Codes
    hour: Codes


def classify(iso: str, utc: Codes) -> Classified:
    """Month, base block and hour of day (hour-ending minus one) of UTC starts (µs) in `iso`'s market time."""
    zone = iso_info(iso).timezone
    local = clock_for(zone, utc).to_local(utc)
    month = (local // DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + _EPOCH_MONTH
    base = np.full(len(local), 2, dtype=np.int64)
    base[block_mask_local(local, Block.TWO_BY_16)] = 1
    base[block_mask_local(local, Block.ONPEAK)] = 0
    hour = (local // HOUR) % 24
    return Classified(month, base, hour)


@dataclass(frozen=True, slots=True)
class HourCounts:
    """Hours from `first_month` on: `counts[month, base block, hour of day]` (int64, market time)."""

    first_month: int
    counts: npt.NDArray[np.int64]


@lru_cache(maxsize=4096)
def hour_counts(iso: str, first_day: date, end_day: date) -> HourCounts:
    """Hours of each (month, base block, hour of day) in days `[first_day, end_day)` of `iso`'s market time.

    Empty (no months) when `end_day <= first_day`. Cached: a book has many
    positions over the same strips.
    """
    first_month = month_code(first_day)
    if end_day <= first_day:
        return HourCounts(first_month, np.zeros((0, 3, 24), dtype=np.int64))
    zone = iso_info(iso).timezone
    first, last = (first_day - _EPOCH).days, (end_day - _EPOCH).days
    clock = clock_for(zone, np.array([first * DAY - DAY, last * DAY + DAY], dtype=np.int64))
    lo, hi = clock.to_utc(np.array([first * DAY, last * DAY], dtype=np.int64))
    starts = clock.hour_starts(int(lo), int(hi))
    kinds = classify(iso, starts[starts < hi])
    months = month_code(end_day) - first_month + (end_day.day > 1)
    cell = ((kinds.month - first_month) * 3 + kinds.base) * 24 + kinds.hour
    counts = np.bincount(cell, minlength=months * 72).reshape(months, 3, 24).astype(np.int64)
    counts.setflags(write=False)  # shared through the cache
    return HourCounts(first_month, counts)
