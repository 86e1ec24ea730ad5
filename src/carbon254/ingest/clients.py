"""Building each ISO's HTTP client from settings: base URL override, timeouts, retries, rate limit."""

from __future__ import annotations

from carbon254.config import Settings
from carbon254.isos import Iso, declaration
from carbon254.markets.connector import Connector
from carbon254.markets.registry import connector_for
from carbon254.markets.transport import IsoClient, RetryPolicy, TransportConfig


def transport_config(iso: Iso, settings: Settings) -> TransportConfig:
    """The transport settings of one ISO (`CARBON254_<ISO>_URL`, `CARBON254_ISO_*`).

    Requests are spaced by `CARBON254_ISO_MIN_INTERVAL_S` when set, else by
    the ISO's published or observed limit (its declaration).
    """
    interval = settings.iso_min_interval_s
    return TransportConfig(
        timeout_s=settings.iso_timeout_s,
        retry=RetryPolicy(attempts=settings.iso_retries),
        min_interval_s=declaration(iso).min_request_interval_s if interval is None else interval,
        base_url=settings.iso_settings(iso).url,
    )


def client_for(iso: Iso, settings: Settings, connector: Connector | None = None) -> IsoClient:
    """A new `IsoClient` for `iso`, with `connector`'s auth flow if it has one; the caller closes it.

    Pass the connector the client will serve, so that both share one auth
    flow (and its token); without it one is built from `settings`.
    """
    # Only some ISOs need an auth flow (ERCOT's public-API token); their
    # connectors expose it as `auth`, None when no credentials are configured.
    auth = getattr(connector if connector is not None else connector_for(iso, settings), "auth", None)
    return IsoClient(iso, transport_config(iso, settings), auth=auth)
