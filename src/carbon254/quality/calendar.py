"""Market days: an ISO's local calendar days as UTC half-open ranges.

A market day runs from local midnight to the next local midnight in the
ISO's market time zone (`IsoInfo.timezone`), so it lasts 23 hours on the
spring-forward day and 25 on the fall-back day in ISOs on prevailing time,
and always 24 hours in MISO (fixed Eastern Standard Time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carbon254.isos import iso_info

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class MarketDay:
    """One market day: its local date and its UTC bounds [start, end)."""

    day: date
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        """Length of the day in seconds (82,800, 86,400 or 90,000)."""
        return int((self.end - self.start).total_seconds())


def day_start(iso: str, day: date) -> datetime:
    """The UTC instant at which `iso`'s market day `day` begins (local midnight)."""
    zone = iso_info(iso).zoneinfo
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def market_days(iso: str, first_day: date, end_day: date) -> list[MarketDay]:
    """The market days of `iso` from `first_day` to `end_day` (exclusive), with UTC bounds.

    Raises ValueError when `end_day` is not after `first_day`, KeyError for an
    unknown ISO.
    """
    if end_day <= first_day:
        raise ValueError(f"end day {end_day} must be after first day {first_day}; the end day is exclusive")
    n = (end_day - first_day).days
    bounds = [day_start(iso, first_day + ONE_DAY * i) for i in range(n + 1)]
    return [MarketDay(first_day + ONE_DAY * i, bounds[i], bounds[i + 1]) for i in range(n)]


def market_day_of(iso: str, instant: datetime) -> date:
    """The market day of `iso` that contains the UTC-aware `instant`."""
    if instant.tzinfo is None:
        raise ValueError(f"instant {instant.isoformat()} has no time zone; pass a UTC-aware datetime")
    return instant.astimezone(iso_info(iso).zoneinfo).date()


def day_range(zone: str, start: datetime, end: datetime) -> tuple[date, date]:
    """The calendar days of IANA zone `zone` overlapping the UTC range [start, end): (first, end exclusive).

    A range from one local midnight to another maps to exactly those days;
    a partial day at either end is included whole. Raises ValueError when
    `end` is not after `start` or a bound has no time zone.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be UTC-aware datetimes")
    if end <= start:
        raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    tz = ZoneInfo(zone)
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return first, last + ONE_DAY


def market_day_range(iso: str, start: datetime, end: datetime) -> tuple[date, date]:
    """The market days of `iso` overlapping the UTC range [start, end): (first day, end day exclusive).

    See `day_range`; the zone is the ISO's market time.
    """
    return day_range(iso_info(iso).timezone, start, end)
