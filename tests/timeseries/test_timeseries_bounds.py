from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from carbon254.timeseries import Anchor, parse_bound, relative_anchor, resolve_tz


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2025-01-01", None, utc(2025, 1, 1)),
        ("2025-01-01", "UTC", utc(2025, 1, 1)),
        ("2025-01-01", "America/Chicago", utc(2025, 1, 1, 6)),  # CST midnight
        ("2025-07-01", "America/Chicago", utc(2025, 7, 1, 5)),  # CDT midnight
        ("2025-07-01", "Etc/GMT+5", utc(2025, 7, 1, 5)),  # MISO: EST all year
        ("2025-01-01T05:00", None, utc(2025, 1, 1, 5)),
        ("2025-01-01T05:00", "America/New_York", utc(2025, 1, 1, 10)),
        ("2025-01-01 05:00:00", "America/New_York", utc(2025, 1, 1, 10)),
        ("2025-01-01T05:00:00Z", None, utc(2025, 1, 1, 5)),
        ("2025-01-01T05:00:00Z", "America/New_York", utc(2025, 1, 1, 5)),  # an offset wins over tz
        ("2025-01-01T05:00-05:00", None, utc(2025, 1, 1, 10)),
        ("2025-01-01T05:00:00-05:00", "America/Los_Angeles", utc(2025, 1, 1, 10)),
        ("2025-01-01T05:00+05:30", None, utc(2024, 12, 31, 23, 30)),
        ("2025-06-15T12:30:15.250", None, datetime(2025, 6, 15, 12, 30, 15, 250_000, tzinfo=UTC)),
        ("  2025-01-01  ", None, utc(2025, 1, 1)),
        # The repeated fall-back hour means its first occurrence (EDT).
        ("2025-11-02T01:30", "America/New_York", utc(2025, 11, 2, 5, 30)),
        ("2025-11-02T02:00", "America/New_York", utc(2025, 11, 2, 7)),
        # Havana skips midnight at spring-forward; its day starts at 01:00 CDT.
        ("2024-03-10", "America/Havana", utc(2024, 3, 10, 5)),
    ],
)
def test_parse_bound(text: str, tz: str | None, expected: datetime) -> None:
    parsed = parse_bound(text, tz)
    assert parsed == expected
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "tz"),
    [
        ("2025-03-09T02:30", "America/New_York"),
        ("2025-03-09T02:00", "America/Chicago"),
        ("2025-03-09T02:59:59", "America/Los_Angeles"),
    ],
)
def test_spring_forward_gap_is_rejected(text: str, tz: str) -> None:
    with pytest.raises(ValueError, match="does not exist") as raised:
        parse_bound(text, tz)
    assert text in str(raised.value) and tz in str(raised.value)


def test_gap_times_exist_in_utc_and_in_fixed_zones() -> None:
    assert parse_bound("2025-03-09T02:30", None) == utc(2025, 3, 9, 2, 30)
    assert parse_bound("2025-03-09T02:30", "Etc/GMT+5") == utc(2025, 3, 9, 7, 30)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "yesterday",
        "2025-13-01",
        "2025-02-30",
        "2025-01-01T25:00",
        "01/02/2025",
        "2025-01-01T05:00+25:00",
    ],
)
def test_garbage_is_rejected_with_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read") as raised:
        parse_bound(text, None)
    assert repr(text) in str(raised.value)


def test_parse_bound_rejects_an_unknown_zone() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        parse_bound("2025-01-01", "Mars/Olympus")


@pytest.mark.parametrize(
    ("tz", "iso", "expected"),
    [
        (None, "PJM", None),
        ("iso", "PJM", "America/New_York"),
        ("ISO", "ercot", "America/Chicago"),
        ("iso", "MISO", "Etc/GMT+5"),
        ("iso", "CAISO", "America/Los_Angeles"),
        ("America/Denver", "PJM", "America/Denver"),
        ("UTC", "PJM", "UTC"),
        ("utc", "PJM", "UTC"),
        ("america/chicago", "PJM", "America/Chicago"),
        (" Europe/London ", "PJM", "Europe/London"),
    ],
)
def test_resolve_tz(tz: str | None, iso: str, expected: str | None) -> None:
    assert resolve_tz(tz, iso) == expected


@pytest.mark.parametrize(
    "tz", ["Mars/Olympus", "", "EST+5", "../../etc/passwd", "localtime", "Factory", "America/"]
)
def test_resolve_tz_rejects_bad_names(tz: str) -> None:
    with pytest.raises(ValueError) as raised:
        resolve_tz(tz, "PJM")
    if tz.strip():
        assert repr(tz.strip()) in str(raised.value)


def test_resolve_tz_unknown_iso() -> None:
    with pytest.raises(KeyError, match="unknown ISO"):
        resolve_tz("iso", "NOPE")


# 2025-03-12 15:30:12.345 UTC: three days after the US spring-forward (2025-03-09).
NOW = datetime(2025, 3, 12, 15, 30, 12, 345_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("now", None, utc(2025, 3, 12, 15, 30, 12)),  # to the second
        ("now-6h", None, utc(2025, 3, 12, 9, 30, 12)),
        ("now+90h", "America/New_York", utc(2025, 3, 16, 9, 30, 12)),  # tz does not move `now`
        ("now-1d", "America/New_York", utc(2025, 3, 11, 15, 30, 12)),  # elapsed: 24 hours
        ("now-2w", None, utc(2025, 2, 26, 15, 30, 12)),
        ("today", None, utc(2025, 3, 12)),
        ("today", "UTC", utc(2025, 3, 12)),
        ("today", "America/Chicago", utc(2025, 3, 12, 5)),  # CDT midnight
        ("today", "Etc/GMT+5", utc(2025, 3, 12, 5)),  # MISO: EST all year
        ("today", "Asia/Tokyo", utc(2025, 3, 12, 15)),  # 00:30 on the 13th in Tokyo
        ("today-30d", None, utc(2025, 2, 10)),
        ("today+1d", None, utc(2025, 3, 13)),
        # Seven local midnights back crosses the spring-forward: 05:00Z (EST), not 04:00Z (7 x 24 h).
        ("today-7d", "America/New_York", utc(2025, 3, 5, 5)),
        ("today-1w", "America/New_York", utc(2025, 3, 5, 5)),
        ("today+6h", "America/New_York", utc(2025, 3, 12, 10)),  # elapsed hours from midnight
        ("today-1h", None, utc(2025, 3, 11, 23)),
        ("TODAY-2W", None, utc(2025, 2, 26)),
        ("Now", None, utc(2025, 3, 12, 15, 30, 12)),
        ("  today - 7d  ", None, utc(2025, 3, 5)),
        ("today 1d", None, utc(2025, 3, 13)),  # a URL's unescaped '+' arrives as a space
        ("now 6h", None, utc(2025, 3, 12, 21, 30, 12)),
        ("today+0d", None, utc(2025, 3, 12)),
        ("today-007d", None, utc(2025, 3, 5)),
    ],
)
def test_relative_bounds(text: str, tz: str | None, expected: datetime) -> None:
    parsed = parse_bound(text, tz, NOW)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_today_follows_the_calendar_of_the_zone_across_fall_back() -> None:
    # 2025-11-03 12:00 UTC: the day after the US fall-back; yesterday had 25 hours in New York.
    now = utc(2025, 11, 3, 12)
    assert parse_bound("today", "America/New_York", now) == utc(2025, 11, 3, 5)
    assert parse_bound("today-1d", "America/New_York", now) == utc(2025, 11, 2, 4)
    assert parse_bound("today-1d", "America/New_York", now) == parse_bound("2025-11-02", "America/New_York")


def test_today_where_the_zone_skips_midnight() -> None:
    # Havana's clocks jump from 00:00 to 01:00 on 2024-03-10: that day starts at 01:00 CDT.
    now = utc(2024, 3, 10, 12)
    assert parse_bound("today", "America/Havana", now) == parse_bound("2024-03-10", "America/Havana")
    assert parse_bound("today", "America/Havana", now) == utc(2024, 3, 10, 5)


def test_relative_bounds_read_the_clock_when_no_now_is_given() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    parsed, today = parse_bound("now-1h", None), parse_bound("today", None)
    after = datetime.now(UTC)
    assert before - timedelta(hours=1) <= parsed <= after - timedelta(hours=1)
    assert today in {datetime.combine(moment.date(), time(), UTC) for moment in (before, after)}


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_bound("now", None, datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("today-7x", "unknown unit 'x'; use d (days), h (hours) or w (weeks)"),
        ("today-7days", "unknown unit 'days'"),
        ("now+", "lacks the number of days, hours or weeks"),
        ("today-", "lacks the number of days, hours or weeks"),
        ("today7d", "expected + or - after 'today'"),
        ("nowish", "expected + or - after 'now'"),
        ("today-1.5d", "has a malformed offset"),
        ("today--1d", "has a malformed offset"),
        ("today-7", "has a malformed offset"),
        ("today-d", "has a malformed offset"),
        ("now+6h+1d", "has a malformed offset"),
        ("today-99999999999d", "out of range"),
        ("today+3000000d", "out of range"),
        ("now-999999999w", "out of range"),
        ("today+" + "9" * 5000 + "d", "out of range"),
    ],
)
def test_malformed_relative_bounds_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_bound(text, "America/New_York", NOW)
    assert message in str(raised.value)
    assert repr(text[:40]) in str(raised.value)  # the value is quoted, a long one by its first characters
    assert len(str(raised.value)) < 400


@pytest.mark.parametrize(
    ("text", "anchor"),
    [
        ("now", Anchor.NOW),
        (" NOW-6h", Anchor.NOW),
        ("today+1d", Anchor.TODAY),
        ("today-7x", Anchor.TODAY),  # malformed, but still counted from today
        ("2025-01-01", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_relative_anchor(text: str, anchor: Anchor | None) -> None:
    assert relative_anchor(text) is anchor
