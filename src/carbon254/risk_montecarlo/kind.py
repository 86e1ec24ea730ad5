"""The `risk_var` job kind: Monte Carlo VaR and ES of a stored portfolio over many paths, in batches.

A request is the `risk_var` operation's (`application.risk.RiskRequest`)
with the Monte Carlo method and up to `MAX_JOB_PATHS` paths. `plan` checks
it as the operation does (portfolio, `as_of`, window, copula, covariance),
reads the prices and curve marks once, builds the factor history and the
book's exposures (MWh per factor), writes the window's factor changes to
the job's corner of the object store, and splits the paths into batches of
at most `PATHS_PER_TASK`. Batch k draws its paths with the seed of (seed,
k) through `carbon254.risk.monte_carlo_var`, so each batch is reproducible
alone, a resumed job redraws nothing it kept, and the job's progress moves
batch by batch. `finish` joins the batches' P&L ($ per path) into
`pnl.parquet` and `pnl.csv` (path, pnl) and measures VaR and ES on all of
them (`carbon254.risk.var_es`: the empirical estimators, positive $ losses).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from pydantic import Base64Bytes, BaseModel, ConfigDict, Field
from scipy import sparse

from carbon254.application.errors import bad_parameter
from carbon254.application.identity import AuthMethod, Entitlements, Principal
from carbon254.application.operation import CallContext, OperationCall
from carbon254.application.operations.risk import RISK_VAR, check_risk
from carbon254.application.risk import RISK_FEATURE, RiskRequest, book_exposures, factor_history
from carbon254.config import Settings
from carbon254.jobs.kinds import EntitlementCheck, JobContext, JobKind, JobResult
from carbon254.jobs.registry import register
from carbon254.metadata.database import MetadataDatabase
from carbon254.objects import open_object_store
from carbon254.objects.base import ObjectStore
from carbon254.risk import (
    Copula,
    CovarianceMethod,
    ExposureMatrix,
    FactorHistory,
    RiskError,
    monte_carlo_var,
    parse_factor,
    var_es,
)
from carbon254.store import Store, open_store
from carbon254.sweeps.base import encoded_table, objects_of, table_bytes

NAME = "risk_var"
# Paths one task draws: 50,000 paths of a few hundred factors are a second or two on a core.
PATHS_PER_TASK = 50_000
MAX_JOB_PATHS = 5_000_000


class RiskVarJobRequest(RiskRequest):
    """The `risk_var` request run as a job: Monte Carlo with many paths."""

    method: str = Field("monte_carlo", description="monte_carlo (the only method a job runs).")
    paths: int = Field(1_000_000, description=f"Simulated paths, up to {MAX_JOB_PATHS:,}.")


class RiskTask(BaseModel):
    """One batch: `count` paths drawn with `seed` on the factor changes `plan` wrote under `changes_key`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    changes_key: str
    exposure: list[float]  # MWh per factor, in the stored table's column order
    confidence: float
    horizon: int
    copula: str
    covariance: str
    first: int
    count: int
    seed: int
    object_store: str
    data_dir: str
    s3_endpoint: str | None


class RiskBatch(BaseModel):
    """A batch's paths: P&L per path ($, Arrow IPC stored as JSON) and how the paths were drawn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first: int
    pnl: Base64Bytes
    settings: str


def _principal(context: JobContext) -> Principal:
    # Entitlements were checked when the job was submitted (the kind's `entitled`).
    return Principal(context.tenant, "job", AuthMethod.NONE, Entitlements())


def _batch_seed(seed: int, batch: int) -> int:
    digest = hashlib.sha256(f"risk:{seed}:{batch}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def batch_sizes(paths: int) -> list[int]:
    """`paths` split into the fewest batches of at most `PATHS_PER_TASK`, as even as can be."""
    n = math.ceil(paths / PATHS_PER_TASK)
    return [paths // n + (1 if k < paths % n else 0) for k in range(n)]


def plan(request: RiskVarJobRequest, context: JobContext) -> list[tuple[str, RiskTask]]:
    """Check the request, build the factor changes and exposures once, and split the paths into batches."""
    settings = context.settings
    db = MetadataDatabase(settings.metadata_database_url())
    store = open_store(settings.store_url(), settings.data_dir, create=False)
    try:
        call_context = CallContext(store, settings, _principal(context), RISK_FEATURE, db)
        # The operation's own check, on one batch's paths: the job's count is checked by `check`.
        checked = check_risk(
            call_context, request.model_copy(update={"paths": min(request.paths, PATHS_PER_TASK)})
        )
        inputs, _ = OperationCall(RISK_VAR, checked).read(store)
        history = factor_history(checked.plan, inputs)
        exposure = book_exposures(checked.plan, history, inputs)
    finally:
        store.close()
        db.close()
    measure = checked.measure
    factors = exposure.exposed
    window = history.last(measure.window)
    columns = {f.label: window.columns((f,))[:, 0] for f in factors}
    table = pa.table({"date": pa.array(window.dates, pa.date32()), **columns})
    key = f"{context.artifact_prefix}changes.arrow"
    objects_of(settings).put(key, table_bytes(table))
    total = exposure.total_on(factors)
    tasks = []
    first = 0
    for n, count in enumerate(batch_sizes(request.paths)):
        task = RiskTask(
            changes_key=key,
            exposure=[float(x) for x in total],
            confidence=measure.confidence,
            horizon=measure.horizon,
            copula=measure.copula.value,
            covariance=measure.covariance.value,
            first=first,
            count=count,
            seed=_batch_seed(request.seed, n),
            object_store=settings.object_store,
            data_dir=str(settings.data_dir),
            s3_endpoint=settings.s3_endpoint,
        )
        tasks.append((str(n), task))
        first += count
    return tasks


def _objects(task: RiskTask) -> ObjectStore:
    """The object store, opened from the task's own input (it may run in another process)."""
    return open_object_store(task.object_store, data_dir=Path(task.data_dir), s3_endpoint=task.s3_endpoint)


def run_task(task: RiskTask) -> RiskBatch:
    """Draw the batch's paths on the stored factor changes and revalue the book on each."""
    table = ipc.open_stream(_objects(task).get(task.changes_key)).read_all()
    labels = [name for name in table.column_names if name != "date"]
    factors = tuple(parse_factor(label) for label in labels)
    changes = np.column_stack([table.column(label).to_numpy() for label in labels])
    history = FactorHistory(factors, tuple(table.column("date").to_pylist()), changes)
    # The whole book as one row: the job measures the total, not its attribution.
    row = sparse.csr_array(np.asarray(task.exposure, dtype=np.float64)[None, :])
    book = ExposureMatrix(("book",), ("",), np.ones(1), ("profile",), factors, row, row)
    try:
        result = monte_carlo_var(
            book,
            history,
            confidence=task.confidence,
            horizon=task.horizon,
            paths=task.count,
            copula=Copula(task.copula),
            covariance=CovarianceMethod(task.covariance),
            seed=task.seed,
        )
    except RiskError as error:
        raise bad_parameter("window", f"window: {error}") from None
    pnl = pa.table(
        {"path": np.arange(task.first, task.first + task.count, dtype=np.int64), "pnl": result.pnl}
    )
    return RiskBatch(first=task.first, pnl=encoded_table(pnl), settings=result.settings)


def finish(request: RiskVarJobRequest, batches: Sequence[RiskBatch], context: JobContext) -> JobResult:
    """Join the batches into `pnl.parquet` and `pnl.csv`; VaR, ES, mean and std of all the paths."""
    ordered = sorted(batches, key=lambda b: b.first)
    table = pa.concat_tables([ipc.open_stream(b.pnl).read_all() for b in ordered])
    objects = objects_of(context.settings)
    parquet_key = f"{context.artifact_prefix}pnl.parquet"
    csv_key = f"{context.artifact_prefix}pnl.csv"
    sink = io.BytesIO()
    pq.write_table(table, sink)
    objects.put(parquet_key, sink.getvalue())
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    objects.put(csv_key, sink.getvalue())
    objects.delete(f"{context.artifact_prefix}changes.arrow")
    pnl = table.column("pnl").to_numpy()
    found = var_es(pnl, request.confidence)
    model = ordered[0].settings.rsplit(",", 2)[0]
    summary = {
        "portfolio": request.portfolio,
        "as_of": request.as_of,
        "method": "monte_carlo",
        "confidence": request.confidence,
        "horizon_days": request.horizon_days,
        "paths": len(pnl),
        "var": found.var,
        "es": found.es,
        "mean": float(pnl.mean()),
        "std": float(pnl.std()),
        "settings": f"{model}, {len(pnl):,} paths in {len(ordered)} batches, seed {request.seed}",
    }
    return JobResult(summary=summary, artifacts={"pnl": parquet_key, "pnl_csv": csv_key})


def entitled(request: RiskVarJobRequest, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not run risk jobs (the `risk` feature), or None if it may."""
    return (
        None if entitlements.allows_feature(RISK_FEATURE) else f"not entitled to the {RISK_FEATURE} feature"
    )


def check(request: RiskVarJobRequest, store: Store, settings: Settings) -> None:
    """Refuse at submit what could never run: another method, or a path count out of range."""
    if request.method.strip().lower() != "monte_carlo":
        raise bad_parameter("method", f"method: a {NAME} job runs monte_carlo, not {request.method!r}")
    if not 1 <= request.paths <= MAX_JOB_PATHS:
        raise bad_parameter(
            "paths", f"paths: a {NAME} job draws 1 to {MAX_JOB_PATHS:,} paths, not {request.paths}"
        )


RISK_VAR_JOB: JobKind[RiskVarJobRequest, RiskTask, RiskBatch] = JobKind(
    name=NAME,
    request=RiskVarJobRequest,
    task_input=RiskTask,
    task_output=RiskBatch,
    plan=plan,
    task=run_task,
    finish=finish,
    description="Monte Carlo VaR and ES of a saved portfolio over up to 5,000,000 seeded paths: pnl.parquet.",
    entitled=entitled,
    check=check,
)
register(RISK_VAR_JOB)
