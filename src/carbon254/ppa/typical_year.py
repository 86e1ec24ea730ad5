"""Laying a typical year (8,760 hourly values) onto real hours, whatever their year."""

from __future__ import annotations

import numpy as np

from carbon254.ppa.hourly import US_PER_HOUR, Ints, Stamps

HOURS_TYPICAL = 8760


def typical_hour(starts: Stamps, utc_offset_hours: int = 0) -> Ints:
    """The hour of a 365-day typical year (0..8759) each hour start (µs UTC) falls in.

    The typical year's clock is UTC + `utc_offset_hours` (an 8,760 shape in
    local standard time, e.g. -6 for US Central). In leap years 29 February
    repeats the 28th and later days keep their calendar dates.
    """
    local = starts.astype("datetime64[us]") + np.timedelta64(utc_offset_hours * US_PER_HOUR, "us")
    days = local.astype("datetime64[D]")
    years = days.astype("datetime64[Y]")
    day_of_year = (days - years.astype("datetime64[D]")).astype(np.int64)
    year_number = years.astype(np.int64) + 1970
    leap = (year_number % 4 == 0) & ((year_number % 100 != 0) | (year_number % 400 == 0))
    # Day 59 of a leap year is 29 February: it reuses the 28th (58), and the days after move back one.
    shifted = np.where(leap & (day_of_year >= 59), day_of_year - 1, day_of_year)
    hour = ((local - days).astype("timedelta64[h]")).astype(np.int64)
    return np.asarray(shifted * 24 + hour, dtype=np.int64)
