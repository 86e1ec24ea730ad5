"""Saved scenarios (versioned per tenant and name) and the record of scenario runs.

A scenario is stored as the YAML its author wrote and its canonical JSON
(sorted keys, no insignificant spaces), whose SHA-256 is its digest.
Re-saving a name adds a version; earlier versions are kept. A run records
what it ran (a saved scenario's name and version, or an inline definition),
the curve marks it started from, the engine version, a fingerprint of all
that, its status and summary, and where its artifact is kept.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from carbon254.jobs.models import JobStatus
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.errors import MetadataError
from carbon254.metadata.models import NAME_LENGTH, CurveMarkRow, ScenarioRow, ScenarioRunRow
from carbon254.metadata.tenants import TENANT_NAME

SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


class InvalidScenario(MetadataError, ValueError):
    """A scenario or run that cannot be stored; `field` names the offending part (e.g. `name`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownScenario(MetadataError, LookupError):
    """No saved scenario (or version) of that name for the tenant (404)."""


class UnknownRun(MetadataError, LookupError):
    """No scenario run with that id for the tenant (404)."""


@dataclass(frozen=True, slots=True)
class ScenarioRecord:
    """One saved version of a scenario: the YAML as written, its canonical JSON and that JSON's SHA-256."""

    owner: str
    name: str
    version: int
    yaml: str
    definition: str
    digest: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class ScenarioRun:
    """A recorded run: a saved scenario (name, version) or an inline definition, over base curve marks."""

    id: str
    tenant: str
    scenario_name: str | None
    scenario_version: int | None
    inline: str | None
    base_marks: tuple[int, ...]
    engine_version: str
    fingerprint: str
    status: JobStatus
    summary: Mapping[str, Any]
    artifact_key: str | None
    job_id: str | None
    created_at: datetime


def canonical_json(text: str) -> str:
    """`text` (JSON) re-written canonically: sorted keys, no spaces, UTF-8; `InvalidScenario` if not JSON."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise InvalidScenario("definition", f"the scenario definition is not JSON: {error}") from None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def save_scenario(
    db: MetadataDatabase, *, owner: str, name: str, yaml: str, definition: str, created_by: str
) -> ScenarioRecord:
    """Store `definition` (JSON text, canonicalised here) as the next version of `owner`'s scenario `name`.

    `yaml` is kept as written. Names are 1-100 letters, digits, spaces, '.',
    '_' or '-' and match case-insensitively. Raises `InvalidScenario`
    naming the field.
    """
    owner = _tenant(owner)
    checked = _name(name)
    canonical = canonical_json(definition)
    by = created_by.strip()
    if not by or len(by) > 200:
        raise InvalidScenario("created_by", "created_by must be 1 to 200 characters")
    with db.session(write=True) as session:
        latest = session.scalar(
            select(func.max(ScenarioRow.version)).where(
                ScenarioRow.owner == owner, ScenarioRow.name_key == checked.casefold()
            )
        )
        row = ScenarioRow(
            owner=owner,
            name=checked,
            name_key=checked.casefold(),
            version=(latest or 0) + 1,
            yaml=yaml,
            definition=canonical,
            digest=hashlib.sha256(canonical.encode()).hexdigest(),
            created_at=datetime.now(UTC),
            created_by=by,
        )
        session.add(row)
        session.flush()
        return _scenario(row)


def get_scenario(
    db: MetadataDatabase, *, owner: str, name: str, version: int | None = None
) -> ScenarioRecord:
    """`owner`'s scenario `name` at `version` (None: the latest); `UnknownScenario` if there is none."""
    query = select(ScenarioRow).where(
        ScenarioRow.owner == owner.strip(), ScenarioRow.name_key == name.strip().casefold()
    )
    if version is not None:
        query = query.where(ScenarioRow.version == version)
    with db.session() as session:
        row = session.scalars(query.order_by(ScenarioRow.version.desc()).limit(1)).first()
        if row is None:
            which = f" version {version}" if version is not None else ""
            raise UnknownScenario(f"no scenario {name!r}{which} for tenant {owner!r}")
        return _scenario(row)


def list_scenarios(db: MetadataDatabase, *, owner: str) -> list[ScenarioRecord]:
    """The latest version of each of `owner`'s scenarios, by name."""
    latest = (
        select(ScenarioRow.name_key, func.max(ScenarioRow.version).label("version"))
        .where(ScenarioRow.owner == owner.strip())
        .group_by(ScenarioRow.name_key)
        .subquery()
    )
    query = (
        select(ScenarioRow)
        .join(
            latest,
            (ScenarioRow.name_key == latest.c.name_key) & (ScenarioRow.version == latest.c.version),
        )
        .where(ScenarioRow.owner == owner.strip())
        .order_by(ScenarioRow.name_key)
    )
    with db.session() as session:
        return [_scenario(row) for row in session.scalars(query)]


def record_run(
    db: MetadataDatabase,
    *,
    tenant: str,
    base_marks: Sequence[int],
    engine_version: str,
    fingerprint: str,
    status: JobStatus | str,
    summary: Mapping[str, Any],
    scenario: tuple[str, int] | None = None,
    inline: str | None = None,
    artifact_key: str | None = None,
    job_id: str | None = None,
    run_id: str | None = None,
) -> ScenarioRun:
    """Record a run of a saved `scenario` (name, version) or of an `inline` definition (JSON text).

    Exactly one of the two is given; the saved version and every base mark
    id must exist (the marks among those the tenant sees). `fingerprint` is
    64 lower-case hex digits; `summary` must be JSON-serialisable. Raises
    `InvalidScenario` naming the field, or `UnknownScenario`.
    """
    tenant = _tenant(tenant)
    if (scenario is None) == (inline is None):
        raise InvalidScenario("scenario", "give either a saved scenario (name, version) or an inline one")
    if not FINGERPRINT.match(fingerprint):
        raise InvalidScenario("fingerprint", f"fingerprint {fingerprint!r} is not a SHA-256 hex digest")
    try:
        state = JobStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in JobStatus)
        raise InvalidScenario("status", f"unknown run status {status!r}; expected one of {known}") from None
    engine = engine_version.strip()
    if not engine or len(engine) > 50:
        raise InvalidScenario("engine_version", "engine_version must be 1 to 50 characters")
    try:
        summary_json: dict[str, Any] = json.loads(json.dumps(dict(summary), allow_nan=False))
    except (TypeError, ValueError) as error:
        raise InvalidScenario("summary", f"the run summary is not JSON: {error}") from None
    inline_json = None if inline is None else canonical_json(inline)
    marks = [int(m) for m in base_marks]
    row_id = run_id or str(uuid.uuid4())
    with db.session(write=True) as session:
        name: str | None = None
        version: int | None = None
        if scenario is not None:
            saved = session.scalar(
                select(ScenarioRow).where(
                    ScenarioRow.owner == tenant,
                    ScenarioRow.name_key == scenario[0].strip().casefold(),
                    ScenarioRow.version == scenario[1],
                )
            )
            if saved is None:
                raise UnknownScenario(
                    f"no scenario {scenario[0]!r} version {scenario[1]} for tenant {tenant!r}"
                )
            name, version = saved.name, saved.version
        if marks:
            found = set(
                session.scalars(
                    select(CurveMarkRow.id).where(
                        CurveMarkRow.id.in_(marks), CurveMarkRow.owner_key.in_(("", tenant))
                    )
                )
            )
            missing = sorted(set(marks) - found)
            if missing:
                raise InvalidScenario("base_marks", f"unknown curve marks {missing} for tenant {tenant!r}")
        row = ScenarioRunRow(
            id=row_id,
            tenant=tenant,
            scenario_name=name,
            scenario_version=version,
            inline=inline_json,
            base_marks=marks,
            engine_version=engine,
            fingerprint=fingerprint,
            status=state.value,
            summary=summary_json,
            artifact_key=artifact_key,
            job_id=job_id,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return _run(row)


def get_run(db: MetadataDatabase, *, tenant: str, run_id: str) -> ScenarioRun:
    """The tenant's run `run_id`; `UnknownRun` if there is none (another tenant's runs are not found)."""
    with db.session() as session:
        row = session.scalar(
            select(ScenarioRunRow).where(ScenarioRunRow.id == run_id, ScenarioRunRow.tenant == tenant.strip())
        )
        if row is None:
            raise UnknownRun(f"no scenario run {run_id!r} for tenant {tenant!r}")
        return _run(row)


def list_runs(
    db: MetadataDatabase, *, tenant: str, scenario: str | None = None, limit: int = 100
) -> list[ScenarioRun]:
    """The tenant's runs, newest first, at most `limit`; `scenario` keeps the runs of that saved name."""
    query = select(ScenarioRunRow).where(ScenarioRunRow.tenant == tenant.strip())
    if scenario is not None:
        query = query.where(func.lower(ScenarioRunRow.scenario_name) == scenario.strip().lower())
    query = query.order_by(ScenarioRunRow.created_at.desc(), ScenarioRunRow.id).limit(limit)
    with db.session() as session:
        return [_run(row) for row in session.scalars(query)]


def _tenant(tenant: str) -> str:
    cleaned = tenant.strip()
    if not TENANT_NAME.match(cleaned) or len(cleaned) > NAME_LENGTH:
        raise InvalidScenario("tenant", f"invalid tenant name {tenant!r}")
    return cleaned


def _name(name: str) -> str:
    cleaned = name.strip()
    if not SCENARIO_NAME.match(cleaned) or len(cleaned) > NAME_LENGTH:
        raise InvalidScenario(
            "name",
            f"invalid scenario name {name!r}: use letters, digits, spaces, '.', '_' or '-' "
            f"(starting with a letter or digit), at most {NAME_LENGTH} characters",
        )
    return cleaned


def _scenario(row: ScenarioRow) -> ScenarioRecord:
    return ScenarioRecord(
        owner=row.owner,
        name=row.name,
        version=row.version,
        yaml=row.yaml,
        definition=row.definition,
        digest=row.digest,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _run(row: ScenarioRunRow) -> ScenarioRun:
    return ScenarioRun(
        id=row.id,
        tenant=row.tenant,
        scenario_name=row.scenario_name,
        scenario_version=row.scenario_version,
        inline=row.inline,
        base_marks=tuple(row.base_marks),
        engine_version=row.engine_version,
        fingerprint=row.fingerprint,
        status=JobStatus(row.status),
        summary=row.summary,
        artifact_key=row.artifact_key,
        job_id=row.job_id,
        created_at=row.created_at,
    )
