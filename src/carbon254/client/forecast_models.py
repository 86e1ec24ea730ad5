"""What `Client` and `AsyncClient` share for the forecast model registry (`/v1/models`).

`ForecastModel` mirrors the service's answer (a registered version: what it
forecasts, how it was trained, its holdout metrics, artifact and stage) and
ignores fields it does not know, so a newer service does not break an older
SDK. Names travel in the path, quoted, so a name with spaces works.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, TypeAdapter

MODELS_PATH = "/v1/models"


class ForecastModel(BaseModel):
    """A registered forecast model version of the tenant.

    `iso`/`location`/`market` (dam or rtm) name the prices it forecasts
    ($/MWh); `model` its kind and `parameters` its spec; `features` the
    series it reads; `train_start`..`train_end` its training delivery days;
    `metrics` its holdout scores (mae and rmse in $/MWh, smape and rmae as
    fractions, coverage, n hours); `stage` is candidate, production or
    archived. Times are UTC.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    owner: str
    name: str
    version: int
    iso: str
    location: str
    market: str
    model: str
    parameters: dict[str, Any]
    features: tuple[str, ...]
    train_start: date
    train_end: date
    metrics: dict[str, int | float | None]
    artifact_key: str
    artifact_sha256: str
    seed: int
    stage: str
    created_at: datetime
    stage_changed_at: datetime


MODEL_LIST = TypeAdapter(list[ForecastModel])


def model_path(name: str, *rest: str | int) -> str:
    """`/v1/models/{name}[/...]` with `name` quoted as one path segment."""
    return "/".join([MODELS_PATH, quote(name, safe=""), *(str(part) for part in rest)])


def model_filters(
    name: str | None, iso: str | None, location: str | None, market: str | None
) -> dict[str, str]:
    """The query parameters of `GET /v1/models`: the filters given (None left out)."""
    given = {"name": name, "iso": iso, "location": location, "market": market}
    return {key: value for key, value in given.items() if value is not None}


def pick_model(versions: list[ForecastModel]) -> ForecastModel:
    """The version an unversioned read means: the production one if any, else the newest.

    `versions` is a name's versions newest first, as `GET /v1/models/{name}`
    answers them (never empty: an unknown name is a 404).
    """
    return next((v for v in versions if v.stage == "production"), versions[0])
