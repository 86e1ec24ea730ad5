"""SPP's settings, `CARBON254_SPP_*`: the Marketplace needs no account."""

from __future__ import annotations

from pydantic import Field

from carbon254.isos.settings import IsoSettings


class SppSettings(IsoSettings):
    """Where SPP is and whether a 5-minute day without its daily file is fetched interval by interval."""

    url: str | None = Field(default=None, description="Base URL replacing SPP Marketplace's host.")
    interval_fallback: bool = Field(
        default=True,
        description="Fetch a 5-minute SPP day whose daily file is not posted (yet) file by file, "
        "one per interval.",
    )
