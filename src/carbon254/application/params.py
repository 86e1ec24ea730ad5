"""Query-parameter parsing: request text in, validated values out, or a 422 naming the parameter.

Only syntax and limits are checked here. Whether an ISO, market or location
exists is the catalog's question (`application.catalog`, answered with 404s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from carbon254.application.errors import bad_parameter
from carbon254.timeseries import bounds, parse_bound, resolve_tz


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open [start, end) time range, both UTC-aware."""

    start: datetime
    end: datetime


def required_text(parameter: str, text: str) -> str:
    """`text` stripped of surrounding blanks; a blank value is a 422."""
    value = text.strip()
    if not value:
        raise bad_parameter(parameter, f"query parameter '{parameter}' must not be empty")
    return value


def parse_tz(text: str | None, iso: str) -> str | None:
    """The IANA zone to present times in: `iso` means the ISO's market time; None or blank means UTC."""
    if text is None or not text.strip():
        return None
    try:
        return resolve_tz(text.strip(), iso)
    except ValueError as exc:
        raise bad_parameter("tz", f"invalid tz: {exc}") from None


def parse_instant(parameter: str, text: str, tz: str | None, now: datetime | None = None) -> datetime:
    """An ISO-8601 date or datetime as a UTC instant; without an offset it is read in `tz` (UTC if None).

    A relative bound (`today-30d`, `now-6h`) is resolved at `now` (the system clock when None).
    """
    value = required_text(parameter, text)
    try:
        return parse_bound(value, tz, now)
    except ValueError as exc:
        raise bad_parameter(parameter, f"invalid {parameter}: {exc}") from None


def parse_window(start: str, end: str, tz: str | None, max_days: int) -> Window:
    """The [start, end) range; end must follow start by at most `max_days` days."""
    # One clock reading for both, so `start=now-6h&end=now` is six hours long.
    now = bounds.utc_now()
    lo = parse_instant("start", start, tz, now)
    hi = parse_instant("end", end, tz, now)
    if hi <= lo:
        raise bad_parameter(
            "end", f"end ({hi.isoformat()}) must be after start ({lo.isoformat()}); end is exclusive"
        )
    if hi - lo > timedelta(days=max_days):
        days = (hi - lo) / timedelta(days=1)
        raise bad_parameter(
            "end",
            f"the range from start to end is {days:,.1f} days, longer than the {max_days:,}-day limit; "
            "split the request",
            code="range_too_long",
        )
    return Window(lo, hi)


def parse_names(parameter: str, text: str | None, limit: int) -> list[str] | None:
    """A comma-separated list of names, blanks dropped and repeats removed in order; None when absent.

    A value that lists no name at all (e.g. `locations=,`) is a 422 rather
    than "everything", so a client bug cannot silently ask for a whole ISO.
    """
    if text is None:
        return None
    return check_names(parameter, text.split(","), limit)


def check_names(parameter: str, given: Sequence[str], limit: int) -> list[str]:
    """Names stripped, blanks dropped and repeats removed in order; 422 if none is left or over `limit`.

    The list form of `parse_names`, for surfaces that receive lists (GraphQL).
    """
    names = list(dict.fromkeys(n.strip() for n in given if n.strip()))
    if not names:
        raise bad_parameter(parameter, f"query parameter '{parameter}' lists no name; omit it to ask for all")
    if len(names) > limit:
        raise bad_parameter(
            parameter,
            f"{parameter} names {len(names):,} entries; at most {limit:,} are allowed per request",
            code="too_many_locations",
        )
    return names
