"""Running one claimed job: plan it (once), run its pending tasks, checkpoint each, finish it.

The runner holds the job's lease for as long as it works on it: a heartbeat
thread renews the lease and learns of a cancel request, and every change the
runner makes is refused by `JobState` once another worker has taken the job
over. What users see of a failure is a short message naming the task and its
input; the traceback goes to the log only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from carbon254.compute.base import Executor, TaskOutcome
from carbon254.jobs.kinds import JobContext, JobResult, artifact_prefix
from carbon254.jobs.models import JobRecord, Progress, TaskRecord, TaskStatus
from carbon254.jobs.registry import JobRegistry, UnknownJobKind
from carbon254.jobs.state import Checkpoint, JobState
from carbon254.objects.base import ObjectStore

if TYPE_CHECKING:
    from carbon254.config import Settings

logger = logging.getLogger("carbon254.jobs")

# Outcomes are checkpointed in batches, written when this many seconds passed since the
# batch's first outcome (or it holds CHECKPOINT_BATCH of them): one write per outcome costs
# a fan-out of 1,000 small tasks a third of its time on two cores. A worker that dies loses
# at most this much finished work, which reruns (tasks are pure).
CHECKPOINT_EVERY_S = 0.2
CHECKPOINT_BATCH = 256
# The longest task input quoted in a failed job's error; the whole input is in the log.
INPUT_QUOTE_CHARS = 300


class RunEnd(StrEnum):
    """How a run of a job ended, as the worker's loop needs to know."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RELEASED = "released"  # the worker is shutting down: the job went back to the queue
    LOST = "lost"  # another worker took the job over (this one's lease had expired)


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run of a job did: how it ended and how many tasks it ran and checkpointed."""

    job_id: str
    end: RunEnd
    tasks_run: int


class _Heartbeat:
    """Renews the job's lease every `interval_s` seconds in a thread, and notes cancel or loss."""

    def __init__(self, state: JobState, job_id: str, worker: str, lease_s: float, interval_s: float) -> None:
        self._state = state
        self._job_id = job_id
        self._worker = worker
        self._lease_s = lease_s
        self._interval_s = interval_s
        self._done = threading.Event()
        self.cancel_requested = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{job_id[:8]}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def beat(self) -> None:
        """Renew now (also called from the runner between steps)."""
        try:
            lease = self._state.renew(self._job_id, self._worker, self._lease_s)
        except Exception:
            # A database hiccup: the lease has time left; the next beat tries again.
            logger.warning("could not renew the lease of job %s", self._job_id, exc_info=True)
            return
        if lease is None:
            self.lost.set()
        elif lease.cancel_requested:
            self.cancel_requested.set()

    def _loop(self) -> None:
        while not self._done.wait(self._interval_s):
            self.beat()


class _Checkpoints:
    """Task outcomes waiting to be written, flushed in one transaction when due."""

    def __init__(self, state: JobState, job_id: str) -> None:
        self._state = state
        self._job_id = job_id
        self._waiting: list[Checkpoint] = []
        self._since = 0.0
        self._lock = threading.Lock()

    def add(self, checkpoint: Checkpoint) -> None:
        with self._lock:
            if not self._waiting:
                self._since = time.monotonic()
            self._waiting.append(checkpoint)
        self.flush_if_due()

    def flush_if_due(self) -> None:
        with self._lock:
            due = len(self._waiting) >= CHECKPOINT_BATCH or (
                bool(self._waiting) and time.monotonic() - self._since >= CHECKPOINT_EVERY_S
            )
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
            if waiting:
                self._state.record_outcomes(self._job_id, waiting)


class JobRunner:
    """Runs claimed jobs of the kinds in `registry` on `executor`, keeping their state in `state`.

    `lease_s` is how long a claim lasts without renewal; the heartbeat renews
    it every `heartbeat_s` seconds (at most a third of the lease), which is
    also how soon a cancel is noticed.
    """

    def __init__(
        self,
        state: JobState,
        executor: Executor,
        registry: JobRegistry,
        *,
        objects: ObjectStore,
        settings: Settings,
        worker: str,
        lease_s: float,
        heartbeat_s: float,
    ) -> None:
        self.state = state
        self.executor = executor
        self.registry = registry
        self.objects = objects
        self.settings = settings
        self.worker = worker
        self.lease_s = lease_s
        self.heartbeat_s = min(heartbeat_s, lease_s / 3)

    def run(self, job: JobRecord, *, shutdown: threading.Event | None = None) -> RunReport:
        """Run `job` (claimed by this worker) to its end: succeeded, failed, cancelled, released or lost.

        `shutdown`, once set, stops the run between tasks and gives the job
        back to the queue with its checkpoints, for another worker to resume.
        """
        stopping = shutdown or threading.Event()
        with _Heartbeat(self.state, job.id, self.worker, self.lease_s, self.heartbeat_s) as heartbeat:
            try:
                return self._run(job, heartbeat, stopping)
            except Exception as exc:
                logger.exception("job %s (%s) failed in the runner", job.id, job.kind)
                self.state.fail(job.id, self.worker, f"internal error: {type(exc).__name__}: {exc}")
                return RunReport(job.id, RunEnd.FAILED, 0)

    def _run(self, job: JobRecord, heartbeat: _Heartbeat, shutdown: threading.Event) -> RunReport:
        try:
            kind = self.registry.lookup(job.kind)
        except UnknownJobKind as exc:
            return self._fail(job, str(exc), 0)
        try:
            request = kind.request.model_validate(job.request)
        except ValidationError as exc:
            return self._fail(job, f"invalid request for job kind {job.kind!r}: {_brief(exc)}", 0)
        context = JobContext(
            job_id=job.id,
            tenant=job.tenant,
            settings=self.settings,
            objects=self.objects,
            artifact_prefix=artifact_prefix(job.id),
        )

        if not job.planned:
            self.state.set_progress(job.id, self.worker, Progress(0, 0, "planning"))
            try:
                plan = kind.plan(request, context)
                planned = [
                    (key, kind.task_input.model_validate(value).model_dump(mode="json"))
                    for key, value in plan
                ]
            except Exception as exc:
                logger.exception("planning job %s (%s) failed", job.id, job.kind)
                return self._fail(job, f"planning failed: {type(exc).__name__}: {exc}", 0)
            self.state.store_plan(job.id, self.worker, planned)

        tasks = self.state.tasks(job.id)
        pending = [task for task in tasks if task.status is not TaskStatus.DONE]
        done = len(tasks) - len(pending)
        ran = 0
        if pending:
            if not self.state.set_progress(job.id, self.worker, _progress(done, len(tasks))):
                return RunReport(job.id, RunEnd.LOST, 0)
            by_key = {task.key: task for task in pending}
            inputs = [(task.key, kind.task_input.model_validate(task.input)) for task in pending]
            self.state.start_tasks(job.id, [task.key for task in pending])
            failed: TaskRecord | None = None
            failure_text = ""
            checkpoints = _Checkpoints(self.state, job.id)

            def stop() -> bool:
                # Polled between outcomes and at least every second: a batch never waits long.
                checkpoints.flush_if_due()
                return (
                    failed is not None
                    or shutdown.is_set()
                    or heartbeat.cancel_requested.is_set()
                    or heartbeat.lost.is_set()
                )

            try:
                for outcome in self.executor.run(kind.task, inputs, stop=stop):
                    ran += 1
                    task = by_key[outcome.key]
                    checkpoint, message = self._checkpoint(job, kind.task_output, task, outcome)
                    checkpoints.add(checkpoint)
                    if message is not None:
                        failed, failure_text = task, message
                        break
            finally:
                checkpoints.flush()
            if failed is not None:
                return self._fail(job, failure_text, ran)
            if heartbeat.lost.is_set():
                return RunReport(job.id, RunEnd.LOST, ran)
            if heartbeat.cancel_requested.is_set():
                return self._cancelled(job, ran)
            if shutdown.is_set():
                self.state.release(job.id, self.worker)
                logger.info("job %s went back to the queue: this worker is stopping", job.id)
                return RunReport(job.id, RunEnd.RELEASED, ran)
            tasks = self.state.tasks(job.id)
            missing = [task.key for task in tasks if task.status is not TaskStatus.DONE]
            if missing:
                # The executor ended without an outcome for some tasks; they stay pending.
                raise RuntimeError(f"the executor returned no outcome for {len(missing)} task(s)")

        heartbeat.beat()
        if heartbeat.lost.is_set():
            return RunReport(job.id, RunEnd.LOST, ran)
        if heartbeat.cancel_requested.is_set():
            return self._cancelled(job, ran)
        self.state.set_progress(job.id, self.worker, Progress(len(tasks), len(tasks), "finishing"))
        try:
            outputs = [kind.task_output.model_validate(task.output) for task in tasks]
            result = kind.finish(request, outputs, context)
        except Exception as exc:
            logger.exception("finishing job %s (%s) failed", job.id, job.kind)
            return self._fail(job, f"finishing failed: {type(exc).__name__}: {exc}", ran)
        if not isinstance(result, JobResult):
            return self._fail(
                job, f"job kind {job.kind!r} finished with {type(result).__name__}, not a JobResult", ran
            )
        if not self.state.finish(job.id, self.worker, result):
            return RunReport(job.id, RunEnd.LOST, ran)
        return RunReport(job.id, RunEnd.SUCCEEDED, ran)

    def _checkpoint(
        self, job: JobRecord, output_model: type[BaseModel], task: TaskRecord, outcome: TaskOutcome[Any]
    ) -> tuple[Checkpoint, str | None]:
        """What to record of the outcome, and the user-facing failure message when the task failed."""
        if outcome.failure is None:
            try:
                output = output_model.model_validate(outcome.output).model_dump(mode="json")
            except ValidationError as exc:
                reason = f"its output is not a valid {output_model.__name__}: {_brief(exc)}"
                logger.error("job %s task %s: %s", job.id, task.key, reason)
            else:
                return Checkpoint(task.key, output=output), None
        else:
            failure = outcome.failure
            reason = f"{failure.kind}: {failure.message}"
            logger.error(
                "job %s (%s) task %s failed on input %s\n%s",
                job.id,
                job.kind,
                task.key,
                json.dumps(task.input, sort_keys=True),
                failure.traceback,
            )
        return Checkpoint(
            task.key, error=reason
        ), f"task {task.key!r} failed on input {_quote(task.input)}: {reason}"

    def _fail(self, job: JobRecord, message: str, ran: int) -> RunReport:
        if not self.state.fail(job.id, self.worker, message):
            return RunReport(job.id, RunEnd.LOST, ran)
        return RunReport(job.id, RunEnd.FAILED, ran)

    def _cancelled(self, job: JobRecord, ran: int) -> RunReport:
        if not self.state.mark_cancelled(job.id, self.worker):
            return RunReport(job.id, RunEnd.LOST, ran)
        return RunReport(job.id, RunEnd.CANCELLED, ran)


def _progress(done: int, total: int) -> Progress:
    # Each checkpoint advances `done` in the database; the message stays true as it does.
    return Progress(done, total, f"running {total} tasks" if total != 1 else "running 1 task")


def _quote(value: Mapping[str, Any]) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= INPUT_QUOTE_CHARS else text[: INPUT_QUOTE_CHARS - 1] + "…"


def _brief(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}" for error in exc.errors()
    )
