"""Every answer format writes values that ingest back to the very version they came from.

A service answer (JSON, CSV, Parquet, Arrow), a `carbon254 query --output`
file and an SDK frame, written as the canonical file `carbon254 ingest FILE`
accepts, must store nothing new: no revision from float text, -0.0, or the
optional columns an answer does not carry.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from carbon254.cli.main import app as cli
from carbon254.client import Client
from carbon254.config import AuthMode, Settings
from carbon254.ingest import read_canonical_file
from carbon254.schema import TIMESTAMP
from carbon254.service import create_app
from carbon254.store import WriteResult, open_store
from carbon254.store.parquet import ParquetStore

START = datetime(2025, 2, 3, tzinfo=UTC)
AWKWARD = [0.1 + 0.2, 1e-7, -0.0, 12345.678901234, -9876.54321098765, 1 / 3, 2.5e-12, -0.0]
QUERY = {"iso": "ERCOT", "market": "DAM", "locations": "HB_NORTH", "start": "2025-02-03", "end": "2025-02-04"}


def awkward_rows() -> pa.Table:
    n = len(AWKWARD)
    starts = [START + timedelta(hours=h) for h in range(n)]
    energy = np.array(AWKWARD)
    congestion = np.array([-0.0, 0.7, -1234.5678, 0.0, 3.3, -0.0, 1e-9, -2.2])
    return pa.table(
        {
            "iso": ["ERCOT"] * n,
            "market": ["DAM"] * n,
            "location": ["HB_NORTH"] * n,
            "location_type": ["hub"] * n,
            "interval_start": pa.array(starts, TIMESTAMP),
            "interval_end": pa.array([s + timedelta(hours=1) for s in starts], TIMESTAMP),
            "lmp": energy + congestion,
            "energy": energy,
            "congestion": congestion,
            "loss": np.full(n, -0.0),
            "published_at": pa.array([START - timedelta(hours=12)] * n, TIMESTAMP),
        }
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[ParquetStore]:
    s = open_store(data_dir)
    assert s.write("lmp", awkward_rows()).rows_written == len(AWKWARD)
    yield s
    s.close()


@pytest.fixture
def client(data_dir: Path, store: ParquetStore) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_dir, auth=AuthMode.OFF)
    with TestClient(create_app(settings, store), raise_server_exceptions=False) as c:
        yield c


def canonical_file(fmt: str, body: bytes, folder: Path) -> Path:
    """The answer body as a file `carbon254 ingest FILE` reads, converted no more than a format needs."""
    if fmt == "json":
        path = folder / "answer.csv"
        pl.DataFrame(json.loads(body)["data"]).write_csv(path)
    elif fmt == "csv":
        path = folder / "answer.csv"
        path.write_bytes(body)
    elif fmt == "parquet":
        path = folder / "answer.parquet"
        path.write_bytes(body)
    else:
        path = folder / "answer.parquet"
        pq.write_table(ipc.open_stream(body).read_all(), path)
    return path


def ingest(store: ParquetStore, path: Path) -> WriteResult:
    read = read_canonical_file(path)
    return store.write(read.dataset, read.table)


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet", "arrow"])
def test_a_service_answer_ingests_back_unchanged(
    fmt: str, client: TestClient, store: ParquetStore, tmp_path: Path
) -> None:
    r = client.get("/v1/lmp", params={**QUERY, "format": fmt})
    assert r.status_code == 200
    result = ingest(store, canonical_file(fmt, r.content, tmp_path))
    assert (result.rows_received, result.rows_written, result.revisions) == (len(AWKWARD), 0, 0)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_text_answers_carry_exact_floats_and_no_minus_zero(fmt: str, client: TestClient) -> None:
    text = client.get("/v1/lmp", params={**QUERY, "format": fmt}).text
    assert "-0.0" not in text.replace("-0.0000", "")  # no negative zero as a value
    assert "0.30000000000000004" in text and "-9876.54321098765" in text and "1e-7" in text


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_binary_answers_carry_no_minus_zero(fmt: str, client: TestClient) -> None:
    body = client.get("/v1/lmp", params={**QUERY, "format": fmt}).content
    table = pq.read_table(io.BytesIO(body)) if fmt == "parquet" else ipc.open_stream(body).read_all()
    for name in ("lmp", "energy", "congestion", "loss"):
        assert not np.signbit(table.column(name).to_numpy()[table.column(name).to_numpy() == 0]).any()


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_query_output_file_ingests_back_unchanged(
    suffix: str, data_dir: Path, store: ParquetStore, tmp_path: Path
) -> None:
    out = tmp_path / f"export.{suffix}"
    args = ["--iso", "ERCOT", "--market", "DAM", "--start", "2025-02-03", "--end", "2025-02-04"]
    exported = CliRunner().invoke(cli, ["query", *args, "--output", str(out), "--data-dir", str(data_dir)])
    assert exported.exit_code == 0, exported.output
    result = ingest(store, out)
    assert (result.rows_written, result.revisions) == (0, 0)


def test_an_sdk_frame_written_to_parquet_ingests_back_unchanged(
    data_dir: Path, store: ParquetStore, tmp_path: Path
) -> None:
    sdk = Client.local(data_dir)
    frame = sdk.lmp(iso="ERCOT", market="DAM", start="2025-02-03", end="2025-02-04", frame="polars")
    path = tmp_path / "sdk.parquet"
    frame.write_parquet(path)
    result = ingest(store, path)
    assert (result.rows_received, result.rows_written, result.revisions) == (len(AWKWARD), 0, 0)


def test_a_computed_minus_zero_is_written_as_zero_in_every_format() -> None:
    from carbon254.service.encoding import Format, body_bytes

    table = pa.table({"interval_start": pa.array([START], TIMESTAMP), "basis": [-0.0]})
    for fmt in Format:
        body = body_bytes(table, fmt, {}, None)
        if fmt in (Format.JSON, Format.CSV):
            assert b"-0.0" not in body and b"0.0" in body
        else:
            parquet = fmt is Format.PARQUET
            back = pq.read_table(io.BytesIO(body)) if parquet else ipc.open_stream(body).read_all()
            assert not np.signbit(back.column("basis").to_numpy()).any()
