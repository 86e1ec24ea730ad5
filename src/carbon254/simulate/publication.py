"""When each simulated value would have been published, for point-in-time (`as_of`) queries.

Day-ahead results for an operating day (a local calendar day) come out the day
before at the ISO's usual publication time (`IsoInfo.da_publication`: 13:30
Eastern for PJM, 11:00 for NYISO, ...), all of the day's hours at once: LMPs,
ancillary prices and the day-ahead load forecast the market cleared on. That
forecast is issued earlier, at 10:00 local, before the market closes, and
published with the results. Real-time values are published when their interval
ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from carbon254.isos import ISOS, Iso
from carbon254.simulate.clock import local_time, local_wallclock_to_utc

IntArray = npt.NDArray[np.int64]

DAY_AHEAD_FORECAST_ISSUED = time(10, 0)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def day_ahead_published(interval_start_us: IntArray, iso: Iso) -> IntArray:
    """UTC microseconds at which the day-ahead results for each interval's operating day were published.

    That is `iso`'s day-ahead publication time, local wall clock, on the day
    before the interval's local operating day.
    """
    info = ISOS[iso]
    operating_day = local_time(interval_start_us, info.timezone).local_day
    return local_wallclock_to_utc(operating_day - 1, _seconds(info.da_publication), info.timezone)


def day_ahead_forecast_issued(interval_start_us: IntArray, iso: Iso) -> IntArray:
    """UTC microseconds of 10:00 local time on the day before each interval's local operating day."""
    info = ISOS[iso]
    operating_day = local_time(interval_start_us, info.timezone).local_day
    return local_wallclock_to_utc(operating_day - 1, _seconds(DAY_AHEAD_FORECAST_ISSUED), info.timezone)


def day_ahead_known_until(iso: Iso, moment: datetime) -> datetime:
    """End (UTC) of the last operating day whose day-ahead results `iso` has published by `moment`.

    Before the day's publication time that is the end of today (local), from
    it on the end of tomorrow. `moment` must be timezone-aware.
    """
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; pass a UTC-aware datetime")
    info = ISOS[iso]
    zone = info.zoneinfo
    local = moment.astimezone(zone)
    published_today = datetime.combine(local.date(), info.da_publication, zone)
    last_day = local.date() + timedelta(days=1 if local >= published_today else 0)
    # Local midnight is never in a DST gap or overlap in these zones.
    return datetime.combine(last_day + timedelta(days=1), time(0), zone).astimezone(UTC)
