"""The pieces of waiting for and downloading a job that need no service: polling, the bar, link targets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from carbon254.client import InvalidRequest, JobCancelled, JobFailed, JobInfo, JobStatus, JobTimeout
from carbon254.client.downloads import PartialFile, link_target, served_name
from carbon254.client.job_wait import MAX_POLL_S, ProgressView, Waiter, job_path


def info(status: JobStatus, done: int = 0, total: int = 0, error: str | None = None) -> JobInfo:
    return JobInfo(
        id="j1",
        kind="export",
        status=status,
        request={},
        progress={"done": done, "total": total, "message": ""},  # type: ignore[arg-type]
        result=None,
        error=error,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        started_at=None,
        finished_at=None,
    )


def test_polls_grow_gently_up_to_a_ceiling() -> None:
    waiter = Waiter("j1", progress=False, timeout_s=None, poll_s=0.2)
    delays = [waiter.next_delay() for _ in range(12)]
    assert delays[:3] == pytest.approx([0.2, 0.3, 0.45])
    assert delays == sorted(delays) and delays[-1] == MAX_POLL_S


def test_a_wait_past_its_deadline_times_out_with_the_last_status_seen() -> None:
    waiter = Waiter("j1", progress=False, timeout_s=0, poll_s=0.2)
    assert waiter.observe(info(JobStatus.RUNNING)) is None
    with pytest.raises(JobTimeout, match="still running after 0 s") as raised:
        waiter.next_delay()
    assert raised.value.info is not None and raised.value.info.status is JobStatus.RUNNING


def test_an_ending_without_success_raises_its_typed_error() -> None:
    waiter = Waiter("j1", progress=False, timeout_s=None, poll_s=0.2)
    with pytest.raises(JobFailed, match="failed: task 0 failed: disk full"):
        waiter.observe(info(JobStatus.FAILED, error="task 0 failed: disk full"))
    with pytest.raises(JobCancelled, match="cancelled"):
        waiter.observe(info(JobStatus.CANCELLED))
    done = info(JobStatus.SUCCEEDED, 2, 2)
    assert waiter.observe(done) is done


def test_the_bar_is_drawn_when_counts_change_and_its_line_is_ended(
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = ProgressView(True)
    for done, total in ((0, 0), (0, 4), (0, 4), (1, 4)):
        view.update(info(JobStatus.RUNNING, done, total))
    view.close()
    err = capsys.readouterr().err
    assert err.count("export [") == 2 and "1/4" in err and err.endswith("\n")
    seen: list[tuple[int, int]] = []
    callback = ProgressView(lambda done, total: seen.append((done, total)))
    for done in (0, 1, 1, 2):
        callback.update(info(JobStatus.RUNNING, done, 2))
    callback.close()
    assert seen == [(0, 2), (1, 2), (2, 2)] and capsys.readouterr().err == ""


def test_job_paths_escape_the_id_and_refuse_a_blank_one() -> None:
    assert job_path("a/../b", "cancel") == "/v1/jobs/a%2F..%2Fb/cancel"
    with pytest.raises(InvalidRequest):
        job_path("")


def test_links_are_followed_on_the_clients_own_host() -> None:
    signed = "?expires=1&signature=ab"
    assert (
        link_target("http://h:1/api", f"http://h:1/api/v1/downloads/j{signed}") == f"/v1/downloads/j{signed}"
    )
    # Another host (the service's own address behind a proxy): only the path and query are kept.
    assert link_target("https://proxy", f"http://10.0.0.5:8000/v1/downloads/j{signed}") == (
        f"/v1/downloads/j{signed}"
    )


def test_the_served_name_is_a_bare_file_name() -> None:
    def named(value: str) -> str | None:
        return served_name(httpx.Response(200, headers={"Content-Disposition": value}))

    assert named('attachment; filename="export.parquet"') == "export.parquet"
    assert named('attachment; filename="../../etc/passwd"') == "passwd"
    assert named('attachment; filename=".."') is None
    assert named("attachment") is None


def test_a_partial_file_needs_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no directory"):
        PartialFile(tmp_path / "absent" / "x.csv")
    assert PartialFile(tmp_path).headers() == {"Accept-Encoding": "identity"}
