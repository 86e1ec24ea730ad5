"""`--follow`: poll each ISO target at its publication cadence and write new intervals as they appear.

Each poll fetches the market days that can still change (yesterday and
today on the ISO's clock, plus tomorrow for day-ahead markets, which publish
the day before) and ingests them; idempotent writes store only what is new
or revised, so re-reading a growing daily file is harmless. Download errors
are reported and retried at the next poll; one target's trouble never stops
the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from carbon254.ingest.backfill import DayOutcome, ingest_day
from carbon254.ingest.native import NativeIngest
from carbon254.markets.connector import Connector, DownloadTarget
from carbon254.markets.transport import IsoClient
from carbon254.timeseries.days import market_day_of


@dataclass(frozen=True, slots=True)
class FollowTarget:
    """One thing to follow: a connector's target and the client to fetch it with."""

    connector: Connector
    client: IsoClient
    target: DownloadTarget

    @property
    def label(self) -> str:
        return f"{self.connector.iso.value} {self.target.dataset.value}/{self.target.market}"

    @property
    def cadence(self) -> timedelta:
        return self.target.report.cadence


def live_days(target: FollowTarget, now: datetime) -> list[date]:
    """Market days that may still gain or change data at `now`, on the ISO's clock."""
    today = market_day_of(target.connector.iso.value, now)
    days = [today - timedelta(days=1), today]
    if target.target.market.startswith("DAM"):
        days.append(today + timedelta(days=1))
    return days


def follow(
    targets: Sequence[FollowTarget],
    ingest: NativeIngest,
    *,
    polls: int | None = None,
    interval: timedelta | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    on_poll: Callable[[FollowTarget, DayOutcome], None] | None = None,
) -> None:
    """Poll `targets` until interrupted, or `polls` rounds when given.

    Each target is due every `interval` (default: its report's publication
    cadence); the loop sleeps until the next one is due. `on_poll` sees
    every day's outcome, for progress output.
    """
    due = dict.fromkeys(range(len(targets)), now())
    rounds = 0
    while polls is None or rounds < polls:
        current = now()
        ready = [i for i, t in due.items() if t <= current]
        for i in ready:
            target = targets[i]
            for day in live_days(target, current):
                outcome = ingest_day(target.connector, target.client, target.target, day, ingest)
                if on_poll is not None:
                    on_poll(target, outcome)
            due[i] = current + (interval or target.cadence)
        if ready:
            rounds += 1
            if polls is not None and rounds >= polls:
                return
        wait = (min(due.values()) - now()).total_seconds()
        if wait > 0:
            sleep(wait)
