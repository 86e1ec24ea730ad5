"""The forecast model registry's artifacts: fitted models pickled into the object store, checked on load.

The registry's records (versions, stages, promote and rollback) are in
`carbon254.metadata.forecast_models`; this package writes and reads the
fitted model each record points at, through `carbon254.objects` (local
files by default, S3-compatible by `CARBON254_OBJECT_STORE`).
"""

from __future__ import annotations

from carbon254.forecast_registry.artifacts import (
    ArtifactAltered,
    ArtifactError,
    ArtifactMissing,
    artifact_key,
    load_artifact,
    save_artifact,
)

__all__ = [
    "ArtifactAltered",
    "ArtifactError",
    "ArtifactMissing",
    "artifact_key",
    "load_artifact",
    "save_artifact",
]
