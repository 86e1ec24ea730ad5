"""Jobs run end to end on local:// in this process: progress, finish, cancel and resume, failures."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import LocalCluster
from sample_kinds import expected_total, registry, runs, task_key
from waiting import wait_for_job

from carbon254.compute import LocalExecutor
from carbon254.compute.base import Executor
from carbon254.compute.dask import DaskExecutor
from carbon254.config import Settings
from carbon254.jobs import JobRecord, JobState, JobStatus, TaskStatus
from carbon254.jobs.runner import RunEnd
from carbon254.jobs.worker import Worker
from carbon254.metadata import MetadataDatabase
from carbon254.objects.file import FileObjectStore


@pytest.fixture(scope="module", params=["local", "dask"])
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    """Each job test runs on both executors: a local pool, and a real Dask `LocalCluster` of 2 workers."""
    if request.param == "local":
        pool = LocalExecutor(2)
        yield pool
        pool.close()
        return
    # A free port for the dashboard: the default 8787 may be taken by another cluster here.
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:
        dask = DaskExecutor(str(cluster.scheduler_address).replace("tcp://", "dask://"))
        yield dask
        dask.close()


@pytest.fixture
def sqlite_state(sqlite_url: str) -> Iterator[JobState]:
    db = MetadataDatabase(sqlite_url)
    yield JobState(db)
    db.close()


def _worker(state: JobState, executor: Executor, objects: Path) -> Worker:
    return Worker(
        state,
        executor,
        registry(),
        objects=FileObjectStore(objects),
        settings=Settings(),
        lease_s=10,
        poll_s=0.05,
    )


@pytest.fixture
def background(tmp_path: Path, sqlite_state: JobState, executor: Executor) -> Iterator[Worker]:
    """A worker looping in a thread of this process."""
    worker = _worker(sqlite_state, executor, tmp_path / "objects")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(timeout=60)
    assert not thread.is_alive()


def _squares(markers: Path, n: int, **options: object) -> dict[str, object]:
    return {"n": n, "markers": str(markers), **options}


def test_a_job_shows_progress_and_finishes_with_outputs_in_plan_order(
    sqlite_state: JobState, background: Worker, markers: Path
) -> None:
    job = sqlite_state.submit("acme", "squares", _squares(markers, 24, sleep_s=0.05))
    seen: list[tuple[JobStatus, int, int]] = []

    def record(current: JobRecord) -> bool:
        seen.append((current.status, current.progress.done, current.progress.total))
        return current.status.finished

    done = wait_for_job(sqlite_state, job.id, record)
    assert done.status is JobStatus.SUCCEEDED, done.error
    assert done.result is not None
    assert done.result.summary["total"] == expected_total(24)
    assert done.result.summary["squares"] == [i * i for i in range(24)]
    assert (done.progress.done, done.progress.total, done.progress.message) == (24, 24, "done")
    assert done.started_at is not None and done.finished_at is not None and done.worker is None
    assert any(status is JobStatus.RUNNING and 0 < d < 24 and t == 24 for status, d, t in seen)
    assert all(runs(markers, task_key(i)) == 1 for i in range(24))
    assert all(task.attempts == 1 for task in sqlite_state.tasks(job.id))


def test_cancel_a_running_job_then_resume_it_without_rerunning_done_tasks(
    sqlite_state: JobState, background: Worker, markers: Path
) -> None:
    job = sqlite_state.submit("acme", "squares", _squares(markers, 40, sleep_s=0.05))
    wait_for_job(sqlite_state, job.id, lambda j: j.progress.done >= 6)
    sqlite_state.cancel(job.id, tenant="acme")
    cancelled = wait_for_job(sqlite_state, job.id, lambda j: j.status.finished)
    assert cancelled.status is JobStatus.CANCELLED
    done_before = {t.key for t in sqlite_state.tasks(job.id) if t.status is TaskStatus.DONE}
    assert 6 <= len(done_before) < 40

    sqlite_state.resume(job.id, tenant="acme")
    finished = wait_for_job(sqlite_state, job.id, lambda j: j.status.finished)
    assert finished.status is JobStatus.SUCCEEDED, finished.error
    assert finished.result is not None and finished.result.summary["total"] == expected_total(40)
    assert all(runs(markers, key) == 1 for key in done_before)
    assert all(runs(markers, task_key(i)) >= 1 for i in range(40))
    attempts = {t.key: t.attempts for t in sqlite_state.tasks(job.id)}
    assert all(attempts[key] == 1 for key in done_before)
    assert any(count == 2 for count in attempts.values())


def test_a_failed_task_fails_the_job_naming_the_task_and_its_input(
    tmp_path: Path,
    sqlite_state: JobState,
    executor: Executor,
    markers: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = sqlite_state.submit("acme", "squares", _squares(markers, 6, fail_on=3))
    with caplog.at_level(logging.ERROR, logger="carbon254.jobs"):
        report = _worker(sqlite_state, executor, tmp_path / "objects").run_once()
    assert report is not None and report.end is RunEnd.FAILED
    failed = sqlite_state.get(job.id)
    assert failed.status is JobStatus.FAILED and failed.error is not None
    assert failed.error.startswith("task 't0003' failed on input {")
    assert '"i": 3' in failed.error and failed.error.endswith("ValueError: cannot square 3")
    assert "Traceback" not in failed.error
    assert "Traceback" in caplog.text and "raise ValueError" in caplog.text
    tasks = {t.key: t for t in sqlite_state.tasks(job.id)}
    assert (
        tasks["t0003"].status is TaskStatus.FAILED and tasks["t0003"].error == "ValueError: cannot square 3"
    )


def test_a_killed_worker_process_mid_job_still_gives_the_right_answer(
    tmp_path: Path, sqlite_state: JobState, executor: Executor, markers: Path
) -> None:
    job = sqlite_state.submit("acme", "squares", _squares(markers, 12, die_on=5, sleep_s=0.02))
    report = _worker(sqlite_state, executor, tmp_path / "objects").run_once()
    assert report is not None and report.end is RunEnd.SUCCEEDED
    done = sqlite_state.get(job.id)
    assert done.result is not None and done.result.summary["total"] == expected_total(12)
    assert runs(markers, task_key(5)) == 2


def test_an_unknown_kind_or_a_bad_request_fails_the_job_with_a_clear_message(
    tmp_path: Path, sqlite_state: JobState, executor: Executor
) -> None:
    unknown = sqlite_state.submit("acme", "squarez", {})
    bad = sqlite_state.submit("acme", "squares", {"n": "many"})
    worker = _worker(sqlite_state, executor, tmp_path / "objects")
    assert worker.run(until_idle=True) == 2
    assert (
        sqlite_state.get(unknown.id).error
        == "unknown job kind 'squarez'; did you mean 'squares'? (known: squares)"
    )
    error = sqlite_state.get(bad.id).error
    assert error is not None and error.startswith("invalid request for job kind 'squares': n:")
    assert "markers: Field required" in error


def test_a_job_with_no_tasks_finishes(
    tmp_path: Path, sqlite_state: JobState, executor: Executor, markers: Path
) -> None:
    job = sqlite_state.submit("acme", "squares", _squares(markers, 0))
    assert _worker(sqlite_state, executor, tmp_path / "objects").run(until_idle=True) == 1
    done = sqlite_state.get(job.id)
    assert done.status is JobStatus.SUCCEEDED and done.result is not None
    assert done.result.summary == {"total": 0, "squares": []}


def test_an_idle_worker_wakes_for_a_job_submitted_through_its_state(
    tmp_path: Path, sqlite_state: JobState, executor: Executor
) -> None:
    # An hour between polls: only the submit's signal can get the job run within the wait below.
    worker = Worker(
        sqlite_state,
        executor,
        registry(),
        objects=FileObjectStore(tmp_path / "objects"),
        settings=Settings(),
        lease_s=10,
        poll_s=3_600,
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        # Submitted after the worker found the queue empty and went to wait.
        time.sleep(0.5)
        job = sqlite_state.submit("acme", "squares", {"n": 3, "markers": str(tmp_path)})
        done = wait_for_job(sqlite_state, job.id, lambda j: j.status.finished, timeout_s=60)
        assert done.status is JobStatus.SUCCEEDED
        assert done.result is not None and done.result.summary["total"] == expected_total(3)
    finally:
        worker.stop()
        thread.join(10)
    assert not thread.is_alive()
