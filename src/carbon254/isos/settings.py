"""What every ISO's settings model has: the base URL its connector's requests go to.

Each ISO package's `settings` module subclasses `IsoSettings`, and
`carbon254.config.Settings` composes one model per ISO, so that field `f` of
ISO `x` is read from the environment variable `CARBON254_X_F` (e.g.
`CARBON254_NYISO_URL`, `CARBON254_PJM_API_KEY`). Secrets are `SecretStr`:
they never show in a repr, a log line or an error message.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class IsoSettings(BaseModel):
    """Settings of one ISO's connector; `url`, when set, replaces the scheme and host of its requests."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    url: str | None = Field(default=None, description="Base URL replacing the ISO's hosts.")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object, info: ValidationInfo) -> object:
        """A blank value of an optional setting (`CARBON254_PJM_API_KEY=`) means it is not given."""
        optional = info.field_name is not None and cls.model_fields[info.field_name].default is None
        if optional and isinstance(value, str) and not value.strip():
            return None
        return value
