"""The forecast model registry: a tenant's fitted models, versioned by name, each in one stage.

Registering a name again adds a version (1, 2, ...) as a CANDIDATE; the
fitted model itself lives in the object store (`artifact_key`, checked by
its SHA-256), the rest here: what it serves (iso, location, market), its
kind and parameters, features, training window (market days), holdout
metrics and seed. `promote` makes a version the name's PRODUCTION one and
archives the one it replaces, in one transaction; `rollback` puts back the
version that was in production before the current one; `archive` retires a
version. Names are matched case-insensitively and kept as first given;
tenants never see each other's models. Timestamps are UTC.

Every stage change is appended to a history (`forecast_model_stages`) with
the action that made it. `rollback` replays it as a stack of production
versions: a promotion pushes a version, a rollback pops one, and an
explicit `archive` takes the version out of the stack for good, so a
version someone withdrew is never rolled back to. Rolling back twice
therefore walks back through the promotions in order, not to "the latest
archived version".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon254.isos import Iso
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.errors import MetadataError
from carbon254.metadata.models import NAME_LENGTH, ForecastModelRow, ForecastModelStageRow
from carbon254.metadata.tenants import TENANT_NAME
from carbon254.objects.keys import check_key

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
# A model kind as the forecast package names it (`lear`, `lightgbm`, `best`, `subhourly`, ...).
MODEL_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MARKETS = ("dam", "rtm")
LOCATION_LENGTH = 200
ARTIFACT_KEY_LENGTH = 500
FEATURE_LENGTH = 200
# The seed column is a signed 64-bit integer.
MAX_SEED = 2**63 - 1
# A concurrent register on PostgreSQL may take the same next version; the unique constraint refuses
# the loser, which recounts (SQLite serialises writers).
VERSION_ATTEMPTS = 5


class ModelStage(StrEnum):
    """Where a model version is in its life: trained and waiting, serving, or retired."""

    CANDIDATE = "candidate"
    PRODUCTION = "production"
    ARCHIVED = "archived"


class StageAction(StrEnum):
    """The registry call that changed a stage, as the history records it."""

    REGISTER = "register"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    ARCHIVE = "archive"


class InvalidModel(MetadataError, ValueError):
    """A model version that cannot be registered (422); `field` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownModel(MetadataError, LookupError):
    """No registered model (or version) of that name for the tenant (404); `field` is `name` or `version`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidModelStage(MetadataError, ValueError):
    """A stage change the registry's state does not allow (409), e.g. a rollback with nothing before."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version of a forecast model.

    `iso`/`location`/`market` say which prices it forecasts ($/MWh);
    `model` is its kind and `parameters` the JSON text of its spec's
    parameters; `features` the feature and exogenous series it reads;
    `train_start`..`train_end` the delivery days (market dates, inclusive)
    it was trained on; `metrics` the JSON text of its holdout scores
    (mae, rmse in $/MWh, smape, rmae, coverage, n); `artifact_key` and
    `artifact_sha256` locate and check the pickled fitted model; `seed` made
    its training reproducible. `created_at` and `stage_changed_at` are UTC.
    """

    owner: str
    name: str
    version: int
    iso: str
    location: str
    market: str
    model: str
    parameters: str
    features: tuple[str, ...]
    train_start: date
    train_end: date
    metrics: str
    artifact_key: str
    artifact_sha256: str
    seed: int
    stage: ModelStage
    created_at: datetime
    stage_changed_at: datetime


def model_name(name: str) -> str:
    """`name` trimmed and checked: 1-100 letters, digits, spaces, '.', '_' or '-', first a letter or digit.

    Raises `InvalidModel` naming `name` otherwise.
    """
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_LENGTH or not MODEL_NAME.match(cleaned):
        raise InvalidModel(
            "name",
            f"name: {name!r} must be 1 to {NAME_LENGTH} letters, digits, spaces, '.', '_' or '-' "
            "starting with a letter or digit",
        )
    return cleaned


def model_iso(iso: str) -> str:
    """`iso` as stored (upper case), one of the ISOs `carbon254.isos` declares; `InvalidModel` otherwise."""
    cleaned = iso.strip().upper()
    known = [i.value for i in Iso]
    if cleaned not in known:
        raise InvalidModel("iso", f"iso: unknown ISO {iso!r}; expected one of {', '.join(known)}")
    return cleaned


def model_market(market: str) -> str:
    """`market` as stored: `dam` (day-ahead) or `rtm` (real-time), any case; `InvalidModel` otherwise."""
    cleaned = market.strip().lower()
    if cleaned not in MARKETS:
        raise InvalidModel("market", f"market: {market!r} must be one of {', '.join(MARKETS)}")
    return cleaned


def _json_object(field: str, text: str) -> None:
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        raise InvalidModel(field, f"{field}: not JSON text ({text[:80]!r})") from None
    if not isinstance(parsed, dict):
        raise InvalidModel(field, f"{field}: must be a JSON object, got {type(parsed).__name__}")


def _tenant(owner: str) -> str:
    tenant = owner.strip()
    if not TENANT_NAME.match(tenant) or len(tenant) > NAME_LENGTH:
        raise InvalidModel("owner", f"owner: {owner!r} is not a tenant name")
    return tenant


def _location(location: str) -> str:
    cleaned = location.strip()
    if not cleaned or len(cleaned) > LOCATION_LENGTH:
        raise InvalidModel("location", f"location: {location!r} must be 1 to {LOCATION_LENGTH} characters")
    return cleaned


def _features(features: Sequence[str]) -> list[str]:
    if isinstance(features, str):
        raise InvalidModel("features", "features: a list of series names, not one string")
    cleaned = [f.strip() if isinstance(f, str) else "" for f in features]
    bad = [f for f in cleaned if not f or len(f) > FEATURE_LENGTH]
    if bad:
        raise InvalidModel("features", f"features: names must be 1 to {FEATURE_LENGTH} characters")
    return cleaned


def _artifact(key: str, sha256: str) -> None:
    try:
        check_key(key)
    except ValueError as error:
        raise InvalidModel("artifact_key", f"artifact_key: {error}") from None
    if len(key) > ARTIFACT_KEY_LENGTH:
        raise InvalidModel("artifact_key", f"artifact_key: over {ARTIFACT_KEY_LENGTH} characters")
    if not SHA256_HEX.match(sha256):
        raise InvalidModel("artifact_sha256", "artifact_sha256: must be 64 lower-case hex digits")


def register_model(
    db: MetadataDatabase,
    *,
    owner: str,
    name: str,
    iso: str,
    location: str,
    market: str,
    model: str,
    parameters: str,
    features: Sequence[str],
    train_start: date,
    train_end: date,
    metrics: str,
    artifact_key: str,
    artifact_sha256: str,
    seed: int,
) -> ModelVersion:
    """Store a fitted model as the next version of `owner`'s model `name`, a CANDIDATE.

    `parameters` and `metrics` are JSON object text; `train_start` and
    `train_end` the first and last delivery days (market dates) of the
    training data. Raises `InvalidModel` naming the field for a bad owner,
    name, ISO, location, market (dam or rtm), kind, JSON text, features,
    window, artifact key or digest, or seed; nothing is stored then.
    """
    tenant = _tenant(owner)
    checked = model_name(name)
    iso_name = model_iso(iso)
    place = _location(location)
    market_name = model_market(market)
    if not MODEL_KIND.match(model):
        raise InvalidModel("model", f"model: {model!r} is not a model kind (e.g. lear, lightgbm, best)")
    _json_object("parameters", parameters)
    _json_object("metrics", metrics)
    series = _features(features)
    if train_end < train_start:
        raise InvalidModel("train_end", f"train_end: {train_end} is before train_start {train_start}")
    _artifact(artifact_key, artifact_sha256)
    if isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise InvalidModel("seed", f"seed: {seed!r} must be an integer from 0 to 2**63 - 1")
    key = checked.casefold()
    attempt = 1
    while True:
        try:
            with db.session(write=True) as session:
                latest = session.scalar(
                    select(func.max(ForecastModelRow.version)).where(
                        ForecastModelRow.owner == tenant, ForecastModelRow.name_key == key
                    )
                )
                first = session.scalar(
                    select(ForecastModelRow.name)
                    .where(ForecastModelRow.owner == tenant, ForecastModelRow.name_key == key)
                    .order_by(ForecastModelRow.version)
                    .limit(1)
                )
                now = datetime.now(UTC)
                row = ForecastModelRow(
                    owner=tenant,
                    name=first or checked,
                    name_key=key,
                    version=(latest or 0) + 1,
                    iso=iso_name,
                    location=place,
                    market=market_name,
                    model=model,
                    parameters=parameters,
                    features=series,
                    train_start=train_start,
                    train_end=train_end,
                    metrics=metrics,
                    artifact_key=artifact_key,
                    artifact_sha256=artifact_sha256,
                    seed=seed,
                    stage=ModelStage.CANDIDATE.value,
                    created_at=now,
                    stage_changed_at=now,
                )
                session.add(row)
                session.flush()
                _history(session, row, StageAction.REGISTER, now)
                return _version(row)
        except IntegrityError as error:
            if attempt >= VERSION_ATTEMPTS or "uq_forecast_models_version" not in str(error.orig):
                raise
            attempt += 1


def get_model(db: MetadataDatabase, *, owner: str, name: str, version: int | None = None) -> ModelVersion:
    """`owner`'s model `name` at `version`; None: its production version if any, else its latest.

    Raises `UnknownModel` naming the name (or the version) when there is none.
    """
    with db.session() as session:
        return _version(_row(session, owner, name, version))


def list_models(db: MetadataDatabase, *, owner: str, name: str | None = None) -> list[ModelVersion]:
    """Every version of `owner`'s models (of one `name`, any case, when given), newest first."""
    query = select(ForecastModelRow).where(ForecastModelRow.owner == owner.strip())
    if name is not None:
        query = query.where(ForecastModelRow.name_key == name.strip().casefold())
    query = query.order_by(ForecastModelRow.created_at.desc(), ForecastModelRow.id.desc())
    with db.session() as session:
        return [_version(row) for row in session.scalars(query)]


def production_model(
    db: MetadataDatabase, *, owner: str, iso: str, location: str, market: str
) -> ModelVersion | None:
    """The production version serving `iso`/`location`/`market` among all of `owner`'s names, or None.

    When several names serve the same prices, the one promoted last wins.
    ISO and market match in any case; the location exactly (after trimming).
    """
    query = (
        select(ForecastModelRow)
        .where(
            ForecastModelRow.owner == owner.strip(),
            ForecastModelRow.iso == iso.strip().upper(),
            ForecastModelRow.location == location.strip(),
            ForecastModelRow.market == market.strip().lower(),
            ForecastModelRow.stage == ModelStage.PRODUCTION.value,
        )
        .order_by(ForecastModelRow.stage_changed_at.desc(), ForecastModelRow.id.desc())
        .limit(1)
    )
    with db.session() as session:
        row = session.scalars(query).first()
        return None if row is None else _version(row)


def promote(db: MetadataDatabase, *, owner: str, name: str, version: int) -> ModelVersion:
    """Make `version` the production version of `owner`'s model `name`; the one it replaces is archived.

    One transaction: nobody sees two production versions or none in
    between. Promoting an archived version is how one goes back to it
    explicitly; promoting the production version changes nothing. Raises
    `UnknownModel` for an unknown name or version.
    """
    with db.session(write=True) as session:
        rows = _locked(session, owner, name)
        target = _pick(rows, owner, name, version)
        if target.stage == ModelStage.PRODUCTION.value:
            return _version(target)
        now = datetime.now(UTC)
        current = _production(rows)
        if current is not None:
            _set_stage(session, current, ModelStage.ARCHIVED, StageAction.PROMOTE, now)
        _set_stage(session, target, ModelStage.PRODUCTION, StageAction.PROMOTE, now)
        return _version(target)


def rollback(db: MetadataDatabase, *, owner: str, name: str) -> ModelVersion:
    """Archive the production version of `owner`'s model `name` and restore the one in production before.

    Returns the restored version. Raises `UnknownModel` for an unknown
    name, and `InvalidModelStage` (field `name`) when no version is in
    production or none was before it (nothing changes then).
    """
    with db.session(write=True) as session:
        rows = _locked(session, owner, name)
        if not rows:
            raise _unknown(owner, name, None)
        current = _production(rows)
        if current is None:
            raise InvalidModelStage(
                "name", f"name: model {rows[0].name!r} has no production version to roll back"
            )
        stack = _production_stack(session, current.owner, current.name_key)
        if len(stack) < 2 or stack[-1] != current.version:
            raise InvalidModelStage(
                "name",
                f"name: no version of model {current.name!r} was in production before version "
                f"{current.version}; promote one instead",
            )
        previous = next(row for row in rows if row.version == stack[-2])
        now = datetime.now(UTC)
        _set_stage(session, current, ModelStage.ARCHIVED, StageAction.ROLLBACK, now)
        _set_stage(session, previous, ModelStage.PRODUCTION, StageAction.ROLLBACK, now)
        return _version(previous)


def archive(db: MetadataDatabase, *, owner: str, name: str, version: int) -> ModelVersion:
    """Retire `version` of `owner`'s model `name`: it is archived and never a rollback target again.

    Archiving the production version leaves the name without one. Raises
    `UnknownModel` for an unknown name or version.
    """
    with db.session(write=True) as session:
        rows = _locked(session, owner, name)
        target = _pick(rows, owner, name, version)
        _set_stage(session, target, ModelStage.ARCHIVED, StageAction.ARCHIVE, datetime.now(UTC))
        return _version(target)


# ---- internals ----------------------------------------------------------------------------------


def _unknown(owner: str, name: str, version: int | None) -> UnknownModel:
    if version is None:
        return UnknownModel("name", f"name: no model {name.strip()!r} for tenant {owner.strip()!r}")
    return UnknownModel(
        "version", f"version: model {name.strip()!r} of tenant {owner.strip()!r} has no version {version}"
    )


def _row(session: Session, owner: str, name: str, version: int | None) -> ForecastModelRow:
    query = select(ForecastModelRow).where(
        ForecastModelRow.owner == owner.strip(), ForecastModelRow.name_key == name.strip().casefold()
    )
    rows = list(session.scalars(query.order_by(ForecastModelRow.version.desc())))
    if version is None:
        if not rows:
            raise _unknown(owner, name, None)
        return _production(rows) or rows[0]
    return _pick(rows, owner, name, version)


def _locked(session: Session, owner: str, name: str) -> list[ForecastModelRow]:
    """Every version of the name, newest first, locked against a concurrent stage change (PostgreSQL).

    On SQLite the write session already holds the database's write lock.
    """
    query = (
        select(ForecastModelRow)
        .where(ForecastModelRow.owner == owner.strip(), ForecastModelRow.name_key == name.strip().casefold())
        .order_by(ForecastModelRow.version.desc())
        .with_for_update()
    )
    return list(session.scalars(query))


def _pick(rows: list[ForecastModelRow], owner: str, name: str, version: int) -> ForecastModelRow:
    if not rows:
        raise _unknown(owner, name, None)
    found = next((row for row in rows if row.version == version), None)
    if found is None:
        raise _unknown(owner, rows[0].name, version)
    return found


def _production(rows: list[ForecastModelRow]) -> ForecastModelRow | None:
    return next((row for row in rows if row.stage == ModelStage.PRODUCTION.value), None)


def _set_stage(
    session: Session, row: ForecastModelRow, stage: ModelStage, action: StageAction, at: datetime
) -> None:
    if row.stage != stage.value:
        row.stage = stage.value
        row.stage_changed_at = at
    # Flushed at once: the production-per-name index must never see the new production version
    # before the one it replaces has left production.
    session.flush()
    _history(session, row, action, at)


def _history(session: Session, row: ForecastModelRow, action: StageAction, at: datetime) -> None:
    session.add(
        ForecastModelStageRow(
            owner=row.owner, name_key=row.name_key, version=row.version, stage=row.stage, action=action, at=at
        )
    )
    session.flush()


def _production_stack(session: Session, owner: str, name_key: str) -> list[int]:
    """The versions that were promoted and not since rolled back or withdrawn, oldest first.

    The last is the production version (when there is one); the one before
    it is what a rollback restores.
    """
    events = session.execute(
        select(ForecastModelStageRow.version, ForecastModelStageRow.stage, ForecastModelStageRow.action)
        .where(ForecastModelStageRow.owner == owner, ForecastModelStageRow.name_key == name_key)
        .order_by(ForecastModelStageRow.id)
    )
    stack: list[int] = []
    for version, stage, action in events:
        if action == StageAction.PROMOTE and stage == ModelStage.PRODUCTION:
            if not stack or stack[-1] != version:
                stack.append(version)
        elif action == StageAction.ROLLBACK and stage == ModelStage.ARCHIVED:
            if stack and stack[-1] == version:
                stack.pop()
        elif action == StageAction.ARCHIVE:
            # Withdrawn for good; neighbours it separated (1, 2, 1 without 2) become one entry.
            kept = [v for v in stack if v != version]
            stack = [v for i, v in enumerate(kept) if i == 0 or kept[i - 1] != v]
    return stack


def _version(row: ForecastModelRow) -> ModelVersion:
    return ModelVersion(
        owner=row.owner,
        name=row.name,
        version=row.version,
        iso=row.iso,
        location=row.location,
        market=row.market,
        model=row.model,
        parameters=row.parameters,
        features=tuple(row.features),
        train_start=row.train_start,
        train_end=row.train_end,
        metrics=row.metrics,
        artifact_key=row.artifact_key,
        artifact_sha256=row.artifact_sha256,
        seed=row.seed,
        stage=ModelStage(row.stage),
        created_at=row.created_at,
        stage_changed_at=row.stage_changed_at,
    )
