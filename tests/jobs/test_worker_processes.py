"""Worker processes: one killed with SIGKILL mid-job is taken over by another; SIGTERM stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from sample_kinds import expected_total, runs, task_key
from waiting import wait_for_job

from carbon254.jobs import JobState, JobStatus, TaskStatus
from carbon254.metadata import MetadataDatabase

WORKER = Path(__file__).with_name("worker_process.py")


Start = Callable[[JobState, str, float], subprocess.Popen[str]]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Start]:
    """Starts worker processes over a job state's database; kills any still running at the end.

    Their data dir, where the default `file://` object store lives, is the test's own.
    """
    started: list[subprocess.Popen[str]] = []

    def start(state: JobState, name: str, lease_s: float) -> subprocess.Popen[str]:
        url = state.db.url.render_as_string(hide_password=False)
        process = subprocess.Popen(
            [sys.executable, str(WORKER), url, name, str(lease_s), "0.1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CARBON254_DATA_DIR": str(tmp_path / "data")},
        )
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_a_job_whose_worker_was_killed_is_finished_by_another_worker(
    state: JobState, start_worker: Start, markers: Path
) -> None:
    n = 30
    job = state.submit("acme", "squares", {"n": n, "markers": str(markers), "sleep_s": 0.15})
    first = start_worker(state, "first", 2.0)
    wait_for_job(state, job.id, lambda j: j.progress.done >= 6)
    pool = psutil.Process(first.pid).children(recursive=True)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    checkpointed = {t.key for t in state.tasks(job.id) if t.status is TaskStatus.DONE}
    orphaned = state.get(job.id)
    assert orphaned.status is JobStatus.RUNNING and orphaned.worker == "first"
    assert 6 <= len(checkpointed) < n

    second = start_worker(state, "second", 2.0)
    done = wait_for_job(state, job.id, lambda j: j.status.finished)
    assert done.status is JobStatus.SUCCEEDED, done.error
    assert done.result is not None and done.result.summary["total"] == expected_total(n)
    assert done.result.summary["squares"] == [i * i for i in range(n)]
    assert all(runs(markers, key) == 1 for key in checkpointed)  # no checkpointed task ran again
    assert all(runs(markers, task_key(i)) >= 1 for i in range(n))  # and none was lost
    assert all(t.status is TaskStatus.DONE for t in state.tasks(job.id))
    # The killed worker's pool processes noticed and exited instead of lingering.
    _gone, alive = psutil.wait_procs(pool, timeout=30)
    assert alive == []

    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0


def test_sigterm_puts_the_running_job_back_in_the_queue_with_its_checkpoints(
    sqlite_url: str, start_worker: Start, markers: Path
) -> None:
    db = MetadataDatabase(sqlite_url)
    try:
        _stop_mid_job(JobState(db), start_worker, markers)
    finally:
        db.close()


def _stop_mid_job(state: JobState, start_worker: Start, markers: Path) -> None:
    job = state.submit("acme", "squares", {"n": 200, "markers": str(markers), "sleep_s": 0.1})
    worker = start_worker(state, "stopping", 30.0)
    wait_for_job(state, job.id, lambda j: j.progress.done >= 4)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    back = state.get(job.id)
    assert back.status is JobStatus.QUEUED and back.worker is None and back.lease_until is None
    done = [t for t in state.tasks(job.id) if t.status is TaskStatus.DONE]
    assert 4 <= len(done) < 200 and back.progress.done == len(done)
