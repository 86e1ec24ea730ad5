"""The forecast model registry as every surface asks for it: list, read, promote, roll back, archive.

Thin over `carbon254.metadata.forecast_models`: the caller's tenant is the
owner (tenants never see each other's models), the `forecast` feature is
required, and the registry's refusals become `ApiError`s: 404 for an
unknown name or version, 422 for a malformed one, 409 for a stage change
the registry's state does not allow (a rollback with nothing to go back
to). REST (`/v1/models`), the CLI (`carbon254 forecast models`) and the
SDK all go through these functions, so they answer alike.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.forecast import FORECAST_FEATURE
from carbon254.application.identity import Principal, entitle_feature
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.errors import MetadataError
from carbon254.metadata.forecast_models import (
    InvalidModel,
    InvalidModelStage,
    ModelVersion,
    UnknownModel,
    archive,
    get_model,
    list_models,
    model_iso,
    model_market,
    model_name,
    promote,
    rollback,
)


class ModelVersionOut(BaseModel):
    """A registered forecast model version as the surfaces answer it (JSON objects, not JSON text)."""

    owner: str = Field(description="The tenant the model belongs to.")
    name: str = Field(description="The registered model name, e.g. houston-dam.")
    version: int = Field(description="1, 2, ... per name.")
    iso: str = Field(description="ISO/RTO of the prices it forecasts, e.g. ERCOT.")
    location: str = Field(description="Location of the prices it forecasts, e.g. HB_HOUSTON.")
    market: str = Field(description="dam (day-ahead) or rtm (real-time).")
    model: str = Field(description="The model kind, e.g. lear, lightgbm, best, subhourly.")
    parameters: dict[str, Any] = Field(description="The model spec's parameters.")
    features: list[str] = Field(description="The feature and exogenous series it reads.")
    train_start: date = Field(description="First delivery day (market date) of its training data.")
    train_end: date = Field(description="Last delivery day (market date) of its training data.")
    metrics: dict[str, int | float | None] = Field(
        description="Holdout scores: mae and rmse ($/MWh), smape and rmae (fractions), coverage, n (hours)."
    )
    artifact_key: str = Field(description="Object-store key of the pickled fitted model.")
    artifact_sha256: str = Field(description="SHA-256 (hex) of the artifact's bytes.")
    seed: int = Field(description="The random seed its training used.")
    stage: str = Field(description="candidate, production or archived.")
    created_at: datetime = Field(description="When it was registered (UTC).")
    stage_changed_at: datetime = Field(description="When its stage last changed (UTC).")


def model_document(record: ModelVersion) -> ModelVersionOut:
    """`record` as the surfaces show it, its parameters and metrics parsed from their JSON text."""
    return ModelVersionOut(
        owner=record.owner,
        name=record.name,
        version=record.version,
        iso=record.iso,
        location=record.location,
        market=record.market,
        model=record.model,
        parameters=json.loads(record.parameters),
        features=list(record.features),
        train_start=record.train_start,
        train_end=record.train_end,
        metrics=json.loads(record.metrics),
        artifact_key=record.artifact_key,
        artifact_sha256=record.artifact_sha256,
        seed=record.seed,
        stage=record.stage.value,
        created_at=record.created_at,
        stage_changed_at=record.stage_changed_at,
    )


def refusal(error: MetadataError) -> ApiError:
    """The `ApiError` for a registry refusal: 404 unknown, 422 malformed, 409 not allowed in this stage."""
    if isinstance(error, UnknownModel):
        return ApiError(404, "model_not_found", error.message, error.field)
    if isinstance(error, InvalidModelStage):
        return ApiError(409, "invalid_stage", error.message, error.field)
    if isinstance(error, InvalidModel):
        return bad_parameter(error.field, error.message)
    raise error


def _checked_name(principal: Principal, name: str) -> str:
    entitle_feature(principal, FORECAST_FEATURE)
    try:
        return model_name(name)
    except InvalidModel as error:
        raise refusal(error) from None


def _checked_version(version: int) -> None:
    if version < 1:
        raise bad_parameter("version", f"version: versions start at 1, not {version}")


def registered_models(
    db: MetadataDatabase,
    principal: Principal,
    *,
    name: str | None = None,
    iso: str | None = None,
    location: str | None = None,
    market: str | None = None,
) -> list[ModelVersion]:
    """Every version of the tenant's models, newest first, kept to those matching the filters given.

    `name` matches in any case, `iso` and `market` (dam or rtm) too,
    `location` exactly. 403 without the `forecast` feature; 422 naming a
    malformed name, an unknown ISO or market. No match is an empty list.
    """
    entitle_feature(principal, FORECAST_FEATURE)
    try:
        wanted_name = None if name is None else model_name(name)
        wanted_iso = None if iso is None else model_iso(iso)
        wanted_market = None if market is None else model_market(market)
    except InvalidModel as error:
        raise refusal(error) from None
    wanted_location = None if location is None else location.strip()
    return [
        record
        for record in list_models(db, owner=principal.tenant, name=wanted_name)
        if (wanted_iso is None or record.iso == wanted_iso)
        and (wanted_market is None or record.market == wanted_market)
        and (wanted_location is None or record.location == wanted_location)
    ]


def model_versions(db: MetadataDatabase, principal: Principal, name: str) -> list[ModelVersion]:
    """Every version of the tenant's model `name`, newest first; 404 if it has none, 403, 422 as above."""
    checked = _checked_name(principal, name)
    records = list_models(db, owner=principal.tenant, name=checked)
    if not records:
        raise ApiError(
            404, "model_not_found", f"name: no model {checked!r} for tenant {principal.tenant!r}", "name"
        )
    return records


def registered_model(
    db: MetadataDatabase, principal: Principal, name: str, version: int | None = None
) -> ModelVersion:
    """The tenant's model `name` at `version` (None: its production version, else its latest).

    403 without the `forecast` feature; 404 naming `name` or `version`
    when there is none; 422 for a malformed name or a version below 1.
    """
    checked = _checked_name(principal, name)
    if version is not None:
        _checked_version(version)
    try:
        return get_model(db, owner=principal.tenant, name=checked, version=version)
    except UnknownModel as error:
        raise refusal(error) from None


def promote_model(db: MetadataDatabase, principal: Principal, name: str, version: int) -> ModelVersion:
    """Make `version` the production version of the tenant's model `name`, archiving the one it replaces.

    Promoting an archived version is how one goes back to it explicitly.
    403 without the `forecast` feature; 404 naming `name` or `version`; 422 as above.
    """
    checked = _checked_name(principal, name)
    _checked_version(version)
    try:
        return promote(db, owner=principal.tenant, name=checked, version=version)
    except UnknownModel as error:
        raise refusal(error) from None


def rollback_model(db: MetadataDatabase, principal: Principal, name: str) -> ModelVersion:
    """Archive the production version of the tenant's model `name` and restore the one before it.

    Returns the restored version. 403 without the `forecast` feature; 404
    for an unknown name; 409 (naming `name`) when nothing is in production
    or nothing was before it.
    """
    checked = _checked_name(principal, name)
    try:
        return rollback(db, owner=principal.tenant, name=checked)
    except (UnknownModel, InvalidModelStage) as error:
        raise refusal(error) from None


def archive_model(db: MetadataDatabase, principal: Principal, name: str, version: int) -> ModelVersion:
    """Retire `version` of the tenant's model `name` (never a rollback target again).

    403 without the `forecast` feature; 404 naming `name` or `version`; 422 as above.
    """
    checked = _checked_name(principal, name)
    _checked_version(version)
    try:
        return archive(db, owner=principal.tenant, name=checked, version=version)
    except UnknownModel as error:
        raise refusal(error) from None
