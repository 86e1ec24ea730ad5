"""One WebSocket connection to `/v1/stream`: its subscriptions, its bounded send queue, its close.

Three tasks run per connection: the reader (client messages), the writer
(drains the send queue to the socket) and the heartbeat (which also
re-checks the credential, so an expired token is cut off within one
heartbeat). Live messages reach a subscription from the `Hub`
synchronously and are only ever offered to the send queue: when it already
holds `stream_queue_max` messages the client is too slow, its queue is
freed and the connection closed with 4008. Replayed rows (a resume) are put
on the queue with back-pressure instead, leaving room for live messages.

The session's principal changes when the client re-authenticates (an `auth`
message), at a heartbeat's re-check, and whenever the process's
`CredentialsGuard` sees the credentials version move (a key revoked, an
entitlement removed, by any process), before the hub delivers anything
further. A refused credential closes the connection with 4401; each
subscription the new principal may not see ends at once with a
`not_entitled` error naming it, the others carry on. Frames of an ended
subscription still in the send queue are dropped, not sent.

A connection may also follow its tenant's jobs (`"dataset": "jobs"`, one
such subscription per connection, see `job_subscription`), fed by the
process's `JobFeed`; it ends when the connection authenticates as another
tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from carbon254.application.errors import ApiError
from carbon254.application.forecast import FORECAST_FEATURE
from carbon254.application.identity import (
    AuthenticationError,
    AuthMethod,
    NotEntitled,
    Principal,
    RateLimited,
    require_data,
    require_feature,
)
from carbon254.config import Settings
from carbon254.excerpt import excerpt
from carbon254.jobs import JobState
from carbon254.schema import Dataset, spec
from carbon254.service.identity import RateLimiter, authenticate_request, credential_from_headers
from carbon254.service.job_view import base_url
from carbon254.service.stream.forecast_feed import ForecastFeed
from carbon254.service.stream.forecast_messages import FORECAST, ForecastChannel
from carbon254.service.stream.forecast_subscription import ForecastSubscription
from carbon254.service.stream.guard import Outcome
from carbon254.service.stream.hub import Hub, StreamUnavailable
from carbon254.service.stream.job_feed import JobFeed
from carbon254.service.stream.job_subscription import JobSubscription
from carbon254.service.stream.messages import Channel, CommitMessage, data_frame, parse_time, table_rows
from carbon254.service.stream.metrics import StreamMetrics
from carbon254.service.stream.protocol import (
    JOBS,
    ClientMessage,
    ProtocolError,
    SubscribeRequest,
    channel_fields,
    control_frame,
    is_forecast,
    is_jobs,
    now_utc,
    parse_channel,
    parse_forecast_channel,
    parse_forecast_subscribe,
    parse_jobs_subscribe,
    parse_message,
    parse_subscribe,
)
from carbon254.store.base import Store

logger = logging.getLogger("carbon254.service.stream")

AUTH_TIMEOUT_S = 10.0  # how long a connection without credentials may take to send an `auth` message
REPLAY_ROWS = 5_000  # rows per replayed `data` message
# A dropped slow consumer gets this long to read what is in flight and the close frame.
CLOSE_TIMEOUT_S = 10.0


class CloseCode:
    """WebSocket close codes of the stream (4000-4999 are the application's)."""

    NORMAL = 1000
    UNAVAILABLE = 1013  # try again later: the broker is down
    SLOW_CONSUMER = 4008
    UNAUTHENTICATED = 4401
    NOT_ENTITLED = 4403
    RATE_LIMITED = 4429


@dataclass(frozen=True, slots=True)
class StreamClose(Exception):
    """End the connection with `code`, after sending an `error` message saying why."""

    code: int
    error: str
    message: str


class FrameOwner(Protocol):
    """The subscription a queued frame serves; once it has `ended`, its frames are dropped unsent."""

    ended: bool


class SendQueue:
    """Text frames waiting for the writer, at most `limit` of them, each with the subscription it serves.

    A frame's subscription (None for control frames) lets the writer drop
    the frames of a subscription that ended while they waited.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._frames: deque[tuple[str, FrameOwner | None]] = deque()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    def __len__(self) -> int:
        return len(self._frames)

    def offer(self, frame: str, owner: FrameOwner | None = None) -> bool:
        """Queue a frame without waiting; False (nothing queued) when the queue is full."""
        if len(self._frames) >= self.limit:
            return False
        self._frames.append((frame, owner))
        self._ready.set()
        return True

    async def put(self, frame: str, owner: FrameOwner | None = None) -> None:
        """Queue a frame once the queue is at most half full, so live messages keep their room."""
        while len(self._frames) > self.limit // 2:
            self._room.clear()
            await self._room.wait()
        self._frames.append((frame, owner))
        self._ready.set()

    async def get(self) -> tuple[str, FrameOwner | None]:
        """The next frame and its subscription, waiting for one."""
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        frame = self._frames.popleft()
        if len(self._frames) <= self.limit // 2:
            self._room.set()
        return frame

    def clear(self) -> None:
        """Drop every queued frame (a dropped consumer's memory is freed at once)."""
        self._frames.clear()
        self._room.set()


@dataclass(eq=False)
class _Subscription:
    """A connection's subscription to one channel: the hub's listener."""

    session: StreamSession
    request: SubscribeRequest
    # Live messages held while a resume replays from the store; None once live.
    buffer: list[CommitMessage] | None = field(default=None)
    # Set once unsubscribed, replaced, or no longer allowed: nothing more of it is sent.
    ended: bool = False

    def on_message(self, message: CommitMessage) -> None:
        """Queue (or buffer, during a resume) a live message; the session drops a slow client."""
        if self.ended:
            return
        if self.buffer is not None:
            self.buffer.append(message)
            if len(self.buffer) > self.session.settings.stream_queue_max:
                self.session.drop_slow_consumer()
            return
        frame = message.frame(self.request.location_set)
        if frame is not None:
            self.session.offer(frame, self)

    def end(self) -> None:
        """Stop sending this subscription's messages, including those already queued or buffered."""
        self.ended = True
        self.buffer = None


class StreamSession:
    """Serves one accepted WebSocket until the client leaves or is closed."""

    def __init__(
        self,
        websocket: WebSocket,
        hub: Hub,
        store: Callable[[], Store],
        settings: Settings,
        metrics: StreamMetrics,
    ) -> None:
        self.websocket = websocket
        self.hub = hub
        self._store = store
        self.settings = settings
        self.metrics = metrics
        self.queue = SendQueue(settings.stream_queue_max)
        self.principal: Principal | None = None
        self._credential: str | None = None
        self._subscriptions: dict[Channel, _Subscription] = {}
        self._jobs: JobSubscription | None = None
        self._forecasts: dict[ForecastChannel, ForecastSubscription] = {}
        self._closing: StreamClose | None = None
        self._closed = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()

    # ---- lifecycle ---------------------------------------------------------------------------

    async def run(self, headers: dict[str, str]) -> None:
        """Authenticate, then serve until the client leaves or the connection must close."""
        await self.websocket.accept()
        self.metrics.connected.inc()
        tasks: list[asyncio.Task[None]] = []
        try:
            if headers:
                await self._authenticate(headers)
            else:
                await self._authenticate_anonymous_or_wait()
            tasks = [
                asyncio.create_task(self._write()),
                asyncio.create_task(self._read()),
                asyncio.create_task(self._heartbeat()),
                asyncio.create_task(self._until_closed()),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                failure = task.exception() if task.done() and not task.cancelled() else None
                if isinstance(failure, StreamClose) and self._closing is None:
                    self._closing = failure
        except StreamClose as close:
            self._closing = close
        except WebSocketDisconnect:
            pass
        finally:
            if self.hub.guard is not None:
                self.hub.guard.release(self)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            for channel, sub in list(self._subscriptions.items()):
                await self.hub.unlisten(channel, sub)
            self._end_jobs()
            forecast_feed: ForecastFeed | None = getattr(
                self.websocket.app.state, "stream_forecast_feed", None
            )
            for forecast_channel, forecasts in list(self._forecasts.items()):
                forecasts.end()
                if forecast_feed is not None:
                    await forecast_feed.unlisten(forecast_channel, forecasts)
            self._forecasts.clear()
            for pending in list(self._background):
                with contextlib.suppress(BaseException):
                    await pending
            self._subscriptions.clear()
            self.queue.clear()
            await self._close_socket()
            self.metrics.connected.dec()

    async def _close_socket(self) -> None:
        if self.websocket.client_state is not WebSocketState.CONNECTED:
            return
        close = self._closing
        with contextlib.suppress(Exception):
            if close is not None:
                if close.code != CloseCode.SLOW_CONSUMER:  # a slow client would not read it in time
                    await asyncio.wait_for(
                        self.websocket.send_text(
                            control_frame("error", code=close.error, message=close.message)
                        ),
                        1.0,
                    )
                await asyncio.wait_for(self.websocket.close(close.code, close.message[:120]), CLOSE_TIMEOUT_S)
            else:
                await asyncio.wait_for(self.websocket.close(CloseCode.NORMAL), 5.0)

    async def _until_closed(self) -> None:
        await self._closed.wait()

    def close(self, close: StreamClose) -> None:
        """Ask the connection to close with `close`'s code (from any callback on the event loop)."""
        if self._closing is None:
            self._closing = close
        self._closed.set()

    def drop_slow_consumer(self) -> None:
        """Free the client's queue and close it with 4008: it fell `stream_queue_max` messages behind."""
        if self._closing is None:
            self.metrics.dropped.inc()
            logger.info("stream: dropped a slow consumer (%s messages behind)", len(self.queue))
        self.queue.clear()
        for sub in self._subscriptions.values():
            sub.buffer = None if sub.buffer is None else []
        if self._jobs is not None and self._jobs.buffer is not None:
            self._jobs.buffer = []
        self.close(StreamClose(CloseCode.SLOW_CONSUMER, "slow_consumer", "slow consumer"))

    def offer(self, frame: str, owner: FrameOwner | None = None) -> None:
        """Queue a frame (of subscription `owner`, if any) for the client; drop the client if it is full."""
        if self._closing is not None:
            return
        if not self.queue.offer(frame, owner):
            self.drop_slow_consumer()

    # ---- identity -----------------------------------------------------------------------------

    async def _authenticate(self, headers: dict[str, str]) -> None:
        """Authenticate `headers` (charged to the rate limit), adopt the principal and guard it."""
        guard = self.hub.guard
        state = self.websocket.app.state

        def versioned() -> tuple[int | None, Principal]:
            # The version first: a change committed after it is applied by the guard later.
            version = guard.read_version() if guard is not None and headers else None
            return version, authenticate_request(state, headers)

        try:
            version, principal = await asyncio.to_thread(versioned)
        except AuthenticationError as exc:
            raise StreamClose(CloseCode.UNAUTHENTICATED, "unauthenticated", str(exc)) from None
        except RateLimited as exc:
            raise StreamClose(CloseCode.RATE_LIMITED, "rate_limited", str(exc)) from None
        except ApiError as exc:  # the metadata database is unreachable: the credential may be fine
            raise StreamClose(CloseCode.UNAVAILABLE, "unavailable", exc.message) from None
        anonymous = principal.method is AuthMethod.NONE
        self._credential = None if anonymous else credential_from_headers(headers)
        self._adopt(principal)
        if guard is None:
            return
        if self._credential is None:
            guard.release(self)
            return
        try:
            await guard.admit(self, version)
        except ApiError as exc:
            raise StreamClose(CloseCode.UNAVAILABLE, "unavailable", exc.message) from None

    async def _authenticate_anonymous_or_wait(self) -> None:
        """No credential on the handshake: fine if auth is off, else the first message must be `auth`."""
        try:
            await self._authenticate({})
            return
        except StreamClose as close:
            if close.code != CloseCode.UNAUTHENTICATED:
                raise
        try:
            text = await asyncio.wait_for(self._receive_text(), AUTH_TIMEOUT_S)
        except TimeoutError:
            raise StreamClose(
                CloseCode.UNAUTHENTICATED, "unauthenticated", "no credentials: send an auth message first"
            ) from None
        try:
            message = parse_message(text)
        except ProtocolError as exc:
            raise StreamClose(CloseCode.UNAUTHENTICATED, "unauthenticated", exc.message) from None
        if message.kind != "auth":
            raise StreamClose(
                CloseCode.UNAUTHENTICATED,
                "unauthenticated",
                'credentials required: send {"type": "auth", "token": ...} first, or use the '
                "Authorization / X-API-Key headers or the token query parameter",
            )
        await self._auth_message(message)

    async def _auth_message(self, message: ClientMessage) -> None:
        token = message.body.get("token")
        if not isinstance(token, str) or not token.strip():
            raise StreamClose(
                CloseCode.UNAUTHENTICATED, "unauthenticated", "the auth message needs a 'token'"
            )
        await self._authenticate({"authorization": f"Bearer {token.strip()}"})
        if self._closing is None:
            self.offer(control_frame("authenticated", tenant=self._principal.tenant))

    @property
    def _principal(self) -> Principal:
        if self.principal is None:  # run() authenticates before any task starts
            raise StreamClose(CloseCode.UNAUTHENTICATED, "unauthenticated", "not authenticated")
        return self.principal

    def _charge(self) -> None:
        """Count a subscription against the caller's rate limit, like a REST request."""
        limiter: RateLimiter | None = getattr(self.websocket.app.state, "rate_limiter", None)
        principal = self._principal
        if limiter is not None and principal.method is not AuthMethod.NONE:
            wait = limiter.acquire(principal.rate_key)
            if wait > 0:
                raise StreamClose(CloseCode.RATE_LIMITED, "rate_limited", str(RateLimited(wait)))

    @property
    def credential(self) -> str | None:
        """The credential the principal was proved with (None when auth is off)."""
        return self._credential

    def apply(self, outcome: Outcome) -> None:
        """Adopt a re-checked principal, or close with 4401 when the credential is refused now."""
        if isinstance(outcome, AuthenticationError):
            for sub in self._subscriptions.values():
                sub.end()
            self.close(StreamClose(CloseCode.UNAUTHENTICATED, "unauthenticated", str(outcome)))
        else:
            self._adopt(outcome)

    def _adopt(self, principal: Principal) -> None:
        """Make `principal` the session's; end at once each subscription it may not see."""
        self.principal = principal
        jobs = self._jobs
        if jobs is not None and jobs.tenant != principal.tenant:
            self._end_jobs()
            self.offer(
                control_frame(
                    "error",
                    code="not_entitled",
                    message="authenticated as another tenant: the jobs subscription followed the previous "
                    "tenant's jobs; the subscription ended",
                    parameter="dataset",
                    dataset=JOBS,
                )
            )
        for channel, sub in list(self._subscriptions.items()):
            try:
                require_data(principal, channel.iso, channel.dataset.value)
            except NotEntitled as exc:
                self._end_subscription(channel, sub, str(exc))
        for forecast_channel in list(self._forecasts):
            try:
                _require_forecast(principal, forecast_channel.iso)
            except NotEntitled as exc:
                self._end_forecasts(forecast_channel, str(exc))

    def _end_subscription(self, channel: Channel, sub: _Subscription, reason: str) -> None:
        """End a subscription the principal lost: nothing more of it is sent; the client is told why."""
        sub.end()
        del self._subscriptions[channel]
        isos = self._principal.entitlements.isos
        parameter = "iso" if isos is not None and channel.iso.upper() not in isos else "dataset"
        self.offer(
            control_frame(
                "error",
                code="not_entitled",
                message=f"{reason}; the subscription ended",
                parameter=parameter,
                **channel_fields(channel),
            )
        )
        task = asyncio.create_task(self.hub.unlisten(channel, sub))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _recheck_credential(self) -> None:
        """Authenticate the credential again, so an expired token loses the stream."""
        credential = self.credential
        if credential is None:
            return
        outcome: Outcome
        try:
            authenticator = self.websocket.app.state.authenticator
            outcome = await asyncio.to_thread(authenticator.authenticate, credential)
        except AuthenticationError as exc:
            outcome = exc
        except ApiError:
            return  # the metadata database is away: the guard holds every delivery until it is back
        if self.credential == credential:  # not replaced by an `auth` message meanwhile
            self.apply(outcome)

    # ---- tasks --------------------------------------------------------------------------------

    async def _write(self) -> None:
        while True:
            frame, owner = await self.queue.get()
            if owner is not None and owner.ended:
                continue
            await self.websocket.send_text(frame)
            self.metrics.sent.inc()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stream_heartbeat_s)
            await self._recheck_credential()
            self.offer(control_frame("heartbeat", time=now_utc().isoformat()))

    async def _receive_text(self) -> str:
        """The next client frame as text; a binary frame is read as UTF-8 JSON too."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            text = (message.get("bytes") or b"").decode("utf-8", "replace")
        return str(text)

    async def _read(self) -> None:
        while True:
            text = await self._receive_text()
            try:
                message = parse_message(text)
                if message.kind == "auth":
                    await self._auth_message(message)
                elif message.kind == "subscribe":
                    await self._subscribe(message)
                else:
                    await self._unsubscribe(message)
            except ProtocolError as exc:
                self.offer(exc.frame())
            except StreamUnavailable as exc:
                raise StreamClose(CloseCode.UNAVAILABLE, "unavailable", str(exc)) from None

    # ---- subscriptions ------------------------------------------------------------------------

    async def _subscribe(self, message: ClientMessage) -> None:
        if is_jobs(message.body):
            await self._subscribe_jobs(message)
            return
        if is_forecast(message.body):
            await self._subscribe_forecasts(message)
            return
        store = self._store()
        request = await asyncio.to_thread(
            parse_subscribe,
            message.body,
            store,
            max_locations=self.settings.max_locations,
            max_range_days=self.settings.max_range_days,
            now=now_utc(),
        )
        channel = request.channel
        try:
            require_data(self._principal, channel.iso, channel.dataset.value)
        except NotEntitled as exc:
            raise StreamClose(CloseCode.NOT_ENTITLED, "not_entitled", str(exc)) from None
        self._charge()
        previous = self._subscriptions.pop(channel, None)
        if previous is not None:  # a new subscribe to a channel replaces the old one
            previous.end()
            await self.hub.unlisten(channel, previous)
        sub = _Subscription(self, request, buffer=[] if request.since is not None else None)
        await self.hub.listen(channel, sub)  # live first, so nothing committed from now on is missed
        self._subscriptions[channel] = sub
        try:  # the principal may have changed while the hub subscribed
            require_data(self._principal, channel.iso, channel.dataset.value)
        except NotEntitled as exc:
            self._end_subscription(channel, sub, str(exc))
            return
        self.offer(
            control_frame(
                "subscribed",
                **channel_fields(channel),
                locations=list(request.locations) if request.locations is not None else None,
                since=request.since.isoformat() if request.since is not None else None,
            )
        )
        if request.since is not None:
            await self._resume(sub)

    async def _resume(self, sub: _Subscription) -> None:
        """Send the stored rows after `since`, then the live messages buffered meanwhile, minus repeats."""
        request = sub.request
        assert request.since is not None
        head, table = await asyncio.to_thread(self._read_since, request)
        channel = request.channel
        rows = table_rows(channel.dataset, table)
        for first in range(0, len(rows), REPLAY_ROWS):
            if sub.buffer is None:  # dropped, unsubscribed or ended meanwhile
                return
            await self.queue.put(data_frame(channel, rows[first : first + REPLAY_ROWS], replay=True), sub)
        # Rows the replay read that were committed after `head` (a commit racing the read).
        stamps = table.column("ingested_at").cast(pa.int64())
        late_rows = table.filter(pc.greater(stamps, head))
        late = {
            (r[_location_key(channel)], r[_time_key(channel)], stamp)
            for r, stamp in zip(
                table_rows(channel.dataset, late_rows),
                late_rows.column("ingested_at").cast(pa.int64()).to_pylist(),
                strict=True,
            )
        }
        buffered, sub.buffer = sub.buffer or [], None
        for message in buffered:
            kept = [r for r in message.rows if not _replayed(r, message.commit, request, head, late)]
            if request.location_set is not None:
                loc = _location_key(channel)
                kept = [r for r in kept if r.get(loc) in request.location_set]
            if kept:
                self.offer(data_frame(channel, kept), sub)

    def _read_since(self, request: SubscribeRequest) -> tuple[int, pa.Table]:
        """The store's head, then the latest rows with interval_start after `since` (worker thread)."""
        assert request.since is not None
        store = self._store()
        head = int(store.change_cursor())
        channel = request.channel
        start = request.since + timedelta(microseconds=1)
        table = store.read(
            channel.dataset,
            channel.iso,
            channel.market,
            list(request.locations) if request.locations is not None else None,
            start,
            start + timedelta(days=self.settings.max_range_days),
        )
        order = [(spec(channel.dataset).time_column, "ascending")]
        loc = spec(channel.dataset).location_column
        if loc is not None:
            order.append((loc, "ascending"))
        return head, table.sort_by(order)

    async def _subscribe_jobs(self, message: ClientMessage) -> None:
        """Follow the tenant's jobs (or some of them): `subscribed`, a snapshot, then each change."""
        request = parse_jobs_subscribe(message.body)
        feed, state = self._job_services()
        self._charge()
        tenant = self._principal.tenant
        self._end_jobs()  # a new jobs subscription replaces the old one
        sub = JobSubscription(self, request, tenant, base_url(self.websocket), self.settings)
        feed.listen(sub)  # first, so no change made from now on is missed
        self._jobs = sub
        try:
            snapshot = await asyncio.to_thread(state.snapshot, tenant, request.ids)
        except Exception as exc:
            self._end_jobs()
            raise StreamUnavailable("the metadata database is unavailable; retry later") from exc
        if sub is not self._jobs:  # ended meanwhile: the connection became another tenant's
            return
        found = {change.job.id for change in snapshot}
        missing = [job_id for job_id in request.ids or () if job_id not in found]
        if missing:
            self._end_jobs()
            more = f" (and {len(missing) - 1:,} more)" if len(missing) > 1 else ""
            # Another tenant's job reads exactly like a missing one, as over REST.
            raise ProtocolError("not_found", f"no job {excerpt(missing[0])}{more}", "ids")
        self.offer(
            control_frame(
                "subscribed", dataset=JOBS, ids=list(request.ids) if request.ids is not None else None
            )
        )
        sub.begin(snapshot)

    def _job_services(self) -> tuple[JobFeed, JobState]:
        """The process's job feed and job state; a refusal when this app runs without them."""
        state = self.websocket.app.state
        feed: JobFeed | None = getattr(state, "stream_job_feed", None)
        jobs: JobState | None = getattr(state, "job_state", None)
        if feed is None or jobs is None:
            raise ProtocolError("unavailable", "this service does not serve jobs", "dataset")
        return feed, jobs

    def _end_jobs(self) -> None:
        """End the jobs subscription, if any: nothing more of it is sent."""
        sub, self._jobs = self._jobs, None
        if sub is None:
            return
        sub.end()
        feed: JobFeed | None = getattr(self.websocket.app.state, "stream_job_feed", None)
        if feed is not None:
            feed.unlisten(sub)

    async def _unsubscribe(self, message: ClientMessage) -> None:
        if is_forecast(message.body):
            await self._unsubscribe_forecasts(message)
            return
        if is_jobs(message.body):
            if self._jobs is None:
                raise ProtocolError("not_subscribed", "no subscription to jobs")
            self._end_jobs()
            self.offer(control_frame("unsubscribed", dataset=JOBS))
            return
        channel = await asyncio.to_thread(parse_channel, message.body, self._store())
        sub = self._subscriptions.pop(channel, None)
        if sub is None:
            raise ProtocolError(
                "not_subscribed",
                f"no subscription to {channel.dataset.value} {channel.iso} {channel.market or ''}".strip(),
            )
        sub.end()
        await self.hub.unlisten(channel, sub)
        self.offer(control_frame("unsubscribed", **channel_fields(channel)))

    # ---- forecasts ----------------------------------------------------------------------------

    def _forecast_feed(self) -> ForecastFeed:
        """The process's forecast feed; a refusal when this app runs without one."""
        feed: ForecastFeed | None = getattr(self.websocket.app.state, "stream_forecast_feed", None)
        if feed is None:
            raise ProtocolError("unavailable", "this service does not serve forecasts", "dataset")
        return feed

    async def _subscribe_forecasts(self, message: ClientMessage) -> None:
        """Follow some locations' sub-hourly forecasts: `subscribed`, each one's latest, then each new one."""
        feed = self._forecast_feed()
        request = await asyncio.to_thread(parse_forecast_subscribe, message.body, self._store())
        channel = request.channel
        try:
            _require_forecast(self._principal, channel.iso)
        except NotEntitled as exc:
            raise StreamClose(CloseCode.NOT_ENTITLED, "not_entitled", str(exc)) from None
        self._charge()
        previous = self._forecasts.pop(channel, None)
        if previous is not None:  # a new subscribe to a channel replaces the old one
            previous.end()
            await feed.unlisten(channel, previous)
        sub = ForecastSubscription(self, request)
        await feed.listen(channel, sub)  # first, so no forecast published from now on is missed
        self._forecasts[channel] = sub
        try:  # the principal may have changed while the feed subscribed
            _require_forecast(self._principal, channel.iso)
        except NotEntitled as exc:
            self._end_forecasts(channel, str(exc))
            return
        try:
            latest = await feed.board.latest(request.keys)
        except Exception as exc:
            self._forecasts.pop(channel, None)
            sub.end()
            await feed.unlisten(channel, sub)
            raise StreamUnavailable("the stream's message broker is unavailable; retry later") from exc
        self.offer(
            control_frame(
                "subscribed",
                dataset=FORECAST,
                iso=channel.iso,
                market=channel.market,
                locations=list(request.locations),
            )
        )
        if not sub.ended:
            sub.begin(latest)

    def _end_forecasts(self, channel: ForecastChannel, reason: str) -> None:
        """End a forecast subscription the principal lost; the client is told why."""
        sub = self._forecasts.pop(channel, None)
        if sub is None:
            return
        sub.end()
        isos = self._principal.entitlements.isos
        parameter = "iso" if isos is not None and channel.iso.upper() not in isos else "dataset"
        self.offer(
            control_frame(
                "error",
                code="not_entitled",
                message=f"{reason}; the subscription ended",
                parameter=parameter,
                dataset=FORECAST,
                iso=channel.iso,
                market=channel.market,
            )
        )
        feed: ForecastFeed | None = getattr(self.websocket.app.state, "stream_forecast_feed", None)
        if feed is not None:
            task = asyncio.create_task(feed.unlisten(channel, sub))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _unsubscribe_forecasts(self, message: ClientMessage) -> None:
        feed = self._forecast_feed()
        channel = await asyncio.to_thread(parse_forecast_channel, message.body, self._store())
        sub = self._forecasts.pop(channel, None)
        if sub is None:
            raise ProtocolError(
                "not_subscribed", f"no subscription to forecasts of {channel.iso} {channel.market}"
            )
        sub.end()
        await feed.unlisten(channel, sub)
        self.offer(control_frame("unsubscribed", dataset=FORECAST, iso=channel.iso, market=channel.market))


def _require_forecast(principal: Principal, iso: str) -> None:
    """Raise `NotEntitled` unless `principal` may read `iso`'s LMPs (the inputs) and use forecasts."""
    require_data(principal, iso, Dataset.LMP.value)
    require_feature(principal, FORECAST_FEATURE)


def _location_key(channel: Channel) -> str:
    return spec(channel.dataset).location_column or "iso"


def _time_key(channel: Channel) -> str:
    return spec(channel.dataset).time_column


def _replayed(
    row: dict[str, Any],
    commit: int,
    request: SubscribeRequest,
    head: int,
    late: set[tuple[Any, Any, int]],
) -> bool:
    """Whether a buffered live row was already sent by the replay of `request`."""
    assert request.since is not None
    channel = request.channel
    if parse_time(row[_time_key(channel)]) <= request.since:
        return False  # before the replay's range: the replay did not send it
    if commit <= head:
        return True  # committed before the replay's snapshot, so the replay had it
    return (row.get(_location_key(channel)), row[_time_key(channel)], commit) in late
