"""The stream's `jobs` subscription: a snapshot of the tenant's jobs, then each status and progress change,
never another tenant's; its protocol errors; and the per-process feed that reads job changes from the
metadata database.

In process (the app with the `tally` test kind; heartbeats every 0.2 s, so a read never waits long)
for the protocol, and against a real `carbon254 serve` for an export submitted over REST and followed
over a real WebSocket by its tenant while another tenant hears nothing of it.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_setup import make_tenant_key
from fastapi.testclient import TestClient
from job_kinds import kinds
from starlette.testclient import WebSocketTestSession
from stream_servers import StreamClient

# The real `carbon254 serve` with tenants that the SDK tests use, shared rather than copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "client"))
from live_service import LiveService

from carbon254.config import AuthMode, Settings
from carbon254.jobs import JobState, Progress
from carbon254.jobs.state import JobChange
from carbon254.metadata import MetadataDatabase
from carbon254.service import create_app
from carbon254.service.stream.job_feed import JobFeed
from carbon254.store import open_store

FINISHED = ("succeeded", "failed", "cancelled")
ORDER = {"queued": 0, "running": 1, "succeeded": 2, "failed": 2, "cancelled": 2}


def settings_for(data_dir: Path, workers: int) -> Settings:
    return Settings(
        data_dir=data_dir,
        auth=AuthMode.REQUIRED,
        rate_limit_per_s=0,
        compute="local://?processes=1",
        job_workers=workers,
        job_poll_s=0.05,
        stream_heartbeat_s=0.2,
        stream_jobs_poll_s=0.05,
    )


def serve(settings: Settings) -> Iterator[TestClient]:
    store = open_store(settings.data_dir / "store")
    try:
        with TestClient(create_app(settings, store, jobs=kinds()), raise_server_exceptions=False) as c:
            yield c
    finally:
        store.close()


@pytest.fixture(scope="module")
def working(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with one job worker: submitted jobs run."""
    yield from serve(settings_for(tmp_path_factory.mktemp("stream-jobs-working"), 1))


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app without job workers: submitted jobs stay queued until cancelled."""
    yield from serve(settings_for(tmp_path_factory.mktemp("stream-jobs-idle"), 0))


def tenant(client: TestClient) -> dict[str, str]:
    """A new tenant entitled to `tally`: its credential header."""
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return {"X-API-Key": make_tenant_key(settings, f"s-{uuid.uuid4().hex[:8]}", features=["tally"])}


def submit(client: TestClient, headers: dict[str, str], **request: Any) -> str:
    response = client.post("/v1/jobs", json={"kind": "tally", "request": request}, headers=headers)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


class Socket:
    """A `/v1/stream` session of the test client; heartbeats keep every read short."""

    def __init__(self, ws: WebSocketTestSession) -> None:
        self.ws = ws

    def send(self, **message: Any) -> None:
        self.ws.send_json(message)

    def next(self, kind: str, timeout: float = 30.0) -> dict[str, Any]:
        """The next message of type `kind`, skipping heartbeats; AssertionError on another type."""
        deadline = time.monotonic() + timeout
        while True:
            message: dict[str, Any] = self.ws.receive_json()
            if message["type"] == kind:
                return message
            assert message["type"] == "heartbeat", message
            assert time.monotonic() < deadline, f"no {kind} message within {timeout} s"

    def jobs_until(self, job_id: str, *statuses: str, timeout: float = 60.0) -> list[dict[str, Any]]:
        """`job` messages until job `job_id` shows one of `statuses` (that message included)."""
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while not received or (received[-1]["id"], received[-1]["status"] in statuses) != (job_id, True):
            received.append(self.next("job", max(deadline - time.monotonic(), 0.0)))
        return received

    def quiet(self, seconds: float) -> None:
        """Nothing but heartbeats for `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = self.ws.receive_json()
            assert message["type"] == "heartbeat", f"unexpected message: {message}"


def stream(client: TestClient, headers: dict[str, str]) -> Any:
    return client.websocket_connect("/v1/stream", headers=headers)


def test_a_job_is_followed_from_queued_to_succeeded_with_progress(working: TestClient) -> None:
    headers = tenant(working)
    with stream(working, headers) as ws:
        socket = Socket(ws)
        socket.send(type="subscribe", dataset="jobs")
        assert socket.next("subscribed") == {"type": "subscribed", "dataset": "jobs", "ids": None}
        job_id = submit(working, headers, n=8, sleep_s=0.1, size=20)
        messages = socket.jobs_until(job_id, *FINISHED)
    assert {m["id"] for m in messages} == {job_id}
    statuses = [m["status"] for m in messages]
    assert statuses[-1] == "succeeded", messages
    assert [ORDER[s] for s in statuses] == sorted(ORDER[s] for s in statuses)
    assert "running" in statuses
    done = [m["progress"]["done"] for m in messages]
    assert done == sorted(done)
    # Some progress was pushed between the start and the end, not only the outcome.
    assert any(0 < m["progress"]["done"] < 8 or m["progress"]["message"] != "done" for m in messages[:-1])
    last = messages[-1]
    assert last["progress"] == {"done": 8, "total": 8, "message": "done"}
    assert last["result"]["summary"] == {"total": 28} and last["error"] is None
    assert last["kind"] == "tally" and last["request"]["n"] == 8
    # The same signed link REST gives: it downloads the file.
    download = working.get(last["result"]["download_url"].removeprefix("http://testserver"), headers=headers)
    assert download.status_code == 200 and len(download.content) == 20


def test_the_snapshot_holds_the_active_jobs_then_changes_follow(idle: TestClient) -> None:
    headers = tenant(idle)
    first, second = submit(idle, headers, n=1), submit(idle, headers, n=2)
    with stream(idle, headers) as ws:
        socket = Socket(ws)
        socket.send(type="subscribe", dataset="jobs")
        socket.next("subscribed")
        snapshot = [socket.next("job"), socket.next("job")]
        assert [(m["id"], m["status"]) for m in snapshot] == [(first, "queued"), (second, "queued")]
        socket.quiet(0.5)  # no change: nothing is repeated
        assert idle.post(f"/v1/jobs/{first}/cancel", headers=headers).status_code == 200
        cancelled = socket.next("job")
        assert (cancelled["id"], cancelled["status"]) == (first, "cancelled")
        assert cancelled["finished_at"] is not None
        # A cancelled job is no longer active: a new subscription's snapshot leaves it out.
        socket.send(type="subscribe", dataset="JOBS")
        socket.next("subscribed")
        assert socket.next("job")["id"] == second
        socket.quiet(0.5)


def test_ids_follow_only_those_jobs_and_unknown_or_foreign_ids_are_refused(idle: TestClient) -> None:
    headers, other = tenant(idle), tenant(idle)
    mine, also_mine, foreign = (
        submit(idle, headers, n=1),
        submit(idle, headers, n=1),
        submit(idle, other, n=1),
    )
    idle.post(f"/v1/jobs/{also_mine}/cancel", headers=headers)
    with stream(idle, headers) as ws:
        socket = Socket(ws)
        socket.send(type="subscribe", dataset="jobs", ids=[foreign])
        refused = socket.next("error")
        assert (refused["code"], refused["parameter"]) == ("not_found", "ids")
        assert foreign in refused["message"]
        socket.send(type="subscribe", dataset="jobs", ids=[also_mine, "no-such-job"])
        assert socket.next("error")["code"] == "not_found"
        # The connection stays open: a good subscription still works.
        socket.send(type="subscribe", dataset="jobs", ids=[also_mine, also_mine])
        assert socket.next("subscribed")["ids"] == [also_mine]
        # The snapshot of listed ids holds finished jobs too.
        listed = socket.next("job")
        assert (listed["id"], listed["status"]) == (also_mine, "cancelled")
        idle.post(f"/v1/jobs/{mine}/cancel", headers=headers)  # not followed
        idle.post(f"/v1/jobs/{foreign}/cancel", headers=other)  # another tenant's
        socket.quiet(0.6)
        idle.post(f"/v1/jobs/{also_mine}/resume", headers=headers)
        resumed = socket.next("job")
        assert (resumed["id"], resumed["status"]) == (also_mine, "queued")


def test_bad_subscriptions_are_errors_and_the_connection_stays_open(idle: TestClient) -> None:
    headers = tenant(idle)
    with stream(idle, headers) as ws:
        socket = Socket(ws)
        for message, parameter in [
            ({"ids": "abc"}, "ids"),
            ({"ids": [1, 2]}, "ids"),
            ({"ids": [" "]}, "ids"),
            ({"ids": ["a\x00b"]}, "ids"),
            ({"iso": "ERCOT"}, "iso"),
            ({"since": "2024-01-01"}, "since"),
        ]:
            socket.send(type="subscribe", dataset="jobs", **message)
            error = socket.next("error")
            assert (error["code"], error["parameter"]) == ("invalid_parameter", parameter), error
        socket.send(type="subscribe", dataset="jobs", ids=[f"j{i}" for i in range(501)])
        assert socket.next("error")["code"] == "too_many_ids"
        socket.send(type="unsubscribe", dataset="jobs")
        assert socket.next("error")["code"] == "not_subscribed"
        socket.send(type="subscribe", dataset="job")
        unknown = socket.next("error")
        assert unknown["code"] == "not_found" and "jobs" in unknown["suggestions"]
        socket.send(type="subscribe", dataset="jobs")
        assert socket.next("subscribed")["dataset"] == "jobs"


def test_unsubscribe_stops_the_changes(idle: TestClient) -> None:
    headers = tenant(idle)
    with stream(idle, headers) as ws:
        socket = Socket(ws)
        socket.send(type="subscribe", dataset="jobs")
        socket.next("subscribed")
        job_id = submit(idle, headers, n=1)
        assert socket.next("job")["id"] == job_id
        socket.send(type="unsubscribe", dataset="jobs")
        assert socket.next("unsubscribed") == {"type": "unsubscribed", "dataset": "jobs"}
        idle.post(f"/v1/jobs/{job_id}/cancel", headers=headers)
        submit(idle, headers, n=1)
        socket.quiet(0.6)


def test_another_tenants_jobs_never_reach_a_subscription(working: TestClient) -> None:
    owner, onlooker = tenant(working), tenant(working)
    with stream(working, onlooker) as watching, stream(working, owner) as following:
        watcher, follower = Socket(watching), Socket(following)
        watcher.send(type="subscribe", dataset="jobs")
        watcher.next("subscribed")
        follower.send(type="subscribe", dataset="jobs")
        follower.next("subscribed")
        job_id = submit(working, owner, n=3, sleep_s=0.05)
        assert follower.jobs_until(job_id, "succeeded")[-1]["progress"]["done"] == 3
        watcher.quiet(0.6)


def test_authenticating_as_another_tenant_ends_the_jobs_subscription(idle: TestClient) -> None:
    first, second = tenant(idle), tenant(idle)
    with stream(idle, first) as ws:
        socket = Socket(ws)
        socket.send(type="subscribe", dataset="jobs")
        socket.next("subscribed")
        socket.send(type="auth", token=second["X-API-Key"])
        ended = socket.next("error")
        assert (ended["code"], ended["dataset"], ended["parameter"]) == ("not_entitled", "jobs", "dataset")
        socket.next("authenticated")
        submit(idle, first, n=1)
        submit(idle, second, n=1)
        socket.quiet(0.6)


# ------------------------------------------------------------------------------- the feed itself


class Recorder:
    """A feed listener keeping what it was handed."""

    def __init__(self) -> None:
        self.changes: list[JobChange] = []

    def on_jobs(self, changes: Sequence[JobChange], horizon: datetime) -> None:
        assert all(c.updated_at >= horizon for c in changes)
        self.changes += changes


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_feed_hands_out_each_visible_change_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    if backend == "postgresql":
        url = request.getfixturevalue("fresh_postgres_url")
    db = MetadataDatabase(url)
    try:
        state = JobState(db)
        feed = JobFeed(lambda: state, 0.05)
        recorder = Recorder()

        async def steps() -> None:
            await feed.step()  # nobody listens: nothing is read or remembered
            feed.listen(recorder)
            job = state.submit("acme", "tally", {"n": 2})
            await feed.step()
            await feed.step()  # read again within the look-back: not handed out twice
            claimed = state.claim("w1", 30.0)
            assert claimed is not None and claimed.id == job.id
            state.renew(job.id, "w1", 30.0)  # a lease renewal is no visible change
            await feed.step()
            state.set_progress(job.id, "w1", Progress(1, 2, "running"))
            await feed.step()
            feed.unlisten(recorder)
            state.set_progress(job.id, "w1", Progress(2, 2, "running"))
            await feed.step()

        asyncio.run(steps())
        seen = [(c.job.status.value, c.job.progress.done, c.job.progress.message) for c in recorder.changes]
        assert seen == [("queued", 0, "queued"), ("running", 0, "starting"), ("running", 1, "running")]
        times = [c.updated_at for c in recorder.changes]
        assert times == sorted(times)
        assert [c.job.id for c in state.changed_since(times[-1])] == [recorder.changes[0].job.id]
    finally:
        db.close()


# ------------------------------------------------------------------- against `carbon254 serve`

EXPORT = {
    "iso": "ERCOT",
    "market": "DAM",
    "locations": "HB_NORTH",
    "start": "2024-01-02",
    "end": "2024-02-20",
    "format": "parquet",
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    data_dir = tmp_path_factory.mktemp("stream-jobs-live")
    service = LiveService.seeded(
        data_dir, env={"CARBON254_JOB_POLL_S": "0.1", "CARBON254_STREAM_JOBS_POLL_S": "0.1"}
    )
    with service:
        yield service


def test_an_export_submitted_over_rest_is_followed_over_a_real_websocket(live: LiveService) -> None:
    url = f"ws://127.0.0.1:{live.port}/v1/stream"
    with (
        StreamClient(url, additional_headers={"X-API-Key": live.keys.full}) as follower,
        StreamClient(url, additional_headers={"X-API-Key": live.keys.ercot}) as onlooker,
    ):
        onlooker.send({"type": "subscribe", "dataset": "jobs"})
        assert onlooker.receive_type("subscribed")["dataset"] == "jobs"
        follower.send({"type": "subscribe", "dataset": "jobs"})
        assert follower.receive_type("subscribed")["ids"] is None
        submitted = httpx.post(
            f"{live.base_url}/v1/jobs",
            json={"kind": "export", "request": EXPORT},
            headers={"X-API-Key": live.keys.full},
            timeout=30.0,
        )
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        messages: list[dict[str, Any]] = []
        while not messages or messages[-1]["status"] not in FINISHED:
            messages.append(follower.receive_type("job", timeout=60.0))
        assert {m["id"] for m in messages} == {job_id}
        last = messages[-1]
        assert last["status"] == "succeeded", last
        assert last["progress"]["done"] == last["progress"]["total"] > 0
        assert last["result"]["download_url"].startswith(f"{live.base_url}/v1/downloads/{job_id}?")
        download = httpx.get(
            last["result"]["download_url"], headers={"X-API-Key": live.keys.full}, timeout=30
        )
        assert download.status_code == 200 and download.content.startswith(b"PAR1")
        onlooker.assert_quiet(1.5)
