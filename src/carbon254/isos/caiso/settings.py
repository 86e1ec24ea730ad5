"""CAISO's settings, `CARBON254_CAISO_*`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from carbon254.isos.settings import IsoSettings


class CaisoSettings(IsoSettings):
    """Where OASIS is and which pnodes to download LMPs for."""

    url: str | None = Field(default=None, description="Base URL replacing CAISO OASIS's host.")
    nodes: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="OASIS pnodes to download LMPs for, comma-separated (one request per day); "
        "unset: every aggregate pnode (one request per hour in the real-time markets).",
    )

    @field_validator("nodes", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`TH_NP15_GEN-APND, TH_SP15_GEN-APND` as a tuple of names; blank entries are dropped."""
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value
