"""NERC holidays: the days the power industry trades as off-peak all day.

NERC observes six holidays. When a fixed-date holiday falls on a Sunday the
following Monday is observed instead; when it falls on a Saturday nothing is
substituted (unlike the federal calendar, which moves it to Friday). The
floating holidays always fall on a Monday or Thursday, so the rule only ever
moves New Year's Day, Independence Day and Christmas Day.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

_MONDAY, _THURSDAY, _SATURDAY, _SUNDAY = 0, 3, 5, 6


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last = next_month - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    return day + timedelta(days=1) if day.weekday() == _SUNDAY else day


@lru_cache(maxsize=256)
def nerc_holidays(year: int) -> frozenset[date]:
    """The NERC holidays observed in `year` (local calendar dates, no time zone).

    New Year's Day, Memorial Day (last Monday of May), Independence Day, Labor
    Day (first Monday of September), Thanksgiving (fourth Thursday of November)
    and Christmas Day. A Sunday holiday is observed on the Monday after; a
    Saturday one is not observed at all, so it is absent from the set (the day
    is off-peak anyway as a weekend, and Friday stays a business day).
    """
    fixed = (date(year, 1, 1), date(year, 7, 4), date(year, 12, 25))
    observed = {_observed(d) for d in fixed if d.weekday() != _SATURDAY}
    observed |= {
        _last_weekday(year, 5, _MONDAY),
        _nth_weekday(year, 9, _MONDAY, 1),
        _nth_weekday(year, 11, _THURSDAY, 4),
    }
    return frozenset(observed)


@lru_cache(maxsize=64)
def nerc_holidays_between(first_year: int, last_year: int) -> tuple[date, ...]:
    """Every NERC holiday of the years `first_year`..`last_year` inclusive, ascending.

    Cached, so the block classifier pays for a span of years once.
    """
    if last_year < first_year:
        return ()
    return tuple(sorted(d for y in range(first_year, last_year + 1) for d in nerc_holidays(y)))
