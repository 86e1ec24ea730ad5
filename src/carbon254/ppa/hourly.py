"""Hourly inputs and their calendar: validation, calendar months and contract anniversaries (UTC).

Every hourly series of the PPA domain is a NumPy array aligned on UTC hour
starts held as int64 microseconds since the epoch (as
`carbon254.scenarios.PricePaths.starts`). Starts must be whole hours and
strictly increasing; gaps are allowed (a missing hour simply settles nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from carbon254.ppa.errors import PpaError

Floats = npt.NDArray[np.float64]
Stamps = npt.NDArray[np.int64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

US_PER_HOUR = 3_600_000_000
US_PER_YEAR = 365.25 * 24 * US_PER_HOUR
HOURS_PER_YEAR = 8760.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_starts(starts: npt.ArrayLike, name: str = "starts") -> Stamps:
    """`starts` as int64 µs UTC, checked: at least one, whole hours, strictly increasing.

    Raises `PpaError` naming `name` and the first offending position.
    """
    stamps = np.asarray(starts)
    if stamps.ndim != 1 or len(stamps) == 0:
        raise PpaError(f"{name}: need a one-dimensional array of at least one hour start")
    if stamps.dtype.kind == "M":
        stamps = stamps.astype("datetime64[us]").astype(np.int64)
    if stamps.dtype.kind not in "iu":
        raise PpaError(f"{name}: expected int64 microseconds since the epoch, got dtype {stamps.dtype}")
    stamps = stamps.astype(np.int64, copy=False)
    off = np.flatnonzero(stamps % US_PER_HOUR)
    if len(off):
        raise PpaError(f"{name}: position {int(off[0])} ({_iso(int(stamps[off[0]]))}) is not on a whole hour")
    back = np.flatnonzero(np.diff(stamps) <= 0)
    if len(back):
        at = int(back[0]) + 1
        raise PpaError(f"{name}: position {at} ({_iso(int(stamps[at]))}) does not come after the one before")
    return stamps


def check_values(name: str, values: npt.ArrayLike, n: int, *, nonnegative: bool = False) -> Floats:
    """`values` as float64, checked: `n` of them, all finite (and >= 0 when `nonnegative`).

    Raises `PpaError` naming `name` and the first offending hour.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise PpaError(f"{name}: expected a one-dimensional array, got shape {array.shape}")
    if len(array) != n:
        raise PpaError(f"{name}: {len(array)} values for {n} hour starts")
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        raise PpaError(f"{name}: hour {int(bad[0])} is not a finite number ({array[bad[0]]})")
    if nonnegative:
        negative = np.flatnonzero(array < 0)
        if len(negative):
            at = int(negative[0])
            raise PpaError(f"{name}: hour {at} is negative ({array[at]:g}); volumes must be >= 0 MWh")
    return array


def check_hourly(
    starts: npt.ArrayLike, price: npt.ArrayLike, mwh: npt.ArrayLike
) -> tuple[Stamps, Floats, Floats]:
    """Validated (starts µs UTC, price $/MWh, mwh MWh per hour): equal lengths, finite, volume >= 0."""
    stamps = check_starts(starts)
    return (
        stamps,
        check_values("price", price, len(stamps)),
        check_values("mwh", mwh, len(stamps), nonnegative=True),
    )


@dataclass(frozen=True, slots=True)
class MonthGrid:
    """The calendar months (UTC) that a strictly increasing run of hour starts falls in.

    `first[i]` is the position of month i's first hour (for `np.add.reduceat`),
    `month_of_hour[h]` the month (0-based) of hour h, `month_start[i]` the
    month's first instant and `paid[i]` the first instant of the next month
    (µs UTC), when the month's cash is taken to be paid.
    """

    first: Ints
    month_of_hour: Ints
    month_start: Stamps
    paid: Stamps

    @staticmethod
    def of(starts: Stamps) -> MonthGrid:
        """The months of `starts` (validated hour starts, µs UTC)."""
        months = starts.astype("datetime64[us]").astype("datetime64[M]")
        change = np.flatnonzero(months[1:] != months[:-1]) + 1
        first = np.concatenate(([0], change)).astype(np.int64)
        month_of_hour = np.zeros(len(starts), dtype=np.int64)
        month_of_hour[change] = 1
        month_of_hour = np.cumsum(month_of_hour)
        opening = months[first]
        return MonthGrid(
            first=first,
            month_of_hour=month_of_hour,
            month_start=opening.astype("datetime64[us]").astype(np.int64),
            paid=(opening + np.timedelta64(1, "M")).astype("datetime64[us]").astype(np.int64),
        )

    def __len__(self) -> int:
        return len(self.first)

    def sums(self, values: npt.NDArray[np.floating]) -> Floats:
        """Sums of `values` (last axis: hours) per month, as float64."""
        return np.add.reduceat(values, self.first, axis=-1).astype(np.float64, copy=False)

    def hours(self) -> Ints:
        """Hours of each month present in the grid."""
        return np.diff(np.append(self.first, len(self.month_of_hour))).astype(np.int64)

    def years(self) -> tuple[Ints, Stamps]:
        """Each month's calendar-year index (0-based) and each year's first instant (µs UTC)."""
        year = self.month_start.astype("datetime64[us]").astype("datetime64[Y]")
        change = np.concatenate(([True], year[1:] != year[:-1]))
        index = (np.cumsum(change) - 1).astype(np.int64)
        return index, year[change].astype("datetime64[us]").astype(np.int64)


def to_micros(moment: datetime | date | int) -> int:
    """A moment as µs since the epoch (UTC): an int passes through, a date is its UTC midnight."""
    if isinstance(moment, bool):
        raise PpaError(f"moment: expected a datetime, date or µs integer, got {moment!r}")
    if isinstance(moment, int | np.integer):
        return int(moment)
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return (aware - _EPOCH) // timedelta(microseconds=1)
    return (datetime(moment.year, moment.month, moment.day, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


def anniversary_index(starts: Stamps, origin_us: int) -> Ints:
    """How many anniversaries of `origin_us` (µs UTC) each hour start has reached (0 in the first year).

    Anniversaries keep the month, day and time of the origin; one on 29
    February falls on the 28th in common years. Hours before the origin get -1.
    """
    origin = _EPOCH + timedelta(microseconds=origin_us)
    last = _EPOCH + timedelta(microseconds=int(starts[-1]))
    count = max(last.year - origin.year + 2, 1)
    marks = np.array([to_micros(_shift_years(origin, k)) for k in range(count)], dtype=np.int64)
    return (np.searchsorted(marks, starts, side="right") - 1).astype(np.int64)


def add_years_us(origin_us: int, years: int) -> int:
    """`origin_us` (µs UTC) moved on by whole calendar years (29 February falls on the 28th)."""
    return to_micros(_shift_years(_EPOCH + timedelta(microseconds=origin_us), years))


def _shift_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _iso(stamp_us: int) -> str:
    return (_EPOCH + timedelta(microseconds=stamp_us)).strftime("%Y-%m-%dT%H:%MZ")
