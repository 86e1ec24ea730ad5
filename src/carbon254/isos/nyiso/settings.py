"""NYISO's settings, `CARBON254_NYISO_*`: MIS needs no account."""

from __future__ import annotations

from pydantic import Field

from carbon254.isos.settings import IsoSettings


class NyisoSettings(IsoSettings):
    """Where NYISO is and how far back it still posts single daily files."""

    url: str | None = Field(default=None, description="Base URL replacing NYISO MIS's host.")
    daily_days: int = Field(
        default=7,
        ge=0,
        description="Days back NYISO still posts single daily files; older days come from its monthly zips.",
    )
