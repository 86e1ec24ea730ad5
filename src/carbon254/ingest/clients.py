"""Building each ISO's HTTP client from settings: base URL override, timeouts, retries, rate limit."""

from __future__ import annotations

from carbon254.config import Settings
from carbon254.isos import Iso
from carbon254.markets.registry import connector_for
from carbon254.markets.transport import IsoClient, RetryPolicy, TransportConfig

# Seconds between requests, from each ISO's published or observed limits:
# OASIS answers faster callers with an error payload (about one call per 5 s);
# PJM caps non-member API accounts at 6 requests a minute; ERCOT's public API
# allows about 30 a minute. The others publish static files and ask for courtesy.
DEFAULT_MIN_INTERVAL_S: dict[Iso, float] = {
    Iso.CAISO: 5.0,
    Iso.ERCOT: 2.0,
    Iso.PJM: 10.0,
    Iso.MISO: 0.5,
    Iso.SPP: 0.2,
    Iso.NYISO: 0.5,
    Iso.ISONE: 1.0,
}


def transport_config(iso: Iso, settings: Settings) -> TransportConfig:
    """The transport settings of one ISO (`CARBON254_<ISO>_URL`, `CARBON254_ISO_*`)."""
    interval = settings.iso_min_interval_s
    return TransportConfig(
        timeout_s=settings.iso_timeout_s,
        retry=RetryPolicy(attempts=settings.iso_retries),
        min_interval_s=DEFAULT_MIN_INTERVAL_S[iso] if interval is None else interval,
        base_url=settings.iso_url(iso.value),
    )


def client_for(iso: Iso, settings: Settings) -> IsoClient:
    """A new `IsoClient` for `iso`, with the connector's auth flow if it has one; the caller closes it."""
    # Only some ISOs need an auth flow (ERCOT's public-API token); their
    # connectors expose it as `auth`, None when no credentials are configured.
    auth = getattr(connector_for(iso), "auth", None)
    return IsoClient(iso, transport_config(iso, settings), auth=auth)
