"""The demo's live feed: publish simulated 5-minute intervals into the store as they end.

`LiveFeed.publish_next` simulates exactly one interval (same seed and node
count as the stored history, so the series continues seamlessly) and writes
what became known when it ended: RT5 LMPs for every ISO and ERCOT's ORDC
adders; when the interval closes an hour, that hour's RTH LMPs, real-time
ancillary prices and actual load; and when it ends at an ISO's day-ahead
publication time, that ISO's whole next operating day of DAM LMPs, day-ahead
ancillary prices and load forecast.
`FeedRunner` calls it from a background thread either when each interval
ends on the wall clock, or every N seconds as a replay speed-up (the data's
timestamps then run ahead of the clock). Every write is an ordinary atomic
store commit, so a reader in this or another process sees each interval
appear whole.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from carbon254.demo.load import utc_now, write_simulation
from carbon254.demo.marker import DemoParams
from carbon254.demo.windows import FIVE_MINUTES, HOUR, floor_to, window_configs
from carbon254.isos import Iso
from carbon254.store import Store

logger = logging.getLogger("carbon254.demo")

# Longest single sleep of the wall-clock loop: a suspended laptop or a clock
# change is noticed within this many seconds.
MAX_SLEEP_S = 30.0
# Pause after a failed publish before trying the same interval again.
RETRY_AFTER_S = 5.0


@dataclass(frozen=True, slots=True)
class Published:
    """One published interval [interval_start, interval_end) (UTC) and the rows it stored per dataset.

    `day_ahead` lists the ISOs whose next operating day of day-ahead results
    came out with it.
    """

    interval_start: datetime
    interval_end: datetime
    hour_completed: bool
    day_ahead: tuple[Iso, ...]
    rows_written: dict[str, int]
    seconds: float

    @property
    def total_written(self) -> int:
        return sum(self.rows_written.values())


class LiveFeed:
    """Publishes consecutive 5-minute intervals starting at `next_start` (UTC, on a 5-minute boundary).

    Not thread-safe by itself: one thread (usually a `FeedRunner`) calls
    `publish_next`. `on_publish` callbacks run in that thread after each
    interval is stored (e.g. to advance the demo marker and print a line).
    """

    def __init__(
        self,
        store: Store,
        params: DemoParams,
        next_start: datetime,
        on_publish: Callable[[Published], None] | None = None,
    ) -> None:
        if floor_to(next_start, FIVE_MINUTES) != next_start:
            raise ValueError(f"next_start ({next_start.isoformat()}) is not on a 5-minute boundary")
        self.store = store
        self.params = params
        self._next = next_start
        self._on_publish = on_publish

    @property
    def next_start(self) -> datetime:
        """Start (UTC) of the interval the next `publish_next` call publishes."""
        return self._next

    def seconds_until_due(self, now: datetime) -> float:
        """Seconds from `now` until the next interval has ended (<= 0: it is due)."""
        return (self._next + FIVE_MINUTES - now).total_seconds()

    def publish_next(self) -> Published:
        """Simulate and store the next interval, then move on to the one after it."""
        start = self._next
        end = start + FIVE_MINUTES
        configs = window_configs(self.params, start, end)
        summary = write_simulation(self.store, configs)
        published = Published(
            interval_start=start,
            interval_end=end,
            hour_completed=floor_to(end, HOUR) == end,
            day_ahead=tuple(iso for c in configs if "DAM" in c.markets for iso in c.isos),
            rows_written={d.value: n for d, n in summary.rows_written.items()},
            seconds=summary.seconds,
        )
        self._next = end
        if self._on_publish is not None:
            self._on_publish(published)
        return published


class FeedRunner:
    """Runs a `LiveFeed` in a background thread until `stop()`.

    With `every=None` each interval is published once it has ended on the
    wall clock (`clock`, UTC-aware), catching up at once on any interval
    already over; with `every=N` one interval is published every N seconds
    regardless of the clock. `on_error` hears about a failed publish, which
    is retried after a pause; the thread never dies of one.
    """

    def __init__(
        self,
        feed: LiveFeed,
        *,
        every: float | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if every is not None and every <= 0:
            raise ValueError(f"every must be a positive number of seconds, got {every}")
        self.feed = feed
        self.every = every
        self.clock = clock
        self.on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="carbon254-live-feed", daemon=True)

    def start(self) -> FeedRunner:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the thread to stop after the interval in hand (if any); True once it has stopped."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _wait_s(self, deadline: float) -> float:
        if self.every is not None:
            return deadline - time.monotonic()
        return self.feed.seconds_until_due(self.clock())

    def _run(self) -> None:
        deadline = time.monotonic() + (self.every or 0.0)
        while not self._stop.is_set():
            wait = self._wait_s(deadline)
            if wait > 0:
                self._stop.wait(min(wait, MAX_SLEEP_S))
                continue
            try:
                self.feed.publish_next()
            except Exception as exc:  # a full disk or a store hiccup: keep the demo alive, retry
                if self.on_error is not None:
                    self.on_error(exc)
                else:
                    logger.warning(
                        "live feed failed to publish %s: %s", self.feed.next_start.isoformat(), exc
                    )
                self._stop.wait(RETRY_AFTER_S)
                continue
            if self.every is not None:
                # Fixed cadence; after a slow publish, carry on without a burst.
                deadline = max(deadline + self.every, time.monotonic())


def replay_seconds_ahead(next_start: datetime, now: datetime | None = None) -> float:
    """How far (seconds) the published data runs ahead of the wall clock; 0 when behind or level."""
    ahead: timedelta = next_start - floor_to(now or utc_now(), FIVE_MINUTES)
    return max(0.0, ahead.total_seconds())
