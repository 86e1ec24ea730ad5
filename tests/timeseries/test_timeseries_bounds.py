from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carbon254.timeseries import parse_bound, resolve_tz


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
