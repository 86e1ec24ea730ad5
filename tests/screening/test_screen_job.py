"""The `battery_screen` job end to end on a local pool: hand-solved revenues, ranking, files, refusals,
and a cancelled job resumed to the same ranking."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from distributed import LocalCluster
from screen_data import (
    BATTERY,
    BLOCKS,
    CHARGED_PER_BLOCK,
    DISCHARGED_PER_BLOCK,
    GAPPY,
    SPREADS,
    WINDOW,
    block_revenue,
    lmp_rows,
    prices,
    write_nodes,
)
from slow_screen import SLOW_SCREEN

from carbon254.application.errors import ApiError
from carbon254.application.identity import AuthMethod, Entitlements, Principal
from carbon254.application.jobs import download_artifact, submit_job
from carbon254.compute import LocalExecutor
from carbon254.compute.base import Executor
from carbon254.compute.dask import DaskExecutor
from carbon254.config import Settings
from carbon254.jobs import JobContext, JobRecord, JobRegistry, JobState, JobStatus, TaskStatus, registry
from carbon254.jobs.worker import Worker
from carbon254.metadata import MetadataDatabase
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.screening import BATTERY_SCREEN, ScreenRequest
from carbon254.screening import kind as screen_kind
from carbon254.store import open_store

DEGRADATION = 1.0  # $/MWh discharged: small beside every trading node's margin, so dispatch is unchanged
REQUEST = {**WINDOW, **BATTERY, "degradation_cost": DEGRADATION}


def _kinds(*kinds: Any) -> JobRegistry:
    found = JobRegistry()
    for kind in kinds:
        found.register(kind)
    return found


def _run(
    state: JobState,
    executor: Executor,
    objects: ObjectStore,
    settings: Settings,
    request: dict[str, Any],
) -> JobRecord:
    kinds = _kinds(BATTERY_SCREEN)
    worker = Worker(state, executor, kinds, objects=objects, settings=settings, lease_s=30)
    body = ScreenRequest.model_validate(request).model_dump(mode="json")
    job = state.submit("acme", "battery_screen", body)
    worker.run_once(job_id=job.id)
    done = state.get(job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    return done


def _ranking(objects: ObjectStore, job: JobRecord) -> pa.Table:
    assert job.result is not None
    return pq.read_table(io.BytesIO(objects.get(job.result.artifacts["ranking.parquet"])))


def _rows(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["location"]: row for row in table.to_pylist()}


def test_the_kind_is_in_the_process_wide_registry() -> None:
    assert registry.lookup("battery_screen") is BATTERY_SCREEN


def test_every_node_earns_its_hand_solved_revenue_ranked_highest_first(
    state: JobState,
    executor: LocalExecutor,
    objects: ObjectStore,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 48 hourly intervals a node: two nodes a task, so the six nodes are three tasks.
    monkeypatch.setattr(screen_kind, "INTERVALS_PER_TASK", 100)
    done = _run(state, executor, objects, settings, REQUEST)
    assert len(state.tasks(done.id)) == 3
    table = _ranking(objects, done)
    rows = _rows(table)
    for location, (low, high) in SPREADS.items():
        row = rows[location]
        trades = block_revenue(low, high) > 0
        discharged = BLOCKS * DISCHARGED_PER_BLOCK if trades else 0.0
        assert row["energy_revenue"] == pytest.approx(BLOCKS * block_revenue(low, high), abs=1e-6)
        assert row["degradation_cost"] == pytest.approx(DEGRADATION * discharged, abs=1e-6)
        assert row["net_revenue"] == pytest.approx(row["energy_revenue"] - row["degradation_cost"])
        assert row["discharged_mwh"] == pytest.approx(discharged, abs=1e-6)
        assert row["charged_mwh"] == pytest.approx(BLOCKS * CHARGED_PER_BLOCK if trades else 0.0, abs=1e-6)
        assert row["cycles"] == pytest.approx(discharged / BATTERY["energy_mwh"], abs=1e-6)
        if trades:
            assert row["spread_captured"] == pytest.approx(high - low)
        assert (row["intervals"], row["missing_intervals"], row["skipped"]) == (48, 0, None)
    # Ranked by net revenue: the widest spread first; the two that never trade earn nothing.
    assert table.column("location").to_pylist()[:3] == ["WIDE", "MIDDLE", "NARROW"]
    assert table.column("rank").to_pylist() == [1, 2, 3, 4, 5, None]
    assert set(table.column("location").to_pylist()[3:5]) == {"FLAT", "LOSSY"}
    gappy = rows[GAPPY]
    assert (gappy["rank"], gappy["net_revenue"], gappy["intervals"], gappy["missing_intervals"]) == (
        None,
        None,
        48,
        3,
    )
    assert gappy["skipped"] == "3 of 48 intervals have no price (the first at 2024-03-01T05:00:00Z)"

    assert done.result is not None
    summary = done.result.summary
    assert (summary["nodes"], summary["ranked"], summary["skipped"]) == (6, 5, 1)
    assert [t["location"] for t in summary["top"]] == table.column("location").to_pylist()[:5]
    assert summary["top"][0]["net_revenue"] == pytest.approx(rows["WIDE"]["net_revenue"])
    assert summary["skipped_examples"] == [{"location": GAPPY, "reason": gappy["skipped"]}]
    # The CSV holds the same ranking, and the download link serves the Parquet file asked for.
    nulls = pacsv.ConvertOptions(strings_can_be_null=True)
    csv = pacsv.read_csv(io.BytesIO(objects.get(done.result.artifacts["ranking.csv"])), convert_options=nulls)
    assert csv.cast(table.schema).equals(table)
    assert download_artifact(done) == f"jobs/{done.id}/ranking.parquet"
    assert summary["format"] == "parquet"
    assert summary["bytes"] == objects.info(f"jobs/{done.id}/ranking.parquet").size


def test_the_download_serves_the_csv_when_asked_and_names_narrow_the_screen(
    state: JobState, executor: LocalExecutor, objects: ObjectStore, settings: Settings
) -> None:
    request = {**REQUEST, "locations": "narrow, Wide", "format": "csv"}
    done = _run(state, executor, objects, settings, request)
    assert download_artifact(done) == f"jobs/{done.id}/ranking.csv"
    table = pacsv.read_csv(io.BytesIO(objects.get(f"jobs/{done.id}/ranking.csv")))
    # Names are matched as the catalog spells them.
    assert table.column("location").to_pylist() == ["WIDE", "NARROW"]


def _plan(settings: Settings, objects: ObjectStore, request: dict[str, Any]) -> list[Any]:
    context = JobContext("job", "acme", settings, objects, "jobs/job/")
    return [task for _, task in screen_kind.plan(ScreenRequest.model_validate(request), context)]


def test_a_task_is_a_pure_function_of_its_input(settings: Settings, objects: ObjectStore) -> None:
    tasks = _plan(settings, objects, REQUEST)
    # The plan pins what the prices were known as, so a task read later reads the same rows.
    assert all(task.as_of == tasks[0].as_of for task in tasks)
    for task in tasks:
        assert screen_kind.run_task(task) == screen_kind.run_task(task)


def test_a_location_type_screens_only_that_type(settings: Settings, objects: ObjectStore) -> None:
    tasks = _plan(settings, objects, {**REQUEST, "location_type": "node"})
    assert sorted(n for t in tasks for n in t.locations) == sorted([*SPREADS, GAPPY])


def _wait(state: JobState, job_id: str, until: Any) -> JobRecord:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job = state.get(job_id)
        if until(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never got there: {state.get(job_id)}")


@pytest.fixture
def revisable(tmp_path: Path) -> Settings:
    """A store of this test's own, which it may revise."""
    write_nodes(tmp_path)
    return Settings(data_dir=tmp_path)


@pytest.fixture
def background(
    state: JobState, executor: LocalExecutor, revisable: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Worker]:
    """A worker looping in a thread of this process on the slow kind, one node a task."""
    monkeypatch.setattr(screen_kind, "INTERVALS_PER_TASK", 1)
    objects = open_object_store(revisable.object_store, data_dir=revisable.data_dir, s3_endpoint=None)
    worker = Worker(
        state, executor, _kinds(SLOW_SCREEN), objects=objects, settings=revisable, lease_s=10, poll_s=0.05
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(timeout=60)


def test_a_cancelled_screen_resumes_to_the_same_ranking_even_after_a_revision(
    state: JobState, background: Worker, revisable: Settings
) -> None:
    objects = open_object_store(revisable.object_store, data_dir=revisable.data_dir, s3_endpoint=None)
    body = ScreenRequest.model_validate(REQUEST).model_dump(mode="json")
    whole = state.submit("acme", "battery_screen", body)
    whole_done = _wait(state, whole.id, lambda j: j.status.finished)
    assert whole_done.status is JobStatus.SUCCEEDED, whole_done.error
    expected = _ranking(objects, whole_done)

    job = state.submit("acme", "battery_screen", body)
    _wait(state, job.id, lambda j: j.progress.done >= 2)
    state.cancel(job.id, tenant="acme")
    cancelled = _wait(state, job.id, lambda j: j.status.finished)
    assert cancelled.status is JobStatus.CANCELLED
    tasks = state.tasks(job.id)
    done_before = {t.key for t in tasks if t.status is TaskStatus.DONE}
    pending = [t for t in tasks if t.status is not TaskStatus.DONE]
    assert 2 <= len(done_before) < len(tasks)

    # A revision arrives for a node not screened yet: the resumed job still reads what it planned on.
    revised = pending[-1].input["locations"][0]
    store = open_store(revisable.data_dir)
    try:
        store.write("lmp", lmp_rows(revised, prices(0.0, 500.0)))
    finally:
        store.close()
    state.resume(job.id, tenant="acme")
    resumed = _wait(state, job.id, lambda j: j.status.finished)
    assert resumed.status is JobStatus.SUCCEEDED, resumed.error
    assert _ranking(objects, resumed).equals(expected)
    assert all(t.attempts == 1 for t in state.tasks(job.id) if t.key in done_before)

    # A new screen plans on the revised prices, so the revision was there to be read.
    fresh = state.submit("acme", "battery_screen", body)
    fresh_done = _wait(state, fresh.id, lambda j: j.status.finished)
    assert fresh_done.status is JobStatus.SUCCEEDED, fresh_done.error
    assert _ranking(objects, fresh_done).column("location")[0].as_py() == revised


def _submit(
    tmp_path: Path, settings: Settings, request: dict[str, Any], entitlements: Entitlements | None
) -> JobRecord:
    principal = Principal("acme", "key", AuthMethod.API_KEY, entitlements or Entitlements())
    db = MetadataDatabase(f"sqlite:///{tmp_path / 'metadata.db'}")
    store = open_store(settings.data_dir)
    objects = open_object_store(settings.object_store, data_dir=settings.data_dir, s3_endpoint=None)
    try:
        return submit_job(
            "battery_screen",
            request,
            principal,
            state=JobState(db),
            kinds=_kinds(BATTERY_SCREEN),
            objects=objects,
            settings=settings,
            store=store,
        )
    finally:
        store.close()
        db.close()


def test_a_screen_that_can_run_is_queued(tmp_path: Path, settings: Settings) -> None:
    job = _submit(tmp_path, settings, {**REQUEST, "iso": "pjm"}, Entitlements(isos=frozenset({"PJM"})))
    assert (job.status, job.kind) == (JobStatus.QUEUED, "battery_screen")
    # Defaults are explicit in the stored request.
    stored = job.request
    assert (stored["market"], stored["format"], stored["daily_cycles"]) == ("DAM", "parquet", None)


@pytest.mark.parametrize(
    ("change", "entitlements", "status", "parameter", "words"),
    [
        ({}, Entitlements(features=frozenset({"curves"})), 403, "kind", "battery feature"),
        ({}, Entitlements(isos=frozenset({"ERCOT"})), 403, "kind", "lmp data of PJM"),
        ({"power_mw": -1}, None, 422, "request.power_mw", "greater than 0"),
        ({"round_trip_efficiency": 1.5}, None, 422, "request.round_trip_efficiency", "less than or equal"),
        ({"initial_soc_mwh": 25}, None, 422, "initial_soc_mwh", "outside the SOC bounds"),
        ({"locations": ["WIDE", "WIDDE"]}, None, 404, "locations", "WIDDE"),
        ({"locations": ["WIDE"], "location_type": "node"}, None, 422, "location_type", "not both"),
        ({"location_type": "hub"}, None, 404, "locations", "no location of type hub"),
        ({"market": "DAAM"}, None, 404, "market", "DAAM"),
        ({"iso": "PJMM"}, None, 404, "iso", "PJMM"),
        ({"end": "2024-02-01"}, None, 422, "end", "must be after start"),
        ({"format": "xlsx"}, None, 422, "request.format", "parquet"),
    ],
)
def test_a_screen_that_could_not_run_is_refused_at_submit_naming_the_field(
    tmp_path: Path,
    settings: Settings,
    change: dict[str, Any],
    entitlements: Entitlements | None,
    status: int,
    parameter: str,
    words: str,
) -> None:
    with pytest.raises(ApiError) as refused:
        _submit(tmp_path, settings, {**REQUEST, **change}, entitlements)
    assert (refused.value.status_code, refused.value.parameter) == (status, parameter)
    assert words in refused.value.message


def test_the_screen_fans_out_on_dask_to_the_same_ranking(
    tmp_path: Path, executor: LocalExecutor, objects: ObjectStore, settings: Settings
) -> None:
    db = MetadataDatabase(f"sqlite:///{tmp_path / 'metadata.db'}")
    state = JobState(db)
    try:
        local = _ranking(objects, _run(state, executor, objects, settings, REQUEST))
        # A free port for the dashboard: the default 8787 may be taken by another cluster here.
        cluster_options = {"n_workers": 2, "threads_per_worker": 1, "dashboard_address": "127.0.0.1:0"}
        with LocalCluster(processes=True, host="127.0.0.1", **cluster_options) as cluster:
            dask = DaskExecutor(str(cluster.scheduler_address).replace("tcp://", "dask://"))
            try:
                on_dask = _ranking(objects, _run(state, dask, objects, settings, REQUEST))
            finally:
                dask.close()
    finally:
        db.close()
    assert on_dask.equals(local)


def test_a_daily_cycle_cap_binds_at_every_node(settings: Settings, objects: ObjectStore) -> None:
    # Half a cycle a day: 10 MWh discharged at most, bought back at 10 / 0.81 MWh each day.
    capped = {**REQUEST, "daily_cycles": 0.5, "degradation_cost": 0.0, "locations": ["WIDE", "NARROW"]}
    (task,) = _plan(settings, objects, capped)
    nodes = {node.location: node for node in screen_kind.run_task(task).nodes}
    cap = 0.5 * BATTERY["energy_mwh"]
    for location in ("WIDE", "NARROW"):
        low, high = SPREADS[location]
        node = nodes[location]
        assert node.discharged_mwh == pytest.approx(2 * cap, abs=1e-6)
        assert node.energy_revenue == pytest.approx(2 * (cap * high - cap / 0.81 * low), abs=1e-6)
