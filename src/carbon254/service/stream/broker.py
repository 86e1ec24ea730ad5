"""Pub/sub for the stream: in-process (embedded) or Redis (several service processes).

A `Broker` moves opaque messages (bytes) from a publisher to every current
subscriber of a channel. Delivery is at most once: a subscriber that falls
more than `queue_max` messages behind, or whose broker connection dropped and
came back, is told so by `MessagesLost` from `Subscription.get` (once per
loss) and stays subscribed; the consumer then catches up from the store,
which is the durable record. No subscriber can make a broker hold more than
`queue_max` messages for it, so one slow consumer never grows memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from carbon254.config import Settings

logger = logging.getLogger("carbon254.service.stream")

DEFAULT_QUEUE_MAX = 10_000  # messages one subscription may hold before it is told it lost some
RECONNECT_MIN_S = 0.05
RECONNECT_MAX_S = 2.0
READ_TIMEOUT_S = 0.05  # how long the Redis reader waits for a message before handling (un)subscribes


class MessagesLost(Exception):
    """Messages for a subscription may have been dropped; it is still subscribed. Resynchronize."""


class SubscriptionClosed(Exception):
    """The subscription (or its broker) was closed."""


class Subscription(Protocol):
    """One subscriber's view of a channel: messages in publication order."""

    channel: str

    async def get(self) -> bytes:
        """The next message; `MessagesLost` once after a loss, `SubscriptionClosed` once closed."""
        ...

    async def close(self) -> None:
        """Stop receiving and free the queued messages."""
        ...

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Messages until closed; a loss ends the iteration with `MessagesLost`."""
        ...


class Broker(Protocol):
    """Publish bytes to a channel; subscribe to a channel's messages."""

    async def start(self) -> None:
        """Connect (Redis) or do nothing (in-process); called at application startup."""
        ...

    async def ping(self) -> None:
        """Return if the broker can deliver now, else raise (the `/ready` probe; cheap)."""
        ...

    async def publish(self, channel: str, message: bytes) -> None:
        """Send `message` to every current subscriber of `channel` (none: dropped)."""
        ...

    async def subscribe(self, channel: str) -> Subscription:
        """A subscription receiving every message published to `channel` after this returns."""
        ...

    async def close(self) -> None:
        """Close every subscription and connection."""
        ...


class QueueSubscription:
    """A subscription backed by a bounded local queue, fed by its broker on the event loop."""

    def __init__(
        self, channel: str, queue_max: int, on_close: Callable[[QueueSubscription], Awaitable[None]]
    ) -> None:
        self.channel = channel
        self._queue: deque[bytes] = deque()
        self._queue_max = queue_max
        self._ready = asyncio.Event()
        self._lost = False
        self._closed = False
        self._on_close = on_close

    def deliver(self, message: bytes) -> None:
        """Queue a message without blocking; past `queue_max` the queue is dropped and a loss flagged."""
        if self._closed:
            return
        if len(self._queue) >= self._queue_max:
            # The subscriber must resynchronize anyway, so keeping older messages is useless.
            self._queue.clear()
            self._lost = True
        else:
            self._queue.append(message)
        self._ready.set()

    def mark_lost(self) -> None:
        """Flag that messages may have been missed (e.g. the broker connection was re-established)."""
        if not self._closed:
            self._lost = True
            self._ready.set()

    def end(self) -> None:
        """Close from the broker's side: `get` raises `SubscriptionClosed`."""
        self._closed = True
        self._queue.clear()
        self._ready.set()

    async def get(self) -> bytes:
        """The next message; see `Subscription.get`."""
        while True:
            if self._closed:
                raise SubscriptionClosed(self.channel)
            if self._lost:
                self._lost = False
                raise MessagesLost(self.channel)
            if self._queue:
                return self._queue.popleft()
            self._ready.clear()
            await self._ready.wait()

    async def close(self) -> None:
        """Unsubscribe and free the queue."""
        if not self._closed:
            self.end()
            await self._on_close(self)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while True:
            try:
                yield await self.get()
            except SubscriptionClosed:
                return


class InProcessBroker:
    """The embedded broker: subscribers in this process only, each with a bounded queue."""

    def __init__(self, queue_max: int = DEFAULT_QUEUE_MAX) -> None:
        self.queue_max = queue_max
        self._channels: dict[str, set[QueueSubscription]] = {}

    async def start(self) -> None:
        """Nothing to connect."""

    async def ping(self) -> None:
        """Always answers: the broker is this process."""

    def has_subscribers(self) -> bool:
        """Whether any channel has a subscriber (the watcher need not read commits otherwise)."""
        return bool(self._channels)

    async def publish(self, channel: str, message: bytes) -> None:
        """Queue `message` for each subscriber of `channel`; never waits for a slow one."""
        for sub in tuple(self._channels.get(channel, ())):
            sub.deliver(message)

    async def subscribe(self, channel: str) -> Subscription:
        """A bounded-queue subscription to `channel`."""
        sub = QueueSubscription(channel, self.queue_max, self._remove)
        self._channels.setdefault(channel, set()).add(sub)
        return sub

    async def _remove(self, sub: QueueSubscription) -> None:
        subs = self._channels.get(sub.channel)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._channels[sub.channel]

    async def close(self) -> None:
        """End every subscription."""
        for subs in self._channels.values():
            for sub in subs:
                sub.end()
        self._channels.clear()


class RedisBroker:
    """Redis pub/sub: one connection per process reads every subscribed channel and fans out locally.

    A reader task owns the subscriber connection and keeps it subscribed to
    the channels with local subscribers, every read cycle (`READ_TIMEOUT_S`).
    When Redis goes away it logs once, retries with backoff, re-subscribes
    every channel when Redis is back, and flags each subscription with
    `MessagesLost` only once Redis confirmed its channel again, so a
    consumer that resynchronizes from the store cannot miss what is
    published after. `subscribe` returns once Redis delivers the channel:
    confirmed, or subscribed all along (a channel closed and reopened within
    one read cycle is never unsubscribed at all).
    """

    def __init__(self, url: str, queue_max: int = DEFAULT_QUEUE_MAX) -> None:
        self.url = url
        self.queue_max = queue_max
        # Fail fast and never retry inside a command: the reader task and the watcher do the retrying,
        # and a command cancelled mid-retry (a timed-out readiness probe) could leave a pooled
        # connection half-read.
        self.client: aioredis.Redis = aioredis.from_url(
            url, socket_connect_timeout=1.0, socket_timeout=1.0, retry=Retry(NoBackoff(), 0)
        )
        self._channels: dict[str, set[QueueSubscription]] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        # The reader's connection as Redis will see it once the commands sent so far are
        # processed: channels SUBSCRIBEd and not UNSUBSCRIBEd since, and per channel the
        # (un)subscribe replies still to come. Both are updated before a command is sent, so
        # whoever reads them between two awaits sees every command already on its way.
        self._on_connection: set[str] = set()
        self._unanswered: Counter[str] = Counter()
        # Channels whose subscriptions lost messages while Redis was away, flagged once
        # their channel is subscribed again on the new connection.
        self._stale: set[str] = set()
        self._reader: asyncio.Task[None] | None = None
        self._outage = False
        self.connected = asyncio.Event()

    async def start(self) -> None:
        """Start the reader task (it connects, and reconnects, by itself)."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever(), name="carbon254-stream-redis-reader")

    async def ping(self) -> None:
        """PING Redis; raises `redis.exceptions.RedisError` when Redis is unreachable."""
        await self._fresh_after_outage(self.client.ping)

    async def publish(self, channel: str, message: bytes) -> None:
        """PUBLISH to Redis; raises `redis.exceptions.RedisError` when Redis is unreachable."""
        await self._fresh_after_outage(lambda: self.client.publish(channel, message))

    async def _fresh_after_outage(self, command: Callable[[], Awaitable[object]]) -> None:
        """Run `command`; on a connection error, drop the idle pooled connections and run it once more.

        After Redis restarts, every idle connection in the pool still points at
        the old server and fails once when next used. Without this, `/ready`
        flapped between ready and not ready until each had failed in turn.
        """
        try:
            await command()
        except RedisConnectionError:
            await self.client.connection_pool.disconnect(inuse_connections=False)
            await command()

    async def subscribe(self, channel: str) -> Subscription:
        """Subscribe (on the shared connection) and return once Redis is known to deliver `channel`.

        That is at once when the connection is already subscribed with no
        (un)subscribe of the channel still unanswered (another local
        subscriber, or one that closed a moment ago and whose UNSUBSCRIBE
        was not sent yet); otherwise when Redis confirmed the SUBSCRIBE.
        """
        sub = QueueSubscription(channel, self.queue_max, self._remove)
        self._channels.setdefault(channel, set()).add(sub)
        if self._live(channel):
            return sub
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        try:
            await waiter
        except BaseException:
            waiting = self._waiters.get(channel)
            if waiting is not None and waiter in waiting:
                waiting.remove(waiter)
                if not waiting:
                    del self._waiters[channel]
            await self._remove(sub)
            raise
        return sub

    async def _remove(self, sub: QueueSubscription) -> None:
        subs = self._channels.get(sub.channel)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._channels[sub.channel]
                self._stale.discard(sub.channel)

    def _live(self, channel: str) -> bool:
        """Whether Redis delivers `channel` on the reader's connection now, and will until it is dropped."""
        return channel in self._on_connection and not self._unanswered[channel]

    async def close(self) -> None:
        """Stop the reader, end every subscription and close the connections."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        for subs in self._channels.values():
            for sub in subs:
                sub.end()
        self._channels.clear()
        for waiters in self._waiters.values():
            for w in waiters:
                if not w.done():
                    w.set_exception(SubscriptionClosed("broker closed"))
        self._waiters.clear()
        await self.client.aclose()

    async def _read_forever(self) -> None:
        delay = RECONNECT_MIN_S
        first = True
        while True:
            pubsub = self.client.pubsub()
            try:
                # A subscriber connection needs one channel before it can be read.
                await pubsub.subscribe(_KEEPALIVE_CHANNEL)
                if not first:
                    logger.warning("stream broker: Redis at %s is reachable again", _safe_url(self.url))
                first, self._outage, delay = False, False, RECONNECT_MIN_S
                self.connected.set()
                while True:
                    await self._sync_channels(pubsub)
                    message = await pubsub.get_message(timeout=READ_TIMEOUT_S)
                    if message is not None:
                        self._dispatch(message)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            except (RedisError, OSError) as exc:
                self.connected.clear()
                # Nothing is delivered until the next connection subscribes again, and whatever
                # was subscribed may have missed messages by then.
                self._on_connection, self._unanswered = set(), Counter()
                self._stale |= set(self._channels)
                if not self._outage:
                    self._outage = True
                    logger.warning(
                        "stream broker: lost Redis at %s (%s); retrying until it is back",
                        _safe_url(self.url),
                        exc,
                    )
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def _sync_channels(self, pubsub: aioredis.client.PubSub) -> None:
        """(Un)subscribe so the connection follows `_channels`, booking each command before it is sent."""
        wanted = set(self._channels)
        add, drop = wanted - self._on_connection, self._on_connection - wanted
        if not add and not drop:
            return
        self._on_connection = wanted
        self._unanswered.update(add | drop)
        if add:
            await pubsub.subscribe(*add)
        if drop:
            await pubsub.unsubscribe(*drop)

    def _dispatch(self, message: dict[str, object]) -> None:
        raw_channel = message.get("channel")
        channel = raw_channel.decode() if isinstance(raw_channel, bytes) else str(raw_channel)
        kind = message.get("type")
        if kind in ("subscribe", "unsubscribe"):
            if self._unanswered[channel] > 0:  # the keepalive channel is not booked
                self._unanswered[channel] -= 1
            if self._live(channel):
                self._now_live(channel)
        elif kind == "message":
            data = message.get("data")
            if isinstance(data, bytes):
                for sub in tuple(self._channels.get(channel, ())):
                    sub.deliver(data)

    def _now_live(self, channel: str) -> None:
        """Redis delivers `channel` again: release its waiting subscribers, flag a loss to the others."""
        for waiter in self._waiters.pop(channel, []):
            if not waiter.done():
                waiter.set_result(None)
        if channel in self._stale:
            self._stale.discard(channel)
            # Only now: a consumer that resynchronizes from the store cannot miss what follows.
            for sub in self._channels.get(channel, ()):
                sub.mark_lost()


_KEEPALIVE_CHANNEL = "carbon254:stream:keepalive"


def _safe_url(url: str) -> str:
    """The URL without a password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def build_broker(settings: Settings) -> Broker:
    """The broker `settings.cache_url` names: `memory://` in-process, `redis://`/`rediss://` Redis."""
    url = settings.cache_url
    if url.startswith("memory://"):
        return InProcessBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url)
    raise ValueError(f"CARBON254_CACHE_URL must be memory:// or redis://host:port/db, not {_safe_url(url)!r}")
