"""What the stream's sub-hourly forecasts look like in the broker and to clients.

A forecast channel is one (ISO, real-time market); each message on it is
one location's forecast of the next intervals after its newest committed
one, issued by the re-forecaster (`reforecast`) whenever a commit brings a
new or revised interval, or when its model was (re)fitted. A location whose
model cannot be fitted (too little stored history) gets a message with an
`error` instead, so its subscribers hear why nothing comes. `(commit,
issued_at_us)` orders one location's messages: a receiver skips anything at
or before what it already sent. Times are ISO-8601 UTC; prices $/MWh.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

# The dataset name of a forecast subscription, and the markets forecast: five-minute real time.
FORECAST = "forecast"
FORECAST_MARKETS = ("RT5",)
MODEL = "subhourly_linear"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_time(us: int) -> str:
    """Microseconds since the epoch (UTC) as ISO-8601 text, `+00:00`, microseconds only when not zero."""
    return (_EPOCH + timedelta(microseconds=us)).isoformat()


@dataclass(frozen=True, slots=True, order=True)
class ForecastKey:
    """One forecast series: a location's real-time prices in one ISO and market."""

    iso: str
    market: str
    location: str

    @property
    def channel(self) -> ForecastChannel:
        """The channel its forecasts are published on."""
        return ForecastChannel(self.iso, self.market)

    def text(self) -> str:
        """A stable text form (a Redis member or hash field)."""
        return orjson.dumps([self.iso, self.market, self.location]).decode()

    @classmethod
    def parse(cls, text: str | bytes) -> ForecastKey:
        """The key `text()` wrote; ValueError if it is not one."""
        try:
            iso, market, location = orjson.loads(text)
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            raise ValueError(f"not a forecast key: {exc}") from None
        return cls(str(iso), str(market), str(location))


@dataclass(frozen=True, slots=True)
class ForecastChannel:
    """The forecasts of one ISO and real-time market."""

    iso: str
    market: str

    def name(self, namespace: str) -> str:
        """The broker channel name under a deployment's namespace."""
        return f"{namespace}:{FORECAST}:{self.iso}:{self.market}"


@dataclass(frozen=True, slots=True)
class ForecastMessage:
    """One location's forecast (or why there is none), as published, remembered and received.

    `commit` is the change-feed stamp of the newest commit the forecast
    reflects; `interval_start` the next intervals' starts (µs UTC) after
    `last_interval_start_us`; `point`, `p10`, `p50`, `p90` in $/MWh.
    `model_version` names the fitted coefficients; `trained_through_us` is
    the last interval the model was fitted on. With `error` set, every
    array is empty.
    """

    iso: str
    market: str
    location: str
    commit: int
    issued_at_us: int
    model_version: str = ""
    trained_through_us: int = 0
    last_interval_start_us: int = 0
    interval_start_us: list[int] = field(default_factory=list)
    point: list[float] = field(default_factory=list)
    p10: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p90: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def key(self) -> ForecastKey:
        """The series it forecasts."""
        return ForecastKey(self.iso, self.market, self.location)

    @property
    def position(self) -> tuple[int, int]:
        """Where it sits among its location's messages."""
        return (self.commit, self.issued_at_us)

    def encode(self) -> bytes:
        """The broker payload."""
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: bytes | str) -> ForecastMessage:
        """A payload made by `encode`; ValueError if it is not one."""
        try:
            doc = orjson.loads(raw)
            return cls(**doc)
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            raise ValueError(f"not a forecast message: {exc}") from None

    def frame(self) -> str:
        """The client message: a `forecast`, or an `error` (`forecast_unavailable`) naming the location."""
        where = {"dataset": FORECAST, "iso": self.iso, "market": self.market, "location": self.location}
        if self.error is not None:
            body: dict[str, object] = {
                "type": "error",
                "code": "forecast_unavailable",
                "message": self.error,
                "parameter": "locations",
                **where,
            }
        else:
            body = {
                "type": "forecast",
                **where,
                "model": MODEL,
                "model_version": self.model_version,
                "trained_through": iso_time(self.trained_through_us),
                "issued_at": iso_time(self.issued_at_us),
                "last_interval_start": iso_time(self.last_interval_start_us),
                "interval_start": [iso_time(us) for us in self.interval_start_us],
                "point": self.point,
                "p10": self.p10,
                "p50": self.p50,
                "p90": self.p90,
            }
        return orjson.dumps(body).decode()
