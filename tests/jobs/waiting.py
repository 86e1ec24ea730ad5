"""Waiting in tests for a job to reach a state, polling its record."""

from __future__ import annotations

import time
from collections.abc import Callable

from carbon254.jobs import JobRecord, JobState


def wait_for_job(
    state: JobState, job_id: str, until: Callable[[JobRecord], bool], timeout_s: float = 90
) -> JobRecord:
    """The job's record once `until` holds for it; AssertionError naming its last state after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = state.get(job_id)
        if until(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never got there: {state.get(job_id)}")
