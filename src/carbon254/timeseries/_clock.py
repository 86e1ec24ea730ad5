"""Vectorized UTC <-> wall-clock conversion on int64 microseconds.

Polars and Arrow convert time zones element by element through a tz database
lookup, which costs more than the rest of a presentation step put together.
A zone's UTC offset is piecewise constant, so per zone and span of years we
find its transitions once (cached) and then convert any number of instants
with one `searchsorted`. Transitions are located to the second, so zones whose
changes do not fall on whole UTC hours (St. John's, Lord Howe) are right too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

Micros = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

SECOND = 1_000_000
HOUR = 3600 * SECOND
DAY = 24 * HOUR

# 1970-01-01 was a Thursday; with Monday = 0 the weekday of day d is (d + 3) % 7.
EPOCH_WEEKDAY = 3

_BEFORE_EVERYTHING = np.iinfo(np.int64).min


def _offsets_polars(zone: str, utc: Micros) -> Micros:
    instants = pl.Series(values=utc, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))
    wall = instants.dt.convert_time_zone(zone).dt.replace_time_zone(None).cast(pl.Int64).to_numpy()
    return np.asarray(wall - utc, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class ZoneClock:
    """UTC offsets of one zone over a span of years.

    `offsets[i]` applies from UTC instant `starts[i]` (inclusive) until the next
    start; `starts[0]` is the smallest int64 so every instant in the span has
    an offset. `step` divides the hour and every offset (an hour for zones
    with whole-hour offsets, half an hour for St. John's), so every instant
    at which the wall clock shows a whole hour is a multiple of `step`.
    """

    starts: Micros
    offsets: Micros
    step: int

    def offsets_at(self, utc: Micros) -> Micros:
        if len(self.offsets) == 1:
            return np.full(len(utc), self.offsets[0], dtype=np.int64)
        return self.offsets[np.searchsorted(self.starts, utc, side="right") - 1]

    def to_local(self, utc: Micros) -> Micros:
        """Wall-clock microseconds (as if the wall clock were UTC) of UTC instants."""
        return utc + self.offsets_at(utc) if len(self.offsets) > 1 else utc + int(self.offsets[0])

    def to_utc(self, local: Micros) -> Micros:
        """UTC instants of wall-clock times.

        A time the clock shows twice (fall-back) maps to the earlier instant; a
        time it skips (spring-forward) maps to the first instant after the gap,
        which is where a day or month starting in the gap really begins.
        """
        if len(self.offsets) == 1:
            return local - int(self.offsets[0])
        distinct = np.unique(self.offsets)
        best = np.full(len(local), np.iinfo(np.int64).max, dtype=np.int64)
        for offset in distinct:  # a handful of offsets per zone, not per row
            candidate = local - offset
            genuine = self.offsets_at(candidate) == offset
            best = np.where(genuine & (candidate < best), candidate, best)
        skipped = best == np.iinfo(np.int64).max
        if skipped.any():
            latest = local[skipped] - distinct.min()
            best[skipped] = self.starts[np.searchsorted(self.starts, latest, side="right") - 1]
        return best

    def hour_starts(self, lo: int, hi: int) -> Micros:
        """Sorted UTC instants in [lo, hi] where a wall-clock hour begins.

        That is wherever the wall clock shows a whole hour, and wherever the
        offset changes: a clock change starts a new hour even off the whole
        hour (Lord Howe's half-hour shift), and the repeated hour at
        fall-back begins twice. Consecutive starts delimit the zone's hours,
        none longer than an hour.
        """
        # Every whole wall-clock hour falls on a multiple of `step` in UTC.
        first = -(-lo // self.step) * self.step
        grid = np.arange(first, hi + 1, self.step, dtype=np.int64)
        whole = grid[self.to_local(grid) % HOUR == 0]
        changes = self.starts[1:]
        changes = changes[(changes >= lo) & (changes <= hi)]
        at = np.searchsorted(whole, changes)
        off_the_hour = whole[np.minimum(at, len(whole) - 1)] != changes
        return np.insert(whole, at[off_the_hour], changes[off_the_hour])


def segment_of(bounds: Micros, utc: Micros) -> Micros:
    """For sorted UTC `bounds`, the i with bounds[i] <= t < bounds[i + 1] for each instant t.

    Instants must lie in [bounds[0], bounds[-1]]. Evenly spaced bounds (the
    hours of any zone whose clocks change on the hour, the days of a zone
    without DST) are located by arithmetic, several times cheaper than a
    binary search.
    """
    widths = np.diff(bounds)
    if len(widths) and (widths == widths[0]).all():
        return (utc - int(bounds[0])) // int(widths[0])
    return np.searchsorted(bounds, utc, side="right") - 1


@lru_cache(maxsize=128)
def zone_clock(zone: str, first_year: int, last_year: int) -> ZoneClock:
    """The offsets of `zone` from 1 January `first_year` to 1 January `last_year + 1` (UTC)."""
    begin = int(datetime(first_year, 1, 1, tzinfo=UTC).timestamp()) * SECOND
    end = int(datetime(last_year + 1, 1, 1, tzinfo=UTC).timestamp()) * SECOND
    probes = np.arange(begin, end + HOUR, HOUR, dtype=np.int64)
    offsets = _offsets_polars(zone, probes)
    changed = np.flatnonzero(offsets[1:] != offsets[:-1])
    # Bisect every transition at once between the last probe before it and
    # the first after it, down to a second.
    low, high, after = probes[changed], probes[changed + 1], offsets[changed + 1]
    while len(low) and (high - low > SECOND).any():
        mid = low + (high - low) // 2 // SECOND * SECOND
        moved = _offsets_polars(zone, mid) == after
        high = np.where(moved, mid, high)
        low = np.where(moved, low, mid)
    starts = np.concatenate([np.array([_BEFORE_EVERYTHING], dtype=np.int64), high])
    all_offsets = np.concatenate([offsets[:1], after]).astype(np.int64)
    step = math.gcd(HOUR, *(int(o) for o in np.unique(all_offsets)))
    for shared in (starts, all_offsets):  # handed out by the cache to every caller
        shared.setflags(write=False)
    return ZoneClock(starts=starts, offsets=all_offsets, step=step)


def clock_for(zone: str, utc: Micros) -> ZoneClock:
    """The cached clock of `zone` covering `utc` with a year to spare either side.

    The spare year covers local dates that straddle New Year and bucket ends
    that fall in the following year.
    """
    if len(utc) == 0:
        return zone_clock(zone, 1970, 1970)
    first = datetime.fromtimestamp(int(utc.min()) // SECOND, UTC).year
    last = datetime.fromtimestamp(int(utc.max()) // SECOND, UTC).year
    return zone_clock(zone, first - 1, last + 1)


def utc_micros(column: pa.Array | pa.ChunkedArray, name: str) -> tuple[Micros, Mask | None]:
    """A zone-aware timestamp column as UTC microseconds, plus its validity mask when it has nulls.

    Raises ValueError for a non-timestamp or a naive timestamp: a naive time
    could be UTC or local, and guessing would shift every block by hours.
    """
    kind = column.type
    if not pa.types.is_timestamp(kind):
        raise ValueError(f"{name} must be a timestamp, got {kind}")
    if kind.tz is None:
        raise ValueError(f"{name} has no time zone; canonical timestamps are UTC-aware")
    if kind.unit != "us":
        column = column.cast(pa.timestamp("us", kind.tz), safe=False)
    if not column.null_count:
        return np.asarray(column.cast(pa.int64()), dtype=np.int64), None
    valid = np.asarray(pc.is_valid(column), dtype=np.bool_)
    # A copy: Arrow may hand out a read-only view, and the nulls are overwritten below.
    ints = np.asarray(pc.fill_null(column.cast(pa.int64()), 0), dtype=np.int64).copy()
    # Stand-ins for nulls stay inside the column's span, so the zone tables
    # built for it do not stretch back to 1970.
    if valid.any():
        ints[~valid] = ints[valid][0]
    return ints, valid
