"""The export job end to end: planned, run on the local executor, finished into the file object store."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from export_data import LOCATIONS
from fastapi.testclient import TestClient
from xlsx_reading import read_workbook

from carbon254.application.datasets import answer_query
from carbon254.compute import LocalExecutor
from carbon254.config import Settings
from carbon254.exports import EXPORT, ExportRequest
from carbon254.exports import kind as export_kind
from carbon254.jobs import JobRegistry, JobState, JobStatus, registry
from carbon254.jobs.runner import RunEnd
from carbon254.jobs.worker import Worker
from carbon254.metadata import MetadataDatabase
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.store import Store

LMP = {"iso": "pjm", "market": "dam", "start": "2024-10-30", "end": "2024-11-06", "tz": "America/New_York"}


@pytest.fixture(scope="module")
def executor() -> Iterator[LocalExecutor]:
    pool = LocalExecutor(2)
    yield pool
    pool.close()


@pytest.fixture
def objects(settings: Settings) -> ObjectStore:
    return open_object_store(
        settings.object_store, data_dir=settings.data_dir, s3_endpoint=settings.s3_endpoint
    )


@pytest.fixture
def run_export(
    tmp_path: Path, settings: Settings, store: Store, executor: LocalExecutor, objects: ObjectStore
) -> Iterator[Any]:
    db = MetadataDatabase(f"sqlite:///{tmp_path / 'metadata.db'}")
    state = JobState(db)
    kinds = JobRegistry()
    kinds.register(EXPORT)
    worker = Worker(state, executor, kinds, objects=objects, settings=settings, lease_s=30, poll_s=0.05)

    def run(request: dict[str, Any]) -> tuple[dict[str, Any], bytes, int]:
        job = state.submit("acme", "export", request)
        report = worker.run_once()
        assert report is not None and report.job_id == job.id
        done = state.get(job.id)
        assert report.end is RunEnd.SUCCEEDED, done.error
        assert done.status is JobStatus.SUCCEEDED and done.result is not None
        key = done.result.artifacts["export"]
        assert key == f"jobs/{job.id}/export.{request['format']}"
        # Only the export is left: the parts are deleted once streamed in.
        assert [info.key for info in objects.list(f"jobs/{job.id}/")] == [key]
        return dict(done.result.summary), objects.get(key), len(state.tasks(job.id))

    yield run
    db.close()


def _expected(store: Store, settings: Settings, request: dict[str, Any]) -> pa.Table:
    query = ExportRequest.model_validate(request).query(store, settings)
    return answer_query(store, query).table


def test_the_export_kind_is_in_the_process_wide_registry() -> None:
    assert registry.lookup("export") is EXPORT


@pytest.mark.parametrize("rows_per_task", [10**6, 400, 100])
def test_parquet_export_round_trips_the_query_rows_in_order(
    run_export: Any, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch, rows_per_task: int
) -> None:
    """One task, location batches, and one location's window in time slices: the same file content."""
    monkeypatch.setattr(export_kind, "ROWS_PER_TASK", rows_per_task)
    request = {**LMP, "format": "parquet"}
    summary, data, tasks = run_export(request)
    expected = _expected(store, settings, request)
    back = pq.read_table(io.BytesIO(data))
    assert back.num_rows == expected.num_rows == 7 * 24 * len(LOCATIONS) + 5  # a 25-hour fall-back day
    assert back.equals(expected.cast(back.schema))
    assert back.schema.field("interval_start").type == pa.timestamp("us", tz="America/New_York")
    assert summary == {"rows": expected.num_rows, "bytes": len(data), "format": "parquet", "sheets": None}
    # The plan samples hourly intervals: 169 rows a location (a 25-hour day in New York).
    assert tasks == {10**6: 1, 400: 3, 100: len(LOCATIONS) * 2}[rows_per_task]


@pytest.mark.parametrize(
    ("window", "rows"),
    [
        ({}, 3 * (7 * 24 + 1)),  # New York days, one of 25 hours
        ({"tz": None}, 3 * 7 * 24),
        # The data ends on 2024-11-08: nothing to export but the header.
        ({"start": "2024-11-08", "end": "2024-11-10"}, 0),
    ],
)
def test_csv_export_is_the_rest_csv_of_the_same_query(
    run_export: Any, client: TestClient, monkeypatch: pytest.MonkeyPatch, window: dict[str, Any], rows: int
) -> None:
    monkeypatch.setattr(export_kind, "ROWS_PER_TASK", 60)
    params = {
        k: v for k, v in {**LMP, **window, "locations": "western hub,AEP,=cmd"}.items() if v is not None
    }
    rest = client.get("/v1/lmp", params={**params, "format": "csv"})
    assert rest.status_code == 200, rest.text
    summary, data, tasks = run_export({**params, "format": "csv"})
    assert tasks > 3
    assert data == rest.content
    assert data.startswith(b"interval_start,interval_end,iso,market,location,lmp,energy,congestion,loss\n")
    assert summary["rows"] == data.count(b"\n") - 1 == rows


def test_xlsx_export_round_trips_values_and_local_times(
    run_export: Any, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_kind, "ROWS_PER_TASK", 1000)
    request = {**LMP, "locations": ["PSEG", "BGE"], "tz": "iso", "format": "xlsx"}
    summary, data, _ = run_export(request)
    expected = _expected(store, settings, request)
    [(name, cells)] = read_workbook(data)
    assert name == "data"
    assert cells[0] == list(expected.column_names)
    assert len(cells) - 1 == expected.num_rows == summary["rows"]
    assert summary["sheets"] == 1
    for row, want in zip(cells[1:], expected.to_pylist(), strict=True):
        assert row[0] == want["interval_start"].replace(tzinfo=None)
        assert row[1] == want["interval_end"].replace(tzinfo=None)
        assert row[2:5] == [want["iso"], want["market"], want["location"]]
        for column, value in zip(("lmp", "energy", "congestion", "loss"), row[5:], strict=True):
            assert value == pytest.approx(want[column], rel=1e-15)


def test_an_export_of_a_dataset_without_locations_is_split_by_time(
    run_export: Any, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_kind, "ROWS_PER_TASK", 100)
    params = {"iso": "ercot", "start": "2024-10-30", "end": "2024-11-02", "tz": "iso"}
    rest = client.get("/v1/ordc_adder", params={**params, "format": "csv"})
    assert rest.status_code == 200, rest.text
    summary, data, tasks = run_export({"dataset": "ordc_adder", **params, "format": "csv"})
    assert tasks == 3  # 72 hours of 15-minute intervals, 100 rows a task
    assert data == rest.content
    assert summary["rows"] == 3 * 24 * 4
