"""Jobs through the SDK against a real `carbon254 serve`: export, wait with a bar, download, cancel, fail.

Two services: `service` runs jobs with its own worker; `queued` runs none
(`CARBON254_JOB_WORKERS=0`), so its jobs stay queued until a test cancels
them or starts a `carbon254 jobs worker` of its own, and it lets a tenant
hold only a few active jobs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest
from fault_proxy import FaultProxy
from live_service import LiveService

from carbon254.client import (
    AsyncClient,
    Client,
    InvalidRequest,
    Job,
    JobCancelled,
    JobFailed,
    JobStatus,
    JobTimeout,
    NotEntitled,
    NotFound,
    RateLimited,
    ServerError,
)

# Ten New York days of hourly prices at two locations: 2 x 240 rows.
LMP = {
    "iso": "PJM",
    "market": "DAM",
    "locations": ["WESTERN HUB", "PSEG"],
    "start": "2024-02-02",
    "end": "2024-02-12",
    "tz": "America/New_York",
}
VALUES = ("lmp", "energy", "congestion", "loss")
MAX_ACTIVE = 3
WAIT_S = 120.0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    env = {"CARBON254_JOB_POLL_S": "0.05", "CARBON254_COMPUTE": "local://?processes=1"}
    with LiveService.seeded(tmp_path_factory.mktemp("sdk-jobs"), env=env) as live:
        yield live


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    env = {"CARBON254_JOB_WORKERS": "0", "CARBON254_JOB_MAX_ACTIVE": str(MAX_ACTIVE)}
    with LiveService.seeded(tmp_path_factory.mktemp("sdk-jobs-queued"), env=env) as live:
        yield live


@pytest.fixture
def client(service: LiveService) -> Iterator[Client]:
    with Client(base_url=service.base_url, api_key=service.keys.full) as c:
        yield c


@pytest.fixture
def queued_client(queued: LiveService) -> Iterator[Client]:
    with Client(base_url=queued.base_url, api_key=queued.keys.full) as c:
        yield c
        # Leave no active job behind for the next test's limit.
        for status in (JobStatus.QUEUED, JobStatus.RUNNING):
            for job in c.jobs.list(status=status):
                c.jobs.get(job.id).cancel()


def _utc(times: pd.Series) -> list[pd.Timestamp]:
    return list(pd.to_datetime(times, utc=True))


def test_a_csv_export_waits_with_a_bar_and_downloads_what_lmp_answers(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = client.export(**LMP, format="csv")  # type: ignore[arg-type]
    done = job.wait(progress=True, timeout_s=WAIT_S)
    bar = capsys.readouterr().err
    total = done.progress.total
    assert done.status is JobStatus.SUCCEEDED and total >= 1
    assert f"export [{'#' * 30}] {total}/{total}" in bar, bar
    path = job.download(tmp_path / "prices.csv")
    assert path == tmp_path / "prices.csv"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prices.csv"]
    exported = pd.read_csv(path)
    direct = client.lmp(**LMP)  # type: ignore[call-overload]
    assert len(exported) == len(direct) == 2 * 240 == done.result.summary["rows"]  # type: ignore[union-attr]
    assert list(exported["location"]) == list(direct["location"].astype(str))
    assert _utc(exported["interval_start"]) == _utc(direct["interval_start"])
    for name in VALUES:
        assert list(exported[name]) == list(direct[name]), name


def test_a_parquet_export_downloaded_into_a_folder_keeps_the_services_name(
    client: Client, tmp_path: Path
) -> None:
    job = client.export(**LMP)  # type: ignore[arg-type]
    path = job.download(tmp_path)
    assert path == tmp_path / "export.parquet"
    assert [p.name for p in tmp_path.iterdir()] == ["export.parquet"]
    exported = pq.read_table(path)
    direct = client.lmp(**LMP, frame="arrow")  # type: ignore[call-overload]
    assert exported.num_rows == direct.num_rows == 2 * 240
    for name in ("location", "interval_start", *VALUES):
        assert exported.column(name).to_pylist() == direct.column(name).to_pylist(), name


def test_an_export_of_another_dataset_holds_that_methods_rows(client: Client, tmp_path: Path) -> None:
    query = {"iso": "ERCOT", "start": "2024-01-10", "end": "2024-01-12", "kind": "actual"}
    job = client.export(dataset="load", format="csv", **query)
    exported = pd.read_csv(job.download(tmp_path / "load.csv"))
    direct = client.load(**query)  # type: ignore[call-overload]
    assert len(exported) == len(direct) > 0
    assert list(exported["mw"]) == list(direct["mw"])


def test_jobs_are_listed_and_found_again_by_id(client: Client) -> None:
    job = client.export(**LMP, format="csv")  # type: ignore[arg-type]
    again = client.jobs.get(job.id)
    assert again.id == job.id
    info = again.result(timeout_s=WAIT_S)
    assert info.kind == "export" and info.request["locations"] == "WESTERN HUB,PSEG"
    assert info.result is not None and info.result.artifacts == ("export",)
    assert info.started_at is not None and info.finished_at is not None
    listed = client.jobs.list(kind="export", status="succeeded", limit=500)
    assert job.id in [j.id for j in listed]
    assert all(j.status is JobStatus.SUCCEEDED for j in listed)
    assert client.jobs.list("backfill") == []
    with pytest.raises(InvalidRequest) as too_many:
        client.jobs.list(limit=501)
    assert too_many.value.parameter == "limit"


def test_an_unknown_kind_is_not_found_with_suggestions(client: Client) -> None:
    with pytest.raises(NotFound) as raised:
        client.jobs.submit("exprot", {"iso": "PJM"})
    assert raised.value.suggestions == ("export",)
    assert "exprot" in str(raised.value) and raised.value.parameter == "kind"


def test_a_bad_export_is_refused_before_it_is_queued(client: Client) -> None:
    with pytest.raises(NotFound) as raised:
        client.export(**{**LMP, "locations": ["NOWHERE"]})  # type: ignore[arg-type]
    assert "NOWHERE" in str(raised.value)
    # A format the SDK knows is wrong is refused without asking the service.
    with pytest.raises(InvalidRequest) as bad_format:
        client.export(**LMP, format="pdf")  # type: ignore[arg-type]
    assert bad_format.value.parameter == "format" and bad_format.value.status is None
    with pytest.raises(InvalidRequest) as bad_request:
        client.jobs.submit("export", {"iso": "PJM"})
    assert bad_request.value.status == 422 and "request.start" in str(bad_request.value)
    with pytest.raises(InvalidRequest) as wrong_parameter:
        client.export(**LMP, dataset="ordc_adder")  # type: ignore[arg-type]
    assert wrong_parameter.value.parameter == "market"
    assert not [j for j in client.jobs.list() if j.request.get("locations") == "NOWHERE"]


def test_another_tenants_job_is_not_found(client: Client, service: LiveService) -> None:
    job = client.export(**LMP, format="csv")  # type: ignore[arg-type]
    with Client(base_url=service.base_url, api_key=service.keys.ercot) as other:
        with pytest.raises(NotFound):
            other.jobs.get(job.id)
        with pytest.raises(NotFound):
            other.jobs.info(job.id)
        with pytest.raises(NotFound):
            Job(other.jobs, job.id).cancel()
        assert job.id not in [j.id for j in other.jobs.list(limit=500)]
        with pytest.raises(NotEntitled):
            other.export(**LMP)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        client.jobs.get(" ")
    job.result(timeout_s=WAIT_S)


def test_a_queued_job_is_cancelled_and_resumed(queued_client: Client, tmp_path: Path) -> None:
    job = queued_client.export(**LMP)  # type: ignore[arg-type]
    assert job.status().status is JobStatus.QUEUED
    cancelled = job.cancel()
    assert cancelled.status is JobStatus.CANCELLED
    with pytest.raises(JobCancelled) as raised:
        job.wait(timeout_s=WAIT_S)
    assert raised.value.job_id == job.id and raised.value.info is not None
    with pytest.raises(JobCancelled):
        job.download(tmp_path / "never.parquet")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InvalidRequest) as twice:
        job.cancel()
    assert twice.value.status == 409
    assert job.resume().status is JobStatus.QUEUED


def test_a_wait_gives_up_after_its_timeout(queued_client: Client) -> None:
    job = queued_client.export(**LMP)  # type: ignore[arg-type]
    with pytest.raises(JobTimeout) as raised:
        job.wait(timeout_s=0.3, poll_s=0.05)
    assert isinstance(raised.value, TimeoutError)
    assert raised.value.info is not None and raised.value.info.status is JobStatus.QUEUED
    # The job is untouched: still queued on the service.
    assert job.status().status is JobStatus.QUEUED


def test_the_job_limit_is_refused_at_once_without_retries(queued: LiveService) -> None:
    with Client(base_url=queued.base_url, api_key=queued.keys.ercot) as ercot:
        ercot_lmp = {**LMP, "iso": "ERCOT", "locations": ["HB_NORTH"]}
        jobs = [ercot.export(**ercot_lmp) for _ in range(MAX_ACTIVE)]  # type: ignore[arg-type]
        with FaultProxy(queued.base_url, failures=0, paths="/v1/jobs") as proxy:
            with (
                Client(base_url=proxy.url, api_key=queued.keys.ercot, retries=3) as proxied,
                pytest.raises(RateLimited) as raised,
            ):
                proxied.export(**ercot_lmp)  # type: ignore[arg-type]
            # One POST: a 429 without Retry-After is the tenant's limit, not a rate to wait out.
            assert proxy.requests == 1
        assert raised.value.code == "too_many_jobs" and raised.value.retry_after_s is None
        assert f"({MAX_ACTIVE})" in str(raised.value)
        for job in jobs:
            job.cancel()


def test_a_submit_is_sent_again_only_when_the_service_asked(
    queued_client: Client, queued: LiveService
) -> None:
    before = len(queued_client.jobs.list(limit=500))
    # A 503 without Retry-After may come after the job was queued: sending it again could queue two.
    with FaultProxy(queued.base_url, failures=1, status=503, paths="/v1/jobs") as proxy:
        with (
            Client(base_url=proxy.url, api_key=queued.keys.full, retries=3) as proxied,
            pytest.raises(ServerError),
        ):
            proxied.export(**LMP)  # type: ignore[arg-type]
        assert proxy.requests == 1
    # A 429 with Retry-After is the request rate: the request was not carried out, so it is sent again.
    with FaultProxy(queued.base_url, failures=1, status=429, retry_after="0", paths="/v1/jobs") as proxy:
        with Client(base_url=proxy.url, api_key=queued.keys.full, retries=3) as proxied:
            job = proxied.export(**LMP)  # type: ignore[arg-type]
        assert proxy.requests == 2
    listed = queued_client.jobs.list(limit=500)
    assert len(listed) == before + 1 and listed[0].id == job.id


def test_a_failed_job_raises_job_failed_with_the_services_message(
    queued_client: Client, queued: LiveService, tmp_path: Path
) -> None:
    job = queued_client.export(**LMP)  # type: ignore[arg-type]
    # A worker whose object store lies under a regular file cannot write the export's parts.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = {
        **queued.env,
        "CARBON254_OBJECT_STORE": f"file://{blocker}/objects",
        "CARBON254_COMPUTE": "local://?processes=1",
        "CARBON254_JOB_POLL_S": "0.05",
    }
    command = [sys.executable, "-m", "carbon254.cli", "jobs", "worker", "--data-dir", str(queued.data_dir)]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with pytest.raises(JobFailed) as raised:
            job.wait(timeout_s=WAIT_S)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    info = raised.value.info
    assert info is not None and info.status is JobStatus.FAILED and info.error
    assert info.error in str(raised.value) and job.id in str(raised.value)
    assert "not-a-directory" in info.error
    assert job.status().error == info.error


def test_a_download_cut_off_resumes_where_it_stopped(
    client: Client, service: LiveService, tmp_path: Path
) -> None:
    job = client.export(**LMP, format="csv")  # type: ignore[arg-type]
    whole = job.download(tmp_path / "whole.csv").read_bytes()
    with FaultProxy(service.base_url, failures=1, paths="/v1/downloads/", cut_after=1000) as proxy:
        with Client(base_url=proxy.url, api_key=service.keys.full) as proxied:
            path = proxied.jobs.get(job.id).download(tmp_path / "resumed.csv")
        assert proxy.ranges == [None, "bytes=1000-"]
    assert path.read_bytes() == whole


def test_a_download_that_keeps_failing_leaves_no_file(
    client: Client, service: LiveService, tmp_path: Path
) -> None:
    job = client.export(**LMP, format="csv")  # type: ignore[arg-type]
    job.result(timeout_s=WAIT_S)
    target = tmp_path / "prices.csv"
    target.write_text("kept")
    with FaultProxy(service.base_url, failures=-1, paths="/v1/downloads/", cut_after=1000) as proxy:
        with (
            Client(base_url=proxy.url, api_key=service.keys.full, retries=1) as proxied,
            pytest.raises(ServerError),
        ):
            proxied.jobs.get(job.id).download(target)
        assert proxy.requests == 2
    # The file that was there is untouched and no partial file is left beside it.
    assert [p.name for p in tmp_path.iterdir()] == ["prices.csv"]
    assert target.read_text() == "kept"
    with pytest.raises(FileNotFoundError):
        job.download(tmp_path / "missing" / "prices.csv")


def test_the_async_client_exports_waits_and_downloads(service: LiveService, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    async def run() -> tuple[Path, pd.DataFrame, list[str]]:
        async with AsyncClient(base_url=service.base_url, api_key=service.keys.full) as client:
            job = await client.export(**LMP)  # type: ignore[arg-type]
            info = await job.wait(progress=lambda done, total: seen.append((done, total)))
            assert info.status is JobStatus.SUCCEEDED
            path = await (await client.jobs.get(job.id)).download(tmp_path / "prices.parquet")
            listed = [j.id for j in await client.jobs.list(kind="export", limit=500)]
            with pytest.raises(NotFound):
                await client.jobs.submit("exprot")
            direct = await client.lmp(**LMP)  # type: ignore[call-overload]
            assert job.id in listed
            return path, direct, listed

    path, direct, _ = asyncio.run(run())
    assert seen and seen[-1][0] == seen[-1][1] >= 1
    exported = pq.read_table(path).to_pandas()
    assert len(exported) == len(direct) == 2 * 240
    for name in VALUES:
        assert list(exported[name]) == list(direct[name]), name


def test_the_async_client_cancels_and_sees_a_failure_typed(queued: LiveService) -> None:
    async def run() -> None:
        async with AsyncClient(base_url=queued.base_url, api_key=queued.keys.full) as client:
            job = await client.export(**LMP)  # type: ignore[arg-type]
            assert (await job.cancel()).status is JobStatus.CANCELLED
            with pytest.raises(JobCancelled):
                await job.result()
            with pytest.raises(JobTimeout):
                await (await client.export(**LMP)).wait(timeout_s=0.2, poll_s=0.05)  # type: ignore[arg-type]
            for info in await client.jobs.list(status=JobStatus.QUEUED):
                await (await client.jobs.get(info.id)).cancel()

    asyncio.run(run())


def test_local_mode_runs_jobs_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from live_service import SIMULATED, carbon254

    data_dir = tmp_path / "data"
    carbon254("simulate", *SIMULATED, "--data-dir", str(data_dir))
    for name in [n for n in os.environ if n.startswith("CARBON254_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CARBON254_COMPUTE", "local://?processes=1")
    monkeypatch.setenv("CARBON254_JOB_POLL_S", "0.05")
    with Client.local(data_dir) as local:
        job = local.export(**LMP, format="csv")  # type: ignore[arg-type]
        path = job.download(tmp_path / "local.csv")
        direct = local.lmp(**LMP)  # type: ignore[call-overload]
    exported = pd.read_csv(path)
    assert len(exported) == len(direct) == 2 * 240
    assert list(exported["lmp"]) == list(direct["lmp"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The `carbon254` command in a process of its own, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "carbon254.cli", *args],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def _cli_export(
    service: LiveService, key: str, output: Path, **options: str
) -> subprocess.CompletedProcess[str]:
    flags = [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]
    return _cli("export", "--server", service.base_url, "--api-key", key, "--output", str(output), *flags)


def test_the_cli_exports_through_the_service_what_its_csv_answers(
    service: LiveService, tmp_path: Path
) -> None:
    output = tmp_path / "prices.csv"
    options = {**LMP, "locations": ",".join(LMP["locations"])}
    done = _cli_export(service, service.keys.full, output, **options)
    assert done.returncode == 0, done.stderr
    assert "wrote 480 rows" in done.stdout
    rest = httpx.get(
        f"{service.base_url}/v1/lmp",
        params=options,
        headers={"Accept": "text/csv", "X-API-Key": service.keys.full},
        timeout=WAIT_S,
    )
    assert rest.status_code == 200, rest.text
    assert output.read_bytes() == rest.content


def test_the_cli_export_through_the_service_refuses_as_the_service_does(
    service: LiveService, tmp_path: Path
) -> None:
    output = tmp_path / "prices.parquet"
    unknown = _cli_export(service, service.keys.full, output, **{**LMP, "locations": "WESTERN HUBB"})
    assert unknown.returncode == 1
    assert "WESTERN HUBB" in unknown.stderr and "Did you mean" in unknown.stderr
    foreign = _cli_export(service, service.keys.ercot, output, **{**LMP, "locations": "WESTERN HUB"})
    assert foreign.returncode == 1
    assert "not entitled" in foreign.stderr
    assert not output.exists()
