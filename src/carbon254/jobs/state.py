"""`JobState`: jobs and their checkpointed tasks in the metadata database (SQLite or PostgreSQL).

Every change is one short transaction, so several worker processes (and the
service) can share one database. Two rules keep concurrent workers honest:

* a job is claimed atomically (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite:
  the write lock taken at `BEGIN IMMEDIATE`), with a lease its worker renews;
  a job whose lease expired belongs to a dead worker and is claimed again;
* what only the job's runner may do (plan, progress, finish, fail, cancel,
  release) is conditioned on the caller still holding the lease, and a task's
  outcome is recorded once: the first record of a key wins, a second is
  ignored. Tasks are pure, so a task that two workers both ran gives the
  same answer either way, and nothing is counted twice.

Every change a user can see (status, progress, result, error) stamps the
row's `updated_at` with the writer's clock, so a reader in another process
follows jobs by asking for what changed since its last look (`changed_since`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from carbon254.jobs.kinds import JobResult
from carbon254.jobs.models import JobRecord, JobStatus, Progress, TaskRecord, TaskStatus
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.models import JobRow, JobTaskRow

MESSAGE_LENGTH = 500
DEFAULT_LIST_LIMIT = 100


class JobError(Exception):
    """A request about a job that cannot be carried out; the message says why, for users."""


class UnknownJob(JobError, LookupError):
    """No job has this id (or none the asking tenant owns)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r}")
        self.job_id = job_id

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidTransition(JobError):
    """The job's status does not allow this (e.g. resuming a job that succeeded)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One task's outcome to record: its JSON output (done) or a user-facing error (failed)."""

    key: str
    output: Mapping[str, Any] | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if (self.output is None) == (self.error is None):
            raise ValueError(f"task {self.key!r}: record exactly one of output or error")

    @property
    def failed(self) -> bool:
        """Whether this records a failure."""
        return self.error is not None


@dataclass(frozen=True, slots=True)
class JobChange:
    """A job as it stands after its latest change, and when that change was made (UTC, writer's clock)."""

    job: JobRecord
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LeaseState:
    """What a lease renewal learns: whether the job was asked to stop."""

    cancel_requested: bool


def utc_now() -> datetime:
    """The current time, UTC (the default clock of `JobState`)."""
    return datetime.now(UTC)


def _record(row: JobRow) -> JobRecord:
    result = None
    if row.result is not None:
        result = JobResult(summary=row.result.get("summary", {}), artifacts=row.result.get("artifacts", {}))
    return JobRecord(
        id=row.id,
        tenant=row.tenant,
        kind=row.kind,
        request=row.request,
        status=JobStatus(row.status),
        progress=Progress(row.progress_done, row.progress_total, row.progress_message),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        planned=row.planned_at is not None,
        result=result,
        error=row.error,
        worker=row.worker,
        lease_until=row.lease_until,
        cancel_requested=row.cancel_requested,
        expired_at=row.expired_at,
    )


def _change(row: JobRow) -> JobChange:
    # A row inserted by a version older than `updated_at` has none: its latest other time stands in.
    updated_at = row.updated_at or row.finished_at or row.started_at or row.created_at
    return JobChange(_record(row), updated_at)


def _task(row: JobTaskRow) -> TaskRecord:
    return TaskRecord(
        job_id=row.job_id,
        key=row.key,
        position=row.position,
        input=row.input,
        status=TaskStatus(row.status),
        output=row.output,
        error=row.error,
        attempts=row.attempts,
        finished_at=row.finished_at,
    )


class JobState:
    """Jobs in the metadata database `db`; `clock` gives the current UTC time (tests may move it)."""

    def __init__(self, db: MetadataDatabase, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.db = db
        self.clock = clock
        # Workers of this process wait on it between polls: a submit or resume here wakes them at
        # once, instead of at their next poll (other processes still find the job by polling).
        self._work = threading.Condition()
        self._work_seen = 0

    @property
    def work_signals(self) -> int:
        """How many times this object has signalled new work (see `wait_for_work`)."""
        with self._work:
            return self._work_seen

    def signal_work(self) -> None:
        """Wake every worker of this process waiting in `wait_for_work` (a job became runnable, or a
        worker is stopping)."""
        with self._work:
            self._work_seen += 1
            self._work.notify_all()

    def wait_for_work(self, seen: int, timeout_s: float) -> None:
        """Wait up to `timeout_s` seconds unless work was signalled since `work_signals` read `seen`."""
        with self._work:
            self._work.wait_for(lambda: self._work_seen != seen, timeout_s)

    # --- what users (through the surfaces) do -----------------------------------------------

    def submit(self, tenant: str, kind: str, request: Mapping[str, Any]) -> JobRecord:
        """Queue a new job of `kind` for `tenant` with its request (JSON-able) and return it."""
        now = self.clock()
        row = JobRow(
            id=str(uuid.uuid4()),
            tenant=tenant,
            kind=kind,
            request=dict(request),
            status=JobStatus.QUEUED.value,
            progress_done=0,
            progress_total=0,
            progress_message="queued",
            created_at=now,
            cancel_requested=False,
            updated_at=now,
        )
        with self.db.session(write=True) as session:
            session.add(row)
        self.signal_work()
        return _record(row)

    def get(self, job_id: str, *, tenant: str | None = None) -> JobRecord:
        """The job `job_id`; `UnknownJob` if there is none, or if `tenant` is given and does not own it.

        A job of another tenant is reported exactly like a missing one, so its
        existence is not revealed.
        """
        with self.db.session() as session:
            return _record(self._row(session, job_id, tenant))

    def list_jobs(
        self,
        tenant: str,
        *,
        kind: str | None = None,
        status: JobStatus | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int = 0,
    ) -> list[JobRecord]:
        """The tenant's jobs, newest first, optionally only of one kind and/or one status.

        At most `limit` of them, after skipping the first `offset` (paging).
        """
        query = select(JobRow).where(JobRow.tenant == tenant)
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        if status is not None:
            query = query.where(JobRow.status == JobStatus(status).value)
        query = query.order_by(JobRow.created_at.desc(), JobRow.id.desc()).offset(offset).limit(limit)
        with self.db.session() as session:
            return [_record(row) for row in session.scalars(query)]

    def changed_since(self, since: datetime, *, limit: int = DEFAULT_LIST_LIMIT) -> list[JobChange]:
        """Jobs of every tenant whose latest change was at or after `since` (UTC), oldest change first.

        At most `limit` of them; ask again from the last one's `updated_at`
        for more (it comes again: a reader drops what it has seen).
        """
        query = (
            select(JobRow)
            .where(JobRow.updated_at >= since)
            .order_by(JobRow.updated_at, JobRow.id)
            .limit(limit)
        )
        with self.db.session() as session:
            return [_change(row) for row in session.scalars(query)]

    def snapshot(self, tenant: str, ids: Sequence[str] | None = None) -> list[JobChange]:
        """The tenant's queued and running jobs, or (with `ids`) those of its jobs, oldest first.

        An id that is not one of the tenant's jobs is left out, as if it did not exist.
        """
        query = select(JobRow).where(JobRow.tenant == tenant)
        if ids is None:
            query = query.where(JobRow.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
        else:
            query = query.where(JobRow.id.in_(list(ids)))
        query = query.order_by(JobRow.created_at, JobRow.id)
        with self.db.session() as session:
            return [_change(row) for row in session.scalars(query)]

    def cancel(self, job_id: str, *, tenant: str | None = None) -> JobRecord:
        """Cancel a job: a queued one (or one whose worker died) at once, a running one by asking its runner.

        The runner notices within its heartbeat interval, stops its tasks and
        marks the job cancelled; its checkpointed tasks are kept for `resume`.
        Cancelling a finished job is an `InvalidTransition`.
        """
        now = self.clock()
        with self.db.session(write=True) as session:
            row = self._row(session, job_id, tenant, lock=True)
            status = JobStatus(row.status)
            if status.finished:
                raise InvalidTransition(
                    f"job {job_id} already {status.value}; only queued or running jobs cancel"
                )
            if status is JobStatus.QUEUED or (row.lease_until is not None and row.lease_until < now):
                self._close(row, JobStatus.CANCELLED, now, message="cancelled")
            else:
                row.cancel_requested = True
                row.progress_message = "cancelling"
                row.updated_at = now
            return _record(row)

    def resume(self, job_id: str, *, tenant: str | None = None) -> JobRecord:
        """Queue a cancelled or failed job again; its done tasks are kept and will not run again.

        Failed tasks go back to pending, so they run again; resuming any
        other status is an `InvalidTransition`.
        """
        now = self.clock()
        with self.db.session(write=True) as session:
            row = self._row(session, job_id, tenant, lock=True)
            status = JobStatus(row.status)
            if status not in (JobStatus.CANCELLED, JobStatus.FAILED):
                raise InvalidTransition(
                    f"job {job_id} is {status.value}; only cancelled or failed jobs can be resumed"
                )
            session.execute(
                update(JobTaskRow)
                .where(JobTaskRow.job_id == job_id, JobTaskRow.status == TaskStatus.FAILED.value)
                .values(status=TaskStatus.PENDING.value, error=None, finished_at=None)
            )
            row.status = JobStatus.QUEUED.value
            row.error = None
            row.result = None
            row.finished_at = None
            row.cancel_requested = False
            row.worker = None
            row.lease_until = None
            row.progress_message = "queued"
            row.updated_at = now
            # The sweep reset an expired job's tasks: this run makes its artifacts anew.
            row.expired_at = None
            resumed = _record(row)
        self.signal_work()
        return resumed

    # --- what workers do ------------------------------------------------------------------------

    def claim(self, worker: str, lease_s: float, *, job_id: str | None = None) -> JobRecord | None:
        """Take the oldest runnable job for `worker` for `lease_s` seconds, or None if there is none.

        Runnable: queued, or running with an expired lease (its worker died).
        With `job_id`, only that job is taken (a CLI running its own job).
        A dead worker's job that was asked to cancel is marked cancelled here
        instead of being run. Atomic across processes: two workers never
        claim the same job while its lease holds.
        """
        while True:
            now = self.clock()
            with self.db.session(write=True) as session:
                query = (
                    select(JobRow)
                    .where(
                        or_(
                            JobRow.status == JobStatus.QUEUED.value,
                            and_(JobRow.status == JobStatus.RUNNING.value, JobRow.lease_until < now),
                        )
                    )
                    .order_by(JobRow.created_at, JobRow.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if job_id is not None:
                    query = query.where(JobRow.id == job_id)
                row = session.scalars(query).first()
                if row is None:
                    return None
                if row.cancel_requested:
                    self._close(row, JobStatus.CANCELLED, now, message="cancelled")
                    continue
                row.status = JobStatus.RUNNING.value
                row.worker = worker
                row.lease_until = now + timedelta(seconds=lease_s)
                row.started_at = row.started_at or now
                row.progress_message = "starting"
                row.updated_at = now
                return _record(row)

    def renew(self, job_id: str, worker: str, lease_s: float) -> LeaseState | None:
        """Extend `worker`'s lease on a running job by `lease_s` seconds from now.

        Returns whether a cancel was requested, or None when the worker no
        longer holds the job (it expired and another worker took it, or the
        job was cancelled or finished): the caller must stop working on it.
        """
        with self.db.session(write=True) as session:
            row = session.scalars(self._held(job_id, worker)).first()
            if row is None:
                return None
            row.lease_until = self.clock() + timedelta(seconds=lease_s)
            return LeaseState(cancel_requested=row.cancel_requested)

    def release(self, job_id: str, worker: str) -> bool:
        """Give a running job back to the queue (a worker shutting down); its checkpoints stay."""
        with self.db.session(write=True) as session:
            row = session.scalars(self._held(job_id, worker)).first()
            if row is None:
                return False
            row.status = JobStatus.QUEUED.value
            row.worker = None
            row.lease_until = None
            row.progress_message = "queued (worker stopped)"
            row.updated_at = self.clock()
            return True

    def store_plan(self, job_id: str, worker: str, tasks: Sequence[tuple[str, Mapping[str, Any]]]) -> bool:
        """Store the job's tasks (key and JSON input, in plan order) once; False if it was planned already.

        Keys must be unique within the job. The job's progress becomes
        0 of len(tasks).
        """
        keys = [key for key, _ in tasks]
        if len(set(keys)) != len(keys):
            duplicates = sorted({key for key in keys if keys.count(key) > 1})
            raise ValueError(f"job {job_id}'s plan repeats task keys: {', '.join(duplicates[:5])}")
        with self.db.session(write=True) as session:
            row = session.scalars(self._held(job_id, worker)).first()
            if row is None or row.planned_at is not None:
                return False
            session.add_all(
                JobTaskRow(
                    job_id=job_id,
                    key=key,
                    position=position,
                    input=dict(task_input),
                    status=TaskStatus.PENDING.value,
                    attempts=0,
                )
                for position, (key, task_input) in enumerate(tasks)
            )
            row.planned_at = row.updated_at = self.clock()
            row.progress_done = 0
            row.progress_total = len(tasks)
            return True

    def tasks(self, job_id: str) -> list[TaskRecord]:
        """The job's planned tasks in plan order (empty before it is planned)."""
        query = select(JobTaskRow).where(JobTaskRow.job_id == job_id).order_by(JobTaskRow.position)
        with self.db.session() as session:
            return [_task(row) for row in session.scalars(query)]

    def start_tasks(self, job_id: str, keys: Sequence[str]) -> None:
        """Count one more attempt for each of these pending tasks (they are being handed to an executor)."""
        if not keys:
            return
        with self.db.session(write=True) as session:
            for chunk in _chunks(list(keys), 500):
                session.execute(
                    update(JobTaskRow)
                    .where(
                        JobTaskRow.job_id == job_id,
                        JobTaskRow.key.in_(chunk),
                        JobTaskRow.status == TaskStatus.PENDING.value,
                    )
                    .values(attempts=JobTaskRow.attempts + 1)
                )

    def record_outcome(
        self,
        job_id: str,
        key: str,
        *,
        output: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        """Checkpoint one task: its JSON output (done) or an error (failed). True if this record counted.

        See `record_outcomes`, of which this is the one-task case.
        """
        return bool(self.record_outcomes(job_id, [Checkpoint(key, output, error)]))

    def record_outcomes(self, job_id: str, checkpoints: Sequence[Checkpoint]) -> list[str]:
        """Checkpoint several tasks in one transaction; returns the keys whose record counted.

        Only a pending task is recorded: a second record of the same key (a
        task two workers both ran, or a key repeated in `checkpoints`) is
        ignored, so nothing is counted twice. The done ones advance the job's
        progress in the same transaction.
        """
        if not checkpoints:
            return []
        now = self.clock()
        table = cast(Table, JobTaskRow.__table__)
        with self.db.session(write=True) as session:
            pending: set[str] = set()
            for chunk in _chunks(list({c.key for c in checkpoints}), 500):
                pending.update(
                    session.scalars(
                        select(JobTaskRow.key)
                        .where(
                            JobTaskRow.job_id == job_id,
                            JobTaskRow.key.in_(chunk),
                            JobTaskRow.status == TaskStatus.PENDING.value,
                        )
                        .with_for_update()
                    )
                )
            fresh: list[Checkpoint] = []
            for checkpoint in checkpoints:
                if checkpoint.key in pending:
                    pending.discard(checkpoint.key)
                    fresh.append(checkpoint)
            if not fresh:
                return []
            session.execute(
                update(table)
                .where(table.c.job_id == bindparam("b_job"), table.c.key == bindparam("b_key"))
                .values(
                    status=bindparam("b_status"),
                    output=bindparam("b_output"),
                    error=bindparam("b_error"),
                    finished_at=bindparam("b_at"),
                ),
                [
                    {
                        "b_job": job_id,
                        "b_key": c.key,
                        "b_status": (TaskStatus.FAILED if c.failed else TaskStatus.DONE).value,
                        "b_output": dict(c.output) if c.output is not None else None,
                        "b_error": c.error,
                        "b_at": now,
                    }
                    for c in fresh
                ],
            )
            done = sum(1 for c in fresh if not c.failed)
            if done:
                session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id)
                    .values(progress_done=JobRow.progress_done + done, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
            return [c.key for c in fresh]

    def set_progress(self, job_id: str, worker: str, progress: Progress) -> bool:
        """Set the job's progress (done, total, message); False if `worker` no longer holds the job."""
        with self.db.session(write=True) as session:
            row = session.scalars(self._held(job_id, worker)).first()
            if row is None:
                return False
            row.progress_done = progress.done
            row.progress_total = progress.total
            row.progress_message = progress.message[:MESSAGE_LENGTH]
            row.updated_at = self.clock()
            return True

    def finish(self, job_id: str, worker: str, result: JobResult) -> bool:
        """Mark the job succeeded with its result; False if `worker` no longer holds it."""
        now = self.clock()
        with self.db.session(write=True) as session:
            row = session.scalars(self._held(job_id, worker)).first()
            if row is None:
                return False
            row.result = {"summary": dict(result.summary), "artifacts": dict(result.artifacts)}
            row.progress_done = row.progress_total
            self._close(row, JobStatus.SUCCEEDED, now, message="done")
            return True

    def fail(self, job_id: str, worker: str, error: str) -> bool:
        """Mark the job failed with a user-facing `error`; False if `worker` no longer holds it."""
        now = self.clock()
        with self.db.session(write=True) as session:
            row = session.scalars(self._held(job_id, worker)).first()
            if row is None:
                return False
            row.error = error
            self._close(row, JobStatus.FAILED, now, message="failed")
            return True

    def mark_cancelled(self, job_id: str, worker: str) -> bool:
        """The runner's acknowledgement of a cancel: the job is cancelled; False if it no longer holds it."""
        now = self.clock()
        with self.db.session(write=True) as session:
            row = session.scalars(self._held(job_id, worker)).first()
            if row is None:
                return False
            self._close(row, JobStatus.CANCELLED, now, message="cancelled")
            return True

    def count_running(self) -> int:
        """How many jobs are running now (for metrics and tests)."""
        with self.db.session() as session:
            found = session.scalar(
                select(func.count()).select_from(JobRow).where(JobRow.status == JobStatus.RUNNING.value)
            )
            return int(found or 0)

    # --- helpers ----------------------------------------------------------------------------

    def _row(self, session: Session, job_id: str, tenant: str | None, *, lock: bool = False) -> JobRow:
        query = select(JobRow).where(JobRow.id == job_id)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).first()
        if row is None or (tenant is not None and row.tenant != tenant):
            raise UnknownJob(job_id)
        return row

    def _held(self, job_id: str, worker: str) -> Any:
        # Only the worker holding a running job's lease may change it; the lease's time is not
        # checked here, because a slow worker whose lease lapsed but that nobody reclaimed yet
        # may still carry on (its renewal succeeds too).
        return (
            select(JobRow)
            .where(JobRow.id == job_id, JobRow.worker == worker, JobRow.status == JobStatus.RUNNING.value)
            .with_for_update()
        )

    @staticmethod
    def _close(row: JobRow, status: JobStatus, now: datetime, *, message: str) -> None:
        row.status = status.value
        row.finished_at = now
        row.worker = None
        row.lease_until = None
        row.cancel_requested = False
        row.progress_message = message
        row.updated_at = now


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
