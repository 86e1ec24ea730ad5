"""Waiting for a job, shared by `Job` and `AsyncJob`: the polling schedule, the progress bar, the outcome.

A `Waiter` is told each status the caller fetched (`observe`) and says how
long to sleep before the next (`next_delay`): `poll_s` at first, growing by
half each time up to `MAX_POLL_S`, so a quick job is seen finished quickly
and a long one costs the service a request every few seconds. Only the
fetching and sleeping differ between the blocking and the asyncio handle.
"""

from __future__ import annotations

import sys
import time
from urllib.parse import quote

from carbon254.client.base import Progress, stderr_progress
from carbon254.client.errors import InvalidRequest, JobCancelled, JobFailed, JobTimeout
from carbon254.client.job_models import JobInfo, JobStatus

DEFAULT_POLL_S = 0.25
MAX_POLL_S = 5.0
POLL_GROWTH = 1.5


def job_path(job_id: str, action: str = "") -> str:
    """`/v1/jobs/{id}` (then `/{action}`), the id escaped; `InvalidRequest` for a blank id."""
    if not isinstance(job_id, str) or not job_id.strip():
        raise InvalidRequest("job_id: must be a non-empty string", parameter="job_id")
    path = f"/v1/jobs/{quote(job_id.strip(), safe='')}"
    return f"{path}/{action}" if action else path


def settled(info: JobInfo) -> JobInfo:
    """`info` when its job succeeded; `JobFailed` (with the service's error) or `JobCancelled` otherwise."""
    if info.status is JobStatus.FAILED:
        reason = info.error or "no reason given"
        raise JobFailed(f"job {info.id} ({info.kind}) failed: {reason}", job_id=info.id, info=info)
    if info.status is JobStatus.CANCELLED:
        raise JobCancelled(
            f"job {info.id} ({info.kind}) was cancelled; resume() runs it on from where it stopped",
            job_id=info.id,
            info=info,
        )
    return info


class ProgressView:
    """Shows a job's progress: the SDK's stderr bar (`True`), the caller's `(done, total)` callback, or none.

    The bar is drawn when the counts change and once the job has planned
    its work (a total above 0); `close` ends its line if it was left open.
    """

    def __init__(self, progress: bool | Progress) -> None:
        self._progress = progress
        self._report: Progress | None = None if isinstance(progress, bool) else progress
        self._shown: tuple[int, int] | None = None

    def update(self, info: JobInfo) -> None:
        """Report `info`'s counts if they changed since the last report."""
        counts = (info.progress.done, info.progress.total)
        if self._progress is False or counts[1] <= 0 or counts == self._shown:
            return
        if self._report is None:
            self._report = stderr_progress(info.kind)
        self._report(*counts)
        self._shown = counts

    def close(self) -> None:
        """End the bar's line if its last count was not complete (the job failed, or the wait ended)."""
        if self._progress is True and self._shown is not None and self._shown[0] < self._shown[1]:
            sys.stderr.write("\n")
            sys.stderr.flush()


class Waiter:
    """One wait for job `job_id`: its deadline (`timeout_s`, None for none), poll delays and progress view."""

    def __init__(
        self, job_id: str, *, progress: bool | Progress, timeout_s: float | None, poll_s: float
    ) -> None:
        if poll_s <= 0 or (timeout_s is not None and timeout_s < 0):
            raise ValueError("poll_s must be > 0 and timeout_s >= 0 (or None)")
        self.job_id = job_id
        self.timeout_s = timeout_s
        self.deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.delay = poll_s
        self.ceiling = max(poll_s, MAX_POLL_S)
        self.view = ProgressView(progress)
        self.last: JobInfo | None = None

    def observe(self, info: JobInfo) -> JobInfo | None:
        """`info` settled (see `settled`) once its job finished, else None: poll again after `next_delay`."""
        self.last = info
        self.view.update(info)
        return settled(info) if info.status.finished else None

    def next_delay(self) -> float:
        """Seconds to sleep before the next poll; `JobTimeout` when the deadline has passed."""
        delay = self.delay
        self.delay = min(self.delay * POLL_GROWTH, self.ceiling)
        if self.deadline is None:
            return delay
        left = self.deadline - time.monotonic()
        if left <= 0:
            status = self.last.status.value if self.last is not None else "unknown"
            raise JobTimeout(
                f"job {self.job_id} still {status} after {self.timeout_s:g} s; it keeps running "
                "on the service (cancel() stops it)",
                job_id=self.job_id,
                info=self.last,
            )
        return min(delay, left)

    def close(self) -> None:
        """End the wait: close the progress view."""
        self.view.close()
