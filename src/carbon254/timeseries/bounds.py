"""Parsing of query bounds and output time zones, shared by the service and the CLI.

Both surfaces accept the same spellings and reject the same mistakes with the
same messages, so a bound that works in the CLI works in a URL.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime
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


def parse_bound(text: str, tz: str | None) -> datetime:
    """A query bound as a UTC-aware datetime.

    Accepts an ISO-8601 date (`2025-01-01`, meaning local midnight) or
    datetime with or without an offset (`2025-01-01T05:00`,
    `2025-01-01T05:00:00Z`, `2025-01-01T05:00-05:00`). A date or a datetime
    without offset is read on `tz`'s wall clock (an IANA name as returned by
    `resolve_tz`; UTC when None); an explicit offset wins over `tz`. A wall
    time repeated at fall-back means its first occurrence. Raises ValueError
    for unparseable text, an unknown zone, or a wall time skipped at
    spring-forward.
    """
    cleaned = text.strip()
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"cannot read {excerpt(text)} as a date or time; use ISO-8601 such as 2025-01-01, "
            "2025-01-01T05:00 or 2025-01-01T05:00:00Z"
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
