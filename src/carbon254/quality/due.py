"""When a market's intervals are due: real-time ones once they have ended, day-ahead ones once published.

An assessment must not count as missing what cannot exist yet. A real-time
interval exists once it has ended; a day-ahead market (or a load forecast)
posts a whole operating day at once, the day before, at about
`IsoInfo.da_publication` (local wall-clock time in the ISO's market time
zone). Times are UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from carbon254.isos import iso_info
from carbon254.quality.calendar import MarketDay
from carbon254.schema import Dataset, LoadKind, spec

DAY_AHEAD_PREFIX = "DAM"  # DAM, MISO's DAM_EXANTE, ERCOT's DAM_LMP by bus


def publishes_ahead(dataset: Dataset | str, market: str | None) -> bool:
    """Whether `market` of `dataset` posts each operating day whole, before the day starts.

    True for day-ahead markets (every market named `DAM...`) and for load
    forecasts (`load` kind `forecast`); real-time markets, actual load,
    capacity auctions and ORDC adders are due interval by interval.
    """
    if spec(dataset).name is Dataset.LOAD:
        return market == LoadKind.FORECAST.value
    return market is not None and market.startswith(DAY_AHEAD_PREFIX)


def publication_time(iso: str, day: date) -> datetime:
    """The UTC instant at which `iso` usually posts its day-ahead results for operating day `day`.

    `IsoInfo.da_publication` on the day before, in the ISO's market time
    (e.g. 13:30 ET for PJM: 17:30 or 18:30 UTC with daylight saving time or without).
    """
    info = iso_info(iso)
    local = datetime.combine(day - timedelta(days=1), info.da_publication, tzinfo=info.zoneinfo)
    return local.astimezone(UTC)


def due_until(
    iso: str, dataset: Dataset | str, market: str | None, day: MarketDay, now: datetime
) -> datetime:
    """The UTC instant up to which market day `day`'s intervals are due at `now` (`day.start` to `day.end`).

    A market that publishes ahead owes the whole day from its publication
    time on and nothing before; any other market owes the part of the day
    that has passed. Raises ValueError when `now` has no time zone.
    """
    if now.tzinfo is None:
        raise ValueError(f"now ({now.isoformat()}) has no time zone; pass a UTC-aware datetime")
    if publishes_ahead(dataset, market):
        return day.end if now >= publication_time(iso, day.day) else day.start
    return min(max(now, day.start), day.end)
