"""The SDK's own reading of relative times (`since="now-1h"`) agrees with the service's, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carbon254.client.stream import relative_instant
from carbon254.timeseries.bounds import parse_bound

FORMS = ["now", "today", "now-6h", "NOW+2h", "today-1d", "Today-30d", "today+1w", "now - 3 d", " now-0h "]
CLOCKS = [
    datetime(2026, 12, 6, 13, 45, 27, 348_720, tzinfo=UTC),
    datetime(2024, 2, 29, 0, 0, tzinfo=UTC),  # a leap day, at midnight
    datetime(2025, 11, 2, 8, 30, tzinfo=UTC),  # a US fall-back day: UTC has no DST either way
]


@pytest.mark.parametrize("clock", CLOCKS)
@pytest.mark.parametrize("text", FORMS)
def test_the_sdk_resolves_relative_times_as_the_service_does(text: str, clock: datetime) -> None:
    assert relative_instant(text, clock) == parse_bound(text, None, now=clock)


@pytest.mark.parametrize("text", ["now-6x", "today-", "now+d", "yesterday", "2026-01-01", "now-1.5h"])
def test_text_the_service_refuses_is_not_relative_to_the_sdk_either(text: str) -> None:
    clock = CLOCKS[0]
    assert relative_instant(text, clock) is None
    if text != "2026-01-01":
        with pytest.raises(ValueError):
            parse_bound(text, None, now=clock)
