"""`Client.local` answers from the store `CARBON254_STORE` names, read against the given data dir."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from carbon254.client import Client
from carbon254.schema import TIMESTAMP
from carbon254.store import open_store

START = datetime(2025, 1, 1, tzinfo=UTC)


def _hours(n: int) -> pa.Table:
    starts = [START + timedelta(hours=h) for h in range(n)]
    return pa.table(
        {
            "iso": ["ERCOT"] * n,
            "market": ["DAM"] * n,
            "location": ["HB_NORTH"] * n,
            "interval_start": pa.array(starts, TIMESTAMP),
            "interval_end": pa.array([s + timedelta(hours=1) for s in starts], TIMESTAMP),
            "lmp": [30.0] * n,
        }
    )


def test_local_mode_opens_the_configured_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = open_store(f"duckdb://{tmp_path}/shared", tmp_path)
    writer.write("lmp", _hours(6))
    writer.close()
    (tmp_path / "data").mkdir()

    with pytest.raises(FileNotFoundError, match="no store"):
        Client.local(tmp_path / "data")  # the data dir alone holds no store

    monkeypatch.setenv("CARBON254_STORE", f"duckdb://{tmp_path}/shared")
    with Client.local(tmp_path / "data") as client:
        day = {"start": "2025-01-01", "end": "2025-01-02"}
        table = client.lmp(iso="ERCOT", market="DAM", locations=["HB_NORTH"], **day, frame="arrow")
    assert table.num_rows == 6
