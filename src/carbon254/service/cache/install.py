"""Wiring the cache into the app: `install_cache(app, settings)`, readiness check "cache" included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from carbon254.config import Settings
from carbon254.service.cache.base import QueryCache
from carbon254.service.cache.build import build_cache
from carbon254.service.cache.collector import CacheCollector
from carbon254.service.ops.readiness import ReadinessCheck, add_readiness_check


def _registry(app: FastAPI) -> CollectorRegistry | None:
    registry: CollectorRegistry | None = getattr(app.state, "metrics_registry", None)
    return registry


def install_cache(app: FastAPI, settings: Settings) -> QueryCache:
    """Build the cache `settings` configure, keep it on `app.state.cache` and return it.

    The cache is built now (without connecting), so routes find it even in
    an app that is never started; it is closed at shutdown by a lifespan hook
    (an empty router carrying it, which FastAPI merges into the app's
    lifespan). The `carbon254_cache_*` collector goes on
    `app.state.metrics_registry`: at once if `install_metrics` already ran
    (as in `create_app`), else at startup (and off again at shutdown), so
    either installation order works. `/ready` pings the cache (check
    "cache"): with Redis down it answers 503 naming the cache, while data
    requests keep being answered uncached.
    """
    cache = build_cache(settings)
    app.state.cache = cache
    collector = CacheCollector(lambda: getattr(app.state, "cache", None))
    registered_now = _registry(app)
    if registered_now is not None:
        registered_now.register(collector)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        registry = None if registered_now is not None else _registry(app)
        if registry is not None:
            registry.register(collector)
        try:
            yield
        finally:
            if registry is not None:
                registry.unregister(collector)
            app.state.cache.close()

    app.include_router(APIRouter(lifespan=lifespan))
    # Reads app.state.cache when probed, so a cache swapped in later (tests) is the one checked.
    add_readiness_check(app, ReadinessCheck("cache", lambda: app.state.cache.ping()))
    return cache
