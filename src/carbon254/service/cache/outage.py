"""Tracking a backend's outages: log once when it goes away and once when it is back, probe with backoff."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("carbon254.service.cache")


class OutageTracker:
    """Whether a backend is up, as seen by the operations that use it.

    Callers ask `allows()` before an operation, then report `failed(exc)` or
    `succeeded()`. While the backend is down, `allows()` is False except for
    one probe every `retry_after_s` seconds, so a dead backend costs one
    failed operation per interval instead of one per request. The first
    failure of an outage logs a warning and its end logs an info line;
    `where` names the backend in those lines and must hold no secret.
    """

    def __init__(
        self, where: str, retry_after_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.where = where
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_probe = 0.0

    @property
    def available(self) -> bool:
        """False from a failed operation until the next successful one."""
        return self._down_since is None

    def allows(self) -> bool:
        """Whether to try the backend now: always while up, once per `retry_after_s` while down."""
        if self._down_since is None:
            return True
        with self._lock:
            now = self._clock()
            if self._down_since is not None and now < self._next_probe:
                return False
            # Later callers keep bypassing the backend while this probe runs.
            self._next_probe = now + self.retry_after_s
            return True

    def failed(self, exc: BaseException) -> None:
        """Record a failed operation; the first of an outage logs a warning (the error, no secrets)."""
        with self._lock:
            now = self._clock()
            self._next_probe = now + self.retry_after_s
            if self._down_since is not None:
                return
            self._down_since = now
        logger.warning(
            "%s unreachable (%s: %s); answering uncached, retrying every %g s",
            self.where,
            type(exc).__name__,
            exc,
            self.retry_after_s,
        )

    def now(self) -> float:
        """The tracker's clock: read it when an operation starts, to report its success with it."""
        return self._clock()

    def succeeded(self, started: float | None = None) -> None:
        """Record a successful operation; the first after an outage logs that the backend is back.

        `started` is when the operation began (`now()`): one that began before
        the outage was noticed says nothing of the backend now (it was in
        flight when the backend went away), so it ends no outage.
        """
        if self._down_since is None:  # the common case, without taking the lock
            return
        with self._lock:
            if self._down_since is None or (started is not None and started < self._down_since):
                return
            outage_s = self._clock() - self._down_since
            self._down_since = None
        logger.info("%s reachable again after %.1f s; caching resumed", self.where, outage_s)
