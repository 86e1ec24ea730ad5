"""Market days as UTC ranges: 23 and 25 hours on DST days, 24 always in MISO, the day of an instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from carbon254.timeseries import market_day_bounds, market_day_of


@pytest.mark.parametrize(
    ("iso", "day", "start", "hours"),
    [
        ("PJM", date(2025, 3, 9), datetime(2025, 3, 9, 5, tzinfo=UTC), 23),
        ("PJM", date(2025, 11, 2), datetime(2025, 11, 2, 4, tzinfo=UTC), 25),
        ("PJM", date(2025, 7, 1), datetime(2025, 7, 1, 4, tzinfo=UTC), 24),
        ("ERCOT", date(2025, 11, 2), datetime(2025, 11, 2, 5, tzinfo=UTC), 25),
        ("CAISO", date(2025, 3, 9), datetime(2025, 3, 9, 8, tzinfo=UTC), 23),
        ("MISO", date(2025, 3, 9), datetime(2025, 3, 9, 5, tzinfo=UTC), 24),  # EST all year
        ("MISO", date(2025, 11, 2), datetime(2025, 11, 2, 5, tzinfo=UTC), 24),
    ],
)
def test_market_day_bounds(iso: str, day: date, start: datetime, hours: int) -> None:
    assert market_day_bounds(iso, day) == (start, start + timedelta(hours=hours))


def test_consecutive_days_tile_time() -> None:
    days = [date(2025, 10, 30) + timedelta(days=n) for n in range(6)]
    bounds = [market_day_bounds("nyiso", d) for d in days]
    assert all(a[1] == b[0] for a, b in pairwise(bounds))


def test_market_day_of_an_instant() -> None:
    # 04:59 UTC on 2 November 2025 is 23:59 CDT on the 1st in Texas, 00:59 EDT on the 2nd in PJM.
    instant = datetime(2025, 11, 2, 4, 59, tzinfo=UTC)
    assert market_day_of("ERCOT", instant) == date(2025, 11, 1)
    assert market_day_of("PJM", instant) == date(2025, 11, 2)
    for iso in ("PJM", "ERCOT", "MISO"):
        start, end = market_day_bounds(iso, date(2025, 11, 2))
        assert market_day_of(iso, start) == market_day_of(iso, end - timedelta(microseconds=1))
        assert market_day_of(iso, end) == date(2025, 11, 3)
    with pytest.raises(ValueError, match="no time zone"):
        market_day_of("PJM", datetime(2025, 11, 2, 4))
    with pytest.raises(KeyError):
        market_day_bounds("NOPE", date(2025, 1, 1))
