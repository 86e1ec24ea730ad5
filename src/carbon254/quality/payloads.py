"""Ingest-ledger figures per market day: payloads, duplicates refused, quarantines and ingest lag.

A payload belongs to every market day its intervals touch (from its first to
its last interval start). Lag is `committed_at - published_at` in seconds,
for written payloads whose publication time the ISO gave.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from carbon254.ingest.ledger import LedgerEntry, PayloadStatus
from carbon254.quality.calendar import MarketDay


@dataclass(frozen=True, slots=True)
class PayloadStats:
    """Ledger totals over a set of payloads; lags in seconds."""

    payloads: int = 0
    quarantined: int = 0
    duplicates: int = 0
    lags_s: tuple[float, ...] = ()

    @property
    def lag_median_s(self) -> float | None:
        """Median publication-to-commit lag in seconds, None without any known lag."""
        return float(statistics.median(self.lags_s)) if self.lags_s else None

    @property
    def lag_max_s(self) -> float | None:
        """Largest publication-to-commit lag in seconds, None without any known lag."""
        return max(self.lags_s) if self.lags_s else None


@dataclass(slots=True)
class _Acc:
    payloads: int = 0
    quarantined: int = 0
    duplicates: int = 0
    lags_s: list[float] = field(default_factory=list)

    def add(self, entry: LedgerEntry) -> None:
        self.duplicates += entry.duplicates
        if entry.status is PayloadStatus.QUARANTINED:
            self.quarantined += 1
            return
        self.payloads += 1
        if entry.published_at is not None:
            self.lags_s.append((entry.committed_at - entry.published_at).total_seconds())

    def freeze(self) -> PayloadStats:
        return PayloadStats(self.payloads, self.quarantined, self.duplicates, tuple(self.lags_s))


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    """Per-day stats (aligned with the days given), the window's stats, and undated quarantines."""

    days: tuple[PayloadStats, ...]
    window: PayloadStats
    quarantined_undated: int


def matches(entry: LedgerEntry, iso: str, dataset: str, market: str | None) -> bool:
    """Whether a ledger entry is about this ISO, dataset and market.

    `market=None` (a dataset without markets) takes every entry of the ISO and
    dataset; an entry without a market (a payload holding several markets,
    or one quarantined before its market was known) counts for every market.
    """
    return (
        entry.iso == iso
        and entry.dataset == dataset
        and (market is None or entry.market is None or entry.market == market)
    )


def ledger_figures(
    entries: Iterable[LedgerEntry], iso: str, dataset: str, market: str | None, days: Sequence[MarketDay]
) -> LedgerFigures:
    """Payloads, quarantines, duplicates refused and lags per market day, and over all `days`.

    Entries are selected by `matches`. Each payload counts once in the
    window figures however many days it spans.
    """
    starts = [d.start for d in days]
    per_day = [_Acc() for _ in days]
    window = _Acc()
    undated = 0
    lo, hi = days[0].start, days[-1].end
    for entry in entries:
        if not matches(entry, iso, dataset, market):
            continue
        first, last = entry.first_interval, entry.last_interval
        if first is None or last is None:
            undated += entry.status is PayloadStatus.QUARANTINED
            continue
        if last < lo or first >= hi:
            continue
        window.add(entry)
        i0 = max(bisect_right(starts, first) - 1, 0)
        i1 = bisect_right(starts, last) - 1
        for i in range(i0, i1 + 1):
            per_day[i].add(entry)
    return LedgerFigures(tuple(a.freeze() for a in per_day), window.freeze(), undated)
