"""Retention: a sweep deletes the artifacts of jobs that finished longer ago than their tenant keeps them.

A job's artifacts live under its own object-store prefix (`jobs/<id>/`,
`kinds.artifact_prefix`). Once a finished job is older than its tenant's
retention (the service's `CARBON254_JOB_RETENTION_S`, or the tenant's own),
`sweep` deletes that prefix and marks the job expired (`expired_at`): its
result stays readable, but it has no download any more (the download route
answers 410). A failed or cancelled job's prefix holds the parts its done
tasks wrote; those tasks go back to pending with their parts, so a later
resume runs them again instead of finishing from parts that are gone.

Each job is expired in one transaction that holds the job's row lock while
its objects are deleted, so two processes sweeping at once expire (and
count) each job once, and a resume waits for the sweep of its job to end.
Sweeping again finds nothing left to do. `PeriodicSweep` runs `sweep` in a
thread of `carbon254 serve` and `carbon254 jobs worker`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from carbon254.jobs.kinds import artifact_prefix
from carbon254.jobs.models import JobStatus, TaskStatus
from carbon254.jobs.state import JobState, utc_now
from carbon254.metadata.models import JobRow, JobTaskRow
from carbon254.metadata.tenants import job_retentions
from carbon254.objects.base import ObjectStore

if TYPE_CHECKING:
    from carbon254.config import Settings

logger = logging.getLogger("carbon254.jobs")

FINISHED = tuple(status.value for status in JobStatus if status.finished)

# Seconds a tenant keeps its jobs' artifacts, by tenant name.
RetentionFor = Callable[[str], float]


@dataclass(frozen=True, slots=True)
class SweepSummary:
    """What one sweep did: the jobs it expired, the objects it deleted and their bytes."""

    jobs: int
    objects: int
    bytes_freed: int
    job_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Expired:
    objects: int
    bytes_freed: int


def sweep(
    state: JobState, objects: ObjectStore, now: datetime, retention_for_tenant: RetentionFor
) -> SweepSummary:
    """Expire every finished job whose `finished_at` plus its tenant's retention (seconds) is not after `now`.

    See the module docstring for what expiring does. `retention_for_tenant`
    is asked once per tenant that has unexpired finished jobs. Idempotent,
    and safe to run in several processes at once.
    """
    unexpired = (
        JobRow.status.in_(FINISHED),
        JobRow.expired_at.is_(None),
        JobRow.finished_at.is_not(None),
    )
    with state.db.session() as session:
        tenants = list(session.scalars(select(JobRow.tenant).where(*unexpired).distinct()))
    expired: list[str] = []
    deleted = freed = 0
    for tenant in sorted(tenants):
        cutoff = now - timedelta(seconds=retention_for_tenant(tenant))
        query = (
            select(JobRow.id)
            .where(JobRow.tenant == tenant, JobRow.finished_at <= cutoff, *unexpired)
            .order_by(JobRow.finished_at)
        )
        with state.db.session() as session:
            candidates = list(session.scalars(query))
        for job_id in candidates:
            done = _expire(state, objects, job_id, cutoff, now)
            if done is not None:
                expired.append(job_id)
                deleted += done.objects
                freed += done.bytes_freed
    return SweepSummary(jobs=len(expired), objects=deleted, bytes_freed=freed, job_ids=tuple(expired))


def _expire(
    state: JobState, objects: ObjectStore, job_id: str, cutoff: datetime, now: datetime
) -> _Expired | None:
    """Expire one job if it still qualifies, under its row lock; None when another sweep (or a resume) won."""
    with state.db.session(write=True) as session:
        row = session.scalars(select(JobRow).where(JobRow.id == job_id).with_for_update()).first()
        if (
            row is None
            or row.expired_at is not None
            or row.status not in FINISHED
            or row.finished_at is None
            or row.finished_at > cutoff
        ):
            return None
        prefix = artifact_prefix(job_id)
        found = objects.list(prefix)
        objects.delete_prefix(prefix)
        row.expired_at = now
        if row.status != JobStatus.SUCCEEDED.value:
            # Their parts are gone: a resume must run these tasks again.
            session.execute(
                update(JobTaskRow)
                .where(JobTaskRow.job_id == job_id, JobTaskRow.status == TaskStatus.DONE.value)
                .values(status=TaskStatus.PENDING.value, output=None, finished_at=None)
            )
            row.progress_done = 0
        return _Expired(objects=len(found), bytes_freed=sum(info.size for info in found))


def tenant_retention(state: JobState, default_s: float) -> RetentionFor:
    """Each tenant's retention in seconds: its own where it has one (read now, once), else `default_s`."""
    own = job_retentions(state.db)
    return lambda tenant: own.get(tenant, default_s)


def sweep_now(state: JobState, objects: ObjectStore, settings: Settings) -> SweepSummary:
    """One sweep at the current time with the settings' default retention and the tenants' own."""
    return sweep(state, objects, utc_now(), tenant_retention(state, settings.job_retention_s))


class PeriodicSweep:
    """`sweep_now` in a daemon thread: once at `start`, then every `interval_s` seconds until `stop`.

    A failed sweep (the database or object store unreachable) is logged and
    tried again at the next interval.
    """

    def __init__(self, state: JobState, objects: ObjectStore, settings: Settings, interval_s: float) -> None:
        self._state = state
        self._objects = objects
        self._settings = settings
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="carbon254-retention-sweep", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to end and wait up to `timeout_s` seconds for a sweep in progress."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                summary = sweep_now(self._state, self._objects, self._settings)
            except Exception:
                logger.exception("the retention sweep failed; trying again in %.0f s", self._interval_s)
            else:
                if summary.jobs:
                    logger.info(
                        "retention sweep expired %d job(s), deleting %d object(s) of %d bytes",
                        summary.jobs,
                        summary.objects,
                        summary.bytes_freed,
                    )
            self._stopping.wait(self._interval_s)
