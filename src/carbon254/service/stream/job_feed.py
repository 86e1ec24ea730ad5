"""The job feed: one poller per process following job changes in the metadata database for the stream.

Jobs change in worker processes (`carbon254 jobs worker`, or the service's
own worker threads), which write only to the metadata database; each change
stamps the job's `updated_at` (`JobState.changed_since`). While any
connection listens, the feed reads, every `poll_s` seconds, the jobs changed
since a little before its previous read (`LOOKBACK_S`: a transaction that
stamped its change just before the read but committed just after it is
still found next time) and hands each job whose visible state (status,
progress, result, error) it has not handed out yet to every listener, which
keeps its own tenant's. Nobody listening, nothing is read.

A change committed more than `LOOKBACK_S` after it was stamped (a stalled
writer), or stamped by a clock that far behind this process's, may be
missed; the job's next change carries its state again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from carbon254.jobs import JobState, JobStatus
from carbon254.jobs.state import JobChange, utc_now

logger = logging.getLogger("carbon254.service.stream")

LOOKBACK_S = 5.0
PAGE = 500  # jobs read per query; a busier window is read page after page
RETRY_MAX_S = 5.0


@dataclass(frozen=True, slots=True)
class Shown:
    """What a client has been shown of a job: when it changed and what it looked like then."""

    updated_at: datetime
    status: JobStatus
    done: int
    total: int
    message: str
    error: str | None
    finished: bool

    @classmethod
    def of(cls, change: JobChange) -> Shown:
        """The visible state of `change`'s job."""
        job = change.job
        progress = job.progress
        return cls(
            change.updated_at,
            job.status,
            progress.done,
            progress.total,
            progress.message,
            job.error,
            job.result is not None,
        )

    def same_as(self, other: Shown) -> bool:
        """Whether both show the job alike (whenever each was stamped)."""
        return (self.status, self.done, self.total, self.message, self.error, self.finished) == (
            other.status,
            other.done,
            other.total,
            other.message,
            other.error,
            other.finished,
        )


class JobListener(Protocol):
    """A consumer of job changes (every tenant's), called on the event loop; must return at once."""

    def on_jobs(self, changes: Sequence[JobChange], horizon: datetime) -> None:
        """New job states, oldest change first; no change before `horizon` (UTC) will be handed out again."""
        ...


class JobFeed:
    """Polls the job state (`state()`, None while the app has none) for changes while anyone listens."""

    def __init__(
        self,
        state: Callable[[], JobState | None],
        poll_s: float,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._state = state
        self.poll_s = poll_s
        self._clock = clock
        self._listeners: set[JobListener] = set()
        self._since: datetime | None = None  # where the next read starts; None: nobody was listening
        self._shown: dict[str, Shown] = {}
        self._task: asyncio.Task[None] | None = None

    def listen(self, listener: JobListener) -> None:
        """Hand every job change read from the next poll on to `listener`."""
        self._listeners.add(listener)

    def unlisten(self, listener: JobListener) -> None:
        """Stop handing changes to `listener`."""
        self._listeners.discard(listener)

    def start(self) -> None:
        """Start polling in a background task (call on the event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="carbon254-stream-jobs")

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failing = False
        delay = self.poll_s
        while True:
            try:
                await self.step()
                if failing:
                    logger.warning("stream: job changes are read again")
                failing, delay = False, self.poll_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:  # once per outage, not once per poll
                    logger.warning("stream: cannot read job changes (%s); retrying", exc)
                    failing = True
                delay = min(max(delay * 2, self.poll_s), RETRY_MAX_S)
            await asyncio.sleep(delay)

    async def step(self) -> None:
        """Read the changes since the last read and hand the new ones to every listener."""
        state = self._state()
        if not self._listeners or state is None:
            self._since = None
            self._shown.clear()
            return
        started = self._clock()
        lookback = timedelta(seconds=LOOKBACK_S)
        since = self._since if self._since is not None else started - lookback
        changes = await asyncio.to_thread(_read, state, since)
        fresh: list[JobChange] = []
        for change in changes:
            shown = Shown.of(change)
            before = self._shown.get(change.job.id)
            if before is None or (shown.updated_at >= before.updated_at and not shown.same_as(before)):
                fresh.append(change)
                self._shown[change.job.id] = shown
        # Only a read that succeeded moves on, so an outage is caught up from where it began.
        horizon = max(since, started - lookback)
        self._since = horizon
        self._shown = {job_id: s for job_id, s in self._shown.items() if s.updated_at >= horizon}
        if fresh:
            for listener in tuple(self._listeners):
                try:
                    listener.on_jobs(fresh, horizon)
                except Exception:  # one connection's failure must not hold up the others
                    logger.exception("stream: a jobs subscription failed to take job changes")


def _read(state: JobState, since: datetime) -> list[JobChange]:
    """Every job changed at or after `since`, oldest change first, page by page (worker thread)."""
    found: list[JobChange] = []
    cursor = since
    while True:
        page = state.changed_since(cursor, limit=PAGE)
        found += page
        # A full page whose last change shares the cursor's time cannot move on: it is read next poll.
        if len(page) < PAGE or page[-1].updated_at == cursor:
            break
        cursor = page[-1].updated_at
    unique: dict[str, JobChange] = {}
    for change in found:  # pages overlap at their boundary's time
        unique[change.job.id] = change
    return sorted(unique.values(), key=lambda c: (c.updated_at, c.job.id))
