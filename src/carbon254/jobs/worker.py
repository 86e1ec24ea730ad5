"""The worker loop: claim a job, run it, repeat, until told to stop.

Any number of workers (threads of the service, `carbon254 jobs worker`
processes, on any number of machines) may share one metadata database: a
claim is atomic, and a job whose worker died is claimed again once its lease
expires, and resumes from its checkpoints. Stopping is clean: the job in hand
stops between tasks and goes back to the queue with its checkpoints.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from types import FrameType
from typing import TYPE_CHECKING

from carbon254.compute import open_executor
from carbon254.compute.base import Executor
from carbon254.jobs.registry import JobRegistry
from carbon254.jobs.runner import JobRunner, RunReport
from carbon254.jobs.state import JobState
from carbon254.metadata.database import MetadataDatabase
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore

if TYPE_CHECKING:
    from carbon254.config import Settings

logger = logging.getLogger("carbon254.jobs")


def default_worker_name() -> str:
    """A name no other worker has: host, process id and a random suffix (a restarted pid is a new worker)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Claims and runs jobs until `stop()`.

    `lease_s` and `poll_s` default to the settings' `job_lease_s` and
    `job_poll_s` (seconds).
    """

    def __init__(
        self,
        state: JobState,
        executor: Executor,
        registry: JobRegistry,
        *,
        objects: ObjectStore,
        settings: Settings,
        name: str | None = None,
        lease_s: float | None = None,
        poll_s: float | None = None,
    ) -> None:
        self.state = state
        self.name = name or default_worker_name()
        self.lease_s = lease_s if lease_s is not None else settings.job_lease_s
        self.poll_s = poll_s if poll_s is not None else settings.job_poll_s
        self._stopping = threading.Event()
        self.runner = JobRunner(
            state,
            executor,
            registry,
            objects=objects,
            settings=settings,
            worker=self.name,
            lease_s=self.lease_s,
            heartbeat_s=self.poll_s,
        )

    def stop(self) -> None:
        """Ask the loop to end: the job in hand goes back to the queue after its running tasks' outcomes."""
        self._stopping.set()
        self.state.signal_work()

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called."""
        return self._stopping.is_set()

    def run_once(self, *, job_id: str | None = None) -> RunReport | None:
        """Claim one runnable job (only `job_id`, if given) and run it to its end; None if none was."""
        job = self.state.claim(self.name, self.lease_s, job_id=job_id)
        if job is None:
            return None
        logger.info("worker %s runs job %s (%s for %s)", self.name, job.id, job.kind, job.tenant)
        report = self.runner.run(job, shutdown=self._stopping)
        logger.info("job %s: %s after %d task(s) in this run", job.id, report.end.value, report.tasks_run)
        return report

    def run(self, *, max_jobs: int | None = None, until_idle: bool = False) -> int:
        """Loop until `stop()` (or `max_jobs` runs, or, with `until_idle`, no job is left); returns runs done.

        An idle worker looks for jobs every `poll_s` seconds, and at once
        when a job is submitted or resumed through its own `JobState` (the
        service's workers and routes share one). A database error is logged
        and retried after the same pause, so a restart of PostgreSQL does not
        end the worker.
        """
        runs = 0
        while not self._stopping.is_set() and (max_jobs is None or runs < max_jobs):
            seen = self.state.work_signals
            try:
                report = self.run_once()
            except Exception:
                logger.exception("worker %s could not claim or run a job; retrying", self.name)
                self._stopping.wait(self.poll_s)
                continue
            if report is None:
                if until_idle:
                    break
                self.state.wait_for_work(seen, self.poll_s)
                continue
            runs += 1
        return runs


def run_worker(
    settings: Settings,
    registry: JobRegistry,
    objects: ObjectStore | None = None,
    *,
    name: str | None = None,
    executor: Executor | None = None,
) -> int:
    """Run a worker process over the settings' metadata database and compute until SIGTERM or SIGINT.

    The signal stops the loop cleanly (see `Worker.stop`); the executor
    opened here (from `CARBON254_COMPUTE`) is closed on the way out. The
    object store is the settings' (`CARBON254_OBJECT_STORE`) unless one is
    given. Returns how many job runs it did.
    """
    if objects is None:
        objects = open_object_store(
            settings.object_store, data_dir=settings.data_dir, s3_endpoint=settings.s3_endpoint
        )
    db = MetadataDatabase(settings.metadata_database_url())
    own_executor = executor is None
    compute = executor if executor is not None else open_executor(settings.compute)
    worker = Worker(JobState(db), compute, registry, objects=objects, settings=settings, name=name)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logger.info("worker %s stopping (signal %d)", worker.name, signum)
        worker.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return worker.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if own_executor:
            compute.close()
        db.close()
