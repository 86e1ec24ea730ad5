"""Signed download links: `/v1/downloads/{id}?expires=...&signature=...`, for one tenant, until a time.

The signature is HMAC-SHA256 over the job id, the tenant that owns it and
the expiry (Unix seconds), with a key derived like the page cursors' (from
`CARBON254_CURSOR_SECRET`, else the store URL), so every service process
over one store accepts the others' links. A link is still only a pointer:
the route also requires the caller's usual credentials, and the signature
checks out only for the tenant it was issued to, so a link passed to another
tenant is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from carbon254.application.errors import ApiError
from carbon254.config import Settings


def download_key(settings: Settings) -> bytes:
    """The link-signing key: derived from `settings.cursor_secret`, else from the store's resolved URL."""
    if settings.cursor_secret is not None:
        seed = settings.cursor_secret.get_secret_value().encode()
    else:
        seed = settings.store_url().encode()
    return hashlib.sha256(b"carbon254-download\0" + seed).digest()


def _signature(key: bytes, job_id: str, tenant: str, expires: int) -> str:
    message = f"{job_id}\n{tenant}\n{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def download_path(settings: Settings, job_id: str, tenant: str, *, now: float | None = None) -> str:
    """The signed path and query of `job_id`'s download for `tenant`, valid `download_link_s` from `now`."""
    issued = time.time() if now is None else now
    expires = int(issued + settings.download_link_s)
    signature = _signature(download_key(settings), job_id, tenant, expires)
    return f"/v1/downloads/{job_id}?{urlencode({'expires': expires, 'signature': signature})}"


def check_link(
    settings: Settings, job_id: str, tenant: str, expires: int, signature: str, *, now: float | None = None
) -> None:
    """Raise `ApiError` unless the link was signed for this job and `tenant` and has not expired.

    403 `invalid_link` for a signature that does not match (altered, or
    another tenant's link); 410 `link_expired` once `expires` (Unix seconds)
    has passed. The signature is checked first, so an expiry edited to the
    future is refused as altered.
    """
    expected = _signature(download_key(settings), job_id, tenant, expires)
    # As bytes: compare_digest refuses str with non-ASCII characters, which a hand-edited link may hold.
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise ApiError(
            403, "invalid_link", "this download link is not valid for this job and tenant", "signature"
        )
    current = time.time() if now is None else now
    if current >= expires:
        raise ApiError(
            410,
            "link_expired",
            "this download link has expired; get a new one from GET /v1/jobs/{id}",
            "expires",
        )
