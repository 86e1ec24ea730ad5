"""Backfill: download a range of market days for one ISO target, resumable from its watermark.

Days run in order; a day's payloads are each parsed and written atomically
(`NativeIngest`), and the day is marked complete in the watermark once all
of them are committed and the day is old enough not to change. A rerun
skips marked days, so a killed backfill resumes at the day it was on; a day
whose download failed (after the transport's retries) or whose payload was
quarantined stays unmarked and is tried again next time, while the job goes
on with the other days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from carbon254.ingest.native import NativeIngest, PayloadOutcome
from carbon254.ingest.watermark import Watermarks
from carbon254.isos import Iso
from carbon254.markets.connector import Connector, DownloadTarget
from carbon254.markets.report import ParseError
from carbon254.markets.transport import FetchError, IsoClient
from carbon254.timeseries.days import market_day_bounds

# A market day is only marked complete once it is this far behind the ISO's
# clock: real-time prices are revised for a day or two after the fact.
SETTLED_AFTER = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class DayOutcome:
    """One market day of a backfill: payloads handled, or the download error; or skipped (done before)."""

    day: date
    payloads: tuple[PayloadOutcome, ...] = ()
    error: str | None = None
    skipped: bool = False

    @property
    def complete(self) -> bool:
        return not self.skipped and self.error is None and all(p.ok for p in self.payloads)


@dataclass(slots=True)
class BackfillReport:
    """Totals of a backfill run, day by day."""

    iso: Iso
    target: DownloadTarget
    days: list[DayOutcome] = field(default_factory=list)

    @property
    def rows_written(self) -> int:
        return sum(p.entry.rows_written for d in self.days for p in d.payloads)

    @property
    def revisions(self) -> int:
        return sum(p.entry.revisions for d in self.days for p in d.payloads)

    @property
    def quarantined(self) -> list[PayloadOutcome]:
        return [p for d in self.days for p in d.payloads if not p.ok]

    @property
    def failed_days(self) -> list[DayOutcome]:
        return [d for d in self.days if d.error is not None]


def market_days(start: date, end: date) -> list[date]:
    """Market days from `start` up to but not including `end`."""
    return [start + timedelta(days=n) for n in range((end - start).days)]


def day_span(iso: Iso, day: date) -> tuple[datetime, datetime]:
    """UTC starts of a market day's first and last hour in the ISO's market time (23/25 hours on DST days)."""
    start, end = market_day_bounds(iso.value, day)
    return start, end - timedelta(hours=1)


def settled(iso: Iso, day: date, now: datetime) -> bool:
    """Whether a market day ended at least `SETTLED_AFTER` ago on the ISO's clock."""
    return now - market_day_bounds(iso.value, day)[1] >= SETTLED_AFTER


def ingest_day(
    connector: Connector, client: IsoClient, target: DownloadTarget, day: date, ingest: NativeIngest
) -> DayOutcome:
    """Download and ingest one market day of a target; a download failure is returned, not raised."""
    outcomes: list[PayloadOutcome] = []
    span = day_span(connector.iso, day)
    try:
        for payload in connector.fetch(client, target.dataset, target.market, day):
            outcomes.append(
                ingest.ingest(
                    payload.report,
                    payload.name,
                    payload.data,
                    url=payload.url,
                    published_at=payload.published_at,
                    span=span,
                )
            )
    except FetchError as exc:
        return DayOutcome(day, tuple(outcomes), error=str(exc))
    except (ParseError, ValueError) as exc:
        # A listing or index page (not a data payload) the connector could not
        # read, e.g. a truncated JSON document list: the day failed, not the job.
        return DayOutcome(day, tuple(outcomes), error=f"unreadable answer from {connector.iso.value}: {exc}")
    return DayOutcome(day, tuple(outcomes))


def backfill(
    connector: Connector,
    client: IsoClient,
    target: DownloadTarget,
    days: Iterable[date],
    ingest: NativeIngest,
    watermarks: Watermarks,
    *,
    force: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_day: Callable[[DayOutcome], None] | None = None,
) -> BackfillReport:
    """Ingest `days` of one target in order, skipping days the watermark marks done unless `force`.

    `on_day` is called after each day (for progress bars). Days completed
    without error are marked in the watermark if they are settled.
    """
    iso = connector.iso
    key = (iso.value, target.dataset.value, target.market)
    done = set() if force else watermarks.done(*key)
    report = BackfillReport(iso, target)
    for day in days:
        if day in done:
            outcome = DayOutcome(day, skipped=True)
        else:
            outcome = ingest_day(connector, client, target, day, ingest)
            if outcome.complete and settled(iso, day, now()):
                watermarks.mark(*key, [day])
        report.days.append(outcome)
        if on_day is not None:
            on_day(outcome)
    return report


def pending_days(
    iso: Iso, target: DownloadTarget, days: Sequence[date], watermarks: Watermarks, force: bool = False
) -> list[date]:
    """The days of `days` a backfill would fetch (those not marked done, or all when `force`)."""
    if force:
        return list(days)
    done = watermarks.done(iso.value, target.dataset.value, target.market)
    return [d for d in days if d not in done]
