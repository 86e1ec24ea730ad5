"""`carbon254 export`: query's rows written by an export job run in process, to CSV, Parquet or XLSX."""

from __future__ import annotations

import io
import os
import re
import signal
import threading
import time
import zipfile
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from slow_export import slow_registry
from typer.testing import CliRunner, Result

from carbon254.cli import export as export_cli
from carbon254.cli.main import app
from carbon254.jobs import JobState, JobStatus
from carbon254.metadata import MetadataDatabase

# Three of the five simulated ERCOT nodes (the first day of two), in UTC and in the ISO's time.
WINDOW = ["--iso", "ercot", "--market", "dam", "--start", "2025-01-01", "--end", "2025-01-02"]
COMPARED = ("location", "interval_start", "interval_end", "lmp", "energy", "congestion", "loss")


@pytest.fixture(autouse=True)
def _one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON254_COMPUTE", "local://?processes=1")
    monkeypatch.setenv("CARBON254_JOB_POLL_S", "0.05")


def _locations(runner: CliRunner, sim_dir: Path) -> list[str]:
    listed = runner.invoke(app, ["query", *WINDOW, "--data-dir", str(sim_dir), "-o", "-"])
    table = pacsv.read_csv(io.BytesIO(listed.stdout.encode()))
    return sorted(set(table.column("location").to_pylist()))[:3]


def _run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(app, list(args))


def _job_id(output: str) -> str:
    found = re.search(r"Job ([0-9a-f-]{36})", output)
    assert found, output
    return found.group(1)


def _state(sim_dir: Path) -> JobState:
    return JobState(MetadataDatabase(f"sqlite:///{sim_dir / 'metadata.db'}"))


@pytest.mark.parametrize("tz", [None, "iso"])
def test_a_csv_export_holds_the_rows_query_writes(
    runner: CliRunner, sim_dir: Path, tmp_path: Path, tz: str | None
) -> None:
    names = ",".join(_locations(runner, sim_dir))
    args = [*WINDOW, "--locations", names, "--data-dir", str(sim_dir), *(["--tz", tz] if tz else [])]
    queried = _run(runner, "query", *args, "-o", str(tmp_path / "query.csv"))
    assert queried.exit_code == 0, queried.output
    exported = _run(runner, "export", *args, "-o", str(tmp_path / "export.csv"))
    assert exported.exit_code == 0, exported.output

    expected = pacsv.read_csv(tmp_path / "query.csv")
    got = pacsv.read_csv(tmp_path / "export.csv")
    assert got.num_rows == expected.num_rows == 3 * 24
    for name in COMPARED:
        assert got.column(name).to_pylist() == expected.column(name).to_pylist(), name
    job_id = _job_id(exported.stdout)
    assert f"Job {job_id}: wrote 72 rows (" in exported.stdout
    assert str(tmp_path / "export.csv") in exported.stdout
    job = _state(sim_dir).get(job_id)
    assert (job.status, job.tenant, job.kind) == (JobStatus.SUCCEEDED, "anonymous", "export")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_parquet_export_is_the_table_query_writes(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    args = [*WINDOW, "--data-dir", str(sim_dir)]
    assert _run(runner, "query", *args, "-o", str(tmp_path / "q.parquet")).exit_code == 0
    exported = _run(runner, "export", *args, "-o", str(tmp_path / "e.parquet"), "--format", "PARQUET")
    assert exported.exit_code == 0, exported.output
    expected, got = pq.read_table(tmp_path / "q.parquet"), pq.read_table(tmp_path / "e.parquet")
    # Every node, hub and load zone of the simulated ERCOT, a day of hours each.
    assert got.num_rows == expected.num_rows == 20 * 24
    assert got.select(list(COMPARED)).equals(expected.select(list(COMPARED)))


def test_an_xlsx_export_has_a_header_and_every_row(runner: CliRunner, sim_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "prices.xlsx"
    exported = _run(runner, "export", *WINDOW, "--locations", _locations(runner, sim_dir)[0],
                    "--data-dir", str(sim_dir), "-o", str(path))  # fmt: skip
    assert exported.exit_code == 0, exported.output
    book = zipfile.ZipFile(path)
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    rows = re.findall(r"<row[ >]", sheet)
    assert len(rows) == 1 + 24
    header = sheet[: sheet.index("</row>")]
    for name in ("location", "interval_start", "lmp"):
        assert f">{name}<" in header, header


@pytest.mark.parametrize(
    ("output", "fmt", "message"),
    [
        ("e.parquet", "csv", "--format csv does not match --output 'e.parquet', a .parquet file"),
        ("e.txt", None, "--output must end in .csv, .parquet or .xlsx (or give --format), got 'e.txt'"),
        ("-", None, "--output: export writes a file; use `carbon254 query --output -`"),
        ("missing/e.csv", None, "--output: directory"),
    ],
)
def test_a_format_the_output_does_not_allow_is_refused(
    runner: CliRunner, sim_dir: Path, tmp_path: Path, output: str, fmt: str | None, message: str
) -> None:
    target = output if output == "-" else str(tmp_path / output)
    result = _run(runner, "export", *WINDOW, "--data-dir", str(sim_dir), "-o", target,
                  *(["--format", fmt] if fmt else []))  # fmt: skip
    assert result.exit_code == 1
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "bad",
    [
        ["--locations", "HB_NOWHERE"],
        ["--market", "XYZ"],
        ["--end", "2024-12-31"],
        ["--iso", "ERCOTT"],
        ["--dataset", "load", "--market", "actual", "--locations", "NOWHERE"],
    ],
)
def test_a_bad_option_gets_the_message_query_gives(
    runner: CliRunner, sim_dir: Path, tmp_path: Path, bad: list[str]
) -> None:
    args = [*WINDOW, *bad, "--data-dir", str(sim_dir)]
    queried = _run(runner, "query", *args)
    exported = _run(runner, "export", *args, "-o", str(tmp_path / "e.csv"))
    assert queried.exit_code == exported.exit_code == 1
    assert exported.output == queried.output
    assert "Error:" in exported.output
    assert list(tmp_path.iterdir()) == []


def test_a_failed_job_says_why_and_writes_nothing(
    runner: CliRunner, sim_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An object store that is a file, not a directory: the job's first task cannot write its part.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("CARBON254_OBJECT_STORE", f"file://{blocker}")
    out = tmp_path / "e.csv"
    result = _run(runner, "export", *WINDOW, "--data-dir", str(sim_dir), "-o", str(out))
    assert result.exit_code == 1, result.output
    job_id = _job_id(result.output)
    said = " ".join(result.output.split())
    assert re.search(rf"Error: job {job_id} failed: task '0' failed on input .*NotADirectoryError", said)
    # The job's message is the whole story: the worker's log (and its traceback) stays out of sight.
    assert "Traceback" not in result.output
    assert "carbon254 jobs resume" in result.output
    assert not out.exists()
    assert _state(sim_dir).get(job_id).status is JobStatus.FAILED


def test_ctrl_c_cancels_the_job_and_a_resume_queues_it_again(
    runner: CliRunner, sim_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One location a task: twenty slow tasks.
    monkeypatch.setattr(export_cli, "registry", slow_registry(rows_per_task=24))
    state = _state(sim_dir)
    before = {job.id for job in state.list_jobs("anonymous", limit=1000)}

    def interrupt_once_running() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            fresh = [j for j in state.list_jobs("anonymous", limit=1000) if j.id not in before]
            if fresh and fresh[0].progress.done >= 1:
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.02)

    interrupter = threading.Thread(target=interrupt_once_running, daemon=True)
    interrupter.start()
    out = tmp_path / "e.parquet"
    result = _run(runner, "export", *WINDOW, "--data-dir", str(sim_dir), "-o", str(out))
    interrupter.join(timeout=10)
    assert result.exit_code == 130, result.output
    job_id = _job_id(result.output)
    assert f"Job {job_id} cancelled; `carbon254 jobs resume {job_id}` queues it again" in result.output
    assert not out.exists()
    job = state.get(job_id)
    assert job.status is JobStatus.CANCELLED
    assert 1 <= job.progress.done < job.progress.total == 20

    resumed = _run(runner, "jobs", "resume", job_id, "--data-dir", str(sim_dir))
    assert resumed.exit_code == 0, resumed.output
    assert state.get(job_id).status is JobStatus.QUEUED
    # Leave the shared data dir with no queued job for the other tests' workers to take.
    state.cancel(job_id)
    state.db.close()
