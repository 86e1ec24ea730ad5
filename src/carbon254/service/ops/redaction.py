"""Keeping secrets out of logs: credentials in headers, query strings, URLs and free text.

Applied by the log formatters to every message, whoever logged it (our
access log, uvicorn's WebSocket lines that include the query string, a
library's error), so a secret cannot reach a log line by an unforeseen path.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

REDACTED = "[REDACTED]"

# Query parameters and form fields that carry credentials (compared lower-case).
SECRET_PARAMETERS = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "authorization",
    }
)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"})

_PARAMETER_NAMES = "|".join(sorted(SECRET_PARAMETERS, key=len, reverse=True))
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # `Bearer <token>` / `Basic <credentials>` wherever they appear.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    # `Authorization: ...`, `X-API-Key=...` as header dumps or key/value text.
    (
        re.compile(r"(?i)\b(authorization|proxy-authorization|x-api-key|cookie)(\"?\s*[:=]\s*\"?)[^\s\",;]+"),
        rf"\1\2{REDACTED}",
    ),
    # `?token=...&api_key=...` in a URL or query string.
    (re.compile(rf"(?i)([?&;]|^)({_PARAMETER_NAMES})=[^&#\s\"']*"), rf"\1\2={REDACTED}"),
    # `scheme://user:password@host`.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*):[^@/\s]*@"), rf"\1:{REDACTED}@"),
)


def redact_text(text: str) -> str:
    """`text` with bearer tokens, credential headers, secret query parameters and URL passwords redacted."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_query(query: str) -> str:
    """A URL query string with the values of secret parameters replaced by `[REDACTED]`."""
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [(name, REDACTED if name.lower() in SECRET_PARAMETERS else value) for name, value in pairs],
        safe="[],:",
    )
