"""Prometheus metrics: `GET /metrics` in the text exposition format, one registry per app.

`install_metrics(app, settings)` gives each app its own `CollectorRegistry`
(kept on `app.state.metrics_registry`) and mounts the `/metrics` route. Data
quality is a custom collector computed at scrape time from the store and the
ingest ledger; other metrics (request counters, latencies) register on the
same registry, e.g. `Counter(..., registry=app.state.metrics_registry)`.

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
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from starlette.responses import Response

from carbon254.config import Settings
from carbon254.ingest.ledger import IngestLedger
from carbon254.isos import Iso
from carbon254.quality import MarketSummary, market_day_of, quality_report
from carbon254.schema import Dataset
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
    _Gauge("completeness_ratio", "Present / expected (location, interval) pairs.", lambda s: s.completeness),
    _Gauge("expected_intervals", "Expected (location, interval) pairs.", lambda s: s.expected),
    _Gauge(
        "present_intervals", "Stored (location, interval) pairs on the market's grid.", lambda s: s.present
    ),
    _Gauge("missing_intervals", "Expected (location, interval) pairs not stored.", lambda s: s.missing),
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

    def _days(self, iso: Iso) -> tuple[date, date]:
        today = market_day_of(iso.value, self._now())
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
            for iso in Iso:
                first, end = self._days(iso)
                for dataset in self.datasets:
                    report = quality_report(
                        store, dataset, first, end, isos=[iso.value], ledger=entries, skip_empty=True
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


def install_metrics(app: FastAPI, settings: Settings) -> CollectorRegistry:
    """Give `app` its own registry holding the quality collector and mount `GET /metrics`; return it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        QualityCollector(
            lambda: getattr(app.state, "store", None), settings.data_dir, settings.quality_window_days
        )
    )
    app.state.metrics_registry = registry
    app.include_router(router)
    return registry
