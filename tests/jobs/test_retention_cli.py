"""`carbon254 tenants retention` and `carbon254 jobs sweep` over the data dir's SQLite metadata database."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbon254.cli.console import console, err_console
from carbon254.cli.main import app
from carbon254.jobs import JobResult, JobState, artifact_prefix
from carbon254.metadata import MetadataDatabase, get_tenant, query_events
from carbon254.objects import open_object_store

WORKER = "test-worker"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CARBON254_"):
            monkeypatch.delenv(name)
    for output in (console, err_console):
        monkeypatch.setattr(output, "width", 200)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[MetadataDatabase]:
    database = MetadataDatabase(f"sqlite:///{tmp_path / 'metadata.db'}")
    yield database
    database.close()


def _finished(db: MetadataDatabase, data_dir: Path, tenant: str, when: datetime) -> str:
    """A succeeded job of `tenant` finished at `when`, with a 5-byte file in the data dir's object store."""
    state = JobState(db, clock=lambda: when)
    job = state.submit(tenant, "export", {})
    assert state.claim(WORKER, 60, job_id=job.id) is not None
    key = f"{artifact_prefix(job.id)}export.csv"
    open_object_store("file://", data_dir=data_dir, s3_endpoint=None).put(key, b"a,b\n1")
    assert state.finish(job.id, WORKER, JobResult(artifacts={"export": key}))
    return job.id


def test_a_tenants_retention_is_set_shown_and_reset(tmp_path: Path, db: MetadataDatabase) -> None:
    runner = CliRunner()
    args = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["tenants", "create", "acme", *args]).exit_code == 0

    set_ = runner.invoke(app, ["tenants", "retention", "acme", "30d", *args])
    assert set_.exit_code == 0, set_.output
    assert "keeps job artifacts for 30d" in set_.stdout
    assert get_tenant(db, "acme").job_retention_s == 30 * 86_400
    listed = runner.invoke(app, ["tenants", "list", *args])
    assert "30d" in listed.stdout

    reset = runner.invoke(app, ["tenants", "retention", "acme", "default", *args])
    assert reset.exit_code == 0 and get_tenant(db, "acme").job_retention_s is None

    bad = runner.invoke(app, ["tenants", "retention", "acme", "soon", *args])
    assert bad.exit_code == 1
    assert "invalid retention 'soon'" in bad.output
    unknown = runner.invoke(app, ["tenants", "retention", "nobody", "1h", *args])
    assert unknown.exit_code == 1 and "unknown tenant 'nobody'" in unknown.output
    audited = [(e.event.action, e.event.status) for e in query_events(db) if e.event.target == "nobody"]
    assert audited == [("admin.tenant.update", 404)]


def test_sweep_deletes_expired_files_now(tmp_path: Path, db: MetadataDatabase) -> None:
    now = datetime.now(UTC)
    old = _finished(db, tmp_path, "acme", now - timedelta(days=8))
    fresh = _finished(db, tmp_path, "acme", now - timedelta(days=1))
    runner = CliRunner()
    args = ["--data-dir", str(tmp_path)]

    swept = runner.invoke(app, ["jobs", "sweep", *args])
    assert swept.exit_code == 0, swept.output
    assert "Swept 1 expired job(s): deleted 1 object(s), 5 bytes freed." in swept.stdout
    objects = tmp_path / "objects" / "jobs"
    assert not (objects / old).exists() and (objects / fresh / "export.csv").is_file()
    shown = json.loads(runner.invoke(app, ["jobs", "show", old, *args]).stdout)
    assert shown["expired_at"] is not None and shown["result"]["artifacts"] == {
        "export": f"jobs/{old}/export.csv"
    }

    again = runner.invoke(app, ["jobs", "sweep", *args])
    assert "Swept 0 expired job(s)" in again.stdout
    # A tenant's own, shorter retention reaches the fresh one too.
    assert runner.invoke(app, ["tenants", "create", "acme", *args]).exit_code == 0
    assert runner.invoke(app, ["tenants", "retention", "acme", "12h", *args]).exit_code == 0
    shorter = runner.invoke(app, ["jobs", "sweep", *args])
    assert "Swept 1 expired job(s)" in shorter.stdout
    assert not (objects / fresh).exists()
