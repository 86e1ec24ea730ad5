"""Test helper: register forecast model versions as the training job does, without training anything.

register(db, "acme")                                # houston-dam, a LEAR candidate
register(db, "acme", name="north-dam", location="HB_NORTH", model="lightgbm")
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from carbon254.metadata import MetadataDatabase
from carbon254.metadata.forecast_models import ModelVersion, register_model

SHA = "ab" * 32
METRICS = {"mae": 4.2, "rmse": 7.1, "smape": 0.11, "rmae": 0.7, "coverage": 0.8, "n": 720}
PARAMETERS = {"window_days": 1456, "alpha": None}


def fields(**changes: Any) -> dict[str, Any]:
    """The keyword arguments of one registration (but `owner`), with `changes` applied."""
    base: dict[str, Any] = {
        "name": "houston-dam",
        "iso": "ERCOT",
        "location": "HB_HOUSTON",
        "market": "dam",
        "model": "lear",
        "parameters": json.dumps(PARAMETERS),
        "features": ["price_lag_24", "load_forecast"],
        "train_start": date(2022, 1, 1),
        "train_end": date(2023, 12, 31),
        "metrics": json.dumps(METRICS),
        "artifact_key": f"models/x/houston-dam/{uuid.uuid4().hex}.pkl",
        "artifact_sha256": SHA,
        "seed": 7,
    }
    return base | changes


def register(db: MetadataDatabase, owner: str, **changes: Any) -> ModelVersion:
    """Register the next version of a model for `owner` (see `fields`)."""
    return register_model(db, owner=owner, **fields(**changes))
