"""When each simulated value would have been published, for point-in-time (`as_of`) queries.

Day-ahead results for an operating day (a local calendar day) come out around
noon local time the day before; the day-ahead load forecast a little earlier,
at 10:00, since the market clears on it. Real-time values are published when
their interval ends.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from carbon254.simulate.clock import local_time, local_wallclock_to_utc

IntArray = npt.NDArray[np.int64]

DAY_AHEAD_RESULTS_SECONDS = 12 * 3600
DAY_AHEAD_FORECAST_SECONDS = 10 * 3600


def day_ahead_published(interval_start_us: IntArray, timezone: str) -> IntArray:
    """UTC microseconds of noon local time on the day before each interval's local operating day."""
    operating_day = local_time(interval_start_us, timezone).local_day
    return local_wallclock_to_utc(operating_day - 1, DAY_AHEAD_RESULTS_SECONDS, timezone)


def day_ahead_forecast_issued(interval_start_us: IntArray, timezone: str) -> IntArray:
    """UTC microseconds of 10:00 local time on the day before each interval's local operating day."""
    operating_day = local_time(interval_start_us, timezone).local_day
    return local_wallclock_to_utc(operating_day - 1, DAY_AHEAD_FORECAST_SECONDS, timezone)
