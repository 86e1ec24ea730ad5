"""`carbon254 jobs list|show|cancel|resume|worker` over the data dir's SQLite metadata database."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_kinds import expected_total, registry
from typer.testing import CliRunner
from waiting import wait_for_job

from carbon254.cli import jobs as jobs_cli
from carbon254.cli.console import console, err_console
from carbon254.cli.main import app
from carbon254.jobs import JobState, JobStatus
from carbon254.metadata import MetadataDatabase, query_events


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CARBON254_"):
            monkeypatch.delenv(name)
    for output in (console, err_console):
        monkeypatch.setattr(output, "width", 200)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[JobState]:
    db = MetadataDatabase(f"sqlite:///{tmp_path / 'metadata.db'}")
    yield JobState(db)
    db.close()


def test_list_show_cancel_and_resume(tmp_path: Path, state: JobState, markers: Path) -> None:
    runner = CliRunner()
    args = ["--data-dir", str(tmp_path)]
    first = state.submit("acme", "squares", {"n": 2, "markers": str(markers)})
    second = state.submit("acme", "squares", {"n": 3, "markers": str(markers)})
    state.submit("other", "squares", {"n": 1, "markers": str(markers)})

    listed = runner.invoke(app, ["jobs", "list", "--tenant", "acme", *args])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.index(second.id) < listed.stdout.index(first.id)
    assert listed.stdout.count("squares") == 2

    shown = runner.invoke(app, ["jobs", "show", first.id, *args])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert (body["tenant"], body["kind"], body["status"], body["request"]["n"]) == (
        "acme",
        "squares",
        "queued",
        2,
    )

    cancelled = runner.invoke(app, ["jobs", "cancel", second.id, *args])
    assert cancelled.exit_code == 0, cancelled.output
    assert "cancelled" in cancelled.stdout
    assert state.get(second.id).status is JobStatus.CANCELLED
    again = runner.invoke(app, ["jobs", "cancel", second.id, *args])
    assert again.exit_code == 1
    assert "already cancelled" in again.output

    only_cancelled = runner.invoke(app, ["jobs", "list", "--tenant", "acme", "--status", "cancelled", *args])
    assert second.id in only_cancelled.stdout and first.id not in only_cancelled.stdout

    resumed = runner.invoke(app, ["jobs", "resume", second.id, *args])
    assert resumed.exit_code == 0, resumed.output
    assert state.get(second.id).status is JobStatus.QUEUED
    assert runner.invoke(app, ["jobs", "resume", second.id, *args]).exit_code == 1
    missing = runner.invoke(app, ["jobs", "show", "no-such-job", *args])
    assert missing.exit_code == 1
    assert "no job 'no-such-job'" in missing.output

    statuses = {
        (e.event.action, e.event.status) for e in query_events(state.db) if e.event.target == second.id
    }
    assert statuses == {
        ("jobs.cancel", 200),
        ("jobs.cancel", 409),
        ("jobs.resume", 200),
        ("jobs.resume", 409),
    }


def test_worker_runs_queued_jobs_until_sigint(
    tmp_path: Path, state: JobState, markers: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBON254_COMPUTE", "local://?processes=1")
    monkeypatch.setenv("CARBON254_JOB_POLL_S", "0.05")
    monkeypatch.setattr(jobs_cli, "registry", registry())
    jobs = [state.submit("acme", "squares", {"n": n, "markers": str(markers)}) for n in (3, 4)]

    def stop_when_done() -> None:
        for job in jobs:
            wait_for_job(state, job.id, lambda j: j.status.finished)
        os.kill(os.getpid(), signal.SIGINT)

    stopper = threading.Thread(target=stop_when_done, daemon=True)
    stopper.start()
    result = CliRunner().invoke(app, ["jobs", "worker", "--data-dir", str(tmp_path)])
    stopper.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert "Worker stopped after 2 job run(s)" in result.stdout
    for job, n in zip(jobs, (3, 4), strict=True):
        done = state.get(job.id)
        assert done.status is JobStatus.SUCCEEDED
        assert done.result is not None and done.result.summary["total"] == expected_total(n)
