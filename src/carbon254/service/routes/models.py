"""`/v1/models`: the tenant's forecast model registry over HTTP (list, read, promote, roll back, archive).

Thin over `application.forecast_models`, as `carbon254 forecast models` and
the SDK are. Models are registered by training (the training job), not
here; these routes read them and move them between stages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from carbon254.application.forecast_models import (
    ModelVersionOut,
    archive_model,
    model_document,
    model_versions,
    promote_model,
    registered_model,
    registered_models,
    rollback_model,
)
from carbon254.metadata.database import MetadataDatabase
from carbon254.service.errors import error_responses
from carbon254.service.identity import CurrentPrincipal

router = APIRouter(prefix="/v1/models", tags=["analytics"])


class VersionBody(BaseModel):
    """The version a stage change applies to."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="The model version, 1 or more.")


def _metadata(request: Request) -> MetadataDatabase:
    db: MetadataDatabase = request.app.state.metadata
    return db


@router.get(
    "", summary="The tenant's forecast models (every version)", responses=error_responses(401, 403, 422)
)
async def get_models(
    request: Request,
    principal: CurrentPrincipal,
    name: Annotated[str | None, Query(description="Only this model name (any case).")] = None,
    iso: Annotated[str | None, Query(description="Only models of this ISO/RTO, e.g. ERCOT.")] = None,
    location: Annotated[
        str | None, Query(description="Only models of this location, e.g. HB_HOUSTON.")
    ] = None,
    market: Annotated[str | None, Query(description="Only dam or rtm models.")] = None,
) -> list[ModelVersionOut]:
    """Every registered version of the caller's models, newest first, with its stage and holdout metrics."""
    db = _metadata(request)
    records = await run_in_threadpool(
        lambda: registered_models(db, principal, name=name, iso=iso, location=location, market=market)
    )
    return [model_document(r) for r in records]


@router.get(
    "/{name}", summary="Every version of one forecast model", responses=error_responses(401, 403, 404, 422)
)
async def get_model_versions(
    request: Request, principal: CurrentPrincipal, name: str
) -> list[ModelVersionOut]:
    """The versions of model `name`, newest first; 404 if the caller's tenant has none."""
    db = _metadata(request)
    return [model_document(r) for r in await run_in_threadpool(model_versions, db, principal, name)]


@router.get(
    "/{name}/{version}", summary="One forecast model version", responses=error_responses(401, 403, 404, 422)
)
async def get_model_version(
    request: Request, principal: CurrentPrincipal, name: str, version: int
) -> ModelVersionOut:
    """Version `version` of model `name`: what it serves, how it was trained, its metrics and stage."""
    db = _metadata(request)
    return model_document(await run_in_threadpool(registered_model, db, principal, name, version))


@router.post(
    "/{name}/promote",
    summary="Promote a version to production (the current one is archived)",
    responses=error_responses(401, 403, 404, 422),
)
async def post_promote(
    request: Request, principal: CurrentPrincipal, name: str, body: VersionBody
) -> ModelVersionOut:
    """Make `version` the production version of `name` in one step; an archived version may come back."""
    db = _metadata(request)
    return model_document(await run_in_threadpool(promote_model, db, principal, name, body.version))


@router.post(
    "/{name}/rollback",
    summary="Roll back to the version in production before the current one",
    responses=error_responses(401, 403, 404, 409),
)
async def post_rollback(request: Request, principal: CurrentPrincipal, name: str) -> ModelVersionOut:
    """Archive the production version of `name` and restore the previous one; 409 when there is none."""
    db = _metadata(request)
    return model_document(await run_in_threadpool(rollback_model, db, principal, name))


@router.post("/{name}/archive", summary="Archive a version", responses=error_responses(401, 403, 404, 422))
async def post_archive(
    request: Request, principal: CurrentPrincipal, name: str, body: VersionBody
) -> ModelVersionOut:
    """Retire `version` of `name`: archived, and never a rollback target again."""
    db = _metadata(request)
    return model_document(await run_in_threadpool(archive_model, db, principal, name, body.version))
