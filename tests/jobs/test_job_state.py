"""JobState on SQLite and PostgreSQL: submit, list, claim with leases, plan, checkpoints, cancel, resume."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from carbon254.jobs import InvalidTransition, JobResult, JobState, JobStatus, Progress, TaskStatus, UnknownJob
from carbon254.jobs.state import Checkpoint, utc_now

PLAN = [("a", {"x": 1}), ("b", {"x": 2}), ("c", {"x": 3})]


def test_submit_get_and_list_newest_first_with_filters(state: JobState) -> None:
    first = state.submit("acme", "export", {"format": "csv"})
    second = state.submit("acme", "screen", {"nodes": 3})
    third = state.submit("acme", "export", {"format": "parquet"})
    state.submit("other", "export", {})

    got = state.get(first.id)
    assert got.status is JobStatus.QUEUED and got.request == {"format": "csv"} and got.tenant == "acme"
    assert got.progress == Progress(0, 0, "queued") and got.result is None and got.error is None
    assert [j.id for j in state.list_jobs("acme")] == [third.id, second.id, first.id]
    assert [j.id for j in state.list_jobs("acme", kind="export")] == [third.id, first.id]
    assert [j.id for j in state.list_jobs("acme", limit=1)] == [third.id]
    state.cancel(second.id)
    assert [j.id for j in state.list_jobs("acme", status=JobStatus.CANCELLED)] == [second.id]


def test_another_tenants_job_is_reported_as_missing(state: JobState) -> None:
    job = state.submit("acme", "export", {})
    assert state.get(job.id, tenant="acme").id == job.id
    with pytest.raises(UnknownJob, match="no job"):
        state.get(job.id, tenant="intruder")
    with pytest.raises(UnknownJob):
        state.cancel(job.id, tenant="intruder")
    with pytest.raises(UnknownJob):
        state.get("no-such-id")
    assert state.get(job.id).status is JobStatus.QUEUED


def test_claim_takes_the_oldest_queued_job_once(state: JobState) -> None:
    first = state.submit("acme", "k", {})
    second = state.submit("acme", "k", {})
    claimed = state.claim("w1", lease_s=30)
    assert claimed is not None and claimed.id == first.id
    assert claimed.status is JobStatus.RUNNING and claimed.worker == "w1" and claimed.started_at is not None
    assert claimed.lease_until is not None and claimed.lease_until > utc_now()
    again = state.claim("w2", lease_s=30)
    assert again is not None and again.id == second.id
    assert state.claim("w3", lease_s=30) is None


def test_a_job_whose_lease_expired_is_claimed_again_and_the_old_worker_is_fenced_off(state: JobState) -> None:
    job = state.submit("acme", "k", {})
    assert state.claim("dead", lease_s=5) is not None
    assert state.store_plan(job.id, "dead", PLAN)
    assert state.claim("w2", lease_s=5) is None  # the lease still holds

    later = JobState(state.db, clock=lambda: utc_now() + timedelta(seconds=10))
    reclaimed = later.claim("w2", lease_s=5)
    assert reclaimed is not None and reclaimed.id == job.id and reclaimed.worker == "w2" and reclaimed.planned
    # The old worker may no longer change the job, but a task outcome it had is still kept once.
    assert state.renew(job.id, "dead", 5) is None
    assert not state.set_progress(job.id, "dead", Progress(1, 3, "x"))
    assert not state.finish(job.id, "dead", JobResult())
    assert state.record_outcome(job.id, "a", output={"y": 1})
    assert not later.record_outcome(job.id, "a", output={"y": 1})
    assert later.renew(job.id, "w2", 5) is not None


def test_the_plan_is_stored_once_and_each_outcome_recorded_once(state: JobState) -> None:
    job = state.submit("acme", "k", {})
    assert state.tasks(job.id) == []
    state.claim("w", lease_s=30)
    assert state.store_plan(job.id, "w", PLAN)
    assert not state.store_plan(job.id, "w", [("z", {})])
    tasks = state.tasks(job.id)
    assert [(t.key, t.position, dict(t.input), t.status) for t in tasks] == [
        ("a", 0, {"x": 1}, TaskStatus.PENDING),
        ("b", 1, {"x": 2}, TaskStatus.PENDING),
        ("c", 2, {"x": 3}, TaskStatus.PENDING),
    ]
    assert state.get(job.id).progress.total == 3

    state.start_tasks(job.id, ["a", "b"])
    assert state.record_outcome(job.id, "b", output={"y": 4})
    assert not state.record_outcome(job.id, "b", output={"y": 999})
    assert state.record_outcome(job.id, "c", error="ValueError: no")
    by_key = {t.key: t for t in state.tasks(job.id)}
    assert by_key["b"].status is TaskStatus.DONE and by_key["b"].output == {"y": 4}
    assert by_key["b"].attempts == 1 and by_key["c"].attempts == 0 and by_key["b"].finished_at is not None
    assert by_key["c"].status is TaskStatus.FAILED and by_key["c"].error == "ValueError: no"
    assert state.get(job.id).progress.done == 1  # the repeated record did not count again


def test_a_plan_with_repeated_keys_is_refused(state: JobState) -> None:
    job = state.submit("acme", "k", {})
    state.claim("w", lease_s=30)
    with pytest.raises(ValueError, match="repeats task keys: a"):
        state.store_plan(job.id, "w", [("a", {}), ("a", {})])
    assert state.tasks(job.id) == []


def test_cancel_a_queued_job_at_once_and_a_running_one_through_its_worker(state: JobState) -> None:
    queued = state.submit("acme", "k", {})
    running = state.submit("acme", "k", {})
    state.cancel(queued.id)
    # The queued job is cancelled, so the claim takes the other one.
    claimed = state.claim("w", lease_s=30)
    assert claimed is not None and claimed.id == running.id
    cancelled = state.get(queued.id)
    assert cancelled.status is JobStatus.CANCELLED and cancelled.finished_at is not None

    asked = state.cancel(running.id)
    assert asked.status is JobStatus.RUNNING and asked.cancel_requested
    lease = state.renew(running.id, "w", 30)
    assert lease is not None and lease.cancel_requested
    assert state.mark_cancelled(running.id, "w")
    done = state.get(running.id)
    assert done.status is JobStatus.CANCELLED and not done.cancel_requested and done.worker is None
    with pytest.raises(InvalidTransition, match="already cancelled"):
        state.cancel(running.id)


def test_a_dead_workers_job_that_was_asked_to_cancel_is_cancelled_not_run(state: JobState) -> None:
    job = state.submit("acme", "k", {})
    state.claim("dead", lease_s=5)
    state.cancel(job.id)
    later = JobState(state.db, clock=lambda: utc_now() + timedelta(seconds=10))
    assert later.claim("w2", lease_s=5) is None
    assert state.get(job.id).status is JobStatus.CANCELLED


def test_resume_keeps_done_tasks_and_reruns_failed_ones(state: JobState) -> None:
    job = state.submit("acme", "k", {})
    state.claim("w", lease_s=30)
    state.store_plan(job.id, "w", PLAN)
    state.record_outcome(job.id, "a", output={"y": 1})
    state.record_outcome(job.id, "b", error="boom")
    assert state.fail(job.id, "w", "task 'b' failed")
    failed = state.get(job.id)
    assert failed.status is JobStatus.FAILED and failed.error == "task 'b' failed"

    resumed = state.resume(job.id, tenant="acme")
    assert resumed.status is JobStatus.QUEUED and resumed.error is None and resumed.finished_at is None
    by_key = {t.key: t.status for t in state.tasks(job.id)}
    assert by_key == {"a": TaskStatus.DONE, "b": TaskStatus.PENDING, "c": TaskStatus.PENDING}
    assert state.get(job.id).progress.done == 1
    with pytest.raises(InvalidTransition, match="only cancelled or failed"):
        state.resume(job.id)


def test_finish_stores_the_result_and_release_requeues(state: JobState) -> None:
    job = state.submit("acme", "k", {})
    state.claim("w", lease_s=30)
    state.store_plan(job.id, "w", PLAN)
    assert state.release(job.id, "w")
    assert state.get(job.id).status is JobStatus.QUEUED
    state.claim("w2", lease_s=30)
    assert state.finish(job.id, "w2", JobResult(summary={"rows": 3}, artifacts={"data": "jobs/x/data.csv"}))
    done = state.get(job.id)
    assert done.status is JobStatus.SUCCEEDED and done.progress.done == 3 and done.progress.total == 3
    assert done.result == JobResult(summary={"rows": 3}, artifacts={"data": "jobs/x/data.csv"})
    with pytest.raises(InvalidTransition):
        state.resume(job.id)


CLAIMER = """
import sys
from carbon254.jobs import JobState
from carbon254.metadata import MetadataDatabase
state = JobState(MetadataDatabase(sys.argv[1]))
claimed = []
while (job := state.claim(sys.argv[2], lease_s=60)) is not None:
    claimed.append(job.id)
print("\\n".join(claimed))
"""


def test_several_worker_processes_claim_each_job_exactly_once(state: JobState) -> None:
    jobs = {state.submit("acme", "k", {"i": i}).id for i in range(40)}
    url = state.db.url.render_as_string(hide_password=False)
    processes = [
        subprocess.Popen([sys.executable, "-c", CLAIMER, url, f"w{n}"], stdout=subprocess.PIPE, text=True)
        for n in range(3)
    ]
    claimed: list[str] = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        claimed.extend(line for line in out.splitlines() if line)
    assert sorted(claimed) == sorted(jobs)
    assert {j.status for j in state.list_jobs("acme")} == {JobStatus.RUNNING}


def test_a_batch_of_outcomes_is_recorded_in_one_go_each_key_once(state: JobState) -> None:
    job = state.submit("acme", "k", {})
    state.claim("w", lease_s=30)
    state.store_plan(job.id, "w", PLAN)
    state.record_outcome(job.id, "a", output={"y": 1})
    recorded = state.record_outcomes(
        job.id,
        [
            Checkpoint("a", output={"y": 100}),
            Checkpoint("b", output={"y": 4}),
            Checkpoint("b", output={"y": 400}),
            Checkpoint("c", error="ZeroDivisionError: no"),
        ],
    )
    assert recorded == ["b", "c"]
    outputs = {t.key: (t.status, t.output) for t in state.tasks(job.id)}
    assert outputs == {
        "a": (TaskStatus.DONE, {"y": 1}),
        "b": (TaskStatus.DONE, {"y": 4}),
        "c": (TaskStatus.FAILED, None),
    }
    assert state.get(job.id).progress.done == 2
    with pytest.raises(ValueError, match="exactly one of output or error"):
        Checkpoint("d")
