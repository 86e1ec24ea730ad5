"""Settings: one place, read from the environment (prefix `CARBON254_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process-wide settings.

    Every field can be set by an environment variable of the same name with
    the `CARBON254_` prefix (e.g. `CARBON254_DATA_DIR`); CLI flags override
    the environment.
    """

    model_config = SettingsConfigDict(env_prefix="CARBON254_", extra="ignore")

    data_dir: Path = Field(
        default=Path("carbon254-data"), description="Where the embedded store keeps its files."
    )
    host: str = Field(default="127.0.0.1", description="Address the service binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the service listens on.")
    max_range_days: int = Field(
        default=3700, ge=1, description="Longest time range one request may ask for, in days."
    )
    max_locations: int = Field(default=2000, ge=1, description="Most locations one request may name.")
