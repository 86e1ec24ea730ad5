"""The ORM tables: tenants, api_keys, credentials_version, audit_events, jobs, job_tasks,
curve_marks, curve_points, scenarios, scenario_runs, risk_portfolios, forecast_models and
forecast_model_stages.

The Alembic migrations in `migrations/versions/` create exactly these tables;
a change here needs a new migration beside them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Keys per JSON column stay small (names of ISOs, datasets, features, query parameters).
NAME_LENGTH = 100


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no zone-aware type and hands back naive values; storing UTC
    and re-attaching UTC on read makes both backends return the same thing.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: metadata timestamps must carry a zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of the metadata tables."""


class Tenant(Base):
    """A customer: its name, whether it administers the service, and what it may read (None = all)."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    isos: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    datasets: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    features: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Seconds its jobs' artifacts are kept after they finish; None: the service's default.
    job_retention_s: Mapped[float | None] = mapped_column(Float, nullable=True)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="tenant")


class ApiKey(Base):
    """An API key: its public id and the SHA-256 of its secret (the secret itself is never stored)."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(AutoId, ForeignKey("tenants.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    rotated_from: Mapped[str | None] = mapped_column(ForeignKey("api_keys.key_id"), nullable=True)

    tenant: Mapped[Tenant] = relationship(back_populates="keys")


class CredentialsVersion(Base):
    """One row (id 1) whose counter every change to what a credential proves increases.

    Revoking or rotating a key and changing a tenant's entitlements bump it in
    the same transaction, so a process that memoizes verified keys re-reads
    them as soon as it sees a new value (`carbon254.metadata.credentials`).
    """

    __tablename__ = "credentials_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class AuditEventRow(Base):
    """One audited request or admin action."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_at", "tenant", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    tenant: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    method: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(500))
    parameters: Mapped[dict[str, str]] = mapped_column(JSON)
    rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    request_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class JobRow(Base):
    """One job: a registered kind run for one tenant, its progress, lease and outcome.

    `worker` and `lease_until` say which worker process runs it and until when
    that claim holds; the worker renews the lease while it runs, so a job
    whose lease has expired belongs to a worker that died and may be claimed
    again. `planned_at` is set when its tasks are stored (once). `updated_at`
    is when its status, progress, result or error last changed (a lease
    renewal does not count), for readers following changes; `expired_at` when
    the retention sweep deleted its artifacts.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_tenant_created", "tenant", "created_at"),
        Index("ix_jobs_status_created", "status", "created_at"),
        Index("ix_jobs_updated", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(NAME_LENGTH))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    planned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class JobTaskRow(Base):
    """One task of a job's plan: its input, and once it has run, its output (the checkpoint)."""

    __tablename__ = "job_tasks"
    __table_args__ = (UniqueConstraint("job_id", "key", name="uq_job_tasks_job_key"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(36), ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    input: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CurveMarkRow(Base):
    """One version of one owner's monthly curve of (iso, hub, as_of); rows are inserted, never updated.

    `owner` is a tenant name, or None for the shared market marks every
    tenant sees; `owner_key` is the owner or '' (tenant names are never
    empty), so the unique version constraint also holds for shared marks,
    which NULL would not. `hub_key` is the case-folded hub the lookups
    match on. `blocks` keeps the curve's block order; `quotes` and
    `implied` are the marked quotes and the redundant ones with their
    implied prices ($/MWh).
    """

    __tablename__ = "curve_marks"
    __table_args__ = (
        UniqueConstraint("iso", "hub_key", "as_of", "owner_key", "version", name="uq_curve_marks_version"),
        Index("ix_curve_marks_lookup", "iso", "hub_key", "as_of"),
        Index("ix_curve_marks_owner_created", "owner_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    iso: Mapped[str] = mapped_column(String(16))
    hub: Mapped[str] = mapped_column(String(200))
    hub_key: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[date] = mapped_column(Date)
    owner: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    owner_key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    quoted_through: Mapped[date] = mapped_column(Date)
    blocks: Mapped[list[str]] = mapped_column(JSON)
    months: Mapped[int] = mapped_column(Integer)
    quotes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    implied: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class CurvePointRow(Base):
    """One monthly block price of a curve mark ($/MWh) and the delivery hours it covers."""

    __tablename__ = "curve_points"

    mark_id: Mapped[int] = mapped_column(
        AutoId, ForeignKey("curve_marks.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    block: Mapped[str] = mapped_column(String(16), primary_key=True)
    price: Mapped[float] = mapped_column(Float)
    hours: Mapped[int] = mapped_column(Integer)


class ScenarioRow(Base):
    """One version of a tenant's saved scenario: the YAML as written and its canonical JSON."""

    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("owner", "name_key", "version", name="uq_scenarios_version"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name_key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    yaml: Mapped[str] = mapped_column(Text)
    definition: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class ScenarioRunRow(Base):
    """One run of a scenario (saved, by name and version, or inline) over base curve marks.

    `base_marks` lists the `curve_marks.id`s the run started from; the
    fingerprint (SHA-256 hex) identifies its inputs and engine version, so an
    identical rerun can be recognised.
    """

    __tablename__ = "scenario_runs"
    __table_args__ = (
        Index("ix_scenario_runs_tenant_created", "tenant", "created_at"),
        Index("ix_scenario_runs_fingerprint", "fingerprint"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(NAME_LENGTH))
    scenario_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    scenario_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    inline: Mapped[str | None] = mapped_column(Text, nullable=True)
    base_marks: Mapped[list[int]] = mapped_column(JSON)
    engine_version: Mapped[str] = mapped_column(String(50))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    artifact_key: Mapped[str | None] = mapped_column(String(500), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PortfolioRow(Base):
    """One version of a tenant's risk portfolio: its position file (CSV text) and its position count."""

    __tablename__ = "risk_portfolios"
    __table_args__ = (UniqueConstraint("owner", "name_key", "version", name="uq_risk_portfolios_version"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name_key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    positions: Mapped[int] = mapped_column(Integer)
    csv: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class ForecastModelRow(Base):
    """One version of a tenant's registered forecast model: what it serves, how it was trained, its stage.

    `parameters` and `metrics` are JSON text as registered; `features` the
    feature and exogenous series names. At most one version of a name is in
    production at a time (the partial unique index), whatever the backend.
    """

    __tablename__ = "forecast_models"
    __table_args__ = (
        UniqueConstraint("owner", "name_key", "version", name="uq_forecast_models_version"),
        Index("ix_forecast_models_serving", "owner", "iso", "location", "market", "stage"),
        Index(
            "uq_forecast_models_production",
            "owner",
            "name_key",
            unique=True,
            sqlite_where=text("stage = 'production'"),
            postgresql_where=text("stage = 'production'"),
        ),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name_key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    iso: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(200))
    market: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(NAME_LENGTH))
    parameters: Mapped[str] = mapped_column(Text)
    features: Mapped[list[str]] = mapped_column(JSON)
    train_start: Mapped[date] = mapped_column(Date)
    train_end: Mapped[date] = mapped_column(Date)
    metrics: Mapped[str] = mapped_column(Text)
    artifact_key: Mapped[str] = mapped_column(String(500))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(BigInteger)
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stage_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ForecastModelStageRow(Base):
    """One stage change of a forecast model version, and the registry action that made it.

    Rows are appended, never updated; their ids order them. `rollback`
    replays them to find the version that was in production before the
    current one (`carbon254.metadata.forecast_models`).
    """

    __tablename__ = "forecast_model_stages"
    __table_args__ = (Index("ix_forecast_model_stages_name", "owner", "name_key", "id"),)

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name_key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
