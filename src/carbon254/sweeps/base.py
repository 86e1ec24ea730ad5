"""The base a scenario job starts from, written once to the job's corner of the object store.

`plan` reads the tenant's marks (and the stored prices replay steps need),
`store_base` writes them as Arrow under `jobs/<id>/base/`, and each task,
in any process or on any machine, reads the same bytes back with
`load_base`: every task of a job starts from exactly the same curves.
`record_job_run` records the finished job beside interactive runs, and
`drop_base` clears the base once the job is done.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
from pydantic import BaseModel, ConfigDict

from carbon254.application.identity import AuthMethod, Entitlements, Principal
from carbon254.application.scenarios import SCENARIOS_FEATURE, base_curves, needs_hours, replay_history
from carbon254.config import Settings
from carbon254.curves import CurveSet
from carbon254.jobs.kinds import EntitlementCheck, JobContext
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.scenarios import ScenarioRun, record_run
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.scenarios import ENGINE_VERSION, HistoryNeed, Scenario, history_needs
from carbon254.store import open_store
from carbon254.sweeps.curve_io import curve_set_bytes, curve_set_of


class HistoryNeedModel(BaseModel):
    """A replay's price history need, as a task input carries it (with the key of its stored table)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iso: str
    location: str
    market: str
    start: date
    end: date
    event: str = ""

    def need(self) -> HistoryNeed:
        """The engine's `HistoryNeed`."""
        return HistoryNeed(self.iso, self.location, self.market, self.start, self.end, self.event)


class StoredBase(BaseModel):
    """Where a job's base lives: its curves, replay prices and the object store holding them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    monthly_key: str
    hourly_key: str
    history: list[tuple[HistoryNeedModel, str]]
    marks: list[int]
    object_store: str
    data_dir: str
    s3_endpoint: str | None

    def objects(self) -> ObjectStore:
        """The object store, opened from the task's own input (it may run in another process)."""
        return open_object_store(
            self.object_store, data_dir=Path(self.data_dir), s3_endpoint=self.s3_endpoint
        )


def objects_of(settings: Settings) -> ObjectStore:
    """The object store the settings name."""
    return open_object_store(
        settings.object_store, data_dir=settings.data_dir, s3_endpoint=settings.s3_endpoint
    )


def table_bytes(table: pa.Table) -> bytes:
    """A table as Arrow IPC stream bytes."""
    sink = io.BytesIO()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def encoded_table(table: pa.Table) -> bytes:
    """A table as base64 Arrow IPC, as a `Base64Bytes` task output field takes it (outputs are JSON)."""
    return base64.b64encode(table_bytes(table))


def scenarios_refusal(request: object, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not run scenario jobs (the `scenarios` feature), or None if it may."""
    return None if entitlements.allows_feature(SCENARIOS_FEATURE) else "not entitled to the scenarios feature"


def store_base(
    scenarios: Sequence[Scenario],
    context: JobContext,
    *,
    hubs: Sequence[str],
    iso: str | None,
    as_of: date | None,
    hourly: bool,
) -> tuple[StoredBase, CurveSet]:
    """Read the hubs' marks (with HPFCs when a scenario needs hours) and replay prices; write them once.

    Entitlements were checked when the job was submitted (the kind's
    `entitled`), so the plan reads as the tenant. Raises the application
    layer's `ApiError` (an unmarked hub: 404), which fails the job with it.
    """
    settings = context.settings
    principal = Principal(context.tenant, "job", AuthMethod.NONE, Entitlements())
    db = MetadataDatabase(settings.metadata_database_url())
    store = open_store(settings.store_url(), settings.data_dir, create=False)
    try:
        base = base_curves(
            db,
            store,
            settings,
            principal,
            iso=iso,
            hubs=hubs,
            as_of=as_of,
            hourly=hourly or any(needs_hours(s) for s in scenarios),
        )
        needs = sorted({n for s in scenarios for n in history_needs(s)}, key=repr)
        history = replay_history(store, settings, principal, needs)
    finally:
        store.close()
        db.close()
    objects = objects_of(settings)
    prefix = f"{context.artifact_prefix}base/"
    monthly, hours = curve_set_bytes(base.curves)
    objects.put(f"{prefix}monthly.arrow", monthly)
    objects.put(f"{prefix}hourly.arrow", hours)
    stored: list[tuple[HistoryNeedModel, str]] = []
    for n, (need, table) in enumerate(history.items()):
        key = f"{prefix}history-{n}.arrow"
        objects.put(key, table_bytes(table))
        fields = {"iso": need.iso, "location": need.location, "market": need.market}
        model = HistoryNeedModel(**fields, start=need.start, end=need.end, event=need.event)
        stored.append((model, key))
    located = StoredBase(
        monthly_key=f"{prefix}monthly.arrow",
        hourly_key=f"{prefix}hourly.arrow",
        history=stored,
        marks=[m.id for m in base.marks],
        object_store=settings.object_store,
        data_dir=str(settings.data_dir),
        s3_endpoint=settings.s3_endpoint,
    )
    return located, base.curves


def load_base(stored: StoredBase) -> tuple[CurveSet, dict[HistoryNeed, pa.Table]]:
    """The curves and replay prices `store_base` wrote, exactly."""
    objects = stored.objects()
    curves = curve_set_of(objects.get(stored.monthly_key), objects.get(stored.hourly_key))
    history = {need.need(): ipc.open_stream(objects.get(key)).read_all() for need, key in stored.history}
    return curves, history


def combined_fingerprint(fingerprints: Sequence[str]) -> str:
    """One fingerprint for many results: the SHA-256 of theirs, in order."""
    digest = hashlib.sha256()
    for fingerprint in fingerprints:
        digest.update(fingerprint.encode())
    return digest.hexdigest()


def record_job_run(
    context: JobContext,
    *,
    scenario: Scenario,
    marks: Sequence[int],
    fingerprint: str,
    summary: dict[str, object],
    artifact_key: str,
) -> ScenarioRun:
    """Record a finished job's run (its marks, engine version, fingerprint, artifact) and drop its base."""
    db = MetadataDatabase(context.settings.metadata_database_url())
    try:
        run = record_run(
            db,
            tenant=context.tenant,
            base_marks=marks,
            engine_version=ENGINE_VERSION,
            fingerprint=fingerprint,
            status="succeeded",
            summary=summary,
            inline=scenario.model_dump_json(),
            artifact_key=artifact_key,
            job_id=context.job_id,
        )
    finally:
        db.close()
    objects = objects_of(context.settings)
    for leftover in objects.list(f"{context.artifact_prefix}base/"):
        objects.delete(leftover.key)
    return run
