"""The retention sweep over real metadata databases (SQLite, PostgreSQL) and object stores (files, S3)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import s3fs

from carbon254.application.jobs import download_artifact
from carbon254.jobs import JobRecord, JobResult, JobState, JobStatus, TaskStatus, artifact_prefix
from carbon254.jobs.retention import sweep, tenant_retention
from carbon254.metadata import MetadataDatabase, create_tenant, set_job_retention
from carbon254.objects import ObjectStore, open_object_store
from moto_s3 import moto_server, use_dummy_aws

T0 = datetime(2025, 3, 1, tzinfo=UTC)
WEEK_S = 7 * 86_400.0
WORKER = "test-worker"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["file", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    """A file object store, then an S3 bucket of its own on moto's server."""
    if request.param == "file":
        return open_object_store("file://objects", data_dir=tmp_path, s3_endpoint=None)
    use_dummy_aws(monkeypatch, tmp_path)
    endpoint: str = request.getfixturevalue("moto_endpoint")
    bucket = f"c254-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True).mkdir(bucket)
    return open_object_store(f"s3://{bucket}/artifacts", data_dir=tmp_path, s3_endpoint=endpoint)


def at(state: JobState, when: datetime) -> JobState:
    """The same database, on a clock stopped at `when`."""
    return JobState(state.db, clock=lambda: when)


def finished_export(
    state: JobState, objects: ObjectStore, tenant: str, when: datetime, size: int
) -> JobRecord:
    """A succeeded export-like job finished at `when`, with a `size`-byte file under its prefix."""
    clocked = at(state, when)
    job = clocked.submit(tenant, "export", {})
    assert clocked.claim(WORKER, 60, job_id=job.id) is not None
    key = f"{artifact_prefix(job.id)}export.csv"
    objects.put(key, b"x" * size)
    assert clocked.finish(job.id, WORKER, JobResult(summary={"rows": 1}, artifacts={"export": key}))
    return clocked.get(job.id)


def stopped_with_parts(state: JobState, objects: ObjectStore, when: datetime, *, cancel: bool) -> JobRecord:
    """A job of two tasks, one done (its part written), then cancelled (or failed) at `when`."""
    clocked = at(state, when)
    job = clocked.submit("acme", "export", {})
    assert clocked.claim(WORKER, 60, job_id=job.id) is not None
    assert clocked.store_plan(job.id, WORKER, [("0", {}), ("1", {})])
    objects.put(f"{artifact_prefix(job.id)}parts/0.parquet", b"p" * 10)
    assert clocked.record_outcome(job.id, "0", output={"key": "part"})
    if cancel:
        assert clocked.mark_cancelled(job.id, WORKER)
    else:
        assert clocked.fail(job.id, WORKER, "task '1' failed")
    return clocked.get(job.id)


def test_an_expired_export_loses_its_file_and_a_fresh_one_keeps_it(
    state: JobState, objects: ObjectStore
) -> None:
    old = finished_export(state, objects, "acme", T0, 100)
    fresh = finished_export(state, objects, "acme", T0 + timedelta(days=6), 50)
    now = T0 + timedelta(seconds=WEEK_S + 1)

    summary = sweep(state, objects, now, lambda tenant: WEEK_S)

    assert (summary.jobs, summary.objects, summary.bytes_freed, summary.job_ids) == (1, 1, 100, (old.id,))
    assert objects.list(artifact_prefix(old.id)) == []
    expired = state.get(old.id)
    assert expired.expired_at == now
    assert expired.status is JobStatus.SUCCEEDED and expired.result is not None
    assert expired.result.summary == {"rows": 1}
    assert download_artifact(expired) is None
    kept = state.get(fresh.id)
    assert kept.expired_at is None and download_artifact(kept) is not None
    assert [info.size for info in objects.list(artifact_prefix(fresh.id))] == [50]

    again = sweep(state, objects, now, lambda tenant: WEEK_S)
    assert (again.jobs, again.bytes_freed) == (0, 0)


def test_a_tenants_own_retention_is_honoured(state: JobState, objects: ObjectStore) -> None:
    create_tenant(state.db, "brief")
    create_tenant(state.db, "patient")
    set_job_retention(state.db, "brief", 3600)
    set_job_retention(state.db, "patient", 60 * 86_400)
    brief = finished_export(state, objects, "brief", T0, 10)
    patient = finished_export(state, objects, "patient", T0, 10)
    ordinary = finished_export(state, objects, "ordinary", T0, 10)

    summary = sweep(state, objects, T0 + timedelta(hours=2), tenant_retention(state, WEEK_S))
    assert summary.job_ids == (brief.id,)

    later = sweep(state, objects, T0 + timedelta(days=8), tenant_retention(state, WEEK_S))
    assert later.job_ids == (ordinary.id,)
    assert state.get(patient.id).expired_at is None


@pytest.mark.parametrize("cancel", [True, False], ids=["cancelled", "failed"])
def test_a_stopped_jobs_parts_are_deleted_and_a_resume_runs_their_tasks_again(
    state: JobState, objects: ObjectStore, cancel: bool
) -> None:
    job = stopped_with_parts(state, objects, T0, cancel=cancel)
    assert job.status is (JobStatus.CANCELLED if cancel else JobStatus.FAILED)

    summary = sweep(state, objects, T0 + timedelta(days=8), lambda tenant: WEEK_S)

    assert (summary.job_ids, summary.objects, summary.bytes_freed) == ((job.id,), 1, 10)
    assert objects.list(artifact_prefix(job.id)) == []
    assert all(task.status is TaskStatus.PENDING for task in state.tasks(job.id))
    assert state.get(job.id).progress.done == 0
    resumed = state.resume(job.id)
    assert resumed.status is JobStatus.QUEUED and resumed.expired_at is None


def test_running_and_queued_jobs_are_never_swept(state: JobState, objects: ObjectStore) -> None:
    clocked = at(state, T0)
    queued = clocked.submit("acme", "export", {})
    running = clocked.submit("acme", "export", {})
    assert clocked.claim(WORKER, 60, job_id=running.id) is not None
    objects.put(f"{artifact_prefix(running.id)}parts/0.parquet", b"p")

    summary = sweep(state, objects, T0 + timedelta(days=30), lambda tenant: 1.0)

    assert summary.jobs == 0
    assert state.get(queued.id).expired_at is None
    assert len(objects.list(artifact_prefix(running.id))) == 1


def test_two_sweeps_at_once_expire_each_job_once(any_url: str, tmp_path: Path) -> None:
    objects = open_object_store("file://objects", data_dir=tmp_path, s3_endpoint=None)
    setup = MetadataDatabase(any_url)
    jobs = [finished_export(JobState(setup), objects, "acme", T0, 7) for _ in range(12)]
    now = T0 + timedelta(days=8)
    summaries = []
    start = threading.Barrier(2)

    def run() -> None:
        db = MetadataDatabase(any_url)
        try:
            start.wait()
            summaries.append(sweep(JobState(db), objects, now, lambda tenant: WEEK_S))
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(summaries) == 2
    swept = [job_id for summary in summaries for job_id in summary.job_ids]
    assert sorted(swept) == sorted(job.id for job in jobs)
    assert sum(summary.bytes_freed for summary in summaries) == 12 * 7
    setup.close()
