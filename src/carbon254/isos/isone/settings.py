"""ISO-NE's settings, `CARBON254_ISONE_*`: ISO Express needs no account, Web Services do."""

from __future__ import annotations

from pydantic import Field, SecretStr

from carbon254.isos.settings import IsoSettings


class IsoneSettings(IsoSettings):
    """Where ISO-NE is and the Web Services account (HTTP Basic) its load forecasts need."""

    url: str | None = Field(default=None, description="Base URL replacing ISO-NE's hosts.")
    username: str | None = Field(
        default=None, description="ISO-NE Web Services account name (needed for load forecasts)."
    )
    password: SecretStr | None = Field(default=None, description="ISO-NE Web Services account password.")
