"""Hourly prices on a day-by-24-hour grid, and the slice of it that is known when a day is forecast.

Day-ahead markets clear a whole delivery day at once, so the forecasting
models work on days: `prices[d, h]` is the price ($/MWh) of hour-of-day
slot `h` (0 = the hour starting at local midnight) on delivery day `d`.
Exogenous series (load forecasts in MW, anything a user uploads) sit beside
on the same grid. A `History` is what is known when day `d` is forecast:
prices of the days before it and exogenous day-ahead forecasts up to and
including it. Models only ever see a `History`, which is how no forecast
can look at the prices it is forecasting.

Real markets have 23- and 25-hour days at the DST changes. `from_hourly`
puts them on the 24-slot grid the literature uses: a missing slot (the
spring-forward hour, or a gap of at most `MAX_FILLED_PER_DAY` hours) is
filled by linear interpolation and marked unobserved, so features can use it
but metrics never score it; a slot given twice (the fall-back hour) holds
the mean of its values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import polars as pl

from carbon254.forecast.errors import ForecastError

Floats = npt.NDArray[np.float64]
Days = npt.NDArray[np.datetime64]
Mask = npt.NDArray[np.bool_]

HOURS = 24
MAX_FILLED_PER_DAY = 3


def _consecutive(days: Days, what: str) -> None:
    if len(days) > 1 and not (np.diff(days.astype(np.int64)) == 1).all():
        at = int(np.argmax(np.diff(days.astype(np.int64)) != 1)) + 1
        raise ForecastError(f"{what}: day {days[at]} does not follow {days[at - 1]} (a day is missing)")


@dataclass(frozen=True, slots=True)
class DayAheadData:
    """Hourly prices ($/MWh) and exogenous series on consecutive local delivery days, 24 slots each.

    `days` (n,) are consecutive dates (datetime64[D]); `prices` (n, 24);
    `exogenous` (k, n, 24) holds the k series named by `exogenous_names`
    (units their own: MW for load forecasts), each value known before its
    day (a day-ahead forecast); `observed` (n, 24) is False where a price
    was filled in (a DST or data gap) rather than published. Validated on
    construction.
    """

    days: Days
    prices: Floats
    exogenous: Floats
    exogenous_names: tuple[str, ...]
    observed: Mask

    def __post_init__(self) -> None:
        n = len(self.days)
        if n == 0:
            raise ForecastError("days: need at least one day")
        if self.prices.shape != (n, HOURS):
            raise ForecastError(f"prices: shape {self.prices.shape}, expected ({n}, {HOURS})")
        k = len(self.exogenous_names)
        if self.exogenous.shape != (k, n, HOURS):
            raise ForecastError(f"exogenous: shape {self.exogenous.shape}, expected ({k}, {n}, {HOURS})")
        if len(set(self.exogenous_names)) != k:
            raise ForecastError(f"exogenous_names: a name is given twice ({', '.join(self.exogenous_names)})")
        if self.observed.shape != (n, HOURS):
            raise ForecastError(f"observed: shape {self.observed.shape}, expected ({n}, {HOURS})")
        _consecutive(self.days, "days")
        if not np.isfinite(self.prices).all():
            bad = np.argwhere(~np.isfinite(self.prices))[0]
            raise ForecastError(f"prices: {self.days[bad[0]]} hour {bad[1]} is not a finite price")
        if k and not np.isfinite(self.exogenous).all():
            e, d, h = np.argwhere(~np.isfinite(self.exogenous))[0]
            name = self.exogenous_names[e]
            raise ForecastError(f"exogenous {name}: {self.days[d]} hour {h} is not a finite number")

    @classmethod
    def from_days(
        cls,
        first_day: date | str,
        prices: Floats,
        exogenous: Mapping[str, Floats] | None = None,
    ) -> DayAheadData:
        """Prices (n, 24) $/MWh from `first_day` on, exogenous series by name (each (n, 24)); all observed."""
        p = np.asarray(prices, dtype=np.float64)
        if p.ndim != 2:
            raise ForecastError(f"prices: need a (days, 24) array, got {p.ndim} dimensions")
        names = tuple(exogenous or {})
        series = [np.asarray(v, dtype=np.float64) for v in (exogenous or {}).values()]
        stacked = np.stack(series) if names else None
        n = len(p)
        days = np.datetime64(first_day, "D") + np.arange(n)
        exog = stacked if stacked is not None else np.zeros((0, n, HOURS))
        return cls(days, p, exog, names, np.ones(p.shape, dtype=bool))

    def __len__(self) -> int:
        return len(self.days)

    def index_of(self, day: date | str) -> int:
        """The position of a delivery date in `days`; `ForecastError` when it is outside them."""
        d = np.datetime64(day, "D")
        i = int((d - self.days[0]).astype(np.int64))
        if not 0 <= i < len(self.days):
            raise ForecastError(f"day: {d} is outside the data ({self.days[0]} to {self.days[-1]})")
        return i

    def known_at(self, d: int) -> History:
        """What is known when day index `d` is forecast: prices of days before it, exogenous up to it."""
        if not 0 <= d < len(self.days):
            raise ForecastError(f"day index: {d} is outside 0..{len(self.days) - 1}")
        return History(self.days[: d + 1], self.prices[:d], self.exogenous[:, : d + 1], self.exogenous_names)

    def window(self, first: int, stop: int) -> DayAheadData:
        """Days `first` to `stop` (exclusive) of this data."""
        return DayAheadData(
            self.days[first:stop],
            self.prices[first:stop],
            self.exogenous[:, first:stop],
            self.exogenous_names,
            self.observed[first:stop],
        )


@dataclass(frozen=True, slots=True)
class History:
    """What is known when `target_day` (the last of `days`) is forecast.

    `days` (n + 1,) runs up to and including the target day; `prices`
    (n, 24) $/MWh are the days before it only; `exogenous` (k, n + 1, 24)
    includes the target day (day-ahead forecasts are published before it).
    """

    days: Days
    prices: Floats
    exogenous: Floats
    exogenous_names: tuple[str, ...]

    @property
    def target_day(self) -> np.datetime64:
        """The delivery day to forecast."""
        return np.datetime64(self.days[-1], "D")

    @property
    def n_days(self) -> int:
        """The number of days with known prices (the target day's index)."""
        return len(self.prices)

    def truncated(self, n: int) -> History:
        """What was known `n` days of prices in: the history of day index `n` (n <= n_days)."""
        if not 0 <= n <= self.n_days:
            raise ForecastError(f"history: cannot cut {self.n_days} days of prices at {n}")
        return History(self.days[: n + 1], self.prices[:n], self.exogenous[:, : n + 1], self.exogenous_names)

    def latest(self, n: int) -> History:
        """The last `n` days of prices (fewer if fewer), with their exogenous values and the target day."""
        first = max(0, self.n_days - n)
        return History(
            self.days[first:], self.prices[first:], self.exogenous[:, first:], self.exogenous_names
        )


def from_hourly(
    local_day: Days,
    local_hour: npt.NDArray[np.int64],
    prices: Floats,
    exogenous: Mapping[str, Floats] | None = None,
) -> DayAheadData:
    """Hourly rows labelled by local delivery date and hour (0-23) on the day-by-24-slot grid.

    `prices` $/MWh, and each exogenous series, one value per row. Rows may
    come in any order. A slot given twice (the DST fall-back hour, or
    sub-hourly rows) takes the mean of its values; a missing slot
    (spring-forward, or a short gap of at most `MAX_FILLED_PER_DAY` hours in
    a day) is linearly interpolated along the hourly series and marked
    unobserved. A first or last day with fewer hours (a file that starts or
    ends mid-day in this time zone) is left out. Raises `ForecastError` for
    a missing day, an hour outside 0-23 or a day with too many gaps.
    """
    if not (len(local_day) == len(local_hour) == len(prices)):
        raise ForecastError("local_day/local_hour/prices: one value per row each")
    if len(prices) == 0:
        raise ForecastError("prices: no rows")
    if exogenous is not None and any(len(v) != len(prices) for v in exogenous.values()):
        raise ForecastError("exogenous: one value per row of each series")
    hours = np.asarray(local_hour, dtype=np.int64)
    if hours.min() < 0 or hours.max() >= HOURS:
        raise ForecastError(f"local_hour: {int(hours[(hours < 0) | (hours >= HOURS)][0])} is outside 0-23")
    days = np.asarray(local_day).astype("datetime64[D]")
    values = np.asarray(prices, dtype=np.float64)
    series = {name: np.asarray(v, dtype=np.float64) for name, v in (exogenous or {}).items()}
    keep = _without_partial_edges(days, hours)
    if not keep.all():
        days, hours, values = days[keep], hours[keep], values[keep]
        series = {name: v[keep] for name, v in series.items()}
    first = days.min()
    index = (days - first).astype(np.int64)
    n = int(index.max()) + 1
    seen = np.zeros(n, dtype=bool)
    seen[index] = True
    if not seen.all():
        raise ForecastError(f"interval_start: no rows on {first + int(np.argmin(seen))} (a day is missing)")
    cell = index * HOURS + hours
    names = tuple(series)
    price_grid, observed = _grid("prices", values, cell, first, n)
    exog = np.zeros((0, n, HOURS))
    if names:
        exog = np.stack([_grid(f"exogenous {name}", v, cell, first, n)[0] for name, v in series.items()])
    return DayAheadData(first + np.arange(n), price_grid, exog, names, observed)


def from_utc(
    interval_start_us: npt.NDArray[np.int64],
    prices: Floats,
    tz: str,
    exogenous: Mapping[str, Floats] | None = None,
) -> DayAheadData:
    """Hourly rows stamped in UTC (µs since the epoch, the canonical `interval_start`) on the day grid of
    the market clock `tz` (IANA, e.g. America/Chicago), DST days handled as `from_hourly` says.

    Raises `ForecastError` for an unknown zone or what `from_hourly` refuses.
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ForecastError(f"tz: {tz!r} is not an IANA time zone") from None
    stamps = pl.Series("t", np.asarray(interval_start_us, dtype=np.int64)).cast(pl.Datetime("us", "UTC"))
    local = stamps.dt.convert_time_zone(zone.key)
    day = local.dt.date().to_numpy().astype("datetime64[D]")
    hour = local.dt.hour().to_numpy().astype(np.int64)
    return from_hourly(day, hour, prices, exogenous)


def _without_partial_edges(days: Days, hours: npt.NDArray[np.int64]) -> Mask:
    """Rows outside a leading or trailing day that has too few hours to fill in."""
    first = days.min()
    index = (days - first).astype(np.int64)
    n = int(index.max()) + 1
    present = np.zeros(n * HOURS, dtype=bool)
    present[index * HOURS + hours] = True
    complete = present.reshape(n, HOURS).sum(axis=1) >= HOURS - MAX_FILLED_PER_DAY
    if not complete.any():
        return np.ones(len(days), dtype=bool)
    lo = int(np.argmax(complete))
    hi = n - int(np.argmax(complete[::-1]))
    kept: Mask = (index >= lo) & (index < hi)
    return kept


def _grid(
    what: str,
    values: Floats,
    cell: npt.NDArray[np.int64],
    first: np.datetime64,
    n: int,
) -> tuple[Floats, Mask]:
    """Each cell's mean value and whether it had one; empty cells interpolated along the hourly sequence.

    A row whose value is NaN (an empty field) is a gap like a missing row.
    """
    if len(values) != len(cell):
        raise ForecastError(f"{what}: {len(values)} values for {len(cell)} rows")
    finite = np.isfinite(values)
    sums = np.bincount(cell[finite], weights=values[finite], minlength=n * HOURS)
    valid = np.bincount(cell[finite], minlength=n * HOURS)
    has = valid > 0
    gaps = (~has).reshape(n, HOURS).sum(axis=1)
    if (gaps > MAX_FILLED_PER_DAY).any():
        bad = int(np.argmax(gaps > MAX_FILLED_PER_DAY))
        raise ForecastError(
            f"{what}: {first + bad} has values for only {HOURS - gaps[bad]} of {HOURS} hours "
            f"(at most {MAX_FILLED_PER_DAY} may be filled in)"
        )
    flat = np.zeros(n * HOURS)
    flat[has] = sums[has] / valid[has]
    positions = np.arange(n * HOURS)
    flat[~has] = np.interp(positions[~has], positions[has], flat[has])
    return flat.reshape(n, HOURS), has.reshape(n, HOURS)
