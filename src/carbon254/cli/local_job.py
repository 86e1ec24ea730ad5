"""One submitted job run in this process with a progress bar: how `carbon254 export` runs without a server.

The job is claimed by its id (so no other queued job is taken), run by a
`Worker` on the executor `CARBON254_COMPUTE` names in a background thread, and
followed by polling its state. When another worker (the service's, or a
`carbon254 jobs worker`) claimed it first, it is followed all the same.
Ctrl+C cancels the job: it is marked cancelled with its checkpoints, and
`carbon254 jobs resume ID` queues it again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import NoReturn

from pydantic import BaseModel
from rich.console import Console

from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS
from carbon254.application.jobs import submit_job
from carbon254.cli.console import CliError, fail, interrupted
from carbon254.cli.operations import option_message
from carbon254.cli.progress import JobProgressBar
from carbon254.cli.stores import open_cli_store
from carbon254.compute import open_executor
from carbon254.config import Settings
from carbon254.jobs import InvalidTransition, JobRecord, JobRegistry, JobState
from carbon254.jobs.worker import Worker
from carbon254.objects.base import ObjectStore

# Seconds between looks at the job's progress.
POLL_S = 0.1


def submit_here(
    kind: str,
    request: BaseModel,
    state: JobState,
    kinds: JobRegistry,
    objects: ObjectStore,
    settings: Settings,
) -> JobRecord:
    """Queue a `kind` job for the local user with every surface's checks (the store's names included).

    Exits naming the option at fault (and the names meant, when a name is
    close to a stored one) when the request is refused.
    """
    try:
        store = open_cli_store(settings.store, settings.data_dir, create=False)
    except CliError as exc:
        fail(exc.message, exc.hint)
    try:
        return submit_job(
            kind,
            request.model_dump(mode="json", exclude_none=True),
            ANONYMOUS,
            state=state,
            kinds=kinds,
            objects=objects,
            settings=settings,
            store=store,
        )
    except ApiError as exc:
        fail(
            option_message(exc),
            f"Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else None,
        )
    finally:
        store.close()


def run_job_here(
    job: JobRecord,
    state: JobState,
    kinds: JobRegistry,
    objects: ObjectStore,
    settings: Settings,
    console: Console,
    description: str,
) -> JobRecord:
    """Run the queued `job` here (or follow it where another worker runs it) until it finishes.

    Returns the job as it finished (succeeded, failed or cancelled by
    someone else). On Ctrl+C it cancels the job, waits for its runner to
    stop, and leaves with exit code 130 saying how to resume it.
    """
    # The runner logs a failed task's traceback; here the job's own message says what failed.
    quiet = logging.NullHandler()
    logging.getLogger("carbon254").addHandler(quiet)
    executor = open_executor(settings.compute)
    worker = Worker(state, executor, kinds, objects=objects, settings=settings)
    runner = threading.Thread(
        target=worker.run_once, kwargs={"job_id": job.id}, name=f"export-{job.id[:8]}", daemon=True
    )
    try:
        runner.start()
        try:
            return _follow(job.id, state, console, description)
        except KeyboardInterrupt:
            _cancel(job.id, state, runner)
    finally:
        # The runner has ended (or the job finished elsewhere): its executor is idle.
        executor.close()
        logging.getLogger("carbon254").removeHandler(quiet)


def _follow(job_id: str, state: JobState, console: Console, description: str) -> JobRecord:
    with JobProgressBar(console, description) as bar:
        while True:
            job = state.get(job_id)
            bar.show(job.progress.done, job.progress.total, job.progress.message)
            if job.status.finished:
                return job
            time.sleep(POLL_S)


def _cancel(job_id: str, state: JobState, runner: threading.Thread) -> NoReturn:
    # A job that finished as Ctrl+C came stays as it ended.
    with contextlib.suppress(InvalidTransition):
        state.cancel(job_id)
    # The runner notices the cancel within a heartbeat and stops its tasks.
    while runner.is_alive():
        try:
            runner.join()
        except KeyboardInterrupt:
            continue
    interrupted(
        f"Job {job_id} cancelled; `carbon254 jobs resume {job_id}` queues it again for a worker "
        "(`carbon254 jobs worker` or the service)."
    )
