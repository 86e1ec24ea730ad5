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
    quality_window_days: int = Field(
        default=7,
        ge=1,
        le=366,
        description="Complete market days (ending yesterday) the Prometheus quality gauges cover.",
    )

    # Each ISO's base URL replaces the scheme and host of every URL its connector
    # builds, e.g. CARBON254_NYISO_URL=http://127.0.0.1:9000 for a local replay.
    caiso_url: str | None = Field(default=None, description="Base URL replacing CAISO OASIS's host.")
    ercot_url: str | None = Field(default=None, description="Base URL replacing ERCOT's hosts (MIS and API).")
    pjm_url: str | None = Field(default=None, description="Base URL replacing PJM Data Miner's host.")
    miso_url: str | None = Field(default=None, description="Base URL replacing MISO's report hosts.")
    spp_url: str | None = Field(default=None, description="Base URL replacing SPP Marketplace's host.")
    nyiso_url: str | None = Field(default=None, description="Base URL replacing NYISO MIS's host.")
    isone_url: str | None = Field(default=None, description="Base URL replacing ISO-NE's hosts.")
    iso_timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one ISO request, in seconds.")
    iso_retries: int = Field(default=5, ge=1, description="Attempts per ISO request before giving up.")
    iso_min_interval_s: float | None = Field(
        default=None,
        ge=0,
        description="Seconds between requests to one ISO; unset uses each ISO's published limit.",
    )

    def iso_url(self, iso: str) -> str | None:
        """The configured base URL of an ISO (`CARBON254_<ISO>_URL`), if any."""
        value: str | None = getattr(self, f"{iso.lower()}_url")
        return value or None
