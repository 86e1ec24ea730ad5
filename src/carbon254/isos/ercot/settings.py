"""ERCOT's settings, `CARBON254_ERCOT_*`: where ERCOT is, and the public API account if any.

With `api_key`, `username` and `password` all set, downloads use ERCOT's
public API (a subscription key plus a B2C token); otherwise the MIS reports,
which need no account. `url` moves every ERCOT request, the token endpoint
included (the token request is made by the auth flow rather than through the
connector's client, so it is moved here).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator

from carbon254.isos.settings import IsoSettings

TOKEN_URL = "https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
API_BASE = "https://api.ercot.com/api/public-reports"


def rebase(url: str, base: str | None) -> str:
    """`url` with scheme and host swapped for `base`'s (its path prefixed), as `IsoClient.url` does."""
    if not base:
        return url
    b = urlsplit(base.rstrip("/"))
    u = urlsplit(url)
    return urlunsplit((b.scheme, b.netloc, b.path + u.path, u.query, u.fragment))


class ErcotSettings(IsoSettings):
    """Where ERCOT is (MIS, public API, token endpoint) and the public API credentials."""

    url: str | None = Field(
        default=None, description="Base URL replacing ERCOT's hosts (MIS, API and its token endpoint)."
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="ERCOT public API subscription key; with the API account name and password set too, "
        "ERCOT downloads use the API, otherwise the MIS reports.",
    )
    username: str | None = Field(default=None, description="ERCOT public API account name.")
    password: SecretStr | None = Field(default=None, description="ERCOT public API account password.")
    token_url: str = Field(
        default=TOKEN_URL,
        description="ERCOT public API token endpoint; unset: ERCOT's, moved by `CARBON254_ERCOT_URL`.",
    )
    api_url: str = Field(default=API_BASE, description="Base URL of ERCOT's public API reports.")

    @model_validator(mode="before")
    @classmethod
    def _endpoints(cls, data: object) -> object:
        """Blank endpoints are unset; an unset token endpoint follows `url`, as every other request does."""
        if not isinstance(data, dict):
            return data
        given = {k: v for k, v in data.items() if not (k in ("token_url", "api_url") and _blank(v))}
        if "token_url" not in given:
            url = given.get("url")
            given["token_url"] = rebase(TOKEN_URL, url if isinstance(url, str) and url.strip() else None)
        return given

    @property
    def api_enabled(self) -> bool:
        """Whether the public API can be used (key, username and password all given)."""
        return bool(self.api_key and self.username and self.password)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
