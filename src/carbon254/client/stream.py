"""Live rows over `/v1/stream`: subscribe, yield each row as a `Tick`, reconnect and resume without gaps.

After a lost connection (the service restarted, a proxy cut it, the client
fell behind and was dropped with 4008) the stream reconnects with backoff
and subscribes again with `since` just before the last interval it saw, so
the service replays that interval and everything after it; rows already
yielded are recognised and skipped. Refusals are raised, not retried:
4401 as `AuthError`, 4403 as `NotEntitled`, a bad subscription (unknown
ISO, market or location) as the error the service named. A rate limit
(4429) is waited out like a lost connection. A subscription the service
ends because the tenant lost the entitlement arrives as an `error` message
and is raised as `NotEntitled`.

`since` may be a `datetime`, a `date` (its midnight) or ISO-8601 text; a
time without an offset is UTC, as the service reads it. Anything else is
refused with `InvalidRequest` before connecting.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from carbon254.client.errors import (
    AuthError,
    Carbon254Error,
    InvalidRequest,
    NotEntitled,
    NotFound,
    RateLimited,
)
from carbon254.client.models import Tick

# Columns that say where a row belongs or when; everything else is a value.
_PLACE_COLUMNS = ("location", "region", "zone")
_TIME_COLUMNS = frozenset({"interval_start", "interval_end", "delivery_start", "delivery_end"})
_NAME_COLUMNS = frozenset({"iso", "market", "product", "auction", "kind", *_PLACE_COLUMNS})
CLOSE_UNAUTHENTICATED, CLOSE_NOT_ENTITLED = 4401, 4403

# What `since` may be given as: an instant, a day (its midnight), or text: ISO-8601 or relative.
Since = datetime | date | str

# The service's relative bounds, read in UTC: `now` or `today` with an optional signed offset.
# The SDK imports no server code, so this is its own reading of them; a test holds it to the
# service's (`carbon254.timeseries.bounds.parse_bound` with no zone).
_RELATIVE = re.compile(r"\s*(now|today)\s*(?:([+-])\s*(\d{1,9})\s*([hdw]))?\s*", re.IGNORECASE)
_UNIT_HOURS = {"h": 1, "d": 24, "w": 168}


def relative_instant(text: str, now: datetime) -> datetime | None:
    """`now-6h`, `today`, `today+1w`... resolved at `now` (UTC-aware) as the service reads them in UTC.

    `now` counts whole seconds; `today` is midnight UTC of `now`'s day; days
    and weeks are 24 and 168 hours (UTC has no DST). None for text of any
    other form, including a malformed offset.
    """
    found = _RELATIVE.fullmatch(text)
    if found is None:
        return None
    anchor, sign, count, unit = found.groups()
    moment = now.astimezone(UTC).replace(microsecond=0)
    base = moment if anchor.lower() == "now" else moment.replace(hour=0, minute=0, second=0)
    if count is None:
        return base
    hours = int(count) * _UNIT_HOURS[unit.lower()] * (-1 if sign == "-" else 1)
    try:
        return base + timedelta(hours=hours)
    except OverflowError:
        return None


def since_instant(value: Since | None) -> datetime | None:
    """`since` as a UTC-aware datetime (naive times and dates read as UTC); `InvalidRequest` if unreadable.

    Accepts a `datetime`, a `date` (midnight UTC), ISO-8601 text such as
    `2026-01-01`, `2026-01-01T05:00` or `2026-01-01T05:00:00-05:00`, or a
    time relative to this machine's clock as the REST bounds take it
    (`now-1h`, `today`: midnight UTC). A relative `since` is resolved once,
    when the stream is asked for, so a resume after a reconnect continues
    from where the stream was rather than from a moving point.
    """
    if value is None:
        return None
    if isinstance(value, str):
        relative = relative_instant(value, datetime.now(UTC))
        if relative is not None:
            return relative
        text = value
        try:
            value = datetime.fromisoformat(text.strip())
        except ValueError:
            raise InvalidRequest(
                f"since: cannot read {text[:40]!r} as an ISO-8601 date or time such as "
                "2026-01-01T05:00:00Z, or a relative time such as now-1h or today-1d",
                code="invalid_parameter",
                parameter="since",
            ) from None
    elif not isinstance(value, date):
        raise InvalidRequest(
            f"since: expected a datetime, a date or ISO-8601 text, not {type(value).__name__}",
            code="invalid_parameter",
            parameter="since",
        )
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Subscription:
    """What to stream: one dataset, ISO and market, these locations (None: all), from `since` on."""

    iso: str
    market: str | None
    locations: tuple[str, ...] | None = None
    dataset: str = "lmp"
    since: datetime | None = None

    @classmethod
    def of(
        cls,
        iso: str,
        market: str | None,
        locations: str | list[str] | None,
        dataset: str,
        since: Since | None,
    ) -> Subscription:
        """The subscription `Client.stream` asks for: one location or a list, `since` checked and in UTC.

        Raises `InvalidRequest` (naming `since`) for a `since` that is not a time.
        """
        names = (locations,) if isinstance(locations, str) else tuple(locations) if locations else None
        return cls(iso, market, names, dataset, since_instant(since))

    def message(self, since: datetime | None) -> str:
        """The `subscribe` message, resuming after `since` when given."""
        body: dict[str, Any] = {"action": "subscribe", "dataset": self.dataset, "iso": self.iso}
        if self.market is not None:
            body["market"] = self.market
        body["locations"] = list(self.locations) if self.locations is not None else None
        if since is not None:
            body["since"] = since.isoformat()
        return json.dumps(body)


@dataclass(slots=True)
class _Position:
    """The latest interval yielded and the rows yielded for it (to skip them when they are replayed)."""

    latest: datetime | None = None
    at_latest: dict[tuple[str | None, datetime], Mapping[str, Any]] = field(default_factory=dict)

    def resume_since(self, fallback: datetime | None) -> datetime | None:
        # `since` replays rows strictly after it: ask from just before the latest interval,
        # which may have been cut off half-way.
        return self.latest - timedelta(microseconds=1) if self.latest is not None else fallback

    def fresh(self, tick: Tick) -> bool:
        key = (tick.location, tick.interval_start)
        if tick.replay and self.at_latest.get(key) == tick.values:
            return False
        if self.latest is None or tick.interval_start > self.latest:
            self.latest = tick.interval_start
            self.at_latest = {}
        if tick.interval_start == self.latest:
            self.at_latest[key] = tick.values
        return True


def tick_of(message: Mapping[str, Any], row: Mapping[str, Any]) -> Tick:
    """One row of a `data` message as a `Tick`."""
    place = next((row[c] for c in _PLACE_COLUMNS if c in row), None)
    start = row.get("interval_start") or row.get("delivery_start")
    end = row.get("interval_end") or row.get("delivery_end")
    values = {k: v for k, v in row.items() if k not in _TIME_COLUMNS and k not in _NAME_COLUMNS}
    return Tick.model_validate(
        {
            "dataset": message.get("dataset", "lmp"),
            "iso": message.get("iso", row.get("iso", "")),
            "market": message.get("market", row.get("market")),
            "location": place,
            "interval_start": start,
            "interval_end": end,
            "values": values,
            "replay": bool(message.get("replay", False)),
        }
    )


def refusal(message: Mapping[str, Any]) -> Carbon254Error:
    """The typed error of an `error` message, by its code (as REST maps statuses)."""
    text = str(message.get("message", "the stream refused the subscription"))
    code, parameter = message.get("code"), message.get("parameter")
    if code == "not_found":
        suggestions = tuple(str(s) for s in message.get("suggestions") or ())
        return NotFound(text, suggestions=suggestions, code=code, parameter=parameter, status=None)
    if code == "not_entitled":
        return NotEntitled(text, code=code, parameter=parameter)
    if code == "unauthenticated":
        return AuthError(text, code=code, parameter=parameter)
    if code == "rate_limited":
        return RateLimited(text, code=code, parameter=parameter, status=None)
    return InvalidRequest(text, code=code, parameter=parameter)


def _closed_error(exc: ConnectionClosed) -> Carbon254Error | None:
    """The error a close means, or None when reconnecting may help."""
    frame = exc.rcvd
    if frame is None:
        return None
    if frame.code == CLOSE_UNAUTHENTICATED:
        return AuthError(frame.reason or "the stream's credentials were refused", code="unauthenticated")
    if frame.code == CLOSE_NOT_ENTITLED:
        return NotEntitled(frame.reason or "not entitled to this stream", code="not_entitled")
    return None


Credentials = Callable[[], Awaitable[Mapping[str, str]]]


async def server_messages(
    url: str,
    credentials: Credentials,
    subscribe: Callable[[], str],
    *,
    max_backoff_s: float = 30.0,
    open_timeout_s: float = 10.0,
) -> AsyncGenerator[dict[str, Any], None]:
    """The server's messages to a subscription over the WebSocket at `url`, reconnecting forever.

    Each (re)connection sends `subscribe()` (asked again each time, so a
    resume can name where it stands) with the headers `credentials()` gives
    then. An `error` message is raised as its typed error (`refusal`);
    every other message is yielded as its JSON object, heartbeats included.
    A lost connection, an unreachable service or a rate limit is retried
    with backoff; a refused credential or entitlement is raised.
    """
    failures = 0
    while True:
        try:
            headers = dict(await credentials())
            async with connect(
                url, additional_headers=headers, open_timeout=open_timeout_s, max_size=None
            ) as connection:
                await connection.send(subscribe())
                failures = 0
                async for raw in connection:
                    message = json.loads(raw)
                    if message.get("type") == "error":
                        raise refusal(message)
                    yield message
        except ConnectionClosed as exc:
            refused = _closed_error(exc)
            if refused is not None:
                raise refused from None
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status == 401:
                raise AuthError("the stream's credentials were refused", status=status) from None
            if status == 403:
                raise NotEntitled("not entitled to this stream", status=status) from None
        except RateLimited:
            pass  # each subscribe counts as a request: wait, then subscribe again
        except (OSError, InvalidHandshake, TimeoutError):
            pass  # the service is away: try again below
        failures += 1
        await asyncio.sleep(min(0.25 * 2**failures, max_backoff_s) * random.uniform(0.5, 1.0))


async def stream_ticks(
    url: str,
    credentials: Credentials,
    subscription: Subscription,
    *,
    max_backoff_s: float = 30.0,
    open_timeout_s: float = 10.0,
) -> AsyncGenerator[Tick, None]:
    """Ticks of `subscription` from the WebSocket at `url` (ws:// or wss://), reconnecting forever.

    `credentials()` gives the handshake's headers, asked again at every
    (re)connection so a renewed OIDC token is used.
    Stop by leaving the `async for` (or cancelling the task). Raises
    `AuthError`, `NotEntitled`, `NotFound` or `InvalidRequest` when the
    service refuses the credential or the subscription.
    """
    position = _Position()
    messages = server_messages(
        url,
        credentials,
        lambda: subscription.message(position.resume_since(subscription.since)),
        max_backoff_s=max_backoff_s,
        open_timeout_s=open_timeout_s,
    )
    try:
        async for message in messages:
            if message.get("type") != "data":
                continue
            for row in message.get("data") or ():
                tick = tick_of(message, row)
                if position.fresh(tick):
                    yield tick
    finally:
        await messages.aclose()
