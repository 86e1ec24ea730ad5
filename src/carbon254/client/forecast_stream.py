"""Sub-hourly price forecasts over `/v1/stream`: each location's next twelve five-minute intervals, live.

Subscribing (`{"type": "subscribe", "dataset": "forecast", "iso", "market",
"locations"}`) first brings each location's latest forecast, then a new one
whenever an interval of it is committed or revised. After a lost connection
the stream reconnects with backoff and subscribes again; the latest
forecast it then receives is yielded only if it is newer than the last one
yielded for that location. Refusals are raised, not retried: 4401 as
`AuthError`, 4403 (no entitlement to the ISO's LMPs or to the `forecast`
feature) as `NotEntitled`, an unknown ISO, market or location as
`NotFound`, and a location the service cannot forecast (too little stored
history) as `InvalidRequest` coded `forecast_unavailable`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from carbon254.client.base import as_frame
from carbon254.client.frames import FrameKind
from carbon254.client.stream import Credentials, server_messages


class SubHourlyForecast(BaseModel):
    """One location's forecast of the next five-minute real-time intervals, in $/MWh.

    `interval_start` (UTC) are the intervals after `last_interval_start`,
    the newest committed one; `point` is the forecast, `p10`/`p50`/`p90`
    the quantiles of its prediction interval. `model_version` names the
    fitted model (refitted daily on `trained_through` and before);
    `issued_at` is when the service made the forecast.
    """

    # Fields a newer service adds are ignored, so it does not break an older SDK.
    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    iso: str
    market: str
    location: str
    model: str
    model_version: str
    trained_through: datetime
    issued_at: datetime
    last_interval_start: datetime
    interval_start: tuple[datetime, ...]
    point: tuple[float, ...]
    p10: tuple[float, ...]
    p50: tuple[float, ...]
    p90: tuple[float, ...]

    def table(self) -> pa.Table:
        """The forecast as Arrow: `interval_start` (UTC), `point`, `p10`, `p50`, `p90` ($/MWh)."""
        return pa.table(
            {
                "interval_start": pa.array(self.interval_start, pa.timestamp("us", tz="UTC")),
                "point": pa.array(self.point, pa.float64()),
                "p10": pa.array(self.p10, pa.float64()),
                "p50": pa.array(self.p50, pa.float64()),
                "p90": pa.array(self.p90, pa.float64()),
            }
        )

    def frame(self, frame: FrameKind = "pandas") -> Any:
        """`table()` as a pandas (default), Polars or Arrow frame: one row per interval."""
        return as_frame(self.table(), frame)


@dataclass(frozen=True, slots=True)
class ForecastSubscription:
    """What to follow: the forecasts of these locations of one ISO's real-time market (`RT5`)."""

    iso: str
    market: str
    locations: tuple[str, ...]

    @classmethod
    def of(cls, iso: str, location: str | list[str], market: str) -> ForecastSubscription:
        """The subscription `Client.forecast_stream` asks for: one location or a list."""
        return cls(iso, market, (location,) if isinstance(location, str) else tuple(location))

    def message(self) -> str:
        """The `subscribe` message."""
        return json.dumps(
            {
                "type": "subscribe",
                "dataset": "forecast",
                "iso": self.iso,
                "market": self.market,
                "locations": list(self.locations),
            }
        )


async def stream_forecasts(
    url: str,
    credentials: Credentials,
    subscription: ForecastSubscription,
    *,
    max_backoff_s: float = 30.0,
    open_timeout_s: float = 10.0,
) -> AsyncGenerator[SubHourlyForecast, None]:
    """Forecasts of `subscription` from the WebSocket at `url`, reconnecting forever (see the module doc).

    `credentials()` gives the handshake's headers, asked again at every
    (re)connection. Stop by leaving the `async for`.
    """
    yielded: dict[str, tuple[datetime, datetime]] = {}
    messages = server_messages(
        url, credentials, subscription.message, max_backoff_s=max_backoff_s, open_timeout_s=open_timeout_s
    )
    try:
        async for message in messages:
            if message.get("type") != "forecast":
                continue
            forecast = SubHourlyForecast.model_validate(message)
            position = (forecast.last_interval_start, forecast.issued_at)
            before = yielded.get(forecast.location)
            if before is not None and position <= before:
                continue  # the latest forecast again, after a reconnect
            yielded[forecast.location] = position
            yield forecast
    finally:
        await messages.aclose()
