"""Prometheus view of a cache: its counters and size, read from `stats()` at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from carbon254.service.cache.base import QueryCache

PREFIX = "carbon254_cache"


class CacheCollector:
    """`carbon254_cache_*` metrics of the cache `cache()` returns, labelled by backend.

    Counters: `hits_total`, `misses_total` (computations), `errors_total`
    (failed backend operations). Gauges: `entries`, `bytes` (stored values),
    `hit_ratio` (hits / lookups since start, 0 before any), `up` (1 while the
    backend is reachable). The cache is looked up at each scrape, so an app
    may replace it.
    """

    def __init__(self, cache: Callable[[], QueryCache | None]) -> None:
        self._cache = cache

    def describe(self) -> Iterable[Metric]:
        """Nothing: registering must not query the backend."""
        return []

    def collect(self) -> Iterator[Metric]:
        """One sample per metric from the cache's current `stats()`; nothing if there is no cache."""
        cache = self._cache()
        if cache is None:
            return
        stats = cache.stats()
        labels = ["backend"]
        values = [stats.backend]
        counters = (
            ("hits", "Cache lookups answered without computing.", stats.hits),
            ("misses", "Cache lookups that computed the result.", stats.misses),
            ("errors", "Failed cache backend operations (the result was computed uncached).", stats.errors),
        )
        for name, documentation, count in counters:
            counter = CounterMetricFamily(f"{PREFIX}_{name}", documentation, labels=labels)
            counter.add_metric(values, count)
            yield counter
        gauges = (
            ("entries", "Results held by the cache.", stats.entries),
            ("bytes", "Bytes of results held by the cache (after compression for Redis).", stats.bytes),
            (
                "hit_ratio",
                "Hits / (hits + misses) since the service started; 0 before any lookup.",
                stats.hit_ratio,
            ),
            ("up", "1 while the cache backend is reachable, else 0.", int(stats.available)),
        )
        for name, documentation, value in gauges:
            gauge = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=labels)
            gauge.add_metric(values, value)
            yield gauge
