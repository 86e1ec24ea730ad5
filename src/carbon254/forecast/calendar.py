"""Calendar facts for day-ahead features: weekdays and the US holidays that reshape load, computed in code.

Days are `numpy.datetime64[D]` delivery dates in the market's local time.
Two holiday calendars: `nerc` (the six NERC off-peak holidays, as
`carbon254.timeseries.holidays` computes them for the delivery blocks: a
Sunday holiday is observed on the Monday, a Saturday one not at all) and
`federal` (the US federal holidays, with Juneteenth from 2021; Saturday
holidays observed on the Friday, Sunday ones on the Monday, as OPM observes
them). No download: the rules are the code.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from functools import cache

import numpy as np
import numpy.typing as npt

from carbon254.forecast.errors import ForecastError
from carbon254.timeseries.holidays import nerc_holidays

Days = npt.NDArray[np.datetime64]


class HolidayCalendar(StrEnum):
    """Which holidays count: the six NERC off-peak days, or the US federal holidays."""

    NERC = "nerc"
    FEDERAL = "federal"


def weekday(days: Days) -> npt.NDArray[np.int64]:
    """Monday = 0 ... Sunday = 6 of each date (the epoch, 1970-01-01, was a Thursday)."""
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7


def _nth_weekday(year: int, month: int, wd: int, n: int) -> date:
    """The `n`-th (1-based; -1 = last) weekday `wd` (Monday = 0) of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(wd - first.weekday()) % 7 + 7 * (n - 1))
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - wd) % 7)


def _observed(day: date) -> date:
    """The federal observance: Sunday moves to Monday, Saturday to Friday."""
    if day.weekday() == 6:
        return day + timedelta(days=1)
    if day.weekday() == 5:
        return day - timedelta(days=1)
    return day


@cache
def _holidays(year: int, calendar: HolidayCalendar) -> frozenset[date]:
    if calendar is HolidayCalendar.NERC:
        return nerc_holidays(year)
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 12, 25)]
    moving = [
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    ]
    fixed.append(date(year, 11, 11))  # Veterans Day
    if year >= 2021:
        fixed.append(date(year, 6, 19))  # Juneteenth
    moving += [
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
    ]
    observed = {_observed(d) for d in fixed}
    # New Year's Day on a Saturday is observed on the Friday before, in the previous year.
    if _observed(date(year + 1, 1, 1)).year == year:
        observed.add(date(year, 12, 31))
    observed.discard(date(year - 1, 12, 31))
    return frozenset(observed | set(moving))


def us_holidays(year: int, calendar: HolidayCalendar | str = HolidayCalendar.NERC) -> frozenset[date]:
    """The observed holidays of `year` in `calendar` (`nerc` or `federal`), as dates."""
    try:
        chosen = HolidayCalendar(calendar)
    except ValueError:
        raise ForecastError(f"calendar: {calendar!r} is not one of nerc, federal") from None
    if not 1900 <= year <= 2200:
        raise ForecastError(f"year: {year} is outside 1900-2200")
    return _holidays(year, chosen)


def is_holiday(days: Days, calendar: HolidayCalendar | str = HolidayCalendar.NERC) -> npt.NDArray[np.bool_]:
    """Whether each date is an observed holiday of `calendar` (`nerc` or `federal`)."""
    as_days = days.astype("datetime64[D]")
    if len(as_days) == 0:
        return np.zeros(0, dtype=bool)
    years = as_days.astype("datetime64[Y]").astype(np.int64) + 1970
    marked: list[np.datetime64] = []
    for year in range(int(years.min()), int(years.max()) + 1):
        marked += [np.datetime64(d, "D") for d in us_holidays(year, calendar)]
    return np.isin(as_days, np.array(marked, dtype="datetime64[D]"))
