"""Parsing of query bounds and output time zones, shared by the service and the CLI.

Both surfaces accept the same spellings and reject the same mistakes with the
same messages, so a bound that works in the CLI works in a URL. A bound is an
ISO-8601 date or datetime, or relative to the clock: `now` or `today`, each
optionally followed by a signed offset of whole days, hours or weeks
(`today-30d`, `now-6h`, `today+1d`), so a saved query keeps asking for the
latest data as time passes.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from carbon254.excerpt import excerpt
from carbon254.isos import iso_info

# Names the zoneinfo module resolves that are not real zones (the host's
# local zone and tzdata's placeholder) and that Polars refuses.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
# IANA names are at most 32 characters today ("America/Argentina/ComodRivadavia");
# the rest is headroom for names yet to come.
MAX_TZ_CHARS = 64
# Every character of every IANA zone name; a name is checked against this
# before it is looked up, so no odd text ever reaches zoneinfo.
_TZ_CHARACTERS = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
_TZ_HINT = "use an IANA name such as 'America/Chicago' or 'UTC', or 'iso' for the ISO's market time"

# `now` or `today`, then whatever follows (checked apart, for a precise message).
_RELATIVE = re.compile(r"(now|today)(.*)", re.IGNORECASE | re.DOTALL)
_OFFSET = re.compile(r"(\d+)\s*([a-z]+)", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
# More digits than any offset within the calendar's range (about 3.65 million days) needs.
_MAX_OFFSET_DIGITS = 9
_RELATIVE_HINT = (
    "a relative bound is now or today, optionally followed by a signed whole number of days, "
    "hours or weeks, such as today-30d, now-6h or today+1w"
)

BOUND_FORMS = (
    "an ISO-8601 date or datetime (`2025-01-01`, `2025-01-01T05:00`, `2025-01-01T05:00Z`; without an "
    "offset it is read in `tz`), or relative: `now` or `today` (the start of the current day in `tz`), "
    "optionally with a signed offset of whole days, hours or weeks, e.g. `today-30d`, `now-6h`, `today+1d`"
)
"""How a time bound may be written: shared by the parameter descriptions of every surface."""


class Anchor(StrEnum):
    """What a relative bound is counted from: the current instant, or the start of the current day."""

    NOW = "now"
    TODAY = "today"


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones() if name not in _NOT_ZONES}


def _canonical_zone(name: str) -> str:
    """The zone database's spelling of `name`; ValueError if it is not a zone the database holds.

    Only names of the database's own listing are accepted, so zoneinfo never
    opens a file for a name a user made up (a 256-character name, `../`, NUL).
    A wrong-case spelling ("america/chicago", "utc") is accepted and comes
    back canonical, which is what Arrow and Polars expect.
    """
    if len(name) > MAX_TZ_CHARS:
        raise ValueError(
            f"time zone {excerpt(name)} is longer than any IANA name ({MAX_TZ_CHARS} characters at most); "
            + _TZ_HINT
        )
    if _TZ_CHARACTERS.fullmatch(name) is None:
        raise ValueError(
            f"time zone {excerpt(name)} is not an IANA name: those are letters, digits, '_', '+' and '-' "
            f"in '/'-separated parts; {_TZ_HINT}"
        )
    canonical = _zones_by_lower_name().get(name.lower())
    if canonical is None:
        raise ValueError(f"unknown time zone {excerpt(name)}; {_TZ_HINT}")
    return canonical


def resolve_tz(tz: str | None, iso: str) -> str | None:
    """The IANA zone name an output time-zone option stands for.

    None stays None (timestamps stay UTC); "iso" (any case) is `iso`'s market
    time zone (e.g. America/Chicago for ERCOT, Etc/GMT+5 for MISO); any other
    value must name a zone of the IANA database (at most `MAX_TZ_CHARS`
    characters, of the characters zone names use) and comes back in its
    canonical spelling. Raises ValueError naming the bad value (a short
    excerpt of it), KeyError for an unknown ISO.
    """
    if tz is None:
        return None
    name = tz.strip()
    if name.lower() == "iso":
        return iso_info(iso).timezone
    if not name:
        raise ValueError("empty time zone; use an IANA name such as 'America/Chicago', or 'iso'")
    return _canonical_zone(name)


def _localize(naive: datetime, zone: zoneinfo.ZoneInfo, text: str) -> datetime:
    """`naive` on `zone`'s wall clock as UTC; a fall-back repeat is its first occurrence."""
    aware = naive.replace(tzinfo=zone, fold=0)
    as_utc = aware.astimezone(UTC)
    # A skipped wall time does not survive a round trip through UTC.
    if as_utc.astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(
            f"{excerpt(text)} does not exist in {zone.key}: "
            "the clocks skip it when daylight saving time starts"
        )
    return as_utc


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def utc_now() -> datetime:
    """The current instant, UTC-aware: what relative bounds are read against when no `now` is given."""
    return datetime.now(UTC)


def relative_anchor(text: str) -> Anchor | None:
    """What `text` is counted from when it is a relative bound (`now-6h`: NOW), None for any other text.

    Says only how the bound depends on the clock, not whether it is well
    formed: `parse_bound` checks that.
    """
    found = _RELATIVE.fullmatch(text.strip())
    return Anchor(found.group(1).lower()) if found else None


def _offset(text: str, anchor: Anchor, rest: str) -> tuple[int, str]:
    """The signed count and unit (`hours`, `days`, `weeks`) after `now`/`today`; (0, "days") for none.

    A blank between the anchor and an unsigned count stands for `+`: an
    unescaped `+` in a URL's query string arrives as a space.
    """
    if not rest.strip():
        return 0, "days"
    body = rest.strip()
    if body[0] in "+-":
        sign, body = (-1 if body[0] == "-" else 1), body[1:].strip()
    elif rest[0].isspace() and body[0].isdigit():
        sign = 1
    else:
        raise ValueError(f"cannot read {excerpt(text)}: expected + or - after '{anchor}'; {_RELATIVE_HINT}")
    found = _OFFSET.fullmatch(body)
    if found is None:
        what = "lacks the number of days, hours or weeks" if not body else "has a malformed offset"
        raise ValueError(f"cannot read {excerpt(text)}: it {what}; {_RELATIVE_HINT}")
    digits, unit = found.groups()
    if unit.lower() not in _UNITS:
        raise ValueError(
            f"cannot read {excerpt(text)}: unknown unit {excerpt(unit)}; use d (days), h (hours) or w (weeks)"
        )
    if len(digits.lstrip("0")) > _MAX_OFFSET_DIGITS:
        raise ValueError(f"the offset of {excerpt(text)} is out of range")
    return sign * int(digits), _UNITS[unit.lower()]


def _relative(text: str, anchor: Anchor, rest: str, tz: str | None, now: datetime) -> datetime:
    """A relative bound resolved at `now`: `today` moves by calendar days of `tz`, `now` by elapsed time."""
    count, unit = _offset(text, anchor, rest)
    try:
        if anchor is Anchor.NOW:
            return now + timedelta(**{unit: count})
        zone = zoneinfo.ZoneInfo(_canonical_zone(tz)) if tz is not None else UTC
        day = now.astimezone(zone).date()
        if unit != "hours":
            day += timedelta(**{unit: count})
        # As for a date: a midnight the zone skips starts the day when the clocks jump.
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone, fold=0).astimezone(UTC)
        return midnight + timedelta(hours=count) if unit == "hours" else midnight
    except OverflowError:
        raise ValueError(f"the offset of {excerpt(text)} is out of range") from None


def parse_bound(text: str, tz: str | None, now: datetime | None = None) -> datetime:
    """A query bound as a UTC-aware datetime.

    Accepts an ISO-8601 date (`2025-01-01`, meaning local midnight) or
    datetime with or without an offset (`2025-01-01T05:00`,
    `2025-01-01T05:00:00Z`, `2025-01-01T05:00-05:00`). A date or a datetime
    without offset is read on `tz`'s wall clock (an IANA name as returned by
    `resolve_tz`; UTC when None); an explicit offset wins over `tz`. A wall
    time repeated at fall-back means its first occurrence.

    Also accepts a bound relative to `now` (the current instant, UTC-aware;
    the system clock when None), any case: `now` is that instant to the
    second, `today` the start of its calendar day in `tz`; either may be
    followed by a signed offset of whole hours, days or weeks (`now-6h`,
    `today-30d`, `today+1w`; a blank before an unsigned count stands for a
    `+` that a URL turned into a space). From `today`, days and weeks are
    calendar days in `tz` (`today-7d` in New York is seven local midnights
    ago, across a DST change too) and hours are elapsed time from that
    midnight; from `now`, every offset is elapsed time (`now-1d` is 24 hours
    ago).

    Raises ValueError for unparseable text, an unknown zone, a wall time
    skipped at spring-forward, a malformed relative bound (`today-7x`,
    `now+`) or one beyond the calendar's range.
    """
    cleaned = text.strip()
    relative = _RELATIVE.fullmatch(cleaned)
    if relative is not None:
        if now is None:
            now = utc_now()
        elif now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        moment = now.astimezone(UTC).replace(microsecond=0)
        return _relative(text, Anchor(relative.group(1).lower()), relative.group(2), tz, moment)
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"cannot read {excerpt(text)} as a date or time; use ISO-8601 such as 2025-01-01, "
            "2025-01-01T05:00 or 2025-01-01T05:00:00Z, or a relative bound such as today-30d or now-6h"
        ) from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    if tz is None:
        return parsed.replace(tzinfo=UTC)
    zone = zoneinfo.ZoneInfo(_canonical_zone(tz))
    if _is_date(cleaned):
        # Where a zone skips midnight the day starts when the clocks jump;
        # fold=0 reads the skipped midnight with the old offset, which lands
        # exactly on that instant.
        return parsed.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return _localize(parsed, zone, text)
