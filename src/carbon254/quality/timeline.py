"""One market's stored intervals as per-location timelines: covered time, holes and overlaps.

Real-time intervals vary in length (NYISO's extra dispatch runs split a
5-minute interval in parts), so completeness is measured by the time the
stored intervals cover, never by counting rows. An interval that begins
before an earlier interval of its location has ended overlaps it: that time
would be counted twice, so it is counted once here and reported apart.

Times are whole seconds from an origin (the assessed window's start) in
int64, which keeps every sum exact; everything is vectorized (NumPy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

US = 1_000_000

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


NONE = np.iinfo(np.int64).min  # "no earlier interval"


@dataclass(frozen=True, slots=True)
class Timeline:
    """Stored intervals in seconds from the origin, sorted by location index then start.

    `loc` indexes the location names the timeline was built with;
    `previous` is the latest end of the earlier intervals of the same
    location (`NONE` for a location's first interval).
    """

    n_loc: int
    loc: I64
    start: I64
    end: I64
    previous: I64

    @property
    def overlaps(self) -> Bools:
        """The intervals that begin before an earlier interval of the same location has ended."""
        return np.asarray(self.start < self.previous, dtype=np.bool_)

    @property
    def fresh(self) -> I64:
        """Where the part of each interval that no earlier interval of its location covers begins."""
        return np.maximum(self.start, self.previous)

    def covered(self, lo: I64, hi: I64) -> I64:
        """Location-seconds covered by the intervals within each window [lo[i], hi[i]), each location once.

        The covered time up to t is, over the disjoint fresh parts [a, b),
        sum clip(t - a, 0, b - a) = sum_{a<t} (t - a) - sum_{b<t} (t - b),
        read off sorted prefix sums.
        """
        fresh = self.fresh
        keep = self.end > fresh
        a = np.sort(fresh[keep])
        b = np.sort(self.end[keep])
        sum_a = np.concatenate([[0], np.cumsum(a)])
        sum_b = np.concatenate([[0], np.cumsum(b)])

        def upto(t: I64) -> I64:
            na = np.searchsorted(a, t, side="left")
            nb = np.searchsorted(b, t, side="left")
            return np.asarray(na * t - sum_a[na] - (nb * t - sum_b[nb]), dtype=np.int64)

        return upto(hi) - upto(lo)

    def holes(self, lo: int, hi: int) -> tuple[I64, I64, I64]:
        """(location, start, end) of every span of [lo, hi) that no interval of that location covers.

        Sorted by location then start: the span before each location's first
        interval, between intervals that do not meet, after its last one, and
        the whole range for a location with no interval at all.
        """
        n = len(self.loc)
        last = np.ones(n, dtype=np.bool_)
        last[:-1] = self.loc[1:] != self.loc[:-1]
        covered_to = np.maximum(self.previous, lo)
        inner = self.start > covered_to
        tail_from = np.maximum(covered_to, self.end)
        tail = last & (tail_from < hi)
        present = np.zeros(self.n_loc, dtype=np.bool_)
        present[self.loc] = True
        absent = np.flatnonzero(~present).astype(np.int64)
        loc = np.concatenate([self.loc[inner], self.loc[tail], absent])
        h0 = np.concatenate([covered_to[inner], tail_from[tail], np.full(len(absent), lo, dtype=np.int64)])
        h1 = np.concatenate([self.start[inner], np.full(int(tail.sum()) + len(absent), hi, dtype=np.int64)])
        h0, h1 = np.clip(h0, lo, hi), np.clip(h1, lo, hi)
        order = np.lexsort((h0, loc))
        keep = (h1 > h0)[order]
        return loc[order][keep], h0[order][keep], h1[order][keep]


def timeline(coverage: pa.Table, names: pa.Array, origin_us: int) -> Timeline:
    """The timeline of `Store.coverage` rows whose location is among `names` (sorted), from `origin_us`.

    Start and end are whole seconds from `origin_us` (UTC microseconds);
    `duration_s` gives each interval's length. Rows of other locations are
    left out.
    """
    index = pc.fill_null(pc.index_in(coverage.column("location"), value_set=names), -1)
    loc = np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)
    starts_us = np.asarray(coverage.column("interval_start").cast(pa.int64()).to_numpy(), dtype=np.int64)
    start = (starts_us - origin_us) // US
    end = start + np.asarray(coverage.column("duration_s").to_numpy(), dtype=np.int64)
    known = loc >= 0
    if not known.all():
        loc, start, end = loc[known], start[known], end[known]
    # The store returns rows sorted by location and time; sort only when that order differs.
    step_loc, step_start = np.diff(loc), np.diff(start)
    if not np.all((step_loc > 0) | ((step_loc == 0) & (step_start >= 0))):
        order = np.lexsort((start, loc))
        loc, start, end = loc[order], start[order], end[order]
    return Timeline(n_loc=len(names), loc=loc, start=start, end=end, previous=_previous_end(loc, end))


def _previous_end(loc: I64, end: I64) -> I64:
    """The latest end of the earlier rows of the same location (`NONE` for a location's first row).

    One running maximum over all rows: each location's ends are lifted above
    every earlier location's (rows are sorted by location), so the maximum
    never carries over from one location to the next.
    """
    if len(end) == 0:
        return end.copy()
    low = int(end.min())
    span = int(end.max()) - low + 1
    lifted = loc * span + (end - low)
    running = np.maximum.accumulate(lifted)
    previous = np.empty_like(end)
    previous[0] = NONE
    previous[1:] = running[:-1] - loc[1:] * span + low
    first = np.ones(len(loc), dtype=np.bool_)
    first[1:] = loc[1:] != loc[:-1]
    previous[first] = NONE
    return previous
