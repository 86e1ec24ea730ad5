"""Open streams obey entitlements at once: a removed ISO, a revoked or rotated key, another tenant's auth.

The services run with a heartbeat of a minute, so nothing here can be the
heartbeat's periodic re-check: a change made by another service process
arrives through Redis, one made where nobody announces it (the CLI, another
program) is applied before the next message is delivered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from stream_servers import ServiceProcess, StreamClient
from test_service_stream import T0, lmp_rows, next_frame_of
from websockets.exceptions import ConnectionClosed

from carbon254.config import AuthMode, Settings
from carbon254.metadata import MetadataDatabase, create_key, create_tenant, rotate_key, update_tenant
from carbon254.service import create_app
from carbon254.store import ParquetStore, open_store
from redis_private import require_shared_redis

QUIET = {"CARBON254_AUTH": "required", "CARBON254_STREAM_HEARTBEAT_S": "60"}
PJM_HUB, ERCOT_HUB = "WESTERN_HUB", "HB_NORTH"


@dataclass(frozen=True, slots=True)
class Keys:
    """API keys: `acme` reads ERCOT and PJM, `beta` everything, `ercot` ERCOT only, `ops` is an admin."""

    acme: str
    beta: str
    ercot: str
    ops: str


def metadata(data_dir: Path) -> MetadataDatabase:
    """The metadata database the services over `data_dir` use (SQLite in the data dir)."""
    return MetadataDatabase(Settings(data_dir=data_dir, auth=AuthMode.REQUIRED).metadata_database_url())


def prepare(data_dir: Path) -> Keys:
    """Tenants and keys in the metadata database, and a row per hub so the catalog knows both."""
    db = metadata(data_dir)
    try:
        create_tenant(db, "acme", isos=["ERCOT", "PJM"])
        create_tenant(db, "beta")
        create_tenant(db, "ercot-only", isos=["ERCOT"])
        create_tenant(db, "ops", admin=True)
        keys = Keys(*(create_key(db, t).plaintext for t in ("acme", "beta", "ercot-only", "ops")))
    finally:
        db.close()
    store = open_store(data_dir)
    try:
        store.write("lmp", lmp_rows([PJM_HUB], T0 - timedelta(days=1), 1, iso="PJM"))
        store.write("lmp", lmp_rows([ERCOT_HUB], T0 - timedelta(days=1), 1))
    finally:
        store.close()
    return keys


def pjm(store: ParquetStore, n: int) -> None:
    """Commit PJM RT5 interval `n` (five minutes each from T0) at the PJM hub."""
    store.write("lmp", lmp_rows([PJM_HUB], T0 + timedelta(minutes=5 * n), 1, iso="PJM"))


def ercot(store: ParquetStore, n: int) -> None:
    """Commit ERCOT RT5 interval `n` at the ERCOT hub."""
    store.write("lmp", lmp_rows([ERCOT_HUB], T0 + timedelta(minutes=5 * n), 1))


def until_closed(client: StreamClient, timeout: float = 20.0) -> tuple[list[dict[str, Any]], int | None]:
    """Every message (heartbeats aside) until the server closes, and the close code."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            message = client.receive(max(deadline - time.monotonic(), 0.01))
            if message["type"] != "heartbeat":
                messages.append(message)
    except ConnectionClosed as closed:
        return messages, closed.rcvd.code if closed.rcvd is not None else None
    raise AssertionError(f"the server did not close the connection; got {messages}")


def not_entitled(iso: str) -> dict[str, Any]:
    """The error ending a subscription to RT5 LMPs of `iso` that the tenant may no longer read."""
    return {
        "type": "error",
        "code": "not_entitled",
        "message": f"tenant 'acme' is not entitled to lmp data of {iso}; the subscription ended",
        "parameter": "iso",
        "dataset": "lmp",
        "iso": iso,
        "market": "RT5",
    }


@dataclass
class Pair:
    """Two service processes over one store and metadata database, talking through Redis."""

    data_dir: Path
    keys: Keys
    streaming: ServiceProcess
    admin: ServiceProcess
    store: ParquetStore


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    url = require_shared_redis()
    root = tmp_path_factory.mktemp("entitlements")
    data_dir = root / "data"
    keys = prepare(data_dir)
    namespace = f"carbon254-test:stream:{uuid.uuid4().hex}"
    env = {**QUIET, "CARBON254_CACHE_URL": url, "CARBON254_STREAM_NAMESPACE": namespace}
    store = open_store(data_dir)
    try:
        with (
            ServiceProcess(data_dir, root / "streaming.log", env=env) as streaming,
            ServiceProcess(data_dir, root / "admin.log", env=env) as admin,
        ):
            yield Pair(data_dir, keys, streaming, admin, store)
        for server in (streaming, admin):
            assert "Traceback" not in server.log(), server.log()
    finally:
        store.close()
        client = redis.Redis.from_url(url)
        try:
            client.delete(f"{namespace}:publisher", f"{namespace}:cursor")
        finally:
            client.close()


def test_an_iso_removed_through_another_service_ends_its_subscription_at_once(pair: Pair) -> None:
    with StreamClient(pair.streaming.ws_url, additional_headers={"X-API-Key": pair.keys.acme}) as client:
        client.subscribe(iso="PJM", market="RT5", locations=[PJM_HUB])
        client.subscribe(iso="ERCOT", market="RT5", locations=[ERCOT_HUB])
        pjm(pair.store, 0)
        assert client.receive_type("data")["iso"] == "PJM"

        response = httpx.patch(
            f"{pair.admin.base}/v1/admin/tenants/acme",
            json={"isos": ["ERCOT"]},
            headers={"X-API-Key": pair.keys.ops},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        # Nothing was committed and no heartbeat is due: the admin process's notice did this.
        assert client.receive_type("error", timeout=5) == not_entitled("PJM")

        pjm(pair.store, 1)  # committed first, so it would arrive first
        ercot(pair.store, 1)
        data = client.receive_type("data")
        assert (data["iso"], [r["location"] for r in data["data"]]) == ("ERCOT", [ERCOT_HUB])
        client.assert_quiet(1.0)

        # Subscribing to PJM again is refused as any unentitled subscription is.
        client.send({"type": "subscribe", "iso": "PJM", "market": "RT5"})
        messages, code = until_closed(client)
        assert code == 4403 and [m["code"] for m in messages] == ["not_entitled"]


def test_a_key_revoked_with_the_cli_gets_no_further_message(pair: Pair) -> None:
    with StreamClient(pair.streaming.ws_url, additional_headers={"X-API-Key": pair.keys.beta}) as client:
        client.subscribe(iso="ERCOT", market="RT5", locations=[ERCOT_HUB])
        ercot(pair.store, 10)
        first = client.receive_type("data")["data"][0]
        assert first["interval_start"] == (T0 + timedelta(minutes=50)).isoformat()

        subprocess.run(
            [sys.executable, "-m", "carbon254.cli", "keys", "revoke", pair.keys.beta],
            check=True,
            capture_output=True,
            env={**os.environ, "CARBON254_DATA_DIR": str(pair.data_dir)},
            timeout=120,
        )
        # The CLI tells nobody; the next commit is the first thing the stream could send.
        ercot(pair.store, 11)
        messages, code = until_closed(client)
    assert code == 4401
    assert [(m["type"], m["code"]) for m in messages] == [("error", "unauthenticated")], messages


def test_changes_announced_by_nobody_apply_before_the_next_message(tmp_path: Path) -> None:
    """The embedded broker, and changes made by this test process: only the credentials version tells."""
    data_dir = tmp_path / "data"
    keys = prepare(data_dir)
    db = metadata(data_dir)
    store = open_store(data_dir)
    try:
        with (
            ServiceProcess(data_dir, tmp_path / "server.log", env=QUIET) as server,
            StreamClient(server.ws_url, additional_headers={"X-API-Key": keys.acme}) as client,
        ):
            client.subscribe(iso="PJM", market="RT5", locations=[PJM_HUB])
            client.subscribe(iso="ERCOT", market="RT5", locations=[ERCOT_HUB])
            pjm(store, 0)
            assert client.receive_type("data")["iso"] == "PJM"

            update_tenant(db, "acme", isos=["ERCOT"])
            pjm(store, 1)
            ercot(store, 1)
            assert client.receive_type("error") == not_entitled("PJM")
            assert client.receive_type("data")["iso"] == "ERCOT"

            rotate_key(db, keys.acme)  # the old key is revoked by its rotation
            ercot(store, 2)
            messages, code = until_closed(client)
        assert code == 4401
        assert [(m["type"], m["code"]) for m in messages] == [("error", "unauthenticated")], messages
        assert "Traceback" not in server.log(), server.log()
    finally:
        store.close()
        db.close()


def test_authenticating_as_another_tenant_ends_what_it_may_not_see(tmp_path: Path) -> None:
    keys = prepare(tmp_path)
    settings = Settings(data_dir=tmp_path, auth=AuthMode.REQUIRED, stream_heartbeat_s=60)
    served, writer = open_store(tmp_path), open_store(tmp_path)
    try:
        with (
            TestClient(create_app(settings, served)) as client,
            client.websocket_connect("/v1/stream", headers={"X-API-Key": keys.acme}) as ws,
        ):
            for iso, hub in (("PJM", PJM_HUB), ("ERCOT", ERCOT_HUB)):
                ws.send_json({"type": "subscribe", "iso": iso, "market": "RT5", "locations": [hub]})
                assert next_frame_of(ws, ("subscribed", "error"))["type"] == "subscribed"
            pjm(writer, 0)
            assert next_frame_of(ws, ("data", "error"))["iso"] == "PJM"

            ws.send_json({"type": "auth", "token": keys.ercot})
            ended = next_frame_of(ws, ("error", "authenticated", "data"))
            assert ended == {
                **not_entitled("PJM"),
                "message": "tenant 'ercot-only' is not entitled to lmp data of PJM; the subscription ended",
            }
            assert next_frame_of(ws, ("authenticated", "data", "error")) == {
                "type": "authenticated",
                "tenant": "ercot-only",
            }
            pjm(writer, 1)
            ercot(writer, 1)
            data = next_frame_of(ws, ("data", "error"))
            assert (data["iso"], data["data"][0]["location"]) == ("ERCOT", ERCOT_HUB)
    finally:
        writer.close()
        served.close()
