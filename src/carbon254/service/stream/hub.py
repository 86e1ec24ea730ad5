"""Per-process fan-out: one broker subscription per channel, shared by every local connection.

The hub decodes each broker message once and hands it to the channel's
listeners (WebSocket subscriptions), which must not block. It keeps each
channel's position, `(commit, part)` of the last message delivered, so:

* a message at or before the position is skipped (a publisher's retry, or a
  commit already replayed), and
* when the broker reports lost messages (a slow hub, a Redis reconnect), the
  hub replays the missed commits of that channel from the store's change
  feed, then carries on with live messages: listeners see no gap and no
  duplicate.

With a `CredentialsGuard`, every message (live or replayed) waits until the
guard has applied each credentials change committed before it arrived, so a
listener whose entitlement was taken away never receives it. Channels are
locked one by one: a channel whose broker subscription is slow to confirm
holds up only the listeners of that channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from carbon254.service.stream.broker import Broker, MessagesLost, Subscription, SubscriptionClosed
from carbon254.service.stream.guard import CredentialsGuard
from carbon254.service.stream.messages import LAST_PART, Channel, CommitMessage, change_messages
from carbon254.store.base import Store

logger = logging.getLogger("carbon254.service.stream")

SUBSCRIBE_TIMEOUT_S = 5.0  # a broker that cannot confirm a subscription by then is unavailable
REPLAY_PAGE_ROWS = 50_000


class Listener(Protocol):
    """A consumer of one channel's messages, called on the event loop; must return at once."""

    def on_message(self, message: CommitMessage) -> None: ...


class StreamUnavailable(Exception):
    """The broker could not subscribe (Redis down): the client should retry later."""


@dataclass(eq=False)
class _Feed:
    channel: Channel
    subscription: Subscription
    position: tuple[int, int]
    listeners: set[Listener] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class Hub:
    """Channels this process's connections listen to, each fed by one broker subscription."""

    def __init__(
        self,
        broker: Broker,
        namespace: str,
        store: Callable[[], Store],
        guard: CredentialsGuard | None = None,
    ) -> None:
        self.broker = broker
        self.namespace = namespace
        self.guard = guard
        self._store = store
        self._feeds: dict[Channel, _Feed] = {}
        # One lock per channel (there are a few hundred at most): listen/unlisten of one
        # channel run one at a time, and never wait for another channel's.
        self._locks: dict[Channel, asyncio.Lock] = {}

    async def listen(self, channel: Channel, listener: Listener) -> None:
        """Deliver every message of `channel` published from now on to `listener`.

        Raises `StreamUnavailable` if the broker cannot subscribe within
        `SUBSCRIBE_TIMEOUT_S`.
        """
        async with self._lock(channel):
            feed = self._feeds.get(channel)
            if feed is None:
                try:
                    sub = await asyncio.wait_for(
                        self.broker.subscribe(channel.name(self.namespace)), SUBSCRIBE_TIMEOUT_S
                    )
                except (TimeoutError, SubscriptionClosed) as exc:
                    raise StreamUnavailable(
                        "the stream's message broker is unavailable; retry later"
                    ) from exc
                # Subscribed first, then the head: whatever commits after it arrives live.
                head = int(await asyncio.to_thread(self._store().change_cursor))
                feed = _Feed(channel, sub, (head, LAST_PART))
                feed.task = asyncio.create_task(self._pump(feed), name=f"carbon254-stream-{channel}")
                self._feeds[channel] = feed
            feed.listeners.add(listener)

    async def unlisten(self, channel: Channel, listener: Listener) -> None:
        """Stop delivering to `listener`; the channel's subscription ends with its last listener."""
        async with self._lock(channel):
            feed = self._feeds.get(channel)
            if feed is None:
                return
            feed.listeners.discard(listener)
            if not feed.listeners:
                del self._feeds[channel]
                await self._stop(feed)

    async def close(self) -> None:
        """End every channel subscription."""
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            async with self._lock(feed.channel):
                await self._stop(feed)

    def _lock(self, channel: Channel) -> asyncio.Lock:
        lock = self._locks.get(channel)
        if lock is None:
            lock = self._locks[channel] = asyncio.Lock()
        return lock

    async def _stop(self, feed: _Feed) -> None:
        if feed.task is not None:
            feed.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed.task
        await feed.subscription.close()

    async def _pump(self, feed: _Feed) -> None:
        while True:
            try:
                raw = await feed.subscription.get()
            except SubscriptionClosed:
                return
            except MessagesLost:
                await self._replay(feed)
                continue
            ticket = self.guard.ticket() if self.guard is not None else 0
            try:
                message = CommitMessage.decode(raw)
            except ValueError:
                logger.warning("stream: ignored a malformed message on %s", feed.subscription.channel)
                continue
            await self._cleared(ticket)
            self._deliver(feed, message)

    async def _cleared(self, ticket: int) -> None:
        """Wait until the guard (if any) has applied the credentials changes made before `ticket`."""
        if self.guard is not None and not self.guard.clear(ticket):
            await self.guard.cleared(ticket)

    def _deliver(self, feed: _Feed, message: CommitMessage) -> None:
        if message.position <= feed.position:
            return
        feed.position = message.position
        for listener in tuple(feed.listeners):
            listener.on_message(message)

    async def _replay(self, feed: _Feed) -> None:
        """Deliver the channel's commits after its position from the store, retrying until it answers."""
        commit, part = feed.position
        # Mid-commit, replay that whole commit; parts already delivered are skipped by position.
        cursor = str(commit if part == LAST_PART else commit - 1)
        delay = 0.05
        while True:
            try:
                changes = await asyncio.to_thread(self._store().changes_since, cursor, REPLAY_PAGE_ROWS)
            except Exception:
                logger.exception("stream: replay of %s from the store failed; retrying", feed.channel)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            await self._cleared(self.guard.ticket() if self.guard is not None else 0)
            for message in change_messages(changes):
                if message.channel == feed.channel:
                    self._deliver(feed, message)
            cursor = changes.cursor
            if not changes.more:
                feed.position = max(feed.position, (int(cursor), LAST_PART))
                return
