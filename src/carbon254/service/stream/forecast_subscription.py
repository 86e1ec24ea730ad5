"""A connection's subscription to the sub-hourly forecasts of some locations: the latest, then each new one.

Subscribing registers with the process's `ForecastFeed` first (which also
posts the interest, so the publishing process starts forecasting a new
location), then sends each location's latest forecast the board holds:
nothing published in between is lost, and anything the listener already
sent, or older than it, is skipped by its position. A location that has no
forecast yet gets its first once its model is fitted. Forecasts of other
locations of the channel never get past `on_forecast`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from carbon254.service.stream.forecast_messages import ForecastKey, ForecastMessage
from carbon254.service.stream.protocol import ForecastRequest


class ForecastSink(Protocol):
    """Where a forecast subscription's frames go: the connection's send queue."""

    def offer(self, frame: str, owner: ForecastSubscription | None = None) -> None:
        """Queue a frame for the client without waiting (a full queue drops the client)."""
        ...


class ForecastSubscription:
    """One connection's subscription to `request`'s locations; the feed's listener."""

    def __init__(self, sink: ForecastSink, request: ForecastRequest) -> None:
        self.sink = sink
        self.request = request
        self._keys = request.keys
        # Set once unsubscribed, replaced or no longer allowed: nothing more of it is sent.
        self.ended = False
        self._sent: dict[ForecastKey, tuple[int, int]] = {}

    @property
    def keys(self) -> frozenset[ForecastKey]:
        """The series followed."""
        return self._keys

    def on_forecast(self, message: ForecastMessage) -> None:
        """Send a forecast of a followed location newer than the last one sent of it."""
        key = message.key
        if self.ended or key not in self._keys:
            return
        sent = self._sent.get(key)
        if sent is not None and message.position <= sent:
            return
        self._sent[key] = message.position
        self.sink.offer(message.frame(), self)

    def begin(self, latest: Sequence[ForecastMessage]) -> None:
        """Send the latest forecast of each followed location the board holds."""
        for message in latest:
            self.on_forecast(message)

    def end(self) -> None:
        """Send nothing more, including frames already queued."""
        self.ended = True
