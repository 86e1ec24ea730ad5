"""Prometheus metrics: `GET /metrics` in the text exposition format, one registry per app.

`install_metrics(app, settings)` gives each app its own `CollectorRegistry`
(kept on `app.state.metrics_registry`); the `/metrics` route (`router`) is
mounted with the `ops` domain. Data quality is a custom collector computed
at scrape time from the store and the ingest ledger; other metrics register
on the same registry, e.g. `Counter(..., registry=app.state.metrics_registry)`
(the cache its hit rate, the stream its gauges).

HTTP requests are measured by `RequestMetricsMiddleware` (installed with the
other operations middleware): a latency histogram and a counter by status
class, both labelled by route *template* (`/v1/lmp`, never the raw path) so
the number of series stays bounded whatever paths clients send, and an
in-flight gauge. Ingest lag per dataset is the quality gauges'
`carbon254_quality_ingest_lag_{median,max}_seconds{iso,dataset,market}`.

Quality gauges cover the `quality_window_days` complete market days before
today's (today is partial, so it would always look incomplete), per
(iso, dataset, market); `market` is "-" for datasets without markets.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbon254.config import Settings
from carbon254.ingest.ledger import IngestLedger
from carbon254.isos import Iso
from carbon254.quality import MarketSummary, market_day_of, quality_report
from carbon254.schema import Dataset
from carbon254.service.ops.routes import route_template
from carbon254.store.base import Store

logger = logging.getLogger("carbon254.service")

PREFIX = "carbon254_quality"
LABELS = ("iso", "dataset", "market")
NO_MARKET = "-"
CACHE_SECONDS = 30.0  # scrapes closer together than this reuse the last assessment

router = APIRouter(tags=["ops"])


@dataclass(frozen=True, slots=True)
class _Gauge:
    """One per-market gauge: its name suffix, help text, and the summary value it shows."""

    name: str
    documentation: str
    value: Callable[[MarketSummary], float | int | None]


GAUGES: tuple[_Gauge, ...] = (
    _Gauge(
        "completeness_ratio",
        "Covered / expected location-seconds of due intervals.",
        lambda s: s.completeness,
    ),
    _Gauge("expected_intervals", "Due (location, grid interval) pairs.", lambda s: s.expected),
    _Gauge(
        "present_intervals",
        "Due (location, grid interval) pairs stored intervals cover.",
        lambda s: s.present,
    ),
    _Gauge(
        "missing_intervals", "Due (location, grid interval) pairs not fully covered.", lambda s: s.missing
    ),
    _Gauge(
        "overlapping_intervals",
        "Stored intervals that begin before an earlier one of the same location ends.",
        lambda s: s.overlaps,
    ),
    _Gauge("gaps", "Runs of consecutive intervals with a location missing.", lambda s: s.gaps),
    _Gauge("days_with_gaps", "Market days with at least one gap.", lambda s: s.days_with_gaps),
    _Gauge(
        "duplicates_refused", "Rows refused as exact duplicates within a payload.", lambda s: s.duplicates
    ),
    _Gauge("revisions", "Stored versions that changed an earlier value.", lambda s: s.revisions),
    _Gauge("quarantined_payloads", "Payloads quarantined (not written).", lambda s: s.quarantined),
    _Gauge(
        "ingest_lag_median_seconds", "Median publication-to-commit lag, seconds.", lambda s: s.lag_median_s
    ),
    _Gauge("ingest_lag_max_seconds", "Largest publication-to-commit lag, seconds.", lambda s: s.lag_max_s),
)


class QualityCollector:
    """Data-quality gauges per (iso, dataset, market), assessed when Prometheus scrapes.

    `store` returns the app's open store (None before startup: no gauges).
    `now` is the clock (UTC-aware), replaceable in tests; results are reused
    for `max_age_s` seconds.
    """

    def __init__(
        self,
        store: Callable[[], Store | None],
        data_dir: Path,
        window_days: int,
        *,
        datasets: Sequence[Dataset] = tuple(Dataset),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_age_s: float = CACHE_SECONDS,
    ) -> None:
        self._store = store
        self._ledger = IngestLedger(data_dir)
        self.window_days = window_days
        self.datasets = tuple(datasets)
        self._now = now
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> Iterable[Metric]:
        """Nothing: registering must not trigger an assessment."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The gauges, assessed now or reused from a scrape less than `max_age_s` seconds ago."""
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] >= self.max_age_s:
                self._cached = (time.monotonic(), self._assess())
            metrics = self._cached[1]
        yield from metrics

    def _days(self, iso: Iso, now: datetime) -> tuple[date, date]:
        today = market_day_of(iso.value, now)
        return today - timedelta(days=self.window_days), today

    def _assess(self) -> list[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_up", "1 if the last quality assessment succeeded, else 0.")
        window = GaugeMetricFamily(f"{PREFIX}_window_days", "Complete market days the quality gauges cover.")
        window.add_metric([], self.window_days)
        store = self._store()
        if store is None:
            up.add_metric([], 0)
            return [up, window]
        families = [GaugeMetricFamily(f"{PREFIX}_{g.name}", g.documentation, labels=LABELS) for g in GAUGES]
        try:
            entries = list(self._ledger.entries())
            now = self._now()
            for iso in Iso:
                first, end = self._days(iso, now)
                for dataset in self.datasets:
                    report = quality_report(
                        store, dataset, first, end, isos=[iso.value], ledger=entries, skip_empty=True, now=now
                    )
                    for s in report.summaries:
                        labels = [s.iso, s.dataset, s.market or NO_MARKET]
                        for gauge, family in zip(GAUGES, families, strict=True):
                            value = gauge.value(s)
                            if value is not None:
                                family.add_metric(labels, float(value))
        except Exception:
            logger.exception("data-quality metrics failed")
            up.add_metric([], 0)
            return [up, window]
        up.add_metric([], 1)
        return [up, window, *families]


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Every metric of this app's registry in the Prometheus text exposition format."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


HTTP_PREFIX = "carbon254_http"
# Seconds; dense below 100 ms, where the service's latency targets are.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    """The HTTP request metrics of one app, registered on its registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Histogram(
            f"{HTTP_PREFIX}_request_duration_seconds",
            "Time from request to the end of the response, seconds, by method and route template.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.requests = Counter(
            f"{HTTP_PREFIX}_requests",
            "Requests answered, by method, route template and status class (2xx, 4xx, ...).",
            ("method", "route", "status_class"),
            registry=registry,
        )
        self.in_flight = Gauge(
            f"{HTTP_PREFIX}_requests_in_flight", "Requests being handled now.", registry=registry
        )


class RequestMetricsMiddleware:
    """Observes every HTTP request into `RequestMetrics` (WebSockets are left to the stream's gauges)."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request in flight, then record its duration and status class under its route."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless the app starts a response: an exception escaped it

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        began = time.perf_counter()
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, observing_send)
        finally:
            self.metrics.in_flight.dec()
            # Unknown methods would each add series; they are folded into one label value.
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
            route = route_template(scope)
            self.metrics.duration.labels(method, route).observe(time.perf_counter() - began)
            self.metrics.requests.labels(method, route, f"{status // 100}xx").inc()


def install_metrics(app: FastAPI, settings: Settings) -> CollectorRegistry:
    """Give `app` its own registry (`app.state.metrics_registry`) holding the quality collector; return it.

    Call it before the other installers, which register their metrics on the
    registry. The `/metrics` route itself is `router`, mounted with the `ops` domain.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        QualityCollector(
            lambda: getattr(app.state, "store", None), settings.data_dir, settings.quality_window_days
        )
    )
    app.state.metrics_registry = registry
    return registry
