"""`/v1/stream` on real uvicorn processes (embedded broker), with rows committed by other processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from stream_servers import ServiceProcess, StalledClient, StreamClient

from carbon254.config import AuthMode, Settings
from carbon254.schema import Dataset
from carbon254.service import create_app
from carbon254.service.stream.broker import InProcessBroker
from carbon254.service.stream.hub import Hub
from carbon254.service.stream.messages import Channel, CommitMessage, change_messages
from carbon254.service.stream.session import CloseCode
from carbon254.store import ParquetStore, Store, open_store

T0 = datetime(2025, 3, 1, tzinfo=UTC)
FAST = {"CARBON254_STREAM_HEARTBEAT_S": "0.3"}


def lmp_rows(
    locations: list[str], start: datetime, intervals: int, market: str = "RT5", iso: str = "ERCOT"
) -> pa.Table:
    """Five-minute LMP rows of `iso`; energy rises $1 per interval so each row is recognizable."""
    n = len(locations) * intervals
    starts = [start + timedelta(minutes=5 * i) for i in range(intervals)] * len(locations)
    locs = [loc for loc in locations for _ in range(intervals)]
    energy = [30.0 + i for i in range(intervals)] * len(locations)
    return pa.table(
        {
            "iso": [iso] * n,
            "market": [market] * n,
            "location": locs,
            "location_type": ["hub"] * n,
            "interval_start": pa.array(starts, pa.timestamp("us", tz="UTC")),
            "interval_end": pa.array(
                [s + timedelta(minutes=5) for s in starts], pa.timestamp("us", tz="UTC")
            ),
            "lmp": [e + 1.25 for e in energy],
            "energy": energy,
            "congestion": [1.0] * n,
            "loss": [0.25] * n,
            "published_at": pa.nulls(n, pa.timestamp("us", tz="UTC")),
        }
    )


def commit_in_subprocess(data_dir: Path, location: str, start: datetime, intervals: int) -> None:
    """Commit ERCOT RT5 rows from a separate Python process (like `carbon254 ingest` beside the service)."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from datetime import datetime
        from test_service_stream import lmp_rows
        from pathlib import Path
        from carbon254.store import open_store
        s = open_store(Path({str(data_dir)!r}))
        s.write("lmp", lmp_rows([{location!r}], datetime.fromisoformat({start.isoformat()!r}), {intervals}))
        s.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def seed_catalog(data_dir: Path, locations: list[str]) -> None:
    """Store a row a day before T0 for each location, so the catalog knows them (a subscription to an
    unknown location is refused, as `/v1/lmp` refuses it)."""
    store = open_store(data_dir)
    try:
        store.write("lmp", lmp_rows(locations, T0 - timedelta(days=1), 1))
    finally:
        store.close()


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[ParquetStore]:
    """This test process's handle on the service's store (a different process from the service)."""
    store = open_store(tmp_path / "data")
    yield store
    store.close()


def test_commit_by_another_process_reaches_subscriber(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed_catalog(data_dir, ["HB_NORTH", "HB_SOUTH"])
    with (
        ServiceProcess(data_dir, tmp_path / "server.log", env=FAST) as server,
        StreamClient(server.ws_url) as client,
    ):
        # The interface contract's form: `action`, no dataset (lmp by default).
        confirmed = client.subscribe(action="subscribe", iso="ERCOT", market="RT5", locations=["HB_NORTH"])
        assert confirmed == {
            "type": "subscribed",
            "dataset": "lmp",
            "iso": "ERCOT",
            "market": "RT5",
            "locations": ["HB_NORTH"],
            "since": None,
        }
        commit_in_subprocess(data_dir, "HB_NORTH", T0, 2)
        commit_in_subprocess(data_dir, "HB_SOUTH", T0, 2)  # not subscribed: never sent
        commit_in_subprocess(data_dir, "HB_NORTH", T0 + timedelta(minutes=10), 1)
        rows = client.rows_until(3)
        assert rows[0] == {
            "interval_start": "2025-03-01T00:00:00+00:00",
            "interval_end": "2025-03-01T00:05:00+00:00",
            "location": "HB_NORTH",
            "lmp": 31.25,
            "energy": 30.0,
            "congestion": 1.0,
            "loss": 0.25,
        }
        assert [r["interval_start"][11:16] for r in rows] == ["00:00", "00:05", "00:10"]
        assert {r["location"] for r in rows} == {"HB_NORTH"}

        # A heartbeat arrives on its own, and nothing else is pending.
        assert client.receive_type("heartbeat", timeout=5)["time"]
        client.assert_quiet(0.5)

        # Bad subscriptions get an error message; the connection stays usable.
        client.send({"type": "subscribe", "iso": "ERCOTT", "market": "RT5"})
        error = client.receive_type("error")
        assert (error["code"], error["parameter"], error["suggestions"]) == (
            "not_found",
            "iso",
            ["ERCOT"],
        )
        client.send({"type": "subscribe", "iso": "ERCOT", "market": "RT55"})
        assert client.receive_type("error")["parameter"] == "market"
        client.send({"type": "subscribe", "dataset": "lmpp", "iso": "ERCOT", "market": "RT5"})
        assert client.receive_type("error")["parameter"] == "dataset"
        client.send({"type": "subscribe", "iso": "ERCOT", "market": "RT5", "since": "yesterday-ish"})
        assert client.receive_type("error")["parameter"] == "since"
        client.send({"type": "dance"})
        assert client.receive_type("error")["code"] == "invalid_message"
        client.ws.send(b"not json")  # a binary frame is read as text, and rejected as such
        assert client.receive_type("error")["code"] == "invalid_message"

        # Widening the subscription to every location: HB_SOUTH now arrives too.
        client.subscribe(iso="ERCOT", market="RT5", locations=None)
        commit_in_subprocess(data_dir, "HB_SOUTH", T0 + timedelta(minutes=10), 1)
        assert client.rows_until(1)[0]["location"] == "HB_SOUTH"

        metrics = httpx.get(f"{server.base}/metrics", timeout=10).text
        assert "carbon254_stream_clients 1.0" in metrics
        assert "carbon254_stream_messages_sent_total" in metrics

        client.send({"type": "unsubscribe", "iso": "ERCOT", "market": "RT5"})
        assert client.receive_type("unsubscribed")["market"] == "RT5"
        commit_in_subprocess(data_dir, "HB_NORTH", T0 + timedelta(minutes=15), 1)
        client.assert_quiet(0.5)


def test_credentials_entitlements_and_rate_limits_close_with_their_codes(tmp_path: Path) -> None:
    with ServiceProcess(tmp_path / "data", tmp_path / "server.log", env=FAST, test_keys=True) as server:
        url = server.ws_url
        # No credentials, and the first message is not `auth`.
        with StreamClient(url) as c:
            c.send({"type": "subscribe", "iso": "ERCOT", "market": "RT5"})
            assert c.close_code() == 4401
        with StreamClient(url, additional_headers={"X-API-Key": "key-unknown"}) as c:
            assert c.close_code() == 4401
        with StreamClient(url) as c:
            c.send({"type": "auth", "token": "key-forged"})
            assert c.close_code() == 4401

        # Entitled to ERCOT only: PJM closes with 4403.
        with StreamClient(url, additional_headers={"Authorization": "Bearer key-ercot"}) as c:
            assert c.subscribe(iso="ERCOT", market="RT5")["iso"] == "ERCOT"
            c.send({"type": "subscribe", "iso": "PJM", "market": "DAM"})
            error = c.receive_type("error")
            assert error["code"] == "not_entitled"
            assert c.close_code() == 4403
        # The contract's `token` query parameter, and the browser's `auth` message.
        with StreamClient(f"{url}?token=key-ercot") as c:
            c.send({"type": "subscribe", "iso": "PJM", "market": "DAM"})
            assert c.close_code() == 4403
        with StreamClient(url) as c:
            c.send({"type": "auth", "token": "key-all"})
            assert c.receive_type("authenticated")["tenant"] == "all-co"
            assert c.subscribe(iso="PJM", market="DAM")["iso"] == "PJM"

        # Rate limited at the handshake.
        with StreamClient(url, additional_headers={"X-API-Key": "key-limited"}) as c:
            assert c.close_code() == 4429
        # A key revoked while connected loses the stream at the next heartbeat's re-check.
        with StreamClient(url, additional_headers={"X-API-Key": "key-revoked-soon"}) as c:
            c.subscribe(iso="ERCOT", market="RT5")
            assert c.close_code() == 4401


def _dropped(server: ServiceProcess) -> bool:
    return "carbon254_stream_consumers_dropped_total 1.0" in httpx.get(f"{server.base}/metrics").text


def test_slow_consumer_is_dropped_while_a_fast_one_keeps_receiving(
    tmp_path: Path, writer: ParquetStore
) -> None:
    env = {"CARBON254_STREAM_QUEUE_MAX": "4", "CARBON254_STREAM_HEARTBEAT_S": "60"}
    nodes = [f"NODE_{i:04d}" for i in range(2000)]
    with ServiceProcess(tmp_path / "data", tmp_path / "server.log", env=env) as server:
        # The slow client stops reading after its subscription is confirmed.
        slow = StalledClient(server.ws_url)
        fast = StreamClient(server.ws_url, max_size=None)
        try:
            slow.subscribe(iso="ERCOT", market="RT5")
            fast.subscribe(iso="ERCOT", market="RT5")
            commits = 0
            while not _dropped(server):
                assert commits < 100, "the slow consumer was never dropped"
                writer.write("lmp", lmp_rows(nodes, T0 + timedelta(minutes=5 * commits), 1))
                commits += 1
                # The fast client keeps up as the commits land.
                assert len(fast.receive_type("data", timeout=20)["data"]) == len(nodes)
            # Reading again, the slow client gets what was in flight, then the 4008 close.
            assert slow.close_code(timeout=30) == 4008

            # The fast client is still served after the slow one is gone.
            writer.write("lmp", lmp_rows(["HB_NORTH"], T0, 1))
            assert fast.rows_until(1)[0]["location"] == "HB_NORTH"
        finally:
            slow.close()
            fast.close()


def test_resume_after_reconnect_has_no_gap_and_no_duplicate(tmp_path: Path, writer: ParquetStore) -> None:
    def commit(i: int) -> None:
        writer.write("lmp", lmp_rows(["HB_NORTH", "HB_WEST"], T0 + timedelta(minutes=5 * i), 1))

    writer.write("lmp", lmp_rows(["HB_NORTH", "HB_WEST"], T0 - timedelta(days=1), 1))
    with ServiceProcess(tmp_path / "data", tmp_path / "server.log") as server:
        with StreamClient(server.ws_url) as first:
            first.subscribe(iso="ERCOT", market="RT5", locations=["HB_NORTH"])
            for i in range(3):
                commit(i)
            seen = [r["interval_start"] for r in first.rows_until(3)]
        # Disconnected: these are missed, and must be replayed.
        for i in range(3, 6):
            commit(i)
        # Commits keep landing while the client reconnects and the replay runs.
        racing = threading.Thread(target=lambda: [commit(i) for i in range(6, 12)])
        with StreamClient(server.ws_url) as second:
            racing.start()
            confirmed = second.subscribe(iso="ERCOT", market="RT5", locations=["HB_NORTH"], since=seen[-1])
            assert confirmed["since"] == "2025-03-01T00:10:00+00:00"
            rows = second.rows_until(9, timeout=30)
            racing.join()
            second.assert_quiet(0.5)
        starts = [r["interval_start"] for r in rows]
        expected = [(T0 + timedelta(minutes=5 * i)).isoformat() for i in range(3, 12)]
        assert starts == expected
        assert {r["location"] for r in rows} == {"HB_NORTH"}


def test_resume_sends_only_rows_after_since(tmp_path: Path, writer: ParquetStore) -> None:
    for i in range(4):
        writer.write("lmp", lmp_rows(["HB_NORTH"], T0 + timedelta(minutes=5 * i), 1))
    with (
        ServiceProcess(tmp_path / "data", tmp_path / "server.log") as server,
        StreamClient(server.ws_url) as client,
    ):
        client.subscribe(iso="ERCOT", market="RT5", since="2025-03-01T00:05:00Z")
        replay = client.receive_type("data")
        assert replay["replay"] is True
        assert [r["interval_start"][11:16] for r in replay["data"]] == ["00:10", "00:15"]
        client.assert_quiet(0.3)
        # A resume from further back than max_range_days is refused with a clear error.
        client.send({"type": "subscribe", "iso": "ERCOT", "market": "RT5", "since": "1990-01-01"})
        assert client.receive_type("error")["code"] == "range_too_long"


def test_hub_replays_from_the_store_what_its_broker_dropped(tmp_path: Path) -> None:
    """A hub whose broker queue overflowed catches up from the store: no gap, no duplicate."""

    async def scenario() -> list[str]:
        store = open_store(tmp_path / "data")
        broker = InProcessBroker(queue_max=2)
        hub = Hub(broker, "ns", lambda: store)
        channel = Channel(Dataset.LMP, "ERCOT", "RT5")
        got: list[str] = []

        class Collect:
            def on_message(self, message: CommitMessage) -> None:
                got.extend(r["interval_start"] for r in message.rows)

        try:
            await hub.listen(channel, Collect())
            cursor = store.change_cursor()
            for i in range(5):
                store.write("lmp", lmp_rows(["HB_NORTH"], T0 + timedelta(minutes=5 * i), 1))
            # Five messages at once into a queue of two: the hub's subscription loses some.
            for message in change_messages(store.changes_since(cursor)):
                await broker.publish(channel.name("ns"), message.encode())
            # Then live again: this one and the replayed ones each arrive once.
            cursor = store.change_cursor()
            store.write("lmp", lmp_rows(["HB_NORTH"], T0 + timedelta(minutes=25), 1))
            for message in change_messages(store.changes_since(cursor)):
                await broker.publish(channel.name("ns"), message.encode())
            deadline = asyncio.get_running_loop().time() + 10
            while len(got) < 6 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # anything extra would arrive now
            return got
        finally:
            await hub.close()
            await broker.close()
            store.close()

    got = asyncio.run(scenario())
    assert got == [(T0 + timedelta(minutes=5 * i)).isoformat() for i in range(6)]


# --- control characters ----------------------------------------------------------------------------


def next_frame_of(ws: WebSocketTestSession, kinds: tuple[str, ...]) -> dict[str, Any]:
    """The next server message of one of `kinds`, skipping heartbeats (the server sends one at once)."""
    for _ in range(20):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] in kinds:
            return message
    raise AssertionError(f"no {kinds} message in 20 frames")


def test_subscribe_fields_with_a_control_character_are_refused(data_dir: Path, store: Store) -> None:
    settings = Settings(data_dir=data_dir, auth=AuthMode.OFF)
    with TestClient(create_app(settings, store)) as client, client.websocket_connect("/v1/stream") as ws:
        for fields, parameter in (
            ({"iso": "ERC\x00OT", "market": "DAM"}, "iso"),
            ({"iso": "ERCOT", "market": "D\x07AM"}, "market"),
            ({"iso": "ERCOT", "market": "DAM", "locations": ["HB_NORTH", "HB\x00"]}, "locations"),
        ):
            ws.send_json({"type": "subscribe", "dataset": "lmp", **fields})
            error = next_frame_of(ws, ("error", "subscribed"))
            assert error["type"] == "error" and error["code"] == "invalid_parameter", error
            assert error["parameter"] == parameter and "control character" in error["message"]
        ws.send_json({"type": "subscribe", "dataset": "lmp", "iso": "ERCOT", "market": "DAM"})
        assert next_frame_of(ws, ("error", "subscribed"))["type"] == "subscribed"  # the stream stays usable


def test_a_stream_token_with_a_control_character_is_unauthenticated(
    fresh_postgres_url: str, data_dir: Path, store: Store
) -> None:
    # On PostgreSQL the NUL would fail the key lookup, which must not pass for a database outage.
    settings = Settings(data_dir=data_dir, auth=AuthMode.REQUIRED, metadata_url=fresh_postgres_url)
    with TestClient(create_app(settings, store)) as client, client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "auth", "token": "c254_0123\x00cdef_secret"})
        with pytest.raises(WebSocketDisconnect) as closed:
            next_frame_of(ws, ("authenticated",))
    assert closed.value.code == CloseCode.UNAUTHENTICATED
