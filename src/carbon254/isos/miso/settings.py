"""MISO's settings, `CARBON254_MISO_*`: MISO's reports need no account."""

from __future__ import annotations

from pydantic import Field

from carbon254.isos.settings import IsoSettings


class MisoSettings(IsoSettings):
    """Where MISO is."""

    url: str | None = Field(default=None, description="Base URL replacing MISO's report hosts.")
