"""Delivery-block classification of intervals (onpeak, offpeak, 2x16, 7x8, atc).

Blocks are defined on the ISO's market clock, so an interval is classified by
its start converted to that clock. Hour-ending (HE) is the local hour plus one:
the 07:00-08:00 hour is HE8, and a 5-minute interval starting 06:55 is HE7.
On a fall-back day the repeated 01:00 hour is HE2 twice, so 7x8 has nine
hours that day; on a spring-forward day HE3 does not exist and 7x8 has seven.
Resampling measures instead how much of each interval lies in the block's
hours (`block_time`), which is the same for intervals that stay within an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pyarrow as pa

from carbon254.isos import iso_info
from carbon254.timeseries._clock import (
    EPOCH_WEEKDAY,
    HOUR,
    Mask,
    Micros,
    ZoneClock,
    clock_for,
    segment_of,
    utc_micros,
)
from carbon254.timeseries.holidays import nerc_holidays_between
from carbon254.timeseries.periods import Block

# Local hours 6..21 are HE7..HE22, the 16 peak hours of a day.
_FIRST_PEAK_HOUR = 6
_LAST_PEAK_HOUR = 21
_EPOCH = date(1970, 1, 1)


@lru_cache(maxsize=256)
def _hour_table(block: Block, first_day: int, last_day: int) -> Mask:
    """Block membership of every local hour from `first_day` to `last_day` (days since 1970-01-01).

    Deciding per calendar hour once and then indexing by each interval's
    local hour costs one gather per row instead of a dozen array passes.
    """
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    first_year = (_EPOCH + timedelta(days=first_day)).year
    last_year = (_EPOCH + timedelta(days=last_day)).year
    holidays = np.array(
        [(d - _EPOCH).days for d in nerc_holidays_between(first_year, last_year)], dtype=np.int64
    )
    business_day = ((days + EPOCH_WEEKDAY) % 7 < 5) & ~np.isin(days, holidays)
    hour = np.arange(24)
    peak_hour = (hour >= _FIRST_PEAK_HOUR) & (hour <= _LAST_PEAK_HOUR)
    onpeak = business_day[:, None] & peak_hour[None, :]
    if block is Block.ONPEAK:
        table = onpeak
    elif block is Block.OFFPEAK:
        table = ~onpeak
    elif block is Block.TWO_BY_16:
        table = ~business_day[:, None] & peak_hour[None, :]
    elif block is Block.SEVEN_BY_8:
        table = np.broadcast_to(~peak_hour[None, :], onpeak.shape)
    else:
        table = np.ones(onpeak.shape, dtype=np.bool_)
    flat: Mask = np.ascontiguousarray(table).reshape(-1)
    flat.setflags(write=False)  # shared through the cache
    return flat


def block_mask_local(local: Micros, block: Block) -> Mask:
    """`block` membership of interval starts given as wall-clock microseconds of the ISO's market zone."""
    if block is Block.ATC or len(local) == 0:
        return np.ones(len(local), dtype=np.bool_)
    local_hour = local // HOUR
    first_day = int(local_hour.min()) // 24
    last_day = int(local_hour.max()) // 24
    return _hour_table(block, first_day, last_day)[local_hour - first_day * 24]


@dataclass(frozen=True, slots=True)
class BlockTime:
    """Time inside a delivery block, accumulated hour by hour over a UTC span.

    `starts` are the UTC starts of the market clock's hours in the span and
    the end of the last one; `inside` says which of those hours belong to the
    block; `before[i]` is the block's microseconds from `starts[0]` to
    `starts[i]`.
    """

    starts: Micros
    inside: Mask
    before: Micros

    def until(self, utc: Micros) -> Micros:
        """Microseconds of the block from the span's start to each UTC instant (inside the span)."""
        hour = segment_of(self.starts, utc)
        return self.before[hour] + np.where(self.inside[hour], utc - self.starts[hour], 0)

    def within(self, start: Micros, end: Micros) -> Micros:
        """Microseconds of the block in each UTC interval [start, end) (inside the span)."""
        first = segment_of(self.starts, start)
        if np.array_equal(first, segment_of(self.starts, end - 1)):
            # Every interval within one hour (the usual case): all of it or none.
            return np.where(self.inside[first], end - start, 0)
        return self.until(end) - self.until(start)


def block_time(clock: ZoneClock, block: Block, lo: int, hi: int) -> BlockTime:
    """The hours of `block` on the market `clock` between UTC microseconds `lo` and `hi`.

    An hour belongs to the block by its hour-ending on the market clock, as
    in `block_mask_local`, so the block part of any span inside [lo, hi] is
    exact to the microsecond even when the span starts or ends mid-hour.
    """
    starts = clock.hour_starts(lo - HOUR, hi + HOUR)
    # The last start only closes the hour before it; it stands for no hour of its own.
    inside = np.append(block_mask_local(clock.to_local(starts[:-1]), block), False)
    before = np.concatenate([[0], np.cumsum(np.diff(starts) * inside[:-1])]).astype(np.int64)
    return BlockTime(starts=starts, inside=inside, before=before)


def block_mask_micros(utc: Micros, zone: str, block: Block) -> Mask:
    """`block` membership of interval starts given as UTC microseconds, on `zone`'s wall clock."""
    if block is Block.ATC:
        return np.ones(len(utc), dtype=np.bool_)
    return block_mask_local(clock_for(zone, utc).to_local(utc), block)


def block_mask(interval_start: pa.Array | pa.ChunkedArray, iso: str, block: Block | str) -> pa.Array:
    """True for each interval that belongs to `block` in `iso`'s market time.

    `interval_start` is a zone-aware timestamp (UTC). onpeak: HE7-HE22 on
    Monday-Friday except NERC holidays; 2x16: HE7-HE22 on weekends and NERC
    holidays; 7x8: HE1-HE6 and HE23-HE24 every day; offpeak: not onpeak; atc:
    every interval. Intervals of any length up to an hour are classified by
    their start. A null start belongs to no block. Raises KeyError for an
    unknown ISO and ValueError for an unknown block or a naive timestamp.
    """
    block = Block(block)
    zone = iso_info(iso).timezone
    utc, valid = utc_micros(interval_start, "interval_start")
    mask = block_mask_micros(utc, zone, block)
    if valid is not None:
        mask &= valid
    return pa.array(mask, type=pa.bool_())
