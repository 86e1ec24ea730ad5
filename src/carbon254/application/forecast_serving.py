"""Which registered model serves a forecast, loaded from the artifact store.

A forecast names a registered model (`model`, optionally `version`), or
names none and is served by the production version registered for its
ISO, location and market, if any; a model kind (`lear`, `best`, ...) that
is no registered name is fitted on the spot instead (`None` here). The
artifact is read and checked against its SHA-256 here, at check time,
because an operation's compute sees only rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.forecast import DAY_AHEAD, ForecastPlan
from carbon254.application.operation import CallContext
from carbon254.forecast import FittedForecaster, ModelName, SubHourlyModel
from carbon254.forecast_registry.artifacts import load_artifact
from carbon254.metadata.forecast_models import ModelVersion, UnknownModel, get_model, production_model
from carbon254.objects import open_object_store

# The registry's name of each forecast market.
REGISTRY_MARKET = {"DAM": "dam", "RT5": "rtm"}


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A registered model version and its fitted model, as unpickled from the artifact store."""

    record: ModelVersion
    fitted: object

    @property
    def label(self) -> str:
        """`name@version (kind)`, as answers name the model."""
        return f"{self.record.name}@{self.record.version} ({self.record.model})"

    def key(self) -> list[Any]:
        """What identifies the fitted model in a cache key: name, version and artifact digest."""
        return [self.record.name, self.record.version, self.record.artifact_sha256]

    def describe(self) -> dict[str, Any]:
        """The version's name, number, stage, kind, training window and holdout metrics, JSON-ready."""
        r = self.record
        return {
            "name": r.name,
            "version": r.version,
            "stage": r.stage.value,
            "model": r.model,
            "train_start": r.train_start.isoformat(),
            "train_end": r.train_end.isoformat(),
            "metrics": json.loads(r.metrics),
        }

    def dayahead(self) -> FittedForecaster:
        """The fitted day-ahead model (a 422 if the version holds something else)."""
        if not hasattr(self.fitted, "predict_day"):
            raise bad_parameter("model", f"model: {self.label} is not a day-ahead model")
        fitted: FittedForecaster = self.fitted
        return fitted

    def subhourly(self) -> SubHourlyModel:
        """The fitted five-minute model (a 422 if the version holds something else)."""
        if not isinstance(self.fitted, SubHourlyModel):
            raise bad_parameter("model", f"model: {self.label} is not a five-minute real-time model")
        return self.fitted


def _kinds() -> set[str]:
    return {m.value for m in ModelName} | {"subhourly"}


def serving_model(context: CallContext, plan: ForecastPlan) -> RegisteredModel | None:
    """The registered version serving `plan`, loaded; None when a model is to be fitted on the spot.

    404 when `model` is neither a registered name nor a model kind, or its
    `version` does not exist; 422 when the version forecasts another ISO,
    location or market.
    """
    db = context.require_metadata()
    owner = context.principal.tenant
    market = REGISTRY_MARKET[plan.market]
    record: ModelVersion | None
    if plan.model is None:
        record = production_model(db, owner=owner, iso=plan.iso, location=plan.location, market=market)
    else:
        try:
            record = get_model(db, owner=owner, name=plan.model, version=plan.version)
        except UnknownModel as error:
            if plan.version is None and plan.model.lower() in _kinds():
                return None
            raise ApiError(
                404,
                "model_not_found",
                f"model: {error}; a registered model (GET /v1/models) or a kind: "
                f"{', '.join(sorted(_kinds()))}",
                "model",
            ) from None
    if record is None:
        return None
    where = (record.iso, record.location.casefold(), record.market)
    if where != (plan.iso, plan.location.casefold(), market):
        raise bad_parameter(
            "model",
            f"model: {record.name}@{record.version} forecasts {record.iso} {record.location} "
            f"{record.market.upper()}, not {plan.iso} {plan.location} "
            f"{'DAM' if plan.market == DAY_AHEAD else 'RT5'}",
        )
    settings = context.settings
    objects = open_object_store(
        settings.object_store, data_dir=settings.data_dir, s3_endpoint=settings.s3_endpoint
    )
    return RegisteredModel(record, load_artifact(objects, record.artifact_key, record.artifact_sha256))
