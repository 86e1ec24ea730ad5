"""`carbon254 jobs list|show|cancel|resume|worker|sweep`: jobs in the data dir's metadata database.

The same database `carbon254 serve` uses (SQLite under `--data-dir`, or
`CARBON254_METADATA_URL`), so an operator sees and steers the jobs users
submitted through the API. `worker` runs a job worker process until Ctrl-C
or SIGTERM, for machines that run jobs without serving the API (set
`CARBON254_JOB_WORKERS=0` on the service to leave all jobs to them); it
also runs the retention sweep every `CARBON254_JOB_SWEEP_S`, and `sweep` runs
one now. Cancels, resumes and sweeps are written to the audit log.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

# Importing these registers their job kinds (export, scenario_sweep, scenario_paths, battery_screen,
# ppa_simulate, forecast_backtest, forecast_train, risk_var) in the process-wide registry.
import carbon254.exports
import carbon254.forecast_jobs
import carbon254.ppa_montecarlo
import carbon254.risk_montecarlo
import carbon254.screening
import carbon254.sweeps  # noqa: F401
from carbon254.cli.console import console, fail
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import print_table
from carbon254.cli.tenants import audit_cli, open_metadata
from carbon254.config import Settings
from carbon254.jobs import InvalidTransition, JobRecord, JobState, JobStatus, UnknownJob, registry
from carbon254.jobs.retention import PeriodicSweep, sweep_now
from carbon254.jobs.worker import run_worker
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore

jobs = typer.Typer(
    name="jobs",
    help="Jobs: list, inspect, cancel, resume; run a worker; sweep expired artifacts.",
    no_args_is_help=True,
)

JobId = Annotated[str, typer.Argument(help="The job's id.", show_default=False)]


def _when(job: JobRecord) -> str:
    return job.created_at.strftime("%Y-%m-%d %H:%M:%S")


def _progress(job: JobRecord) -> str:
    return f"{job.progress.done}/{job.progress.total} {job.progress.message}".strip()


@jobs.command("list")
def list_(
    tenant: Annotated[str, typer.Option("--tenant", help="Whose jobs.", show_default=False)],
    kind: Annotated[str | None, typer.Option("--kind", help="Only jobs of this kind.")] = None,
    status: Annotated[JobStatus | None, typer.Option("--status", help="Only jobs in this status.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most jobs shown.")] = 50,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """A tenant's jobs, newest first."""
    db = open_metadata(data_dir)
    try:
        found = JobState(db).list_jobs(tenant, kind=kind, status=status, limit=limit)
    finally:
        db.close()
    if not found:
        console.print(f"No jobs for tenant {escape(tenant)}.")
        return
    table = Table(title=f"Jobs of {escape(tenant)}", title_justify="left")
    for column in ("id", "kind", "status", "progress", "created (UTC)"):
        table.add_column(column, no_wrap=column in ("id", "created (UTC)"))
    for job in found:
        table.add_row(job.id, escape(job.kind), job.status.value, escape(_progress(job)), _when(job))
    print_table(console, table)


def _get(state: JobState, job_id: str) -> JobRecord:
    try:
        return state.get(job_id)
    except UnknownJob as exc:
        fail(str(exc), "`carbon254 jobs list --tenant NAME` shows a tenant's jobs.")


@jobs.command("show")
def show(job_id: JobId, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """One job: tenant, kind, status, progress, times, request and result or error, as JSON."""
    db = open_metadata(data_dir)
    try:
        job = _get(JobState(db), job_id)
    finally:
        db.close()
    shown = {
        "id": job.id,
        "tenant": job.tenant,
        "kind": job.kind,
        "status": job.status.value,
        "progress": {"done": job.progress.done, "total": job.progress.total, "message": job.progress.message},
        "request": dict(job.request),
        "result": None
        if job.result is None
        else {"summary": dict(job.result.summary), "artifacts": dict(job.result.artifacts)},
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "expired_at": job.expired_at.isoformat() if job.expired_at else None,
    }
    console.print_json(json.dumps(shown))


def _change(action: str, job_id: str, data_dir: DataDir, resume: bool) -> None:
    db = open_metadata(data_dir)
    try:
        state = JobState(db)
        try:
            job = state.resume(job_id) if resume else state.cancel(job_id)
        except UnknownJob as exc:
            audit_cli(db, action, job_id, {}, 404)
            fail(str(exc))
        except InvalidTransition as exc:
            audit_cli(db, action, job_id, {}, 409)
            fail(str(exc))
        audit_cli(db, action, job_id, {"kind": job.kind, "tenant": job.tenant}, 200)
    finally:
        db.close()
    console.print(f"Job {job.id}: {job.status.value} ({escape(job.progress.message)})")


@jobs.command("cancel")
def cancel(job_id: JobId, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Cancel a queued or running job (a running one stops within its worker's heartbeat)."""
    _change("jobs.cancel", job_id, data_dir, resume=False)


@jobs.command("resume")
def resume(job_id: JobId, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Queue a cancelled or failed job again; its finished tasks do not run again."""
    _change("jobs.resume", job_id, data_dir, resume=True)


@jobs.command("worker")
def worker(
    name: Annotated[
        str | None, typer.Option("--name", help="Worker name in logs (default: host:pid:random).")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Run jobs from the metadata database on `CARBON254_COMPUTE` until Ctrl-C or SIGTERM.

    The job in hand at the signal goes back to the queue with its checkpoints,
    for this or another worker to resume. The retention sweep runs every
    `CARBON254_JOB_SWEEP_S` seconds alongside (0: never).
    """
    settings = Settings(data_dir=data_dir)
    objects = _objects(settings)
    console.print(f"Job worker on {escape(settings.compute)}; Ctrl-C stops it.")
    db = open_metadata(data_dir)
    sweeper = PeriodicSweep(JobState(db), objects, settings, settings.job_sweep_s)
    if settings.job_sweep_s > 0:
        sweeper.start()
    try:
        runs = run_worker(settings, registry, objects, name=name)
    finally:
        sweeper.stop()
        db.close()
    console.print(f"Worker stopped after {runs} job run(s).")


def _objects(settings: Settings) -> ObjectStore:
    return open_object_store(
        settings.object_store, data_dir=settings.data_dir, s3_endpoint=settings.s3_endpoint
    )


@jobs.command("sweep")
def sweep(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Delete the artifacts of jobs finished longer ago than their tenant's retention, now.

    Retention is `CARBON254_JOB_RETENTION_S`, or a tenant's own (`carbon254
    tenants retention`). The jobs stay listed, marked expired.
    """
    settings = Settings(data_dir=data_dir)
    objects = _objects(settings)
    db = open_metadata(data_dir)
    try:
        summary = sweep_now(JobState(db), objects, settings)
        audit_cli(
            db,
            "jobs.sweep",
            "jobs",
            {"jobs": str(summary.jobs), "bytes": str(summary.bytes_freed)},
            200,
        )
    finally:
        db.close()
    console.print(
        f"Swept {summary.jobs} expired job(s): deleted {summary.objects} object(s), "
        f"{summary.bytes_freed:,} bytes freed."
    )
