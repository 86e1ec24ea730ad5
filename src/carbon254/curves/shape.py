"""Hourly shape factors: how a month's price is spread over its hours, learned from a price history.

A shape cell is (month of year, day type, hour-ending) on the ISO's market
clock: 12 x 3 x 24. Day types follow "holidays as weekends": business days,
Saturdays, and Sundays or NERC holidays (a holiday on a weekday takes the
Sunday profile). Hours are placed by their local hour-ending, so on a
fall-back day both 01:00 hours count in HE2 and a spring-forward day simply
has no HE3.

Each cell carries two forms of the same shape, both relative to the month of
year's all-hours (ATC) mean price: a multiplicative `factor` (cell mean /
month mean) and an additive `offset` (cell mean - month mean, $/MWh).
Normalising by the whole month rather than by each block keeps the relation
between blocks inside the shape: a curve quoting only onpeak and offpeak
still gets weekend days priced above nights within its offpeak block,
because the HPFC rescales each (month, block) of the curve and so only the
relative size of factors inside a block matters. The HPFC uses the factors
(prices scale with the level of the forward month, which is how intraday
spreads behave) unless the month's historical mean is below
`MIN_MULTIPLICATIVE_MEAN` or the forward price is not positive, where a ratio
would explode or flip the shape; it then falls back to the offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.isos import iso_info
from carbon254.timeseries._clock import EPOCH_WEEKDAY, HOUR, SECOND, Micros, clock_for, utc_micros
from carbon254.timeseries.holidays import nerc_holidays_between

Prices = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]

MONTHS = 12
DAY_TYPES = 3
HOURS_PER_DAY = 24
CELLS = MONTHS * DAY_TYPES * HOURS_PER_DAY

# Below this all-hours mean ($/MWh) a month's factors would divide by a number
# dominated by noise (or flip sign), so the month is shaped additively.
MIN_MULTIPLICATIVE_MEAN = 5.0

# Spikes are clipped to these percentiles of each calendar month before
# averaging, so one scarcity hour does not shape every future year.
WINSOR_LOW, WINSOR_HIGH = 1.0, 99.0

_EPOCH_MONTH = np.datetime64("1970-01", "M")


class HistoryError(ValueError):
    """A price history table that cannot be used: names the column or row at fault."""


class DayType(IntEnum):
    """The three day profiles of a shape (holidays as weekends)."""

    BUSINESS_DAY = 0
    SATURDAY = 1
    SUNDAY_OR_HOLIDAY = 2


@dataclass(frozen=True, slots=True)
class HourlyHistory:
    """A price series averaged into hours: UTC hour starts (int64 microseconds, ascending) and $/MWh."""

    starts: Micros
    prices: Prices


@dataclass(frozen=True, slots=True)
class HourCalendar:
    """Where hours fall on an ISO's market clock (all arrays aligned with the hours given).

    `local` are wall-clock microseconds; `day` local days since 1970-01-01;
    `month` local months since 1970-01 (so `month % 12` is the month of year,
    0 = January); `hour_ending` 0..23 for HE1..HE24; `day_type` a `DayType`.
    """

    local: Micros
    day: Index
    month: Index
    hour_ending: Index
    day_type: Index

    @property
    def month_of_year(self) -> Index:
        """0 = January .. 11 = December."""
        return self.month % MONTHS

    @property
    def cell(self) -> Index:
        """Flat index into a (12, 3, 24) shape array."""
        return (self.month_of_year * DAY_TYPES + self.day_type) * HOURS_PER_DAY + self.hour_ending


@dataclass(frozen=True, slots=True)
class ShapeFactors:
    """Hourly shape of one ISO location by month of year x day type x hour-ending.

    `factors[m, d, h]` is the mean price of the cell over the month's mean
    price (dimensionless); `offsets[m, d, h]` the same as a difference
    ($/MWh). `multiplicative[m]` says whether month m's factors are usable
    (its mean price was at least `MIN_MULTIPLICATIVE_MEAN`). `counts` are the
    history hours behind each cell; `fallback_months` (1 = January) had no
    history and carry the mean profile of the other months. `first_hour` and
    `last_hour` are the UTC starts of the first and last history hours, and
    `hours` how many hours were used (None/None/0 for a flat shape).
    """

    iso: str
    factors: Prices
    offsets: Prices
    multiplicative: npt.NDArray[np.bool_]
    counts: Index
    fallback_months: tuple[int, ...]
    first_hour: datetime | None
    last_hour: datetime | None
    hours: int

    def __post_init__(self) -> None:
        cube = (MONTHS, DAY_TYPES, HOURS_PER_DAY)
        for name, array in (("factors", self.factors), ("offsets", self.offsets), ("counts", self.counts)):
            if array.shape != cube:
                raise ValueError(f"shape {name} must be {cube}, got {array.shape}")
        if self.multiplicative.shape != (MONTHS,):
            raise ValueError(f"shape multiplicative must have 12 months, got {self.multiplicative.shape}")
        if not (np.isfinite(self.factors).all() and np.isfinite(self.offsets).all()):
            raise ValueError("shape factors and offsets must be finite")


def flat_shape(iso: str) -> ShapeFactors:
    """A shape that spreads each block price evenly over its hours (factors 1, offsets 0 $/MWh)."""
    iso_info(iso)  # an unknown ISO fails here, not when the HPFC is built
    cube = (MONTHS, DAY_TYPES, HOURS_PER_DAY)
    return ShapeFactors(
        iso=iso.upper(),
        factors=np.ones(cube),
        offsets=np.zeros(cube),
        multiplicative=np.ones(MONTHS, dtype=np.bool_),
        counts=np.zeros(cube, dtype=np.int64),
        fallback_months=(),
        first_hour=None,
        last_hour=None,
        hours=0,
    )


def _column(table: pa.Table, name: str) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise HistoryError(f"history has no {name!r} column (columns: {', '.join(table.column_names)})")
    return table.column(name)


def hourly_history(history: pa.Table) -> HourlyHistory:
    """Average a price history ($/MWh per interval) into UTC hours, weighting intervals by duration.

    `history` needs `interval_start` (zone-aware timestamp) and `lmp`
    (float, $/MWh); `interval_end` is used for durations when present,
    otherwise an interval lasts until the next one starts (at most to the
    end of its hour; the last lasts the series' typical step). Each interval
    counts in the hour it starts in. Rows with a null start or a missing or
    non-finite price are skipped. The market clocks of the ISOs differ from
    UTC by whole hours, so UTC hours are market hours. Raises HistoryError for
    a missing column, a duplicate interval start, a non-positive duration or
    an empty history.
    """
    starts, valid = utc_micros(_column(history, "interval_start"), "interval_start")
    lmp_column = _column(history, "lmp")
    if not (pa.types.is_floating(lmp_column.type) or pa.types.is_integer(lmp_column.type)):
        raise HistoryError(f"history lmp must be numeric, got {lmp_column.type}")
    lmp = np.asarray(pc.fill_null(lmp_column.cast(pa.float64()), np.nan), dtype=np.float64)
    keep = np.isfinite(lmp) if valid is None else valid & np.isfinite(lmp)
    ends: Micros | None = None
    if "interval_end" in history.column_names:
        ends = utc_micros(history.column("interval_end"), "interval_end")[0][keep]
    rows = np.flatnonzero(keep)
    starts, lmp = starts[keep], lmp[keep]
    if len(starts) == 0:
        raise HistoryError("history has no priced intervals")
    order = np.argsort(starts, kind="stable")
    starts, lmp, rows = starts[order], lmp[order], rows[order]
    repeated = np.flatnonzero(np.diff(starts) == 0)
    if len(repeated):
        raise HistoryError(f"history row {int(rows[repeated[0] + 1])}: duplicate interval_start")
    hour_end = (starts // HOUR + 1) * HOUR
    if ends is not None:
        weight = ends[order] - starts
    else:
        gaps = np.diff(starts)
        typical = int(np.median(gaps)) if len(gaps) else HOUR
        following = np.append(starts[1:], starts[-1] + typical)
        weight = np.minimum(following, hour_end) - starts
    bad = np.flatnonzero(weight <= 0)
    if len(bad):
        raise HistoryError(f"history row {int(rows[bad[0]])}: interval_end is not after interval_start")
    hour = starts // HOUR
    first_of_hour = np.flatnonzero(np.diff(hour, prepend=hour[0] - 1))
    weight_f = weight.astype(np.float64)
    total = np.add.reduceat(weight_f, first_of_hour)
    priced = np.add.reduceat(weight_f * lmp, first_of_hour)
    return HourlyHistory(starts=hour[first_of_hour] * HOUR, prices=priced / total)


def hour_calendar(starts: Micros, iso: str) -> HourCalendar:
    """Place UTC hour starts (int64 microseconds) on `iso`'s market clock: day, month, HE, day type."""
    zone = iso_info(iso).timezone
    local = clock_for(zone, starts).to_local(starts)
    local_hour = local // HOUR
    day = local_hour // HOURS_PER_DAY
    month = (day.astype("datetime64[D]").astype("datetime64[M]") - _EPOCH_MONTH).astype(np.int64)
    weekday = (day + EPOCH_WEEKDAY) % 7
    day_type = np.where(weekday == 5, DayType.SATURDAY, DayType.BUSINESS_DAY).astype(np.int64)
    day_type[weekday == 6] = DayType.SUNDAY_OR_HOLIDAY
    if len(day):
        first_year = int(str(day.min().astype("datetime64[D]").astype("datetime64[Y]")))
        last_year = int(str(day.max().astype("datetime64[D]").astype("datetime64[Y]")))
        holidays = np.array(nerc_holidays_between(first_year, last_year), dtype="datetime64[D]")
        day_type[np.isin(day, holidays.astype(np.int64))] = DayType.SUNDAY_OR_HOLIDAY
    return HourCalendar(
        local=local, day=day, month=month, hour_ending=local_hour % HOURS_PER_DAY, day_type=day_type
    )


def winsorize_by_month(prices: Prices, month: Index) -> Prices:
    """Clip each calendar month's prices ($/MWh) to its 1st..99th percentile, taming scarcity spikes."""
    clipped = prices.copy()
    for value in np.unique(month):  # one pass per calendar month of history: ~120 for ten years
        at = month == value
        low, high = np.percentile(prices[at], [WINSOR_LOW, WINSOR_HIGH])
        clipped[at] = np.clip(prices[at], low, high)
    return clipped


def _utc(micros: int) -> datetime:
    return datetime.fromtimestamp(micros // SECOND, UTC)


def estimate_shape(history: pa.Table, *, iso: str) -> ShapeFactors:
    """Estimate hourly shape factors from a price history of one location and market.

    `history` has `interval_start` (UTC) and `lmp` ($/MWh) rows at any
    interval length; they are first averaged into hours (see
    `hourly_history`), then clipped per calendar month to the 1st/99th
    percentile, then pooled by month of year x day type x hour-ending on
    `iso`'s market clock. A factor is the cell's mean price over the month
    of year's mean price; an offset their difference ($/MWh). A cell with no
    hours, and every cell of a month with no history, takes the mean of that
    (day type, hour-ending) over the months that have it; a profile never
    seen at all stays flat. Raises HistoryError for an unusable table and
    KeyError for an unknown ISO.
    """
    hourly = hourly_history(history)
    calendar = hour_calendar(hourly.starts, iso)
    prices = winsorize_by_month(hourly.prices, calendar.month)
    moy = calendar.month_of_year
    month_hours = np.bincount(moy, minlength=MONTHS)
    month_mean = np.bincount(moy, prices, minlength=MONTHS) / np.maximum(month_hours, 1)
    counts = np.bincount(calendar.cell, minlength=CELLS).reshape(MONTHS, DAY_TYPES, HOURS_PER_DAY)
    sums = np.bincount(calendar.cell, prices, minlength=CELLS).reshape(counts.shape)
    seen = counts > 0
    cell_mean = np.divide(sums, counts, out=np.zeros(counts.shape), where=seen)
    has_history = month_hours > 0
    multiplicative = has_history & (month_mean >= MIN_MULTIPLICATIVE_MEAN)
    offsets = np.where(seen, cell_mean - month_mean[:, None, None], 0.0)
    ratio_months = multiplicative[:, None, None] & seen
    factors = np.divide(cell_mean, month_mean[:, None, None], out=np.ones(counts.shape), where=ratio_months)
    factors = _fill_unseen(factors, ratio_months, neutral=1.0)
    offsets = _fill_unseen(offsets, seen, neutral=0.0)
    missing = ~has_history
    # A month without history borrows the others' profile; it is a ratio profile if any month had one.
    multiplicative[missing] = bool(multiplicative.any())
    return ShapeFactors(
        iso=iso.upper(),
        factors=factors,
        offsets=offsets,
        multiplicative=multiplicative,
        counts=counts,
        fallback_months=tuple(int(m) + 1 for m in np.flatnonzero(missing)),
        first_hour=_utc(int(hourly.starts[0])),
        last_hour=_utc(int(hourly.starts[-1])),
        hours=len(hourly.starts),
    )


def _fill_unseen(values: Prices, seen: npt.NDArray[np.bool_], *, neutral: float) -> Prices:
    """Cells not `seen` take the mean over months of their (day type, hour-ending); else `neutral`."""
    months_seen = seen.sum(axis=0)
    profile = np.divide(
        np.where(seen, values, 0.0).sum(axis=0),
        months_seen,
        out=np.full(months_seen.shape, neutral),
        where=months_seen > 0,
    )
    return np.where(seen, values, profile[None, :, :])
