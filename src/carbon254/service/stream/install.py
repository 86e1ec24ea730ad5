"""`install_stream(app, settings)`: the broker, guard, hub and watcher, started and stopped with the app.

`create_app`'s lifespan is an async context manager on
`app.router.lifespan_context`; this wraps it: the original runs first (it
opens the store), then the broker connects, the credentials guard starts
listening (it hears of this process's credentials changes through
`metadata.on_credentials_changed`, and of other processes' through Redis),
the stream's metrics join the app's registry, the watcher starts, and so
does the job feed (which polls the metadata database for job changes only
while a connection follows jobs); at shutdown they stop in reverse order
before the original closes the store.
Everything is built at startup, so an app started twice (tests) gets fresh
connections each time. `/ready` pings the running broker (check "broker";
for Redis a PING).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from carbon254.config import Settings
from carbon254.metadata.credentials import on_credentials_changed
from carbon254.service.ops.readiness import ReadinessCheck, add_readiness_check
from carbon254.service.stream.broker import Broker, InProcessBroker, RedisBroker, build_broker
from carbon254.service.stream.forecast_board import ForecastBoard, LocalBoard, RedisBoard
from carbon254.service.stream.forecast_feed import ForecastFeed
from carbon254.service.stream.guard import CredentialsGuard
from carbon254.service.stream.hub import Hub
from carbon254.service.stream.job_feed import JobFeed
from carbon254.service.stream.lease import FeedLease, LocalLease, RedisLease
from carbon254.service.stream.messages import default_namespace
from carbon254.service.stream.metrics import StreamMetrics
from carbon254.service.stream.reforecast import Reforecaster
from carbon254.service.stream.watcher import Watcher

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def install_stream(app: FastAPI, settings: Settings) -> None:
    """Run the stream's broker, credentials guard, hub and watcher during `app`'s lifespan.

    Sets, at startup: `app.state.broker` (the `Broker`), `app.state.stream_hub`
    (the `Hub` the `/v1/stream` route uses), `app.state.stream_watcher` and
    `app.state.stream_job_feed` (the `JobFeed` of `jobs` subscriptions);
    `app.state.stream_metrics` at once; registers the readiness check
    "broker". The route itself is `carbon254.service.routes.stream.router`
    (domain "stream").
    """
    namespace = settings.stream_namespace or default_namespace(settings.store_url())
    metrics = StreamMetrics()
    app.state.stream_metrics = metrics
    app.state.stream_hub = None
    app.state.broker = None
    app.state.stream_job_feed = None
    app.state.stream_forecast_feed = None
    inner: Lifespan = app.router.lifespan_context

    async def broker_answers() -> None:
        broker: Broker | None = app.state.broker
        if broker is None:
            raise RuntimeError("the stream broker is not running")
        await broker.ping()

    add_readiness_check(app, ReadinessCheck("broker", broker_answers))

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            broker = build_broker(settings)
            lease: FeedLease
            board: ForecastBoard
            listened: Callable[[], bool]
            if isinstance(broker, RedisBroker):
                # Subscribers in other processes are invisible here: always publish.
                lease, listened = RedisLease(broker.client, namespace), lambda: True
                board = RedisBoard(broker.client, namespace)
            else:
                assert isinstance(broker, InProcessBroker)
                lease, board = LocalLease(broker), LocalBoard()
            reforecaster = Reforecaster(
                lambda: getattr(app.state, "store", None),
                lease,
                board,
                namespace,
                settings.stream_forecast_history_days,
            )
            if isinstance(broker, InProcessBroker):
                in_process = broker

                def listened() -> bool:  # the re-forecaster needs every page while it follows a location
                    return in_process.has_subscribers() or reforecaster.following()

            guard = CredentialsGuard(
                lambda: int(app.state.metadata.credentials.read()),
                lambda: app.state.authenticator,
                broker=broker if isinstance(broker, RedisBroker) else None,
                namespace=namespace,
            )
            hub = Hub(broker, namespace, lambda: app.state.store, guard)
            forecast_feed = ForecastFeed(broker, namespace, board, guard)
            watcher = Watcher(
                lambda: getattr(app.state, "store", None),
                lease,
                namespace,
                settings.stream_poll_s,
                listened=listened,
                on_page=reforecaster.on_page,
            )
            # The job state is read when polled: `install_jobs` may come after this call.
            job_feed = JobFeed(lambda: getattr(app.state, "job_state", None), settings.stream_jobs_poll_s)
            registry = getattr(app.state, "metrics_registry", None)
            if registry is not None:
                metrics.register(registry)
            await broker.start()
            guard.start()
            loop = asyncio.get_running_loop()

            def changed() -> None:  # called in the thread that committed the change
                loop.call_soon_threadsafe(guard.announce)

            stop_hearing = on_credentials_changed(changed)
            app.state.broker, app.state.stream_hub, app.state.stream_watcher = broker, hub, watcher
            app.state.stream_job_feed = job_feed
            app.state.stream_forecast_feed, app.state.stream_reforecaster = forecast_feed, reforecaster
            watcher.start()
            job_feed.start()
            forecast_feed.start()
            reforecaster.start()
            try:
                yield state
            finally:
                app.state.stream_hub = app.state.broker = app.state.stream_job_feed = None
                app.state.stream_forecast_feed = None
                stop_hearing()
                await reforecaster.stop()
                await job_feed.stop()
                await watcher.stop()
                await forecast_feed.close()
                await hub.close()
                await guard.stop()
                await broker.close()

    app.router.lifespan_context = lifespan
