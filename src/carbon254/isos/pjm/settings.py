"""PJM's settings, `CARBON254_PJM_*`."""

from __future__ import annotations

from pydantic import Field, SecretStr

from carbon254.isos.settings import IsoSettings


class PjmSettings(IsoSettings):
    """Where PJM is and the Data Miner 2 subscription key."""

    url: str | None = Field(default=None, description="Base URL replacing PJM Data Miner's host.")
    api_key: SecretStr | None = Field(
        default=None, description="PJM Data Miner 2 subscription key (required for PJM downloads)."
    )
