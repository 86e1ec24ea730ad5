"""Per-process fan-out of forecasts: one broker subscription per forecast channel, shared by connections.

Listeners (the connections' forecast subscriptions) each follow some
locations of one channel. The feed keeps the process's interest in those
series posted on the `ForecastBoard` (at once when a listener joins, then
every `RENEW_S` seconds), so the publishing process keeps forecasting them.
Each broker message is decoded once and, once the `CredentialsGuard` has
applied every credentials change made before it arrived (as the `Hub` does
for market data), handed to the channel's listeners. After a broker loss
the listeners get each series' latest forecast from the board instead of
what was missed: a forecast supersedes the ones before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

from carbon254.service.stream.broker import Broker, MessagesLost, Subscription, SubscriptionClosed
from carbon254.service.stream.forecast_board import INTEREST_TTL_S, ForecastBoard
from carbon254.service.stream.forecast_messages import ForecastChannel, ForecastKey, ForecastMessage
from carbon254.service.stream.guard import CredentialsGuard
from carbon254.service.stream.hub import SUBSCRIBE_TIMEOUT_S, StreamUnavailable

logger = logging.getLogger("carbon254.service.stream")

RENEW_S = INTEREST_TTL_S / 4


class ForecastListener(Protocol):
    """A consumer of one channel's forecasts, called on the event loop; must return at once."""

    @property
    def keys(self) -> frozenset[ForecastKey]:
        """The series it follows."""
        ...

    def on_forecast(self, message: ForecastMessage) -> None:
        """Take a forecast (of any location of the channel: the listener keeps its own)."""
        ...


@dataclass(eq=False)
class _Channel:
    subscription: Subscription
    listeners: set[ForecastListener] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class ForecastFeed:
    """The forecast channels this process's connections follow."""

    def __init__(
        self, broker: Broker, namespace: str, board: ForecastBoard, guard: CredentialsGuard | None = None
    ) -> None:
        self.broker = broker
        self.namespace = namespace
        self.board = board
        self.guard = guard
        self._channels: dict[ForecastChannel, _Channel] = {}
        self._lock = asyncio.Lock()
        self._renewer: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start renewing the process's interest (call on the event loop)."""
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew(), name="carbon254-stream-forecast-interest")

    async def close(self) -> None:
        """Stop renewing and end every channel subscription."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        async with self._lock:
            channels, self._channels = list(self._channels.values()), {}
            for channel in channels:
                await self._stop(channel)

    def keys(self) -> set[ForecastKey]:
        """Every series some listener of this process follows."""
        return {k for channel in self._channels.values() for li in channel.listeners for k in li.keys}

    async def listen(self, channel: ForecastChannel, listener: ForecastListener) -> None:
        """Deliver `channel`'s forecasts published from now on to `listener`, and post its interest.

        Raises `StreamUnavailable` if the broker cannot subscribe within
        `SUBSCRIBE_TIMEOUT_S`.
        """
        async with self._lock:
            feed = self._channels.get(channel)
            if feed is None:
                try:
                    sub = await asyncio.wait_for(
                        self.broker.subscribe(channel.name(self.namespace)), SUBSCRIBE_TIMEOUT_S
                    )
                except (TimeoutError, SubscriptionClosed) as exc:
                    raise StreamUnavailable(
                        "the stream's message broker is unavailable; retry later"
                    ) from exc
                feed = _Channel(sub)
                feed.task = asyncio.create_task(self._pump(feed), name=f"carbon254-stream-{channel}")
                self._channels[channel] = feed
            feed.listeners.add(listener)
        await self.board.want(listener.keys)

    async def unlisten(self, channel: ForecastChannel, listener: ForecastListener) -> None:
        """Stop delivering to `listener`; the channel's subscription ends with its last listener."""
        async with self._lock:
            feed = self._channels.get(channel)
            if feed is None:
                return
            feed.listeners.discard(listener)
            if not feed.listeners:
                del self._channels[channel]
                await self._stop(feed)

    async def _stop(self, feed: _Channel) -> None:
        if feed.task is not None:
            feed.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed.task
        await feed.subscription.close()

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_S)
            try:
                await self.board.want(self.keys())
            except Exception as exc:  # Redis away: the interest lapses until it is back
                logger.warning("stream: cannot renew the forecasts this process follows (%s)", exc)

    async def _pump(self, feed: _Channel) -> None:
        while True:
            try:
                raw = await feed.subscription.get()
            except SubscriptionClosed:
                return
            except MessagesLost:
                await self._catch_up(feed)
                continue
            ticket = self.guard.ticket() if self.guard is not None else 0
            try:
                message = ForecastMessage.decode(raw)
            except ValueError:
                logger.warning("stream: ignored a malformed message on %s", feed.subscription.channel)
                continue
            await self._cleared(ticket)
            for listener in tuple(feed.listeners):
                listener.on_forecast(message)

    async def _cleared(self, ticket: int) -> None:
        if self.guard is not None and not self.guard.clear(ticket):
            await self.guard.cleared(ticket)

    async def _catch_up(self, feed: _Channel) -> None:
        """After a loss: each listener's series' latest forecast, retried until the board answers."""
        delay = 0.05
        while True:
            ticket = self.guard.ticket() if self.guard is not None else 0
            try:
                latest = await self.board.latest({k for li in feed.listeners for k in li.keys})
                break
            except Exception as exc:
                logger.warning("stream: cannot read the latest forecasts (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        await self._cleared(ticket)
        for message in latest:
            for listener in tuple(feed.listeners):
                listener.on_forecast(message)
