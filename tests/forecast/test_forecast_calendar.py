"""Weekdays and US holidays computed in code."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from carbon254.forecast import ForecastError, is_holiday, us_holidays, weekday


def test_weekday_counts_from_monday() -> None:
    days = np.array(["2024-01-01", "2024-01-06", "2024-01-07", "1970-01-01"], dtype="datetime64[D]")
    assert weekday(days).tolist() == [0, 5, 6, 3]
    assert [date.fromisoformat(str(d)).weekday() for d in days] == weekday(days).tolist()


def test_nerc_holidays_move_sunday_to_monday_and_keep_six_days() -> None:
    assert us_holidays(2024, "nerc") == {
        date(2024, 1, 1),
        date(2024, 5, 27),
        date(2024, 7, 4),
        date(2024, 9, 2),
        date(2024, 11, 28),
        date(2024, 12, 25),
    }
    # Christmas 2022 was a Sunday: observed Monday the 26th.
    assert date(2022, 12, 26) in us_holidays(2022, "nerc")
    assert date(2022, 12, 25) not in us_holidays(2022, "nerc")


def test_federal_holidays_add_the_other_days_and_move_saturday_to_friday() -> None:
    federal = us_holidays(2022, "federal")
    assert {date(2022, 1, 17), date(2022, 2, 21), date(2022, 6, 20), date(2022, 10, 10)} <= federal
    assert date(2022, 11, 11) in federal and date(2022, 12, 26) in federal
    # New Year's Day 2022 was a Saturday: observed Friday 2021-12-31, which belongs to 2021.
    assert date(2021, 12, 31) in us_holidays(2021, "federal")
    assert date(2021, 12, 31) not in federal and date(2022, 1, 1) not in federal
    assert date(2020, 6, 19) not in us_holidays(2020, "federal")  # before Juneteenth was a holiday


def test_is_holiday_marks_the_days_of_an_array_across_years() -> None:
    days = np.array(["2023-12-25", "2023-12-26", "2024-07-04", "2024-07-05"], dtype="datetime64[D]")
    assert is_holiday(days).tolist() == [True, False, True, False]
    with pytest.raises(ForecastError, match="calendar: 'ercot' is not one of nerc, federal"):
        is_holiday(days, "ercot")
