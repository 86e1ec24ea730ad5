"""Market days: an ISO's local calendar days as UTC half-open ranges.

A market day runs from local midnight to the next local midnight on the
ISO's market clock (`IsoInfo.timezone`), so it lasts 23 hours on the
spring-forward day and 25 on the fall-back day in ISOs on prevailing time,
and always 24 hours in MISO (Eastern Standard Time all year).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from carbon254.isos import iso_info


def market_day_bounds(iso: str, day: date) -> tuple[datetime, datetime]:
    """UTC [start, end) of `iso`'s market day `day`: its local midnight to the next (23, 24 or 25 hours).

    Raises KeyError for an unknown ISO.
    """
    zone = iso_info(iso).zoneinfo
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def market_day_of(iso: str, instant: datetime) -> date:
    """The market day of `iso` holding the UTC-aware `instant` (its local date on the ISO's market clock).

    Raises ValueError for a naive `instant`, KeyError for an unknown ISO.
    """
    if instant.tzinfo is None:
        raise ValueError(f"instant {instant.isoformat()} has no time zone; pass a UTC-aware datetime")
    return instant.astimezone(iso_info(iso).zoneinfo).date()
