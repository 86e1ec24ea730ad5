"""The 254Carbon Python SDK: every REST dataset as pandas, Polars or Arrow, live rows, typed errors.

    from carbon254.client import Client, AsyncClient

    with Client(base_url="http://127.0.0.1:8000", api_key="c254_...") as client:
        lmp = client.lmp(iso="PJM", market="DAM", locations=["WESTERN HUB"],
                         start="2024-01-01", end="2025-01-01", tz="iso")

OIDC instead of an API key: `Client(auth=ClientCredentials(...))` for a
service account, `Client(auth=DeviceCode(...))` for a person (sign in once in
a browser; tokens are renewed). `Client.local(path)` answers the same calls in process from an embedded
store (no server). The SDK imports nothing from the server unless local mode
is used, so `carbon254-client` installs without the server's dependencies.
"""

from carbon254.client.async_client import AsyncClient
from carbon254.client.errors import (
    AuthError,
    Carbon254Error,
    InvalidRequest,
    NotEntitled,
    NotFound,
    RateLimited,
    ServerError,
)
from carbon254.client.models import QualityDay, QualityGap, QualityReport, QualitySummary, SpreadStats, Tick
from carbon254.client.oidc import ClientCredentials, DeviceCode, OidcError
from carbon254.client.queries import Block, Resample
from carbon254.client.sync_client import Client

__all__ = [
    "AsyncClient",
    "AuthError",
    "Block",
    "Carbon254Error",
    "Client",
    "ClientCredentials",
    "DeviceCode",
    "InvalidRequest",
    "NotEntitled",
    "NotFound",
    "OidcError",
    "QualityDay",
    "QualityGap",
    "QualityReport",
    "QualitySummary",
    "RateLimited",
    "Resample",
    "ServerError",
    "SpreadStats",
    "Tick",
]
