"""Block hours per delivery day in an ISO's market time, DST days and NERC holidays included.

The base blocks partition every day: onpeak (HE7-22 on business days),
2x16 (HE7-22 on weekends and NERC holidays) and 7x8 (HE1-6 and HE23-24
every day); offpeak is 2x16 + 7x8 and atc all three. Hours are the real
hours of the market clock, so the spring-forward day has 23 (HE3 is missing,
7x8 has 7) and the fall-back day 25 (HE2 happens twice, 7x8 has 9). The
classification is `carbon254.timeseries.blocks`, applied to the clock's hour
starts, so these counts agree with how prices are bucketed into blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from carbon254.isos import iso_info
from carbon254.timeseries._clock import DAY, clock_for
from carbon254.timeseries.blocks import block_mask_local
from carbon254.timeseries.periods import Block

Hours = npt.NDArray[np.int64]

_EPOCH = date(1970, 1, 1)

BASE_BLOCKS = (Block.ONPEAK, Block.TWO_BY_16, Block.SEVEN_BY_8)


def base_blocks_of(block: Block) -> tuple[Block, ...]:
    """The base blocks (onpeak, 2x16, 7x8) whose hours make up `block`."""
    if block is Block.OFFPEAK:
        return (Block.TWO_BY_16, Block.SEVEN_BY_8)
    if block is Block.ATC:
        return BASE_BLOCKS
    return (block,)


@dataclass(frozen=True, slots=True)
class DayHours:
    """Hours of each base block on each day from `start` (one entry per day, market time)."""

    start: date
    onpeak: Hours
    two_by_16: Hours
    seven_by_8: Hours

    def of(self, block: Block) -> Hours:
        """Hours of `block` on each day (sums of base blocks for offpeak and atc)."""
        parts = {
            Block.ONPEAK: self.onpeak,
            Block.TWO_BY_16: self.two_by_16,
            Block.SEVEN_BY_8: self.seven_by_8,
        }
        total = np.zeros(len(self.onpeak), dtype=np.int64)
        for base in base_blocks_of(block):
            total += parts[base]
        return total


def day_hours(iso: str, start: date, end: date) -> DayHours:
    """Hours of onpeak, 2x16 and 7x8 on each day of `[start, end)` in `iso`'s market time.

    Days are calendar days of the ISO's market zone (`iso_info(iso).timezone`);
    a day's hours are the market clock's real hours from its local midnight
    to the next (23 or 25 on DST days). NERC holidays have no onpeak hours
    and 16 2x16 hours. Vectorized: ten years of days take milliseconds.
    Raises ValueError if `end <= start` and KeyError for an unknown ISO.
    """
    if end <= start:
        raise ValueError(f"day range end {end} must be after its start {start}")
    zone = iso_info(iso).timezone
    first, last = (start - _EPOCH).days, (end - _EPOCH).days
    span = np.array([first * DAY - DAY, last * DAY + DAY], dtype=np.int64)
    clock = clock_for(zone, span)
    lo, hi = clock.to_utc(np.array([first * DAY, last * DAY], dtype=np.int64))
    starts = clock.hour_starts(int(lo), int(hi))
    starts = starts[starts < hi]
    local = clock.to_local(starts)
    day = local // DAY - first
    n = last - first

    def count(block: Block) -> Hours:
        inside = block_mask_local(local, block)
        return np.bincount(day[inside], minlength=n).astype(np.int64)

    return DayHours(start, count(Block.ONPEAK), count(Block.TWO_BY_16), count(Block.SEVEN_BY_8))


def daily_block_hours(iso: str, start: date, end: date, block: Block) -> Hours:
    """Hours of `block` on each day of `[start, end)` in `iso`'s market time (int64, one per day).

    onpeak, 2x16 and 7x8 partition each day; offpeak = 2x16 + 7x8 and
    atc = all (23 on the spring-forward day, 25 on the fall-back day).
    """
    return day_hours(iso, start, end).of(block)


def month_start_utc(iso: str, month: date) -> int:
    """The UTC instant (µs since the epoch) the month of `month` starts at in `iso`'s market time."""
    zone = ZoneInfo(iso_info(iso).timezone)
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    return int(start.timestamp()) * 1_000_000
