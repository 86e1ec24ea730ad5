"""A real uvicorn process over a data dir that this test process writes to while it serves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from uvicorn_server import uvicorn_server

from carbon254.store import open_store


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`(base_url, data_dir)` of a `carbon254 serve` process."""
    with uvicorn_server(tmp_path) as server:
        yield server.base_url, server.data_dir


def test_server_sees_rows_written_by_another_process(
    live_server: tuple[str, Path], make_lmp: Callable[..., pa.Table]
) -> None:
    base, data_dir = live_server
    day = datetime(2024, 7, 1, tzinfo=UTC)
    writer = open_store(data_dir)  # this test process: a different process from the server
    try:
        writer.write("lmp", make_lmp("ERCOT", "DAM", "HB_NORTH", day, 12))
        params = {"iso": "ERCOT", "market": "DAM", "start": "2024-07-01", "end": "2024-07-02"}
        with httpx.Client(base_url=base, timeout=10.0) as http:
            first = http.get("/v1/lmp", params=params)
            assert first.status_code == 200, first.text
            assert first.json()["count"] == 12

            # More hours for the same hub and a new hub, committed while the server runs.
            writer.write(
                "lmp", make_lmp("ERCOT", "DAM", "HB_NORTH", datetime(2024, 7, 1, 12, tzinfo=UTC), 12)
            )
            writer.write("lmp", make_lmp("ERCOT", "DAM", "HB_SOUTH", day, 24))

            second = http.get("/v1/lmp", params=params).json()
            assert second["count"] == 48
            assert {row["location"] for row in second["data"]} == {"HB_NORTH", "HB_SOUTH"}

            located = http.get("/v1/locations", params={"iso": "ERCOT"}).json()
            assert [row["location"] for row in located["data"]] == ["HB_NORTH", "HB_SOUTH"]

            arrow = http.get(
                "/v1/lmp",
                params={**params, "locations": "HB_SOUTH", "tz": "iso"},
                headers={"Accept": "application/vnd.apache.arrow.stream"},
            )
            table = ipc.open_stream(arrow.content).read_all()
            assert table.num_rows == 24 - 5  # the ISO day starts at 05:00 UTC in July
            assert table.schema.field("interval_start").type == pa.timestamp("us", tz="America/Chicago")

            # Reads run in the server's thread pool; concurrent ones must not interfere.
            with ThreadPoolExecutor(max_workers=8) as pool:
                counts = list(
                    pool.map(lambda _: http.get("/v1/lmp", params=params).json()["count"], range(32))
                )
            assert counts == [48] * 32

            bad = http.get("/v1/lmp", params={**params, "locations": "HB_NORHT"})
            assert bad.status_code == 404
            assert bad.json()["suggestions"][0] == "HB_NORTH"
    finally:
        writer.close()
