"""The `ppa_simulate` job kind: a PPA's NPV over many Monte Carlo paths, in batches, on the pool or Dask.

A request is the `ppa_value` request (`application.ppa.PpaRequest`) with
up to 100,000 paths. `plan` checks it as the operation does, reads the
mark and histories once, builds the term's hourly prices and P50 volume
and the path model calibrated to the hub's history, writes them to the
job's corner of the object store, and splits the paths into batches of
`PATHS_PER_TASK`. Batch k draws its paths with the seed of (seed, k), so
each is reproducible alone and a resumed job redraws nothing it kept.
`finish` joins the batches' per-path NPVs into `npv.parquet` and
`npv.csv` (path, npv, settlement, volume_mwh, capture_price) and
summarizes the distribution: mean, P5-P95, and the NPV on the curve.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from pydantic import Base64Bytes, BaseModel, ConfigDict

from carbon254.application.errors import bad_parameter
from carbon254.application.identity import AuthMethod, Entitlements, Principal
from carbon254.application.operation import CallContext, OperationCall
from carbon254.application.operations.ppa import PPA_VALUE, check_ppa
from carbon254.application.ppa import MAX_PATHS, PPA_FEATURE, PpaRequest, path_model, ppa_market
from carbon254.config import Settings
from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.metadata.database import MetadataDatabase
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.ppa import (
    DiscountCurve,
    Percentiles,
    PpaError,
    VolumeUncertainty,
    parse_contract,
    simulate_ppa,
)
from carbon254.ppa.distribution import PERCENTILES
from carbon254.scenarios import PathsStep
from carbon254.store import Store, open_store
from carbon254.sweeps.base import encoded_table, objects_of, table_bytes

NAME = "ppa_simulate"
# Paths one task draws: 500 paths of 20 hourly years are 87.6M path-hours, a few seconds on a core.
PATHS_PER_TASK = 500


class PpaTask(BaseModel):
    """One batch: `count` paths drawn with `seed`, on the market `plan` wrote under `market_key`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    market_key: str
    contract: str  # the contract as JSON
    side: str
    discount_rate: float
    volume_sd: float
    resource_sd: float
    price_volume_correlation: float
    basis_sd: float
    model: str  # the PathsStep as JSON
    first: int
    count: int
    seed: int
    object_store: str
    data_dir: str
    s3_endpoint: str | None


class PpaBatch(BaseModel):
    """A batch's paths: per-path NPV, settlement, volume and capture price (Arrow IPC, stored as JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first: int
    paths: Base64Bytes


def _principal(context: JobContext) -> Principal:
    # Entitlements were checked when the job was submitted (the kind's `entitled`).
    return Principal(context.tenant, "job", AuthMethod.NONE, Entitlements())


def _batch_seed(seed: int, batch: int) -> int:
    digest = hashlib.sha256(f"ppa:{seed}:{batch}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def plan(request: PpaRequest, context: JobContext) -> list[tuple[str, PpaTask]]:
    """Check the request, build the term's prices and volume once, and split the paths into batches."""
    settings = context.settings
    db = MetadataDatabase(settings.metadata_database_url())
    store = open_store(settings.store_url(), settings.data_dir, create=False)
    try:
        call_context = CallContext(store, settings, _principal(context), PPA_FEATURE, db)
        checked = check_ppa(call_context, request)
        inputs, _ = OperationCall(PPA_VALUE, checked).read(store)
        market = ppa_market(checked.plan, inputs)
        model = path_model(checked.plan, market)
    finally:
        store.close()
        db.close()
    key = f"{context.artifact_prefix}market.arrow"
    table = pa.table(
        {"interval_start": market.starts, "hub": market.hub, "price": market.price, "mwh": market.mwh}
    )
    objects_of(settings).put(key, table_bytes(table))
    plan_ = checked.plan
    tasks = []
    for n in range(math.ceil(request.paths / PATHS_PER_TASK)):
        first = n * PATHS_PER_TASK
        task = PpaTask(
            market_key=key,
            contract=plan_.contract.model_dump_json(),
            side=plan_.side,
            discount_rate=plan_.discount_rate,
            volume_sd=plan_.volume.interannual_sd,
            resource_sd=plan_.volume.long_term_sd,
            price_volume_correlation=plan_.price_volume_correlation,
            basis_sd=plan_.basis_sd,
            model=model.model_dump_json(),
            first=first,
            count=min(PATHS_PER_TASK, request.paths - first),
            seed=_batch_seed(request.seed, n),
            object_store=settings.object_store,
            data_dir=str(settings.data_dir),
            s3_endpoint=settings.s3_endpoint,
        )
        tasks.append((str(n), task))
    return tasks


def _objects(task: PpaTask) -> ObjectStore:
    """The object store, opened from the task's own input (it may run in another process)."""
    return open_object_store(task.object_store, data_dir=Path(task.data_dir), s3_endpoint=task.s3_endpoint)


def run_task(task: PpaTask) -> PpaBatch:
    """Draw the batch's paths on the stored market and value the contract on each."""
    market = ipc.open_stream(_objects(task).get(task.market_key)).read_all()
    hub = market.column("hub").to_numpy()
    price = market.column("price").to_numpy()
    try:
        d = simulate_ppa(
            parse_contract(json.loads(task.contract)),
            market.column("interval_start").to_numpy(),
            hub,
            market.column("mwh").to_numpy(),
            DiscountCurve.flat(task.discount_rate),
            model=PathsStep.model_validate_json(task.model),
            n_paths=task.count,
            seed=task.seed,
            volume_sd=VolumeUncertainty(task.volume_sd, task.resource_sd),
            price_volume_correlation=task.price_volume_correlation,
            basis=price - hub,
            basis_sd=task.basis_sd,
            settle_at="node" if np.any(price != hub) or task.basis_sd > 0 else "hub",
            side="seller" if task.side == "seller" else "buyer",
            threads=1,
        )
    except PpaError as exc:
        raise bad_parameter("contract", str(exc)) from None
    table = pa.table(
        {
            "path": np.arange(task.first, task.first + task.count, dtype=np.int64),
            "npv": d.npv,
            "settlement": d.settlement,
            "volume_mwh": d.volume_mwh,
            "capture_price": d.capture_price,
        }
    )
    return PpaBatch(first=task.first, paths=encoded_table(table))


def finish(request: PpaRequest, batches: Sequence[PpaBatch], context: JobContext) -> JobResult:
    """Join the batches into `npv.parquet` and `npv.csv`; summarize the NPV's distribution."""
    table = pa.concat_tables([ipc.open_stream(b.paths).read_all() for b in batches])
    objects = objects_of(context.settings)
    parquet_key = f"{context.artifact_prefix}npv.parquet"
    csv_key = f"{context.artifact_prefix}npv.csv"
    sink = io.BytesIO()
    pq.write_table(table, sink)
    objects.put(parquet_key, sink.getvalue())
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    objects.put(csv_key, sink.getvalue())
    objects.delete(f"{context.artifact_prefix}market.arrow")
    npv = table.column("npv").to_numpy()
    spread = Percentiles.of(npv)
    summary = {
        "paths": len(npv),
        "mean_npv": float(npv.mean()),
        "std_npv": float(npv.std()),
        "percentiles": {f"p{p}": getattr(spread, f"p{p}") for p in PERCENTILES},
        "mean_capture_price": float(np.nanmean(table.column("capture_price").to_numpy())),
    }
    return JobResult(summary=summary, artifacts={"npv": parquet_key, "npv_csv": csv_key})


def entitled(request: PpaRequest, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not run PPA simulations (the `ppa` feature), or None if it may."""
    return None if entitlements.allows_feature(PPA_FEATURE) else f"not entitled to the {PPA_FEATURE} feature"


def check(request: PpaRequest, store: Store, settings: Settings) -> None:
    """Refuse at submit what could never run: no paths, or more than the most a job draws."""
    if not 1 <= request.paths <= MAX_PATHS:
        raise bad_parameter(
            "paths", f"paths: a simulation draws 1 to {MAX_PATHS:,} paths, not {request.paths}"
        )


PPA_SIMULATE: JobKind[PpaRequest, PpaTask, PpaBatch] = JobKind(
    name=NAME,
    request=PpaRequest,
    task_input=PpaTask,
    task_output=PpaBatch,
    plan=plan,
    task=run_task,
    finish=finish,
    description="A PPA's NPV over up to 100,000 Monte Carlo paths: npv.parquet/npv.csv, P5-P95.",
    entitled=entitled,
    check=check,
)
register(PPA_SIMULATE)
