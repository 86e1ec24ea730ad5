"""Jobs in the service: the job state, kinds and object store on `app.state`, and the in-process workers.

`install_jobs(app, settings, kinds)` puts on `app.state` what the jobs and
downloads routes use (`job_state`, `job_registry`, `objects`) and, unless
`CARBON254_JOB_WORKERS=0`, runs that many `Worker` loops in background
threads of the service process from startup to shutdown, over one executor
(`CARBON254_COMPUTE`: the local process pool by default). Queued jobs live in
the metadata database, so they survive a restart: the next start (or any
`carbon254 jobs worker`) picks them up. At shutdown each worker hands the job
in its hands back to the queue with its checkpoints, and the executor closes.
A process serving the jobs domain also runs the retention sweep every
`CARBON254_JOB_SWEEP_S` seconds (`carbon254.jobs.retention`), workers or not.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from fastapi import FastAPI, Request

# Importing these registers their job kinds (export, scenario_sweep, scenario_paths, battery_screen,
# ppa_simulate, forecast_backtest, forecast_train, risk_var) in the process-wide registry.
import carbon254.exports
import carbon254.forecast_jobs
import carbon254.ppa_montecarlo
import carbon254.risk_montecarlo
import carbon254.screening
import carbon254.sweeps  # noqa: F401
from carbon254.compute import open_executor
from carbon254.compute.base import Executor
from carbon254.config import Settings
from carbon254.jobs import JobRegistry, JobState
from carbon254.jobs.retention import PeriodicSweep
from carbon254.jobs.worker import Worker
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.service.auth import install_metadata

logger = logging.getLogger("carbon254.service")

# Seconds shutdown waits for a worker thread to hand its job back (its running tasks finish first).
WORKER_JOIN_S = 60.0


@dataclass
class JobWorkers:
    """The service's worker threads, their executor and the retention sweep; `start`, then `stop`.

    `sweep_s` is the seconds between retention sweeps (0: no sweep thread).
    """

    settings: Settings
    state: JobState
    kinds: JobRegistry
    objects: ObjectStore
    count: int
    sweep_s: float = 0.0
    workers: list[Worker] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    executor: Executor | None = None
    sweeper: PeriodicSweep | None = None

    def start(self) -> None:
        """Start the sweep (unless `sweep_s` is 0), open the executor and start `count` worker threads."""
        if self.sweep_s > 0:
            self.sweeper = PeriodicSweep(self.state, self.objects, self.settings, self.sweep_s)
            self.sweeper.start()
        if self.count == 0:
            return
        self.executor = open_executor(self.settings.compute)
        for number in range(self.count):
            worker = Worker(
                self.state, self.executor, self.kinds, objects=self.objects, settings=self.settings
            )
            thread = threading.Thread(target=worker.run, name=f"carbon254-job-worker-{number}", daemon=True)
            thread.start()
            self.workers.append(worker)
            self.threads.append(thread)
        logger.info("started %d job worker(s) on %s", self.count, self.executor.url)

    def stop(self) -> None:
        """Stop the sweep and every worker (their jobs go back to the queue), wait, close the executor."""
        if self.sweeper is not None:
            self.sweeper.stop()
            self.sweeper = None
        for worker in self.workers:
            worker.stop()
        for thread in self.threads:
            thread.join(WORKER_JOIN_S)
            if thread.is_alive():
                logger.error("job worker thread %s did not stop within %.0f s", thread.name, WORKER_JOIN_S)
        self.workers.clear()
        self.threads.clear()
        if self.executor is not None:
            self.executor.close()
            self.executor = None


def install_jobs(app: FastAPI, settings: Settings, kinds: JobRegistry) -> None:
    """Put the job state, `kinds`, the object store and the (not yet started) workers on `app.state`.

    The app's own lifespan starts the workers (`settings.job_workers`
    threads, none unless the process serves the `jobs` domain) and the
    retention sweep, and stops them, handing their jobs back to the queue,
    before the metadata database they use is closed.
    """
    db = install_metadata(app, settings)
    state = JobState(db)
    objects = open_object_store(
        settings.object_store, data_dir=settings.data_dir, s3_endpoint=settings.s3_endpoint
    )
    app.state.job_state = state
    app.state.job_registry = kinds
    app.state.objects = objects
    # A process that does not serve the jobs domain (`serve --only stream`) runs no workers either.
    serves_jobs = settings.only is None or "jobs" in settings.only
    workers = JobWorkers(
        settings,
        state,
        kinds,
        objects,
        settings.job_workers if serves_jobs else 0,
        sweep_s=settings.job_sweep_s if serves_jobs else 0.0,
    )
    app.state.job_workers = workers


def get_job_state(request: Request) -> JobState:
    """FastAPI dependency: the app's job state (`install_jobs`)."""
    state: JobState = request.app.state.job_state
    return state


def get_job_registry(request: Request) -> JobRegistry:
    """FastAPI dependency: the job kinds the app accepts (`install_jobs`)."""
    kinds: JobRegistry = request.app.state.job_registry
    return kinds


def get_objects(request: Request) -> ObjectStore:
    """FastAPI dependency: the app's object store, where job artifacts are (`install_jobs`)."""
    objects: ObjectStore = request.app.state.objects
    return objects
