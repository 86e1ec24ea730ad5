"""HTTP transport shared by every connector: timeouts, retries, rate limits, base-URL override.

Retries cover what a retry can fix: connection errors, timeouts, a body cut
short, 5xx, and 429 (waiting as long as `Retry-After` says). Other 4xx are
the caller's mistake and fail at once. Waits grow exponentially with full
jitter so that several workers hitting a struggling ISO do not retry in step.
Every request to one ISO goes through one `IsoClient`, whose rate limit
spaces requests at least `min_interval_s` apart across threads.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from carbon254.isos import Iso

RETRY_STATUS = frozenset({500, 502, 503, 504, 429})


class FetchError(Exception):
    """A request that did not succeed after every allowed attempt (or could not be retried)."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(f"{url}: {reason} (after {attempts} attempt{'s' if attempts != 1 else ''})")
        self.url = url
        self.reason = reason
        self.status = status
        self.attempts = attempts


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: `attempts` in all, waits `base_s * 2**n` capped at `max_s`, fully jittered."""

    attempts: int = 5
    base_s: float = 0.5
    max_s: float = 30.0
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        return rng.uniform(0.0, min(self.max_s, self.base_s * 2 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """Per-ISO transport settings.

    `base_url`, when set, replaces the scheme and host of every URL the
    connector builds (its path and query are kept), which is how tests and
    mirrors point a connector at another server. `headers` are sent on every
    request (e.g. a subscription key).
    """

    timeout_s: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    min_interval_s: float = 0.0
    base_url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    user_agent: str = "carbon254"


@dataclass(frozen=True, slots=True)
class Response:
    """A successful response: final URL, status, headers and the whole body."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes

    def last_modified(self) -> datetime | None:
        """The `Last-Modified` time (UTC), which static-file ISOs use as publication time; None if absent."""
        value = self.headers.get("last-modified")
        if not value:
            return None
        try:
            return parsedate_to_datetime(value).astimezone(UTC)
        except (TypeError, ValueError):
            return None

    def filename(self) -> str | None:
        """The file name from `Content-Disposition`, if the server gave one."""
        disposition = str(self.headers.get("content-disposition", ""))
        for part in disposition.split(";"):
            key, _, value = part.strip().partition("=")
            if key.lower() == "filename" and value:
                return value.strip().strip('"')
        return None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class IsoClient:
    """An httpx client for one ISO with retries, rate limiting and base-URL override.

    `sleep` is injectable so tests can count waits instead of sitting in them.
    `auth` is any httpx auth flow (e.g. ERCOT's token auth). Use as a context
    manager or call `close`.
    """

    def __init__(
        self,
        iso: Iso,
        config: TransportConfig | None = None,
        *,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.iso = iso
        self.config = config or TransportConfig()
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self.requests_made = 0
        headers = {"User-Agent": self.config.user_agent, **self.config.headers}
        self._http = httpx.Client(
            timeout=httpx.Timeout(self.config.timeout_s),
            headers=headers,
            auth=auth,
            transport=transport,
            follow_redirects=True,
        )

    def __enter__(self) -> IsoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, url: str) -> str:
        """`url` with its scheme and host replaced by the configured base URL, if any."""
        base = self.config.base_url
        if not base:
            return url
        b = urlsplit(base.rstrip("/"))
        u = urlsplit(url)
        return urlunsplit((b.scheme, b.netloc, b.path + u.path, u.query, u.fragment))

    def _wait_for_slot(self) -> None:
        interval = self.config.min_interval_s
        if interval <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + interval
        if slot > now:
            self._sleep(slot - now)

    def get(
        self,
        url: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET with retries; returns the whole body or raises `FetchError`."""
        return self.request("GET", url, params=params, headers=headers)

    def get_published(
        self,
        url: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response | None:
        """GET a file the ISO may not have published (yet): None on 404, else as `get`."""
        try:
            return self.get(url, params=params, headers=headers)
        except FetchError as exc:
            if exc.status == 404:
                return None
            raise

    def post(
        self,
        url: str,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """POST a form with retries; returns the whole body or raises `FetchError`."""
        return self.request("POST", url, data=data, headers=headers)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> Response:
        """One logical request, retried per the policy; raises `FetchError` when it cannot succeed."""
        target = self.url(url)
        policy = self.config.retry
        reason = "no attempt made"
        status: int | None = None
        for attempt in range(1, policy.attempts + 1):
            self._wait_for_slot()
            wait: float | None = None
            try:
                self.requests_made += 1
                resp = self._http.request(
                    method,
                    target,
                    params=params,
                    data=data,
                    headers=headers,
                    auth=auth or httpx.USE_CLIENT_DEFAULT,
                )
                content = resp.content
            except httpx.TimeoutException as exc:
                reason, status = f"timed out ({type(exc).__name__})", None
            except httpx.TransportError as exc:
                # Connection refused/reset, or the body ended before Content-Length.
                reason, status = f"connection failed ({type(exc).__name__}: {exc})", None
            else:
                status = resp.status_code
                if status < 400:
                    return Response(str(resp.url), status, resp.headers, content)
                snippet = content[:200].decode("utf-8", "replace").strip()
                reason = f"HTTP {status}" + (f": {snippet}" if snippet else "")
                if status not in RETRY_STATUS:
                    raise FetchError(target, reason, status=status, attempts=attempt)
                if status == 429:
                    asked = retry_after_seconds(resp.headers.get("retry-after"))
                    if asked is not None:
                        wait = min(asked, policy.max_retry_after_s)
            if attempt == policy.attempts:
                break
            self._sleep(wait if wait is not None else policy.backoff(attempt, self._rng))
        raise FetchError(target, reason, status=status, attempts=policy.attempts)
