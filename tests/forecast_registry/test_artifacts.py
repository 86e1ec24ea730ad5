"""Fitted models through the object store (files and S3): round trip, digest, refusal of altered bytes."""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import Lasso

from carbon254.forecast_registry import (
    ArtifactAltered,
    ArtifactMissing,
    artifact_key,
    load_artifact,
    save_artifact,
)
from carbon254.objects import ObjectStore


def fitted_lasso() -> tuple[Lasso, np.ndarray]:
    """A LASSO (LEAR's estimator) fitted on seeded data, and inputs to predict on."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 6))
    y = x @ np.array([1.5, 0.0, -2.0, 0.0, 0.5, 0.0]) + rng.normal(scale=0.1, size=200)
    return Lasso(alpha=0.01).fit(x, y), rng.normal(size=(24, 6))


def test_a_fitted_model_comes_back_predicting_the_same(objects: ObjectStore) -> None:
    model, x = fitted_lasso()
    key = artifact_key("acme", "Houston DAM", "job-42")
    digest = save_artifact(objects, key, model)
    assert digest == hashlib.sha256(objects.get(key)).hexdigest()
    assert objects.get(key)[:2] == bytes([0x80, 5])  # pickle protocol 5
    loaded: Any = load_artifact(objects, key, digest)
    assert isinstance(loaded, Lasso) and loaded is not model
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_altered_bytes_are_refused_before_unpickling(objects: ObjectStore) -> None:
    model, _ = fitted_lasso()
    key = artifact_key("acme", "houston", "")
    digest = save_artifact(objects, key, model)
    # Replaced by another valid pickle: it would load, but it is not what was registered.
    objects.put(key, pickle.dumps({"not": "the model"}, protocol=5))
    with pytest.raises(ArtifactAltered, match="was altered"):
        load_artifact(objects, key, digest)
    with pytest.raises(ArtifactMissing, match="not in the object store"):
        load_artifact(objects, artifact_key("acme", "houston", "gone"), digest)


def test_a_model_that_cannot_be_pickled_leaves_nothing(objects: ObjectStore) -> None:
    key = artifact_key("acme", "houston", "v1")
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        save_artifact(objects, key, {"fit": lambda x: x})
    assert objects.list("models/") == []


def test_keys_are_unique_and_safe() -> None:
    first = artifact_key("acme", "Houston DAM/../x", "job 42")
    second = artifact_key("acme", "Houston DAM/../x", "job 42")
    assert first != second
    assert first.startswith("models/acme/houston-dam-x/job-42-") and first.endswith(".pkl")
    assert ".." not in first.split("/")
    assert artifact_key("acme", "houston", "").count("-") == 0
    with pytest.raises(ValueError, match="name"):
        artifact_key("acme", "../", "v1")
