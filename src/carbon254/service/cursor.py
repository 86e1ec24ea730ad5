"""JSON page cursors: opaque, tamper-evident tokens bound to one query and one version of its data.

A JSON answer holds at most `settings.json_page_rows` rows; when more
follow, the body's `next_cursor` (and the `Link: <...>; rel="next"` header)
asks for the next page. The cursor carries the page's first row offset,
a digest of the query it belongs to and the data version it was cut
from, signed with HMAC-SHA256. So a cursor edited by hand or sent with
another query is refused (422), and one whose data changed since the first
page (a revision or a late interval would shift the rows) is refused with
409 rather than silently repeating or skipping rows: the client starts over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.config import Settings

_MAC_BYTES = 16  # 128 bits: plenty against forgery, and a short token


def cursor_key(settings: Settings) -> bytes:
    """The signing key: `settings.cursor_secret`, else a key derived from the store's resolved URL.

    Deriving it from the store lets every service process over one store
    accept the others' cursors without configuration; it makes
    cursors tamper-evident, and `CARBON254_CURSOR_SECRET` makes them
    unforgeable too (a forged cursor could only page through a query the
    caller may run anyway: entitlements are checked on every request).
    """
    if settings.cursor_secret is not None:
        return hashlib.sha256(settings.cursor_secret.get_secret_value().encode()).digest()
    anchor = settings.store_url()
    return hashlib.sha256(b"carbon254-cursor\0" + anchor.encode()).digest()


def _digest(query_key: str) -> str:
    return hashlib.sha256(query_key.encode()).hexdigest()[:32]


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(key: bytes, offset: int, query_key: str, version: str) -> str:
    """The cursor of the page starting at row `offset` of the query whose `DatasetQuery.key()` is given."""
    payload = f"{offset}\n{_digest(query_key)}\n{version}".encode()
    return base64.urlsafe_b64encode(payload + _sign(key, payload)).decode().rstrip("=")


def decode_cursor(
    key: bytes, cursor: str, query_key: str, version: str, *, relative_bounds: bool = False
) -> int:
    """The row offset a cursor points at, after checking it belongs to this query and data version.

    Raises `ApiError` 422 (parameter `cursor`) for a malformed or altered
    cursor or one issued for another query, and 409 (`cursor_stale`) when
    the data changed since the cursor was issued. `relative_bounds` says the
    request's time bounds are relative (`now`, `today-7d`): they resolve
    anew on every request, so a cursor sent with them again belongs to
    another window, and the message says how to keep the first one.
    """
    text = cursor.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise bad_parameter("cursor", "cursor is not one this service issued", "invalid_cursor") from None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, _sign(key, payload)):
        raise bad_parameter(
            "cursor", "cursor is not one this service issued (altered or truncated)", "invalid_cursor"
        )
    offset_text, digest, issued_version = payload.decode().split("\n", 2)
    if not hmac.compare_digest(digest, _digest(query_key)):
        message = "cursor belongs to another query; send it with the same parameters as the page it came from"
        if relative_bounds:
            message = (
                "cursor belongs to another window: relative start/end/as_of resolve anew on every "
                "request; follow the Link header, or send the answer's query.start and query.end "
                "with the cursor"
            )
        raise bad_parameter("cursor", message, "invalid_cursor")
    if issued_version != version:
        raise ApiError(
            409,
            "cursor_stale",
            "the data of this query changed since the first page; start again without cursor",
            "cursor",
        )
    return int(offset_text)
