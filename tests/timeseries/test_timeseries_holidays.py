from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from carbon254.timeseries import nerc_holidays, nerc_holidays_between


def test_2024_matches_the_published_nerc_list() -> None:
    assert nerc_holidays(2024) == {
        date(2024, 1, 1),
        date(2024, 5, 27),
        date(2024, 7, 4),
        date(2024, 9, 2),
        date(2024, 11, 28),
        date(2024, 12, 25),
    }


@pytest.mark.parametrize(
    ("year", "observed", "not_observed"),
    [
        (2022, date(2022, 12, 26), date(2022, 12, 25)),  # Christmas on a Sunday
        (2021, date(2021, 7, 5), date(2021, 7, 4)),  # Independence Day on a Sunday
        (2023, date(2023, 1, 2), date(2023, 1, 1)),  # New Year's Day on a Sunday
        (2016, date(2016, 12, 26), date(2016, 12, 25)),
    ],
)
def test_sunday_holiday_moves_to_monday(year: int, observed: date, not_observed: date) -> None:
    assert not_observed.weekday() == 6 and observed.weekday() == 0
    holidays = nerc_holidays(year)
    assert observed in holidays
    assert not_observed not in holidays


@pytest.mark.parametrize(
    "saturday",
    [date(2020, 7, 4), date(2022, 1, 1), date(2021, 12, 25), date(2027, 12, 25)],
)
def test_saturday_holiday_has_no_substitute(saturday: date) -> None:
    assert saturday.weekday() == 5
    holidays = nerc_holidays(saturday.year)
    # Neither the Friday before (federal rule) nor the Monday after.
    assert saturday - timedelta(days=1) not in holidays
    assert saturday + timedelta(days=2) not in holidays
    assert saturday not in holidays
    assert len(holidays) == 5


def _reference(year: int) -> set[date]:
    """The NERC rules computed with pandas calendars."""
    may_mondays = pd.date_range(f"{year}-05-01", f"{year}-05-31", freq="W-MON")
    sept_mondays = pd.date_range(f"{year}-09-01", f"{year}-09-30", freq="W-MON")
    nov_thursdays = pd.date_range(f"{year}-11-01", f"{year}-11-30", freq="W-THU")
    found = {may_mondays[-1].date(), sept_mondays[0].date(), nov_thursdays[3].date()}
    for fixed in (pd.Timestamp(year, 1, 1), pd.Timestamp(year, 7, 4), pd.Timestamp(year, 12, 25)):
        if fixed.weekday() == 6:
            found.add((fixed + pd.Timedelta(days=1)).date())
        elif fixed.weekday() != 5:
            found.add(fixed.date())
    return found


@pytest.mark.parametrize("year", range(1990, 2061))
def test_every_year_follows_the_rules(year: int) -> None:
    holidays = nerc_holidays(year)
    assert holidays == _reference(year)
    # Observed holidays always fall on a weekday.
    assert all(d.weekday() < 5 for d in holidays)


def test_range_helper_is_the_sorted_union() -> None:
    span = nerc_holidays_between(2020, 2023)
    assert list(span) == sorted(set().union(*(_reference(y) for y in range(2020, 2024))))
    assert nerc_holidays_between(2024, 2023) == ()
